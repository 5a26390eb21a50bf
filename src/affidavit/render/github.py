"""GitHub Actions: the job's step summary (Markdown) and workflow-command annotations.

Both are for CI only (``filename`` ``None``), never in bundles. The gate, when ``GITHUB_STEP_SUMMARY``
is set, appends ``step_summary(run)`` to that file, and when ``GITHUB_ACTIONS`` is set, prints the
lines of ``workflow_commands(run)`` on standard output. As renderers they are ``github-summary``
and ``github-annotations`` (``--output github-summary=PATH``, ``--format github-annotations``).

**Step summary.** The verdict as the heading, the subject, environment and run id, the rule
counts, then a table of the blocking rules (outcome, rule, controls, first finding, fix), the
warnings, the waivers and the artefacts that could not be read. GitHub refuses a step summary
over 1 MiB ("$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k"), so the
summary is kept under ``SUMMARY_LIMIT`` bytes of UTF-8: every cell is cut to ``MAX_CELL``
characters, and when the rows would not fit, the last rows are left out and a line says how many
and where the full report is. Every value is escaped with ``affidavit.render.escape`` (``md_text``,
``md_code``, ``md_prose`` with ``table=True`` in cells), as in ``PRODUCTION_GO_EVIDENCE.md``.

**Annotations.** ``::notice`` with the verdict, one ``::error`` per blocking rule (error, then
fail, then insufficient evidence, by id) and one ``::warning`` per ``warn`` rule, each titled with
the rule's title and, when its evidence file has a path relative to the working directory,
``file=`` that path. GitHub shows at most 10 annotations of each kind per step (actions/toolkit
docs/problem-matchers.md, "Limitations"), so beyond 10 the tenth says how many more there are.
Escaping follows actions/toolkit ``packages/core/src/command.ts``: in the message ``%``, ``\\r``
and ``\\n`` become ``%25``, ``%0D``, ``%0A``; in a property also ``:`` and ``,`` (``%3A``, ``%2C``),
so a value can neither end the property list (``::``) nor start a command line of its own.
Artefact text is first made visible (``escape.visible``), so no escape sequence reaches the log,
and ``##[`` is spelled ``##\\x5b``: the runner also reads the legacy ``##[name]`` form anywhere in
a line (``log_text``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.model import Decision, Outcome
from affidavit.render.escape import Md, md_code, md_join, md_prose, md_text, visible
from affidavit.render.findings import controls_text, cut, relative_path, sources

if TYPE_CHECKING:
    from affidavit.model import RuleReport, Run

#: GitHub's limit on one step's summary is 1 MiB; the summary stays this far under it.
SUMMARY_LIMIT = 1024 * 1024 - 4 * 1024
MAX_CELL = 1_000
MAX_ANNOTATIONS = 10
MAX_ANNOTATION_TEXT = 4_000
_ORDER = {Outcome.ERROR: 0, Outcome.FAIL: 1, Outcome.INSUFFICIENT_EVIDENCE: 2}
_WORD = {
    Outcome.ERROR: "could not be evaluated",
    Outcome.FAIL: "failed",
    Outcome.INSUFFICIENT_EVIDENCE: "insufficient evidence",
}
_ICON = {Decision.GO: "✅", Decision.NO_GO: "❌", Decision.INCOMPLETE: "💥"}


class GithubSummaryRenderer:
    """The GitHub Actions step summary of a run."""

    name = "github-summary"
    filename = None

    def render(self, run: Run) -> str:
        """The Markdown to append to ``$GITHUB_STEP_SUMMARY``."""
        return step_summary(run)


class GithubAnnotationsRenderer:
    """The GitHub Actions workflow commands (annotations) of a run, one per line."""

    name = "github-annotations"
    filename = None

    def render(self, run: Run) -> str:
        """The lines of ``workflow_commands(run)``."""
        return "\n".join(workflow_commands(run)) + "\n"


# ---------------------------------------------------------------------------------------------
# Workflow commands


def log_text(value: object) -> str:
    """Artefact text for a line of the job log: visible, and unable to start a legacy command.

    Besides ``::name::`` at the start of a line, the runner still reads the legacy form
    ``##[name]data`` anywhere in a line (actions/runner ``ActionCommand.TryParse``, tried when
    ``TryParseV2`` fails): ``##[stop-commands]token`` would silence every later annotation and
    ``##[add-mask]`` hide text. Its ``[`` is therefore spelled ``\\x5b`` after two ``#``.
    """
    return visible(str(value)).replace("##[", "##\\x5b")


def command_data(value: str) -> str:
    """A workflow command's message: ``%``, CR and LF percent-encoded (actions/toolkit ``escapeData``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: str) -> str:
    """A workflow command property value: as ``command_data``, and ``:`` and ``,`` encoded too."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **properties: str | None) -> str:
    """One workflow command line; properties without a value are left out."""
    props = ",".join(f"{key}={command_property(value)}" for key, value in properties.items() if value)
    head = f"::{kind} {props}" if props else f"::{kind}"
    return f"{head}::{command_data(message)}"


def _file_of(run: Run, rule: RuleReport) -> str | None:
    """The first evidence file of a rule with a path relative to the working directory, if any."""
    known = sources(run)
    ids = [i for v in (*rule.violations, *rule.warnings) for i in v.evidence_ids] + list(rule.evidence_ids)
    for evidence_id in ids:
        path = known.get(evidence_id)
        relative = relative_path(path) if path else None
        if relative is not None and relative != ".":
            return log_text(relative)
    return None


def _annotation(run: Run, rule: RuleReport, kind: str, word: str, message: str) -> str:
    """The annotation of one rule: what happened, the controls and the fix, titled with the rule."""
    t = log_text
    controls = controls_text(run, rule)
    lines = [f"{word}: {t(cut(message, MAX_ANNOTATION_TEXT))}"]
    if controls:
        lines.append(f"controls: {t(controls)}")
    lines.append(f"fix: {t(cut(rule.remediation, MAX_ANNOTATION_TEXT))}")
    title = f"affidavit {t(rule.id)}: {t(cut(rule.title, 200))}"
    return _command(kind, "\n".join(lines), title=title, file=_file_of(run, rule))


def _capped(kind: str, lines: list[str], what: str) -> list[str]:
    """``lines`` within GitHub's 10 per kind and step; the tenth then counts the ones left out."""
    if len(lines) <= MAX_ANNOTATIONS:
        return lines
    more = len(lines) - (MAX_ANNOTATIONS - 1)
    return [
        *lines[: MAX_ANNOTATIONS - 1],
        _command(kind, f"{more} more {what}: see the step summary or the report", title="affidavit"),
    ]


def workflow_commands(run: Run) -> tuple[str, ...]:
    """The ``::notice``/``::error``/``::warning`` lines for ``run`` (see the module docstring)."""
    t = log_text
    what = t(run.subject.text) if run.subject.text else "(no subject given)"
    notice = _command(
        "notice",
        f"{run.decision.value} for {what} in {t(run.environment)} (run {t(run.run_id)}); "
        + ", ".join(f"{n} {k}" for k, n in run.rule_counts().items()),
        title=f"affidavit {run.decision.value}",
    )
    blocking = sorted((r for r in run.rules if r.outcome in _ORDER), key=lambda r: (_ORDER[r.outcome], r.id))
    errors = [_annotation(run, r, "error", _WORD[r.outcome], r.first_message) for r in blocking]
    errors += [
        _command(
            "error", f"unreadable evidence: {t(failure.message.split(chr(10), 1)[0])}", title="affidavit"
        )
        for failure in run.input_errors
    ]
    warnings = []
    for rule in run.rules:
        if rule.outcome is Outcome.WARN:
            found = [v.msg for v in (*rule.warnings, *rule.violations)]
            warnings.append(
                _annotation(run, rule, "warning", "warning", found[0] if found else rule.reason or "")
            )
    return (
        notice,
        *_capped("error", errors, "blocking findings"),
        *_capped("warning", warnings, "warnings"),
    )


# ---------------------------------------------------------------------------------------------
# Step summary


def _cell(value: object) -> Md:
    """A table cell of artefact text: cut to ``MAX_CELL`` characters and escaped."""
    return md_text(cut(str(value), MAX_CELL))


def _row(run: Run, rule: RuleReport) -> str:
    """The blocking-rules table row of one rule."""
    messages = [v.msg for v in (*rule.violations, *rule.missing)] or [rule.first_message]
    first = cut(messages[0], MAX_CELL)
    more = f" (+{len(messages) - 1} more)" if len(messages) > 1 else ""
    cells = [
        Md(_WORD[rule.outcome]),
        Md(f"{md_code(cut(rule.id, 200), table=True)} {_cell(rule.title)}"),
        _cell(controls_text(run, rule) or "-"),
        Md(f"{md_text(first)}{more}"),
        md_prose(cut(rule.remediation, MAX_CELL), table=True),
    ]
    return "| " + " | ".join(cells) + " |"


def step_summary(run: Run) -> str:
    """The step-summary Markdown of ``run``, under ``SUMMARY_LIMIT`` bytes (see the module docstring)."""
    decision = run.decision
    subject = md_code(run.subject.text) if run.subject.text else Md("(no subject given)")
    head = [
        f"## {_ICON[decision]} affidavit: {decision.value}",
        "",
        f"{subject} to {_cell(run.environment)}, run {md_code(run.run_id)}, evaluated at {md_code(run.time)}",
        "",
    ]
    if run.replay:
        head += ["> **Replay**: a past moment re-evaluated, not a live promotion decision.", ""]
    counts = ", ".join(f"{n} {k}" for k, n in run.rule_counts().items())
    frameworks = md_join([m.display for m in run.matrices])
    head += [
        f"{len(run.rules)} rules ({counts}); {len(run.inputs)} evidence file(s); frameworks: {frameworks}",
        "",
    ]

    rows: list[str] = []
    blocking = sorted((r for r in run.rules if r.outcome in _ORDER), key=lambda r: (_ORDER[r.outcome], r.id))
    if blocking:
        rows += [
            "### Blocking rules",
            "",
            "| Outcome | Rule | Controls | Finding | Fix |",
            "|---|---|---|---|---|",
        ]
        rows += [_row(run, rule) for rule in blocking]
        rows.append("")
    warned = [r for r in run.rules if r.outcome is Outcome.WARN]
    if warned:
        rows += ["### Warnings", ""]
        for rule in warned:
            found = [v.msg for v in (*rule.warnings, *rule.violations)] or [rule.reason or "warning"]
            rows.append(f"- {md_code(cut(rule.id, 200))} {_cell(found[0])}")
        rows.append("")
    waived = [(rule, applied) for rule in run.rules for applied in rule.waived]
    if waived:
        rows += ["### Waived", ""]
        for rule, applied in waived:
            w = applied.waiver
            rows.append(
                f"- {md_code(cut(rule.id, 200))}: {len(applied.findings)} finding(s) hidden by {_cell(w.owner)}"
                f" until {_cell(w.expires_text)}: {_cell(w.reason)}"
            )
        rows.append("")
    if run.input_errors:
        rows += ["### Evidence that could not be read", ""]
        rows += [f"- {_cell(failure.message.split(chr(10), 1)[0])}" for failure in run.input_errors]
        rows.append("")

    text = "\n".join(head) + "\n"
    used = len(text.encode())
    for n, row in enumerate(rows):
        size = len(row.encode()) + 1
        if used + size > SUMMARY_LIMIT - 512:
            left = len(rows) - n
            text += (
                f"\n_{left} more line(s) not shown: GitHub limits a step summary to 1 MiB. "
                "The bundle's report and results.json hold everything._\n"
            )
            break
        text += row + "\n"
        used += size
    return text
