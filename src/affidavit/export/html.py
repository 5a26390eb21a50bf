"""``audit-period.html``: the period as one self-contained page, from period.json only.

Like the gate's ``report.html`` (``render.html``), the page fetches nothing: no script at all, an
inline style, and a Content Security Policy of ``default-src 'none'``. Every value from a run is
written with ``render.html.text`` (white space squeezed, controls spelled out, markup escaped);
every element and attribute is this module's own.

Each control with rules has a small **trend**: an inline SVG of its weekly pass rate (one bar per
week of the period, height the share of passing runs; a short grey mark for a week without a run
that judged it), and the DORA metrics have theirs (deployments, change failure rate and median lead
time per week): ``trend.py``. Their coordinates are integers computed from the counts, so the page
is byte-for-byte reproducible.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from affidavit.export.deployments import METRICS
from affidavit.export.trend import count_svg, hours_svg, pass_rate_svg, rate_svg
from affidavit.render.html import H, text

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_STYLE = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}code{font-size:12px}.bad{color:#a00}.ok{color:#070}"
    "svg{display:block}@media print{body{margin:0}tr{break-inside:avoid}}"
)
#: Not-counted deployments of the lead time listed on the page (all of them are in period.json).
_LISTED = 50


def trend_svg(rates: list[float | None]) -> H:
    """The weekly pass-rate bars of one control (``trend.pass_rate_svg``)."""
    return pass_rate_svg(rates)


def _row(cells: list[H | str | int | None], head: bool = False) -> str:
    """A table row: ``H`` cells kept, anything else escaped."""
    tag = "th" if head else "td"
    return (
        "<tr>"
        + "".join(f"<{tag}>{c if isinstance(c, H) else text('-' if c is None else c)}</{tag}>" for c in cells)
        + "</tr>"
    )


def _code(value: object) -> H:
    """``value`` as code."""
    return H(f"<code>{text(value)}</code>")


def render_period_html(doc: dict[str, Any]) -> str:
    """The page for a period document (``write.PERIOD_SCHEMA``)."""
    period, population, merkle, framework = doc["period"], doc["population"], doc["merkle"], doc["framework"]
    out: list[str] = [
        f"<h1>Audit period evidence: {text(framework['label'])}, {text(period['name'])}</h1>",
        "<table>",
        _row(["Period", f"{period['first_day']} to {period['last_day']} ({period['days']} days, UTC)"]),
        _row(["Environment", doc["environment"] or "every environment"]),
        _row(["Store", _code(doc["store"])]),
        _row(["Population", f"{population['runs']} run(s) on {population['days_with_promotions']} day(s)"]),
        _row(["Decisions", ", ".join(f"{k} {v}" for k, v in population["decisions"].items()) or "none"]),
        _row(["Population sha256", _code(population["sha256"])]),
        _row(["Merkle root", _code(f"{merkle['algorithm']} {merkle['tree_size']} {merkle['root']}")]),
        "</table>",
        "<h2>Controls</h2>",
        "<table>",
        _row(
            [
                "Control",
                "Coverage",
                "Rules",
                "Promotions",
                "Passed",
                "Failed",
                "Waived",
                "Days operated / failed / manual / not assessed / none",
                "Weekly pass rate",
            ],
            head=True,
        ),
    ]
    for c in doc["controls"]:
        d, n = c["days"], c["counts"]
        days = f"{d['operated']} / {d['failed']} / {d['manual']} / {d['not_assessed']} / {d['no_promotion']}"
        rules = H(", ".join(_code(r) for r in c["rules"])) if c["rules"] else "-"
        trend = trend_svg(c["weekly_pass_rate"]) if c["rules"] else "-"
        out.append(
            _row(
                [f"{c['id']} {c['title']}", c["coverage"], rules, n["gated_promotions"], n["passed"], n["failed"],
                 n["waived"], days, trend]
            )
        )  # fmt: skip
    out += ["</table>", "<h2>Exceptions: waivers applied</h2>"]
    ledger = doc["waivers"]["ledger"]
    if ledger:
        out.append("<table>")
        out.append(
            _row(["Rule", "Owner", "Approver", "Reason", "Expires", "Runs", "Findings hidden"], head=True)
        )
        for w in ledger:
            waiver = w["waiver"]
            out.append(
                _row(
                    [waiver.get("rule"), waiver.get("owner"), waiver.get("approver"), waiver.get("reason"),
                     waiver.get("expires"), w["runs"], w["findings_hidden"]]
                )
            )  # fmt: skip
        out.append("</table>")
    else:
        out.append("<p>No waiver was applied in the period.</p>")
    out += ["<h2>Rules and matrices in force</h2>", "<table>"]
    out.append(_row(["Policy set", "Runs", "Rules", "First use", "Last use", "Changes"], head=True))
    for p in doc["policy_changes"]:
        changes = p.get("changes") or {}
        said = "; ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in changes.items() if v) or "-"
        out.append(
            _row(
                [
                    _code(p["policy_set_sha256"]),
                    p["runs"],
                    p["rules"],
                    p["first_use"]["time"],
                    p["last_use"]["time"],
                    said,
                ]
            )
        )
    out.append("</table>")
    sample = doc["sample"]
    out += [
        "<h2>Sample to re-perform</h2>",
        f"<p>Seed {text(sample['seed'])}, frequency {text(sample['frequency'])}, size {text(sample['size'])} "
        f"({text(sample['size_source'])}).</p>",
        "<table>",
        _row(["#", "Run", "Time", "Decision", "Bundle"], head=True),
    ]
    for s in sample["runs"]:
        out.append(
            _row([s["position"], _code(s["run_id"]), s["time"], s["decision"], s["bundle"].get("path")])
        )
    out.append("</table>")
    out += _dora(doc["dora"])
    deployments = doc["deployments"]
    out += [
        "<h2>Deployments reconciled</h2>",
        f"<p>Sources reconciled: {text(', '.join(deployments['reconciled']) or 'none')}; not given: "
        f"{text(', '.join(deployments['not_given']) or 'none')}.</p>",
    ]
    if deployments["exceptions"]:
        out.append("<table>")
        out.append(
            _row(["Source", "Deployment", "Environment", "Time", "Of", "Why it is an exception"], head=True)
        )
        for e in deployments["exceptions"]:
            what = e.get("digest") or e.get("commit") or "nothing named"
            out.append(_row([e["source"], e["ref"], e["environment"], e["time"], _code(what), e["reason"]]))
        out.append("</table>")
    title = f"Audit period evidence: {framework['label']}, {period['name']}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP, quote=True)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(out)
        + "\n</body>\n</html>\n"
    )


def _dora(dora: dict[str, Any]) -> list[str]:
    """The DORA section: each metric with what it was computed from (or why not) and its weekly
    trend, then the deployments the lead time did not count and why."""
    weekly = dora.get("weekly") or {}
    first = date.fromisoformat(weekly["from"]) if weekly.get("from") else None
    charts: dict[str, H | str] = {
        "deployment_frequency": count_svg(weekly["deployments"], first) if weekly else "-",
        "change_failure_rate": rate_svg(weekly["change_failure_rate"], first) if weekly else "-",
        "lead_time_for_changes": hours_svg(weekly["lead_time_hours"], first) if weekly else "-",
        "time_to_restore": "-",
    }
    out = [
        "<h2>DORA metrics</h2>",
        "<table>",
        _row(["Metric", "Value", "From, or why not", "Per week"], head=True),
    ]
    for name in METRICS:
        metric = dora[name]
        value = None if metric["value"] is None else f"{metric['value']} {metric.get('unit', '')}".strip()
        if metric.get("p90") is not None:
            value = f"{value}, p90 {metric['p90']} hours (nearest rank)"
        said = metric.get("from") or metric.get("why_not")
        out.append(_row([name.replace("_", " "), value, said, charts[name]]))
    out.append("</table>")
    skipped = dora["lead_time_for_changes"].get("not_counted") or []
    if skipped:
        out += [
            f"<p>Deployments the lead time did not count: {len(skipped)}"
            + (f" (the first {_LISTED} here; all in period.json)" if len(skipped) > _LISTED else "")
            + ".</p>",
            "<table>",
            _row(["Source", "Deployment", "Time", "Commit", "Why not counted"], head=True),
        ]
        for e in skipped[:_LISTED]:
            commit = _code(e["commit"]) if e.get("commit") else None
            out.append(_row([e["source"], e["ref"], e["time"], commit, e["why"]]))
        out.append("</table>")
    return out
