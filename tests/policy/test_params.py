"""Rule data per environment: deep merge of defaults, environment block and override files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml

from affidavit.errors import PolicyError, UsageError
from affidavit.policy.params import (
    builtin_params_path,
    deep_merge,
    load_params,
    rule_data_changes,
)

if TYPE_CHECKING:
    from pathlib import Path

BASE = """
defaults:
  vulnerabilities:
    remediation_days: {critical: 0, high: 7, medium: 30}
    max_db_age_days: 2
  source_control:
    min_approvals: 2
    required_checks: [ci/build, ci/test]
  grace_until: 2027-01-31
environments:
  prod: {}
  staging:
    vulnerabilities:
      remediation_days: {high: 14}
    source_control:
      min_approvals: 1
      required_checks: [ci/build]
  dev:
    source_control: {min_approvals: 0}
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A base params file with three environments."""
    path = tmp_path / "params.yaml"
    path.write_text(BASE, encoding="utf-8")
    return path


def test_defaults_then_environment(base: Path) -> None:
    prod = load_params("prod", base=base)
    assert prod["vulnerabilities"]["remediation_days"] == {"critical": 0, "high": 7, "medium": 30}
    assert prod["source_control"] == {"min_approvals": 2, "required_checks": ["ci/build", "ci/test"]}
    staging = load_params("staging", base=base)
    # Mappings merge key by key; lists replace.
    assert staging["vulnerabilities"]["remediation_days"] == {"critical": 0, "high": 14, "medium": 30}
    assert staging["vulnerabilities"]["max_db_age_days"] == 2
    assert staging["source_control"] == {"min_approvals": 1, "required_checks": ["ci/build"]}
    assert load_params("dev", base=base)["source_control"]["required_checks"] == ["ci/build", "ci/test"]
    # The Rego input is JSON: dates arrive as ISO strings.
    assert prod["grace_until"] == "2027-01-31"


def test_override_files_apply_in_order(base: Path, tmp_path: Path) -> None:
    first = tmp_path / "org.yaml"
    first.write_text(
        "defaults:\n  source_control: {min_approvals: 3}\nenvironments:\n  prod:\n    vulnerabilities: {max_db_age_days: 1}\n",
        encoding="utf-8",
    )
    second = tmp_path / "team.yaml"
    second.write_text(
        "environments:\n  production:\n    source_control: {min_approvals: 4}\n", encoding="utf-8"
    )
    prod = load_params("prod", [first, second], base=base)
    assert prod["source_control"]["min_approvals"] == 4
    assert prod["vulnerabilities"]["max_db_age_days"] == 1
    assert prod["vulnerabilities"]["remediation_days"]["high"] == 7
    # An override's defaults apply after the base's environment block.
    assert load_params("staging", [first], base=base)["source_control"]["min_approvals"] == 3
    # An alias names the same environment, in a file and on the command line.
    assert load_params("Production", [first, second], base=base) == prod
    assert rule_data_changes("prod", [first, second], base=base) == [
        ("source_control.min_approvals", 2, 4),
        ("vulnerabilities.max_db_age_days", 2, 1),
    ]


def test_an_override_cannot_invent_an_environment(base: Path, tmp_path: Path) -> None:
    # Attack (issue 9): a 'qa' or 'production2' block would make every prod-only rule not applicable.
    invented = tmp_path / "team.yaml"
    invented.write_text("environments:\n  production2:\n    change_management: {}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"team\.yaml: defines rule data for an environment 'production2'"):
        load_params("prod", [invented], base=base)


def test_unknown_environment_lists_the_known_ones(base: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown environment 'qa'; the rule data knows dev, prod, staging"):
        load_params("qa", base=base)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", r"rule data must be a mapping"),
        ("default: {}\n", r"unknown top-level key\(s\) default"),
        ("environments:\n  prod: [1]\n", r"'environments' must map each environment name to a mapping"),
        ("defaults: [1]\n", r"'defaults' must be a mapping"),
        ("defaults: {a: [1,\n", r"params\.yaml:\d+: rule data is not valid YAML"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_params("prod", base=path)


def test_missing_override_file(base: Path, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.yaml: cannot read rule data"):
        load_params("prod", [tmp_path / "nope.yaml"], base=base)


def test_deep_merge_does_not_modify_its_inputs() -> None:
    a = {"x": {"y": 1, "z": [1]}}
    b = {"x": {"z": [2]}, "w": 3}
    assert deep_merge(a, b) == {"x": {"y": 1, "z": [2]}, "w": 3}
    assert a == {"x": {"y": 1, "z": [1]}}


def test_builtin_params_file_has_the_three_environments() -> None:
    raw = yaml.safe_load(builtin_params_path().read_text(encoding="utf-8"))
    assert set(raw["environments"]) == {"prod", "staging", "dev"}
    for environment in ("prod", "staging", "dev"):
        merged = load_params(environment)
        # Every key of the defaults survives the merge.
        assert set(raw["defaults"]) <= set(merged)
