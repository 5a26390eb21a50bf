"""The terminal summary of a run: the verdict, then one line per blocking rule with its fix.

This is what a CI log shows. Artefact text reaches it through rule messages, so every line is
cleaned of terminal control characters (an escape sequence in a scanner's finding must not be able
to rewrite the log a reviewer reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.model import Outcome

if TYPE_CHECKING:
    from affidavit.model import RuleReport, Run

_MARK = {Outcome.ERROR: "!", Outcome.FAIL: "x", Outcome.INSUFFICIENT_EVIDENCE: "?"}
_ORDER = {Outcome.ERROR: 0, Outcome.FAIL: 1, Outcome.INSUFFICIENT_EVIDENCE: 2}


def terminal_safe(text: str) -> str:
    """``text`` with control characters (escape sequences, carriage returns ...) made visible."""
    return "".join(
        c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text
    )


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
        what = run.subject.text or "(no subject given)"
        lines = [f"{run.decision.value}  {what}  environment={run.environment}  run={run.run_id}"]
        counts = ", ".join(f"{v} {k}" for k, v in run.rule_counts().items())
        lines.append(f"  {len(run.rules)} rules: {counts}; {len(run.inputs)} evidence file(s)")
        lines.extend(
            f"  ! unreadable {e.source}: {(e.message.splitlines() or [''])[0]}" for e in run.input_errors
        )
        blocking = sorted(
            (r for r in run.rules if r.outcome in _MARK), key=lambda r: (_ORDER[r.outcome], r.id)
        )
        for rule in blocking:
            lines.append(
                f"  {_MARK[rule.outcome]} {control_ids(run, rule)}  {rule.title}: {rule.first_message}"
            )
            lines.append(f"      fix: {rule.remediation}")
        for rule in (r for r in run.rules if r.outcome is Outcome.WARN):
            msg = (
                (rule.warnings or rule.violations)[0].msg
                if (rule.warnings or rule.violations)
                else rule.reason
            )
            lines.append(f"  ~ warning {rule.title}: {msg or ''}")
        return "\n".join(terminal_safe(line) for line in lines)
