"""A control's status is the worst outcome of its rules; untested controls get none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from affidavit.controls.status import control_statuses
from affidavit.model import ControlStatus, Outcome, RuleResult
from tests.controls.catalog import CATALOG

if TYPE_CHECKING:
    from affidavit.controls.model import ControlMatrix, Crosswalk


def _all(framework: str, outcome: Outcome) -> list[RuleResult]:
    """Every catalog rule mapped to ``framework``, with ``outcome``."""
    return [RuleResult(rule_id=r, outcome=outcome) for r, row in CATALOG.items() if row[framework]]


def _by_id(statuses: list[ControlStatus]) -> dict[str, ControlStatus]:
    """Statuses by control id."""
    return {s.control_id: s for s in statuses}


def test_every_control_gets_a_status_in_matrix_order(
    matrices: dict[str, ControlMatrix], crosswalk: Crosswalk
) -> None:
    soc2 = matrices["soc2"]
    statuses = control_statuses(soc2, _all("soc2", Outcome.PASS), crosswalk)
    assert [s.control_id for s in statuses] == list(soc2.control_ids)
    assert all(s.framework == "soc2" for s in statuses)


def test_all_rules_pass_gives_pass_and_untested_controls_get_none(matrices: dict[str, ControlMatrix]) -> None:
    statuses = _by_id(control_statuses(matrices["soc2"], _all("soc2", Outcome.PASS)))
    assert statuses["CC8.1"].outcome is Outcome.PASS
    assert statuses["CC8.1"].coverage == "partial"
    assert statuses["CC6.1"].outcome is Outcome.PASS
    assert statuses["CC6.1"].coverage == "partial"
    assert statuses["CC1.1"].outcome is None and statuses["CC1.1"].coverage == "manual"
    assert statuses["P1.1"].outcome is None and statuses["P1.1"].coverage == "not_covered"
    tested = {s.control_id for s in statuses.values() if s.outcome is not None}
    assert tested == {"CC6.1", "CC6.6", "CC6.8", "CC7.1", "CC8.1"}


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ({"source_control.no_force_push": Outcome.FAIL}, Outcome.FAIL),
        ({"source_control.no_force_push": Outcome.WARN}, Outcome.WARN),
        ({"source_control.no_force_push": Outcome.WAIVED}, Outcome.WAIVED),
        ({"source_control.no_force_push": Outcome.NOT_APPLICABLE}, Outcome.PASS),
        (
            {"supply_chain.sbom_fresh": Outcome.INSUFFICIENT_EVIDENCE, "iac.providers_pinned": Outcome.WARN},
            Outcome.INSUFFICIENT_EVIDENCE,
        ),
        ({"supply_chain.sbom_fresh": Outcome.FAIL, "iac.providers_pinned": Outcome.ERROR}, Outcome.ERROR),
    ],
)
def test_status_is_the_worst_outcome_of_its_rules(
    matrices: dict[str, ControlMatrix], outcomes: dict[str, Outcome], expected: Outcome
) -> None:
    results = [
        RuleResult(rule_id=r.rule_id, outcome=outcomes.get(r.rule_id, Outcome.PASS))
        for r in _all("soc2", Outcome.PASS)
    ]
    statuses = _by_id(control_statuses(matrices["soc2"], results))
    assert statuses["CC8.1"].outcome is expected
    # Rules of CC8.1 that CC6.1 does not share leave CC6.1 untouched.
    assert statuses["CC6.1"].outcome is Outcome.PASS


def test_all_rules_not_applicable_is_not_applicable(matrices: dict[str, ControlMatrix]) -> None:
    statuses = _by_id(control_statuses(matrices["soc2"], _all("soc2", Outcome.NOT_APPLICABLE)))
    assert statuses["CC6.6"].outcome is Outcome.NOT_APPLICABLE


def test_a_rule_without_a_result_counts_as_error(matrices: dict[str, ControlMatrix]) -> None:
    results = [
        r for r in _all("iso27001-2022", Outcome.PASS) if r.rule_id != "supply_chain.forbidden_licenses"
    ]
    statuses = _by_id(control_statuses(matrices["iso27001-2022"], results))
    assert statuses["A.5.32"].outcome is Outcome.ERROR
    assert statuses["A.8.32"].outcome is Outcome.PASS


def test_repeated_results_for_one_rule_take_the_worst(matrices: dict[str, ControlMatrix]) -> None:
    results = [
        *_all("soc2", Outcome.PASS),
        RuleResult(rule_id="iac.no_open_admin_ports", outcome=Outcome.FAIL),
    ]
    statuses = _by_id(control_statuses(matrices["soc2"], results))
    assert statuses["CC6.6"].outcome is Outcome.FAIL


def test_status_carries_title_and_rules(matrices: dict[str, ControlMatrix]) -> None:
    status = _by_id(control_statuses(matrices["iso27001-2022"], []))["A.8.20"]
    assert status.title == "Networks security"
    assert status.rule_ids == ("iac.no_open_admin_ports",)
    assert status.outcome is Outcome.ERROR  # its only rule produced no result
    assert status.related == ()  # no crosswalk given


def test_related_soc2_side_is_the_reference_primary_list(
    matrices: dict[str, ControlMatrix], crosswalk: Crosswalk, crosswalk_reference: dict[str, Any]
) -> None:
    statuses = _by_id(control_statuses(matrices["soc2"], [], crosswalk))
    for entry in crosswalk_reference["mappings"]:
        primary = {p["id"] for p in entry.get("editorial_primary") or [] if p["id"].startswith("A.")}
        assert set(statuses[entry["soc2"]].related) == primary, entry["soc2"]
    assert statuses["CC8.1"].related[:2] == ("A.8.9", "A.8.19")  # strong first, then natural id order


def test_related_iso_side_is_primary_or_strong(
    matrices: dict[str, ControlMatrix], crosswalk: Crosswalk, crosswalk_reference: dict[str, Any]
) -> None:
    expected: dict[str, set[str]] = {}
    for entry in crosswalk_reference["mappings"]:
        for p in entry.get("annex_a") or []:
            if p["tier"] == "strong":
                expected.setdefault(p["id"], set()).add(entry["soc2"])
        for p in entry.get("editorial_primary") or []:
            if p["id"].startswith("A."):
                expected.setdefault(p["id"], set()).add(entry["soc2"])
    statuses = _by_id(control_statuses(matrices["iso27001-2022"], [], crosswalk))
    for control_id, status in statuses.items():
        assert set(status.related) == expected.get(control_id, set()), control_id
    assert "CC8.1" in statuses["A.8.28"].related
    assert statuses["A.8.17"].related == ()  # no source links clock synchronisation to SOC 2
