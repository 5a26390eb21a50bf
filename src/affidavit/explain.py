"""What a rule or a control means, from the rules' METADATA and the control matrices.

Two views of the same facts: ``explain`` answers a reviewer at a terminal ("what does
``source_control.required_reviews`` check, and which controls does it serve?", "what tests
CC8.1?", "PW.4.1?"), and ``reference_markdown`` writes ``docs/reference.md`` (checked for
staleness by a test, so the reference cannot drift from the policies).

A rule's controls, the frameworks' labels and their order all come from the matrices
(``affidavit.controls.links``); this module names no framework itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from affidavit.controls.links import display_order, rule_links
from affidavit.controls.validate import attach_rules
from affidavit.errors import UsageError

if TYPE_CHECKING:
    from affidavit.controls.model import Control, ControlMatrix, Crosswalk
    from affidavit.policy.loader import PolicySet, RuleMeta


def _controls_line(rule: RuleMeta, matrices: Sequence[ControlMatrix]) -> list[str]:
    links = rule_links(matrices).get(rule.id, {})
    lines = []
    for matrix in display_order(matrices):
        for cid in links.get(matrix.framework, ()):
            control = matrix.get(cid)
            title = control.title if control else "(not in the matrix)"
            lines.append(f"{matrix.label} {cid} {title}")
    return lines


def _with_own_rules(policy_set: PolicySet, matrices: Sequence[ControlMatrix]) -> tuple[ControlMatrix, ...]:
    """The matrices with an organisation's own rules joined to the controls their METADATA names,
    as a gate run joins them."""
    rules = {r.id: r.controls for r in policy_set.rules}
    return attach_rules(matrices, rules, {r.id for r in policy_set.rules if not r.builtin})


def explain_rule(rule: RuleMeta, matrices: Sequence[ControlMatrix], params: Mapping[str, Any] | None) -> str:
    """A rule: what it checks, the evidence it needs, the controls it tests, the fix, its data."""
    out = [f"{rule.id}: {rule.title}", "", rule.description.strip(), ""]
    out.append(f"severity:   {rule.severity.value}")
    out.append(f"requires:   {', '.join(k.value for k in rule.requires) or '(any evidence)'}")
    if rule.environments:
        out.append(f"applies in: {', '.join(rule.environments)}")
    if rule.effective_on:
        out.append(f"enforced from {rule.effective_on.isoformat()} (before that a failure only warns)")
    out.append(f"defined in: {rule.file}")
    out.append("controls:")
    out.extend(f"  - {line}" for line in _controls_line(rule, matrices))
    out.append(f"fix:        {rule.remediation.strip()}")
    area = rule.id.split(".", 1)[0]
    if params and isinstance(params.get(area), Mapping):
        out.append(f"rule data ({area}, this environment):")
        for key, value in sorted(params[area].items()):
            out.append(f"  {key}: {json.dumps(value, sort_keys=True)}")
    return "\n".join(out)


def explain_control(
    matrix: ControlMatrix, control: Control, rules: Mapping[str, RuleMeta], related: Sequence[str]
) -> str:
    """A control of ``matrix``: what it asks, how affidavit covers it, and by which rules."""
    out = [f"{matrix.label} {control.id}: {control.title}", "", control.description.strip(), ""]
    if control.group:
        out.append(f"group: {control.group}")
    out.append(f"coverage: {control.coverage.value}")
    if control.rules:
        out.append("tested by:")
        out.extend(
            f"  - {rid}: {rules[rid].title if rid in rules else '(unknown rule)'}" for rid in control.rules
        )
    if control.evidence:
        out.append(f"evidence: {', '.join(k.value for k in control.evidence)}")
    if control.manual:
        out.append(f"a person must provide: {control.manual.strip()}")
    if control.note:
        out.append(f"note: {control.note.strip()}")
    if related:
        out.append(f"counterparts: {', '.join(related)}")
    return "\n".join(out)


def explain(
    target: str,
    policy_set: PolicySet,
    matrices: Sequence[ControlMatrix],
    crosswalk: Crosswalk | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """Explain a rule id or a control id (of any framework); ``UsageError`` when it is neither."""
    rules = {r.id: r for r in policy_set.rules}
    matrices = _with_own_rules(policy_set, matrices)
    if target in rules:
        return explain_rule(rules[target], matrices, params)
    texts = []
    for matrix in display_order(matrices):
        control = matrix.get(target)
        if control is not None:
            related = crosswalk.related(matrix.framework, target) if crosswalk is not None else ()
            texts.append(explain_control(matrix, control, rules, related))
    if texts:
        return "\n\n".join(texts)
    close = sorted(r for r in rules if target.lower() in r.lower())[:5]
    hint = (
        f"did you mean: {', '.join(close)}"
        if close
        else "list rules with `affidavit policy test` and controls with `affidavit controls`"
    )
    raise UsageError(f"{target!r} is neither a rule id nor a control id", hint=hint)


def reference_markdown(policy_set: PolicySet, matrices: Sequence[ControlMatrix]) -> str:
    """``docs/reference.md``: every rule and every control, generated, never edited by hand."""
    rules = {r.id: r for r in policy_set.rules}
    out = [
        "# Rules and controls reference",
        "",
        "Generated by `python tools/gen_reference.py` from the rules' `# METADATA` and the control",
        "matrices in `controls/`; do not edit by hand (a test fails when it is stale).",
        "",
        "## Coverage",
        "",
        "| framework | controls | automated | partial | manual | not covered |",
        "|---|---|---|---|---|---|",
    ]
    matrices = display_order(matrices)
    links = rule_links(matrices)
    for matrix in matrices:
        counts = matrix.coverage_counts()
        out.append(
            f"| {matrix.label} ({matrix.version}) | {len(matrix.controls)} "
            f"| {counts.get('automated', 0)} | {counts.get('partial', 0)} | {counts.get('manual', 0)} "
            f"| {counts.get('not_covered', 0)} |"
        )
    out += ["", f"## Rules ({len(rules)})", ""]
    area = None
    for rule in policy_set.rules:
        this_area = rule.id.split(".", 1)[0]
        if this_area != area:
            area = this_area
            out += [f"### {area.replace('_', ' ').capitalize()}", ""]
        out.append(f"#### `{rule.id}`: {rule.title}")
        out.append("")
        out.append(" ".join(rule.description.split()))
        out.append("")
        out.append(
            f"- Severity: {rule.severity.value}; requires: {', '.join(k.value for k in rule.requires) or 'any evidence'}"
        )
        for matrix in matrices:
            ids = links.get(rule.id, {}).get(matrix.framework, ())
            if ids:
                out.append(f"- {matrix.label}: {', '.join(ids)}")
        if rule.environments:
            out.append(f"- Applies in: {', '.join(rule.environments)}")
        if rule.effective_on:
            out.append(f"- Enforced from: {rule.effective_on.isoformat()}")
        out.append(f"- Fix: {' '.join(rule.remediation.split())}")
        out.append(f"- Source: `{rule.file}`")
        out.append("")
    for matrix in matrices:
        out += [
            f"## {matrix.label} ({matrix.version})",
            "",
            "| control | title | coverage | rules |",
            "|---|---|---|---|",
        ]
        for control in matrix.controls:
            rule_list = "<br>".join(f"`{r}`" for r in control.rules) or "-"
            out.append(f"| {control.id} | {control.title} | {control.coverage.value} | {rule_list} |")
        out.append("")
    return "\n".join(out)
