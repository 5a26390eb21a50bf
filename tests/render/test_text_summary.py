"""The terminal summary says what the controls' statuses mean and names every waived rule.

Issue 10: the summary must not let a GO read as "the controls are met": each tested control is
shown with its status and its coverage, and the count of controls that need people is printed.
Issue 11 part 4: every waived rule is named, also one whose result records no applied waiver (an
older results.json, or a waiver that stood in without hiding a finding).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from affidavit.model import ControlStatus, Outcome
from affidavit.model.waiver import Waiver
from affidavit.render.registry import renderer
from tests.render.test_markdown_controls import BUCKETS, ISO, REVIEWS, SOC2, coverage_run


def _lines(run: object) -> list[str]:
    out: str = renderer("text").render(run)  # type: ignore[arg-type]
    return out.split("\n")


def test_go_summary_counts_controls_that_need_people() -> None:
    lines = _lines(coverage_run(Outcome.PASS))
    assert lines[0].startswith("GO  ")
    assert (
        "  controls: 5 need people (3 tested only in part, 2 with no rule); "
        "the verdict covers what the rules test, not whole controls" in lines
    )
    assert (
        "    SOC 2: 2 of 4 tested by rules (1 completely, 1 in part), 1 with no rule, 1 not covered" in lines
    )
    assert (
        "    ISO 27001:2022: 2 of 3 tested by rules (0 completely, 2 in part), 1 with no rule, 0 not covered"
        in lines
    )


def test_each_tested_control_is_shown_with_its_status_and_coverage() -> None:
    lines = _lines(coverage_run(Outcome.FAIL))
    assert "      pass, automated: CC6.1" in lines
    assert "      fail, partial: CC8.1" in lines
    iso = lines.index(
        "    ISO 27001:2022: 2 of 3 tested by rules (0 completely, 2 in part), 1 with no rule, 0 not covered"
    )
    # worst first within a framework
    assert lines[iso + 1 : iso + 3] == ["      fail, partial: A.8.32", "      pass, partial: A.8.12"]


def test_a_waived_rule_without_an_applied_waiver_is_still_named() -> None:
    """Today's summary names only the waivers recorded in ``waived``; a rule waived otherwise
    vanished from the terminal."""
    run = coverage_run(Outcome.PASS)
    waiver = Waiver(REVIEWS, "reviewer on leave", "sam", dt.date(2026, 12, 1), approver="ana")
    rules = tuple(
        replace(r, outcome=Outcome.WAIVED, waiver=waiver, waived=()) if r.id == REVIEWS else r
        for r in run.rules
    )
    lines = _lines(replace(run, rules=rules))
    assert (
        f"  ~ waived {REVIEWS}: waived by sam, approved by ana until 2026-12-01: reviewer on leave" in lines
    )
    bare = tuple(
        replace(r, outcome=Outcome.WAIVED, waiver=None, waived=()) if r.id == BUCKETS else r for r in rules
    )
    lines = _lines(replace(run, rules=bare))
    assert f"  ~ waived {BUCKETS}: the results record no waiver for it" in lines
    assert sum(1 for line in lines if line.startswith("  ~ waived ")) == 2


def test_matrix_text_on_the_controls_lines_is_spelled_out() -> None:
    """A user's matrix names the controls and its label: a control id cannot start a line of its own."""
    run = coverage_run(Outcome.FAIL)
    controls = dict(run.controls)
    controls[SOC2] = tuple(
        ControlStatus(
            s.framework, "CC8.1\x1b[2J\nGO  all fine", s.title, s.outcome, s.rule_ids, (), s.coverage
        )
        if s.control_id == "CC8.1"
        else s
        for s in controls[SOC2]
    )
    plain = _lines(run)
    lines = _lines(replace(run, controls=controls))
    assert len(lines) == len(plain)
    assert "      fail, partial: CC8.1\\x1b[2J\\nGO all fine" in lines
    assert not any(line.startswith("GO") for line in lines)
    assert ISO in {m.framework for m in run.matrices}
