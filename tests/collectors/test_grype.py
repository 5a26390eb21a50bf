"""Grype JSON reports: every corpus file and descriptor era, EPSS/risk, hostile input."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_severity import (
    check_record,
    collect,
    scanner_registry,
)
from tests.conftest import CORPUS, corpus_index

__all__ = ["scanner_registry"]  # the fixture, used by name

FOLDER = "scan-grype"
ENTRIES = corpus_index(FOLDER)

pytestmark = pytest.mark.usefixtures("scanner_registry")


def _raw(name: str) -> bytes:
    """The bytes of a corpus file of this folder."""
    return (CORPUS / FOLDER / name).read_bytes()


def _moment(text: str) -> datetime:
    """A timestamp as an aware datetime (nanoseconds cut to micro, which Python keeps)."""
    value = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))
    return value.astimezone(UTC)


def _score(match: dict[str, Any]) -> float | None:
    """The highest v3/v4 base score of a match and its related records, else the highest v2."""
    modern: list[float] = []
    legacy: list[float] = []
    for record in [match["vulnerability"], *(match.get("relatedVulnerabilities") or [])]:
        for entry in record.get("cvss") or []:
            base = (entry.get("metrics") or {}).get("baseScore")
            if base is not None:
                (legacy if entry["version"].startswith("2") else modern).append(base)
        if "cvssV3" in record:
            modern.append(record["cvssV3"]["baseScore"])
        if "cvssV2" in record:
            legacy.append(record["cvssV2"]["baseScore"])
    return float(max(modern)) if modern else float(max(legacy)) if legacy else None


def _rows(report: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    """(id, name, version, purl, first location) per match, duplicates dropped, and the kept matches."""
    rows: list[tuple[Any, ...]] = []
    kept: list[dict[str, Any]] = []
    for match in report["matches"]:
        art = match["artifact"]
        row = (
            match["vulnerability"]["id"],
            art["name"],
            art["version"],
            art["purl"] or None,
            art["locations"][0]["path"],
        )
        if row not in rows:
            rows.append(row)
            kept.append(match)
    return rows, kept


def test_the_index_covers_old_and_new_grype() -> None:
    notes = " ".join(e["note"] for e in ENTRIES)
    assert "EPSS" in notes and "no matches" in notes


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    report = json.loads(raw)
    rows, kept = _rows(report)
    evidence = collect(FOLDER, entry["file"])
    record = check_record(evidence)
    data = record["data"]

    assert evidence.kind is EvidenceKind.VULNERABILITY_SCAN and evidence.format == "grype-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    got = [
        (f["id"], f["package"]["name"], f["package"]["version"], f["package"]["purl"], f["target"])
        for f in data["findings"]
    ]
    assert got == rows
    for match, item in zip(kept, data["findings"], strict=True):
        vuln = match["vulnerability"]
        assert item["severity"] == vuln["severity"].lower()  # Grype's words map 1:1
        assert item["cvss_score"] == _score(match)
        related = [r["id"] for r in match.get("relatedVulnerabilities") or []]
        advisories = [a["id"] for a in vuln.get("advisories") or []]
        assert item["aliases"] == sorted(set(related + advisories) - {vuln["id"]})
        if "fix" in vuln:
            assert item["fixed_versions"] == vuln["fix"]["versions"]
            state = vuln["fix"]["state"]
            assert (
                item["status"]
                == {
                    "": None,
                    "fixed": "fixed",
                    "not-fixed": "not_fixed",
                    "wont-fix": "will_not_fix",
                    "unknown": "unknown",
                }[state]
            )
        else:
            assert item["fixed_versions"] == ([vuln["fixedInVersion"]] if vuln.get("fixedInVersion") else [])
            assert item["status"] is None
        assert item["data_source"] == vuln.get("namespace")
        if "epss" in vuln:
            assert item["epss"] == max(e["epss"] for e in vuln["epss"])
        else:
            assert "epss" not in item
        assert item.get("risk") == vuln.get("risk")
    severities = [m["vulnerability"]["severity"].lower() for m in kept]
    for level in ("critical", "high", "medium", "low", "negligible", "unknown"):
        assert data["summary"][level] == severities.count(level)
    assert data["targets"] == sorted({r[4] for r in rows})
    if len(kept) < len(report["matches"]):
        assert any("counted once" in p for p in evidence.problems)

    descriptor = report["descriptor"]
    assert evidence.tool is not None and evidence.tool.name == "grype"
    assert evidence.tool.version == (
        None if descriptor["version"] == "[not provided]" else descriptor["version"]
    )
    if descriptor.get("timestamp"):
        assert evidence.effective_at is not None
        # the one timestamp rule: UTC, to the second
        assert _moment(evidence.effective_at) == _moment(descriptor["timestamp"]).replace(microsecond=0)
    else:
        assert evidence.effective_at is None
    db = descriptor.get("db")
    if db is None:
        assert "database" not in data
    else:
        info = db.get("status", db)
        checksum = info.get("checksum") or parse_qs(urlsplit(info.get("from", "")).query)["checksum"][0]
        assert data["database"] == {
            "updated_at": _moment(info["built"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": checksum,
            "schema": str(info["schemaVersion"]),
        }
    target = report["source"]["target"]
    if isinstance(target, dict):
        user_input = target["userInput"]
        assert evidence.subject.name == user_input.split("@")[0]
        pinned = user_input.split("@")[1] if "@" in user_input else None
        repo = [d for d in target.get("repoDigests") or [] if "@sha256:" in d]  # one file has "REDACTED"
        expected = pinned or (repo[0].split("@")[1] if repo else target["manifestDigest"])
        assert evidence.subject.digest == expected
    else:
        assert evidence.subject.is_empty()  # "unknown" source


def test_directory_scan_ignored_matches_and_unknown_words() -> None:
    report = {
        "matches": [
            {
                "vulnerability": {
                    "id": "GHSA-aaaa-bbbb-cccc",
                    "severity": "Severe",
                    "cvss": [],
                    "fix": {"versions": [], "state": "not-fixed"},
                },
                "relatedVulnerabilities": [{"id": "CVE-2024-1234"}],
                "matchDetails": [],
                "artifact": {
                    "name": "left-pad",
                    "version": "1.0.0",
                    "type": "npm",
                    "purl": "",
                    "locations": [{"path": "/src/package-lock.json"}],
                },
            }
        ],
        "ignoredMatches": [{"vulnerability": {"id": "CVE-1"}}],
        "source": {"type": "directory", "target": "/src"},
        "distro": {},
        "descriptor": {"name": "grype", "version": "0.80.0", "timestamp": "2024-10-01T10:00:00+02:00"},
    }
    evidence = collect(FOLDER, "dir.json", raw=json.dumps(report).encode())
    check_record(evidence)
    [item] = evidence.data["findings"]
    assert item["severity"] == "unknown" and item["status"] == "not_fixed"
    assert item["aliases"] == ["CVE-2024-1234"]
    assert item["package"]["ecosystem"] == "npm" and item["package"]["purl"] is None
    assert evidence.subject.name == "/src" and evidence.subject.digest is None
    assert evidence.effective_at == "2024-10-01T08:00:00Z"
    assert any(
        "a severity word affidavit does not know (a string of 6 characters)" in p for p in evidence.problems
    )
    assert not any("Severe" in p for p in evidence.problems)
    assert any("1 matches were ignored" in p for p in evidence.problems)


def test_missing_vulnerability_id_names_the_place() -> None:
    report = {
        "matches": [{"vulnerability": {"severity": "High"}, "artifact": {"name": "x"}}],
        "source": {},
        "descriptor": {"name": "grype"},
    }
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "bad.json", raw=json.dumps(report).encode())
    assert caught.value.path == "$.matches[0].vulnerability.id"
    assert "scan-grype/bad.json" in str(caught.value)


def test_a_typed_digest_grype_did_not_resolve_is_no_subject_digest() -> None:
    """``grype name@sha256:X`` (source.target.userInput) must name a digest Grype resolved for the
    image it scanned (repoDigests, manifestDigest: grype/presenter/models source.go); otherwise the
    record has no subject digest and a problem says why."""
    wanted = "sha256:" + "1" * 64

    def report(user_input: str) -> bytes:
        return json.dumps(
            {
                "matches": [],
                "source": {
                    "type": "image",
                    "target": {
                        "userInput": user_input,
                        "repoDigests": ["ghcr.io/acme/app@" + wanted],
                        "manifestDigest": "sha256:" + "2" * 64,
                    },
                },
                "descriptor": {"name": "grype", "version": "0.87.0"},
            }
        ).encode()

    assert collect(FOLDER, "ok.json", raw=report("ghcr.io/acme/app@" + wanted)).subject.digest == wanted
    other = collect(FOLDER, "other.json", raw=report("ghcr.io/acme/app@sha256:" + "3" * 64))
    assert other.subject.digest is None and other.subject.name == "ghcr.io/acme/app"
    assert any("none of the digests the scanner resolved" in p for p in other.problems)
    bad = collect(FOLDER, "bad.json", raw=report("ghcr.io/acme/app@sha256:zz"))
    assert bad.subject.digest is None
    assert any("is not a digest" in p for p in bad.problems)
