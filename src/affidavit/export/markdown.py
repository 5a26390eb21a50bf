"""``AUDIT_PERIOD_EVIDENCE.md``: the period for the people who read it, from period.json only.

Every value that came from a run (subjects, run ids, rule ids, control titles, waiver owners,
reasons, finding messages) can come from an artefact or from whoever ran the gate, so each goes
through ``render.escape`` (``md_text``/``md_code``); only this module's own words are trusted.
"""

from __future__ import annotations

from typing import Any

from affidavit.export.deployments import METRICS
from affidavit.render.escape import md_code, md_text

_STATE_WORDS = (
    ("operated", "operated"),
    ("failed", "failed"),
    ("manual", "manual only"),
    ("not_assessed", "not assessed"),
    ("no_promotion", "no promotion"),
)


#: Not-counted deployments of the lead time listed in the report (all of them are in period.json).
_LISTED = 50


def _cell(value: Any) -> str:
    """A table cell: escaped text, or ``-`` for nothing."""
    return "-" if value is None or value == "" else md_text(value)


def render_markdown(doc: dict[str, Any]) -> str:
    """The report for a period document (``write.PERIOD_SCHEMA``)."""
    period, population, merkle = doc["period"], doc["population"], doc["merkle"]
    framework = doc["framework"]
    lines: list[str] = [
        f"# Audit period evidence: {md_text(framework['label'])}, {md_text(period['name'])}",
        "",
        f"- Period: {md_text(period['first_day'])} to {md_text(period['last_day'])} "
        f"({period['days']} days, UTC)",
        f"- Environment: {md_text(doc['environment'] or 'every environment')}",
        f"- Store: {md_code(doc['store'])}",
        f"- Population: {population['runs']} run(s) on {population['days_with_promotions']} day(s); "
        f"decisions: {md_text(', '.join(f'{k} {v}' for k, v in population['decisions'].items()) or 'none')}",
        f"- Population sha256: {md_code(population['sha256'])} (`{population['file']}`)",
        f"- Merkle root ({md_text(merkle['algorithm'])}, {merkle['tree_size']} leaves): "
        f"{md_code(merkle['root'])}; one inclusion proof per run, a line of `proofs/*.jsonl` "
        f"(the run at position p: line p % {merkle['proof_shard_size']} + 1 of file p // "
        f"{merkle['proof_shard_size']})",
        "",
        "Check the folder with `affidavit verify <folder> --key <public key>`, or without affidavit: "
        "`sha256sum -c SHA256SUMS`, `(cd proofs && sha256sum -c SHA256SUMS)` and "
        "`openssl dgst -sha256 -verify <public key> -signature "
        "SHA256SUMS.sig SHA256SUMS` (ECDSA P-256 keys). One run's membership: "
        "`affidavit verify <folder> --run <run-id>`.",
        "",
        "## Controls",
        "",
        "Status per day: operated (every run that day passed the control's rules), failed (a run "
        "that day did not), manual only (no rule tests the control), not assessed (no run judged "
        "it), no promotion (no run that day).",
        "",
        "| Control | Coverage | Rules | Promotions | Passed | Failed | Waived | "
        + " | ".join(w.capitalize() + " days" for _, w in _STATE_WORDS)
        + " |",
        "| --- | --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in _STATE_WORDS) + " |",
    ]
    for c in doc["controls"]:
        counts, days = c["counts"], c["days"]
        title = f"{c['id']} {c['title']}".strip()
        rules = ", ".join(md_code(r, table=True) for r in c["rules"]) or "-"
        lines.append(
            f"| {_cell(title)} | {_cell(c['coverage'])} | {rules} | {counts['gated_promotions']} | "
            f"{counts['passed']} | {counts['failed']} | {counts['waived']} | "
            + " | ".join(str(days[k]) for k, _ in _STATE_WORDS)
            + " |"
        )
    lines += ["", "## Exceptions: waivers applied in the period", ""]
    ledger = doc["waivers"]["ledger"]
    if not ledger:
        lines.append("No waiver was applied in the period.")
    else:
        lines += [
            f"{doc['waivers']['applied']} application(s); every one, with the findings it hid, is in "
            f"`{doc['waivers']['file']}`.",
            "",
            "| Rule | Owner | Approver | Reason | Expires | Runs | Findings hidden | First use | Last use |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for w in ledger:
            waiver = w["waiver"]
            lines.append(
                f"| {_cell(waiver.get('rule'))} | {_cell(waiver.get('owner'))} | {_cell(waiver.get('approver'))} | "
                f"{_cell(waiver.get('reason'))} | {_cell(waiver.get('expires'))} | {w['runs']} | "
                f"{w['findings_hidden']} | {_cell(w['first_use'])} | {_cell(w['last_use'])} |"
            )
    lines += ["", "## Rules and matrices in force", ""]
    for n, p in enumerate(doc["policy_changes"], 1):
        matrices = ", ".join(
            f"{md_text(m.get('framework'))} {md_code(str(m.get('sha256'))[:12])}" for m in p["matrices"]
        )
        lines.append(
            f"{n}. Policy set {md_code(str(p['policy_set_sha256'])[:12])}, matrices {matrices or '-'}: "
            f"{p['runs']} run(s), {p['rules']} rule(s), from {md_text(p['first_use']['time'])} "
            f"to {md_text(p['last_use']['time'])}"
        )
        changes = p.get("changes")
        if changes:
            for key, words in (
                ("rules_added", "rules added"),
                ("rules_removed", "rules removed"),
                ("policy_files_changed", "policy files changed"),
                ("policy_files_added", "policy files added"),
                ("policy_files_removed", "policy files removed"),
                ("matrices_changed", "matrices changed"),
            ):
                if changes[key]:
                    lines.append(f"   - {words}: " + ", ".join(md_code(x) for x in changes[key]))
    if not doc["policy_changes"]:
        lines.append("No run in the period.")
    sample = doc["sample"]
    lines += [
        "",
        "## Sample to re-perform",
        "",
        f"Seed {sample['seed']}, population sha256 {md_code(sample['population_sha256'])}; frequency "
        f"{md_text(sample['frequency'])} (table range {sample['table_range'][0]}-{sample['table_range'][1]}), "
        f"size {sample['size']} ({md_text(sample['size_source'])}). Redraw: the runs with the smallest "
        "sha256 of `seed:population_sha256:run_id`.",
        "",
        "| # | Run | Time | Subject | Decision | Bundle |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in sample["runs"]:
        subject = s["subject"]
        shown = f"{subject.get('name') or ''}@{subject.get('digest') or ''}"
        bundle = s["bundle"].get("path") or s["bundle"].get("archive")
        lines.append(
            f"| {s['position']} | {md_code(s['run_id'], table=True)} | {_cell(s['time'])} | "
            f"{md_code(shown, table=True)} | {_cell(s['decision'])} | "
            f"{md_code(bundle, table=True) if bundle else '-'} |"
        )
    lines += _dora(doc["dora"])
    deployments = doc["deployments"]
    lines += ["", "## Deployments reconciled", ""]
    lines.append(
        "Sources reconciled: "
        + (", ".join(md_text(x) for x in deployments["reconciled"]) or "none")
        + "; not given: "
        + (", ".join(md_text(x) for x in deployments["not_given"]) or "none")
        + "."
    )
    if deployments.get("checked"):
        lines += [
            "",
            f"{deployments['checked']} deployment(s) in the period, {deployments['reconciled_count']} reconciled "
            f"to a GO made before them, {len(deployments['exceptions'])} exception(s):",
            "",
        ]
    for e in deployments["exceptions"]:
        what = e.get("digest") or e.get("commit") or "nothing named"
        lines.append(
            f"- exception: {md_text(e.get('source'))} deployment {md_code(e.get('ref'))} to "
            f"{md_text(e.get('environment'))} at {md_text(e.get('time'))} of {md_code(what)}: "
            f"{md_text(e.get('reason'))}"
        )
    return "\n".join(lines) + "\n"


def _series(values: list[Any]) -> str:
    """A weekly series as text: ``-`` for a week without a value."""
    return " ".join("-" if v is None else f"{v:g}" for v in values)


def _dora(dora: dict[str, Any]) -> list[str]:
    """The DORA section: each metric and what it came from (or why not), the weekly series, and the
    deployments the lead time did not count."""
    lines = ["", "## DORA metrics", ""]
    for name in METRICS:
        metric = dora[name]
        if metric["value"] is None:
            said = f"not computed: {md_text(metric.get('why_not', ''))}"
        else:
            p90 = f", p90 {metric['p90']} hours (nearest rank)" if metric.get("p90") is not None else ""
            said = f"{metric['value']} {md_text(metric.get('unit', ''))}{p90} (from {md_text(metric.get('from', ''))})"
        lines.append(f"- {md_text(name.replace('_', ' '))}: {said}")
    weekly = dora.get("weekly")
    if weekly:
        lines += [
            "",
            f"Per week of the period (from {md_text(weekly['from'])}; `-`: no value that week):",
            "",
            f"- deployments: {_series(weekly['deployments'])}",
            f"- change failure rate: {_series(weekly['change_failure_rate'])}",
            f"- median lead time, hours: {_series(weekly['lead_time_hours'])}",
        ]
    skipped = dora["lead_time_for_changes"].get("not_counted") or []
    if skipped:
        more = f" (the first {_LISTED}; all in `period.json`)" if len(skipped) > _LISTED else ""
        lines += ["", f"Deployments the lead time did not count: {len(skipped)}{more}.", ""]
        for e in skipped[:_LISTED]:
            commit = md_code(e["commit"]) if e.get("commit") else "no commit"
            lines.append(
                f"- {md_text(e['source'])} deployment {md_code(e['ref'])} at {md_text(e['time'])} of "
                f"{commit}: {md_text(e['why'])}"
            )
    return lines
