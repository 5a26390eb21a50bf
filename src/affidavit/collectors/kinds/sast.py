"""The shared vocabulary of ``sast`` evidence: levels, severities, the finding and summary shapes.

Every ``sast`` collector (SARIF, Checkov, tfsec) builds its findings here, so that a policy reads
one shape whichever tool wrote the report:

* a finding is ``{rule_id, level, severity, file, line, message, tool}`` (``sast_finding``);
* ``level`` is a SARIF level, one of ``LEVELS`` (``error``, ``warning``, ``note``, ``none``);
* ``severity`` is on the one scale of ``kinds.severity``: a tool's severity word is read with
  ``severity_from_word`` (the table's words, plus SARIF level words some tools write as their
  severity), a CVSS-like score (SARIF ``security-severity``) with ``severity_from_score``, and
  when the tool states neither, the level decides (``severity_from_level``);
* ``summary`` counts findings by level (``new_summary`` + ``count_levels``);
* a message is at most ``MESSAGE_LIMIT`` characters (``truncate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.collectors.kinds.severity import score, severity_of_level, severity_of_score, severity_word

if TYPE_CHECKING:
    from affidavit.model import Severity

LEVELS: tuple[str, ...] = ("error", "warning", "note", "none")
MESSAGE_LIMIT = 1000


def severity_from_word(word: Any) -> Severity | None:
    """A tool's severity word (any case) on the common scale; ``None`` when it says nothing we know."""
    return severity_word(word, level_words=True)


def severity_from_score(value: Any) -> Severity | None:
    """A CVSS-like 0-10 score (number or numeric string) on the common scale; ``None`` if not a score."""
    found = score(value)
    return None if found is None else severity_of_score(found)


def severity_from_level(level: str) -> Severity:
    """The severity implied by a SARIF level when the tool states none."""
    return severity_of_level(level)


def new_summary() -> dict[str, int]:
    """A sast summary with every level count at zero."""
    return {"error": 0, "warning": 0, "note": 0, "none": 0, "total": 0}


def count_levels(findings: list[dict[str, Any]], summary: dict[str, int]) -> dict[str, int]:
    """Add the level counts of ``findings`` to ``summary`` (which may carry extra keys) and return it."""
    for finding in findings:
        summary[finding["level"]] += 1
    summary["total"] += len(findings)
    return summary


def sast_finding(
    rule_id: str, level: str, severity: str, file: str | None, line: int | None, message: str, tool: str
) -> dict[str, Any]:
    """One finding in the public ``sast`` shape (key order fixed)."""
    return {
        "rule_id": rule_id,
        "level": level,
        "severity": severity,
        "file": file,
        "line": line,
        "message": message,
        "tool": tool,
    }


def positive_int(value: Any) -> int | None:
    """A 1-based line number from an int or a digit string; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        number = int(value)
        return number if number > 0 else None
    return None


def truncate(message: str) -> tuple[str, bool]:
    """``message`` cut to ``MESSAGE_LIMIT`` characters (ending in an ellipsis) and whether it was cut."""
    if len(message) <= MESSAGE_LIMIT:
        return message, False
    return message[: MESSAGE_LIMIT - 1] + "\u2026", True
