"""The report's claims about controls go no further than the evidence (issue 10; issue 11 part 4).

A GO means every rule passed, was not applicable or was waived; it never means a control is met.
Most controls are ``partial`` (the rules test part of them) or ``manual`` (no rule at all), so the
report shows each control's coverage beside its status, counts the controls that need people, and
labels the status of a control of another framework as that control's own, never the row's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from affidavit.model import ControlStatus, Decision, MatrixRef, Outcome, RuleReport, Run, Violation
from affidavit.render.registry import renderer
from tests.model.runs import EVIDENCE_ID, sample_run
from tests.render.markdown_check import to_html

SOC2, ISO = "soc2", "iso27001-2022"
REVIEWS, BUCKETS = "source_control.required_reviews", "iac.no_public_buckets"


def coverage_run(reviews: Outcome = Outcome.FAIL, title_suffix: str = "") -> Run:
    """Two rules over two frameworks with every coverage.

    SOC 2: CC6.1 automated (buckets), CC8.1 partial (reviews and buckets), CC1.1 manual, P1.1 not
    covered. ISO: A.8.32 partial (reviews), A.8.12 partial (buckets), A.5.1 manual. Controls that
    need people: CC8.1, CC1.1, A.8.32, A.8.12, A.5.1 (five).
    """
    base = sample_run()

    def rule(rule_id: str, outcome: Outcome, controls: dict[str, tuple[str, ...]]) -> RuleReport:
        return RuleReport(
            id=rule_id,
            title=f"title of {rule_id}",
            severity="high",
            outcome=outcome,
            controls=controls,
            requires=(),
            remediation="Fix it.",
            violations=(Violation("reviews are off", (EVIDENCE_ID,)),) if outcome is Outcome.FAIL else (),
            evidence_ids=(EVIDENCE_ID,),
        )

    rules = (
        rule(REVIEWS, reviews, {SOC2: ("CC8.1",), ISO: ("A.8.32",)}),
        rule(BUCKETS, Outcome.PASS, {SOC2: ("CC6.1", "CC8.1"), ISO: ("A.8.12",)}),
    )

    def status(
        fw: str, cid: str, outcome: Outcome | None, rule_ids: tuple[str, ...], coverage: str
    ) -> ControlStatus:
        return ControlStatus(fw, cid, f"{cid} title{title_suffix}", outcome, rule_ids, (), coverage)

    worst = reviews if reviews.rank > Outcome.PASS.rank else Outcome.PASS
    controls = {
        SOC2: (
            status(SOC2, "CC1.1", None, (), "manual"),
            status(SOC2, "CC6.1", Outcome.PASS, (BUCKETS,), "automated"),
            status(SOC2, "CC8.1", worst, (REVIEWS, BUCKETS), "partial"),
            status(SOC2, "P1.1", None, (), "not_covered"),
        ),
        ISO: (
            status(ISO, "A.5.1", None, (), "manual"),
            status(ISO, "A.8.12", Outcome.PASS, (BUCKETS,), "partial"),
            status(ISO, "A.8.32", reviews, (REVIEWS,), "partial"),
        ),
    }
    decision = Decision.NO_GO if reviews.blocks else Decision.GO
    return replace(
        base,
        rules=rules,
        controls=controls,
        decision=decision,
        matrices=(
            MatrixRef(SOC2, "2017", "controls/soc2-2017.yaml", "e" * 64, "SOC 2"),
            MatrixRef(ISO, "2022", "controls/iso27001-2022.yaml", "f" * 64, "ISO 27001:2022"),
        ),
    )


def _row(report: str, control_id: str) -> str:
    """The Controls table row of one control."""
    return next(line for line in report.splitlines() if line.startswith(f"| **{control_id}**"))


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split(" | ")]


def test_go_never_says_every_control_passed() -> None:
    """Today's headline, "Every control in scope passed", claims the controls; the rules only test
    part of five of them and none of two."""
    out = renderer("markdown").render(coverage_run(Outcome.PASS))
    assert "Every control in scope passed" not in out
    assert "every control" not in out.lower()
    assert out.startswith("# Production go/no-go evidence: GO\n")
    headline = out.split("\n\n")[1]
    assert headline.startswith("**GO.**"), out[:400]  # a paragraph of its own, after the heading
    assert "5 control(s) need people" in headline
    assert "not a statement that any control is met" in headline


def test_no_go_headline_counts_controls_that_need_people_too() -> None:
    out = renderer("markdown").render(coverage_run(Outcome.FAIL))
    headline = out.split("\n\n")[1]
    assert headline.startswith("**NO-GO.**")
    assert "5 control(s) need people" in headline


def test_each_control_shows_its_coverage_beside_its_status() -> None:
    """A partial control whose rules passed is not shown as a plain pass."""
    out = renderer("markdown").render(coverage_run(Outcome.PASS))
    header = next(line for line in out.splitlines() if line.startswith("| SOC 2 | Status |"))
    names = _cells(header)
    assert names[1:3] == ["Status", "Coverage"]
    a812 = _cells(_row(out, "A.8.12"))
    assert a812[1] == "✅ pass"
    assert a812[2].startswith("partial") and "people" in a812[2]
    cc61 = _cells(_row(out, "CC6.1"))
    assert cc61[1] == "✅ pass" and cc61[2] == "automated"


def test_report_counts_per_framework_what_the_rules_test_and_what_needs_people() -> None:
    out = renderer("markdown").render(coverage_run(Outcome.PASS))
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| Framework | Controls |"))
    soc2 = _cells(lines[header + 2])
    iso = _cells(lines[header + 3])
    names = _cells(lines[header])
    assert names == [
        "Framework",
        "Controls",
        "Tested by rules",
        "of them partial",
        "No rule (manual)",
        "Need people",
        "Not covered",
    ]
    assert soc2 == ["SOC 2", "4", "2", "1", "1", "**2**", "1"]
    assert iso == ["ISO 27001:2022", "3", "2", "2", "1", "**3**", "0"]


def test_counterparts_show_their_own_status_not_the_rows() -> None:
    """CC8.1 fails (reviews); it shares the buckets rule with A.8.12, which passes. The row must say
    that pass is A.8.12's own and never read as CC8.1's."""
    out = renderer("markdown").render(coverage_run(Outcome.FAIL))
    header = _cells(next(line for line in out.splitlines() if line.startswith("| SOC 2 | Status |")))
    column = header.index("Controls elsewhere sharing a rule (their own status)")
    cc81 = _cells(_row(out, "CC8.1"))
    assert cc81[1] == "❌ fail"
    elsewhere = cc81[column].split("<br>")
    assert "ISO 27001:2022 A.8.12: own status ✅ pass, partial" in elsewhere
    assert "ISO 27001:2022 A.8.32: own status ❌ fail, partial" in elsewhere
    a812 = _cells(_row(out, "A.8.12"))
    assert a812[1] == "✅ pass"
    assert a812[column].split("<br>") == [
        "SOC 2 CC6.1: own status ✅ pass, automated",
        "SOC 2 CC8.1: own status ❌ fail, partial",
    ]


def test_a_counterpart_without_a_status_is_not_called_an_error() -> None:
    """The old column fell back to "could not be evaluated" for a counterpart with no outcome."""
    run = coverage_run(Outcome.FAIL)
    controls = dict(run.controls)
    controls[ISO] = tuple(replace(s, outcome=None) if s.control_id == "A.8.12" else s for s in controls[ISO])
    out = renderer("markdown").render(replace(run, controls=controls))
    row = _row(out, "CC8.1")
    assert "could not be evaluated" not in row
    assert "ISO 27001:2022 A.8.12: no status of its own in this run, partial" in row


def test_matrix_text_in_the_control_tables_stays_text() -> None:
    """A user's own matrix supplies control titles: they are escaped like artefact text."""
    out = renderer("markdown").render(coverage_run(Outcome.FAIL, title_suffix=" | x <!-- # GO"))
    html = to_html(out)
    assert "<!--" not in html
    assert re.search(r"A\.8\.12 title \| x &lt;!-- # GO", html) or "A.8.12 title | x &lt;!-- # GO" in html


def test_a_waived_rule_without_a_recorded_waiver_is_named_not_a_crash() -> None:
    """A results.json may hold a waived rule whose waiver is null; the report still names it."""
    run = coverage_run(Outcome.PASS)
    rules = tuple(
        replace(r, outcome=Outcome.WAIVED, waiver=None) if r.id == BUCKETS else r for r in run.rules
    )
    out = renderer("markdown").render(replace(run, rules=rules))
    waived = out.split("## Waived\n", 1)[1].split("\n## ", 1)[0]
    assert f"(`{BUCKETS}`): the results record no waiver for it" in waived
