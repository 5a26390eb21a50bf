"""Applying waivers to a rule's outcome.

A ``Waiver`` (``affidavit.model.waiver``; every one is complete, the parser refuses the rest) turns
``fail`` or ``insufficient_evidence`` into ``waived`` when it names the rule and has not expired at
the run's time. With ``evidence_id`` it covers only results about that record: the rule is waived
only when every blocking result cites it. Nothing else is ever waived: ``error``, ``warn``,
``pass`` and ``not_applicable`` stay as they are. An expired waiver, or one that does not cover
every blocking result, is not used, and the result's reason says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from affidavit.model import Outcome

if TYPE_CHECKING:
    from affidavit.model import Violation
    from affidavit.model.waiver import Waiver

#: The outcomes a waiver can turn into ``waived``.
WAIVABLE = (Outcome.FAIL, Outcome.INSUFFICIENT_EVIDENCE)


@dataclass(frozen=True, slots=True)
class WaiverDecision:
    """A rule's outcome after waivers, the waiver used (if any), and notes on waivers not used."""

    outcome: Outcome
    waiver: Waiver | None
    notes: tuple[str, ...]

    @property
    def reason(self) -> str | None:
        """The sentence the result's reason gets when a waiver was used."""
        if self.waiver is None:
            return None
        return f"waived by {self.waiver.owner} until {self.waiver.expires_text}: {self.waiver.reason}"


def apply_waivers(
    rule_id: str,
    outcome: Outcome,
    blocking: Sequence[Violation],
    waivers: Sequence[Waiver],
    now: dt.datetime,
) -> WaiverDecision:
    """The outcome of rule ``rule_id`` after ``waivers`` at ``now`` (see the module docstring).

    ``blocking`` are the results that make the outcome blocking (``deny`` for a failure, ``missing``
    for insufficient evidence); a scoped waiver must cover each of them.
    """
    notes: list[str] = []
    active: list[Waiver] = []
    for waiver in waivers:
        if waiver.rule != rule_id:
            continue
        if not waiver.active_at(now):
            notes.append(f"waiver ignored: it expired at {waiver.ended_at()} (owner {waiver.owner})")
            continue
        active.append(waiver)
    if outcome not in WAIVABLE or not active:
        return WaiverDecision(outcome, None, tuple(notes))
    for waiver in active:
        scope = waiver.evidence_id
        if scope is None:
            return WaiverDecision(Outcome.WAIVED, waiver, tuple(notes))
        uncovered = [v for v in blocking if scope not in v.evidence_ids]
        if blocking and not uncovered:
            return WaiverDecision(Outcome.WAIVED, waiver, tuple(notes))
        notes.append(
            f"waiver for evidence {scope} does not cover "
            + (f"{len(uncovered)} other result(s)" if blocking else "missing evidence")
        )
    return WaiverDecision(outcome, None, tuple(notes))
