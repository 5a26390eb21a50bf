"""audit-period.html: self-contained, every run value escaped, deterministic trends; opened in
headless Chromium (Debian's ``chromium``, as tests/render/test_html.py opens report.html)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from affidavit.cli import main
from affidavit.export.html import trend_svg
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
    assert page.count("<svg ") == len(tested)
    dumped = _chromium(tmp_path / "profile", "--dump-dom", (out / "audit-period.html").as_uri())
    assert dumped.returncode == 0, dumped.stderr[-500:]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dumped.stdout and "<script>alert" not in dumped.stdout
    assert "Audit period evidence: SOC 2, 2026-Q4" in dumped.stdout


def test_trends_are_deterministic_and_drawn_from_the_counts() -> None:
    """Same rates, same bytes; a week without a judged run is a grey mark, a full pass the full height."""
    svg = trend_svg([1.0, 0.5, None, 0.0])
    assert svg == trend_svg([1.0, 0.5, None, 0.0])
    assert '<rect x="0" y="0" width="5" height="24" fill="#2a7"/>' in svg
    assert '<rect x="12" y="22" width="5" height="2" fill="#bbb"/>' in svg
    assert svg.count("<rect") == 4
