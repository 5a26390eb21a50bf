"""``report.html``: the run as one self-contained web page, for people and for printing.

The page fetches nothing: its style and its one small script are inline, and its Content
Security Policy (``default-src 'none'``, the script allowed by its sha256 only) forbids loading or
running anything else, so even a tag that slipped into the page could neither run nor call out.
Nothing slips in, though: every string of the run is written as text (``text``: white space runs
squeezed, controls and bidirectional overrides spelled out as ``visible`` does, then ``& < > " '``
escaped), and every element and attribute of the page is the renderer's own; no attribute value
comes from the run (the sort keys of ``data-rank`` are outcome ranks, ``id`` values are indexes).

The script makes the tables sortable (click a heading) and filterable (a search box above each),
and marks the page ``data-report="ready"`` when it has run; without it the page is complete and
readable. ``@media print`` drops the controls, shows every row and keeps rows on one page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from affidavit.model import Decision, Outcome
from affidavit.render.escape import visible

if TYPE_CHECKING:
    from affidavit.model import ControlStatus, InputRef, RuleReport, Run, Violation

MAX_MESSAGES = 10
#: Links to evidence records by id (``E3``), as the page numbers them.
Refs = Callable[[Iterable[str]], "H"]

_WORD = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "fail",
    Outcome.WARN: "warn",
    Outcome.INSUFFICIENT_EVIDENCE: "insufficient evidence",
    Outcome.WAIVED: "waived",
    Outcome.NOT_APPLICABLE: "not applicable",
    Outcome.ERROR: "error",
}
_CLASS = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "fail",
    Outcome.WARN: "warn",
    Outcome.INSUFFICIENT_EVIDENCE: "insufficient",
    Outcome.WAIVED: "waived",
    Outcome.NOT_APPLICABLE: "na",
    Outcome.ERROR: "error",
}
_BLOCKING_ORDER = {Outcome.ERROR: 0, Outcome.FAIL: 1, Outcome.INSUFFICIENT_EVIDENCE: 2}
_DECISION_CLASS = {Decision.GO: "go", Decision.NO_GO: "stop", Decision.INCOMPLETE: "incomplete"}
_DECISION_TEXT = {
    Decision.GO: "Every rule passed, is not applicable here, or is covered by a valid waiver; that is not a "
    "statement that any control is met.",
    Decision.NO_GO: "Promotion is blocked: {n} rule(s) failed or lack evidence.",
    Decision.INCOMPLETE: "The run could not complete: some evidence could not be read or a rule could not "
    "be evaluated. affidavit fails closed.",
}

_STYLE = """
:root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--go:#1a7f37;--stop:#cf222e;
--inc:#9a6700;--warn:#9a6700;--waived:#0969da;--na:#6e7781}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;color:var(--ink);
margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 12px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
code,.mono{font-family:ui-monospace,"SFMono-Regular","Liberation Mono",Menlo,monospace;font-size:13px;
overflow-wrap:anywhere}
.decision{border-radius:8px;padding:16px 20px;margin:0 0 16px;color:#fff}
.decision strong{display:block;font-size:40px;line-height:1.1;letter-spacing:1px}
.decision.go{background:var(--go)}.decision.stop{background:var(--stop)}.decision.incomplete{background:var(--inc)}
.replay{border:3px dashed var(--inc);padding:10px 14px;margin:0 0 16px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
td code{overflow-wrap:anywhere}.nowrap{white-space:nowrap}#t-evidence td{overflow-wrap:anywhere}
thead th{background:var(--bg)}
table.facts th{width:180px;background:var(--bg)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap;
border:1px solid currentColor}
.badge.pass{color:var(--go)}.badge.fail,.badge.error{color:var(--stop)}.badge.insufficient{color:var(--stop)}
.badge.warn{color:var(--warn)}.badge.waived{color:var(--waived)}.badge.na,.badge.none{color:var(--na)}
.rule{border:1px solid var(--line);border-left:6px solid var(--stop);border-radius:6px;padding:8px 14px;margin:10px 0}
.rule.insufficient{border-left-color:var(--inc)}
.rule dl{display:grid;grid-template-columns:130px 1fr;gap:2px 12px;margin:6px 0}
.rule dt{color:var(--muted)}.rule dd{margin:0}
.muted{color:var(--muted)}
input.filter{font:inherit;padding:4px 8px;width:min(360px,100%);border:1px solid var(--line);border-radius:6px}
button.sort{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit;
text-align:left}
button.sort::after{content:" \\2195";color:var(--muted)}
th[aria-sort=ascending] button.sort::after{content:" \\2191"}
th[aria-sort=descending] button.sort::after{content:" \\2193"}
@media print{body{max-width:none;padding:0;font-size:11px}input.filter{display:none}
tr[hidden]{display:table-row}button.sort::after{content:""}tr,.rule{break-inside:avoid}
.decision{color:#000;border:3px solid #000;background:none!important}h2{break-after:avoid}}
"""

_SCRIPT = """
(function () {
  "use strict";
  var doc = document;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  function key(row, i) {
    var cell = row.cells[i];
    if (!cell) { return ""; }
    var rank = cell.getAttribute("data-rank");
    return rank === null ? cell.textContent.trim().toLowerCase() : Number(rank);
  }
  function sort(table, i, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (typeof x === "number" && typeof y === "number") { return (x - y) * dir; }
      return String(x).localeCompare(String(y), undefined, {numeric: true}) * dir;
    });
    each(th.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    each(rows, function (row) { body.appendChild(row); });
  }
  each(doc.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead) { return; }
    each(table.tHead.rows[0].cells, function (th, i) {
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sort(table, i, th); });
    });
  });
  each(doc.querySelectorAll("input.filter"), function (input) {
    var table = doc.getElementById(input.getAttribute("data-table"));
    if (!table) { return; }
    input.hidden = false;
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      each(table.tBodies[0].rows, function (row) {
        row.hidden = query !== "" && row.textContent.toLowerCase().indexOf(query) < 0;
      });
    });
  });
  doc.documentElement.setAttribute("data-report", "ready");
}());
"""


def script_hash(script: str = _SCRIPT) -> str:
    """The CSP source allowing exactly ``script`` (``'sha256-<base64>'`` of its UTF-8 bytes)."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"'sha256-{digest}'"


CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash()}; "
    "base-uri 'none'; form-action 'none'"
)


class H(str):
    """A string that is already HTML: built here from escaped text and the renderer's own tags."""

    __slots__ = ()


def text(value: object) -> H:
    """``value`` as HTML text: white space squeezed, controls spelled out, markup characters escaped."""
    return H(html.escape(visible(" ".join(str(value).split())), quote=True))


def _join(parts: Iterable[object], separator: str = ", ", empty: str = "") -> H:
    """Parts joined as HTML: ``H`` parts kept, anything else escaped with ``text``."""
    items = [p if isinstance(p, H) else text(p) for p in parts]
    return H(separator.join(items) if items else html.escape(empty))


def _el(tag: str, content: object = "", **attrs: str) -> H:
    """An element of the renderer's own: ``attrs`` are fixed names and values chosen here."""
    attributes = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{html.escape(value, quote=True)}"'
        for name, value in attrs.items()
    )
    body = content if isinstance(content, H) else text(content)
    return H(f"<{tag}{attributes}>{body}</{tag}>")


def _code(value: object) -> H:
    return _el("code", value)


def _badge(outcome: Outcome | None) -> H:
    if outcome is None:
        return _el("span", "not assessed", class_="badge none")
    return _el("span", _WORD[outcome], class_=f"badge {_CLASS[outcome]}")


def _rank(outcome: Outcome | None) -> str:
    """An outcome's sort key (worst last): a number, never text of the run."""
    return "-1" if outcome is None else str(outcome.rank)


def _table(
    headings: Sequence[str],
    rows: Iterable[Sequence[H]],
    *,
    table_id: str | None = None,
    ranks: dict[int, Sequence[str]] | None = None,
    facts: bool = False,
) -> H:
    """A table; with ``table_id`` it is sortable and has a filter box. ``ranks``: per column, each
    row's numeric sort key (``data-rank``)."""
    body = []
    for n, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            rank = (ranks or {}).get(i)
            attrs = {"data_rank": rank[n]} if rank is not None else {}
            cells.append(_el("td", cell, **attrs))
        body.append(_el("tr", H("".join(cells))))
    if not body:
        return _el("p", "None.", class_="muted")
    head = _el("thead", _el("tr", H("".join(_el("th", h, scope="col") for h in headings))))
    table_attrs: dict[str, str] = {}
    if table_id is not None:
        table_attrs = {"id": table_id, "class_": "sortable"}
    elif facts:
        table_attrs = {"class_": "facts"}
    table = _el("table", H(head + _el("tbody", H("".join(body)))), **table_attrs)
    if table_id is None:
        return table
    box = H(
        f'<input type="search" class="filter" data-table="{table_id}" placeholder="Filter rows" '
        f'aria-label="Filter rows" hidden>'
    )
    return H(box + table)


def _facts(pairs: Iterable[tuple[str, H | str | None]]) -> H:
    """A two-column table of labelled facts (rows without a value are left out)."""
    rows = [
        _el("tr", H(_el("th", label, scope="row") + _el("td", value)))
        for label, value in pairs
        if value is not None and value != ""
    ]
    return _el("table", _el("tbody", H("".join(rows))), class_="facts")


class HtmlRenderer:
    """The report as a self-contained web page (sortable, filterable, printable)."""

    name = "html"
    filename = "report.html"

    def render(self, run: Run) -> str:
        """The HTML page of ``run``."""
        return render_html(run)


def render_html(run: Run) -> str:
    """The HTML report of one run (see the module docstring)."""
    index = {e.id: i + 1 for i, e in enumerate(run.inputs)}

    def refs(ids: Iterable[str]) -> H:
        ordered = sorted(set(ids), key=lambda i: (index.get(i, len(index) + 1), i))
        return _join(
            [
                _el("a", f"E{index[i]}", href=f"#evidence-{index[i]}") if i in index else _code(_short(i))
                for i in ordered
            ]
        )

    blocking = sorted(
        (r for r in run.rules if r.outcome in _BLOCKING_ORDER),
        key=lambda r: (_BLOCKING_ORDER[r.outcome], r.id),
    )
    sections = [
        _header(run, blocking),
        _input_errors(run),
        _blocking(run, blocking, refs),
        _warnings(run, refs),
        _waivers(run),
        _controls(run, refs),
        _rules(run),
        _evidence(run),
        _configuration(run),
        _not_read(run),
        _checking(run),
    ]
    title = f"affidavit: {run.decision.value} for {run.subject.text or 'a subject not given'}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP, quote=True)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(s for s in sections if s)
        + f"\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _short(value: str) -> str:
    """The first 19 characters of an id, marked as cut when they are."""
    return value[:19] + ("…" if len(value) > 19 else "")


def _header(run: Run, blocking: Sequence[RuleReport]) -> H:
    decision = run.decision
    sentence = _DECISION_TEXT[decision].format(n=len(blocking))
    parts = [
        _el("h1", "Production go/no-go evidence"),
        _el(
            "section",
            H(_el("strong", decision.value) + _el("span", sentence)),
            class_=f"decision {_DECISION_CLASS[decision]}",
            id="decision",
        ),
    ]
    if run.replay:
        parts.append(
            _el(
                "p",
                H(
                    "REPLAY, not a live promotion decision: this run re-evaluated the moment "
                    f"{text(run.time)}; it ran at {text(run.wall_time or 'an unrecorded time')}."
                ),
                class_="replay",
            )
        )
    subject = run.subject
    counts = _join(f"{n} {k}" for k, n in run.rule_counts().items())
    evidence = f"{len(run.inputs)} record(s)" + (
        f", {len(run.input_errors)} unreadable" if run.input_errors else ""
    )
    parts.append(
        _facts(
            [
                ("Decision", H(f"{_el('strong', decision.value)} (exit code {run.exit_code})")),
                (
                    "Subject",
                    _join([_code(p) for p in (subject.name, subject.digest) if p], " ", "(not given)"),
                ),
                ("Environment", text(run.environment)),
                ("Commit", _code(run.commit) if run.commit else None),
                ("Branch", _code(run.branch) if run.branch else None),
                ("Evaluated at", text(run.time)),
                ("Ran at (wall clock)", text(run.wall_time) if run.wall_time else text("not recorded")),
                (
                    "Replay",
                    text(
                        "yes: a past moment re-evaluated (--replay)" if run.replay else "no: a live decision"
                    ),
                ),
                ("Run id", _code(run.run_id)),
                ("Rules", counts),
                ("Evidence", text(evidence)),
                ("Policy set", H(f"{_code(run.policy_digest)} ({len(run.rules)} rules)")),
                (
                    "Engine",
                    text(f"{run.engine.name} {run.engine.version or ''}, affidavit {run.affidavit_version}"),
                ),
            ]
        )
    )
    return H("\n".join(parts))


def _section(title: str, section_id: str, *content: H) -> H:
    return _el("section", H(_el("h2", title) + "".join(content)), id=section_id)


def _input_errors(run: Run) -> H:
    if not run.input_errors:
        return H("")
    rows = [(_code(e.source), text(e.kind or "-"), text(e.message)) for e in run.input_errors]
    return _section(
        "Evidence that could not be read",
        "unreadable",
        _el(
            "p",
            "The gate cannot vouch for what it could not read. Fix or replace these files and run it again.",
        ),
        _table(("File", "Kind", "Problem"), rows),
    )


def _control_line(run: Run, rule: RuleReport) -> H:
    parts = []
    for matrix in run.matrices:
        ids = rule.controls.get(matrix.framework) or ()
        if ids:
            parts.append(H(f"{text(matrix.display)} {_join(ids, ' / ')}"))
    return _join(parts, "; ", "no control mapped")


def _messages(label: str, items: Sequence[Violation], refs: Refs) -> list[tuple[str, H]]:
    out = []
    for v in items[:MAX_MESSAGES]:
        evidence = H(f" (evidence {refs(v.evidence_ids)})") if v.evidence_ids else H("")
        out.append((label, H(text(v.msg) + evidence)))
    if len(items) > MAX_MESSAGES:
        out.append((label, text(f"... and {len(items) - MAX_MESSAGES} more in results.json")))
    return out


def _blocking(run: Run, blocking: Sequence[RuleReport], refs: Refs) -> H:
    if not blocking:
        return H("")
    cards = []
    for n, rule in enumerate(blocking, 1):
        rows: list[tuple[str, H]] = [
            ("Outcome", _badge(rule.outcome)),
            ("Rule", H(f"{_code(rule.id)}, severity {text(rule.severity)}")),
            ("Controls", _control_line(run, rule)),
        ]
        if rule.error:
            rows.append(("Error", text(rule.error)))
        elif rule.reason:
            rows.append(("Reason", text(rule.reason)))
        rows += _messages("Because", rule.violations, refs)
        rows += _messages("Missing", rule.missing, refs)
        rows.append(("Fix", text(rule.remediation)))
        body = H("".join(_el("dt", k) + _el("dd", v) for k, v in rows))
        kind = "rule insufficient" if rule.outcome is Outcome.INSUFFICIENT_EVIDENCE else "rule"
        cards.append(
            _el("article", H(_el("h3", H(f"{n}. {text(rule.title)}")) + _el("dl", body)), class_=kind)
        )
    return _section("Why promotion is blocked", "blocking", *cards)


def _warnings(run: Run, refs: Refs) -> H:
    rules = [r for r in run.rules if r.outcome is Outcome.WARN]
    if not rules:
        return H("")
    rows = [
        (
            _code(r.id),
            text(r.title),
            _join([v.msg for v in r.warnings[:3]], "; "),
            text(r.reason or ""),
        )
        for r in rules
    ]
    return _section(
        "Warnings (not blocking)", "warnings", _table(("Rule", "Title", "Warning", "Reason"), rows)
    )


def _waivers(run: Run) -> H:
    hidden = [(rule, applied) for rule in run.rules for applied in rule.waived]
    if not run.waivers and not hidden:
        return H("")
    content = []
    rows = [
        (
            _code(w.rule),
            text(w.owner),
            text(w.approver or "-"),
            text(w.expires_text),
            text(w.reason),
            _join(
                [p for p in (w.subject, w.evidence_id, ", ".join(w.findings) if w.findings else None) if p],
                "; ",
                "whole rule",
            ),
            text(w.ticket or "-"),
        )
        for w in run.waivers
    ]
    content.append(
        _table(
            ("Rule", "Owner", "Approver", "Until", "Reason", "Scope", "Ticket"), rows, table_id="t-waivers"
        )
    )
    if hidden:
        findings = [
            (
                _code(rule.id),
                text(applied.waiver.owner),
                text(applied.waiver.expires_text),
                H(
                    _join([v.msg for v in applied.findings[:MAX_MESSAGES]], "; ", "-")
                    + (text(" (also stood in for absent evidence)") if applied.absent_evidence else "")
                ),
            )
            for rule, applied in hidden
        ]
        content.append(_el("h3", "What the waivers hid"))
        content.append(_table(("Rule", "Waiver of", "Until", "Findings it hid"), findings))
    return _section("Waivers", "waivers", *content)


def _controls(run: Run, refs: Refs) -> H:
    evidence_by_rule = {r.id: r.evidence_ids for r in run.rules}
    content = [
        _el(
            "p",
            "A control's status is the worst outcome of the rules that test it; a control no rule tests "
            "(coverage manual) is not assessed here, which is not a pass.",
        )
    ]
    frameworks = [m.framework for m in run.matrices if m.framework in run.controls]
    frameworks += sorted(set(run.controls) - set(frameworks))
    for n, framework in enumerate(frameworks, 1):
        statuses: Sequence[ControlStatus] = run.controls[framework]
        coverage: dict[str, int] = {}
        for s in statuses:
            coverage[s.coverage] = coverage.get(s.coverage, 0) + 1
        met = sum(1 for s in statuses if s.outcome is not None and not s.outcome.blocks)
        blocked = sum(1 for s in statuses if s.outcome is not None and s.outcome.blocks)
        summary = _join([f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(coverage.items())])
        content.append(_el("h3", run.label(framework)))
        content.append(
            _el(
                "p",
                H(
                    f"{len(statuses)} controls; coverage: {summary}. "
                    f"{met} whose rules passed or do not apply, {blocked} failing or lacking evidence, "
                    f"{len(statuses) - met - blocked} not assessed; "
                    f"{sum(1 for s in statuses if s.coverage in ('partial', 'manual'))} need people (partial or manual)."
                ),
            )
        )
        # Controls the rules test first (matrix order), then those no rule tests.
        statuses = [s for s in statuses if s.rule_ids] + [s for s in statuses if not s.rule_ids]
        rows = []
        for s in statuses:
            ids = sorted({e for rule in s.rule_ids for e in evidence_by_rule.get(rule, ())})
            rows.append(
                (
                    _el("strong", s.control_id, class_="nowrap"),
                    text(s.title),
                    _badge(s.outcome),
                    text(s.coverage.replace("_", " ")),
                    _join([_code(r) for r in s.rule_ids], " ", "-"),
                    refs(ids) if ids else text("-"),
                )
            )
        content.append(
            _table(
                ("Control", "Title", "Status", "Coverage", "Rules", "Evidence"),
                rows,
                table_id=f"t-controls-{n}",
                ranks={2: [_rank(s.outcome) for s in statuses]},
            )
        )
    return _section("Controls", "controls", *content)


def _rules(run: Run) -> H:
    rows = [
        (
            _code(r.id),
            text(r.title),
            _badge(r.outcome),
            text(r.severity),
            *(_join(r.controls.get(m.framework) or (), ", ", "-") for m in run.matrices),
        )
        for r in run.rules
    ]
    headings = ("Rule", "Title", "Outcome", "Severity", *(m.display for m in run.matrices))
    return _section(
        "All rules",
        "rules",
        _table(headings, rows, table_id="t-rules", ranks={2: [_rank(r.outcome) for r in run.rules]}),
    )


def _subject_of(e: InputRef) -> H:
    name = e.subject_name or ""
    if e.subject_version and e.subject_version != e.subject_digest:
        name = f"{name} {e.subject_version}".strip()
    parts: list[object] = [name] if name else []
    if e.subject_digest:
        parts.append(_code(_short(e.subject_digest)))
    return _join(parts, " ", "-")


def _evidence(run: Run) -> H:
    rows = []
    for n, e in enumerate(run.inputs, 1):
        tool = " ".join(p for p in (e.tool.name, e.tool.version) if p) if e.tool else "-"
        anchor = _el("span", f"E{n}", id=f"evidence-{n}", class_="nowrap")
        rows.append(
            (
                anchor,
                H(f"{text(e.kind)}<br>{text(' '.join(p for p in (e.format, e.format_version) if p))}"),
                text(tool),
                _subject_of(e),
                H(f"{_code(e.source)}<br>{_code(e.id)}"),
                text(e.effective_at or "-"),
                _join(e.problems, "; ", "-"),
            )
        )
    return _section(
        "Evidence",
        "evidence",
        _el(
            "p",
            "Each record's id is the sha256 of the raw artefact; the artefacts (secret values redacted) and "
            "their normalised records are in the bundle's evidence/ folder.",
        ),
        _table(
            (
                "#",
                "Kind and format",
                "Tool",
                "Subject",
                "Source and sha256 (the evidence id)",
                "Effective at",
                "Oddities",
            ),
            rows,
            table_id="t-evidence",
            ranks={0: [str(n) for n in range(1, len(run.inputs) + 1)]},
        ),
    )


def _configuration(run: Run) -> H:
    content = [
        _el(
            "p",
            "Besides the evidence, these inputs could change the verdict; each is part of the run id.",
        )
    ]
    inputs = [
        (text(c.role), _code(c.path or c.value or "-"), _code(c.sha256 or "-")) for c in run.configuration
    ]
    content.append(_el("h3", "Inputs given to this run"))
    content.append(_table(("Input", "File or value", "sha256"), inputs))
    if run.rule_data_changes:
        changes = [
            (
                _code(c.key),
                _code(json.dumps(c.default, sort_keys=True)),
                _code(json.dumps(c.value, sort_keys=True)),
            )
            for c in run.rule_data_changes
        ]
        content.append(_el("h3", "Rule data that differs from the built-in defaults"))
        content.append(_table(("Key", "Built-in", "In force"), changes))
    parts = [
        (text("Engine"), text(f"{run.engine.name} {run.engine.version or ''}"), text("")),
        (text("Policy set"), text(f"{len(run.rules)} rules"), _code(run.policy_digest)),
    ]
    parts += [
        (text("Control matrix"), H(f"{text(m.display)} {text(m.version)} ({_code(m.file)})"), _code(m.sha256))
        for m in run.matrices
    ]
    parts += [(text("Policy module"), _code(f.path), _code(f.sha256)) for f in run.policy_files]
    content.append(_el("h3", "Policies, matrices and engine"))
    content.append(_table(("Part", "Version or file", "sha256"), parts, table_id="t-parts"))
    return _section("Configuration", "configuration", *content)


def _not_read(run: Run) -> H:
    if not run.not_read:
        return H("")
    rows = [(_code(n.path), text(n.action), text(n.reason)) for n in run.not_read]
    return _section("Files not read as evidence", "not-read", _table(("File", "Action", "Why"), rows))


def _checking(run: Run) -> H:
    items = [
        H(f"{_code('affidavit verify <this folder>')} recomputes every hash of the bundle."),
        H(
            "Re-running the gate with the same evidence, policies, matrices and "
            f"{_code('--now ' + run.time)} gives the same decision and a byte-identical bundle."
        ),
    ]
    return _section(
        "Clock and how to check this report",
        "checking",
        _facts(
            [
                ("Evaluated at", text(run.time)),
                ("Wall clock", text(run.wall_time or "not recorded")),
                ("Replay", text("yes" if run.replay else "no")),
            ]
        ),
        _el("ul", H("".join(_el("li", i) for i in items))),
    )
