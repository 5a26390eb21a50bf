"""Trivy JSON reports (``trivy image|fs|repo|k8s --format json``) as ``vulnerability-scan`` evidence.

Every shape Trivy has written is read:

* the legacy report (before Trivy 0.20, mid 2021): a top-level array of ``{Target, Type,
  Vulnerabilities}`` results, with ``Vulnerabilities`` possibly ``null``;
* ``SchemaVersion`` 2 (0.20 on): ``{SchemaVersion, ArtifactName, ArtifactType, Metadata, Results}``,
  grown over the years with ``Trivy.Version``, ``CreatedAt``, ``Class``, ``PkgIdentifier.PURL``,
  ``Status``, ``VendorIDs``, CVSS v4 scores, and misconfiguration, secret and licence results;
* the ``trivy k8s`` cluster report: ``{ClusterName, Vulnerabilities: [resource], Misconfigurations:
  [resource]}`` (older) or ``{ClusterName, Resources: [resource]}`` (newer), where each resource is
  ``{Namespace, Kind, Name, Results}``; the targets are then the Kubernetes resources
  (``namespace/Kind/name``);
* ``null``: the legacy report of a scan that found nothing (Go's nil slice), read with ``--kind
  vulnerability-scan`` only (Gitleaks writes the same bytes); it names no image, target or
  database, so it can never show that the promoted image was scanned.

A bare ``[]`` is refused: no Trivy era writes it for a scan (the legacy report lists a result per
target, or is ``null``), and pip-audit 1.x and Gitleaks write the same two bytes, so it is no
evidence of which tool scanned what.

Vulnerability coverage. ``data.scanned_for_vulnerabilities`` says whether the report shows that the
vulnerability scanner ran: ``true`` when some result is of class ``os-pkgs``/``lang-pkgs`` (or
carries a ``Vulnerabilities`` list), ``false`` when every result is of another class
(``--scanners misconfig,secret,license``), ``null`` when the report has no results at all (which a
secret-only scan that found nothing also writes). Only ``true`` is a vulnerability scan.

Database. Trivy's JSON report names its vulnerability database in client/server mode
(``Trivy.Server.VulnerabilityDB {Version, UpdatedAt, NextUpdate, DownloadedAt}``, pkg/types
report.go and version.go), and in standalone mode where a version writes
``Trivy.VulnerabilityDB`` alike; ``data.database.updated_at`` is that ``UpdatedAt``. A standalone
report without it does not say how old its database was.

Only vulnerabilities become findings. Misconfigurations (failed checks only) and secrets are
counted in ``data.other``, and listed (the first 1,000 of each) for the rules of their own areas:
``data.secret_findings`` (``{rule_id, category, severity, file, line, fingerprint}``, read by the
secret rules) and ``data.misconfiguration_findings`` (``{id, check_id, type, title, severity,
status, target, resource, line}``, for the IaC rules); licences found by ``--scanners license``
are ``data.license_findings`` (``{package, name, license_choices, license_unidentified, category,
severity, file, target}``, judged by the licence rule). Nothing of a secret (not its match, not its
code lines) is copied. The
raw report does carry them: its ``redact`` hook (``kinds.secrets.redact_secret_scan``) replaces the
secrets' matches and code lines, and the misconfigurations' code lines that quote a credential,
before a bundle stores it.

A Trivy log written where the report should be (``2024-05-01T10:00:00Z  FATAL  ...``) is refused
with the log's own error line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    POSSIBLE,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    json_type,
    opt_str,
    require_list,
    require_mapping,
    shape_of,
)
from affidavit.collectors.kinds.licenses import reading
from affidavit.collectors.kinds.secrets import redact_secret_scan
from affidavit.collectors.kinds.severity import is_known_severity_word, score, severity_of
from affidavit.collectors.kinds.vulnerability import (
    FindingSet,
    claimed_digest,
    clean_ids,
    cvss_vector_score,
    ecosystem_of,
    finding,
    highest_score,
    pick_repo_digest,
    status_of,
    unique_strings,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool
from affidavit.model.time import normalise as normalise_time

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT = "trivy-json"

# Result classes that hold package vulnerabilities (the others: config, secret, license, license-file).
_VULN_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})
_OTHER_KEYS = ("Misconfigurations", "Secrets", "Licenses", "MisconfSummary")

# A zap console log line, as Trivy writes on stderr: "2024-05-01T10:00:00.123Z<TAB>FATAL<TAB>...".
_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})\s+(DEBUG|INFO|WARN|ERROR|FATAL)\s")


# ``[]`` and ``null`` are also what Gitleaks writes when it finds nothing, which pipelines produce
# every day; a pre-2021 Trivy writing them is rare. So Gitleaks' reading wins by default, and
# ``--kind vulnerability-scan`` selects this one.
_EMPTY = POSSIBLE - 10


def detect(doc: Artefact) -> int:
    """Score ``doc`` as a Trivy JSON report (or a Trivy log where a report should be)."""
    if not doc.looks_like_json:
        return POSSIBLE if _LOG_LINE.match(doc.head) else NO
    if doc.head.startswith("null"):
        try:
            return _EMPTY if doc.json() is None else NO
        except InputError:
            return NO
    value = doc.try_json()
    if isinstance(value, dict):
        if "SchemaVersion" in value and any(k in value for k in ("ArtifactName", "ArtifactType", "Results")):
            return DEFINITE
        if "ClusterName" in value and any(
            k in value for k in ("Resources", "Vulnerabilities", "Misconfigurations")
        ):
            return DEFINITE
        results = value.get("Results")
        if isinstance(results, list) and results and all(_is_result(r) for r in results):
            return LIKELY
        return NO
    if isinstance(value, list):
        if not value:
            return _EMPTY
        return LIKELY if all(_is_result(r) for r in value) else NO
    return NO


def _is_result(value: Any) -> bool:
    """True when ``value`` looks like one Trivy result (``Target`` plus a section or type)."""
    return (
        isinstance(value, dict)
        and "Target" in value
        and any(k in value for k in ("Vulnerabilities", "Type", "Class", *_OTHER_KEYS))
    )


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a Trivy report of any era into a ``vulnerability-scan`` record."""
    if not doc.looks_like_json and _LOG_LINE.match(doc.head):
        raise _log_error(doc)
    value = doc.json()
    reader = _Reader(doc)
    tool = Tool("trivy", None)
    subject = Subject()
    format_version: str | None = None
    effective_at: str | None = None
    database: dict[str, Any] | None = None
    if value is None:
        reader.problems.add(
            "$",
            "a legacy Trivy report of a scan with nothing to report (null): it names no image, target or "
            "database",
        )
    elif isinstance(value, list):
        if not value:
            raise InputError(
                doc.source,
                "is an empty JSON array: it names no scanner, image or target, so it is no evidence that "
                "anything was scanned (pip-audit 1.x and Gitleaks write the same two bytes)",
                hint="save the scanner's full JSON report, e.g. `trivy image --format json --output FILE "
                "IMAGE@DIGEST` (SchemaVersion 2)",
            )
        reader.results(value, "$", None)
    elif isinstance(value, dict):
        format_version = opt_str(value.get("SchemaVersion"))
        version_block = value.get("Trivy")
        if isinstance(version_block, dict):
            tool = Tool("trivy", opt_str(version_block.get("Version")))
            database = _database(version_block)
        effective_at = normalise_time(value.get("CreatedAt"))
        if "ClusterName" in value:
            subject = Subject(name=opt_str(value.get("ClusterName")))
            for section in ("Resources", "Vulnerabilities", "Misconfigurations"):
                if value.get(section) is not None:
                    resources = require_list(doc, value[section], f"$.{section}")
                    reader.resources(resources, f"$.{section}")
        else:
            subject = _subject(value, reader.problems)
            results = value.get("Results")
            if results is not None:
                reader.results(require_list(doc, results, "$.Results"), "$.Results", None)
    else:
        raise InputError(doc.source, f"is not a Trivy report: the JSON document is {json_type(value)}")
    return Parsed(
        data=reader.finish(database),
        format_version=format_version,
        tool=tool,
        subject=subject,
        effective_at=effective_at,
        problems=reader.problems.items,
    )


class _Reader:
    """Walks results (of an artifact or of Kubernetes resources) into findings and counts."""

    def __init__(self, doc: Artefact) -> None:
        """Start reading ``doc`` with nothing found yet."""
        self.doc = doc
        self.problems = Problems(doc.source)
        self.findings = FindingSet()
        self.misconfigurations = 0
        self.secrets = 0
        self.secret_findings: list[dict[str, Any]] = []
        self.misconfig_findings: list[dict[str, Any]] = []
        self.license_findings: list[dict[str, Any]] = []
        self.modified = 0
        self.results_seen = 0
        self.vuln_results = 0
        self.unknown_words: dict[str, str] = {}
        self.times: dict[str, str | None] = {}

    def resources(self, resources: list[Any], path: str) -> None:
        """Read the resources of a ``trivy k8s`` report; each resource's results target it."""
        for i, item in enumerate(resources):
            rpath = f"{path}[{i}]"
            resource = require_mapping(self.doc, item, rpath)
            name = "/".join(
                part
                for part in (opt_str(resource.get(k)) for k in ("Namespace", "Kind", "Name"))
                if part is not None
            )
            error = opt_str(resource.get("Error"))
            if error is not None:
                self.problems.add(rpath, "Trivy could not scan this resource (its Error field says why)")
            results = resource.get("Results")
            if results is not None:
                self.results(require_list(self.doc, results, f"{rpath}.Results"), f"{rpath}.Results", name)

    def results(self, results: list[Any], path: str, resource: str | None) -> None:
        """Read a list of Trivy results; ``resource`` (k8s) replaces each result's own target."""
        for i, item in enumerate(results):
            rpath = f"{path}[{i}]"
            result = require_mapping(self.doc, item, rpath)
            self.results_seen += 1
            target = resource or opt_str(result.get("Target"))
            klass = opt_str(result.get("Class"))
            raw_vulns = result.get("Vulnerabilities")
            vulns = [] if raw_vulns is None else require_list(self.doc, raw_vulns, f"{rpath}.Vulnerabilities")
            if (
                raw_vulns is not None
                or klass in _VULN_CLASSES
                or (klass is None and not any(k in result for k in _OTHER_KEYS))
            ):
                self.vuln_results += 1
                self.findings.add_target(target)
            misconfigs = result.get("Misconfigurations")
            if isinstance(misconfigs, list):
                failed = [
                    m
                    for m in misconfigs
                    if not (isinstance(m, dict) and m.get("Status") in ("PASS", "EXCEPTION"))
                ]
                self.misconfigurations += len(failed)
                for m in failed[: max(0, SECTION_LIMIT - len(self.misconfig_findings))]:
                    self.misconfig_findings.append(_misconfiguration(m, target))
            licences = result.get("Licenses")
            if isinstance(licences, list):
                for item in licences[: max(0, SECTION_LIMIT - len(self.license_findings))]:
                    self.license_findings.append(_licence(item, target))
            secrets = result.get("Secrets")
            if isinstance(secrets, list):
                self.secrets += len(secrets)
                for item in secrets[: max(0, SECTION_LIMIT - len(self.secret_findings))]:
                    self.secret_findings.append(_secret(item, target))
            for key in ("ModifiedFindings", "ExperimentalModifiedFindings"):
                modified = result.get(key)
                if isinstance(modified, list):
                    self.modified += len(modified)
            kind = opt_str(result.get("Type"))
            for j, vuln in enumerate(vulns):
                self.vulnerability(vuln, f"{rpath}.Vulnerabilities[{j}]", target, kind)

    def vulnerability(self, item: Any, path: str, target: str | None, kind: str | None) -> None:
        """Read one entry of ``Vulnerabilities`` into a finding."""
        vuln = item if type(item) is dict else require_mapping(self.doc, item, path)
        vid = opt_str(vuln.get("VulnerabilityID"))
        if vid is None:
            raise InputError(self.doc.source, "a vulnerability has no VulnerabilityID", path=path)
        identifier = vuln.get("PkgIdentifier")
        purl = opt_str(identifier.get("PURL")) if isinstance(identifier, dict) else None
        word = opt_str(vuln.get("Severity"))
        if word is not None and not is_known_severity_word(word):
            self.unknown_words.setdefault(word, f"{path}.Severity")
        cvss_score = _cvss(vuln.get("CVSS"))
        fixed = vuln.get("FixedVersion")
        data_source = vuln.get("DataSource")
        self.findings.add(
            finding(
                id=vid,
                aliases=clean_ids(vuln.get("VendorIDs") or (), exclude=vid),
                severity=severity_of(word, cvss_score),
                cvss_score=cvss_score,
                name=opt_str(vuln.get("PkgName")),
                version=opt_str(vuln.get("InstalledVersion")),
                purl=purl,
                ecosystem=ecosystem_of(purl, kind),
                fixed_versions=unique_strings(fixed.split(",")) if isinstance(fixed, str) else [],
                target=target,
                title=opt_str(vuln.get("Title")),
                status=status_of(vuln.get("Status")),
                published_at=self.time(vuln.get("PublishedDate")),
                data_source=opt_str(data_source.get("ID")) if isinstance(data_source, dict) else None,
            )
        )

    def time(self, value: Any) -> str | None:
        """``normalise_time(value)``, worked out once per distinct string (a CVE's dates repeat
        for every package and target it affects)."""
        if type(value) is not str:
            return normalise_time(value)
        if value not in self.times:
            self.times[value] = normalise_time(value)
        return self.times[value]

    def finish(self, database: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data mapping, after noting what deserves a problem sentence."""
        for word, where in sorted(self.unknown_words.items()):
            self.problems.add(
                where, f"a severity word affidavit does not know ({shape_of(word)}): counted as unknown"
            )
        if self.findings.duplicates:
            self.problems.add(
                "$",
                f"{self.findings.duplicates} vulnerability entries repeat a (vulnerability, package, "
                "target) already listed (the same package at several paths); each is counted once",
            )
        if self.results_seen and not self.vuln_results:
            self.problems.add(
                "$",
                "the report holds no vulnerability results (only misconfiguration, secret or licence "
                "results): it is no evidence that vulnerabilities were scanned for",
            )
        if self.modified:
            self.problems.add(
                "$",
                f"{self.modified} findings were suppressed by a VEX document or ignore policy "
                "(ModifiedFindings) and are not counted",
            )
        data = self.findings.data(
            database=database,
            other={"misconfigurations": self.misconfigurations, "secrets": self.secrets},
        )
        data["scanned_for_vulnerabilities"] = (
            True if self.vuln_results else (False if self.results_seen else None)
        )
        data["secret_findings"] = self.secret_findings
        data["misconfiguration_findings"] = self.misconfig_findings
        data["license_findings"] = self.license_findings
        for what, n, kept in (
            ("secret", self.secrets, self.secret_findings),
            ("misconfiguration", self.misconfigurations, self.misconfig_findings),
        ):
            if n > len(kept):
                self.problems.add(
                    "$",
                    f"{n:,} {what} findings; the record keeps the first {len(kept):,} (all are counted in other)",
                )
        return data


#: The secret and the misconfiguration findings a record keeps of each (all are counted in ``other``).
SECTION_LIMIT = 1_000


def _secret(item: Any, target: str | None) -> dict[str, Any]:
    """One entry of a result's ``Secrets`` as a secret finding: where and which rule, never the
    match or the code lines (the secret is in them)."""
    entry = item if isinstance(item, dict) else {}
    rule = opt_str(entry.get("RuleID")) or "unknown"
    line = entry.get("StartLine")
    line = line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None
    word = opt_str(entry.get("Severity"))
    return {
        "rule_id": rule,
        "category": opt_str(entry.get("Category")),
        "severity": severity_of(word, None).value,
        "file": target,
        "line": line,
        "fingerprint": f"trivy:{target or ''}:{rule}:{line or ''}",
    }


def _licence(item: Any, target: str | None) -> dict[str, Any]:
    """One entry of a result's ``Licenses`` (``--scanners license``): the package, the licence as
    Trivy names it and what it allows (``kinds.licenses.reading``), Trivy's category and severity."""
    entry = item if isinstance(item, dict) else {}
    name = opt_str(entry.get("Name"))
    choices, unidentified = reading([name]) if name is not None else ([], [])
    word = opt_str(entry.get("Severity"))
    return {
        "package": opt_str(entry.get("PkgName")),
        "name": name,
        "license_choices": choices,
        "license_unidentified": unidentified,
        "category": opt_str(entry.get("Category")),
        "severity": severity_of(word, None).value,
        "file": opt_str(entry.get("FilePath")),
        "target": target,
    }


def _misconfiguration(item: Any, target: str | None) -> dict[str, Any]:
    """One failed entry of a result's ``Misconfigurations``: the check, its severity and where."""
    entry = item if isinstance(item, dict) else {}
    cause = entry.get("CauseMetadata")
    cause = cause if isinstance(cause, dict) else {}
    word = opt_str(entry.get("Severity"))
    return {
        "id": opt_str(entry.get("AVDID")) or opt_str(entry.get("ID")) or "unknown",
        "check_id": opt_str(entry.get("ID")),
        "type": opt_str(entry.get("Type")),
        "title": opt_str(entry.get("Title")),
        "severity": severity_of(word, None).value,
        "status": opt_str(entry.get("Status")),
        "target": target,
        "resource": opt_str(cause.get("Resource")),
        "line": cause.get("StartLine") if isinstance(cause.get("StartLine"), int) else None,
    }


def _database(trivy: dict[str, Any]) -> dict[str, Any] | None:
    """``{updated_at, version, schema}`` of the vulnerability database the report names, if any.

    The server's (client/server mode: ``Trivy.Server.VulnerabilityDB``) wins over a local one
    (``Trivy.VulnerabilityDB``): in that mode the server scans with its own database.
    """
    server = trivy.get("Server")
    for block in (
        server.get("VulnerabilityDB") if isinstance(server, dict) else None,
        trivy.get("VulnerabilityDB"),
    ):
        if isinstance(block, dict):
            version = block.get("Version")
            return {
                "updated_at": normalise_time(block.get("UpdatedAt")),
                "version": None,
                "schema": str(version)
                if isinstance(version, int) and not isinstance(version, bool)
                else None,
            }
    return None


def _cvss(block: Any) -> float | None:
    """The highest v3/v4 base score over every vendor (v2 only if none), computing missing ones."""
    if not isinstance(block, dict):
        return None
    modern: list[float | None] = []
    legacy: list[float | None] = []
    for entry in block.values():
        if not isinstance(entry, dict):
            continue
        for score_key, vector_key, bucket in (
            ("V3Score", "V3Vector", modern),
            ("V40Score", "V40Vector", modern),
            ("V2Score", "V2Vector", legacy),
        ):
            value = score(entry.get(score_key))
            if value is None and isinstance(entry.get(vector_key), str):
                value = cvss_vector_score(entry[vector_key])
            bucket.append(value)
    return highest_score(modern, legacy)


def _subject(report: dict[str, Any], problems: Problems) -> Subject:
    """The scanned artifact: its name and, for an image, the manifest digest from ``RepoDigests``."""
    name = opt_str(report.get("ArtifactName"))
    digest: str | None = None
    metadata = report.get("Metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if name is not None and "@sha256:" in name:
        name, _, claimed = name.partition("@")
        repo_digests = metadata.get("RepoDigests")
        digest, note = claimed_digest(claimed, repo_digests if isinstance(repo_digests, list) else [])
        if note is not None:
            problems.add("$.ArtifactName", note)
        return Subject(name=name, version=None, digest=digest)
    image = report.get("ArtifactType") == "container_image" or "RepoDigests" in metadata
    if digest is None and image:
        repo_digests = metadata.get("RepoDigests")
        digest, note = pick_repo_digest(repo_digests if isinstance(repo_digests, list) else [], name)
        if note is not None:
            problems.add("$.Metadata.RepoDigests", note)
        if digest is None:
            fallback = (
                "; Metadata.ImageID is the image's config digest, not its manifest digest, and is not "
                "used as the subject digest"
                if opt_str(metadata.get("ImageID"))
                else ""
            )
            problems.add(
                "$.Metadata.RepoDigests",
                "no repository digest: the image's manifest digest is unknown (a local or never-pushed "
                f"image){fallback}",
            )
    return Subject(name=name, version=None, digest=digest)


def _log_error(doc: Artefact) -> InputError:
    """The error for a Trivy log found where the JSON report should be."""
    lines = doc.text.splitlines()
    at = next((n for n, ln in enumerate(lines, 1) if re.search(r"\s(FATAL|ERROR)\s", ln)), None)
    said = f"; line {at} says what went wrong" if at is not None else ""
    return InputError(
        doc.source,
        f"is Trivy's log output ({len(lines)} line(s){said}), not a JSON report",
        hint="write the report with `trivy ... --format json --output FILE`, keeping the log apart",
    )


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT,
        kind=EvidenceKind.VULNERABILITY_SCAN,
        detect=detect,
        parse=parse,
        description="Trivy JSON report (legacy array, SchemaVersion 2, trivy k8s cluster report)",
        redact=redact_secret_scan,
    ),
)
