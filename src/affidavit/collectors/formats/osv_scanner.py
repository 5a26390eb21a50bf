"""OSV-Scanner JSON reports (``osv-scanner --format json``, v1 and v2) as ``vulnerability-scan`` evidence.

A report is ``{results: [{source: {path, type}, packages: [{package: {name, version, ecosystem},
vulnerabilities: [OSV record], groups: [{ids, aliases, max_severity}]}]}], experimental_config}``.
The first releases called ``source`` ``packageSource`` and wrote ``package`` as ``Package``; both are
read. ``license_violations`` and ``license_summary`` are licence findings, not vulnerabilities.

OSV-Scanner groups the records that describe one flaw (a GHSA and a PYSEC record of the same CVE):
each group is one finding, with the group's first id (OSV-Scanner sorts them) as ``id`` and every
other id and alias as ``aliases``. A record in no group (releases before groups existed) is a
finding of its own. The finding's severity is the most severe of its records' words
(``database_specific.severity``, ``ecosystem_specific.severity``, an ``Ubuntu`` severity entry); with
no word, the score decides: the highest base score computed from the records' CVSS vectors, else the
group's ``max_severity``. Fixed versions are the ``fixed`` events of the records' affected ranges for
this package (commit ranges excluded). OSV records state no fix state, so ``status`` is null.
A record with ``withdrawn`` set (OSV schema: "the vulnerability was withdrawn") is no vulnerability:
it makes no finding, and the record's problems count how many were left out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from affidavit.collectors.interface import (
    DEFINITE,
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
from affidavit.collectors.kinds.severity import (
    is_known_severity_word,
    score,
    severity_of,
    severity_of_score,
    worst_severity,
)
from affidavit.collectors.kinds.vulnerability import (
    FindingSet,
    clean_ids,
    cvss_vector_score,
    cvss_version,
    ecosystem_of,
    finding,
    highest_score,
    language_purl,
    unique_strings,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Severity, Subject, Tool
from affidavit.model.time import normalise as normalise_time

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT = "osv-scanner-json"


def detect(doc: Artefact) -> int:
    """Score ``doc`` as an OSV-Scanner JSON report."""
    if not doc.looks_like_json:
        return NO
    value = doc.try_json()
    if not isinstance(value, dict) or not isinstance(value.get("results"), list):
        return NO
    if "experimental_config" in value:
        return DEFINITE
    results = value["results"]
    if results and all(
        isinstance(r, dict) and "packages" in r and ("source" in r or "packageSource" in r) for r in results
    ):
        return DEFINITE
    return NO


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise an OSV-Scanner report into a ``vulnerability-scan`` record."""
    report = doc.json()
    if not isinstance(report, dict):
        raise InputError(
            doc.source, f"is not an OSV-Scanner report: the JSON document is {json_type(report)}"
        )
    problems = Problems(doc.source)
    findings = FindingSet()
    state = _State()
    results = require_list(doc, report.get("results"), "$.results")
    for i, item in enumerate(results):
        path = f"$.results[{i}]"
        result = require_mapping(doc, item, path)
        source = result.get("source", result.get("packageSource"))
        target = opt_str(source.get("path")) if isinstance(source, dict) else None
        findings.add_target(target)
        packages = result.get("packages")
        packages = [] if packages is None else require_list(doc, packages, f"{path}.packages")
        for j, entry in enumerate(packages):
            _package(doc, entry, f"{path}.packages[{j}]", target, findings, state)
    for word, where in sorted(state.unknown_words.items()):
        problems.add(where, f"a severity word affidavit does not know ({shape_of(word)}): not used")
    for where, vector in state.bad_vectors[:5]:
        problems.add(where, f"a CVSS vector ({shape_of(vector)}) that cannot be scored: ignored")
    if state.uncalled:
        problems.add(
            "$.results",
            f"{state.uncalled} findings were judged not called or unimportant by OSV-Scanner's "
            "experimental analysis; they are kept",
        )
    if state.withdrawn:
        problems.add(
            "$.results",
            f"{len(state.withdrawn)} advisories are withdrawn (their OSV record has `withdrawn`): they are "
            "no vulnerabilities and are not counted",
        )
    if findings.duplicates:
        problems.add(
            "$.results",
            f"{findings.duplicates} findings repeat a (vulnerability, package, source) already listed; "
            "each is counted once",
        )
    return Parsed(
        data=findings.data(),
        format_version=None,
        tool=Tool("osv-scanner", None),
        subject=Subject(),
        effective_at=None,
        problems=problems.items,
    )


class _State:
    """What parsing noticed across the whole report, for the problem sentences."""

    def __init__(self) -> None:
        """Nothing noticed yet."""
        self.unknown_words: dict[str, str] = {}
        self.bad_vectors: list[tuple[str, str]] = []
        self.uncalled = 0
        self.withdrawn: set[str] = set()


def _package(
    doc: Artefact, item: Any, path: str, target: str | None, findings: FindingSet, state: _State
) -> None:
    """Read one scanned package: one finding per group of its vulnerability records."""
    entry = require_mapping(doc, item, path)
    raw_package = entry.get("package", entry.get("Package"))
    package = raw_package if isinstance(raw_package, dict) else {}
    name = opt_str(package.get("name"))
    version = opt_str(package.get("version")) or opt_str(package.get("commit"))
    eco_word = opt_str(package.get("ecosystem"))
    ecosystem = ecosystem_of(None, eco_word)
    purl = opt_str(package.get("purl")) or language_purl(ecosystem, name, opt_str(package.get("version")))
    raw_vulns = entry.get("vulnerabilities")
    vulns = [] if raw_vulns is None else require_list(doc, raw_vulns, f"{path}.vulnerabilities")
    records: dict[str, tuple[dict[str, Any], str]] = {}
    order: list[str] = []
    for k, raw in enumerate(vulns):
        vpath = f"{path}.vulnerabilities[{k}]"
        record = require_mapping(doc, raw, vpath)
        vid = opt_str(record.get("id"))
        if vid is None:
            raise InputError(doc.source, "a vulnerability record has no id", path=f"{vpath}.id")
        if opt_str(record.get("withdrawn")) is not None:
            state.withdrawn.add(vid)  # OSV schema: the advisory was withdrawn and is not a vulnerability
            continue
        if vid not in records:
            records[vid] = (record, vpath)
            order.append(vid)
    raw_groups = entry.get("groups")
    groups = [g for g in raw_groups if isinstance(g, dict)] if isinstance(raw_groups, list) else []
    group_of: dict[str, int] = {}
    for index, group in enumerate(groups):
        for gid in group.get("ids") or ():
            if isinstance(gid, str):
                group_of.setdefault(gid, index)
    emitted: set[int] = set()
    units: list[tuple[list[str], dict[str, Any] | None]] = []
    for vid in order:
        found = group_of.get(vid)
        if found is None:
            units.append(([vid], None))
        elif found not in emitted:
            emitted.add(found)
            ids = [
                i for i in groups[found].get("ids") or () if isinstance(i, str) and i not in state.withdrawn
            ]
            units.append((ids or [vid], groups[found]))
    for index, group in enumerate(groups):  # groups whose records were left out of the report
        ids = [i for i in group.get("ids") or () if isinstance(i, str) and i not in state.withdrawn]
        if index not in emitted and ids:
            units.append((ids, group))
    if purl is None and name is not None and version is not None:
        purl = _affected_purl([r for r, _ in records.values()], name, opt_str(package.get("version")))
    for ids, unit_group in units:
        members = [records[i] for i in ids if i in records]
        findings.add(_finding(ids, unit_group, members, name, version, purl, ecosystem, target, state))


def _finding(
    ids: list[str],
    group: dict[str, Any] | None,
    members: list[tuple[dict[str, Any], str]],
    name: str | None,
    version: str | None,
    purl: str | None,
    ecosystem: str | None,
    target: str | None,
    state: _State,
) -> dict[str, Any]:
    """One finding for a group of OSV records of one flaw in one package."""
    vid = ids[0]
    aliases: list[Any] = list(ids)
    if group is not None:
        aliases.extend(group.get("aliases") or ())
        analysis = group.get("experimentalAnalysis")
        if isinstance(analysis, dict) and analysis:
            called = any(isinstance(a, dict) and a.get("called", True) for a in analysis.values())
            unimportant = any(isinstance(a, dict) and a.get("unimportant") for a in analysis.values())
            if not called or unimportant:
                state.uncalled += 1
    words: list[Severity] = []
    modern: list[float | None] = []
    legacy: list[float | None] = []
    fixed: list[str] = []
    for record, path in members:
        aliases.extend(record.get("aliases") or ())
        words.extend(_words(record, path, state))
        _vectors(record, path, modern, legacy, state)
        fixed.extend(_fixed(record, name, ecosystem))
    cvss_score = highest_score(modern, legacy)
    if cvss_score is None and group is not None:
        cvss_score = score(group.get("max_severity"))
    severity = worst_severity(words) if words else severity_of_score(cvss_score)
    main = next((r for r, _ in members if r.get("id") == vid), members[0][0] if members else {})
    title = opt_str(main.get("summary")) or next(
        (opt_str(r.get("summary")) for r, _ in members if opt_str(r.get("summary"))), None
    )
    return finding(
        id=vid,
        aliases=clean_ids(aliases, exclude=vid),
        severity=severity,
        cvss_score=cvss_score,
        name=name,
        version=version,
        purl=purl,
        ecosystem=ecosystem,
        fixed_versions=unique_strings(fixed),
        target=target,
        title=title,
        status=None,
        published_at=normalise_time(main.get("published")),
        data_source="osv",
    )


def _words(record: dict[str, Any], path: str, state: _State) -> list[Severity]:
    """The severity words an OSV record carries, mapped (words that say nothing are dropped)."""
    found: list[tuple[Any, str]] = []
    db = record.get("database_specific")
    if isinstance(db, dict):
        found.append((db.get("severity"), f"{path}.database_specific.severity"))
    for a, affected in enumerate(record.get("affected") or ()):
        if not isinstance(affected, dict):
            continue
        for key in ("ecosystem_specific", "database_specific"):
            block = affected.get(key)
            if isinstance(block, dict):
                found.append((block.get("severity"), f"{path}.affected[{a}].{key}.severity"))
    for s, entry in enumerate(record.get("severity") or ()):
        if isinstance(entry, dict) and str(entry.get("type", "")).lower() == "ubuntu":
            found.append((entry.get("score"), f"{path}.severity[{s}].score"))
    out: list[Severity] = []
    for word, where in found:
        if not isinstance(word, str) or not word.strip():
            continue
        if not is_known_severity_word(word):
            state.unknown_words.setdefault(word, where)
            continue
        mapped = severity_of(word)
        if mapped is not Severity.UNKNOWN:
            out.append(mapped)
    return out


def _vectors(
    record: dict[str, Any],
    path: str,
    modern: list[float | None],
    legacy: list[float | None],
    state: _State,
) -> None:
    """Score the CVSS vectors of an OSV record's ``severity`` (and its affected entries')."""
    entries: list[tuple[Any, str]] = [(record.get("severity"), f"{path}.severity")]
    for a, affected in enumerate(record.get("affected") or ()):
        if isinstance(affected, dict):
            entries.append((affected.get("severity"), f"{path}.affected[{a}].severity"))
    for block, where in entries:
        if not isinstance(block, list):
            continue
        for s, entry in enumerate(block):
            if not isinstance(entry, dict) or not str(entry.get("type", "")).upper().startswith("CVSS_"):
                continue
            vector = opt_str(entry.get("score"))
            if vector is None:
                continue
            version = cvss_version(vector)
            value = cvss_vector_score(vector)
            if value is None:
                state.bad_vectors.append((f"{where}[{s}].score", vector))
                continue
            (legacy if version == "2" else modern).append(value)


def _affected_purl(records: list[dict[str, Any]], name: str, version: str | None) -> str | None:
    """The package URL an affected entry gives for this package (versionless), with ``version`` added.

    Only a plain ``pkg:type/namespace/name`` is extended: one with qualifiers (a Debian
    ``?arch=source``) describes another artefact than the one installed.
    """
    if version is None:
        return None
    for record in records:
        for affected in record.get("affected") or ():
            package = affected.get("package") if isinstance(affected, dict) else None
            if not isinstance(package, dict) or _norm(opt_str(package.get("name")) or "") != _norm(name):
                continue
            base = opt_str(package.get("purl"))
            if base is None or not base.startswith("pkg:") or any(c in base for c in "@?#"):
                continue
            return f"{base}@{quote(version, safe='.-_~+')}"
    return None


def _norm(name: str) -> str:
    """A package name compared loosely (PEP 503 style: case and ``-_.`` runs ignored)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _fixed(record: dict[str, Any], name: str | None, ecosystem: str | None) -> list[str]:
    """The ``fixed`` versions of the record's affected ranges for this package (not commits)."""
    out: list[str] = []
    for affected in record.get("affected") or ():
        if not isinstance(affected, dict):
            continue
        package = affected.get("package")
        if isinstance(package, dict) and name is not None:
            other = opt_str(package.get("name"))
            if other is not None and _norm(other) != _norm(name):
                continue
            other_eco = ecosystem_of(None, opt_str(package.get("ecosystem")))
            if other_eco is not None and ecosystem is not None and other_eco != ecosystem:
                continue
        for rng in affected.get("ranges") or ():
            if not isinstance(rng, dict) or str(rng.get("type", "")).upper() == "GIT":
                continue
            for event in rng.get("events") or ():
                if isinstance(event, dict):
                    fixed = opt_str(event.get("fixed"))
                    if fixed is not None:
                        out.append(fixed)
    return out


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT,
        kind=EvidenceKind.VULNERABILITY_SCAN,
        detect=detect,
        parse=parse,
        description="OSV-Scanner JSON report (osv-scanner --format json), v1 and v2",
    ),
)
