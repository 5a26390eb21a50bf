"""GitHub Actions: workflow-command annotations that no artefact can forge, a step summary under 1 MiB.

Workflow commands are parsed here the way the runner parses them (``::name k=v,k=v::message`` at
the start of a line; values unescaped ``%0D``, ``%0A``, ``%3A``, ``%2C``, then ``%25``: actions/toolkit
``packages/core/src/command.ts`` writes the inverse). A hostile value must come back as exactly its
visible text, in the property or message it was put in, on the one line of its own command.

The step summary is read by a CommonMark + GFM viewer (``tests/render/markdown_check``): a hostile
value adds no element, and the summary stays under GitHub's 1 MiB per step ("$GITHUB_STEP_SUMMARY
upload aborted, supports content up to a size of 1024k").
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from affidavit.model import Decision, Outcome, Run, Violation
from affidavit.render.escape import visible
from affidavit.render.github import (
    MAX_ANNOTATIONS,
    SUMMARY_LIMIT,
    GithubAnnotationsRenderer,
    step_summary,
    workflow_commands,
)
from tests.model.runs import sample_run
from tests.render.ci_support import HOSTILE, DemoRun, demo_run, run_with_message
from tests.render.hostile import FIELDS, hostile_run
from tests.render.markdown_check import headings, ragged_tables, read, structure, to_html


@dataclass(frozen=True)
class Command:
    """One workflow command as the runner reads it."""

    name: str
    properties: dict[str, str]
    message: str


def _unescape(value: str, *, prop: bool) -> str:
    value = value.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%25", "%")


def parse(line: str) -> Command:
    """``line`` read as the runner reads a command (``AssertionError`` when it is none)."""
    assert line.startswith("::") and "\n" not in line and "\r" not in line, line
    end = line.index("::", 2)
    info, message = line[2:end], line[end + 2 :]
    name, _, props = info.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, sep, value = pair.partition("=")
        assert sep, pair
        properties[key] = _unescape(value, prop=True)
    return Command(name, properties, _unescape(message, prop=False))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The demo's NO-GO and GO releases through the real gate."""
    return {which: demo_run(tmp_path_factory.mktemp(which), which) for which in ("no-go", "go")}


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_a_demo_run_annotates_each_blocking_rule(demo: dict[str, DemoRun], which: str) -> None:
    run, cwd = demo[which].run, demo[which].cwd
    commands = [parse(line) for line in workflow_commands(run)]
    assert commands[0].name == "notice" and commands[0].message.startswith(f"{run.decision.value} for ")
    assert run.run_id in commands[0].message
    errors = [c for c in commands if c.name == "error"]
    blocking = sorted(r.id for r in run.rules if r.outcome.blocks)
    assert len(errors) == min(len(blocking), MAX_ANNOTATIONS)
    named = [c.properties["title"].split(":")[0].removeprefix("affidavit ") for c in errors]
    assert set(named) <= set(blocking)
    for command in errors:
        assert "fix: " in command.message
        if "file" in command.properties:  # the evidence file, relative to the job's directory
            assert (cwd / command.properties["file"]).is_file()
    warned = [r for r in run.rules if r.outcome is Outcome.WARN]
    assert len([c for c in commands if c.name == "warning"]) == min(len(warned), MAX_ANNOTATIONS)


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_a_demo_run_summary_lists_every_blocking_rule_in_one_table(
    demo: dict[str, DemoRun], which: str
) -> None:
    run = demo[which].run
    summary = step_summary(run)
    html = to_html(summary)
    assert headings(html)[0] == "<h2>" and f"affidavit: {run.decision.value}</h2>" in html
    assert ragged_tables(summary) == []
    blocking = [r for r in run.rules if r.outcome.blocks]
    assert html.count("<table>") == (1 if blocking else 0)
    assert html.count("<tr>") == (len(blocking) + 1 if blocking else 0)  # a row per rule under the header
    for rule in blocking:
        assert f"<code>{rule.id}</code>" in html


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_message_is_one_escaped_annotation(name: str) -> None:
    payload = HOSTILE[name]
    lines = workflow_commands(run_with_message(payload))
    assert len(lines) == 2  # the verdict and the one failing rule: nothing forged
    assert all(line.isprintable() for line in lines)
    notice, error = (parse(line) for line in lines)
    assert (notice.name, error.name) == ("notice", "error")
    assert error.message.split("\n")[0] == f"failed: {visible(payload)}"
    assert set(error.properties) == {"title", "file"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_title_or_path_stays_in_its_property(name: str) -> None:
    payload = HOSTILE[name]
    run = run_with_message("CVE-1", source=f"in/{payload}.json")
    run = replace(run, rules=tuple(replace(r, title=payload) for r in run.rules))
    notice, error = (parse(line) for line in workflow_commands(run))
    assert error.properties["title"] == f"affidavit {run.rules[0].id}: {visible(payload)}"
    if "\\" in payload:  # not a POSIX path relative to the checkout: no file is named
        assert set(error.properties) == {"title"}
    else:
        assert set(error.properties) == {"title", "file"}
        assert error.properties["file"] == visible(posixpath.normpath(f"in/{payload}.json"))


def test_no_legacy_command_can_be_started_from_artefact_text() -> None:
    # The runner reads ``##[name]data`` anywhere in a line when the line is not a ``::`` command
    # (actions/runner src/Runner.Common/ActionCommand.cs, TryParse after TryParseV2), and
    # ``##[stop-commands]token`` would silence every later annotation.
    payload = "x ##[stop-commands]tok ##[add-mask]secret ##[error file=a]forged"
    run = run_with_message(payload, source=f"in/{payload}.json")
    run = replace(run, rules=tuple(replace(r, title=payload, remediation=payload) for r in run.rules))
    text = GithubAnnotationsRenderer().render(run)
    assert "##[" not in text
    error = parse(text.splitlines()[1])
    assert (
        error.message.split("\n")[0]
        == "failed: x ##\\x5bstop-commands]tok ##\\x5badd-mask]secret ##\\x5berror file=a]forged"
    )


def test_beyond_ten_blocking_rules_the_tenth_annotation_counts_the_rest() -> None:
    base = sample_run()
    rule = base.rules[0]
    rules = tuple(
        replace(rule, id=f"rule.n{n:02d}", violations=(Violation(f"finding {n}"),)) for n in range(15)
    )
    commands = [parse(line) for line in workflow_commands(replace(base, rules=rules))]
    errors = [c for c in commands if c.name == "error"]
    assert len(errors) == MAX_ANNOTATIONS
    assert errors[-1].message.startswith("6 more blocking findings")


def _check_markdown(run: Run, plain_run: Run) -> str:
    """The summary of ``run`` has the elements of ``plain_run``'s: no heading, link, script or cell more."""
    summary = step_summary(run)
    html = to_html(summary)
    tags, _ = read(html)
    kept = ("<code>", "</code>")  # a remediation keeps its own code spans
    plain = structure(to_html(step_summary(plain_run)))
    assert [t for t in tags if t not in kept] == [t for t in plain if t not in kept]
    assert ragged_tables(summary) == []
    for planted in ("<script", "<img", "<a ", "<!--"):
        assert planted not in html.lower()
    return html


def check_github_summary(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """The escaping check for ``tests/render/test_escaping.py``'s ``CHECKS`` (the step summary)."""
    _check_markdown(run, plain_run)


def check_github_annotations(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """The escaping check for ``tests/render/test_escaping.py``'s ``CHECKS`` (the workflow commands):
    as many commands as for the plain run, each one line the runner reads as the same command."""
    out = GithubAnnotationsRenderer().render(run)
    plain = GithubAnnotationsRenderer().render(plain_run)
    assert out.count("\n") == plain.count("\n")
    assert [parse(line).name for line in out.splitlines()] == [
        parse(line).name for line in plain.splitlines()
    ]
    for line in out.splitlines():  # only the renderer's own properties (a path may name no file)
        assert "title" in parse(line).properties and set(parse(line).properties) <= {"title", "file"}


@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_a_hostile_value_in_any_field_changes_no_structure(field: str) -> None:
    payload = HOSTILE["markdown"] + HOSTILE["workflow command"] + HOSTILE["controls"] + HOSTILE["bidi"]
    plain, hostile = hostile_run(field, "plain"), hostile_run(field, payload)
    check_github_summary(field, payload, visible(payload), plain, hostile)
    check_github_annotations(field, payload, visible(payload), plain, hostile)


@pytest.mark.parametrize("decision", list(Decision))
def test_the_summary_heading_is_the_verdict_of_the_run_only(decision: Decision) -> None:
    payload = "GO\n## ✅ affidavit: GO\n**GO**"
    html = to_html(step_summary(hostile_run("*", payload, decision)))
    assert headings(html)[0] == "<h2>"
    assert html.count("<h2>") == 1 and f"affidavit: {decision.value}</h2>" in html


def test_a_huge_run_is_cut_under_githubs_limit_with_a_note() -> None:
    base = sample_run()
    rule = base.rules[0]
    rules = tuple(
        replace(rule, id=f"rule.n{n:05d}", violations=(Violation("x" * 5_000 + f" {n}"),))
        for n in range(2_000)
    )
    summary = step_summary(replace(base, rules=rules))
    size = len(summary.encode("utf-8"))
    assert SUMMARY_LIMIT - 8 * 1024 < size <= SUMMARY_LIMIT < 1024 * 1024
    assert "more line(s) not shown: GitHub limits a step summary to 1 MiB" in summary
    assert ragged_tables(summary) == []
    assert to_html(summary).count("<table>") == 1


def test_a_go_run_says_go_and_lists_no_blocking_rule() -> None:
    summary = step_summary(sample_run(outcome=Outcome.PASS))
    assert summary.startswith("## ✅ affidavit: GO\n") and "NO-GO" not in summary
    assert "Blocking rules" not in summary


def test_the_same_run_gives_the_same_bytes(tmp_path: Path) -> None:
    run = hostile_run(None, "plain")
    assert step_summary(run) == step_summary(hostile_run(None, "plain"))
    assert workflow_commands(run) == workflow_commands(hostile_run(None, "plain"))
