"""The one YAML loader: safe types only, libyaml when present, a key named twice refused.

PyYAML keeps the last of two equal keys without a word, so a second ``prod:`` block in rule data,
a second ``rules:`` in a control or a second ``expires:`` in a waiver silently replaces the first.
Every configuration file (matrices, rule data, waivers, METADATA blocks) goes through
``load_yaml``; each test below feeds one of them a file in its real shape with one key repeated.
"""

from __future__ import annotations

import textwrap
import time
from typing import TYPE_CHECKING

import pytest
import yaml
from click.testing import CliRunner

from affidavit import artefact
from affidavit.artefact import YamlError, load_yaml
from affidavit.cli import main
from affidavit.controls.loader import load_matrices
from affidavit.errors import ControlMatrixError, PolicyError
from affidavit.policy.metadata import parse_blocks
from affidavit.policy.params import read_params_file
from tests.conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

DEMO = REPO / "evidence" / "demo"


def _refused(text: str, first_line: int = 1) -> YamlError:
    with pytest.raises(YamlError) as info:
        load_yaml(text, "conf.yaml", first_line=first_line)
    return info.value


def test_a_key_named_twice_is_refused_with_both_lines_and_no_content() -> None:
    text = "tokens:\n  ghp_live_admin: read\n  other: write\n  ghp_live_admin: admin\n"
    error = _refused(text)
    assert error.line == 4 and error.column == 3
    assert str(error) == (
        "conf.yaml: is not valid YAML at line 4, column 3: a mapping names the same key twice "
        "(lines 2 and 4); only one of the two values would be kept"
    )
    assert "ghp_live_admin" not in error.diagnostics()
    assert "admin" not in error.problem and "read" not in error.problem


def test_keys_that_the_dict_would_merge_are_a_repeat() -> None:
    # YAML 1.1: `yes` and `true` are both the boolean true, `1` and `1.0` the same dict key
    assert _refused("yes: a\ntrue: b\n").line == 2
    assert _refused("1: a\n1.0: b\n").line == 2


def test_equal_keys_in_different_mappings_and_merge_overrides_are_fine() -> None:
    text = textwrap.dedent(
        """\
        prod:
          <<: {severity: high, owner: sec}
          severity: critical
        staging:
          severity: high
        """
    )
    assert load_yaml(text, "conf.yaml") == {
        "prod": {"severity": "critical", "owner": "sec"},
        "staging": {"severity": "high"},
    }


# ---------------------------------------------------------------------------------------------
# What costs: aliases, size, depth, and values the policy engine cannot read


def test_a_merge_of_an_anchored_mapping_is_refused_at_the_alias() -> None:
    # Issue 9, finding 9: anchors and aliases are refused outright (a merge needs an alias).
    text = "base: &base {severity: high, owner: sec}\nprod:\n  <<: *base\n  severity: critical\n"
    error = _refused(text)
    assert (error.line, error.column) == (3, 7)
    assert error.problem.startswith("uses an alias")
    assert "base" not in str(error) and "sec" not in str(error)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    # nine levels of nine aliases: 387,420,489 strings once expanded; a few hundred bytes written
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    started = time.monotonic()
    error = _refused("\n".join(lines) + "\n", first_line=20)
    assert time.monotonic() - started < 1.0
    assert (error.line, error.column) == (21, 10)  # the first alias, placed in the outer file
    assert "lol" not in str(error) and "l0" not in str(error)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("name: &n sam\nowner: *n\n", 2, 8),  # a scalar
        ("a: &a [*a]\n", 1, 8),  # an alias of itself
        ("- &x {k: 1}\n- *x\n", 2, 3),  # a mapping
    ],
    ids=["scalar", "recursive", "mapping"],
)
def test_every_alias_is_refused_with_its_place(text: str, line: int, column: int) -> None:
    error = _refused(text)
    assert (error.line, error.column) == (line, column) and "alias" in error.problem


def test_an_anchor_that_nothing_repeats_is_harmless() -> None:
    assert load_yaml("owner: &o sam\n", "conf.yaml") == {"owner": "sam"}


def test_yaml_over_the_size_limit_is_refused_without_being_parsed() -> None:
    limit = artefact.MAX_YAML_CHARS
    assert limit == 4 * 1024 * 1024
    fits = "a: 1\n" + "#" * (limit - 6) + "\n"
    assert len(fits) == limit and load_yaml(fits, "big.yaml") == {"a": 1}
    error = _refused(fits + "b: [unclosed\n")  # one character more is enough; the syntax is never read
    assert error.line is None
    assert error.problem == (
        f"too large to read: {limit + 13:,} characters, over the 4 MiB (4,194,304 characters) "
        "affidavit reads as YAML"
    )


def test_nesting_is_bounded_with_the_place_of_the_first_level_too_many() -> None:
    depth = artefact.MAX_YAML_DEPTH
    assert load_yaml("[" * depth + "]" * depth, "conf.yaml") is not None
    error = _refused("a:\n  b: " + "[" * depth + "]" * depth + "\n")
    assert (error.line, error.column) == (2, 6 + depth - 2)
    assert error.problem.startswith("is nested too deeply")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (".nan", "not a finite number"),
        (".inf", "not a finite number"),
        ("-.Inf", "not a finite number"),
        ("1.0e+400", "not a finite number"),
        ("9" * 400, "integer too large"),
        ("-" + "9" * 5000, "integer too large"),  # past what Python converts
        ("0x" + "f" * 300, "integer too large"),
        ("!!binary aGVsbG8=", "binary value"),
    ],
)
def test_values_the_policy_engine_cannot_read_are_refused_with_their_place(value: str, problem: str) -> None:
    error = _refused(f"owner: sec\nlimit: {value}\n")
    assert (error.line, error.column) == (2, 8) and problem in error.problem
    assert "999" not in str(error) and "fff" not in str(error)


def test_ordinary_numbers_still_load() -> None:
    text = f"a: 1.5\nb: -7\nc: 1.0e+300\nd: {2**70}\ne: 0x1f\n"
    assert load_yaml(text, "conf.yaml") == {"a": 1.5, "b": -7, "c": 1e300, "d": 2**70, "e": 31}


def test_the_built_in_yaml_uses_no_aliases_and_loads() -> None:
    # The matrices, the crosswalk, the rule data and every METADATA block go through the same loader.
    files = sorted((REPO / "controls").glob("*.yaml")) + [REPO / "policies" / "params.yaml"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert len(text) < artefact.MAX_YAML_CHARS // 16
        assert isinstance(load_yaml(text, str(path)), dict)
    rego = sorted((REPO / "policies").rglob("*.rego"))
    assert sum(len(parse_blocks(str(p), p.read_text(encoding="utf-8"))) for p in rego) >= 30


def test_first_line_places_yaml_held_inside_another_file() -> None:
    assert _refused("a: 1\na: 2\n", first_line=10).line == 11


def test_only_plain_types_are_constructed_and_the_tag_is_not_quoted() -> None:
    error = _refused("x: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert error.line == 1
    assert "os.system" not in str(error) and "pwned" not in str(error)
    assert "tag" in error.problem


def test_syntax_errors_name_line_and_column() -> None:
    error = _refused("controls:\n  - id: [unclosed\n")
    assert error.line == 3 and error.problem


def test_a_control_character_names_its_line() -> None:
    assert _refused("title: café\nnote: bell\x07\n").line == 2


def test_a_date_that_does_not_exist_names_its_line() -> None:
    error = _refused("owner: sec\nexpires: 2026-02-30\n")
    assert (error.line, error.column) == (2, 10)
    assert "2026" not in str(error)


def test_dates_stay_dates_and_libyaml_is_used_when_present() -> None:
    import datetime as dt

    assert load_yaml("expires: 2026-12-31\n", "w.yaml") == {"expires": dt.date(2026, 12, 31)}
    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(artefact._StrictLoader, yaml.CSafeLoader)
    assert issubclass(artefact._StrictLoader, yaml.constructor.SafeConstructor)


# ---------------------------------------------------------------------------------------------
# Each configuration file that is YAML


def test_rule_data_with_a_second_prod_block(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            defaults:
              vulnerabilities:
                remediation_days: {critical: 0, high: 7}
            environments:
              prod:
                source_control: {min_approvals: 2}
              staging:
                source_control: {min_approvals: 1}
              prod:
                source_control: {min_approvals: 0}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        read_params_file(path)
    message = info.value.diagnostics()
    assert message.startswith(f"{path}:9: rule data is not valid YAML: a mapping names the same key twice")
    assert "(lines 5 and 9)" in message
    assert "prod" not in message.replace(str(path), "")


def test_control_matrix_with_a_second_rules_list(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            schema: affidavit.control-matrix/v1
            framework: acme
            version: "1"
            title: ACME internal controls
            controls:
              - id: ACME-1
                title: Releases are reviewed
                description: Every release is reviewed. The review is recorded.
                coverage: partial
                rules: [source_control.required_reviews]
                evidence: [branch-protection]
                manual: The review procedure.
                rules: []
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(ControlMatrixError) as info:
        load_matrices([path])
    assert str(info.value) == (
        f"{path}: is not valid YAML at line 13, column 5: a mapping names the same key twice "
        "(lines 10 and 13); only one of the two values would be kept"
    )


def test_the_same_matrix_without_the_repeat_loads(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "schema: affidavit.control-matrix/v1\nframework: acme\nversion: '1'\ntitle: ACME\n"
        "controls:\n  - id: ACME-1\n    title: Staff are trained\n"
        "    description: Staff are trained yearly.\n    coverage: manual\n    manual: Training records.\n",
        encoding="utf-8",
    )
    assert [m.framework for m in load_matrices([path], include_builtin=False)] == ["acme"]


def test_metadata_block_with_a_second_severity() -> None:
    text = (
        "# METADATA\n"
        "# title: Images are signed\n"
        "# description: The promoted digest carries a verified signature.\n"
        "# custom:\n"
        "#   id: supply_chain.signed\n"
        "#   severity: critical\n"
        "#   requires: [signature]\n"
        "#   controls:\n"
        "#     soc2: [CC8.1]\n"
        "#   remediation: Sign the image.\n"
        "#   severity: low\n"
        "package affidavit.rules.supply_chain.signed\n"
    )
    with pytest.raises(PolicyError) as info:
        parse_blocks("r.rego", text)
    message = str(info.value)
    assert message.startswith("r.rego:11: METADATA is not valid YAML: a mapping names the same key twice")
    assert "(lines 6 and 11)" in message
    assert "critical" not in message and "low" not in message


def test_waivers_file_with_a_second_expiry_is_a_usage_error(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        textwrap.dedent(
            """\
            waivers:
              - rule: vulnerabilities.no_critical
                reason: CVE-2024-45491 is not reachable from the shop's parser (ticket SEC-812)
                owner: security@acme.example
                expires: 2026-12-01
                expires: 2099-12-31
            """
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(DEMO / "no-go"),
            "--environment",
            "prod",
            "--subject",
            "ghcr.io/acme/shop@" + (DEMO / "SUBJECT_DIGEST").read_text().strip(),
            "--now",
            "2026-11-20T12:00:00Z",
            "--replay",
            "--waivers",
            str(waivers),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert str(waivers) in result.stderr
    assert "at line 6, column 5" in result.stderr and "same key twice (lines 5 and 6)" in result.stderr
    assert "2099" not in result.stderr and "SEC-812" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_key_that_cannot_be_a_dict_key_is_refused_by_the_base_loader() -> None:
    error = _refused("? [a, b]\n: 1\n")
    assert error.line == 1 and "unhashable" in error.problem


def test_nesting_beyond_the_parser_limit_is_a_yaml_error() -> None:
    error = _refused("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert error.line == 1 and "depth" in error.problem


def test_reader_positions_count_bytes_for_libyaml_and_characters_for_pyyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "title: café crème\nnote: x\n"
    # libyaml reports the byte offset, PyYAML the character offset, of the same place (line 2)
    monkeypatch.setattr(artefact, "_SafeLoader", getattr(yaml, "CSafeLoader", object))
    assert artefact._reader_error_line(text, len(text[:20].encode())) == 2
    monkeypatch.setattr(artefact, "_SafeLoader", yaml.SafeLoader)
    assert artefact._reader_error_line(text, 20) == 2
    assert artefact._reader_error_line(text, 17) == 1
