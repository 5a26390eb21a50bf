"""npm audit reports: npm 6 advisories, npm 7+ vulnerabilities/via, and npm's error outputs."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors.formats.npm_audit import detect
from affidavit.collectors.interface import NO
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_severity import (
    check_record,
    collect,
    scanner_registry,
)
from tests.conftest import CORPUS, corpus_index

__all__ = ["scanner_registry"]  # the fixture, used by name

FOLDER = "scan-npm-audit"
ENTRIES = corpus_index(FOLDER)
NPM_WORDS = {"critical": "critical", "high": "high", "moderate": "medium", "low": "low", "info": "negligible"}

pytestmark = pytest.mark.usefixtures("scanner_registry")


def _raw(name: str) -> bytes:
    """The bytes of a corpus file of this folder."""
    return (CORPUS / FOLDER / name).read_bytes()


def _advisory_id(advisory: dict[str, Any], number: Any) -> str:
    """GHSA id, else the first CVE, else NPM-<number>, as the module docstring promises."""
    ghsa = re.search(r"GHSA-[\w]{4}-[\w]{4}-[\w]{4}", advisory.get("url") or "")
    if advisory.get("github_advisory_id"):
        return str(advisory["github_advisory_id"])
    if ghsa:
        return ghsa.group(0)
    cves = sorted(advisory.get("cves") or [])
    return cves[0] if cves else f"NPM-{number}"


def _expected(report: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    """(id, package, version, severity) per finding, read straight from the report."""
    rows: list[tuple[str, str, str | None, str]] = []
    if "auditReportVersion" in report:
        seen: set[tuple[Any, str]] = set()
        for entry in report["vulnerabilities"].values():
            for via in entry["via"]:
                if isinstance(via, dict) and (via["source"], via["name"]) not in seen:
                    seen.add((via["source"], via["name"]))
                    rows.append(
                        (_advisory_id(via, via["source"]), via["name"], None, NPM_WORDS[via["severity"]])
                    )
        return rows
    for key, advisory in report["advisories"].items():
        versions = list(dict.fromkeys(f["version"] for f in advisory["findings"])) or [None]
        rows.extend(
            (
                _advisory_id(advisory, advisory.get("id", key)),
                advisory["module_name"],
                version,
                NPM_WORDS[advisory["severity"]],
            )
            for version in versions
        )
    return rows


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises_or_is_refused(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    report = json.loads(raw)
    if "error" in report:  # "edge case: error object instead of a report"
        with pytest.raises(InputError) as caught:
            collect(FOLDER, entry["file"])
        message = str(caught.value)
        assert entry["file"] in message
        assert report["error"]["code"] in message  # npm's error code, a word such as ENOAUDIT
        assert report["error"]["summary"] not in message  # npm's sentence stays in the file
        return
    expected = _expected(report)
    evidence = collect(FOLDER, entry["file"])
    data = check_record(evidence)["data"]
    assert evidence.kind is EvidenceKind.VULNERABILITY_SCAN and evidence.format == "npm-audit-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert evidence.format_version == (
        str(report["auditReportVersion"]) if "auditReportVersion" in report else None
    )
    got = [(f["id"], f["package"]["name"], f["package"]["version"], f["severity"]) for f in data["findings"]]
    assert got == expected
    for level in ("critical", "high", "medium", "low", "negligible"):
        assert data["summary"][level] == sum(1 for row in expected if row[3] == level)
    assert data["summary"]["total"] == len(expected)


def test_npm6_ids_fixed_versions_and_dates() -> None:
    evidence = collect(FOLDER, "defectdojo-npm_audit-many_vuln.json")
    pg = next(f for f in evidence.data["findings"] if f["package"]["name"] == "pg")
    assert pg["id"] == "CVE-2017-16082" and pg["aliases"] == ["NPM-521"]
    assert pg["fixed_versions"][:3] == ["2.11.2", "3.6.4", "4.5.7"] and pg["fixed_versions"][-1] == "7.1.2"
    assert pg["status"] == "fixed"
    assert pg["published_at"] == "2017-08-13T04:26:17Z"  # 04:26:17.96Z, to the second
    assert pg["package"]["purl"] == "pkg:npm/pg@5.1.0"


def test_npm7_counts_only_advisories_and_reads_cvss() -> None:
    report = json.loads(_raw("defectdojo-npm_audit_7_plus-many_vulns.json"))
    evidence = collect(FOLDER, "defectdojo-npm_audit_7_plus-many_vulns.json")
    names = [f["package"]["name"] for f in evidence.data["findings"]]
    only_names = [
        k for k, v in report["vulnerabilities"].items() if all(isinstance(x, str) for x in v["via"])
    ]
    assert only_names and not set(only_names) & set(names)  # vercel, @vercel/fun ... are only "via"
    debug = evidence.data["findings"][0]
    assert (debug["cvss_score"], debug["title"]) == (5.3, "Regular Expression Denial of Service in debug")
    assert debug["aliases"] == ["NPM-1094219"] and debug["data_source"] == "ghsa"
    assert debug["fixed_versions"] == []  # the fix upgrades vercel, not debug
    assert debug["status"] == "fixed"


def test_npm7_duplicate_advisories_and_direct_fix() -> None:
    advisory = {
        "source": 1,
        "name": "minimist",
        "dependency": "minimist",
        "title": "Prototype Pollution",
        "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
        "severity": "critical",
        "cwe": [],
        "cvss": {"score": 0, "vectorString": None},
        "range": "<1.2.6",
    }
    report = {
        "auditReportVersion": 2,
        "vulnerabilities": {
            "minimist": {
                "name": "minimist",
                "severity": "critical",
                "isDirect": True,
                "via": [advisory, advisory],
                "effects": [],
                "range": "<1.2.6",
                "nodes": ["node_modules/minimist"],
                "fixAvailable": {"name": "minimist", "version": "1.2.8", "isSemVerMajor": False},
            },
            "mkdirp": {
                "name": "mkdirp",
                "severity": "critical",
                "isDirect": False,
                "via": ["minimist"],
                "effects": [],
                "range": "0.4.1",
                "nodes": ["node_modules/mkdirp"],
                "fixAvailable": False,
            },
        },
        "metadata": {},
    }
    evidence = collect(FOLDER, "npm7.json", raw=json.dumps(report).encode())
    [item] = evidence.data["findings"]
    assert item["id"] == "GHSA-xvch-5gv4-984h" and item["cvss_score"] is None
    assert item["fixed_versions"] == ["1.2.8"] and item["status"] == "fixed"
    assert item["package"]["purl"] == "pkg:npm/minimist"


def test_npm_text_error_output_is_refused() -> None:
    raw = b"npm ERR! code ENOLOCK\nnpm ERR! audit This command requires an existing lockfile.\n"
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "audit.json", raw=raw)
    assert "scan-npm-audit/audit.json" in str(caught.value)
    assert "is npm's error output (2 error line(s)" in str(caught.value)
    assert "ENOLOCK" not in str(caught.value) and "lockfile" not in str(caught.value)


def test_other_error_objects_and_html_pages_are_not_taken_for_npm() -> None:
    foreign = b'{"error": {"code": 404, "message": "Not Found"}}'
    assert detect(Artefact("x.json", foreign)) == NO
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    assert detect(Artefact("audit.json", page)) == NO
    with pytest.raises(InputError) as caught:  # no scanner format claims it: the registry refuses it by name
        collect(FOLDER, "audit.json", raw=page)
    assert "scan-npm-audit/audit.json" in str(caught.value)
