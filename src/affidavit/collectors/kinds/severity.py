"""The one severity scale: the words every tool writes, CVSS score bands, and SARIF levels.

Every finding of every kind (``vulnerability-scan``, ``sast``, ``secret-scan``) has a ``severity``
on affidavit's scale: ``critical``, ``high``, ``medium``, ``low``, ``negligible`` or ``unknown``.
This module is the only place that maps a tool's word or score onto it; the vulnerability and
SAST vocabularies (``kinds.vulnerability``, ``kinds.sast``) both read this table, so the same
word means the same thing whichever kind of report it is in.

Severity words (``severity_word``), case-insensitive:

* ``critical``: CRITICAL, Critical, critical (Trivy, Grype, npm, GitHub/OSV, Checkov, tfsec).
* ``high``: HIGH, High, high (every tool); Important (Red Hat, seen through Grype).
* ``medium``: MEDIUM, Medium (Trivy, Grype, Checkov, tfsec); MODERATE, moderate (npm, GitHub/OSV,
  Red Hat).
* ``low``: LOW, Low, low (every tool); minor.
* ``negligible``: Negligible (Grype, Ubuntu); unimportant (Debian); None (the CVSS rating of a 0.0
  score); INFO, info, informational.
* no word at all: UNKNOWN, Unknown (Trivy, Grype), unspecified, untriaged, not yet assigned (Ubuntu),
  n/a, empty or absent. Such a word says nothing, so the next source decides (a CVSS score, a
  SARIF level); with none, the severity is ``unknown``.

``info`` is informational, so ``negligible``, in every tool that writes it: npm audit's ``info``
advisories ("informational"), Checkov's ``INFO`` (below ``LOW`` on its five-step scale), and
tfsec's legacy ``INFO`` (the lowest of ``ERROR``/``WARNING``/``INFO``, which DefectDojo's tfsec
importer also reads as Info). Before this table existed the SAST
collectors read it as ``low`` and the vulnerability collectors as ``negligible``; an informational
result reports no weakness, so ``negligible`` is the honest reading. No built-in rule blocks on a
SAST severity (``code_analysis`` rules judge SARIF levels), so no decision changed with it.

SARIF levels are not severity words. A SARIF ``level`` says how a result is to be treated, not how
severe the flaw is; where a tool states no severity, the level implies one (``severity_of_level``):
``error`` -> high, ``warning`` -> medium, ``note`` -> low, ``none`` -> negligible. Some SAST tools
write a level word where a severity belongs (tfsec's legacy ``ERROR``/``WARNING``, properties
``"severity": "warning"``): ``severity_word(word, level_words=True)`` reads those through the same
level table. The vulnerability collectors never do: a scanner writing ``error`` as a severity has
not said how severe anything is, and the finding is ``unknown`` (with a problem).

CVSS base scores (``severity_of_score``) map by the qualitative rating bands that CVSS v3.x and
v4.0 share: 9.0-10.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low, 0.0 ("None") negligible.
SARIF's ``security-severity`` property is such a score (GitHub code scanning reads it this way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.model import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

WORDS: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,  # Red Hat
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,  # npm, GitHub advisories, Red Hat
    "low": Severity.LOW,
    "minor": Severity.LOW,
    "negligible": Severity.NEGLIGIBLE,  # Grype, Ubuntu
    "unimportant": Severity.NEGLIGIBLE,  # Debian
    "none": Severity.NEGLIGIBLE,  # the CVSS rating of a 0.0 score
    "info": Severity.NEGLIGIBLE,  # npm, Checkov, tfsec (legacy): informational
    "informational": Severity.NEGLIGIBLE,
}

# Words that mean "the tool does not know": the next source (a score, a level) decides instead.
NO_WORDS = frozenset({"", "unknown", "unspecified", "untriaged", "not yet assigned", "n/a"})

# The severity a SARIF level implies when the tool states none.
LEVELS: dict[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.NEGLIGIBLE,
}

_RANK = {
    Severity.UNKNOWN: 0,
    Severity.NEGLIGIBLE: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
_MAX_SCORE_TEXT = 32


def _key(word: Any) -> str | None:
    """A word as the tables spell it (trimmed, lower case), or ``None`` when it is not a string."""
    return word.strip().lower() if isinstance(word, str) else None


def severity_word(word: Any, *, level_words: bool = False) -> Severity | None:
    """The severity a tool's word names; ``None`` when the word says nothing or is not one we know.

    ``level_words``: also read SARIF level words (``error``, ``warning``, ``note``) written where a
    severity belongs, as ``severity_of_level`` does.
    """
    key = _key(word)
    if key is None:
        return None
    found = WORDS.get(key)
    if found is None and level_words:
        found = LEVELS.get(key)
    return found


def says_nothing(word: Any) -> bool:
    """True when ``word`` is absent or one of the words that mean "unknown"."""
    key = _key(word)
    return key is None or key in NO_WORDS


def is_known_severity_word(word: str | None) -> bool:
    """True when ``word`` is a severity word of the table, or one that says "unknown" (or ``None``)."""
    return says_nothing(word) or severity_word(word) is not None


def severity_of(word: str | None, score: float | None = None) -> Severity:
    """A tool's severity word, or when it says nothing a CVSS base score, on the common scale.

    ``word`` wins over ``score`` whenever it says something; a word we do not know gives
    ``unknown`` rather than a guess (and does not fall back on the score: the tool said something
    we cannot read).
    """
    found = severity_word(word)
    if found is not None:
        return found
    if says_nothing(word):
        return severity_of_score(score)
    return Severity.UNKNOWN


def severity_of_level(level: str) -> Severity:
    """The severity a SARIF level implies when the tool states none (``unknown`` for other words)."""
    return LEVELS.get(level, Severity.UNKNOWN)


def score(value: Any) -> float | None:
    """A 0-10 CVSS-like score as a report wrote it (number or numeric string), or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        if len(value) > _MAX_SCORE_TEXT:
            return None
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if result != result or result < 0.0 or result > 10.0:  # NaN or out of range
        return None
    return result


def severity_of_score(value: float | None) -> Severity:
    """The CVSS v3.x/v4.0 qualitative rating of a base score (``None`` or out of range: unknown)."""
    if value is None or value < 0.0 or value > 10.0:
        return Severity.UNKNOWN
    if value >= 9.0:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    if value > 0.0:
        return Severity.LOW
    return Severity.NEGLIGIBLE


def worst_severity(values: Iterable[Severity]) -> Severity:
    """The most severe of ``values`` (``unknown`` ranks below ``negligible``; empty: unknown)."""
    best = Severity.UNKNOWN
    for value in values:
        if _RANK[value] > _RANK[best]:
            best = value
    return best
