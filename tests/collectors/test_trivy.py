"""Trivy JSON reports: every corpus file and era, hostile input, the 5,000-finding benchmark."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.formats.trivy import detect
from affidavit.collectors.interface import POSSIBLE, CollectOptions
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_severity import (
    check_record,
    collect,
    is_empty_json,
    scanner_registry,
)
from tests.conftest import CORPUS, NOW, corpus_index

__all__ = ["scanner_registry"]  # the fixture, used by name

FOLDER = "scan-trivy"
ENTRIES = corpus_index(FOLDER)
BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench" / "gen_evidence.py"
VULN_CLASSES = ("os-pkgs", "lang-pkgs")

pytestmark = pytest.mark.usefixtures("scanner_registry")


def _utc_second(text: str | None) -> str | None:
    """A Trivy timestamp as the one timestamp rule writes it: UTC, to the second (read independently)."""
    if text is None:
        return None
    moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw(name: str) -> bytes:
    """The bytes of a corpus file of this folder."""
    return (CORPUS / FOLDER / name).read_bytes()


def _kind(raw: bytes) -> EvidenceKind | None:
    """``null``/``[]`` is also a Gitleaks report: say which kind, as a user would."""
    return EvidenceKind.VULNERABILITY_SCAN if is_empty_json(raw) else None


class Expected:
    """The facts of a Trivy report, read here straight from the raw JSON."""

    def __init__(self, report: Any) -> None:
        """Walk the report as each era lays it out."""
        self.rows: list[tuple[str, str, str, str | None, str]] = []
        self.items: list[dict[str, Any]] = []
        self.targets: set[str] = set()
        self.misconfigurations = 0
        self.secrets = 0
        self.secret_texts: set[str] = set()
        if isinstance(report, list):
            self._results(report, None)
        elif isinstance(report, dict) and "ClusterName" in report:
            for section in ("Resources", "Vulnerabilities", "Misconfigurations"):
                for res in report.get(section) or []:
                    name = "/".join(res[k] for k in ("Namespace", "Kind", "Name") if res.get(k))
                    self._results(res.get("Results") or [], name)
        elif isinstance(report, dict):
            self._results(report.get("Results") or [], None)

    def _results(self, results: list[dict[str, Any]], resource: str | None) -> None:
        """Collect the facts of a list of results (of an artifact or a k8s resource)."""
        for result in results:
            target = resource or result["Target"]
            if result.get("Class") in VULN_CLASSES or ("Class" not in result and "Vulnerabilities" in result):
                self.targets.add(target)
            self.misconfigurations += sum(
                1 for m in result.get("Misconfigurations") or [] if m.get("Status") == "FAIL"
            )
            for secret in result.get("Secrets") or []:
                self.secrets += 1
                self.secret_texts.add(secret["Match"])
                lines = (secret.get("Code") or {}).get("Lines") or []
                self.secret_texts.update(line["Content"] for line in lines if len(line["Content"]) > 8)
            for vuln in result.get("Vulnerabilities") or []:
                purl = (vuln.get("PkgIdentifier") or {}).get("PURL")
                row = (vuln["VulnerabilityID"], vuln["PkgName"], vuln["InstalledVersion"], purl, target)
                if row not in self.rows:
                    self.rows.append(row)
                    self.items.append(vuln)


def _best_score(vuln: dict[str, Any]) -> float | None:
    """The highest V3/V4 score over vendors, else the highest V2 score."""
    cvss = vuln.get("CVSS") or {}
    modern = [v[k] for v in cvss.values() for k in ("V3Score", "V40Score") if k in v]
    legacy = [v["V2Score"] for v in cvss.values() if "V2Score" in v]
    return float(max(modern)) if modern else float(max(legacy)) if legacy else None


def test_the_index_lists_every_era() -> None:
    notes = " ".join(e["note"] for e in ENTRIES)
    assert "LEGACY" in notes and "SchemaVersion 2" in notes and "k8s" in notes and "null" in notes
    assert len(ENTRIES) >= 12


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    report = json.loads(raw)
    want = Expected(report)
    evidence = collect(FOLDER, entry["file"], kind=_kind(raw))
    record = check_record(evidence)
    data = record["data"]

    assert evidence.kind is EvidenceKind.VULNERABILITY_SCAN
    assert evidence.format == "trivy-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert evidence.source == f"{FOLDER}/{entry['file']}"
    got_rows = [
        (f["id"], f["package"]["name"], f["package"]["version"], f["package"]["purl"], f["target"])
        for f in data["findings"]
    ]
    assert got_rows == want.rows
    for item, got in zip(want.items, data["findings"], strict=True):
        assert got["severity"] == item["Severity"].lower()  # 1:1 in this corpus (no UNKNOWN with a score)
        assert got["cvss_score"] == _best_score(item)
        fixed = item.get("FixedVersion", "")
        assert got["fixed_versions"] == [v.strip() for v in fixed.split(",") if v.strip()]
        assert got["package"]["purl"] == (item.get("PkgIdentifier") or {}).get("PURL")
        assert got["aliases"] == sorted(set(item.get("VendorIDs") or []) - {item["VulnerabilityID"]})
        assert got["title"] == item.get("Title")
        assert got["published_at"] == _utc_second(item.get("PublishedDate"))
        assert got["data_source"] == (item.get("DataSource") or {}).get("ID")
        assert got["status"] == {None: None, "fixed": "fixed", "affected": "not_fixed"}[item.get("Status")]
    words = [item["Severity"].lower() for item in want.items]
    for level in ("critical", "high", "medium", "low", "negligible", "unknown"):
        assert data["summary"][level] == words.count(level)
    assert data["targets"] == sorted(want.targets)
    assert data["other"] == {"misconfigurations": want.misconfigurations, "secrets": want.secrets}
    assert "database" not in data

    if isinstance(report, dict) and "SchemaVersion" in report:
        assert evidence.format_version == str(report["SchemaVersion"])
        assert evidence.subject.name == report["ArtifactName"]
        assert evidence.effective_at == _utc_second(report.get("CreatedAt"))
        assert evidence.tool is not None and evidence.tool.version == (report.get("Trivy") or {}).get(
            "Version"
        )
        repo_digests = (report.get("Metadata") or {}).get("RepoDigests") or []
        assert evidence.subject.digest == (repo_digests[0].split("@")[1] if repo_digests else None)
        if report.get("ArtifactType") == "container_image" and not repo_digests:
            assert any("no repository digest" in p for p in evidence.problems)
            image_id = (report.get("Metadata") or {}).get("ImageID")
            if image_id:  # said to be no manifest digest, never quoted, never the digest
                assert any("Metadata.ImageID is the image's config digest" in p for p in evidence.problems)
                assert not any(image_id in p for p in evidence.problems)
    elif isinstance(report, dict):
        assert evidence.subject.name == report["ClusterName"]
    else:
        assert evidence.format_version is None and evidence.subject.is_empty()
    if report and not want.targets:
        assert any("no vulnerability results" in p for p in evidence.problems)
    text = json.dumps(record)
    for secret in want.secret_texts:
        assert secret not in text and secret not in "\n".join(evidence.problems)


def test_kubernetes_targets_are_resources() -> None:
    evidence = collect(FOLDER, "defectdojo-trivy-kubernetes.json")
    assert evidence.data["targets"] == [
        "default/Deployment/redis-follower",
        "default/Deployment/redis-leader",
    ]
    assert evidence.data["other"]["misconfigurations"] == 10


def test_newer_kubernetes_report_with_resources(tmp_path: Path) -> None:
    report = {
        "ClusterName": "prod",
        "Resources": [
            {
                "Namespace": "shop",
                "Kind": "Deployment",
                "Name": "api",
                "Results": [
                    {
                        "Target": "ghcr.io/acme/api:1 (alpine 3.19)",
                        "Class": "os-pkgs",
                        "Type": "alpine",
                        "Vulnerabilities": [
                            {
                                "VulnerabilityID": "CVE-2024-0001",
                                "PkgName": "musl",
                                "InstalledVersion": "1.2.4-r0",
                                "FixedVersion": "1.2.4-r1",
                                "Status": "fixed",
                                "Severity": "UNKNOWN",
                                "CVSS": {"nvd": {"V3Score": 9.8}},
                            }
                        ],
                    },
                    {
                        "Target": "Deployment/api",
                        "Class": "config",
                        "Misconfigurations": [{"Status": "FAIL"}],
                    },
                ],
            },
            {"Kind": "ClusterRole", "Name": "admin", "Error": "forbidden"},
            {
                "Namespace": "shop",
                "Kind": "Secret",
                "Name": "db",
                "Results": [
                    {"Target": "x", "Class": "secret", "Secrets": [{"Match": "PASSWORD=hunter2hunter2"}]}
                ],
            },
        ],
    }
    raw = json.dumps(report).encode()
    evidence = collect(FOLDER, "k8s-new.json", raw=raw)
    check_record(evidence)
    assert evidence.subject.name == "prod"
    [item] = evidence.data["findings"]
    assert item["target"] == "shop/Deployment/api"
    assert item["severity"] == "critical"  # Trivy's UNKNOWN word, NVD's 9.8: the score decides
    assert evidence.data["targets"] == ["shop/Deployment/api"]
    assert evidence.data["other"] == {"misconfigurations": 1, "secrets": 1}
    assert any(
        "Trivy could not scan this resource (its Error field says why)" in p for p in evidence.problems
    )
    assert not any("ClusterRole/admin" in p or "forbidden" in p for p in evidence.problems)
    assert "hunter2" not in json.dumps(evidence.to_json())


def test_repo_digest_of_the_scanned_repository_is_the_subject_digest() -> None:
    wanted = "sha256:" + "1" * 64
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/app:2.0",
        "ArtifactType": "container_image",
        "Metadata": {
            "ImageID": "sha256:" + "9" * 64,
            "RepoDigests": ["mirror.example/acme/app@sha256:" + "2" * 64, "ghcr.io/acme/app@" + wanted],
        },
        "Results": [],
    }
    evidence = collect(FOLDER, "image.json", raw=json.dumps(report).encode())
    assert evidence.subject.digest == wanted
    assert evidence.subject.name == "ghcr.io/acme/app:2.0"
    pinned = dict(report, ArtifactName="ghcr.io/acme/app@" + wanted.upper().replace("SHA256", "sha256"))
    evidence = collect(FOLDER, "pinned.json", raw=json.dumps(pinned).encode())
    assert (evidence.subject.name, evidence.subject.digest) == ("ghcr.io/acme/app", wanted)


def test_a_typed_digest_trivy_did_not_resolve_is_no_subject_digest() -> None:
    """``trivy image name@sha256:X`` whose Metadata.RepoDigests (what Trivy pulled, pkg/types
    report.go) do not hold X, or an X that is no digest: no subject digest, and a problem says why."""
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/app@sha256:" + "3" * 64,
        "ArtifactType": "container_image",
        "Metadata": {"RepoDigests": ["ghcr.io/acme/app@sha256:" + "1" * 64]},
        "Results": [],
    }
    evidence = collect(FOLDER, "pinned.json", raw=json.dumps(report).encode())
    assert (evidence.subject.name, evidence.subject.digest) == ("ghcr.io/acme/app", None)
    assert any("none of the digests the scanner resolved" in p for p in evidence.problems)
    short = dict(report, ArtifactName="ghcr.io/acme/app@sha256:9fb89a6b")
    evidence = collect(FOLDER, "short.json", raw=json.dumps(short).encode())
    assert evidence.subject.digest is None
    assert any("is not a digest (sha256 takes 64 hex digits, not 8)" in p for p in evidence.problems)


def test_null_is_an_empty_legacy_scan_and_an_empty_array_is_refused() -> None:
    """``null`` is what Trivy before 0.20 wrote for a scan with nothing found (corpus:
    defectdojo-trivy-legacy_no_vuln.json); ``[]`` names no tool (pip-audit 1.x and Gitleaks write it too)."""
    for raw in (b"null\n", b"[]"):
        doc = Artefact("trivy.json", raw)
        # Gitleaks writes the same bytes and wins by default; --kind vulnerability-scan selects Trivy
        assert 0 < detect(doc) < POSSIBLE
    evidence = collect(FOLDER, "empty.json", raw=b"null\n", kind=EvidenceKind.VULNERABILITY_SCAN)
    assert evidence.data["summary"]["total"] == 0 and evidence.data["findings"] == []
    assert evidence.data["scanned_for_vulnerabilities"] is None
    assert any("names no image, target or database" in p for p in evidence.problems)
    with pytest.raises(InputError, match="is an empty JSON array: it names no scanner") as caught:
        collect(FOLDER, "empty.json", raw=b"[]", kind=EvidenceKind.VULNERABILITY_SCAN)
    assert "trivy image --format json" in caught.value.diagnostics()


def test_a_report_of_other_scanners_only_is_no_vulnerability_scan() -> None:
    """``trivy image --scanners misconfig,secret`` (pkg/types report.go: result classes config,
    secret, license) shows no vulnerability scan: ``scanned_for_vulnerabilities`` is false; with no
    results at all it is unknown (null)."""
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "ghcr.io/acme/app@sha256:" + "1" * 64,
        "ArtifactType": "container_image",
        "Results": [{"Target": "app/settings.py", "Class": "secret", "Secrets": []}],
    }
    evidence = collect(FOLDER, "secret-only.json", raw=json.dumps(report).encode())
    assert evidence.data["scanned_for_vulnerabilities"] is False
    evidence = collect(FOLDER, "none.json", raw=json.dumps(dict(report, Results=None)).encode())
    assert evidence.data["scanned_for_vulnerabilities"] is None


def test_the_server_database_of_a_client_server_scan_is_recorded() -> None:
    """Trivy 0.70+ in client/server mode names the server's database (pkg/types version.go:
    Trivy.Server.VulnerabilityDB {Version, UpdatedAt, NextUpdate, DownloadedAt})."""
    report = {
        "SchemaVersion": 2,
        "Trivy": {
            "Version": "0.70.0",
            "Server": {
                "Version": "0.70.0",
                "VulnerabilityDB": {
                    "Version": 2,
                    "UpdatedAt": "2026-11-20T06:13:10.612345678Z",
                    "NextUpdate": "2026-11-21T06:13:10.612345678Z",
                    "DownloadedAt": "2026-11-20T07:01:33.5Z",
                },
            },
        },
        "ArtifactName": "ghcr.io/acme/app@sha256:" + "1" * 64,
        "ArtifactType": "container_image",
        "Results": [{"Target": "x (debian 12.8)", "Class": "os-pkgs", "Type": "debian"}],
    }
    evidence = collect(FOLDER, "server.json", raw=json.dumps(report).encode())
    assert evidence.data["database"] == {"updated_at": "2026-11-20T06:13:10Z", "version": None, "schema": "2"}
    assert evidence.data["scanned_for_vulnerabilities"] is True
    assert "database" not in collect(FOLDER, "alpine.json", raw=_raw("trivy-alpine-310.json")).data


def test_not_affected_status_is_kept() -> None:
    """Trivy's ``not_affected`` status (pkg/types Status, set from VEX or vendor data) is kept."""
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "app",
        "Results": [
            {
                "Target": "Python",
                "Class": "lang-pkgs",
                "Type": "python-pkg",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2026-1",
                        "PkgName": "urllib3",
                        "InstalledVersion": "2.2.3",
                        "Status": "not_affected",
                        "Severity": "HIGH",
                    }
                ],
            }
        ],
    }
    evidence = collect(FOLDER, "vex.json", raw=json.dumps(report).encode())
    assert evidence.data["findings"][0]["status"] == "not_affected"


def test_trivy_log_instead_of_report_is_refused_as_what_it_is() -> None:
    raw = (
        b"2024-05-02T09:00:01.123Z\tINFO\t[vuln] Vulnerability scanning is enabled\n"
        b"2024-05-02T09:00:03.456Z\tFATAL\tFatal error\timage scan error: unable to find the specified image\n"
    )
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "trivy.json", raw=raw)
    assert "scan-trivy/trivy.json: is Trivy's log output (2 line(s); line 2 says what went wrong)" in str(
        caught.value
    )
    assert "unable to find the specified image" not in str(caught.value)


@pytest.mark.parametrize(
    ("report", "path"),
    [
        ({"SchemaVersion": 2, "ArtifactName": "x", "Results": {"Target": "t"}}, "$.Results"),
        (
            {
                "SchemaVersion": 2,
                "ArtifactName": "x",
                "Results": [{"Target": "t", "Vulnerabilities": [{"PkgName": "a"}]}],
            },
            "$.Results[0].Vulnerabilities[0]",
        ),
        (
            {
                "SchemaVersion": 2,
                "ArtifactName": "x",
                "Results": [{"Target": "t", "Vulnerabilities": "none"}],
            },
            "$.Results[0].Vulnerabilities",
        ),
    ],
)
def test_malformed_reports_name_the_place(report: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "bad.json", raw=json.dumps(report).encode())
    assert caught.value.source == f"{FOLDER}/bad.json"
    assert caught.value.path is not None and caught.value.path.startswith(path)


@pytest.fixture(scope="session")
def generated_trivy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's 5,000-finding Trivy report (generated in about a second; not kept)."""
    out = tmp_path_factory.mktemp("bench")
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--out",
            str(out),
            "--resources",
            "50",
            "--components",
            "50",
            "--vulns",
            "5000",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / "trivy.json"


def test_generated_5000_finding_report(generated_trivy: Path) -> None:
    raw = generated_trivy.read_bytes()
    report = json.loads(raw)
    want = Expected(report)
    started = time.perf_counter()
    evidence = collect_document(Artefact("trivy.json", raw), CollectOptions(now=NOW))
    elapsed = time.perf_counter() - started
    data = evidence.data
    assert len(want.items) == 5000
    assert data["summary"]["total"] == 5000
    assert [(f["id"], f["package"]["purl"], f["target"]) for f in data["findings"]] == [
        (r[0], r[3], r[4]) for r in want.rows
    ]
    for level in ("critical", "high", "medium", "low", "unknown"):
        assert data["summary"][level] == sum(1 for v in want.items if v["Severity"].lower() == level)
    assert evidence.subject.digest == report["Metadata"]["RepoDigests"][0].split("@")[1]
    assert elapsed < 10, f"normalising 5,000 findings took {elapsed:.1f}s"


SECTIONS = CORPUS.parent / "samples" / "scan-trivy-sections"


def _section(name: str) -> Any:
    """A Trivy report of the shared samples (secret, misconfiguration and licence sections)."""
    return collect_document(Artefact(name, (SECTIONS / name).read_bytes()), CollectOptions(now=NOW))


def test_secrets_are_findings_for_the_secret_rules_without_their_text() -> None:
    """aquasecurity/trivy integration/testdata/secrets.json.golden: Secrets[] with RuleID, Severity,
    StartLine, Code and a masked Match. The record keeps where and which rule, never the code."""
    raw = (SECTIONS / "trivy-secrets-2022-08.json").read_bytes()
    evidence = _section("trivy-secrets-2022-08.json")
    found = evidence.data["secret_findings"]
    doc = json.loads(raw)
    expected = [
        (s["RuleID"], s["Severity"].lower(), r["Target"], s["StartLine"])
        for r in doc["Results"]
        for s in r.get("Secrets") or []
    ]
    assert [(f["rule_id"], f["severity"], f["file"], f["line"]) for f in found] == expected
    assert found[0]["fingerprint"] == f"trivy:{expected[0][2]}:{expected[0][0]}:{expected[0][3]}"
    record = json.dumps(evidence.data)
    assert "ghp_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" not in record
    assert "AWS_ACCESS_KEY_ID" not in record


def test_failed_misconfigurations_are_kept_for_the_iac_rules() -> None:
    """integration/testdata/dockerfile.json.golden: one failed check (DS-0002, root user)."""
    evidence = _section("trivy-dockerfile.json")
    (found,) = evidence.data["misconfiguration_findings"]
    assert found["check_id"] == "DS-0002"
    assert found["severity"] == "high"
    assert found["target"] == "Dockerfile"
    assert evidence.data["other"]["misconfigurations"] == 1


def test_licences_are_read_as_choices() -> None:
    """integration/testdata/license-cyclonedx.json.golden: Licenses[] with Name, PkgName, Category."""
    evidence = _section("trivy-license-cyclonedx.json")
    by_package = {f["package"]: f for f in evidence.data["license_findings"]}
    assert by_package["org.eclipse.sisu:org.eclipse.sisu.plexus"]["license_choices"] == [["EPL-1.0"]]
    assert by_package["org.slf4j:slf4j-api"]["license_unidentified"] == ["MIT License"]
    assert by_package["org.ow2.asm:asm"]["category"] == "notice"
