"""Checkov JSON reports (``checkov -o json``) -> ``sast`` evidence.

Checkov writes one of three shapes:

* one framework: ``{"check_type": "terraform", "results": {"passed_checks": [...],
  "failed_checks": [...], "skipped_checks": [...], "parsing_errors": [...]}, "summary": {...}}``;
* several frameworks: a JSON array of such objects;
* a run that found nothing to scan: only the summary, ``{"passed": 0, "failed": 0, "skipped": 0,
  "parsing_errors": 0, "resource_count": 0, "checkov_version": "..."}`` (Checkov 2 spells some keys
  ``parsingerrors``/``resourcecount``). Such a summary that claims failed checks cannot be
  represented and is rejected.

Each failed check is a finding: ``rule_id`` = ``check_id``, ``file`` = ``file_path``, ``line`` =
``file_line_range[0]``, ``message`` = ``check_name`` followed by the resource it is about,
``level`` = ``error`` (Checkov has no softer outcome for a failed check) and ``severity`` = the
check's ``severity`` word (CRITICAL, HIGH, MEDIUM, LOW, INFO; mapped as in
``affidavit.collectors.kinds.sast.severity_from_word``), else ``unknown``: open-source Checkov leaves
``severity`` null, and a missing severity is not evidence of a low one.

``summary`` has the level counts of every ``sast`` record plus ``passed`` (passed checks),
``suppressed`` (skipped checks: ``#checkov:skip`` comments and ``--skip-check``) and
``parsing_errors`` (files Checkov could not parse, which were therefore not checked; each is also a
problem). ``runs`` is the number of framework reports; ``tools`` is ``["checkov"]``.

The raw report can quote a credential (its ``code_block`` lines are the checked source): its
``redact`` hook replaces those lines before a bundle stores it (see ``redact``).

Checkov's console output (the default ``-o cli``: ``Check: CKV_... FAILED for resource``) and a
Checkov crash (a Python traceback) are recognised and rejected with an error that says so.
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
)
from affidavit.collectors.kinds.sast import (
    count_levels,
    new_summary,
    positive_int,
    sast_finding,
    severity_from_word,
    truncate,
)
from affidavit.collectors.kinds.secrets import (
    REDACTED_PREFIX,
    mask_quoted_code,
    redact_json,
    redact_secret_values,
    redaction_marker,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Severity, Tool

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT_NAME = "checkov-json"
TOOL_NAME = "checkov"

_RESULT_KEYS = frozenset({"passed_checks", "failed_checks", "skipped_checks", "parsing_errors"})
_SUMMARY_KEYS = frozenset({"passed", "failed", "skipped"})
_CONSOLE = re.compile(r"(?m)^\s*(?:Check: CKV\w*_\d+|By (?:bridgecrew\.io|Prisma Cloud) \| version: )")
_TRACEBACK = "Traceback (most recent call last)"


def detect(doc: Artefact) -> int:
    """Score a document as a Checkov JSON report (one framework, several, or a bare summary)."""
    if not doc.looks_like_json:
        head = doc.head
        if _CONSOLE.search(head) or (_TRACEBACK in head and "checkov" in head):
            return LIKELY  # not a report: parse says what it is
        return NO
    value = doc.try_json()
    if isinstance(value, dict):
        return _score_report(value)
    if isinstance(value, list) and value:
        scores = [_score_report(item) if isinstance(item, dict) else NO for item in value[:5]]
        return min(scores)
    return NO


def _score_report(obj: dict[str, Any]) -> int:
    """How sure we are that one object is a Checkov framework report or bare summary."""
    results = obj.get("results")
    if "check_type" in obj and isinstance(results, dict) and _RESULT_KEYS.intersection(results):
        return DEFINITE
    if _SUMMARY_KEYS.issubset(obj) and "results" not in obj:
        return DEFINITE if "checkov_version" in obj else LIKELY
    return NO


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a Checkov report into ``sast`` evidence."""
    if not doc.looks_like_json:
        raise _not_a_report(doc)
    value = doc.json()
    problems = Problems(doc.source)
    if isinstance(value, dict):
        reports = [("$", value)]
    elif isinstance(value, list):
        reports = [(f"$[{i}]", item) for i, item in enumerate(value)]
    else:
        raise InputError(
            doc.source, f"expected a Checkov report object or array, found {json_type(value)}", path="$"
        )
    if not reports:
        raise InputError(doc.source, "is an empty array, not a Checkov report", path="$")

    findings: list[dict[str, Any]] = []
    summary = new_summary()
    summary.update({"passed": 0, "suppressed": 0, "parsing_errors": 0})
    versions: set[str] = set()
    for path, report in reports:
        if not isinstance(report, dict):
            raise InputError(
                doc.source, f"expected a Checkov framework report, found {json_type(report)}", path=path
            )
        if "results" in report or "check_type" in report:
            _read_framework(doc, report, path, findings, summary, problems)
            stated = report.get("summary")
            version = stated.get("checkov_version") if isinstance(stated, dict) else None
        else:
            _read_bare_summary(doc, report, path, summary, problems)
            version = report.get("checkov_version")
        if isinstance(version, str) and version:
            versions.add(version)
    count_levels(findings, summary)
    if len(versions) > 1:
        problems.add("$", f"the framework reports name {len(versions)} different Checkov versions")
    return Parsed(
        data={"findings": findings, "summary": summary, "tools": [TOOL_NAME], "runs": len(reports)},
        format_version=None,
        tool=Tool(name=TOOL_NAME, version=min(versions) if len(versions) == 1 else None),
        problems=problems.items,
    )


def _read_framework(
    doc: Artefact,
    report: dict[str, Any],
    path: str,
    findings: list[dict[str, Any]],
    summary: dict[str, int],
    problems: Problems,
) -> None:
    """One framework report: failed checks become findings, the rest are counted."""
    results = report.get("results")
    if not isinstance(results, dict):
        raise InputError(
            doc.source, f"expected a results object, found {json_type(results)}", path=f"{path}.results"
        )
    failed = _checks(doc, results, "failed_checks", f"{path}.results")
    passed = _checks(doc, results, "passed_checks", f"{path}.results")
    skipped = _checks(doc, results, "skipped_checks", f"{path}.results")
    parsing_errors = results.get("parsing_errors")
    errors = parsing_errors if isinstance(parsing_errors, list) else []
    for j, check in enumerate(failed):
        cpath = f"{path}.results.failed_checks[{j}]"
        if not isinstance(check, dict):
            raise InputError(doc.source, f"expected a check object, found {json_type(check)}", path=cpath)
        findings.append(_finding(check, cpath, problems))
    summary["passed"] += len(passed)
    summary["suppressed"] += len(skipped)
    summary["parsing_errors"] += len(errors)
    if errors:
        problems.add(
            f"{path}.results.parsing_errors",
            f"Checkov could not parse {len(errors)} file(s), which were therefore not checked (the "
            "report lists their names there)",
        )
    stated = report.get("summary")
    if isinstance(stated, dict):
        for key, listed in (("failed", len(failed)), ("passed", len(passed)), ("skipped", len(skipped))):
            claimed = stated.get(key)
            if isinstance(claimed, int) and not isinstance(claimed, bool) and claimed != listed:
                problems.add(
                    f"{path}.summary.{key}",
                    f"says {claimed} but the report lists {listed} {key} check(s); the listed checks are used",
                )


def _checks(doc: Artefact, results: dict[str, Any], key: str, path: str) -> list[Any]:
    """One of the check lists of a results object (absent or null means none)."""
    checks = results.get(key)
    if checks is None:
        return []
    if not isinstance(checks, list):
        raise InputError(
            doc.source, f"expected an array of checks, found {json_type(checks)}", path=f"{path}.{key}"
        )
    return checks


def _finding(check: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
    """One failed check as a finding."""
    rule_id = opt_str(check.get("check_id"))
    if rule_id is None:
        problems.add(path, "has no check_id; it is recorded as rule 'unknown'")
        rule_id = "unknown"
    name = opt_str(check.get("check_name")) or rule_id
    resource = opt_str(check.get("resource"))
    message, cut = truncate(f"{name} (resource {resource})" if resource else name)
    if cut:
        problems.add(path, "has a check name longer than 1,000 characters; it was cut")
    line_range = check.get("file_line_range")
    line = positive_int(line_range[0]) if isinstance(line_range, list) and line_range else None
    severity = severity_from_word(check.get("severity")) or Severity.UNKNOWN
    file = opt_str(check.get("file_path")) or opt_str(check.get("repo_file_path"))
    return sast_finding(rule_id, "error", severity.value, file, line, message, TOOL_NAME)


def _read_bare_summary(
    doc: Artefact, report: dict[str, Any], path: str, summary: dict[str, int], problems: Problems
) -> None:
    """A summary-only report: nothing failed (else it is rejected), passes and skips are counted."""
    failed = report.get("failed")
    if isinstance(failed, int) and not isinstance(failed, bool) and failed > 0:
        raise InputError(
            doc.source,
            f"is a Checkov summary that counts {failed} failed check(s) but lists none",
            path=f"{path}.failed",
            hint="run checkov with -o json so that the report lists each failed check",
        )
    for key, target in (("passed", "passed"), ("skipped", "suppressed")):
        count = report.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            summary[target] += count
    for key in ("parsing_errors", "parsingerrors"):
        count = report.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            summary["parsing_errors"] += count
            problems.add(
                f"{path}.{key}", f"Checkov could not parse {count} file(s), which were therefore not checked"
            )


def redact(raw: bytes, source: str) -> bytes:
    """The report as a bundle may store it: the quoted code lines that hold a credential replaced.

    Checkov quotes every checked resource twice: its source lines in ``code_block`` (``[line
    number, text]`` pairs) and its parsed arguments in ``check_result.entity``; the resource may
    hold a hard-coded credential (the very finding of checks such as CKV_AWS_41). Secret values
    of the entity and the code lines that ``kinds.secrets.quotes_secret`` are replaced by their
    markers, and so is every other copy of them; in a report of Checkov's ``secrets`` framework
    every quoted line is replaced (each is where a secret was found). A report with nothing to
    replace is returned byte for byte.
    """
    return redact_json(raw, source, _quoted_secrets)


def _quoted_secrets(value: Any) -> set[str]:
    """Replace what a parsed report quotes of a secret; return the strings replaced.

    Per check: the values of ``check_result.entity`` (the resource's arguments as Checkov parsed
    them) that are secrets (``kinds.secrets.redact_secret_values``) and the ``code_block`` lines
    that quote one. ``redact_json`` then scrubs every other copy of those strings.
    """
    secrets: set[str] = set()
    for report in value if isinstance(value, list) else [value]:
        results = report.get("results") if isinstance(report, dict) else None
        if not isinstance(results, dict):
            continue
        every_line = report.get("check_type") == "secrets"
        for key in ("failed_checks", "passed_checks", "skipped_checks"):
            checks = results.get(key)
            for check in checks if isinstance(checks, list) else ():
                if not isinstance(check, dict):
                    continue
                outcome = check.get("check_result")
                if isinstance(outcome, dict) and isinstance(outcome.get("entity"), dict | list):
                    redact_secret_values(outcome["entity"], secrets)
                block = check.get("code_block")
                for entry in block if isinstance(block, list) else ():
                    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
                        entry[1] = _mask_line(entry[1], secrets, every_line)
    return secrets


def _mask_line(text: str, secrets: set[str], every_line: bool) -> str:
    """One quoted line: replaced when it holds a credential (or always, for the secrets framework)."""
    if not every_line:
        return mask_quoted_code(text, secrets)
    body = text.rstrip("\r\n")
    if not body.strip() or body.startswith(REDACTED_PREFIX):
        return text
    secrets.add(body)
    return redaction_marker(body) + text[len(body) :]


def _not_a_report(doc: Artefact) -> InputError:
    """The error for Checkov's console output or crash instead of its JSON report."""
    hint = "run checkov with -o json (and --output-file-path DIR) and pass the JSON it writes"
    if _TRACEBACK in doc.head:
        lines = doc.text.rstrip().splitlines()
        return InputError(
            doc.source,
            f"is a Checkov crash (a Python traceback), not a report: the error Checkov met is on its "
            f"last line (line {len(lines)})",
            hint=hint,
        )
    return InputError(doc.source, "is Checkov's console output, not its JSON report", hint=hint)


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT_NAME,
        kind=EvidenceKind.SAST,
        detect=detect,
        parse=parse,
        description="Checkov JSON report (checkov -o json): one framework, several, or a bare summary",
        redact=redact,
    ),
)
