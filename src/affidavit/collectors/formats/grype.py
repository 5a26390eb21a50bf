"""Grype JSON reports (``grype IMAGE|DIR|sbom:FILE -o json``) as ``vulnerability-scan`` evidence.

A report is ``{matches, source, distro, descriptor}`` (plus ``ignoredMatches`` when ignore rules
applied). Each match pairs a ``vulnerability`` with the ``artifact`` (package) it was found in;
``relatedVulnerabilities`` are the same flaw as other databases record it (the NVD record of a
distribution's CVE, say) and give the aliases and further CVSS scores.

Eras handled:

* early Grype (0.7, 2021): ``vulnerability.cvssV2``/``cvssV3`` objects, ``fixedInVersion``,
  ``links``; ``matchDetails`` an object; ``descriptor`` only ``{name, version}``;
* later Grype: ``vulnerability.cvss[]`` (one entry per source and CVSS version), ``fix {versions,
  state}``, ``namespace``, ``advisories``; ``descriptor.db {built, schemaVersion, checksum}``;
* Grype 0.88+ with DB schema v6: ``descriptor.db.status {schemaVersion, built, from}``, EPSS
  (``vulnerability.epss[]``), ``risk`` and ``knownExploited``.

A finding's target is the path where the package was found (``artifact.locations[0].path``), so
that one package found in two places is two findings, as Grype reports it; ``targets`` lists those
paths. The subject is the scanned image (with the digest the user asked for, else the repository
digest, else the platform manifest digest) or directory/file. A digest the user asked for
(``userInput: name@sha256:...``) must be a digest and one of those Grype resolved for the image it
scanned (``repoDigests``, ``manifestDigest``); otherwise the record has no subject digest, and a
problem says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
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
from affidavit.collectors.kinds.severity import is_known_severity_word, score, severity_of
from affidavit.collectors.kinds.vulnerability import (
    FindingSet,
    claimed_digest,
    clean_ids,
    cvss_version,
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

FORMAT = "grype-json"

_NOT_PROVIDED = "[not provided]"


def detect(doc: Artefact) -> int:
    """Score ``doc`` as a Grype JSON report."""
    if not doc.looks_like_json:
        return NO
    value = doc.try_json()
    if not isinstance(value, dict) or not isinstance(value.get("matches"), list):
        return NO
    descriptor = value.get("descriptor")
    if isinstance(descriptor, dict) and descriptor.get("name") == "grype":
        return DEFINITE
    if "source" in value and ("distro" in value or "descriptor" in value):
        return LIKELY
    return NO


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a Grype report into a ``vulnerability-scan`` record."""
    report = doc.json()
    if not isinstance(report, dict):
        raise InputError(doc.source, f"is not a Grype report: the JSON document is {json_type(report)}")
    problems = Problems(doc.source)
    matches = require_list(doc, report.get("matches"), "$.matches")
    descriptor = report.get("descriptor")
    descriptor = descriptor if isinstance(descriptor, dict) else {}
    findings = FindingSet()
    unknown_words: dict[str, str] = {}
    for i, item in enumerate(matches):
        _match(doc, item, f"$.matches[{i}]", findings, unknown_words)
    for word, where in sorted(unknown_words.items()):
        problems.add(where, f"a severity word affidavit does not know ({shape_of(word)}): counted as unknown")
    if findings.duplicates:
        problems.add(
            "$.matches",
            f"{findings.duplicates} matches repeat a (vulnerability, package, location) already listed "
            "(found by several matchers); each is counted once",
        )
    ignored = report.get("ignoredMatches")
    if isinstance(ignored, list) and ignored:
        problems.add(
            "$.ignoredMatches",
            f"{len(ignored)} matches were ignored by Grype's configuration (ignore rules or VEX) and "
            "are not counted",
        )
    version = opt_str(descriptor.get("version"))
    return Parsed(
        data=findings.data(database=_database(descriptor)),
        format_version=None,
        tool=Tool("grype", None if version == _NOT_PROVIDED else version),
        subject=_subject(report.get("source"), problems),
        effective_at=normalise_time(descriptor.get("timestamp")),
        problems=problems.items,
    )


def _match(doc: Artefact, item: Any, path: str, findings: FindingSet, unknown_words: dict[str, str]) -> None:
    """Read one match into a finding."""
    match = require_mapping(doc, item, path)
    vuln = require_mapping(doc, match.get("vulnerability"), f"{path}.vulnerability")
    artifact = require_mapping(doc, match.get("artifact"), f"{path}.artifact")
    vid = opt_str(vuln.get("id"))
    if vid is None:
        raise InputError(doc.source, "a vulnerability has no id", path=f"{path}.vulnerability.id")
    related = match.get("relatedVulnerabilities")
    related = [r for r in related if isinstance(r, dict)] if isinstance(related, list) else []
    advisories = vuln.get("advisories")
    advisory_ids = (
        [a.get("id") for a in advisories if isinstance(a, dict)] if isinstance(advisories, list) else []
    )
    word = opt_str(vuln.get("severity"))
    if word is not None and not is_known_severity_word(word):
        unknown_words.setdefault(word, f"{path}.vulnerability.severity")
    cvss_score = _cvss([vuln, *related])
    purl = opt_str(artifact.get("purl"))
    locations = artifact.get("locations")
    target = None
    if isinstance(locations, list) and locations and isinstance(locations[0], dict):
        target = opt_str(locations[0].get("path"))
    fix = vuln.get("fix")
    if isinstance(fix, dict):
        fixed = unique_strings(fix.get("versions") or ())
        status = status_of(fix.get("state"))
    else:
        legacy_fix = vuln.get("fixedInVersion")
        fixed = unique_strings(legacy_fix.split(",")) if isinstance(legacy_fix, str) else []
        status = None
    out = finding(
        id=vid,
        aliases=clean_ids([*(r.get("id") for r in related), *advisory_ids], exclude=vid),
        severity=severity_of(word, cvss_score),
        cvss_score=cvss_score,
        name=opt_str(artifact.get("name")),
        version=opt_str(artifact.get("version")),
        purl=purl,
        ecosystem=ecosystem_of(purl, opt_str(artifact.get("type"))),
        fixed_versions=fixed,
        target=target,
        title=None,
        status=status,
        published_at=None,
        data_source=opt_str(vuln.get("namespace")),
    )
    epss = vuln.get("epss")
    if isinstance(epss, list):
        values = [e.get("epss") for e in epss if isinstance(e, dict)]
        best = max(
            (float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)), default=None
        )
        if best is not None:
            out["epss"] = best
    risk = vuln.get("risk")
    if isinstance(risk, int | float) and not isinstance(risk, bool):
        out["risk"] = float(risk)
    if findings.add(out):
        findings.add_target(target)


def _cvss(records: list[dict[str, Any]]) -> float | None:
    """The highest v3/v4 base score over a vulnerability and its related records (v2 if none)."""
    modern: list[float | None] = []
    legacy: list[float | None] = []
    for record in records:
        entries = record.get("cvss")
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            metrics = entry.get("metrics")
            value = score(metrics.get("baseScore")) if isinstance(metrics, dict) else None
            version = opt_str(entry.get("version")) or ""
            vector = opt_str(entry.get("vector")) or ""
            if version.startswith("2") or (not version and cvss_version(vector) == "2"):
                legacy.append(value)
            else:
                modern.append(value)
        # Grype 0.7 era
        for key, bucket in (("cvssV3", modern), ("cvssV2", legacy)):
            block = record.get(key)
            if isinstance(block, dict):
                bucket.append(score(block.get("baseScore")))
    return highest_score(modern, legacy)


def _database(descriptor: dict[str, Any]) -> dict[str, Any] | None:
    """``{updated_at, version, schema}`` of the vulnerability database, when the report says."""
    db = descriptor.get("db")
    if not isinstance(db, dict):
        return None
    status = db.get("status")
    info = status if isinstance(status, dict) else db
    checksum = opt_str(info.get("checksum"))
    source = opt_str(info.get("from"))
    if checksum is None and source is not None:
        found = parse_qs(urlsplit(source).query).get("checksum")
        checksum = found[0] if found else None
    return {
        "updated_at": normalise_time(info.get("built")),
        "version": checksum,
        "schema": opt_str(info.get("schemaVersion")),
    }


def _subject(source: Any, problems: Problems) -> Subject:
    """The scanned image, directory or file, from ``source``."""
    if not isinstance(source, dict):
        return Subject()
    kind = opt_str(source.get("type"))
    target = source.get("target")
    if isinstance(target, str):
        return Subject() if target == "unknown" and kind in (None, "unknown") else Subject(name=target)
    if not isinstance(target, dict):
        return Subject()
    name = opt_str(target.get("userInput")) or opt_str(target.get("path")) or opt_str(target.get("name"))
    digest: str | None = None
    if name is not None and "@sha256:" in name:
        name, _, claimed = name.partition("@")
        repo_digests = target.get("repoDigests")
        resolved = [*(repo_digests if isinstance(repo_digests, list) else []), target.get("manifestDigest")]
        digest, note = claimed_digest(claimed, resolved)
        if note is not None:
            problems.add("$.source.target.userInput", note)
        return Subject(name=name, version=None, digest=digest)
    if kind == "image" and digest is None:
        repo_digests = target.get("repoDigests")
        digest, note = pick_repo_digest(repo_digests if isinstance(repo_digests, list) else [], name)
        if note is not None:
            problems.add("$.source.target.repoDigests", note)
        if digest is None:
            digest = opt_str(target.get("manifestDigest"))
    version = opt_str(target.get("version")) if kind != "image" else None
    return Subject(name=name, version=version, digest=digest)


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT,
        kind=EvidenceKind.VULNERABILITY_SCAN,
        detect=detect,
        parse=parse,
        description="Grype JSON report (grype -o json), every descriptor and DB era",
    ),
)
