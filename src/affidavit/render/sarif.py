"""``results.sarif``: the run as SARIF 2.1.0, for GitHub code scanning and every other SARIF reader.

In every bundle (``filename``), and on request with ``--output sarif=PATH``. One SARIF run, whose
tool is affidavit and whose ``tool.driver.rules`` are every rule of the run (id, title as the
short description, what it tests as the full description, the remediation as help text and help
Markdown, ``security-severity`` from the rule's severity, tags naming the controls it tests).
Results are the findings of ``affidavit.render.findings``: one per violation or missing-evidence
message of a blocking rule (level ``error``), one per warning of a ``warn`` rule (``warning``).
Passing and not-applicable rules give no result: code scanning opens an alert for every result.
What a waiver hid is not a result either: GitHub does not honour SARIF ``suppressions`` (a
suppressed result is ingested as an open alert; github/codeql-action issue 1230), so each applied
waiver is listed in the run's ``properties.waivers`` instead (rule, findings hidden, owner,
approver, expiry, ticket, reason).

GitHub's upload rules (docs.github.com, "SARIF support for code scanning", and "SARIF results
exceed one or more limits") are kept: ``$schema``, ``version`` and ``runs``; a driver with a name
and rules; per rule ``shortDescription``/``fullDescription`` (at most 1,024 characters), ``help``,
at most 20 tags (no ``name``: it would repeat the id, which the SARIF validator flags); per result ``message.text``, exactly one location and a
``partialFingerprints.primaryLocationLineHash``; at most 25,000 results and 25,000 rules in the
run (beyond that the first are kept, errors before warnings before notes, and the run's
properties say how many were left out).

``automationDetails.id`` is ``affidavit/<environment>/<run id>``: GitHub takes everything before
the last ``/`` as the analysis category, so each environment's alerts are tracked apart and a
staging run never closes a prod alert.

**Locations.** A result points at the source file of its evidence record: its path as the gate
was given it, relative to the directory the gate ran in (``uriBaseId`` ``%SRCROOT%``; in CI the
checkout, which is what GitHub resolves a relative path against), line 1. An absolute path is
written as a ``file:`` URI, which GitHub makes relative when it lies in the checkout. A finding
about absent evidence points at the evidence folder. Paths are percent-encoded, so a file name
can never add a query, a fragment or another scheme.

**Escaping.** SARIF readers interpret two things inside a plain-text message: placeholders
(``{0}``) and embedded links (``[text](1)``, ``[text](https://...)``) (SARIF 2.1.0, 3.11.5 and
3.11.6). Every artefact string in a message or description therefore has its braces doubled and
its backslashes and square brackets escaped with a backslash, and every character that is not
printable (controls, bidirectional overrides, line separators) spelled out (``escape.visible``).
Help Markdown is built with ``escape.md_text``/``md_prose``. The document is JSON with sorted keys,
so the same run always gives the same bytes; it is written compactly (no indentation), since GitHub
refuses a file over 10 MB gzipped.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from affidavit.model import Decision
from affidavit.render.escape import md_code, md_join, md_prose, md_text, visible
from affidavit.render.findings import (
    Finding,
    controls_text,
    cut,
    evidence_folder,
    findings,
    relative_path,
    severity_of,
)

if TYPE_CHECKING:
    from affidavit.model import RuleReport, Run

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20
MAX_DESCRIPTION = 1_024
MAX_MESSAGE = 4_000
MAX_RELATED = 9  # with the primary location, at most 10 per result
#: GitHub's reading of ``security-severity``: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_LEVEL_ORDER = {"error": 0, "warning": 1, "note": 2}


class SarifRenderer:
    """The run for code-scanning tools (SARIF 2.1.0)."""

    name = "sarif"
    filename = "results.sarif"

    def render(self, run: Run) -> str:
        """results.sarif for ``run``."""
        # Compact: GitHub refuses a file over 10 MB gzipped, and a run can hold 25,000 results.
        return json.dumps(sarif_log(run), separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"


def sarif_text(value: object) -> str:
    """``value`` as SARIF plain-text message content that shows exactly its (visible) characters.

    No placeholder (``{n}``) and no embedded link (``[text](target)``) can be formed: braces are
    doubled, and ``\\``, ``[`` and ``]`` are preceded by a backslash (SARIF 2.1.0 3.11.5, 3.11.6).
    """
    text = visible(str(value))
    out = []
    for char in text:
        if char in "{}":
            out.append(char * 2)
        elif char in "\\[]":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _message(text: str, limit: int = MAX_MESSAGE) -> dict[str, str]:
    """A SARIF message object of artefact text, cut to ``limit`` characters before escaping."""
    return {"text": sarif_text(cut(text, limit))}


def _uri(path: str) -> dict[str, str]:
    """The artifactLocation of a path as the gate named it (see the module docstring).

    The path's non-printable characters are spelled out before it is percent-encoded, so a lone
    surrogate or a control character in a file name gives a URI, never an error.
    """

    def quote(text: str) -> str:
        """``text`` made visible and percent-encoded (``/`` kept)."""
        return urllib.parse.quote(visible(text), safe="/")

    relative = relative_path(path)
    if relative is not None:
        return {"uri": "./" if relative == "." else quote(relative), "uriBaseId": SRCROOT}
    if path.startswith("/"):
        return {"uri": "file://" + quote(path)}
    # A path that climbs out of the working directory: kept as a relative reference, encoded.
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def _folder_uri(folder: str) -> dict[str, str]:
    """The artifactLocation of the evidence folder (a directory reference ends with ``/``)."""
    location = _uri(folder)
    if not location["uri"].endswith("/"):
        location["uri"] += "/"
    return location


def _location(
    path: str, *, file: bool, message: str | None = None, ident: int | None = None
) -> dict[str, Any]:
    """A SARIF location: a file (line 1) or, ``file`` false, a folder; with a message and id if given."""
    physical: dict[str, Any] = {"artifactLocation": _uri(path) if file else _folder_uri(path)}
    if file:
        physical["region"] = {"startLine": 1, "startColumn": 1}
    out: dict[str, Any] = {"physicalLocation": physical}
    if message is not None:
        out["message"] = _message(message)
    if ident is not None:
        out["id"] = ident
    return out


def _tags(run: Run, rule: RuleReport) -> list[str]:
    """``security``, ``compliance``, then one ``<framework>/<control>`` per control tested (20 at most)."""
    tags = ["security", "compliance"]
    for matrix in run.matrices:
        for control in rule.controls.get(matrix.framework) or ():
            tag = visible(f"{matrix.framework}/{control}")
            if tag not in tags:
                tags.append(tag)
    return tags[:MAX_TAGS]


def _help_markdown(run: Run, rule: RuleReport) -> str:
    """The rule's help as Markdown: title, remediation, controls and evidence kinds, all escaped."""
    parts = [f"**{md_text(rule.title)}** ({md_code(rule.id)})", "", md_prose(rule.remediation)]
    tested = [
        f"{md_text(m.display)} {md_join(list(rule.controls.get(m.framework) or ()))}"
        for m in run.matrices
        if rule.controls.get(m.framework)
    ]
    if tested:
        parts += ["", "Controls: " + "; ".join(tested)]
    if rule.requires:
        parts += ["", "Evidence it needs: " + md_join(list(rule.requires))]
    return "\n".join(parts)


def _descriptor(run: Run, rule: RuleReport) -> dict[str, Any]:
    """The ``reportingDescriptor`` of one rule (see the module docstring)."""
    severity = severity_of(rule)
    controls = controls_text(run, rule)
    full = rule.title + (f". Tests {controls}" if controls else "")
    if rule.requires:
        full += f". Needs evidence: {', '.join(rule.requires)}"
    return {
        "id": rule.id,
        "shortDescription": _message(rule.title, MAX_DESCRIPTION // 2),
        "fullDescription": _message(full, MAX_DESCRIPTION // 2),
        "help": {
            "text": sarif_text(cut(rule.remediation, MAX_MESSAGE)),
            "markdown": _help_markdown(run, rule),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": _tags(run, rule),
            "precision": "high",
            "problem.severity": "error",
            "security-severity": SECURITY_SEVERITY[severity],
            "severity": severity,
            "outcome": rule.outcome.value,
            "controls": {m.display: list(rule.controls.get(m.framework) or ()) for m in run.matrices},
            "requires": list(rule.requires),
        },
    }


def _result(run: Run, finding: Finding, rule_index: int, folder: str | None) -> dict[str, Any]:
    """The SARIF ``result`` of one finding: level, message, one location, fingerprints."""
    rule = finding.rule
    if finding.source is not None:
        location = _location(finding.source, file=True)
    else:
        location = _location(folder or ".", file=False)
    out: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": rule_index,
        "level": finding.level,
        "message": _message(finding.message),
        "locations": [location],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{finding.fingerprint[:16]}:{finding.occurrence}",
            "affidavitFinding/v1": f"{finding.fingerprint}:{finding.occurrence}",
        },
        "properties": {"outcome": rule.outcome.value, "evidenceIds": list(finding.evidence_ids)},
    }
    related = [
        _location(path, file=True, message="other evidence of this finding", ident=n + 1)
        for n, path in enumerate(finding.related[:MAX_RELATED])
    ]
    if related:
        out["relatedLocations"] = related
    return out


def _category(value: str) -> str:
    """A part of ``automationDetails.id``: visible, and without the ``/`` that separates the parts."""
    return visible(value).replace("/", "_") or "_"


def _utc(value: str) -> str | None:
    """``value`` as a SARIF date-time (``YYYY-MM-DDThh:mm:ssZ``) when it is one, else ``None``."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sarif_log(run: Run) -> dict[str, Any]:
    """The SARIF log of ``run`` as a JSON value (what ``render`` writes)."""
    rules = run.rules[:MAX_RULES]
    index = {rule.id: n for n, rule in enumerate(rules)}
    everything = [f for f in findings(run) if f.rule.id in index and not f.waived]
    kept = sorted(everything, key=lambda f: _LEVEL_ORDER[f.level])[:MAX_RESULTS]
    kept_ids = {id(f) for f in kept}
    kept = [f for f in everything if id(f) in kept_ids]  # back in the run's order
    folder = evidence_folder(run)
    invocation: dict[str, Any] = {
        "executionSuccessful": run.decision is not Decision.INCOMPLETE,
        "exitCode": run.exit_code,
        "exitCodeDescription": run.decision.value,
    }
    when = _utc(run.time)
    if when is not None:
        invocation["endTimeUtc"] = when
    notifications = [
        {"level": "error", "message": _message(failure.message.split("\n", 1)[0])}
        for failure in run.input_errors
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    properties: dict[str, Any] = {
        "decision": run.decision.value,
        "runId": run.run_id,
        "environment": run.environment,
        "subject": run.subject.text or None,
        "commit": run.commit,
        "branch": run.branch,
        "evaluatedAt": run.time,
        "replay": run.replay,
        "policyDigest": run.policy_digest,
        "ruleCounts": run.rule_counts(),
        "frameworks": [
            {"id": m.framework, "label": m.display, "version": m.version, "sha256": m.sha256}
            for m in run.matrices
        ],
        "blocking": sorted(r.id for r in run.rules if r.outcome.blocks),
        "waivers": [
            {
                "rule": rule.id,
                "findingsHidden": len(applied.findings),
                "absentEvidence": applied.absent_evidence,
                "owner": applied.waiver.owner,
                "approver": applied.waiver.approver,
                "expires": applied.waiver.expires_text,
                "ticket": applied.waiver.ticket,
                "reason": applied.waiver.reason,
            }
            for rule in run.rules
            for applied in rule.waived
        ],
    }
    if len(everything) > len(kept) or len(run.rules) > len(rules):
        properties["omitted"] = {
            "results": len(everything) - len(kept),
            "rules": len(run.rules) - len(rules),
        }
    sarif_run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "affidavit",
                "version": run.affidavit_version,
                "rules": [_descriptor(run, rule) for rule in rules],
            }
        },
        "automationDetails": {"id": f"affidavit/{_category(run.environment)}/{_category(run.run_id)}"},
        "invocations": [invocation],
        "originalUriBaseIds": {
            SRCROOT: {
                "description": {
                    "text": "The directory affidavit gate ran in (in CI, the repository checkout); "
                    "evidence paths are relative to it."
                }
            }
        },
        "results": [_result(run, f, index[f.rule.id], folder) for f in kept],
        "properties": properties,
    }
    log: dict[str, Any] = _visible_tree({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [sarif_run]})
    return log


def _visible_tree(value: Any, key: str = "") -> Any:
    """Every string of the document (keys too) with its non-printable characters spelled out.

    Messages are escaped where they are built; this also covers ids, property bags and anything
    else a run carries, so no control, bidirectional override or lone surrogate is ever written.
    Help Markdown keeps its own line breaks (its values were escaped by ``escape.md_*``).
    """
    if isinstance(value, str):
        return value if key == "markdown" else visible(value)
    if isinstance(value, dict):
        return {visible(k): _visible_tree(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_visible_tree(v, key) for v in value]
    return value
