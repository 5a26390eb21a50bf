"""The terminal summary of a run: the verdict, then one line per blocking rule with its fix.

It ends with what the verdict covers: how many controls need people (a ``partial`` control's rules
test part of it, a ``manual`` one has no rule), and per framework each tested control with its
status beside its coverage, so a GO never reads as "the controls are met". Every waived rule is
named, with the waiver that stands over it.

This is what a CI log shows. Every value on a line passes through ``escape.terminal``: a control
character, an escape sequence or a line break inside a scanner's finding, a file name or a
waiver is spelled out (``\\x1b[2J``, ``\\n``), so it can neither rewrite the log a reviewer reads
nor start a line of its own (a forged ``GO``). Only the renderer's own words are written as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.model import Outcome
from affidavit.render.escape import terminal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.model import ControlStatus, RuleReport, Run

_MARK = {Outcome.ERROR: "!", Outcome.FAIL: "x", Outcome.INSUFFICIENT_EVIDENCE: "?"}
_ORDER = {Outcome.ERROR: 0, Outcome.FAIL: 1, Outcome.INSUFFICIENT_EVIDENCE: 2}


def _without_hint(message: str) -> str:
    """An input error's message without the hint ``Error.diagnostics`` puts on its next line.

    Any other line break (a file name may hold one) stays in the message, to be spelled out.
    """
    return message.split("\n  hint: ", 1)[0]


def control_ids(run: Run, rule: RuleReport) -> str:
    """The controls a rule tests, one group per framework in display order: ``CC8.1 / A.8.32``."""
    groups = []
    for matrix in run.matrices:
        ids = rule.controls.get(matrix.framework)
        if ids:
            groups.append(",".join(ids))
    return " / ".join(groups)


class TextRenderer:
    """The summary printed by ``affidavit gate``."""

    name = "text"
    filename = None

    def render(self, run: Run) -> str:
        """The summary lines (the caller adds where the bundle was written)."""
        t = terminal
        what = t(run.subject.text) if run.subject.text else "(no subject given)"
        lines = [f"{run.decision.value}  {what}  environment={t(run.environment)}  run={t(run.run_id)}"]
        if run.replay:
            lines.append(
                f"  REPLAY at {t(run.time)}: a past moment re-evaluated, not a live promotion decision"
            )
        counts = ", ".join(f"{v} {k}" for k, v in run.rule_counts().items())
        lines.append(f"  {len(run.rules)} rules: {counts}; {len(run.inputs)} evidence file(s)")
        lines.extend(f"  ! unreadable {t(e.source)}: {t(_without_hint(e.message))}" for e in run.input_errors)
        blocking = sorted(
            (r for r in run.rules if r.outcome in _MARK), key=lambda r: (_ORDER[r.outcome], r.id)
        )
        for rule in blocking:
            lines.append(
                f"  {_MARK[rule.outcome]} {t(control_ids(run, rule))}  {t(rule.title)}: {t(rule.first_message)}"
            )
            lines.append(f"      fix: {t(rule.remediation)}")
        for rule in run.rules:
            if rule.outcome is Outcome.WAIVED and not rule.waived:
                lines.append(f"  ~ waived {t(rule.id)}: {_waiver_text(rule)}")
            for applied in rule.waived:
                w = applied.waiver
                hid = f"{len(applied.findings)} finding(s)" + (
                    " and absent evidence" if applied.absent_evidence else ""
                )
                approver = f", approved by {t(w.approver)}" if w.approver else ""
                lines.append(
                    f"  ~ waived {t(rule.id)}: {hid} hidden by {t(w.owner)}{approver} until "
                    f"{t(w.expires_text)}: {t(w.reason)}"
                )
        if run.rule_data_changes:
            lines.append(
                f"  ~ rule data differs from the built-in defaults in {len(run.rule_data_changes)} key(s): "
                + t(", ".join(c.key for c in run.rule_data_changes))
            )
        by_action: dict[str, int] = {}
        for item in run.not_read:
            by_action[item.action] = by_action.get(item.action, 0) + 1
        if by_action:
            lines.append(
                "  ~ files not read as evidence: "
                + ", ".join(f"{n} {action}" for action, n in sorted(by_action.items()))
                + " (listed in the report)"
            )
        for rule in (r for r in run.rules if r.outcome is Outcome.WARN):
            msg = (
                (rule.warnings or rule.violations)[0].msg
                if (rule.warnings or rule.violations)
                else rule.reason
            )
            lines.append(f"  ~ warning {t(rule.title)}: {t(msg or '')}")
        lines.extend(_control_lines(run))
        return "\n".join(lines)


def _waiver_text(rule: RuleReport) -> str:
    """Who waived a rule whose result records no applied waiver, until when and why."""
    w = rule.waiver
    if w is None:
        return "the results record no waiver for it"
    approver = f", approved by {terminal(w.approver)}" if w.approver else ""
    return f"waived by {terminal(w.owner)}{approver} until {terminal(w.expires_text)}: {terminal(w.reason)}"


def _control_lines(run: Run) -> list[str]:
    """What the verdict covers: the controls that need people, then per framework each tested
    control's status beside its coverage (worst status first)."""
    every = [s for statuses in run.controls.values() for s in statuses]
    partial = sum(1 for s in every if s.coverage == "partial")
    manual = sum(1 for s in every if s.coverage == "manual")
    lines = [
        f"  controls: {partial + manual} need people ({partial} tested only in part, {manual} with no rule); "
        "the verdict covers what the rules test, not whole controls"
    ]
    for matrix in run.matrices:
        statuses = run.controls.get(matrix.framework, ())
        tested = [s for s in statuses if s.rule_ids]
        complete = sum(1 for s in tested if s.coverage == "automated")
        lines.append(
            f"    {terminal(matrix.display)}: {len(tested)} of {len(statuses)} tested by rules "
            f"({complete} completely, {len(tested) - complete} in part), "
            f"{_count(statuses, 'manual')} with no rule, {_count(statuses, 'not_covered')} not covered"
        )
        groups: dict[tuple[int, str, str], list[str]] = {}
        for s in tested:
            word = s.outcome.value if s.outcome is not None else "no status"
            rank = -s.outcome.rank if s.outcome is not None else 0
            groups.setdefault((rank, word, s.coverage.replace("_", " ")), []).append(terminal(s.control_id))
        for (_, word, coverage), ids in sorted(groups.items()):
            lines.append(f"      {word}, {terminal(coverage)}: {', '.join(ids)}")
    return lines


def _count(statuses: Sequence[ControlStatus], coverage: str) -> int:
    """How many of ``statuses`` have this coverage."""
    return sum(1 for s in statuses if s.coverage == coverage)
