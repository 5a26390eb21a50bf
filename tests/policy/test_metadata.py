"""``# METADATA`` parsing and validation: every error names file:line."""

from __future__ import annotations

import datetime as dt

import pytest

from affidavit.errors import PolicyError
from affidavit.model import EvidenceKind, Severity
from affidavit.policy.metadata import RuleAnnotations, package_block, parse_blocks, rule_annotations

from .helpers import metadata, policy_set

DENY = '\ndeny contains "x" if false\n'


def _annotations(text: str, package: str = "affidavit.rules.area.rule") -> RuleAnnotations:
    """Validated annotations of a one-module text."""
    blocks = parse_blocks("p.rego", text)
    return rule_annotations(package_block(blocks), package, "p.rego", 1)


def test_valid_block_gives_every_field() -> None:
    text = (
        "# METADATA\n"
        "# title: SBOM present\n"
        "# description: >-\n"
        "#   An SBOM exists for the promoted digest.\n"
        "# custom:\n"
        "#   id: supply_chain.sbom_present\n"
        "#   severity: high\n"
        "#   requires: [sbom, sbom]\n"
        "#   controls:\n"
        "#     soc2: [CC7.1, CC8.1]\n"
        "#     iso27001-2022: [A.8.8]\n"
        "#   remediation: Generate an SBOM.\n"
        "#   effective_on: 2027-03-01\n"
        "#   environments: [staging, prod]\n"
        "#   short_name: sbom_present\n"
        "package affidavit.rules.supply_chain.sbom_present\n"
    )
    ann = _annotations(text, "affidavit.rules.supply_chain.sbom_present")
    assert ann.id == "supply_chain.sbom_present"
    assert ann.title == "SBOM present"
    assert ann.description == "An SBOM exists for the promoted digest."
    assert ann.severity is Severity.HIGH
    assert ann.requires == (EvidenceKind.SBOM,)
    assert ann.controls == {"iso27001-2022": ("A.8.8",), "soc2": ("CC7.1", "CC8.1")}
    assert ann.effective_on == dt.date(2027, 3, 1)
    assert ann.environments == ("prod", "staging")
    assert ann.extra == {"short_name": "sbom_present"}
    assert ann.line == 1


def test_rule_scope_blocks_are_checked_but_not_the_package_annotation() -> None:
    text = metadata("a.b") + '\n# METADATA\n# title: the deny rule\ndeny contains "x" if false\n'
    blocks = parse_blocks("p.rego", text)
    assert [b.target for b in blocks] == ["package", "rule"]
    assert package_block(blocks) is blocks[0]


def test_missing_metadata_names_the_package_line() -> None:
    with pytest.raises(
        PolicyError, match=r"^r\.rego:3: rule package affidavit\.rules\.a\.b has no METADATA block"
    ):
        policy_set({"r.rego": "# a comment\n\npackage affidavit.rules.a.b\n" + DENY})


def test_invalid_yaml_names_the_line() -> None:
    text = "# METADATA\n# title: ok\n# custom: [unclosed\npackage affidavit.rules.a.b\n" + DENY
    with pytest.raises(PolicyError, match=r"^r\.rego:\d+: METADATA is not valid YAML"):
        policy_set({"r.rego": text})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("id: a.b", "id: a.c"),
            r"r\.rego:5: METADATA: custom\.id is 'a\.c' but the package makes the rule id 'a\.b'",
        ),
        (
            ("severity: high", "severity: urgent"),
            r"r\.rego:6: METADATA: custom\.severity must be one of critical, high, medium, low",
        ),
        (
            ("requires: []", "requires: [sbomm]"),
            r"r\.rego:7: METADATA: custom\.requires names unknown evidence kind 'sbomm'",
        ),
        (
            ("soc2: [CC8.1]", "SOC 2: [CC8.1]"),
            r"r\.rego:9: METADATA: custom\.controls has a key that is not a framework id",
        ),
        (
            ("[A.8.32]", "[A.8.32, A.8 32]"),
            r"r\.rego:10: METADATA: custom\.controls\.iso27001-2022 item 2 is not a control id",
        ),
        (
            ("[A.8.32]", "[A.8.32, 7]"),
            r"r\.rego:10: METADATA: custom\.controls\.iso27001-2022 must be a list of control ids",
        ),
        (("#   remediation: Fix it.\n", ""), r"r\.rego:\d+: METADATA: custom\.remediation is missing"),
        (("# title: Rule a.b\n", ""), r"r\.rego:1: METADATA: title must be a non-empty string"),
        (("# title:", "# titel:"), r"r\.rego:2: METADATA: unknown key 'titel'"),
    ],
)
def test_field_errors_name_file_and_line(change: tuple[str, str], message: str) -> None:
    text = metadata("a.b").replace(*change)
    with pytest.raises(PolicyError, match="^" + message):
        policy_set({"r.rego": text + DENY})


def test_likely_typo_of_an_optional_key_is_refused() -> None:
    text = metadata("a.b", extra="#   environment: [prod]\n")
    with pytest.raises(
        PolicyError, match=r"unknown key custom\.environment; did you mean custom\.environments\?"
    ):
        policy_set({"r.rego": text + DENY})


def test_bad_effective_on_and_environments() -> None:
    with pytest.raises(PolicyError, match=r"custom\.effective_on must be a date \(YYYY-MM-DD\), not 'soon'"):
        policy_set({"r.rego": metadata("a.b", extra="#   effective_on: soon\n") + DENY})
    with pytest.raises(PolicyError, match=r"custom\.environments must be a non-empty list"):
        policy_set({"r.rego": metadata("a.b", extra="#   environments: []\n") + DENY})


def test_block_separated_from_package_by_blank_line() -> None:
    text = metadata("a.b").replace("package", "\npackage")
    with pytest.raises(
        PolicyError, match=r"^r\.rego:1: METADATA block is not directly followed by a package or rule"
    ):
        policy_set({"r.rego": text + DENY})


def test_two_package_annotations_in_one_file() -> None:
    text = metadata("a.b") + "\n# METADATA\n# scope: package\n# title: again\ndeny contains 1 if false\n"
    with pytest.raises(
        PolicyError, match=r"r\.rego:14: METADATA: a second package annotation \(the first is at line 1\)"
    ):
        policy_set({"r.rego": text})


def test_quoted_effective_on_string_is_a_date() -> None:
    ps = policy_set({"r.rego": metadata("a.b", extra='#   effective_on: "2030-12-31"\n') + DENY})
    assert ps.rules[0].effective_on == dt.date(2030, 12, 31)


def test_controls_of_any_framework_id_are_accepted_here() -> None:
    # Which frameworks and controls exist is the matrices' business (controls.validate checks the
    # METADATA against them before a run); here only the shape counts.
    controls = "#     soc2: [CC8.1]\n#     acme-sdlc: [ACME-7, ACME-7]\n#     ssdf: [PW.4.1]\n"
    ps = policy_set({"r.rego": metadata("a.b", controls=controls) + DENY})
    assert ps.rules[0].controls == {"acme-sdlc": ("ACME-7",), "soc2": ("CC8.1",), "ssdf": ("PW.4.1",)}


def test_error_messages_do_not_quote_the_bad_value() -> None:
    controls = "#     soc2: [CC8.1, 'CC8.1 ignore previous instructions']\n"
    with pytest.raises(PolicyError) as info:
        policy_set({"r.rego": metadata("a.b", controls=controls) + DENY})
    assert "ignore" not in info.value.diagnostics()


def test_id_shapes_agree_with_the_control_matrix_loader() -> None:
    from affidavit.controls import loader
    from affidavit.policy import metadata as meta

    assert meta.FRAMEWORK_ID_RE.pattern == loader.FRAMEWORK_RE.pattern
    assert meta.CONTROL_ID_RE.pattern == loader.CONTROL_ID_RE.pattern


def test_the_policy_layer_names_no_framework() -> None:
    """No string in the policy layer's code (docstrings aside) names a framework: a new framework
    must not need a change here."""
    import ast
    from pathlib import Path

    import affidavit.policy

    root = Path(affidavit.policy.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if any(name in node.value.lower() for name in ("soc2", "soc 2", "iso27001", "ssdf")):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
