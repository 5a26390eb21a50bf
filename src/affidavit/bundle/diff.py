"""What changed between two gate runs: the reviewer's "what is different since the last release".

Both bundles are verified against their manifests first (a changed bundle is not compared), then
their ``results.json`` documents are compared: the decision, each rule's outcome, the messages a
rule gives (new ones and ones that went away), each control's status, and the evidence (kinds,
tools and their versions, subjects).

**Regressions** (``affidavit diff`` exits 1 when there is one, so a pipeline can gate on them):

* the decision got worse: ``GO`` < ``NO-GO`` < ``INCOMPLETE`` (a run that could not judge
  everything is never better than one that judged and blocked);
* a rule's outcome got worse, in this order (better first): ``pass``; ``not_applicable`` and
  ``waived`` (nothing checked, or a finding accepted: not a pass); ``warn``;
  ``insufficient_evidence``; ``fail``; ``error``. This is not ``Outcome.rank`` (the worst-of order
  of a control), where ``not_applicable`` is below ``pass``;
* a rule of the old run is not in the new one (a check that is no longer made);
* a rule new in the new run warns or blocks (compared with ``not_applicable``: nothing checked).

New messages under an unchanged outcome are listed but are not a regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.model import Decision, Outcome
from affidavit.render.escape import terminal

if TYPE_CHECKING:
    from affidavit.model import InputRef, RuleReport, Run

#: Better to worse for ``diff`` (see the module docstring).
OUTCOME_ORDER = {
    Outcome.PASS: 0,
    Outcome.NOT_APPLICABLE: 1,
    Outcome.WAIVED: 1,
    Outcome.WARN: 2,
    Outcome.INSUFFICIENT_EVIDENCE: 3,
    Outcome.FAIL: 4,
    Outcome.ERROR: 5,
}
DECISION_ORDER = {Decision.GO: 0, Decision.NO_GO: 1, Decision.INCOMPLETE: 2}


@dataclass(slots=True)
class RunDiff:
    """The differences between an older and a newer run."""

    old_run: str
    new_run: str
    decision: tuple[str, str]
    rules: list[dict[str, Any]] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form (``regressed``: whether ``diff`` exits 1)."""
        return {
            "old_run": self.old_run,
            "new_run": self.new_run,
            "decision": {"old": self.decision[0], "new": self.decision[1]},
            "rules": self.rules,
            "controls": self.controls,
            "evidence": self.evidence,
            "regressed": bool(self.regressions),
            "regressions": self.regressions,
        }

    def to_text(self) -> str:
        """A reviewer's summary, one line per change."""
        old, new = self.decision
        lines = [
            f"{self.old_run} -> {self.new_run}: decision {old} -> {new}"
            if old != new
            else f"{self.old_run} -> {self.new_run}: decision {new} (unchanged)"
        ]
        if self.rules:
            lines.append("rules:")
            for r in self.rules:
                lines.append(f"  {terminal(r['id'])}: {r['old'] or 'absent'} -> {r['new'] or 'absent'}")
                lines.extend(f"    + {terminal(m)}" for m in r["added"])
                lines.extend(f"    - {terminal(m)}" for m in r["removed"])
        if self.controls:
            lines.append("controls:")
            lines.extend(
                f"  {terminal(c['framework'])} {terminal(c['id'])} {terminal(c['title'])}: "
                f"{c['old'] or '-'} -> {c['new'] or '-'}"
                for c in self.controls
            )
        if self.evidence:
            lines.append("evidence:")
            lines.extend(
                f"  {e['change']} {terminal(e['kind'])} {terminal(e['what'])}" for e in self.evidence
            )
        if len(lines) == 1:
            lines.append("no rule, control or evidence changed")
        if self.regressions:
            lines.append("worse:")
            lines.extend(f"  {terminal(r)}" for r in self.regressions)
        else:
            lines.append("nothing got worse")
        return "\n".join(lines)


def diff_runs(old: Run, new: Run) -> RunDiff:
    """Compare two runs (older first)."""
    out = RunDiff(old_run=old.run_id, new_run=new.run_id, decision=(old.decision.value, new.decision.value))
    if DECISION_ORDER[new.decision] > DECISION_ORDER[old.decision]:
        out.regressions.append(f"decision {old.decision.value} -> {new.decision.value}")
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(rule_id), new_rules.get(rule_id)
        msgs_a, msgs_b = _messages(a), _messages(b)
        outcome_a = a.outcome.value if a is not None else None
        outcome_b = b.outcome.value if b is not None else None
        worse = _worse(a, b)
        if worse:
            out.regressions.append(f"{rule_id}: {worse}")
        if outcome_a != outcome_b or msgs_a != msgs_b:
            out.rules.append(
                {
                    "id": rule_id,
                    "old": outcome_a,
                    "new": outcome_b,
                    "added": sorted(msgs_b - msgs_a),
                    "removed": sorted(msgs_a - msgs_b),
                }
            )
    for framework in sorted(old.controls.keys() | new.controls.keys()):
        before = {c.control_id: c.outcome for c in old.controls.get(framework, ())}
        for control in new.controls.get(framework, ()):
            previous = before.get(control.control_id)
            if previous != control.outcome:
                out.controls.append(
                    {
                        "framework": framework,
                        "id": control.control_id,
                        "title": control.title,
                        "old": None if previous is None else previous.value,
                        "new": None if control.outcome is None else control.outcome.value,
                    }
                )
    old_inputs = {_evidence_key(e): e for e in old.inputs}
    new_inputs = {_evidence_key(e): e for e in new.inputs}
    for key in sorted(old_inputs.keys() - new_inputs.keys()):
        out.evidence.append({"change": "-", "kind": key[0], "what": _describe(old_inputs[key])})
    for key in sorted(new_inputs.keys() - old_inputs.keys()):
        out.evidence.append({"change": "+", "kind": key[0], "what": _describe(new_inputs[key])})
    return out


def _worse(old: RuleReport | None, new: RuleReport | None) -> str | None:
    """How a rule got worse from ``old`` to ``new`` (see the module docstring), or ``None``."""
    if old is not None and new is None:
        return f"{old.outcome.value} -> absent (the rule is no longer checked)"
    if new is None:
        return None
    before = OUTCOME_ORDER[old.outcome] if old is not None else OUTCOME_ORDER[Outcome.NOT_APPLICABLE]
    if OUTCOME_ORDER[new.outcome] > before:
        return f"{old.outcome.value if old is not None else 'absent'} -> {new.outcome.value}"
    return None


def _messages(rule: RuleReport | None) -> set[str]:
    if rule is None:
        return set()
    return {v.msg for group in (rule.violations, rule.missing, rule.warnings) for v in group}


def _evidence_key(e: InputRef) -> tuple[str, str, str, str]:
    tool = f"{e.tool.name} {e.tool.version or ''}".strip() if e.tool else "-"
    return (e.kind, tool, e.subject_digest or e.subject_name or "-", e.format)


def _describe(e: InputRef) -> str:
    about = e.subject_digest or " ".join(x for x in (e.subject_name, e.subject_version) if x) or "-"
    by = f"{e.tool.name} {e.tool.version or ''}".strip() if e.tool else e.format
    return f"{e.format} by {by} about {about} ({e.source})"
