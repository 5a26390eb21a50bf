"""check_rules: matrices and the rules' METADATA must agree both ways, or the run stops."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.controls.model import Control, ControlMatrix, Coverage
from affidavit.controls.validate import check_rules
from affidavit.errors import ControlMatrixError
from tests.controls.catalog import rule_controls


def _control(cid: str, rules: tuple[str, ...] = ()) -> Control:
    """A partial control testing ``rules`` (manual when there are none)."""
    coverage = Coverage.PARTIAL if rules else Coverage.MANUAL
    return Control(
        id=cid, title=cid, description="A control. It is tested.", coverage=coverage, rules=rules, manual="x"
    )


def _matrix(framework: str, *controls: Control, file: str | None = None) -> ControlMatrix:
    """A matrix of ``controls``."""
    return ControlMatrix(
        framework=framework,
        version="1",
        title=framework,
        controls=controls,
        file=file or f"controls/{framework}.yaml",
        sha256="0" * 64,
    )


SOC = _matrix(
    "soc2", _control("CC6.1", ("secrets.no_secrets",)), _control("CC8.1", ("source_control.no_force_push",))
)
ISO = _matrix(
    "iso27001-2022",
    _control("A.8.4", ("source_control.no_force_push",)),
    _control("A.8.12", ("secrets.no_secrets",)),
)
RULES = {
    "secrets.no_secrets": {"soc2": ["CC6.1"], "iso27001-2022": ["A.8.12"]},
    "source_control.no_force_push": {"soc2": ["CC8.1"], "iso27001-2022": ["A.8.4"]},
}


def test_agreeing_matrices_and_rules_pass() -> None:
    check_rules([SOC, ISO], RULES)


def test_builtin_matrices_agree_with_the_catalog(matrices: dict[str, ControlMatrix]) -> None:
    check_rules(list(matrices.values()), rule_controls())


def test_unknown_rule_in_a_matrix_stops_the_run() -> None:
    soc = _matrix("soc2", _control("CC6.1", ("secrets.no_secrets", "secrets.no_secretz")), SOC.controls[1])
    with pytest.raises(ControlMatrixError) as info:
        check_rules([soc, ISO], RULES)
    assert str(info.value) == (
        "controls/soc2.yaml: control CC6.1 names rule 'secrets.no_secretz', which no loaded policy defines"
    )
    assert "custom.controls" in info.value.diagnostics()


def test_builtin_matrix_naming_a_rule_that_is_not_loaded(matrices: dict[str, ControlMatrix]) -> None:
    rules = rule_controls()
    del rules["supply_chain.slsa_level"]
    with pytest.raises(ControlMatrixError) as info:
        check_rules(list(matrices.values()), rules)
    text = str(info.value)
    assert text.startswith("the control matrices and the policies disagree (5 problems):")
    for control in ("A.5.21", "A.8.25"):
        assert f"controls/iso27001-2022.yaml: control {control} names rule 'supply_chain.slsa_level'" in text
    assert "controls/soc2-2017.yaml: control CC8.1 names rule 'supply_chain.slsa_level'" in text
    # SSDF is named by no rule's METADATA, and a missing rule stops the run there too.
    for control in ("PO.3.2", "PO.5.1"):
        assert f"controls/ssdf-1.1.yaml: control {control} names rule 'supply_chain.slsa_level'" in text


def test_duplicate_control_ids() -> None:
    soc = _matrix("soc2", *SOC.controls, _control("CC6.1"))
    with pytest.raises(
        ControlMatrixError, match=r"^controls/soc2\.yaml: control CC6\.1 appears more than once$"
    ):
        check_rules([soc, ISO], RULES)


def test_rule_naming_an_unknown_framework() -> None:
    rules = {**RULES, "secrets.no_secrets": {**RULES["secrets.no_secrets"], "soc-2": ["CC6.1"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO], rules)
    assert str(info.value) == (
        "rule secrets.no_secrets: its METADATA maps to framework 'soc-2', which has no control matrix "
        "(loaded: iso27001-2022, soc2)"
    )


def test_rule_naming_a_control_missing_from_the_matrix() -> None:
    rules = {**RULES, "secrets.no_secrets": {"soc2": ["CC6.1", "CC6.10"], "iso27001-2022": ["A.8.12"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO], rules)
    assert str(info.value) == (
        "rule secrets.no_secrets: its METADATA names soc2 control CC6.10, which is not in controls/soc2.yaml"
    )


def test_each_mismatch_is_listed_in_both_directions() -> None:
    # The matrix lists no_force_push under A.8.12 too, and the METADATA names A.8.4 for no_secrets.
    iso = _matrix(
        "iso27001-2022",
        _control("A.8.4", ("source_control.no_force_push",)),
        _control("A.8.12", ("secrets.no_secrets", "source_control.no_force_push")),
    )
    rules = {**RULES, "secrets.no_secrets": {"soc2": ["CC6.1"], "iso27001-2022": ["A.8.12", "A.8.4"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, iso], rules)
    assert str(info.value).splitlines() == [
        "the control matrices and the policies disagree (2 problems):",
        "  - iso27001-2022 A.8.12: controls/iso27001-2022.yaml lists rule source_control.no_force_push "
        "but the rule's METADATA does not name A.8.12",
        "  - iso27001-2022 A.8.4: rule secrets.no_secrets's METADATA names this control but "
        "controls/iso27001-2022.yaml does not list the rule under it",
    ]


def test_rule_with_no_control_is_an_error() -> None:
    rules = {**RULES, "lonely.rule": {}}
    with pytest.raises(
        ControlMatrixError,
        match=r"rule lonely\.rule: no control matrix lists it and its METADATA maps it to no control",
    ):
        check_rules([SOC, ISO], rules)


def test_a_rule_only_a_matrix_links_is_not_lonely() -> None:
    acme = _matrix("acme-sdlc", _control("ACME-1", ("lonely.rule",)))
    check_rules([SOC, ISO, acme], {**RULES, "lonely.rule": {}})


# ---------------------------------------------------------------------------------------------
# Frameworks no METADATA names: the matrix alone links rules to controls


SSDF = _matrix(
    "ssdf",
    _control("PS.1.1", ("source_control.no_force_push",)),
    _control("PW.5.1", ("secrets.no_secrets", "source_control.no_force_push")),
    _control("PO.1.1"),
    file="controls/ssdf-1.1.yaml",
)


def test_a_framework_no_metadata_names_needs_no_metadata_links() -> None:
    check_rules([SOC, ISO, SSDF], RULES)


def test_a_framework_no_metadata_names_still_needs_existing_rules() -> None:
    ssdf = _matrix("ssdf", *SSDF.controls, _control("PW.4.1", ("supply_chain.sbom_presnt",)))
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO, ssdf], RULES)
    assert str(info.value) == (
        "controls/ssdf.yaml: control PW.4.1 names rule 'supply_chain.sbom_presnt', which no loaded policy defines"
    )


def test_the_builtin_matrices_with_the_real_policies() -> None:
    from affidavit.controls.loader import load_matrices
    from affidavit.policy.loader import load_policy_set

    rules = {rule.id: rule.controls for rule in load_policy_set(()).rules}
    matrices = load_matrices()
    assert "ssdf" in {m.framework for m in matrices}
    assert not any("ssdf" in mapping for mapping in rules.values())
    check_rules(matrices, rules)


def test_a_builtin_rule_is_cross_checked_for_every_framework_builtin_metadata_names() -> None:
    # no_force_push's METADATA leaves ISO out, but other built-in rules speak for ISO: a matrix
    # that lists it under an ISO control disagrees with it (it claims no ISO control).
    rules = {**RULES, "source_control.no_force_push": {"soc2": ["CC8.1"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO], rules)
    assert str(info.value) == (
        "iso27001-2022 A.8.4: controls/iso27001-2022.yaml lists rule source_control.no_force_push "
        "but the rule's METADATA does not name A.8.4"
    )


def test_an_own_rule_is_cross_checked_only_where_its_metadata_speaks() -> None:
    # The organisation's own framework lists a built-in rule and its own rule; the own rule's
    # METADATA names a SOC 2 control (it is attached there) and says nothing about acme.
    own = {"acme.rules.deploy_window": {"soc2": ["CC8.1"]}}
    acme = _matrix(
        "acme-sdlc",
        _control("ACME-1", ("source_control.no_force_push",)),
        _control("ACME-2", ("acme.rules.deploy_window",)),
    )
    check_rules([SOC, ISO, acme], {**RULES, **own}, attachable=set(own))
    # Where its METADATA does name the framework, a link the METADATA lacks is a disagreement.
    wrong = {"acme.rules.deploy_window": {"soc2": ["CC8.1"], "acme-sdlc": ["ACME-1"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO, acme], {**RULES, **wrong}, attachable=set(wrong))
    assert str(info.value) == (
        "acme-sdlc ACME-2: controls/acme-sdlc.yaml lists rule acme.rules.deploy_window "
        "but the rule's METADATA does not name ACME-2"
    )


def test_controls_given_as_a_string_are_an_error() -> None:
    # A str is a Sequence[str] to the type checker, which is exactly why it is checked at run time.
    rules: dict[str, Any] = {**RULES, "secrets.no_secrets": {"soc2": "CC6.1", "iso27001-2022": ["A.8.12"]}}
    with pytest.raises(ControlMatrixError) as info:
        check_rules([SOC, ISO], rules)
    assert (
        "rule secrets.no_secrets: METADATA controls for soc2 must be a list of ids, not the string 'CC6.1'"
        in str(info.value)
    )


def test_two_matrices_for_one_framework() -> None:
    other = _matrix("soc2", *SOC.controls, file="mine/soc2.yaml")
    with pytest.raises(
        ControlMatrixError,
        match=r"framework soc2: two matrices are loaded \(controls/soc2\.yaml and mine/soc2\.yaml\)",
    ):
        check_rules([SOC, other, ISO], RULES)
