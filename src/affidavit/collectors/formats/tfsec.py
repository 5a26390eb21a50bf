"""tfsec JSON reports (``tfsec --format json``) -> ``sast`` evidence.

The report is ``{"results": [...]}``; ``results`` is ``null`` when nothing was found (tfsec is
written in Go, whose empty slices encode as null). Each result has ``rule_id`` (legacy ids such as
``GCP008``; current ids such as ``aws-vpc-no-public-egress-sgr`` or ``AVD-AWS-0107``), sometimes
``long_id`` and ``legacy_rule_id``, ``severity``, ``description``, and ``location {filename,
start_line, end_line}``.

Per result: ``rule_id`` = ``rule_id``, else ``long_id``, else ``legacy_rule_id``; ``message`` =
``description`` (else ``rule_description``); ``file``/``line`` from ``location``. ``severity`` maps
tfsec's words (CRITICAL, HIGH, MEDIUM, LOW; the legacy ERROR, WARNING, INFO) as
``affidavit.collectors.kinds.sast.severity_from_word`` does, else ``unknown``. ``level`` follows tfsec's
own SARIF output: CRITICAL/HIGH/ERROR -> ``error``, MEDIUM/WARNING -> ``warning``, LOW/INFO ->
``note``, anything else -> ``warning``; a result tfsec flags as a mere ``warning: true`` is at most
``warning``.

Passed results (``--include-passed``: ``status`` ``"passed"``/``1``, legacy ``passed: true``) are
counted in ``summary.passed``; ignored ones (``status`` ``"ignored"``/``2``, from ``tfsec:ignore``
comments) in ``summary.suppressed``; neither is a finding.

tfsec's human-readable output (its default format: ``Result #1 HIGH ...``, ``timings``, ``No
problems detected!``) is recognised and rejected with an error that asks for ``--format json``.
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
)
from affidavit.collectors.kinds.sast import (
    count_levels,
    new_summary,
    positive_int,
    sast_finding,
    severity_from_word,
    truncate,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Severity, Tool

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT_NAME = "tfsec-json"
TOOL_NAME = "tfsec"

_LEVEL_BY_WORD = {
    "critical": "error",
    "high": "error",
    "error": "error",
    "medium": "warning",
    "warning": "warning",
    "low": "note",
    "info": "note",
}
_CONSOLE = re.compile(
    r"(?m)^\s*(?:Result #\d+ (?:CRITICAL|HIGH|MEDIUM|LOW)\b|No problems detected!|\d+ potential problem\(s\) detected)"
)
_PASSED = ("passed", 1)
_IGNORED = ("ignored", 2)


def detect(doc: Artefact) -> int:
    """Score a document as a tfsec JSON report (or its console output, to reject it clearly)."""
    if not doc.looks_like_json:
        return LIKELY if _CONSOLE.search(doc.head) and _mentions_timings(doc) else NO
    if doc.head[:1] != "{":
        return NO
    value = doc.try_json()
    if not isinstance(value, dict) or "results" not in value:
        return NO
    results = value["results"]
    if isinstance(results, list) and results:
        sample = results[:5]
        if all(isinstance(r, dict) and _is_result(r) for r in sample):
            return DEFINITE
        return NO
    if set(value) != {"results"}:
        return NO  # other tools also have an empty "results" next to other keys
    if results is None:
        return LIKELY
    if results == []:
        return POSSIBLE
    return NO


def _mentions_timings(doc: Artefact) -> bool:
    """True when a text document has tfsec's ``timings`` section (undecodable text: False)."""
    try:
        return "timings" in doc.text
    except InputError:
        return False


def _is_result(result: dict[str, Any]) -> bool:
    """True when an object has the keys of a tfsec result."""
    location = result.get("location")
    has_id = "rule_id" in result or "long_id" in result
    return has_id and isinstance(location, dict) and "filename" in location


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a tfsec report into ``sast`` evidence."""
    if not doc.looks_like_json:
        raise InputError(
            doc.source,
            "is tfsec's console output, not its JSON report",
            hint="run tfsec with --format json (and --out FILE) and pass that file",
        )
    report = doc.json()
    if not isinstance(report, dict):
        raise InputError(doc.source, f"expected a tfsec report object, found {json_type(report)}", path="$")
    results = report.get("results")
    if results is None:
        results = []
    if not isinstance(results, list):
        raise InputError(
            doc.source, f"expected an array of results, found {json_type(results)}", path="$.results"
        )
    problems = Problems(doc.source)
    findings: list[dict[str, Any]] = []
    summary = new_summary()
    summary.update({"passed": 0, "suppressed": 0})
    for i, result in enumerate(results):
        path = f"$.results[{i}]"
        if not isinstance(result, dict):
            raise InputError(doc.source, f"expected a result object, found {json_type(result)}", path=path)
        status = result.get("status")
        if isinstance(status, bool):
            status = None  # not a tfsec status: treated as failed
        if status in _PASSED or result.get("passed") is True:
            summary["passed"] += 1
            continue
        if status in _IGNORED:
            summary["suppressed"] += 1
            continue
        findings.append(_finding(result, path, problems))
    count_levels(findings, summary)
    return Parsed(
        data={"findings": findings, "summary": summary, "tools": [TOOL_NAME], "runs": 1},
        format_version=None,
        tool=Tool(name=TOOL_NAME),
        problems=problems.items,
    )


def _finding(result: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
    """One failed tfsec result as a finding."""
    rule_id = (
        opt_str(result.get("rule_id"))
        or opt_str(result.get("long_id"))
        or opt_str(result.get("legacy_rule_id"))
    )
    if rule_id is None:
        problems.add(path, "has no rule_id or long_id; it is recorded as rule 'unknown'")
        rule_id = "unknown"
    word = result.get("severity")
    severity = severity_from_word(word) or Severity.UNKNOWN
    level = _LEVEL_BY_WORD.get(word.strip().lower(), "warning") if isinstance(word, str) else "warning"
    if result.get("warning") is True and level == "error":
        level = "warning"
    location = result.get("location")
    file = line = None
    if isinstance(location, dict):
        file = opt_str(location.get("filename"))
        line = positive_int(location.get("start_line"))
    else:
        problems.add(path, "has no location; its file and line are null")
    text = opt_str(result.get("description")) or opt_str(result.get("rule_description")) or rule_id
    message, cut = truncate(text)
    if cut:
        problems.add(path, "has a description longer than 1,000 characters; it was cut")
    return sast_finding(rule_id, level, severity.value, file, line, message, TOOL_NAME)


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT_NAME,
        kind=EvidenceKind.SAST,
        detect=detect,
        parse=parse,
        description="tfsec JSON report (tfsec --format json), legacy and current rule ids",
    ),
)
