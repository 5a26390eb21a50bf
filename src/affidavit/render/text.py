"""The terminal summary of a run: the verdict, then one line per blocking rule with its fix.

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
    from affidavit.model import RuleReport, Run

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
        return "\n".join(lines)
