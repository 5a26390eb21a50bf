"""Small weekly bar charts as inline SVG, for ``audit-period.html``: no plotting library, no script.

One bar per week of the period. Every coordinate is an integer computed from the values alone and
every number written is formatted here, so the same series gives the same bytes on every machine.
Titles (the chart's and each bar's, shown as tooltips and read by screen readers) are escaped
although only this module writes them.

* ``pass_rate_svg``: a control's weekly pass rate (height the share of passing runs; green at
  100 %, amber from 50 %, red below; a short grey mark for a week with no judged run).
* ``count_svg``: deployments per week (height relative to the busiest week; a one-pixel base for a
  week without any).
* ``rate_svg``: change failure rate per week (height the share that failed, red; a one-pixel green
  base for a week where none failed; grey mark: no deployment with a final status).
* ``hours_svg``: median lead time per week (height relative to the longest week; grey mark: no
  lead time known that week).
"""

from __future__ import annotations

import html
from datetime import date, timedelta

from affidavit.render.html import H

#: The pass-rate bars (one per week, in the controls table).
PASS_BAR, PASS_HEIGHT = 6, 24
#: The DORA bars (a little larger: their table has room).
BAR, HEIGHT = 8, 32
GREY, GREEN, AMBER, RED, BLUE = "#bbb", "#2a7", "#e90", "#c33", "#47a"


def _svg(width: int, height: int, title: str, bars: list[str]) -> H:
    """The SVG element around ``bars``."""
    label = html.escape(title, quote=True)
    return H(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}"><title>{label}</title>'
        + "".join(bars)
        + "</svg>"
    )


def _rect(x: int, h: int, fill: str, height: int, bar: int, tip: str | None = None) -> str:
    """One bar of height ``h`` standing on the chart's base, with an optional tooltip."""
    head = f'<rect x="{x}" y="{height - h}" width="{bar - 1}" height="{h}" fill="{fill}"'
    if tip is None:
        return head + "/>"
    return f"{head}><title>{html.escape(tip, quote=True)}</title></rect>"


def _scaled(value: float, top: float, height: int) -> int:
    """``value`` as a bar height in whole pixels (at least 1 when above zero)."""
    if top <= 0 or value <= 0:
        return 0
    return max(1, round(value / top * height))


def _week(first: date | None, week: int) -> str:
    """The words for one week: its dates when the period's first day is known."""
    if first is None:
        return f"week {week + 1}"
    start = first + timedelta(days=7 * week)
    return f"week {week + 1} ({start.isoformat()} to {(start + timedelta(days=6)).isoformat()})"


def pass_rate_svg(rates: list[float | None]) -> H:
    """A control's weekly pass-rate bars (see the module docstring)."""
    width = max(1, len(rates)) * PASS_BAR
    bars: list[str] = []
    for week, rate in enumerate(rates):
        x = week * PASS_BAR
        if rate is None:
            bars.append(_rect(x, 2, GREY, PASS_HEIGHT, PASS_BAR))
            continue
        h = max(1, round(float(rate) * PASS_HEIGHT))
        fill = GREEN if rate >= 1 else RED if rate < 0.5 else AMBER
        bars.append(_rect(x, h, fill, PASS_HEIGHT, PASS_BAR))
    return _svg(width, PASS_HEIGHT, "weekly pass rate", bars)


def count_svg(counts: list[int], first: date | None = None, what: str = "deployments") -> H:
    """Bars of a count per week (deployments), scaled to the busiest week."""
    top = max(counts, default=0)
    bars: list[str] = []
    for week, n in enumerate(counts):
        h = _scaled(n, top, HEIGHT)
        tip = f"{_week(first, week)}: {n} {what}"
        bars.append(_rect(week * BAR, h or 1, BLUE if h else GREY, HEIGHT, BAR, tip))
    return _svg(max(1, len(counts)) * BAR, HEIGHT, f"{what} per week (busiest week: {top})", bars)


def rate_svg(rates: list[float | None], first: date | None = None, what: str = "change failure rate") -> H:
    """Bars of a share per week (0 to 1): red for the share, a green base for 0, grey for none."""
    bars: list[str] = []
    for week, rate in enumerate(rates):
        x = week * BAR
        if rate is None:
            bars.append(_rect(x, 2, GREY, HEIGHT, BAR, f"{_week(first, week)}: no {what}"))
            continue
        h = _scaled(float(rate), 1.0, HEIGHT)
        tip = f"{_week(first, week)}: {what} {round(float(rate) * 100, 1):g} %"
        bars.append(_rect(x, h or 1, RED if h else GREEN, HEIGHT, BAR, tip))
    return _svg(max(1, len(rates)) * BAR, HEIGHT, f"{what} per week", bars)


def hours_svg(hours: list[float | None], first: date | None = None, what: str = "median lead time") -> H:
    """Bars of hours per week, scaled to the longest week; grey for a week without a value."""
    top = max((float(v) for v in hours if v is not None), default=0.0)
    bars: list[str] = []
    for week, value in enumerate(hours):
        x = week * BAR
        if value is None:
            bars.append(_rect(x, 2, GREY, HEIGHT, BAR, f"{_week(first, week)}: no {what}"))
            continue
        h = _scaled(float(value), top, HEIGHT)
        bars.append(_rect(x, h or 1, BLUE, HEIGHT, BAR, f"{_week(first, week)}: {what} {float(value):.2f} h"))
    return _svg(max(1, len(hours)) * BAR, HEIGHT, f"{what} per week, hours (longest week: {top:.2f} h)", bars)
