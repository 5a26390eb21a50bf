"""The decision of one run: rule outcomes, control statuses and the verdict.

``Run`` is the typed form of ``results.json`` (``affidavit.results/v1``, schema in
``schemas/results.v1.schema.json``): its ``to_json`` is the only writer of that document and its
``from_json`` the only reader. Renderers, the bundle, ``diff`` and the control listing all read a
``Run``, never the raw dictionary.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESULTS_SCHEMA = "affidavit.results/v1"


class Outcome(enum.StrEnum):
    """What happened to one rule (or, as the worst of its rules, one control)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Badness order used for 'worst outcome': error is worst, not_applicable best."""
        return _RANK[self]

    @property
    def blocks(self) -> bool:
        """True when this outcome makes the gate NO-GO."""
        return self in (Outcome.FAIL, Outcome.INSUFFICIENT_EVIDENCE, Outcome.ERROR)


_RANK = {
    Outcome.NOT_APPLICABLE: 0,
    Outcome.PASS: 1,
    Outcome.WAIVED: 2,
    Outcome.WARN: 3,
    Outcome.INSUFFICIENT_EVIDENCE: 4,
    Outcome.FAIL: 5,
    Outcome.ERROR: 6,
}


def worst(outcomes: list[Outcome]) -> Outcome:
    """The worst outcome of a non-empty list; an empty list has no evidence at all."""
    if not outcomes:
        return Outcome.INSUFFICIENT_EVIDENCE
    return max(outcomes, key=lambda o: o.rank)


class Decision(enum.StrEnum):
    """The gate's verdict."""

    GO = "GO"
    NO_GO = "NO-GO"


@dataclass(frozen=True, slots=True)
class Violation:
    """One message a rule produced, with the evidence it is about."""

    msg: str
    evidence_ids: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON shape used in results.json."""
        out: dict[str, Any] = {"msg": self.msg, "evidence_ids": list(self.evidence_ids)}
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule with everything needed to explain it."""

    rule_id: str
    outcome: Outcome
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    missing: tuple[Violation, ...] = ()
    error: str | None = None
    reason: str | None = None
    evidence_ids: tuple[str, ...] = ()
    waiver: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ControlStatus:
    """A control's outcome: the worst outcome of the rules that test it.

    ``outcome`` is ``None`` for a control no rule tests (``coverage`` ``manual`` or
    ``not_covered``): affidavit has nothing to say about it, which is not a pass.
    """

    framework: str
    control_id: str
    title: str
    outcome: Outcome | None
    rule_ids: tuple[str, ...]
    related: tuple[str, ...] = field(default_factory=tuple)
    coverage: str = "automated"
