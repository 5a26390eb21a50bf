"""Render ``PRODUCTION_GO_EVIDENCE.md`` from a results document (never from live objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OUTCOME_WORD = {
    "pass": "passed",
    "fail": "failed",
    "warn": "warning",
    "insufficient_evidence": "insufficient evidence",
    "waived": "waived",
    "not_applicable": "not applicable",
    "error": "could not be evaluated",
}
_BADGE = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "warn": "⚠️ warn",
    "insufficient_evidence": "❔ insufficient evidence",
    "waived": "🟦 waived",
    "not_applicable": "➖ n/a",
    "error": "💥 error",
}
_BLOCKING = ("error", "fail", "insufficient_evidence")
MAX_MESSAGES = 10


def render_markdown(results: Mapping[str, Any]) -> str:
    """The human report of one run."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("affidavit.render", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("PRODUCTION_GO_EVIDENCE.md.j2")
    rules = list(results["rules"])
    titles = _control_titles(results)
    index = {e["id"]: i + 1 for i, e in enumerate(results["inputs"])}

    def control_line(rule: Mapping[str, Any]) -> str:
        parts = []
        for framework, label in (("soc2", "SOC 2"), ("iso27001-2022", "ISO 27001")):
            ids = rule["controls"].get(framework) or []
            if ids:
                named = [f"{cid} {titles.get((framework, cid), '')}".strip() for cid in ids]
                parts.append(f"{label} {' / '.join(named)}")
        return "; ".join(parts) or "no control mapped"

    def evidence_refs(ids: Sequence[str]) -> str:
        ordered = sorted(set(ids), key=lambda i: (index.get(i, len(index) + 1), i))
        return ", ".join(f"E{index[i]}" if i in index else f"`{i[:19]}…`" for i in ordered)

    def subject_of(e: Mapping[str, Any]) -> str:
        s = e["subject"]
        name = s.get("name") or ""
        digest = s.get("digest")
        if s.get("version") and s["version"] != digest:
            name = f"{name} {s['version']}".strip()
        if digest:
            return f"{name} `{digest[:19]}…`".strip()
        return name or "-"

    def badge(outcome: str | None) -> str:
        return _BADGE.get(outcome or "", "-")

    order = {"error": 0, "fail": 1, "insufficient_evidence": 2}
    blocking = sorted(
        (r for r in rules if r["outcome"] in _BLOCKING), key=lambda r: (order[r["outcome"]], r["id"])
    )
    evidence_by_rule = {r["id"]: r["evidence_ids"] for r in rules}
    soc2_rows, iso_rows = _control_rows(results, evidence_by_rule, evidence_refs)
    problems = [p for e in results["inputs"] for p in e["problems"]]
    subject = results["subject"]
    subject_text = (
        " ".join(
            x
            for x in (subject.get("name") or "", f"`{subject['digest']}`" if subject.get("digest") else "")
            if x
        )
        or "(not given)"
    )
    return template.render(
        r=results,
        blocking=blocking,
        failed_controls=[row for row in soc2_rows + iso_rows if row["outcome"] in _BLOCKING],
        warnings=[r for r in rules if r["outcome"] == "warn"],
        waived=[r for r in rules if r["outcome"] == "waived"],
        soc2_rows=soc2_rows,
        iso_rows=iso_rows,
        problems=problems,
        subject_text=subject_text,
        outcome_word=OUTCOME_WORD,
        control_line=control_line,
        evidence_refs=evidence_refs,
        subject_of=subject_of,
        badge=badge,
        max_messages=MAX_MESSAGES,
    )


def _control_titles(results: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (framework, c["id"]): c["title"] for framework, items in results["controls"].items() for c in items
    }


def _control_rows(
    results: Mapping[str, Any],
    evidence_by_rule: Mapping[str, Sequence[str]],
    evidence_refs: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    soc2 = [c for c in results["controls"].get("soc2", []) if c["rules"]]
    iso = [c for c in results["controls"].get("iso27001-2022", []) if c["rules"]]
    iso_by_rule: dict[str, set[str]] = {}
    for c in iso:
        for rule in c["rules"]:
            iso_by_rule.setdefault(rule, set()).add(c["id"])
    soc_by_rule: dict[str, set[str]] = {}
    for c in soc2:
        for rule in c["rules"]:
            soc_by_rule.setdefault(rule, set()).add(c["id"])
    iso_outcome = {c["id"]: c["outcome"] for c in iso}
    soc2_rows = []
    for c in soc2:
        iso_ids = sorted({i for rule in c["rules"] for i in iso_by_rule.get(rule, ())}, key=_control_sort)
        ids = sorted({e for rule in c["rules"] for e in evidence_by_rule.get(rule, ())})
        soc2_rows.append(
            {
                "id": c["id"],
                "title": c["title"],
                "outcome": c["outcome"],
                "iso": [f"{i} ({OUTCOME_WORD.get(iso_outcome.get(i) or '', '-')})" for i in iso_ids],
                "rules": [f"`{r}`" for r in c["rules"]],
                "evidence": evidence_refs(ids) if ids else "-",
            }
        )
    iso_rows = []
    for c in sorted(iso, key=lambda c: _control_sort(c["id"])):
        soc_ids = sorted({i for rule in c["rules"] for i in soc_by_rule.get(rule, ())}, key=_control_sort)
        iso_rows.append(
            {
                "id": c["id"],
                "title": c["title"],
                "outcome": c["outcome"],
                "soc2": soc_ids,
                "rules": [f"`{r}`" for r in c["rules"]],
            }
        )
    return soc2_rows, iso_rows


def _control_sort(control_id: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for chunk in control_id.replace("A.", "A").split("."):
        digits = "".join(c for c in chunk if c.isdigit())
        letters = "".join(c for c in chunk if not c.isdigit())
        parts.append((letters, int(digits) if digits else 0))
    return tuple(parts)
