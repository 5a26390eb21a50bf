"""A configuration's ``rule_data`` is checked and merged by the code that checks and merges a
``--params`` file (``policy.params``): one source of truth for the shape, one merge, one diff."""

from __future__ import annotations

from pathlib import Path

import pytest

import affidavit.policy.params as params_module
from affidavit.config import effective_rule_data, load_config
from affidavit.errors import PolicyError, UsageError
from affidavit.policy.params import load_params, read_params_file, rule_data_changes

CANARY = "canary-7f3c2e"


@pytest.mark.parametrize(
    ("body", "in_params", "in_config"),
    [
        (
            "[1, 2]",
            "rule data must be a mapping with 'defaults' and 'environments'",
            "rule_data must be a mapping",
        ),
        ("{default: {}}", "unknown top-level key(s) default", "unknown rule_data key(s) default"),
        (f"{{defaults: [{CANARY}]}}", "'defaults' must be a mapping", "rule_data.defaults must be a mapping"),
        (
            f"{{environments: {{prod: [{CANARY}]}}}}",
            "'environments' must map each environment name to a mapping",
            "rule_data.environments must map each environment name to a mapping",
        ),
        (
            f"{{environments: [{CANARY}]}}",
            "'environments' must map each environment name to a mapping",
            "rule_data.environments must map each environment name to a mapping",
        ),
    ],
)
def test_the_same_shape_is_refused_the_same_way_in_both(
    tmp_path: Path, body: str, in_params: str, in_config: str
) -> None:
    """Each shape a --params file may not have, a configuration's rule_data may not have either:
    the params file's problem is a PolicyError, the configuration's a usage error naming the
    section; neither quotes a value."""
    params = tmp_path / "params.yaml"
    params.write_text(body + "\n")  # the same YAML, as a whole params file
    with pytest.raises(PolicyError) as from_params:
        read_params_file(params)
    config = tmp_path / "affidavit.yaml"
    config.write_text(f"version: 1\nrule_data: {body}\n")
    with pytest.raises(UsageError) as from_config:
        load_config(config)
    assert from_params.value.message == f"{params}: {in_params}"
    assert from_config.value.message.startswith(f"{config}: {in_config}")
    for caught in (from_params.value, from_config.value):
        assert CANARY not in caught.diagnostics()


def test_a_configuration_layer_merges_between_built_in_and_params_files(tmp_path: Path) -> None:
    """Built-in, then the configuration (its alias resolved), then each --params file; the
    changes listed are the keys that differ from the built-in, as for --params alone."""
    config = tmp_path / "affidavit.yaml"
    config.write_text(
        "version: 1\n"
        "environments: {aliases: {live: prod}}\n"
        "rule_data:\n"
        "  defaults: {vulnerabilities: {max_db_age_days: 5}}\n"
        "  environments:\n"
        "    live: {source_control: {min_approvals: 3}}\n"
        "    staging: {source_control: {min_approvals: 9}}\n"
    )
    later = tmp_path / "later.yaml"
    later.write_text("environments:\n  prod:\n    vulnerabilities: {max_db_age_days: 4}\n")
    merged, changes = effective_rule_data("prod", load_config(config), (later,))
    assert merged["vulnerabilities"]["max_db_age_days"] == 4
    assert merged["source_control"]["min_approvals"] == 3
    keys = {key: value for key, _, value in changes}
    assert keys["vulnerabilities.max_db_age_days"] == 4 and keys["source_control.min_approvals"] == 3
    assert [c[0] for c in changes] == sorted(c[0] for c in changes)
    # Without a configuration: exactly what load_params and rule_data_changes give.
    assert effective_rule_data("prod", None, (later,)) == (
        load_params("prod", (later,)),
        rule_data_changes("prod", (later,)),
    )


def test_each_params_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a configuration, a --params file was read twice (once to check, once to merge): a file
    changed in between could be checked in one version and merged in another."""
    config = tmp_path / "affidavit.yaml"
    config.write_text("version: 1\nrule_data: {defaults: {vulnerabilities: {max_db_age_days: 5}}}\n")
    later = tmp_path / "later.yaml"
    later.write_text("defaults: {vulnerabilities: {max_db_age_days: 4}}\n")
    loaded = load_config(config)
    real = params_module.read_params_file
    reads: list[Path] = []

    def counting(path: Path) -> dict[str, object]:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(params_module, "read_params_file", counting)
    merged, _ = effective_rule_data("prod", loaded, (later,))
    assert merged["vulnerabilities"]["max_db_age_days"] == 4
    assert reads.count(later) == 1
