"""audit-period.html: self-contained, every run value escaped, deterministic trends; opened in
headless Chromium (Debian's ``chromium``, as tests/render/test_html.py opens report.html)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from affidavit.cli import main
from affidavit.export.html import trend_svg
from affidavit.export.trend import count_svg, hours_svg, rate_svg
from tests.render.test_html import _chromium

if TYPE_CHECKING:
    from tests.export.conftest import Quarter


def test_the_period_page_escapes_run_text_fetches_nothing_and_renders(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Hostile: the waiver's reason carries ``<script>`` and ``**``: the page shows it as text, has
    no script, no external URL, and Chromium's DOM holds the escaped text, one SVG per tested control."""
    out = tmp_path / "audit"
    args = [
        "export",
        "--framework",
        "soc2",
        "--period",
        "2026-Q4",
        "--environment",
        "prod",
        "--store",
        quarter.url,
    ]
    result = CliRunner().invoke(main, [*args, "--sample-seed", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "audit-period.html").read_text()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(?:src|href)=", page)
    assert "default-src &#x27;none&#x27;" in page
    tested = [c for c in json.loads((out / "period.json").read_text())["controls"] if c["rules"]]
    assert page.count("<svg ") == len(tested) + 3  # and the DORA series: deployments, failure rate, lead time
    dumped = _chromium(tmp_path / "profile", "--dump-dom", (out / "audit-period.html").as_uri())
    assert dumped.returncode == 0, dumped.stderr[-500:]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dumped.stdout and "<script>alert" not in dumped.stdout
    assert "Audit period evidence: SOC 2, 2026-Q4" in dumped.stdout
    assert dumped.stdout.count("<svg ") == len(tested) + 3  # every chart parsed as SVG in the DOM
    # Same store, same options: the same page, byte for byte (charts included).
    again = tmp_path / "again"
    result = CliRunner().invoke(main, [*args, "--sample-seed", "5", "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert (again / "audit-period.html").read_bytes() == (out / "audit-period.html").read_bytes()


def test_trends_are_deterministic_and_drawn_from_the_counts() -> None:
    """Same rates, same bytes; a week without a judged run is a grey mark, a full pass the full height."""
    svg = trend_svg([1.0, 0.5, None, 0.0])
    assert svg == trend_svg([1.0, 0.5, None, 0.0])
    assert '<rect x="0" y="0" width="5" height="24" fill="#2a7"/>' in svg
    assert '<rect x="12" y="22" width="5" height="2" fill="#bbb"/>' in svg
    assert svg.count("<rect") == 4


def test_the_dora_charts_are_drawn_from_the_series_alone() -> None:
    """Deployments scale to the busiest week, a week without any keeps a one-pixel grey base; the
    failure rate is red by its share, green at zero, grey without a finished deployment; lead time
    scales to the longest week. Each bar says its week and value; same series, same bytes."""
    first = date(2026, 7, 1)
    counts = count_svg([4, 0, 2], first)
    assert counts == count_svg([4, 0, 2], first)
    assert (
        '<rect x="0" y="0" width="7" height="32" fill="#47a"><title>week 1 (2026-07-01 to 2026-07-07): 4 deployments</title></rect>'
        in counts
    )
    assert '<rect x="8" y="31" width="7" height="1" fill="#bbb">' in counts
    assert '<rect x="16" y="16" width="7" height="16" fill="#47a">' in counts
    rates = rate_svg([0.25, 0.0, None], first)
    assert (
        '<rect x="0" y="24" width="7" height="8" fill="#c33"><title>week 1 (2026-07-01 to 2026-07-07): change failure rate 25 %</title>'
        in rates
    )
    assert '<rect x="8" y="31" width="7" height="1" fill="#2a7">' in rates
    assert (
        '<rect x="16" y="30" width="7" height="2" fill="#bbb"><title>week 3 (2026-07-15 to 2026-07-21): no change failure rate</title>'
        in rates
    )
    hours = hours_svg([None, 26.0, 6.5])
    assert 'aria-label="median lead time per week, hours (longest week: 26.00 h)"' in hours
    assert (
        '<rect x="8" y="0" width="7" height="32" fill="#47a"><title>week 2: median lead time 26.00 h</title>'
        in hours
    )
    assert '<rect x="16" y="24" width="7" height="8" fill="#47a">' in hours
    assert count_svg([]).startswith('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="32"')
