"""Attacks through artefact text: a finding cannot write to the terminal or restructure the report.

Issue 9, finding 7. A scanner's output, a file name or a waiver reached PRODUCTION_GO_EVIDENCE.md and
the terminal raw: ``<script>``, ``javascript:`` links, headings, HTML comments, pipes that split
table cells, and ANSI sequences that cleared the screen and printed a green "GO". Each test plants
the text in the NO-GO demo release, in the documented shape of the tool that writes it, runs the
real gate and asserts:

* the release stays NO-GO (exit 1) for the reasons it was NO-GO before;
* the terminal (stdout and stderr) holds nothing that is not printable, and no line but the
  verdict's starts with a verdict; the planted text is shown spelled out (``\\x1b[2J``);
* the report, rendered by a CommonMark viewer, has exactly the elements of the report of the
  untouched release (no script, link, heading, comment or cell more), every table keeps its
  shape, and the planted text reads as the characters it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.attacks.support import GateResult, gate, release
from tests.render.markdown_check import headings, ragged_tables, structure, text_of, to_html

CLEAR_AND_FORGE = "\x1b[2J\x1b[H\x1b[32mGO\x1b[0m"
SCRIPT = "<script>alert(1)</script>"
MARKDOWN = "| x | <!-- # heading [x](javascript:alert(1)) <img src=x onerror=alert(2)>"


def _untouched(tmp_path: Path) -> GateResult:
    """The gate on the demo release as it is, for comparison."""
    return gate(tmp_path, release(tmp_path / "untouched"), out="untouched-out")


def _report(result: GateResult) -> str:
    return (result.bundles[0] / "PRODUCTION_GO_EVIDENCE.md").read_text(encoding="utf-8")


def _assert_terminal_clean(result: GateResult) -> None:
    for stream in (result.stdout, result.stderr):
        unprintable = [c for c in stream if c != "\n" and not c.isprintable()]
        assert unprintable == []
    lines = result.stdout.split("\n")
    assert lines[0].startswith("NO-GO  ")
    assert not any(line.lstrip().startswith(("GO", "NO-GO", "INCOMPLETE")) for line in lines[1:])


def _assert_report_like(result: GateResult, clean: GateResult) -> str:
    """The report has the structure of the clean release's report; its visible text is returned."""
    report = _report(result)
    assert "\x1b" not in report
    html = to_html(report)
    baseline = to_html(_report(clean))
    assert structure(html) == structure(baseline)
    assert headings(html) == headings(baseline)
    assert ragged_tables(report) == []
    lowered = html.lower()
    for planted in ("<script", "<img", "<a ", "<!--", 'javascript:alert(1)"'):
        assert planted not in lowered
    return text_of(html)


def test_a_trivy_title_and_package_name_cannot_clear_the_terminal_or_inject_html(tmp_path: Path) -> None:
    clean = _untouched(tmp_path)
    evidence = release(tmp_path)
    # Trivy's JSON report: Results[].Vulnerabilities[] with VulnerabilityID, PkgName, Title
    # (https://trivy.dev/latest/docs/configuration/reporting/#json).
    path = evidence / "trivy-image.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    planted = 0
    for result in report["Results"]:
        for vulnerability in result.get("Vulnerabilities", []):
            if vulnerability["PkgName"] == "pyjwt":
                vulnerability["Title"] = f"{CLEAR_AND_FORGE} {SCRIPT}"
                vulnerability["PkgName"] = f"pyjwt\n{CLEAR_AND_FORGE}\n# All checks passed {SCRIPT}"
                planted += 1
    assert planted
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")

    result = gate(tmp_path, evidence)

    assert result.exit_code == clean.exit_code == 1, result.stdout + result.stderr
    assert result.results["decision"] == "NO-GO"
    assert result.outcome("vulnerabilities.fixable_within_window") == "fail"
    assert [r["outcome"] for r in result.results["rules"]] == [r["outcome"] for r in clean.results["rules"]]
    _assert_terminal_clean(result)
    assert "pyjwt\\n\\x1b[2J\\x1b[H\\x1b[32mGO\\x1b[0m\\n# All checks passed <script>" in result.stdout
    seen = _assert_report_like(result, clean)
    assert "pyjwt \\x1b[2J\\x1b[H\\x1b[32mGO\\x1b[0m # All checks passed <script>alert(1)</script>" in seen


def test_a_sarif_message_rule_id_and_tool_version_cannot_split_tables_or_add_links(tmp_path: Path) -> None:
    clean = _untouched(tmp_path)
    evidence = release(tmp_path)
    # SARIF 2.1.0: runs[].tool.driver.{name, semanticVersion, rules[]}, runs[].results[] with
    # ruleId and message.text (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
    path = evidence / "codeql.sarif"
    sarif = json.loads(path.read_text(encoding="utf-8"))
    run = sarif["runs"][0]
    run["tool"]["driver"]["semanticVersion"] = f"2.19.3 {MARKDOWN}"
    blocking = next(r for r in run["results"] if r["level"] == "error")
    rule_id = f"py/sql-injection`|{SCRIPT}"
    run["tool"]["driver"]["rules"][blocking["ruleIndex"]]["id"] = rule_id
    blocking["ruleId"] = rule_id
    blocking["message"]["text"] = f"x | y\n# heading\n[x](javascript:alert(1))\n<!--\n{CLEAR_AND_FORGE}"
    path.write_text(json.dumps(sarif, indent=2), encoding="utf-8")

    result = gate(tmp_path, evidence)

    assert result.exit_code == clean.exit_code == 1, result.stdout + result.stderr
    assert result.results["decision"] == "NO-GO"
    assert result.outcome("code_analysis.no_blocking_findings") == "fail"
    assert [r["outcome"] for r in result.results["rules"]] == [r["outcome"] for r in clean.results["rules"]]
    _assert_terminal_clean(result)
    assert "x | y\\n# heading\\n[x](javascript:alert(1))\\n<!--\\n\\x1b[2J" in result.stdout
    seen = _assert_report_like(result, clean)
    assert (
        f"{rule_id} at shop/api/search.py:41: x | y # heading [x](javascript:alert(1)) <!-- \\x1b[2J" in seen
    )
    assert f"CodeQL 2.19.3 {MARKDOWN}" in seen


def test_an_evidence_file_name_cannot_write_to_the_terminal_or_the_report(tmp_path: Path) -> None:
    clean = _untouched(tmp_path)
    evidence = release(tmp_path)
    # A file name is the one text of an artefact its content does not control: the folder does.
    name = f"co`de|ql <!-- \n# x {CLEAR_AND_FORGE}.sarif"
    (evidence / "codeql.sarif").rename(evidence / name)

    result = gate(tmp_path, evidence)

    assert result.exit_code == clean.exit_code == 1, result.stdout + result.stderr
    assert [r["outcome"] for r in result.results["rules"]] == [r["outcome"] for r in clean.results["rules"]]
    _assert_terminal_clean(result)
    assert "co`de|ql <!-- \\n# x \\x1b[2J" in result.stdout
    seen = _assert_report_like(result, clean)
    assert "co`de|ql <!-- # x \\x1b[2J\\x1b[H\\x1b[32mGO\\x1b[0m.sarif" in seen
