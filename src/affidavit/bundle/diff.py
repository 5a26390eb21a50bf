"""What changed between two gate runs: the reviewer's "what is different since the last release".

Both bundles are verified against their manifests first (a changed bundle is not compared), then
their ``results.json`` documents are compared: the decision, each rule's outcome, the messages a
rule gives (new ones and ones that went away), each control's status, and the evidence (kinds,
tools and their versions, subjects).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affidavit.bundle.write import read_bundle_files, verify_bundle
from affidavit.errors import BundleError


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
                lines.append(f"  {r['id']}: {r['old'] or 'absent'} -> {r['new'] or 'absent'}")
                lines.extend(f"    + {m}" for m in r["added"])
                lines.extend(f"    - {m}" for m in r["removed"])
        if self.controls:
            lines.append("controls:")
            lines.extend(
                f"  {c['framework']} {c['id']} {c['title']}: {c['old'] or '-'} -> {c['new'] or '-'}"
                for c in self.controls
            )
        if self.evidence:
            lines.append("evidence:")
            lines.extend(f"  {e['change']} {e['kind']} {e['what']}" for e in self.evidence)
        if len(lines) == 1:
            lines.append("no rule, control or evidence changed")
        return "\n".join(lines)


def load_results(path: Path) -> dict[str, Any]:
    """The results.json of a bundle folder or archive, after checking its manifest."""
    report = verify_bundle(path)
    if not report.ok:
        raise BundleError(
            f"{path}: does not match its manifest ({report.problems[0]})",
            hint="compare only bundles that `affidavit verify` accepts",
        )
    raw = read_bundle_files(path).get("results.json")
    if raw is None:  # pragma: no cover - verify_bundle reports a listed but missing file
        raise BundleError(f"{path}: no results.json")
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> RunDiff:
    """Compare two results documents (older first)."""
    out = RunDiff(
        old_run=str(old["run_id"]), new_run=str(new["run_id"]), decision=(old["decision"], new["decision"])
    )
    old_rules = {r["id"]: r for r in old["rules"]}
    new_rules = {r["id"]: r for r in new["rules"]}
    for rule_id in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(rule_id), new_rules.get(rule_id)
        msgs_a, msgs_b = _messages(a), _messages(b)
        outcome_a, outcome_b = (a or {}).get("outcome"), (b or {}).get("outcome")
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
    for framework in sorted(old["controls"].keys() | new["controls"].keys()):
        before = {c["id"]: c for c in old["controls"].get(framework, [])}
        for control in new["controls"].get(framework, []):
            previous = before.get(control["id"], {}).get("outcome")
            if previous != control["outcome"]:
                out.controls.append(
                    {
                        "framework": framework,
                        "id": control["id"],
                        "title": control["title"],
                        "old": previous,
                        "new": control["outcome"],
                    }
                )
    old_inputs = {_evidence_key(e): e for e in old["inputs"]}
    new_inputs = {_evidence_key(e): e for e in new["inputs"]}
    for key in sorted(old_inputs.keys() - new_inputs.keys()):
        out.evidence.append({"change": "-", "kind": key[0], "what": _describe(old_inputs[key])})
    for key in sorted(new_inputs.keys() - old_inputs.keys()):
        out.evidence.append({"change": "+", "kind": key[0], "what": _describe(new_inputs[key])})
    return out


def _messages(rule: Mapping[str, Any] | None) -> set[str]:
    if rule is None:
        return set()
    return {v["msg"] for group in ("violations", "missing", "warnings") for v in rule.get(group, [])}


def _evidence_key(e: Mapping[str, Any]) -> tuple[str, str, str, str]:
    tool = e.get("tool") or {}
    subject = e.get("subject") or {}
    return (
        str(e["kind"]),
        f"{tool.get('name') or '-'} {tool.get('version') or ''}".strip(),
        str(subject.get("digest") or subject.get("name") or "-"),
        str(e.get("format")),
    )


def _describe(e: Mapping[str, Any]) -> str:
    tool = e.get("tool") or {}
    subject = e.get("subject") or {}
    about = (
        subject.get("digest")
        or " ".join(str(x) for x in (subject.get("name"), subject.get("version")) if x)
        or "-"
    )
    by = f"{tool.get('name')} {tool.get('version') or ''}".strip() if tool else e.get("format")
    return f"{e.get('format')} by {by} about {about} ({e.get('source')})"
