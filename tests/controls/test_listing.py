"""What ``affidavit controls`` lists: every control, coverage counts, status after a run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from affidavit.controls.listing import control_listing
from affidavit.model import Outcome
from tests.controls.catalog import CATALOG
from tests.controls.conftest import CONTROLS, read_yaml


@pytest.mark.parametrize(
    ("framework", "file"),
    [("soc2", "soc2-2017.yaml"), ("iso27001-2022", "iso27001-2022.yaml"), ("ssdf", "ssdf-1.1.yaml")],
)
def test_counts_match_the_matrix_file(framework: str, file: str) -> None:
    raw = read_yaml(CONTROLS / file)
    expected = Counter(c["coverage"] for c in raw["controls"])
    listing = control_listing(framework)
    assert len(listing.rows) == len(raw["controls"])
    assert listing.coverage_counts() == {
        k: expected.get(k, 0) for k in ("automated", "partial", "manual", "not_covered")
    }
    data = listing.to_json()
    assert data["counts"]["total"] == len(raw["controls"])
    assert [c["id"] for c in data["controls"]] == [c["id"] for c in raw["controls"]]


def test_text_table_without_results() -> None:
    text = control_listing("soc2").to_text()
    lines = text.splitlines()
    assert (
        lines[0]
        == "SOC 2: 2017 Trust Services Criteria (revised points of focus 2022) (soc2 2017, controls/soc2-2017.yaml)"
    )
    assert lines[1] == "61 controls: 0 automated, 5 partial, 38 manual, 18 not covered"
    header = lines[3]
    assert header.split() == ["ID", "COVERAGE", "RULES", "TITLE", "ISO", "27001:2022"]
    rows = {line.split()[0]: line for line in lines[4:]}
    assert len(rows) == 61
    # Columns line up: every row's title starts where the header's TITLE does.
    title_at = header.index("TITLE")
    assert rows["CC8.1"][title_at:].startswith("Change management")
    assert rows["P8.1"][title_at:].startswith("Privacy inquiries, complaints and monitoring")
    assert rows["CC8.1"].split()[1:3] == [
        "partial",
        str(len([r for r, row in CATALOG.items() if "CC8.1" in row["soc2"]])),
    ]
    assert rows["P1.1"].split()[1:4] == ["not", "covered", "-"]
    assert rows["CC8.1"].endswith("A.8.9, A.8.19, A.8.25, A.8.29, A.8.31, A.8.32")


def test_long_titles_are_clipped_in_text_but_not_in_json() -> None:
    listing = control_listing("iso27001-2022")
    long = "Information security incident management planning and preparation"
    line = next(line for line in listing.to_text().splitlines() if line.startswith("A.5.24 "))
    assert long[:57] + "..." in line and long not in line
    assert next(c for c in listing.to_json()["controls"] if c["id"] == "A.5.24")["title"] == long


def _results_document(outcomes: dict[str, str]) -> dict[str, Any]:
    """A results.json with every catalog rule, ``pass`` unless ``outcomes`` says otherwise."""
    return {
        "schema": "affidavit.results/v1",
        "run_id": "20261120T120000Z-abcdef123456",
        "time": "2026-11-20T12:00:00Z",
        "decision": "NO-GO",
        "environment": "prod",
        "rules": [{"id": rule, "outcome": outcomes.get(rule, "pass")} for rule in sorted(CATALOG)],
    }


def test_listing_with_a_results_document_shows_status() -> None:
    results = _results_document(
        {"secrets.no_secrets": "fail", "iac.no_open_admin_ports": "insufficient_evidence"}
    )
    outcomes = {r["id"]: Outcome(r["outcome"]) for r in results["rules"]}
    run = {k: results[k] for k in ("run_id", "time", "decision", "environment")}
    listing = control_listing("soc2", outcomes=outcomes, run=run)
    rows = {r.id: r for r in listing.rows}
    assert rows["CC6.1"].status is Outcome.FAIL
    assert rows["CC6.6"].status is Outcome.INSUFFICIENT_EVIDENCE
    assert rows["CC8.1"].status is Outcome.PASS
    assert rows["CC1.1"].status is None
    assert list(listing.status_counts().items()) == [("fail", 1), ("insufficient_evidence", 2), ("pass", 2)]

    lines = listing.to_text().splitlines()
    assert (
        lines[2]
        == "status of run 20261120T120000Z-abcdef123456, NO-GO: 1 fail, 2 insufficient_evidence, 2 pass"
    )
    assert lines[4].split()[:4] == ["ID", "COVERAGE", "STATUS", "RULES"]
    cc61 = next(line for line in lines if line.startswith("CC6.1 "))
    assert cc61.split()[1:3] == ["partial", "fail"]
    cc11 = next(line for line in lines if line.startswith("CC1.1 "))
    assert cc11.split()[1:4] == ["manual", "-", "-"]

    data = listing.to_json()
    assert data["run"] == {
        "run_id": "20261120T120000Z-abcdef123456",
        "time": "2026-11-20T12:00:00Z",
        "decision": "NO-GO",
        "environment": "prod",
    }
    assert next(c for c in data["controls"] if c["id"] == "CC6.1")["status"] == "fail"
    assert next(c for c in data["controls"] if c["id"] == "P1.1")["status"] is None


def test_listing_with_outcomes_and_without() -> None:
    with_results = control_listing("iso27001-2022", outcomes={"secrets.no_secrets": Outcome.WARN})
    rows = {r.id: r for r in with_results.rows}
    assert rows["A.5.17"].status is Outcome.WARN
    assert rows["A.8.12"].status is Outcome.ERROR  # secrets.scan_covers_commit has no result
    assert rows["A.5.1"].status is None  # manual: nobody checked it
    assert with_results.run is None and with_results.to_json()["run"] is None
    without = control_listing("iso27001-2022").to_json()
    assert "status" not in without["controls"][0]
    assert without["status_counts"] is None and without["run"] is None


def test_an_empty_outcome_mapping_still_shows_status() -> None:
    # A run in which no rule produced a result: every tested control is an error, not a pass.
    listing = control_listing("ssdf", outcomes={})
    tested = [r for r in listing.rows if r.coverage.tested]
    assert tested and all(r.status is Outcome.ERROR for r in tested)
    assert all(r.status is None for r in listing.rows if not r.coverage.tested)
