"""pip-audit JSON reports (``pip-audit -f json``) as ``vulnerability-scan`` evidence.

Two shapes:

* pip-audit 1.x: a top-level array of dependencies ``[{name, version, vulns: [...]}]``;
* pip-audit 2.x: ``{dependencies: [...], fixes: [...]}`` (``fixes`` lists the upgrades ``--fix``
  made or could not make).

Each vulnerability is ``{id, fix_versions, aliases?, description?}`` (``description`` only with
``--desc``). pip-audit reports no severity, no CVSS score and no fix state: findings are
``unknown`` with ``cvss_score`` and ``status`` null. A dependency pip-audit could not audit
(``skip_reason``: not on PyPI, a local path ...) is no finding but is named in the record's problems,
as is a fix it could not apply.
"""

from __future__ import annotations

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
)
from affidavit.collectors.kinds.vulnerability import (
    FindingSet,
    clean_ids,
    finding,
    language_purl,
    unique_strings,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Severity, Subject, Tool

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT = "pip-audit-json"

# pip-audit's error lines when its output is captured instead of the report ("ERROR:pip_audit._cli:...")
_ERROR_PREFIXES = ("ERROR:pip_audit", "usage: pip-audit")


def detect(doc: Artefact) -> int:
    """Score ``doc`` as a pip-audit JSON report (or pip-audit's error output)."""
    if not doc.looks_like_json:
        return DEFINITE if doc.head.startswith(_ERROR_PREFIXES) else NO
    value = doc.try_json()
    if isinstance(value, dict):
        deps = value.get("dependencies")
        if not isinstance(deps, list) or not all(_is_dependency(d) for d in deps):
            return NO
        if "fixes" in value:
            return DEFINITE
        return LIKELY if set(value) == {"dependencies"} else NO
    if isinstance(value, list) and value and all(_is_dependency(d) for d in value):
        return LIKELY
    return NO


def _is_dependency(value: Any) -> bool:
    """True for a pip-audit dependency entry (audited or skipped)."""
    return isinstance(value, dict) and "name" in value and ("vulns" in value or "skip_reason" in value)


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a pip-audit report (either shape) into a ``vulnerability-scan`` record."""
    if not doc.looks_like_json and doc.head.startswith(_ERROR_PREFIXES):
        raise InputError(
            doc.source,
            "is pip-audit's error output (its first line says what went wrong), not a JSON report",
            hint="write the report with `pip-audit -f json -o FILE`",
        )
    report = doc.json()
    problems = Problems(doc.source)
    if isinstance(report, list):
        deps, base = report, "$"
    elif isinstance(report, dict):
        deps = require_list(doc, report.get("dependencies"), "$.dependencies")
        base = "$.dependencies"
        fixes = report.get("fixes")
        if fixes is not None:
            for i, item in enumerate(require_list(doc, fixes, "$.fixes")):
                fix = require_mapping(doc, item, f"$.fixes[{i}]")
                reason = opt_str(fix.get("skip_reason"))
                if reason is not None:
                    problems.add(
                        f"$.fixes[{i}]",
                        "the package could not be fixed (pip-audit's reason is its skip_reason)",
                    )
    else:
        raise InputError(doc.source, f"is not a pip-audit report: the JSON document is {json_type(report)}")
    findings = FindingSet()
    for i, item in enumerate(deps):
        path = f"{base}[{i}]"
        dep = require_mapping(doc, item, path)
        name = opt_str(dep.get("name"))
        if opt_str(dep.get("skip_reason")) is not None:
            problems.add(path, "the dependency was not audited (pip-audit's reason is its skip_reason)")
            continue
        version = opt_str(dep.get("version"))
        purl = language_purl("pypi", name, version)
        vulns = dep.get("vulns")
        for j, raw in enumerate([] if vulns is None else require_list(doc, vulns, f"{path}.vulns")):
            vpath = f"{path}.vulns[{j}]"
            vuln = require_mapping(doc, raw, vpath)
            vid = opt_str(vuln.get("id"))
            if vid is None:
                raise InputError(doc.source, "a vulnerability has no id", path=f"{vpath}.id")
            findings.add(
                finding(
                    id=vid,
                    aliases=clean_ids(vuln.get("aliases") or (), exclude=vid),
                    severity=Severity.UNKNOWN,
                    cvss_score=None,
                    name=name,
                    version=version,
                    purl=purl,
                    ecosystem="pypi",
                    fixed_versions=unique_strings(vuln.get("fix_versions") or ()),
                    target=None,
                    title=None,
                    status=None,
                    published_at=None,
                    data_source=None,
                )
            )
    if findings.duplicates:
        problems.add(
            base, f"{findings.duplicates} vulnerabilities are listed twice for one package; counted once"
        )
    return Parsed(
        data=findings.data(),
        format_version=None,
        tool=Tool("pip-audit", None),
        subject=Subject(),
        effective_at=None,
        problems=problems.items,
    )


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT,
        kind=EvidenceKind.VULNERABILITY_SCAN,
        detect=detect,
        parse=parse,
        description="pip-audit JSON report (pip-audit -f json), 1.x array and 2.x object",
    ),
)
