"""``PRODUCTION_GO_EVIDENCE.md``: the human report of one run, rendered from its ``Run``.

Frameworks are shown in the order of ``run.matrices`` under the labels the matrices give; no
framework is named here, so a framework added as a matrix file shows up without a code change.

Every value the template interpolates is escaped (``affidavit.render.escape``): the environment's
``finalize`` hook passes each ``{{ ... }}`` through ``md_text`` unless it is ``Md`` already (built
here from escaped parts, or by the ``code``, ``cell_code`` and ``prose`` filters). A value can
therefore only ever show as text; forgetting a filter double-escapes, it never injects.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from affidavit.model import Outcome
from affidavit.render.escape import Md, md_code, md_join, md_prose, md_text

if TYPE_CHECKING:
    from types import ModuleType

    import jinja2

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
#: What a tested control's coverage means, beside its status (``ControlStatus.coverage``).
COVERAGE_WORD = {"automated": "automated", "partial": "partial: the rules test part; people supply the rest"}


@dataclass(frozen=True, slots=True)
class ControlRow:
    """One tested control in a framework's table."""

    id: str
    title: str
    outcome: Outcome | None
    coverage: Md
    elsewhere: Md
    rules: Md
    evidence: Md


@dataclass(frozen=True, slots=True)
class Coverage:
    """How many of a framework's controls the run's rules test, and how many need people.

    ``need_people`` counts the ``partial`` controls (the rules test part of each) and the
    ``manual`` ones (no rule at all); ``not_covered`` controls are outside what affidavit tracks.
    """

    controls: int
    tested: int
    partial: int
    manual: int
    not_covered: int

    @property
    def need_people(self) -> int:
        """Controls a person must evidence in whole or in part."""
        return self.partial + self.manual


@dataclass(frozen=True, slots=True)
class FrameworkTable:
    """A framework's tested controls, under its label, with its coverage counts."""

    framework: str
    label: str
    rows: tuple[ControlRow, ...]
    counts: Coverage


class MarkdownRenderer:
    """The report a person reads first."""

    name = "markdown"
    filename = "PRODUCTION_GO_EVIDENCE.md"

    def render(self, run: Run) -> str:
        """The Markdown report of ``run``."""
        return render_markdown(run)


def _finalize(value: object) -> object:
    """Every ``{{ ... }}`` of the template: escaped text unless it is Markdown built from escaped parts."""
    return value if isinstance(value, Md) else md_text(value)


TEMPLATE = "PRODUCTION_GO_EVIDENCE.md.j2"
COMPILED = "_report_compiled.py"
"""The template compiled ahead by jinja2 (``write_compiled``): Python imports it from its bytecode,
where compiling the template costs about 0.1 s a run. jinja2 calls the escaping functions and the
filters on constant parts while it compiles, so the module is used only when it was compiled from
this template, this module and ``render/escape.py`` as they are now, by the jinja2 installed now
(``_fingerprint``); otherwise the template is compiled as before. ``tests/render`` checks that the
module is current: after changing any of them, run ``python tools/compile_report_template.py``."""


def _environment() -> jinja2.Environment:
    """The report's jinja2 environment: every setting that changes the compiled template is here."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("affidavit.render", "templates"),
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["code"] = md_code
    env.filters["cell_code"] = lambda value: md_code(value, table=True)
    env.filters["prose"] = md_prose
    return env


def _fingerprint(source: str, jinja_version: str) -> str:
    """What the compiled template is made from: jinja2's version, the template's text and the code
    it calls while compiling (this module, with the environment's settings, and the escaping)."""
    h = hashlib.sha256(f"{jinja_version}\0{source}\0".encode())
    here = Path(__file__)
    for path in (here, here.with_name("escape.py")):
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def compiled_source() -> str:
    """The Python module of the template compiled by jinja2 now (what ``write_compiled`` writes)."""
    import jinja2

    env = _environment()
    source, filename, _ = env.loader.get_source(env, TEMPLATE)  # type: ignore[union-attr]
    code = env.compile(source, TEMPLATE, filename, raw=True, defer_init=True)
    return (
        "# ruff: noqa\n# fmt: off\n# mypy: ignore-errors\n"
        f'"""{TEMPLATE} compiled by jinja2 {jinja2.__version__}: generated by affidavit.render.markdown.'
        'write_compiled, do not edit (a test checks it is current; see markdown.COMPILED)."""\n'
        f"FINGERPRINT = {_fingerprint(source, jinja2.__version__)!r}\n{code}\n"
    )


def write_compiled() -> None:
    """Compile the template again into ``COMPILED`` (``tools/compile_report_template.py``)."""
    (Path(__file__).with_name(COMPILED)).write_text(compiled_source(), encoding="utf-8")


def _compiled_module() -> ModuleType | None:
    """The module ``write_compiled`` wrote, or ``None`` when there is none."""
    try:
        import affidavit.render._report_compiled as compiled
    except ImportError:
        return None
    return compiled


@functools.cache
def _template() -> jinja2.Template:
    """The report's template, once per process: the compiled module when it was made from this
    template by this jinja2 (``COMPILED``), else compiled now."""
    import jinja2

    env = _environment()
    source, _, _ = env.loader.get_source(env, TEMPLATE)  # type: ignore[union-attr]
    compiled = _compiled_module()
    if compiled is not None and getattr(compiled, "FINGERPRINT", None) == _fingerprint(
        source, jinja2.__version__
    ):
        return env.template_class.from_module_dict(env, vars(compiled), env.make_globals(None))
    return env.get_template(TEMPLATE)


def render_markdown(run: Run) -> str:
    """The human report of one run."""
    template = _template()
    index = {e.id: i + 1 for i, e in enumerate(run.inputs)}
    titles = {
        (framework, s.control_id): s.title for framework, statuses in run.controls.items() for s in statuses
    }

    def control_line(rule: RuleReport) -> Md:
        parts = []
        for matrix in run.matrices:
            ids = rule.controls.get(matrix.framework) or ()
            if ids:
                named = [_normal_join(cid, titles.get((matrix.framework, cid), "")) for cid in ids]
                parts.append(Md(f"{md_text(matrix.display)} {md_join(named, ' / ')}"))
        return md_join(parts, "; ", empty="no control mapped")

    def evidence_refs(ids: Sequence[str], table: bool = False) -> Md:
        ordered = sorted(set(ids), key=lambda i: (index.get(i, len(index) + 1), i))
        return md_join(
            [Md(f"E{index[i]}") if i in index else _short(i, table=table) for i in ordered], empty=""
        )

    def badge(outcome: Outcome | None) -> Md:
        return Md("-" if outcome is None else _BADGE[outcome])

    def rule_controls(rule: RuleReport, framework: str) -> Md:
        return md_join(list(rule.controls.get(framework) or ()), empty="")

    def messages(rule: RuleReport) -> Md:
        return md_join([v.msg for v in (rule.warnings + rule.violations)[:3]], "; ", empty="")

    blocking = sorted((r for r in run.rules if r.outcome in _ORDER), key=lambda r: (_ORDER[r.outcome], r.id))
    tables = _tables(run, evidence_refs)
    failed_controls = [
        (table.framework, row.id)
        for table in tables
        for row in table.rows
        if row.outcome is not None and row.outcome in _ORDER
    ]
    subject = run.subject
    subject_parts = [md_text(subject.name)] if subject.name else []
    if subject.digest:
        subject_parts.append(md_code(subject.digest, table=True))
    return template.render(
        r=run,
        hidden=[(rule, applied) for rule in run.rules for applied in rule.waived],
        as_json=lambda value: json.dumps(value, sort_keys=True, ensure_ascii=True),
        blocking=blocking,
        failed_controls=failed_controls,
        warnings=[r for r in run.rules if r.outcome is Outcome.WARN],
        waived=[r for r in run.rules if r.outcome is Outcome.WAIVED],
        tables=tables,
        problems=[p for e in run.inputs for p in e.problems],
        subject_text=md_join(subject_parts, " ", empty="(not given)"),
        outcome_word=OUTCOME_WORD,
        control_line=control_line,
        evidence_refs=evidence_refs,
        messages=messages,
        subject_of=_subject_of,
        badge=badge,
        max_messages=MAX_MESSAGES,
        labels=md_join([m.display for m in run.matrices]),
        rule_controls=rule_controls,
        need_people=sum(t.counts.need_people for t in tables),
    )


def _normal_join(*parts: str) -> str:
    """Non-empty ``parts`` joined by one space (a control id and its title)."""
    return " ".join(p for p in parts if p)


def _short(value: str, *, table: bool) -> Md:
    """The first 19 characters of a digest or id as code, marked as cut when they are."""
    return md_code(value[:19] + ("…" if len(value) > 19 else ""), table=table)


def _subject_of(e: InputRef) -> Md:
    name = e.subject_name or ""
    digest = e.subject_digest
    if e.subject_version and e.subject_version != digest:
        name = f"{name} {e.subject_version}".strip()
    parts = [md_text(name)] if name else []
    if digest:
        parts.append(_short(digest, table=True))
    return md_join(parts, " ")


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
    status_of = {(fw, s.control_id): s for fw, statuses in tested.items() for s in statuses}
    tables = []
    for matrix in run.matrices:
        rows = []
        for s in tested.get(matrix.framework, []):
            others: dict[str, set[str]] = {}
            for rule in s.rule_ids:
                for fw, cid in by_rule.get(rule, []):
                    if fw != matrix.framework:
                        others.setdefault(fw, set()).add(cid)
            elsewhere = [
                _counterpart(other.display, cid, status_of[(other.framework, cid)])
                for other in run.matrices
                for cid in sorted(others.get(other.framework, ()), key=_control_sort)
            ]
            ids = sorted({e for rule in s.rule_ids for e in evidence_by_rule.get(rule, ())})
            rows.append(
                ControlRow(
                    id=s.control_id,
                    title=s.title,
                    outcome=s.outcome,
                    coverage=md_text(COVERAGE_WORD.get(s.coverage, s.coverage)),
                    elsewhere=md_join(elsewhere, "<br>"),
                    rules=md_join([md_code(r, table=True) for r in s.rule_ids], "<br>", empty=""),
                    evidence=evidence_refs(ids, table=True) if ids else Md("-"),
                )
            )
        tables.append(
            FrameworkTable(
                matrix.framework,
                matrix.display,
                tuple(rows),
                _coverage(run.controls.get(matrix.framework, ())),
            )
        )
    return tables


def _coverage(statuses: Sequence[ControlStatus]) -> Coverage:
    """The coverage counts of one framework's controls in a run."""
    words = [s.coverage for s in statuses]
    return Coverage(
        controls=len(statuses),
        tested=sum(1 for s in statuses if s.rule_ids),
        partial=words.count("partial"),
        manual=words.count("manual"),
        not_covered=words.count("not_covered"),
    )


def _counterpart(label: str, control_id: str, status: ControlStatus) -> Md:
    """A control of another framework that shares a rule with the row, with its own status and
    coverage, worded so that it never reads as the row's status."""
    coverage = status.coverage.replace("_", " ")
    if status.outcome is None:
        return Md(
            f"{md_text(label)} {md_text(control_id)}: no status of its own in this run, {md_text(coverage)}"
        )
    return Md(
        f"{md_text(label)} {md_text(control_id)}: own status {_BADGE[status.outcome]}, {md_text(coverage)}"
    )


def _control_sort(control_id: str) -> tuple[tuple[int, str | int], ...]:
    import re

    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", control_id) if part
    )
