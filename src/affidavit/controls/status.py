"""A control's status after a run: the worst outcome of the rules that test it.

Only ``automated`` and ``partial`` controls have an outcome. A ``manual`` or ``not_covered``
control gets none: no rule looked at it, and "nobody checked" must never read as a pass.

A rule the matrix relies on that has no result at all did not run; it counts as ``error`` (the
run is incomplete), never as a pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.model import ControlStatus, Outcome, RuleResult, worst

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from affidavit.controls.model import ControlMatrix, Crosswalk


def control_statuses(
    matrix: ControlMatrix, results: Sequence[RuleResult], crosswalk: Crosswalk | None = None
) -> list[ControlStatus]:
    """One status per control of ``matrix``, in the matrix's order, from a run's rule results.

    A rule with several results counts with the worst of them. ``related`` holds the ids of the
    crosswalk's counterparts in the other framework (empty when no crosswalk is given or the
    framework is not in it).
    """
    by_rule: dict[str, list[Outcome]] = {}
    for result in results:
        by_rule.setdefault(result.rule_id, []).append(result.outcome)
    return control_outcomes(matrix, {rule: worst(found) for rule, found in by_rule.items()}, crosswalk)


def control_outcomes(
    matrix: ControlMatrix, outcomes: Mapping[str, Outcome], crosswalk: Crosswalk | None = None
) -> list[ControlStatus]:
    """One status per control of ``matrix``, in the matrix's order, from rule id -> outcome."""
    statuses: list[ControlStatus] = []
    for control in matrix.controls:
        outcome: Outcome | None = None
        if control.coverage.tested:
            outcome = worst([outcomes.get(r, Outcome.ERROR) for r in control.rules])
        related = crosswalk.related(matrix.framework, control.id) if crosswalk is not None else ()
        statuses.append(
            ControlStatus(
                framework=matrix.framework,
                control_id=control.id,
                title=control.title,
                outcome=outcome,
                rule_ids=control.rules,
                related=related,
                coverage=control.coverage.value,
            )
        )
    return statuses
