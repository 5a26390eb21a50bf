"""The shared vocabulary of ``sast`` evidence: levels, severities, the finding and summary shapes.

Every ``sast`` collector (SARIF, Checkov, tfsec) builds its findings here, so that a policy reads
one shape whichever tool wrote the report:

* a finding is ``{rule_id, level, severity, file, line, message, tool}`` (``sast_finding``); SARIF
  findings add ``security_severity``, the severity their ``security-severity`` property states
  (``null`` when none), which the rules judge apart from the level;
* ``level`` is a SARIF level, one of ``LEVELS`` (``error``, ``warning``, ``note``, ``none``);
* ``severity`` is on the one scale of ``kinds.severity``: a tool's severity word is read with
  ``severity_from_word`` (the table's words, plus SARIF level words some tools write as their
  severity), a CVSS-like score (SARIF ``security-severity``) with ``severity_from_score``, and
  when the tool states neither, the level decides (``severity_from_level``);
* ``summary`` counts findings by level (``new_summary`` + ``count_levels``);
* a message is at most ``MESSAGE_LIMIT`` characters (``truncate``);
* a record keeps a bounded sample of a large report's findings (``FindingSample``): the first
  ``FINDINGS_PER_LEVEL`` of each tool and level, ``FINDINGS_PER_FILE`` in all, and always the first
  of each tool and level; the summary still counts every finding, and a problem says how many of
  each level were not kept. A rule asking whether a tool reported anything at a level reads the
  same answer as on the whole report; memory follows what is kept, not the report's size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.collectors.kinds.severity import score, severity_of_level, severity_of_score, severity_word

if TYPE_CHECKING:
    from affidavit.model import Severity

LEVELS: tuple[str, ...] = ("error", "warning", "note", "none")
MESSAGE_LIMIT = 1000

#: The findings of one tool at one level that a record keeps (the first, in the report's order).
FINDINGS_PER_LEVEL = 1_000
#: The findings a record keeps in all; past it only the first of a tool and level is added.
FINDINGS_PER_FILE = 10_000


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


class FindingSample:
    """Which findings of one report its record keeps, and how many there were of each level.

    ``admit`` is asked once per finding, in the report's order, before the finding is built: the
    first ``per_level`` of each (tool, level) are kept while fewer than ``per_file`` are, and the
    first of a (tool, level) is kept in any case. Every finding is counted, kept or not.
    """

    def __init__(self, per_level: int = FINDINGS_PER_LEVEL, per_file: int = FINDINGS_PER_FILE) -> None:
        self.per_level = per_level
        self.per_file = per_file
        self.kept = 0
        self.counts: dict[str, int] = dict.fromkeys(LEVELS, 0)
        self.not_kept: dict[str, int] = dict.fromkeys(LEVELS, 0)
        self._kept_by_key: dict[tuple[str, str], int] = {}

    def admit(self, tool: str, level: str) -> bool:
        """Count one finding of ``tool`` at ``level``; True when the record keeps it."""
        self.counts[level] += 1
        key = (tool, level)
        kept = self._kept_by_key.get(key, 0)
        if kept == 0 or (kept < self.per_level and self.kept < self.per_file):
            self._kept_by_key[key] = kept + 1
            self.kept += 1
            return True
        self.not_kept[level] += 1
        return False

    def tally(self, summary: dict[str, int]) -> dict[str, int]:
        """Add every finding counted (kept or not) to ``summary`` by level, and return it."""
        for level, n in self.counts.items():
            summary[level] += n
        summary["total"] += sum(self.counts.values())
        return summary

    def problems(self) -> list[str]:
        """One sentence per level some of whose findings were not kept (none when all were)."""
        return [
            f"{n:,} {level} finding(s) were not kept, of {self.counts[level]:,}: a record keeps the "
            f"first {self.per_level:,} of each tool and level ({self.per_file:,} in all, and always "
            "the first of each); the summary counts every one"
            for level, n in self.not_kept.items()
            if n
        ]
