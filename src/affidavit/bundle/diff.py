"""What changed between two gate runs: the reviewer's "what is different since the last release".

Both bundles are verified against their manifests first (a changed bundle is not compared), then
their ``results.json`` documents are compared: the decision, each rule's outcome, the messages a
rule gives (new ones and ones that went away), each control's status, and the evidence (kinds,
tools and their versions, subjects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.render.escape import terminal

if TYPE_CHECKING:
    from affidavit.model import InputRef, RuleReport, Run


@dataclass(slots=True)
class RunDiff:
    """The differences between an older and a newer run."""

    old_run: str
    new_run: str
    decision: tuple[str, str]
    rules: list[dict[str, Any]] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "old_run": self.old_run,
            "new_run": self.new_run,
            "decision": {"old": self.decision[0], "new": self.decision[1]},
            "rules": self.rules,
            "controls": self.controls,
            "evidence": self.evidence,
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
        return "\n".join(lines)


def diff_runs(old: Run, new: Run) -> RunDiff:
    """Compare two runs (older first)."""
    out = RunDiff(old_run=old.run_id, new_run=new.run_id, decision=(old.decision.value, new.decision.value))
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(rule_id), new_rules.get(rule_id)
        msgs_a, msgs_b = _messages(a), _messages(b)
        outcome_a = a.outcome.value if a is not None else None
        outcome_b = b.outcome.value if b is not None else None
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
