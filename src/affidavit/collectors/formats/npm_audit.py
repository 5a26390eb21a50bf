"""``npm audit --json`` reports (npm 6 and npm 7+) as ``vulnerability-scan`` evidence.

* npm 6: ``{actions, advisories: {<id>: advisory}, muted, metadata, runId}``. Each advisory names a
  module (``module_name``) and its ``findings`` (one per installed version, with dependency paths).
  One finding per (advisory, installed version).
* npm 7+ (``auditReportVersion: 2``): ``{vulnerabilities: {<package>: {name, severity, via, effects,
  range, nodes, fixAvailable}}, metadata}``. A ``via`` entry is either an advisory object
  (``{source, name, title, url, severity, cvss, range}``: the package itself is vulnerable) or the
  name of another package (the package is affected only through that dependency). Only advisory
  objects are findings, one per (advisory ``source``, package).
* ``{"error": {code, summary, detail}}``: npm could not audit (no lockfile, registry without audit
  endpoint ...). This is refused with npm's own summary, as is npm's plain-text error output.

The finding's ``id`` is the GitHub advisory id (``GHSA-...``, from ``github_advisory_id`` or the
advisory URL) when there is one, else the first CVE, else ``NPM-<advisory number>``; the others become
aliases. npm's ``moderate`` is ``medium`` and ``info`` is ``negligible``. Fixed versions: npm 6 gives
the ``patched_versions`` range, read as the lower bound of each ``>=`` alternative (``<0.0.0`` means
no fix); npm 7 names a fixed version only when ``fixAvailable`` upgrades the vulnerable package itself.
The fix state is ``fixed`` when npm says a fix exists and ``not_fixed`` when it says none does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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
    clean_ids,
    cvss_vector_score,
    finding,
    language_purl,
    unique_strings,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool
from affidavit.model.time import normalise as normalise_time

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT = "npm-audit-json"

_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")
_TEXT_ERROR = re.compile(r"^npm (?:ERR!|error) ")
_ERROR_CODE = re.compile(r"E[A-Z0-9_]{1,30}")


def detect(doc: Artefact) -> int:
    """Score ``doc`` as an npm audit report (or npm's error output)."""
    if not doc.looks_like_json:
        return DEFINITE if _TEXT_ERROR.match(doc.head) else NO
    value = doc.try_json()
    if not isinstance(value, dict):
        return NO
    if "auditReportVersion" in value and isinstance(value.get("vulnerabilities"), dict):
        return DEFINITE
    if isinstance(value.get("advisories"), dict) and ("metadata" in value or "actions" in value):
        return DEFINITE
    error = value.get("error")
    if isinstance(error, dict) and len(value) == 1 and _is_npm_error(error):
        return LIKELY
    return NO


def _is_npm_error(error: dict[str, Any]) -> bool:
    """npm's ``--json`` error object: an ``E...`` code and a ``summary`` (``{code, summary, detail}``)."""
    code = error.get("code")
    return isinstance(code, str) and code.startswith("E") and isinstance(error.get("summary"), str)


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise an npm audit report into a ``vulnerability-scan`` record."""
    if not doc.looks_like_json and _TEXT_ERROR.match(doc.head):
        lines = [ln for ln in doc.head.splitlines() if _TEXT_ERROR.match(ln)]
        raise InputError(
            doc.source,
            f"is npm's error output ({len(lines)} error line(s) at its start, which say what went "
            "wrong), not an audit report",
            hint="run `npm audit --json > FILE` in a project with a package-lock.json",
        )
    report = doc.json()
    if not isinstance(report, dict):
        raise InputError(doc.source, f"is not an npm audit report: the JSON document is {json_type(report)}")
    error = report.get("error")
    if isinstance(error, dict) and "vulnerabilities" not in report and "advisories" not in report:
        code = opt_str(error.get("code"))
        # npm's codes are words such as ENOAUDIT; anything else is not repeated
        shown = f" ({code})" if code is not None and _ERROR_CODE.fullmatch(code) else ""
        said = (
            "its message is in $.error"
            if error.get("summary") or error.get("detail")
            else "without a message"
        )
        raise InputError(
            doc.source,
            f"npm audit failed{shown} and wrote an error instead of an audit ({said})",
            path="$.error",
            hint="fix the cause npm names and run `npm audit --json` again; this file holds no audit",
        )
    problems = Problems(doc.source)
    findings = FindingSet()
    unknown_words: dict[str, str] = {}
    if "auditReportVersion" in report:
        _npm7(doc, report, findings, unknown_words)
        version = opt_str(report.get("auditReportVersion"))
    else:
        _npm6(doc, report, findings, unknown_words)
        version = None
    for word, where in sorted(unknown_words.items()):
        problems.add(where, f"a severity word affidavit does not know ({shape_of(word)}): counted as unknown")
    if findings.duplicates:
        problems.add("$", f"{findings.duplicates} advisory entries repeat one already listed; counted once")
    return Parsed(
        data=findings.data(),
        format_version=version,
        tool=Tool("npm", None),
        subject=Subject(),
        effective_at=None,
        problems=problems.items,
    )


def _ids(advisory: dict[str, Any], number: Any) -> tuple[str, list[str]]:
    """The finding id (GHSA, else CVE, else ``NPM-<n>``) and the other ids as aliases."""
    ghsa = opt_str(advisory.get("github_advisory_id"))
    if ghsa is None:
        match = _GHSA.search(opt_str(advisory.get("url")) or "")
        ghsa = match.group(0) if match else None
    cves = sorted(c for c in advisory.get("cves") or () if isinstance(c, str) and c)
    npm_id = f"NPM-{number}" if opt_str(number) is not None else None
    candidates = [c for c in (ghsa, *cves, npm_id) if c is not None]
    if not candidates:
        return "", []
    vid = candidates[0]
    return vid, clean_ids(candidates, exclude=vid)


def _cvss(block: Any) -> float | None:
    """npm's ``cvss {score, vectorString}`` (a 0 score with no vector means "no CVSS")."""
    if not isinstance(block, dict):
        return None
    vector = opt_str(block.get("vectorString"))
    value = score(block.get("score"))
    if vector is None:
        return value if value else None
    return value if value is not None else cvss_vector_score(vector)


def _patched(range_text: str | None) -> list[str]:
    """Fixed versions from npm 6's ``patched_versions`` range: the lower bound of each alternative."""
    if not range_text:
        return []
    out: list[str] = []
    for alternative in range_text.split("||"):
        comparators = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alternative).split()
        m = re.fullmatch(r"(?:>=|\^|~|=)?v?(\d[\w.+-]*)", comparators[0]) if comparators else None
        if m:
            out.append(m.group(1))
    return unique_strings(out)


def _npm6(doc: Artefact, report: dict[str, Any], findings: FindingSet, unknown: dict[str, str]) -> None:
    """npm 6: one finding per advisory and installed version of its module."""
    advisories = require_mapping(doc, report.get("advisories"), "$.advisories")
    for position, (key, raw) in enumerate(advisories.items(), 1):
        path = f"$.advisories[key #{position}]"
        advisory = require_mapping(doc, raw, path)
        vid, aliases = _ids(advisory, advisory.get("id", key))
        name = opt_str(advisory.get("module_name"))
        word = opt_str(advisory.get("severity"))
        if word is not None and not is_known_severity_word(word):
            unknown.setdefault(word, f"{path}.severity")
        cvss_score = _cvss(advisory.get("cvss"))
        patched = opt_str(advisory.get("patched_versions"))
        fixed = _patched(patched)
        status = None if patched is None else ("not_fixed" if patched.strip() == "<0.0.0" else "fixed")
        raw_findings = advisory.get("findings")
        entries = [] if raw_findings is None else require_list(doc, raw_findings, f"{path}.findings")
        versions: list[str | None] = [
            *unique_strings(e.get("version") for e in entries if isinstance(e, dict))
        ] or [None]
        for version in versions:
            findings.add(
                finding(
                    id=vid,
                    aliases=aliases,
                    severity=severity_of(word, cvss_score),
                    cvss_score=cvss_score,
                    name=name,
                    version=version,
                    purl=language_purl("npm", name, version),
                    ecosystem="npm",
                    fixed_versions=fixed,
                    target=None,
                    title=opt_str(advisory.get("title")),
                    status=status,
                    published_at=normalise_time(advisory.get("created")),
                    data_source=_source(advisory),
                )
            )


def _npm7(doc: Artefact, report: dict[str, Any], findings: FindingSet, unknown: dict[str, str]) -> None:
    """npm 7+: one finding per advisory object in ``via`` and package (advisory ``source``, package)."""
    vulnerabilities = require_mapping(doc, report.get("vulnerabilities"), "$.vulnerabilities")
    for position, (key, raw) in enumerate(vulnerabilities.items(), 1):
        path = f"$.vulnerabilities[key #{position}]"
        entry = require_mapping(doc, raw, path)
        package = opt_str(entry.get("name")) or key
        via = entry.get("via")
        fix = entry.get("fixAvailable")
        for i, item in enumerate([] if via is None else require_list(doc, via, f"{path}.via")):
            if not isinstance(item, dict):
                continue  # a package name: affected through that dependency, not a finding here
            vpath = f"{path}.via[{i}]"
            name = opt_str(item.get("name")) or package
            vid, aliases = _ids(item, item.get("source"))
            if not vid:
                raise InputError(doc.source, "an advisory has neither source number nor URL", path=vpath)
            word = opt_str(item.get("severity"))
            if word is not None and not is_known_severity_word(word):
                unknown.setdefault(word, f"{vpath}.severity")
            cvss_score = _cvss(item.get("cvss"))
            fixed: list[str] = []
            if isinstance(fix, dict) and opt_str(fix.get("name")) == name:
                fixed = unique_strings([fix.get("version")])
            status = None
            if fix is False:
                status = "not_fixed"
            elif fix is True or isinstance(fix, dict):
                status = "fixed"
            findings.add(
                finding(
                    id=vid,
                    aliases=aliases,
                    severity=severity_of(word, cvss_score),
                    cvss_score=cvss_score,
                    name=name,
                    version=None,
                    purl=language_purl("npm", name, None),
                    ecosystem="npm",
                    fixed_versions=fixed,
                    target=None,
                    title=opt_str(item.get("title")),
                    status=status,
                    published_at=None,
                    data_source=_source(item),
                )
            )


def _source(advisory: dict[str, Any]) -> str:
    """``ghsa`` for GitHub advisories (npm 7+ and late npm 6), else ``npm`` (npm's own advisories)."""
    url = opt_str(advisory.get("url")) or ""
    return "ghsa" if "github.com/advisories" in url or advisory.get("github_advisory_id") else "npm"


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT,
        kind=EvidenceKind.VULNERABILITY_SCAN,
        detect=detect,
        parse=parse,
        description="npm audit --json report (npm 6 advisories, npm 7+ auditReportVersion 2)",
    ),
)
