"""``report.html``: every string of the run stays text, and a real browser renders the decision.

Hostile first: a rule message, an evidence source or a subject name holding ``<script>``,
``"><img src=x onerror=...>``, a ``javascript:`` link or U+202E must not become an element or an
attribute of the page. The page is read back with ``html.parser`` (the HTML tokenizer of the
standard library) and must have exactly the elements and attribute values of the same report with
a plain word in that field; its one ``<script>`` is the renderer's own, allowed by the hash in its
Content Security Policy (CSP Level 3, "hash-source": https://www.w3.org/TR/CSP3/#grammardef-hash-source).

Then the page is opened in headless Chromium (Debian's ``chromium``): ``--dump-dom`` gives the DOM
after the page's script ran, and ``--screenshot`` a PNG that is decoded here (zlib and the PNG
filters of RFC 2083 / ISO 15948, section 9) to check it is neither blank nor missing the banner.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import os
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from affidavit.model import Decision, Outcome, Run
from affidavit.render import registry
from affidavit.render.escape import visible
from affidavit.render.html import CSP, HtmlRenderer, render_html
from tests.attacks.support import gate, release
from tests.model.runs import sample_run
from tests.render.hostile import FIELDS, hostile_run

PLAIN = "plainword"
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute breakout": '"><img src=x onerror=alert(1)>',
    "single quote breakout": "'><svg onload=alert(1)>",
    "javascript link": '<a href="javascript:alert(1)">GO</a> javascript:alert(1)',
    "bidi override": "\u202egnp.exe \u2066x\u2069 \x1b[32mGO\x1b[0m \ud800",
    "entity": "&lt;script&gt; &#60;b&#62; &amp;",
    "comment and cdata": "<!-- hide --> <![CDATA[x]]> </td></tr></table><h1>GO</h1>",
    "style": "<style>*{display:none}</style><link rel=stylesheet href=https://evil.example/x.css>",
    "line breaks": "first\nsecond\r\n\u2028third",
}


class Page(HTMLParser):
    """The elements (with their attributes), scripts and text of one HTML document."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.scripts: list[str] = []
        self.texts: list[str] = []
        self.comments: list[str] = []
        self._in_script = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Every start tag, in order, with its attributes as written."""
        self.elements.append((tag, tuple(attrs)))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag counts as a start tag."""
        self.elements.append((tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        """The end of a script ends its text."""
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        """Text: a script's source, or page text."""
        (self.scripts if self._in_script else self.texts).append(data)

    def handle_comment(self, data: str) -> None:
        """A comment (the renderer writes none)."""
        self.comments.append(data)

    @property
    def text(self) -> str:
        """The page text, every run of white space one space."""
        return " ".join(" ".join(self.texts).split())

    def attribute_values(self) -> list[str]:
        """Every attribute value of the page."""
        return [v for _, attrs in self.elements for _, v in attrs if v is not None]


def check_html(field: str, payload: str, plain_run: Run, run: Run) -> None:
    """The page of ``run`` (``payload`` in ``field``) has exactly the elements and attribute values
    of ``plain_run``'s, one script (the renderer's, allowed by the CSP's hash), and shows the
    payload as text. Usable by the cross-renderer escaping suite too."""
    out = render_html(run)
    out.encode("utf-8")  # the bundle writes it as UTF-8: no lone surrogate may reach it
    page = Page(out)
    baseline = Page(render_html(plain_run))
    assert page.elements == baseline.elements
    assert page.comments == [] and baseline.comments == []
    assert [tag for tag, _ in page.elements].count("script") == 1
    assert ("script", ()) in page.elements  # no src, no attributes at all
    (script,) = page.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CSP
    for value in page.attribute_values():
        assert "javascript:" not in value and "onerror" not in value and "alert" not in value
        assert not re.search(r"https?:", value), value
    for tag, attrs in page.elements:
        assert tag not in ("img", "svg", "a", "iframe", "link", "base", "object", "embed", "form") or (
            tag == "a" and all(name == "href" and (v or "").startswith("#evidence-") for name, v in attrs)
        ), (tag, attrs)
        assert not any(name.startswith("on") for name, _ in attrs)
    shown = visible(" ".join(payload.split()))
    full = field == "*" or FIELDS[field].markdown == "full"
    if full and field not in ("input.effective_at",):
        assert shown in page.text, (field, shown)
    assert "\u202e" not in page.text and "\x1b" not in page.text


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_hostile_text_in_any_field_makes_no_element_or_attribute(field: str, payload: str) -> None:
    value = PAYLOADS[payload]
    check_html(field, value, hostile_run(field, PLAIN), hostile_run(field, value))


@pytest.mark.parametrize("decision", list(Decision))
def test_the_banner_is_the_runs_verdict_whatever_the_text_says(decision: Decision) -> None:
    page = Page(render_html(hostile_run("*", "GO", decision)))
    starts = [i for i, (tag, attrs) in enumerate(page.elements) if ("id", "decision") in attrs]
    assert len(starts) == 1
    assert f"Production go/no-go evidence {decision.value} " in page.text
    assert page.text.count(f" {decision.value} (exit code {decision.exit_code})") == 1


def test_the_page_fetches_nothing_and_runs_only_its_own_script() -> None:
    out = render_html(sample_run())
    page = Page(out)
    metas = [dict(attrs) for tag, attrs in page.elements if tag == "meta"]
    csp = [m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [CSP]
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-")
    assert "unsafe-eval" not in CSP and "script-src 'unsafe-inline'" not in CSP
    assert not any(
        name in ("src", "srcset", "action", "formaction") for _, attrs in page.elements for name, _ in attrs
    )
    assert "url(" not in out and "@import" not in out
    assert not re.search(r"https?://", out)


def test_every_section_is_there() -> None:
    run = hostile_run(None, PLAIN)
    page = Page(render_html(run))
    ids = {v for _, attrs in page.elements for n, v in attrs if n == "id"}
    assert {
        "decision",
        "unreadable",
        "blocking",
        "warnings",
        "waivers",
        "controls",
        "rules",
        "evidence",
    } <= ids
    assert {"configuration", "checking", "t-rules", "t-evidence", "t-waivers", "t-controls-1"} <= ids
    text = page.text
    assert "Fix Fix it." in text and "Because CVE-1 in pyjwt (evidence E1 )" in text
    assert "sam dana 2026-12-04 the key was never valid" in text  # the waiver, with its approver
    assert "Evaluated at 2026-11-20T12:00:00Z" in text
    assert "coverage: 1 automated" in text


def test_a_replay_says_so_at_the_top() -> None:
    run = replace(sample_run(), replay=True, wall_time="2026-12-01T09:00:00Z")
    text = Page(render_html(run)).text
    assert text.index("REPLAY, not a live promotion decision") < text.index("Subject")
    assert "it ran at 2026-12-01T09:00:00Z" in text


def test_renderer_is_deterministic_and_in_every_bundle() -> None:
    renderer = registry.renderer("html")
    assert renderer.filename == "report.html" and renderer in registry.bundle_renderers()
    assert HtmlRenderer().render(sample_run()) == HtmlRenderer().render(sample_run())
    passing = HtmlRenderer().render(sample_run(outcome=Outcome.PASS))
    assert "NO-GO" not in passing and ">GO<" in passing


# ---------------------------------------------------------------------------------------------
# A real browser on real gate runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline (no network features, a private profile), with a time bound."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (apt-get install chromium)")
        pytest.skip("chromium is not installed here (apt-get install -y chromium); it runs under CI")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB(A) rows of an 8-bit PNG (ISO 15948: chunks, zlib, five filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    step = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - step] if i >= step else 0
                b = previous[i]
                c = previous[i - step] if i >= step else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r[i] for i in range(len(r)) if i % step < 3) for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("which", "word", "banner"), [("no-go", "NO-GO", (0xCF, 0x22, 0x2E)), ("go", "GO", (0x1A, 0x7F, 0x37))]
)
def test_chromium_renders_the_decision_failing_controls_and_evidence(
    tmp_path: Path, which: str, word: str, banner: tuple[int, int, int]
) -> None:
    result = gate(tmp_path, release(tmp_path, which))
    assert result.exit_code == (1 if which == "no-go" else 0)
    (bundle,) = result.bundles
    report = bundle / "report.html"
    run = Run.from_json(result.results)
    assert report.read_text() == render_html(run)  # the bundle's page is this renderer's, from the gate's Run

    dumped = _chromium(tmp_path / "profile", "--dump-dom", report.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert re.search(r'<html lang="en" data-report="ready">', dom), "the page's script did not run"
    assert dom.count('<button type="button" class="sort">') >= 10  # the script made the headings sortable
    page = Page(dom)
    text = page.text
    assert f"Production go/no-go evidence {word} " in text
    blocking = [r for r in run.rules if r.outcome.blocks]
    assert (word == "NO-GO") == bool(blocking)
    for rule in blocking:
        assert visible(" ".join(rule.title.split())) in text
    failing = [s for statuses in run.controls.values() for s in statuses if s.outcome is Outcome.FAIL]
    assert (word == "NO-GO") == bool(failing)
    for status in failing:
        assert f"{status.control_id} {visible(' '.join(status.title.split()))} fail" in text
    for e in run.inputs:
        assert e.id in text and e.source in text

    shot = tmp_path / "report.png"
    taken = _chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1000,700",
        "--hide-scrollbars",
        report.as_uri(),
    )
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    assert 5_000 < shot.stat().st_size < 5_000_000
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 700)
    pixels = [row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 12)]
    colours = set(pixels)
    white = sum(1 for p in pixels if p == b"\xff\xff\xff")
    assert len(colours) > 40, "the screenshot is nearly one colour"
    assert 0.02 < 1 - white / len(pixels) < 0.9, "the screenshot is blank or solid"
    # The decision banner, in the verdict's colour, is in the first screen.
    target = bytes(banner)
    assert sum(1 for row in rows[:250] for i in range(0, len(row), 3) if row[i : i + 3] == target) > 5_000


def check_html_escaping(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """``check_html`` in the signature of the cross-renderer escaping suite's CHECKS."""
    check_html(field, payload, plain_run, run)


_DRIVER = """
(function () {
  var root = document.documentElement;
  var table = document.getElementById("t-rules");
  var heading = table.tHead.rows[0].cells[2].querySelector("button.sort");
  function order() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return r.cells[0].textContent.trim();
    }).join(",");
  }
  heading.click();
  root.setAttribute("data-ascending", order());
  heading.click();
  root.setAttribute("data-descending", order());
  var box = document.querySelector('input.filter[data-table="t-rules"]');
  box.value = "SIGNED";
  box.dispatchEvent(new Event("input"));
  var shown = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; });
  root.setAttribute("data-filtered", shown.map(function (r) { return r.cells[0].textContent.trim(); }).join(","));
  root.setAttribute("data-box-shown", String(!box.hidden));
}());
"""


@pytest.mark.slow
def test_chromium_sorts_filters_and_prints(tmp_path: Path) -> None:
    """The page's own script, driven in Chromium by a test script that the test adds to the page's
    CSP by its hash: a heading click sorts by outcome (worst last, then first), the filter box
    hides the rows that do not match (case-insensitive). ``--print-to-pdf`` prints the page."""
    page = render_html(hostile_run(None, PLAIN))
    digest = base64.b64encode(hashlib.sha256(_DRIVER.encode()).digest()).decode()
    own = CSP.split("script-src ", 1)[1].split(";", 1)[0]
    written = html.escape(own, quote=True)  # as the meta element's attribute holds it
    assert written in page
    driven = page.replace(written, html.escape(f"{own} 'sha256-{digest}'", quote=True), 1).replace(
        "</body>", f"<script>{_DRIVER}</script>\n</body>", 1
    )
    path = tmp_path / "report.html"
    path.write_text(driven, encoding="utf-8")
    dumped = _chromium(tmp_path / "profile", "--dump-dom", path.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    (root,) = [dict(attrs) for tag, attrs in Page(dumped.stdout).elements if tag == "html"]
    worst_last = [
        "iac.encrypted",
        "secrets.no_secrets",
        "vulnerabilities.database_fresh",
        "supply_chain.signed",
        "vulnerabilities.fixable_within_window",
        "code_analysis.tool_error",
    ]
    assert root["data-report"] == "ready"
    assert root["data-ascending"] == ",".join(worst_last)
    assert root["data-descending"] == ",".join(reversed(worst_last))
    assert root["data-filtered"] == "supply_chain.signed" and root["data-box-shown"] == "true"
    # The unchanged page, printed: a PDF of more than one page.
    original = tmp_path / "original.html"
    original.write_text(page, encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    printed = _chromium(
        tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer", original.as_uri()
    )
    assert printed.returncode == 0 and pdf.is_file(), printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2


@pytest.mark.slow
def test_chromium_runs_no_script_but_the_pages_own(tmp_path: Path) -> None:
    """Defence in depth: were a script or an event handler ever to slip into the page, the CSP
    (no 'unsafe-inline' for scripts, only the hash of the page's own) keeps Chromium from running it."""
    page = render_html(sample_run())
    planted = (
        '<script>document.documentElement.setAttribute("data-injected", "script")</script>'
        "<img src=\"x\" onerror=\"document.documentElement.setAttribute('data-injected', 'handler')\">"
    )
    path = tmp_path / "report.html"
    path.write_text(page.replace("<h1>", planted + "<h1>", 1), encoding="utf-8")
    dumped = _chromium(tmp_path / "profile", "--dump-dom", path.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    (root,) = [dict(attrs) for tag, attrs in Page(dumped.stdout).elements if tag == "html"]
    assert root.get("data-report") == "ready"
    assert "data-injected" not in root


def test_a_go_page_claims_rules_not_controls_and_counts_who_needs_people() -> None:
    """Issue 10: a GO is a statement about rules; partial and manual controls need people."""
    from affidavit.model import Decision
    from affidavit.render.html import HtmlRenderer
    from tests.model.runs import sample_run

    page = HtmlRenderer().render(dataclasses.replace(sample_run(), decision=Decision.GO))
    assert "Every control in scope passed" not in page
    assert "not a statement that any control is met" in page
    assert "need people (partial or manual)" in page
