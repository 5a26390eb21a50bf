"""OSV-Scanner JSON reports: every corpus file, alias groups, severities from words and CVSS vectors."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_severity import (
    check_record,
    collect,
    scanner_registry,
)
from tests.conftest import CORPUS, corpus_index

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["scanner_registry"]  # the fixture, used by name

FOLDER = "scan-osv-scanner"
ENTRIES = corpus_index(FOLDER)

pytestmark = pytest.mark.usefixtures("scanner_registry")


def _path(name: str) -> Path:
    """The path of a corpus file of this folder."""
    return CORPUS / FOLDER / name


def _expected(report: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[list[str]], set[str]]:
    """(id, package, version, target) per finding, each finding's aliases, and the targets."""
    rows: list[tuple[Any, ...]] = []
    aliases: list[list[str]] = []
    targets: set[str] = set()
    for result in report["results"]:
        target = result["source"]["path"]
        targets.add(target)
        for pkg in result["packages"]:
            groups = pkg.get("groups") or []
            done: set[int] = set()
            for vuln in pkg.get("vulnerabilities") or []:
                index = next((i for i, g in enumerate(groups) if vuln["id"] in g["ids"]), None)
                if index in done:
                    continue
                ids = groups[index]["ids"] if index is not None else [vuln["id"]]
                if index is not None:
                    done.add(index)
                names = set(ids) | set(vuln.get("aliases") or [])
                if index is not None:
                    names |= set(groups[index]["aliases"])
                rows.append((ids[0], pkg["package"]["name"], pkg["package"]["version"], target))
                aliases.append(sorted(names - {ids[0]}))
    return rows, aliases, targets


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises_or_is_refused(entry: dict[str, Any]) -> None:
    path = _path(entry["file"])
    raw = path.read_bytes()
    if entry["size"] == 0:  # "edge case: EMPTY FILE": the tool wrote nothing, which is no scan
        with pytest.raises(InputError) as caught:
            Artefact.from_path(path, source=f"{FOLDER}/{entry['file']}")
        assert entry["file"] in str(caught.value) and "empty" in str(caught.value)
        return
    report = json.loads(raw)
    rows, aliases, targets = _expected(report)
    evidence = collect(FOLDER, entry["file"])
    record = check_record(evidence)
    data = record["data"]
    assert evidence.kind is EvidenceKind.VULNERABILITY_SCAN and evidence.format == "osv-scanner-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert evidence.tool is not None and evidence.tool.name == "osv-scanner"
    got = [(f["id"], f["package"]["name"], f["package"]["version"], f["target"]) for f in data["findings"]]
    assert got == rows
    assert [f["aliases"] for f in data["findings"]] == aliases
    assert data["targets"] == sorted(targets)
    assert data["summary"]["total"] == len(rows)


def test_malicious_package_record() -> None:
    evidence = collect(FOLDER, "defectdojo-osv_scanner-some_findings.json")
    [item] = evidence.data["findings"]
    assert item["id"] == "MAL-2023-1035"
    assert item["title"] == "Malicious code in flot-axis (npm)"
    assert item["package"]["purl"] == "pkg:npm/flot-axis@0.0.0"
    assert item["package"]["ecosystem"] == "npm"
    assert item["severity"] == "unknown"  # the record states neither a severity word nor a CVSS vector
    assert item["published_at"] == "2023-08-01T05:29:33Z"


def test_license_violations_are_not_vulnerabilities() -> None:
    evidence = collect(FOLDER, "osv-scanner-snap-license-violations.json")
    assert evidence.data["findings"] == []
    assert evidence.data["targets"] == ["<rootdir>/testdata/locks-licenses/package-lock.json"]


def _record(vid: str, **fields: Any) -> dict[str, Any]:
    """A minimal OSV record with ``fields``."""
    return {"id": vid, "modified": "2024-01-01T00:00:00Z", **fields}


def test_groups_words_vectors_and_fixed_versions() -> None:
    ghsa = _record(
        "GHSA-2222-3333-4444",
        aliases=["CVE-2024-0001"],
        summary="Request smuggling",
        published="2024-02-01T10:00:00Z",
        database_specific={"severity": "MODERATE"},
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "Web_App"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.1"}]},
                    {"type": "GIT", "repo": "https://example.org/r", "events": [{"fixed": "abc123"}]},
                ],
            },
            {
                "package": {"ecosystem": "npm", "name": "web-app"},
                "ranges": [{"type": "SEMVER", "events": [{"fixed": "9.9.9"}]}],
            },
        ],
    )
    pysec = _record(
        "PYSEC-2024-10",
        aliases=["CVE-2024-0001", "GHSA-2222-3333-4444"],
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "web-app"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "2.0.1"}, {"fixed": "1.9.9"}]}],
            }
        ],
    )
    vector_only = _record(
        "GHSA-5555-6666-7777",
        severity=[
            {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"},
            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"},
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L"},
        ],
    )
    score_only = _record("OSV-2024-1")
    worded = _record(
        "UBUNTU-CVE-2024-2",
        severity=[{"type": "Ubuntu", "score": "negligible"}],
        database_specific={"severity": "dreadful"},
    )
    report = {
        "results": [
            {
                "source": {"path": "/src/requirements.txt", "type": "lockfile"},
                "packages": [
                    {
                        "package": {"name": "web-app", "version": "2.0.0", "ecosystem": "PyPI"},
                        "vulnerabilities": [pysec, ghsa, vector_only, score_only, worded],
                        "groups": [
                            {
                                "ids": ["GHSA-2222-3333-4444", "PYSEC-2024-10"],
                                "aliases": ["CVE-2024-0001", "GHSA-2222-3333-4444", "PYSEC-2024-10"],
                                "max_severity": "7.5",
                            },
                            {
                                "ids": ["GHSA-5555-6666-7777"],
                                "aliases": ["GHSA-5555-6666-7777"],
                                "max_severity": "10.0",
                            },
                            {
                                "ids": ["OSV-2024-1"],
                                "aliases": ["OSV-2024-1"],
                                "max_severity": "8.1",
                                "experimentalAnalysis": {"OSV-2024-1": {"called": False}},
                            },
                        ],
                    }
                ],
            }
        ],
        "experimental_config": {"licenses": {"summary": False, "allowlist": None}},
    }
    evidence = collect(FOLDER, "groups.json", raw=json.dumps(report).encode())
    check_record(evidence)
    first, second, third, fourth = evidence.data["findings"]
    # one finding for the GHSA/PYSEC pair, named by the group's first (sorted) id
    assert first["id"] == "GHSA-2222-3333-4444"
    assert first["aliases"] == ["CVE-2024-0001", "PYSEC-2024-10"]
    assert first["severity"] == "medium"  # the GitHub word wins over the 7.5 vector
    assert first["cvss_score"] == 7.5
    assert first["fixed_versions"] == ["2.0.1", "1.9.9"]  # PyPI ranges of this package, no commit, no npm
    assert first["title"] == "Request smuggling" and first["published_at"] == "2024-02-01T10:00:00Z"
    assert first["package"]["purl"] == "pkg:pypi/web-app@2.0.0" and first["package"]["ecosystem"] == "pypi"
    # vectors only: v4 6.3 beats the v2 10.0; the malformed v3 vector is reported, not guessed
    assert (second["id"], second["cvss_score"], second["severity"]) == ("GHSA-5555-6666-7777", 6.3, "medium")
    # no word, no vector: the group's max_severity
    assert (third["cvss_score"], third["severity"]) == (8.1, "high")
    assert (fourth["id"], fourth["severity"]) == ("UBUNTU-CVE-2024-2", "negligible")
    assert evidence.data["summary"] == {
        "critical": 0,
        "high": 1,
        "medium": 2,
        "low": 0,
        "negligible": 1,
        "unknown": 0,
        "total": 4,
    }
    problems = "\n".join(evidence.problems)
    assert "a CVSS vector (a string of " in problems and "that cannot be scored" in problems
    assert "a severity word affidavit does not know (a string of 8 characters)" in problems
    assert "CVSS:3.1/AV:N/AC:L" not in problems and "dreadful" not in problems and "not called" in problems


def test_first_release_shape_with_package_source() -> None:
    report = {
        "results": [
            {
                "packageSource": {"path": "/app/go.mod", "type": "lockfile"},
                "packages": [
                    {
                        "Package": {"name": "golang.org/x/net", "version": "0.1.0", "ecosystem": "Go"},
                        "vulnerabilities": [
                            {"id": "GO-2023-1571", "aliases": ["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"]}
                        ],
                    }
                ],
            }
        ]
    }
    evidence = collect(FOLDER, "v0.json", raw=json.dumps(report).encode())
    [item] = evidence.data["findings"]
    assert item["id"] == "GO-2023-1571" and item["target"] == "/app/go.mod"
    assert item["aliases"] == ["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"]
    assert item["package"]["ecosystem"] == "golang" and item["package"]["purl"] is None


def test_record_without_id_names_the_place() -> None:
    report = {
        "results": [
            {
                "source": {"path": "p"},
                "packages": [{"package": {"name": "a"}, "vulnerabilities": [{"summary": "x"}]}],
            }
        ],
        "experimental_config": {},
    }
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "bad.json", raw=json.dumps(report).encode())
    assert caught.value.path == "$.results[0].packages[0].vulnerabilities[0].id"


def test_withdrawn_advisories_are_not_findings() -> None:
    """An OSV record with ``withdrawn`` (OSV schema 1.x: "the time the entry should be considered to
    have been withdrawn") is no vulnerability: no finding, a problem counts it; a live alias in the
    same group still makes its finding."""
    gone = _record("GHSA-gone-gone-gone", withdrawn="2024-03-01T00:00:00Z", aliases=["CVE-2024-9"])
    live = _record("PYSEC-2024-99", aliases=["CVE-2024-8"])
    also_gone = _record("GHSA-away-away-away", withdrawn="2024-03-02T00:00:00Z")
    report = {
        "results": [
            {
                "source": {"path": "/src/requirements.txt", "type": "lockfile"},
                "packages": [
                    {
                        "package": {"name": "web-app", "version": "2.0.0", "ecosystem": "PyPI"},
                        "vulnerabilities": [gone, live, also_gone],
                        "groups": [
                            {"ids": ["GHSA-gone-gone-gone"], "aliases": ["CVE-2024-9"]},
                            {"ids": ["GHSA-away-away-away", "PYSEC-2024-99"], "aliases": ["CVE-2024-8"]},
                        ],
                    }
                ],
            }
        ]
    }
    evidence = collect(FOLDER, "withdrawn.json", raw=json.dumps(report).encode())
    check_record(evidence)
    assert [f["id"] for f in evidence.data["findings"]] == ["PYSEC-2024-99"]
    assert any("2 advisories are withdrawn" in p for p in evidence.problems)
