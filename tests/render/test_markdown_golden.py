"""Golden copies of the Markdown report and the terminal summary of one fixed run.

The run (``coverage_run``: a failing rule and a passing one over SOC 2 and ISO 27001 with every
coverage, plus a rule waived without an applied waiver) pins how reports word decisions and
controls; any change shows as a diff to review. Regenerate with AFFIDAVIT_UPDATE_GOLDENS=1 after
checking the diff is what you meant. Each rendering is checked before it is compared: the report
renders to HTML with one heading of level 1 and no ragged table, the summary holds only printable
characters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from affidavit.model import Outcome, RuleReport, Run
from affidavit.model.waiver import Waiver
from affidavit.render.registry import renderer
from tests.conftest import GOLDEN, golden_text
from tests.render.markdown_check import headings, ragged_tables, to_html
from tests.render.test_markdown_controls import coverage_run

FOLDER = GOLDEN / "reports"


def _run() -> Run:
    """The NO-GO coverage run with a third rule, waived, whose result records no applied waiver."""
    run = coverage_run(Outcome.FAIL)
    waiver = Waiver(
        "secrets.no_secrets", "test fixture key, rotated", "sam", dt.date(2026, 12, 1), approver="ana"
    )
    waived = RuleReport(
        id="secrets.no_secrets",
        title="No secrets found in the source",
        severity="critical",
        outcome=Outcome.WAIVED,
        controls={"soc2": (), "iso27001-2022": ()},
        requires=(),
        remediation="Rotate it.",
        waiver=waiver,
    )
    return replace(run, rules=(*run.rules, waived), waivers=(waiver,))


def test_markdown_report_golden() -> None:
    report = renderer("markdown").render(_run())
    html = to_html(report)
    assert ragged_tables(report) == []
    assert [h for h in headings(html) if h.startswith("<h1")] == ["<h1>"]
    assert report == golden_text(report, FOLDER / "coverage-nogo.md")


def test_terminal_summary_golden() -> None:
    out = renderer("text").render(_run())
    assert all(c == "\n" or c.isprintable() for c in out)
    assert out + "\n" == golden_text(out + "\n", FOLDER / "coverage-nogo.txt")
