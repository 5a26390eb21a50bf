"""False-verdict scenarios, area "vulnerabilities" (issue 10).

Each scenario is the demo GO release with its vulnerability evidence changed in one realistic way:
a finding added to or changed in the Trivy image report (``trivy image --format json``,
SchemaVersion 2; field names from aquasecurity/trivy pkg/types report.go and vulnerability.go,
``Status`` values from pkg/types ``Status``), or another scanner's report added or swapped in, in
that tool's documented JSON shape (pip-audit ``-f json``: pypa/pip-audit _format/json.py; Grype
``-o json``: anchore/grype grype/presenter/models; OSV-Scanner ``--format json``: the OSV schema and
google/osv-scanner pkg/models; npm audit ``--json``: npm/cli lib/commands/audit.js, report v2).

Windows and outcomes are the shipped prod rule data (policies/params.yaml): critical 15, high 30,
medium 90, low 180 days (CISA BOD 19-02; FedRAMP Continuous Monitoring Strategy Guide), unknown
severity and unknown database age insufficient, unfixed criticals fail. The demo moment is
2026-11-20T12:00:00Z.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.attacks.support import DIGEST
from tests.verdicts.support import Change, Scenario, both, check, edit_json, ids, remove_file, write_file

AREA = "vulnerabilities"
TRIVY = "trivy-image.json"
RULE = "vulnerabilities.fixable_within_window"
FRESH = "vulnerabilities.database_fresh"
COVERS = "vulnerabilities.scan_covers_subject"
TRIVY_DOC = "aquasecurity/trivy pkg/types report.go, vulnerability.go (Status: fixed, affected, will_not_fix, not_affected ...)"
TRIVY_SERVER = "aquasecurity/trivy pkg/types report.go TrivyInfo.Server, version.go VulnerabilityDB (0.70+, client/server)"
BOD = "CISA BOD 19-02 (critical 15 days, high 30 days); FedRAMP ConMon Strategy Guide (moderate 90, low 180)"
PIP_AUDIT = "pypa/pip-audit pip_audit/_format/json.py: {dependencies: [{name, version, vulns: [{id, fix_versions, aliases}]}], fixes}"
GRYPE = "anchore/grype grype/presenter/models (source.target userInput, repoDigests, manifestDigest; descriptor.db)"
OSV = "OSV schema (ossf.github.io/osv-schema: withdrawn, affected.ranges.events.fixed); osv-scanner --format json"
NPM = "npm/cli lib/commands/audit.js: npm audit --json, auditReportVersion 2"
OTHER = "sha256:" + "7" * 64


def _vuln(
    vid: str,
    pkg: str,
    installed: str,
    severity: str,
    *,
    fixed: str | None = None,
    status: str | None = None,
    published: str = "2026-10-02T15:15:04Z",
    score: float | None = None,
    purl_type: str = "pypi",
) -> dict[str, Any]:
    """One entry of a Trivy result's ``Vulnerabilities`` list."""
    v: dict[str, Any] = {
        "VulnerabilityID": vid,
        "PkgID": f"{pkg}@{installed}",
        "PkgName": pkg,
        "PkgIdentifier": {"PURL": f"pkg:{purl_type}/{pkg}@{installed}"},
        "InstalledVersion": installed,
        "Status": status or ("fixed" if fixed else "affected"),
        "SeveritySource": "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{vid.lower()}",
        "Title": f"{pkg}: crafted input",
        "Severity": severity,
        "PublishedDate": published,
        "LastModifiedDate": "2026-11-01T00:00:00Z",
    }
    if score is not None:
        v["CVSS"] = {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": score}}
    if fixed is not None:
        v["FixedVersion"] = fixed
    return v


def _python(*vulns: dict[str, Any]) -> Change:
    """Findings added to the report's Python (lang-pkgs) result."""

    def edit(doc: dict[str, Any]) -> None:
        next(r for r in doc["Results"] if r["Class"] == "lang-pkgs")["Vulnerabilities"].extend(vulns)

    return edit_json(TRIVY, edit)


def _os(*vulns: dict[str, Any]) -> Change:
    """Findings added to the report's Debian (os-pkgs) result."""

    def edit(doc: dict[str, Any]) -> None:
        next(r for r in doc["Results"] if r["Class"] == "os-pkgs")["Vulnerabilities"].extend(vulns)

    return edit_json(TRIVY, edit)


def _trivy(edit: Any) -> Change:
    """Any edit of the Trivy report."""
    return edit_json(TRIVY, edit)


def _db_updated(at: str) -> Change:
    """The Trivy server's database last updated at ``at``."""

    def edit(doc: dict[str, Any]) -> None:
        doc["Trivy"]["Server"]["VulnerabilityDB"]["UpdatedAt"] = at

    return edit_json(TRIVY, edit)


def _pip_audit(vulns: list[dict[str, Any]]) -> Change:
    """A pip-audit 2.x report of the image's Python environment added to the release."""
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.3", "vulns": vulns},
            {"name": "urllib3", "version": "2.2.4", "vulns": []},
        ],
        "fixes": [],
    }
    return write_file("pip-audit.json", json.dumps(report, indent=2))


def _grype(user_input: str, repo_digest: str, built: str = "2026-11-20T05:41:12Z") -> Change:
    """The Trivy report replaced by a Grype 0.87 report of the image (no matches)."""
    report = {
        "matches": [],
        "source": {
            "type": "image",
            "target": {
                "userInput": user_input,
                "imageID": "sha256:" + "8" * 64,
                "manifestDigest": "sha256:" + "9" * 64,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "tags": ["ghcr.io/acme/shop:1.4.2"],
                "repoDigests": [f"ghcr.io/acme/shop@{repo_digest}"],
                "architecture": "amd64",
                "os": "linux",
            },
        },
        "distro": {"name": "debian", "version": "12"},
        "descriptor": {
            "name": "grype",
            "version": "0.87.0",
            "timestamp": "2026-11-20T09:12:40.101Z",
            "db": {
                "status": {
                    "schemaVersion": "v6.0.2",
                    "built": built,
                    "from": "https://grype.anchore.io/databases/v6/vulnerability-db_v6.0.2_2026-11-20T05:41:12Z.tar.zst?checksum=sha256%3Aabc",
                    "valid": True,
                }
            },
        },
    }
    return both(remove_file(TRIVY), write_file("grype.json", json.dumps(report, indent=2)))


def _osv(records: list[dict[str, Any]]) -> Change:
    """An OSV-Scanner report of the image's requirements.txt added to the release."""
    report = {
        "results": [
            {
                "source": {"path": "/app/requirements.txt", "type": "lockfile"},
                "packages": [
                    {
                        "package": {"name": "pyjwt", "version": "2.10.1", "ecosystem": "PyPI"},
                        "vulnerabilities": records,
                        "groups": [
                            {"ids": [r["id"]], "aliases": [r["id"]], "max_severity": "9.8"} for r in records
                        ],
                    }
                ],
            }
        ]
    }
    return write_file("osv-scanner.json", json.dumps(report, indent=2))


def _osv_record(vid: str, **fields: Any) -> dict[str, Any]:
    """One OSV record of pyjwt, critical, fixed in 2.10.2."""
    return {
        "id": vid,
        "modified": "2026-10-20T00:00:00Z",
        "published": "2026-09-01T00:00:00Z",
        "summary": "pyjwt: algorithm confusion",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "pyjwt"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.2"}]}],
            }
        ],
        **fields,
    }


SCENARIOS: list[Scenario] = [
    # --- windows for every severity --------------------------------------------------------
    Scenario(
        "vuln-critical-fixable-20-days",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50001",
                "pyjwt",
                "2.10.1",
                "CRITICAL",
                fixed="2.10.2",
                published="2026-10-31T10:00:00Z",
                score=9.8,
            )
        ),
        "fail",
        TRIVY_DOC + "; " + BOD,
    ),
    Scenario(
        "vuln-critical-fixable-3-days-hotfix-passes",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50002",
                "pyjwt",
                "2.10.1",
                "CRITICAL",
                fixed="2.10.2",
                published="2026-11-17T10:00:00Z",
                score=9.8,
            )
        ),
        "pass",
        BOD,
        "a fix published 3 days ago is inside the 15-day window: a hotfix release is not blocked",
        decision="GO",
    ),
    Scenario(
        "vuln-high-fixable-40-days",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50003",
                "requests",
                "2.31.0",
                "HIGH",
                fixed="2.32.0",
                published="2026-10-11T00:00:00Z",
                score=7.5,
            )
        ),
        "fail",
        BOD,
    ),
    Scenario(
        "vuln-high-fixable-10-days-passes",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50004",
                "requests",
                "2.31.0",
                "HIGH",
                fixed="2.32.0",
                published="2026-11-10T00:00:00Z",
                score=7.5,
            )
        ),
        "pass",
        BOD,
        decision="GO",
    ),
    Scenario(
        "vuln-medium-fixable-120-days",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50005",
                "jinja2",
                "3.1.3",
                "MEDIUM",
                fixed="3.1.4",
                published="2026-07-23T00:00:00Z",
                score=5.4,
            )
        ),
        "fail",
        BOD,
        "medium was never judged before",
    ),
    Scenario(
        "vuln-low-fixable-200-days",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50006",
                "libc6",
                "2.36-9+deb12u9",
                "LOW",
                fixed="2.36-9+deb12u10",
                published="2026-05-01T00:00:00Z",
                score=3.1,
                purl_type="deb/debian",
            )
        ),
        "fail",
        BOD,
        "low was never judged before",
    ),
    Scenario(
        "vuln-medium-fixable-30-days-passes",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50007",
                "jinja2",
                "3.1.3",
                "MEDIUM",
                fixed="3.1.4",
                published="2026-10-21T00:00:00Z",
                score=5.4,
            )
        ),
        "pass",
        BOD,
        decision="GO",
    ),
    # --- is the listed fix a fix for the installed version ---------------------------------
    Scenario(
        "vuln-deb-fix-newer-only-in-debian-order",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50008",
                "libc6",
                "2.36-9+deb12u9",
                "HIGH",
                fixed="2.36-9+deb12u10",
                published="2026-10-01T00:00:00Z",
                score=7.8,
                purl_type="deb/debian",
            )
        ),
        "fail",
        "Debian Policy 5.6.12 (version ordering); " + TRIVY_DOC,
        "as text, 'deb12u10' sorts before 'deb12u9'; in Debian order it is the newer version",
    ),
    Scenario(
        "vuln-high-fix-of-another-release-line-passes",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50009",
                "pyjwt",
                "2.10.1",
                "HIGH",
                fixed="2.9.1",
                published="2026-09-01T00:00:00Z",
                score=7.4,
            )
        ),
        "pass",
        "PEP 440 version ordering; " + TRIVY_DOC,
        "2.9.1 is older than the installed 2.10.1: no fix applies, and high findings without a fix are not judged",
        decision="GO",
    ),
    Scenario(
        "vuln-java-fix-lower-than-installed-is-no-fix",
        AREA,
        RULE,
        _trivy(
            lambda d: d["Results"].append(
                {
                    "Target": "app/lib/runtime.jar",
                    "Class": "lang-pkgs",
                    "Type": "jar",
                    "Vulnerabilities": [
                        _vuln(
                            "CVE-2026-50010",
                            "org.openjdk:jdk",
                            "17.0.10",
                            "CRITICAL",
                            fixed="1.2.3",
                            published="2026-09-01T00:00:00Z",
                            score=9.1,
                            purl_type="maven/org.openjdk",
                        )
                    ],
                }
            )
        ),
        "fail",
        "Maven ComparableVersion ordering; " + TRIVY_DOC,
        "a 'fix' of 1.2.3 for 17.0.10 is no fix: the critical is unfixed, which rule data fails",
    ),
    Scenario(
        "vuln-fix-on-a-newer-line-counts",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50011",
                "django",
                "4.2.9",
                "HIGH",
                fixed="3.2.24, 4.2.10, 5.0.2",
                published="2026-09-01T00:00:00Z",
                score=7.5,
            )
        ),
        "fail",
        TRIVY_DOC + " (FixedVersion lists every release line)",
        "4.2.10 and 5.0.2 are newer than 4.2.9: fixable, and beyond the 30-day window",
    ),
    Scenario(
        "vuln-fix-in-unordered-ecosystem-counts",
        AREA,
        RULE,
        _trivy(
            lambda d: d["Results"].append(
                {
                    "Target": "mix.lock",
                    "Class": "lang-pkgs",
                    "Type": "mix-lock",
                    "Vulnerabilities": [
                        _vuln(
                            "CVE-2026-50020",
                            "plug",
                            "1.14.0",
                            "HIGH",
                            fixed="1.14.3",
                            published="2026-09-01T00:00:00Z",
                            score=7.5,
                            purl_type="hex",
                        )
                    ],
                }
            )
        ),
        "fail",
        TRIVY_DOC + " (Type mix-lock: Hex, an order univers does not implement)",
        "where versions cannot be compared the listed fix counts (fail closed)",
    ),
    Scenario(
        "vuln-grype-fixable-high-without-date",
        AREA,
        RULE,
        both(
            _grype(f"ghcr.io/acme/shop@{DIGEST}", DIGEST),
            edit_json(
                "grype.json",
                lambda d: d["matches"].append(
                    {
                        "vulnerability": {
                            "id": "GHSA-h4gh-qq45-vh27",
                            "dataSource": "https://github.com/advisories/GHSA-h4gh-qq45-vh27",
                            "namespace": "github:language:python",
                            "severity": "High",
                            "cvss": [],
                            "fix": {"versions": ["43.0.1"], "state": "fixed"},
                        },
                        "relatedVulnerabilities": [],
                        "matchDetails": [],
                        "artifact": {
                            "name": "cryptography",
                            "version": "42.0.8",
                            "type": "python",
                            "locations": [
                                {
                                    "path": "/usr/local/lib/python3.12/site-packages/cryptography-42.0.8.dist-info/METADATA"
                                }
                            ],
                            "purl": "pkg:pypi/cryptography@42.0.8",
                        },
                    }
                ),
            ),
        ),
        "insufficient_evidence",
        GRYPE + " (matches carry no publication date)",
        "with no date the 30-day window cannot be checked (debatable: see docs/verdicts/vulnerabilities.md)",
    ),
    # --- unfixed criticals ----------------------------------------------------------------
    Scenario(
        "vuln-critical-affected-no-fix",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50012",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                "CRITICAL",
                status="affected",
                score=9.8,
                purl_type="deb/debian",
            )
        ),
        "fail",
        TRIVY_DOC + " (Status affected: no fix yet)",
        "criticals with no fix surface; rule data unfixed.critical is fail (waivable with an owner)",
    ),
    Scenario(
        "vuln-critical-will-not-fix",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50013",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                "CRITICAL",
                status="will_not_fix",
                score=9.8,
                purl_type="deb/debian",
            )
        ),
        "fail",
        TRIVY_DOC + " (Status will_not_fix)",
    ),
    Scenario(
        "vuln-critical-by-score-only-no-fix",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50014",
                "libxml2",
                "2.9.14+dfsg-1.3",
                "UNKNOWN",
                status="affected",
                score=9.8,
                purl_type="deb/debian",
            )
        ),
        "fail",
        TRIVY_DOC + "; FIRST CVSS v3.1 qualitative ratings (9.0-10.0 critical)",
        "Trivy's UNKNOWN with a 9.8 score is a critical",
    ),
    Scenario(
        "vuln-high-will-not-fix-passes",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50015",
                "perl-base",
                "5.36.0-7+deb12u1",
                "HIGH",
                status="will_not_fix",
                score=7.0,
                purl_type="deb/debian",
            )
        ),
        "pass",
        TRIVY_DOC,
        "unfixed highs are not judged by the shipped rule data (only criticals are)",
        decision="GO",
    ),
    Scenario(
        "vuln-medium-no-fix-passes",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50016",
                "openssl",
                "3.0.15-1~deb12u1",
                "MEDIUM",
                status="fix_deferred",
                score=5.9,
                purl_type="deb/debian",
            )
        ),
        "pass",
        TRIVY_DOC + " (Status fix_deferred)",
        decision="GO",
    ),
    # --- severity unknown -----------------------------------------------------------------
    Scenario(
        "vuln-pip-audit-finding-with-fix",
        AREA,
        RULE,
        _pip_audit([{"id": "PYSEC-2026-17", "fix_versions": ["3.1.4"], "aliases": ["CVE-2026-1111"]}]),
        "insufficient_evidence",
        PIP_AUDIT,
        "pip-audit states no severity: the finding can be judged by no window",
    ),
    Scenario(
        "vuln-pip-audit-finding-without-fix",
        AREA,
        RULE,
        _pip_audit([{"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": [], "aliases": []}]),
        "insufficient_evidence",
        PIP_AUDIT,
    ),
    Scenario(
        "vuln-pip-audit-unknown-fails-where-rule-data-says",
        AREA,
        RULE,
        _pip_audit([{"id": "PYSEC-2026-17", "fix_versions": ["3.1.4"], "aliases": ["CVE-2026-1111"]}]),
        "fail",
        PIP_AUDIT,
        params={"defaults": {"vulnerabilities": {"unknown_severity": "fail"}}},
    ),
    Scenario(
        "vuln-pip-audit-warn-is-not-honoured-in-prod",
        AREA,
        RULE,
        _pip_audit([{"id": "PYSEC-2026-17", "fix_versions": ["3.1.4"], "aliases": ["CVE-2026-1111"]}]),
        "insufficient_evidence",
        PIP_AUDIT,
        "rule data asking for warn cannot make an unknown a pass in prod",
        params={"defaults": {"vulnerabilities": {"unknown_severity": "warn"}}},
    ),
    Scenario(
        "vuln-pip-audit-clean-report-nothing-to-judge",
        AREA,
        RULE,
        _pip_audit([]),
        "pass",
        PIP_AUDIT,
        "a clean pip-audit report has nothing to judge here (its unknown database age is judged by database_fresh)",
    ),
    Scenario(
        "vuln-pip-audit-warns-in-staging",
        AREA,
        RULE,
        _pip_audit([{"id": "PYSEC-2026-17", "fix_versions": ["3.1.4"], "aliases": ["CVE-2026-1111"]}]),
        "warn",
        PIP_AUDIT,
        "staging's rule data says warn for unknown severity: shown, not blocking",
        decision="GO",
        options=("--environment", "staging"),
    ),
    Scenario(
        "vuln-unfixed-critical-warns-in-staging",
        AREA,
        RULE,
        _os(
            _vuln(
                "CVE-2026-50019",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                "CRITICAL",
                status="affected",
                score=9.8,
                purl_type="deb/debian",
            )
        ),
        "warn",
        TRIVY_DOC,
        "staging's rule data: unfixed.critical warn",
        decision="GO",
        options=("--environment", "staging"),
    ),
    Scenario(
        "vuln-trivy-unknown-severity-no-score",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50017",
                "gunicorn",
                "22.0.0",
                "UNKNOWN",
                fixed="23.0.0",
                published="2026-11-18T00:00:00Z",
            )
        ),
        "insufficient_evidence",
        TRIVY_DOC + " (Severity UNKNOWN: no vendor rating, no CVSS)",
    ),
    # --- what does not count -------------------------------------------------------------
    Scenario(
        "vuln-not-affected-critical-passes",
        AREA,
        RULE,
        _python(
            _vuln(
                "CVE-2026-50018",
                "pyjwt",
                "2.10.1",
                "CRITICAL",
                fixed="2.10.2",
                status="not_affected",
                published="2026-09-01T00:00:00Z",
                score=9.8,
            )
        ),
        "pass",
        TRIVY_DOC + " (Status not_affected, from VEX or the vendor)",
        decision="GO",
    ),
    Scenario(
        "vuln-osv-withdrawn-critical-not-counted",
        AREA,
        RULE,
        _osv([_osv_record("GHSA-wwww-xxxx-yyyy", withdrawn="2026-10-15T00:00:00Z")]),
        "pass",
        OSV,
        "a withdrawn advisory is no vulnerability (the OSV report's unknown database age is judged by database_fresh)",
    ),
    Scenario(
        "vuln-osv-live-critical-counted",
        AREA,
        RULE,
        _osv([_osv_record("GHSA-vvvv-xxxx-yyyy")]),
        "fail",
        OSV,
    ),
    # --- a scan that is no vulnerability scan ------------------------------------------------
    Scenario(
        "vuln-trivy-misconfig-and-secret-only",
        AREA,
        RULE,
        _trivy(
            lambda d: d.update(
                Results=[
                    {
                        "Target": "Dockerfile",
                        "Class": "config",
                        "Type": "dockerfile",
                        "MisconfSummary": {"Successes": 21, "Failures": 0},
                    },
                    {"Target": "/app/settings.py", "Class": "secret", "Secrets": []},
                ]
            )
        ),
        "insufficient_evidence",
        TRIVY_DOC + " (result classes config, secret; trivy image --scanners misconfig,secret)",
    ),
    Scenario(
        "vuln-trivy-misconfig-only-covers-nothing",
        AREA,
        COVERS,
        _trivy(
            lambda d: d.update(
                Results=[
                    {
                        "Target": "Dockerfile",
                        "Class": "config",
                        "Type": "dockerfile",
                        "MisconfSummary": {"Successes": 21, "Failures": 0},
                    }
                ]
            )
        ),
        "insufficient_evidence",
        TRIVY_DOC + " (result class config; trivy image --scanners misconfig)",
        "the report names the promoted digest, but no vulnerability scanner ran on it",
    ),
    Scenario(
        "vuln-trivy-secret-scanner-found-nothing",
        AREA,
        RULE,
        _trivy(lambda d: d.pop("Results") and None),
        "insufficient_evidence",
        TRIVY_DOC + " (Results omitted when empty: omitempty)",
        "trivy image --scanners secret on a clean image writes no Results at all",
    ),
    Scenario(
        "vuln-trivy-license-only",
        AREA,
        RULE,
        _trivy(lambda d: d.update(Results=[{"Target": "OS Packages", "Class": "license", "Licenses": []}])),
        "insufficient_evidence",
        TRIVY_DOC + " (result class license)",
    ),
    # --- database freshness ------------------------------------------------------------------
    Scenario(
        "vuln-trivy-standalone-no-db-date",
        AREA,
        FRESH,
        _trivy(lambda d: d.pop("Trivy") and None),
        "insufficient_evidence",
        TRIVY_SERVER + "; a standalone report names no database",
    ),
    Scenario(
        "vuln-trivy-server-db-5-days-old",
        AREA,
        FRESH,
        _db_updated("2026-11-15T06:13:10.612345678Z"),
        "fail",
        TRIVY_SERVER,
    ),
    Scenario(
        "vuln-trivy-server-db-fresh-passes",
        AREA,
        FRESH,
        _db_updated("2026-11-19T18:13:10Z"),
        "pass",
        TRIVY_SERVER,
        decision="GO",
    ),
    Scenario(
        "vuln-trivy-standalone-warns-in-staging",
        AREA,
        FRESH,
        _trivy(lambda d: d.pop("Trivy") and None),
        "warn",
        TRIVY_SERVER,
        decision="GO",
        options=("--environment", "staging"),
    ),
    Scenario(
        "vuln-pip-audit-no-db-date",
        AREA,
        FRESH,
        _pip_audit([]),
        "insufficient_evidence",
        PIP_AUDIT + " (no time, no database)",
    ),
    Scenario(
        "vuln-npm-audit-no-db-date",
        AREA,
        FRESH,
        write_file(
            "npm-audit.json",
            json.dumps(
                {
                    "auditReportVersion": 2,
                    "vulnerabilities": {},
                    "metadata": {
                        "vulnerabilities": {
                            "info": 0,
                            "low": 0,
                            "moderate": 0,
                            "high": 0,
                            "critical": 0,
                            "total": 0,
                        },
                        "dependencies": {
                            "prod": 12,
                            "dev": 0,
                            "optional": 0,
                            "peer": 0,
                            "peerOptional": 0,
                            "total": 12,
                        },
                    },
                }
            ),
        ),
        "insufficient_evidence",
        NPM,
    ),
    Scenario(
        "vuln-grype-db-10-days-old",
        AREA,
        FRESH,
        _grype(f"ghcr.io/acme/shop@{DIGEST}", DIGEST, built="2026-11-10T05:41:12Z"),
        "fail",
        GRYPE,
    ),
    Scenario(
        "vuln-grype-clean-fresh-passes",
        AREA,
        COVERS,
        _grype(f"ghcr.io/acme/shop@{DIGEST}", DIGEST),
        "pass",
        GRYPE,
        decision="GO",
    ),
    # --- the scan is of the promoted image ---------------------------------------------------
    Scenario(
        "vuln-grype-typed-digest-not-resolved",
        AREA,
        COVERS,
        _grype(f"ghcr.io/acme/shop@{DIGEST}", OTHER),
        "insufficient_evidence",
        GRYPE,
        "userInput names the promoted digest, but Grype pulled another image: the claim is not evidence",
    ),
    Scenario(
        "vuln-trivy-typed-digest-not-resolved",
        AREA,
        COVERS,
        _trivy(lambda d: d["Metadata"].update(RepoDigests=[f"ghcr.io/acme/shop@{OTHER}"])),
        "insufficient_evidence",
        TRIVY_DOC + " (Metadata.RepoDigests: what Trivy pulled)",
    ),
    Scenario(
        "vuln-trivy-truncated-digest",
        AREA,
        COVERS,
        _trivy(lambda d: d.update(ArtifactName="ghcr.io/acme/shop@" + DIGEST[:19])),
        "insufficient_evidence",
        TRIVY_DOC,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_vulnerability_verdict(tmp_path: Path, scenario: Scenario) -> None:
    """The gate says what the scenario requires, and never GO on a real defect."""
    check(tmp_path, scenario)
