"""Every renderer shows a hostile string as text, whatever field of the Run it arrives in.

Issue 9, finding 7: artefact text reached PRODUCTION_GO_EVIDENCE.md and the terminal raw (headings,
``<script>``, ``javascript:`` links, an HTML comment that hid every later table, table-breaking
pipes, ANSI sequences forging a green "GO"). Each payload below goes into each field of
``tests.render.hostile`` in turn, and every renderer of the registry is checked:

* markdown: rendered by a CommonMark viewer (``markdown_check``), the report has exactly the
  elements of the same report with a plain word in that field (no heading, link, script, comment,
  emphasis or cell more), every table keeps its shape, and the field's text is shown as written;
* text: nothing that is not printable reaches the terminal, the summary has as many lines as with
  the plain word and no line but the first starts with a verdict, and the field is shown spelled out;
* json: not escaped (it is data), but valid and read back to the same Run.

A renderer added to the registry without a check here fails ``test_every_renderer_has_a_check``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from affidavit.model import Decision, Run
from affidavit.render import registry
from affidavit.render.markdown import render_markdown
from tests.render.hostile import FIELDS, hostile_run
from tests.render.markdown_check import headings, ragged_tables, read, structure, text_of, to_html
from tests.render.test_codequality import check_codequality
from tests.render.test_github import check_github_annotations, check_github_summary
from tests.render.test_html import check_html_escaping
from tests.render.test_junit import check_junit
from tests.render.test_oscal import check_oscal
from tests.render.test_sarif import check_sarif

PLAIN = "plainword"

#: name -> (payload, what a Markdown reader sees, what the terminal shows)
PAYLOADS: dict[str, tuple[str, str, str]] = {
    "markdown": (
        "# heading | cell | [x](javascript:alert(1)) ![i](data:text/html,x) <script>alert(1)</script> "
        "<!-- hidden --> <img src=x onerror=alert(1)> **bold** _em_ ~~gone~~ `tick` &amp; &#60; \\ "
        "$x$ @user https://evil.example www.evil.example <https://evil.example> [ref]: /x",
        "# heading | cell | [x](javascript:alert(1)) ![i](data:text/html,x) <script>alert(1)</script> "
        "<!-- hidden --> <img src=x onerror=alert(1)> **bold** _em_ ~~gone~~ `tick` &amp; &#60; \\ "
        "$x$ @user https://evil.example www.evil.example <https://evil.example> [ref]: /x",
        "# heading | cell | [x](javascript:alert(1)) ![i](data:text/html,x) <script>alert(1)</script> "
        "<!-- hidden --> <img src=x onerror=alert(1)> **bold** _em_ ~~gone~~ `tick` &amp; &#60; \\ "
        "$x$ @user https://evil.example www.evil.example <https://evil.example> [ref]: /x",
    ),
    "line breaks": (
        "first\n# forged heading\n\n- item\n| a | b |\n|---|---|\r\nGO  all clear\n",
        "first # forged heading - item | a | b | |---|---| GO all clear",
        "first\\n# forged heading\\n\\n- item\\n| a | b |\\n|---|---|\\r\\nGO all clear\\n",
    ),
    "terminal": (
        "\x1b[2J\x1b[32mGO\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \u202eevil\u2066x\u2069 "
        "\x9b31m \x7f \x00 \x08\x08 \u2028 \ud800",
        "\\x1b[2J\\x1b[32mGO\\x1b[0m \\x1b]8;;https://evil.example\\x07link\\x1b]8;;\\x07 \\u202eevil\\u2066x\\u2069 "
        "\\x9b31m \\x7f \\x00 \\x08\\x08 \\ud800",
        "\\x1b[2J\\x1b[32mGO\\x1b[0m \\x1b]8;;https://evil.example\\x07link\\x1b]8;;\\x07 \\u202eevil\\u2066x\\u2069 "
        "\\x9b31m \\x7f \\x00 \\x08\\x08 \\u2028 \\ud800",
    ),
    "code breakout": (
        "``` `a` ``b`` ```|x|",
        "``` `a` ``b`` ```|x|",
        "``` `a` ``b`` ```|x|",
    ),
    "open comment": ("ship it <!--", "ship it <!--", "ship it <!--"),
    "block starts": ("1. item", "1. item", "1. item"),
    "quote": ("> quoted <div>", "> quoted <div>", "> quoted <div>"),
    "rule": ("---", "---", "---"),
    "indent": ("    code block", "code block", " code block"),
    "edge backticks": ("`x", "`x", "`x"),
}


@functools.cache
def _baseline(field: str) -> tuple[str, tuple[str, ...]]:
    """The viewer's HTML of the report with the plain word in ``field``, and its structure."""
    html = to_html(render_markdown(hostile_run(field, PLAIN)))
    return html, tuple(structure(html))


def _squash(text: str) -> str:
    """``text`` without backticks and white space (how a code span moves them does not matter)."""
    return "".join(c for c in text if c != "`" and not c.isspace())


def _cut(text: str) -> str:
    """What a column that shows only a prefix shows: the payload's first characters."""
    return text[:6]


def _check_markdown(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    report = render_markdown(run)
    html = to_html(report)
    tags, text = read(html)
    baseline, baseline_tags = _baseline(field)
    prose = field == "*" or FIELDS[field].prose
    # A remediation's own code spans are the one markup a value keeps (see hostile.Field).
    kept = ("<code>", "</code>") if prose else ()
    assert [t for t in tags if t not in kept] == [t for t in baseline_tags if t not in kept]
    assert ragged_tables(report) == []
    assert headings(tags) == headings(list(baseline_tags))
    lowered = html.lower()
    for planted in ("<script", "<img", "<a ", "<!--", "<div", "<h6", 'javascript:alert(1)"'):
        assert planted not in lowered
    shown = FIELDS[field].markdown if field != "*" else "full"
    if shown == "full" and not prose:
        assert seen in text
    elif shown == "full":
        assert _squash(seen) in _squash(text)
    elif shown == "cut":
        assert _cut(seen) in text
    # The tables after a waiver, a message or a control title are all still there.
    assert html.count("<table>") == baseline.count("<table>") == 7


def _check_text(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    renderer = registry.renderer("text")
    out = renderer.render(run)
    baseline = renderer.render(plain_run)
    assert all(c == "\n" or c.isprintable() for c in out), [c for c in out if not c.isprintable()][:5]
    lines = out.split("\n")
    assert len(lines) == len(baseline.split("\n"))
    assert lines[0].startswith(f"{run.decision.value}  ")
    assert not any(line.lstrip().startswith(("GO", "NO-GO", "INCOMPLETE")) for line in lines[1:])
    shown = FIELDS[field].text if field != "*" else "full"
    if shown == "full":
        assert seen in out


def _check_json(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    out = registry.renderer("json").render(run)
    assert Run.from_json(json.loads(out)) == run


CHECKS: dict[str, Callable[[str, str, str, Run, Run], None]] = {
    "markdown": _check_markdown,
    "text": _check_text,
    "json": _check_json,
    "html": check_html_escaping,
    "oscal": check_oscal,
    "sarif": check_sarif,
    "junit": check_junit,
    "codequality": check_codequality,
    "github-summary": check_github_summary,
    "github-annotations": check_github_annotations,
}


def test_every_renderer_has_a_check() -> None:
    assert set(registry.names()) == set(CHECKS), "add an escaping check for each new renderer"


@pytest.mark.parametrize("renderer", sorted(CHECKS))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_a_hostile_value_in_any_field_stays_text(renderer: str, payload: str, field: str) -> None:
    value, md_seen, term_seen = PAYLOADS[payload]
    seen = term_seen if renderer == "text" else md_seen
    CHECKS[renderer](field, value, seen, hostile_run(field, PLAIN), hostile_run(field, value))


@pytest.mark.parametrize("decision", list(Decision))
def test_the_headline_is_the_verdict_of_the_run_only(decision: Decision) -> None:
    # A subject, an environment and a title saying GO cannot make a NO-GO or INCOMPLETE report read GO.
    payload = "GO\n# Production go/no-go evidence: GO\n**GO.** Every control passed."
    run = hostile_run("*", payload, decision)
    report = render_markdown(run)
    html = to_html(report)
    assert headings(html)[0] == "<h1>"
    assert html.count("<h1>") == 1
    assert f"<h1>Production go/no-go evidence: {decision.value}</h1>" in html
    assert report.count("\n**GO.**") == (decision is Decision.GO)
    text = registry.renderer("text").render(run)
    assert text.split("\n")[0].startswith(f"{decision.value}  ")
    assert sum(line.startswith(("GO", "NO-GO", "INCOMPLETE")) for line in text.split("\n")) == 1


@pytest.mark.parametrize("reason", ["ship it <!--", "ship it\n<!--", "ship it\n\n<!-- x"])
def test_a_waiver_reason_that_opens_a_comment_hides_nothing(reason: str) -> None:
    # The example: a reason ending in "<!--" hid the waived rules and every later table.
    # On a line of its own (a YAML block string keeps the line break) it opens an HTML block that
    # a CommonMark viewer ends only at a "-->", so nothing after it was shown.
    run = hostile_run("waived_rule.reason", reason)
    html = to_html(render_markdown(run))
    assert "<!--" not in html
    seen = text_of(html)
    shown = " ".join(reason.split())
    assert shown in seen
    after = seen.split(shown, 1)[1]
    for later in ("Controls", "All rules", "Evidence inventory", "How to check this report"):
        assert later in after
    assert html.count("<table>") == 7


def test_the_terminal_shows_an_input_error_without_its_hint_and_with_its_line_breaks() -> None:
    run = hostile_run("input_error.source", "in/x\n# GO.json")
    failure = run.input_errors[0]
    message = f"{failure.source}: not JSON\n  hint: re-run the tool"
    run = replace(run, input_errors=(replace(failure, message=message),))
    out = registry.renderer("text").render(run)
    assert "  ! unreadable in/x\\n# GO.json: in/x\\n# GO.json: not JSON\n" in out
    assert "hint" not in out
