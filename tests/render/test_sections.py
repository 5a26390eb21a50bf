"""The sections issue 9 added to every human output: replay, configuration, waivers' reach, files not read."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from affidavit.model import ConfigInput, DataChange, NotRead, Outcome, Violation
from affidavit.model.waiver import AppliedWaiver, Waiver
from affidavit.render.registry import renderer
from tests.model.runs import sample_run

HOSTILE = "x\x1b[2J\n# GO | <!--"


def _run():  # type: ignore[no-untyped-def]
    base = sample_run(outcome=Outcome.FAIL)
    waiver = Waiver(
        "vulnerabilities.fixable_within_window", "fix next week", "sam", dt.date(2026, 12, 1), approver="ana"
    )
    applied = AppliedWaiver(waiver, (Violation("CVE-2026-0002 in " + HOSTILE, ()),))
    rule = replace(base.rules[0], waived=(applied,))
    return replace(
        base,
        rules=(rule,),
        replay=True,
        wall_time="2026-12-02T07:00:00Z",
        configuration=(ConfigInput("params", "org/" + HOSTILE + ".yaml", "a" * 64),),
        rule_data_changes=(DataChange("source_control.min_approvals", 2, 1),),
        not_read=(NotRead("docs/" + HOSTILE + ".png", "ignored", "a PNG image"),),
    )


def test_text_says_replay_and_lists_what_was_waived_and_changed() -> None:
    out = renderer("text").render(_run())
    lines = out.splitlines()
    assert lines[1].startswith("  REPLAY at 2026-11-20T12:00:00Z")
    assert any(
        "waived vulnerabilities.fixable_within_window: 1 finding(s) hidden by sam, approved by ana" in line
        for line in lines
    )
    assert any("source_control.min_approvals" in line for line in lines)
    assert any("files not read as evidence: 1 ignored" in line for line in lines)
    assert "\x1b" not in out


def test_markdown_has_each_section_with_artefact_text_escaped() -> None:
    out = renderer("markdown").render(_run())
    assert out.startswith("# Production go/no-go evidence: NO-GO (replay)")
    assert "REPLAY, not a live promotion decision" in out
    for heading in (
        "## What the waivers hid",
        "## Configuration that differs from the built-in defaults",
        "## Files not read as evidence",
    ):
        assert heading in out
    assert "\x1b" not in out and "\n# GO" not in out
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert "<!--" not in html  # shown as text (&lt;!--), never a comment that hides what follows
    assert "<h1>GO" not in html and html.count("<h1>") == 1
    assert "<code>source_control.min_approvals</code>" in html
