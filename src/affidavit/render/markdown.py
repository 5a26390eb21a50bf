"""``PRODUCTION_GO_EVIDENCE.md``: the human report of one run, rendered from its ``Run``.

Frameworks are shown in the order of ``run.matrices`` under the labels the matrices give; no
framework is named here, so a framework added as a matrix file shows up without a code change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from affidavit.model import Outcome

if TYPE_CHECKING:
    from affidavit.model import ControlStatus, InputRef, RuleReport, Run

OUTCOME_WORD = {
    Outcome.PASS: "passed",
    Outcome.FAIL: "failed",
    Outcome.WARN: "warning",
    Outcome.INSUFFICIENT_EVIDENCE: "insufficient evidence",
    Outcome.WAIVED: "waived",
    Outcome.NOT_APPLICABLE: "not applicable",
    Outcome.ERROR: "could not be evaluated",
}
_BADGE = {
    Outcome.PASS: "✅ pass",
    Outcome.FAIL: "❌ fail",
    Outcome.WARN: "⚠️ warn",
    Outcome.INSUFFICIENT_EVIDENCE: "❔ insufficient evidence",
    Outcome.WAIVED: "🟦 waived",
    Outcome.NOT_APPLICABLE: "➖ n/a",
    Outcome.ERROR: "💥 error",
}
_ORDER = {Outcome.ERROR: 0, Outcome.FAIL: 1, Outcome.INSUFFICIENT_EVIDENCE: 2}
MAX_MESSAGES = 10


@dataclass(frozen=True, slots=True)
class ControlRow:
    """One tested control in a framework's table."""

    id: str
    title: str
    outcome: Outcome | None
    elsewhere: tuple[str, ...]
    rules: tuple[str, ...]
    evidence: str


@dataclass(frozen=True, slots=True)
class FrameworkTable:
    """A framework's tested controls, under its label."""

    framework: str
    label: str
    rows: tuple[ControlRow, ...]


class MarkdownRenderer:
    """The report a person reads first."""

    name = "markdown"
    filename = "PRODUCTION_GO_EVIDENCE.md"

    def render(self, run: Run) -> str:
        """The Markdown report of ``run``."""
        return render_markdown(run)


def render_markdown(run: Run) -> str:
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
    index = {e.id: i + 1 for i, e in enumerate(run.inputs)}
    titles = {
        (framework, s.control_id): s.title for framework, statuses in run.controls.items() for s in statuses
    }

    def control_line(rule: RuleReport) -> str:
        parts = []
        for matrix in run.matrices:
            ids = rule.controls.get(matrix.framework) or ()
            if ids:
                named = [f"{cid} {titles.get((matrix.framework, cid), '')}".strip() for cid in ids]
                parts.append(f"{matrix.display} {' / '.join(named)}")
        return "; ".join(parts) or "no control mapped"

    def evidence_refs(ids: Sequence[str]) -> str:
        ordered = sorted(set(ids), key=lambda i: (index.get(i, len(index) + 1), i))
        return ", ".join(f"E{index[i]}" if i in index else f"`{i[:19]}…`" for i in ordered)

    def badge(outcome: Outcome | None) -> str:
        return "-" if outcome is None else _BADGE[outcome]

    blocking = sorted((r for r in run.rules if r.outcome in _ORDER), key=lambda r: (_ORDER[r.outcome], r.id))
    tables = _tables(run, evidence_refs)
    failed_controls = [
        (table.framework, row.id)
        for table in tables
        for row in table.rows
        if row.outcome is not None and row.outcome in _ORDER
    ]
    subject = run.subject
    subject_text = (
        " ".join(x for x in (subject.name or "", f"`{subject.digest}`" if subject.digest else "") if x)
        or "(not given)"
    )
    return template.render(
        r=run,
        blocking=blocking,
        failed_controls=failed_controls,
        warnings=[r for r in run.rules if r.outcome is Outcome.WARN],
        waived=[r for r in run.rules if r.outcome is Outcome.WAIVED],
        tables=tables,
        problems=[p for e in run.inputs for p in e.problems],
        subject_text=subject_text,
        outcome_word=OUTCOME_WORD,
        control_line=control_line,
        evidence_refs=evidence_refs,
        subject_of=_subject_of,
        badge=badge,
        max_messages=MAX_MESSAGES,
        labels=", ".join(m.display for m in run.matrices),
        rule_controls=lambda rule, fw: ", ".join(rule.controls.get(fw) or ()),
    )


def _subject_of(e: InputRef) -> str:
    name = e.subject_name or ""
    digest = e.subject_digest
    if e.subject_version and e.subject_version != digest:
        name = f"{name} {e.subject_version}".strip()
    if digest:
        return f"{name} `{digest[:19]}…`".strip()
    return name or "-"


def _tables(run: Run, evidence_refs: object) -> list[FrameworkTable]:
    """One table per framework (display order) of the controls its rules test."""
    assert callable(evidence_refs)
    evidence_by_rule = {r.id: r.evidence_ids for r in run.rules}
    tested: dict[str, list[ControlStatus]] = {
        fw: [s for s in statuses if s.rule_ids] for fw, statuses in run.controls.items()
    }
    by_rule: dict[str, list[tuple[str, str]]] = {}
    for fw, statuses in tested.items():
        for s in statuses:
            for rule in s.rule_ids:
                by_rule.setdefault(rule, []).append((fw, s.control_id))
    outcome_of = {(fw, s.control_id): s.outcome for fw, statuses in tested.items() for s in statuses}
    tables = []
    for matrix in run.matrices:
        rows = []
        for s in tested.get(matrix.framework, []):
            others: dict[str, set[str]] = {}
            for rule in s.rule_ids:
                for fw, cid in by_rule.get(rule, []):
                    if fw != matrix.framework:
                        others.setdefault(fw, set()).add(cid)
            elsewhere = []
            for other in run.matrices:
                for cid in sorted(others.get(other.framework, ()), key=_control_sort):
                    word = OUTCOME_WORD.get(outcome_of.get((other.framework, cid)) or Outcome.ERROR, "-")
                    elsewhere.append(f"{other.display} {cid} ({word})")
            ids = sorted({e for rule in s.rule_ids for e in evidence_by_rule.get(rule, ())})
            rows.append(
                ControlRow(
                    id=s.control_id,
                    title=s.title,
                    outcome=s.outcome,
                    elsewhere=tuple(elsewhere),
                    rules=tuple(f"`{r}`" for r in s.rule_ids),
                    evidence=evidence_refs(ids) if ids else "-",
                )
            )
        tables.append(FrameworkTable(matrix.framework, matrix.display, tuple(rows)))
    return tables


def _control_sort(control_id: str) -> tuple[tuple[int, str | int], ...]:
    import re

    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", control_id) if part
    )
