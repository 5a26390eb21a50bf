"""What the matrices say about frameworks as a whole: their order and labels, and which controls
each rule tests.

These are the functions every output uses to name frameworks and to list a rule's controls, so
that no module keeps its own list of frameworks: a framework exists because a matrix file names
it, is shown where its ``order`` puts it, under the ``label`` its file gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.controls.model import control_sort_key

if TYPE_CHECKING:
    from collections.abc import Iterable

    from affidavit.controls.model import ControlMatrix

RuleLinks = dict[str, dict[str, tuple[str, ...]]]
"""Rule id -> framework id -> control ids (frameworks in display order, ids in natural order)."""


def display_order(matrices: Iterable[ControlMatrix]) -> tuple[ControlMatrix, ...]:
    """The matrices in the order reports show their frameworks (``ControlMatrix.display_key``)."""
    return tuple(sorted(matrices, key=lambda m: m.display_key))


def framework_labels(matrices: Iterable[ControlMatrix]) -> dict[str, str]:
    """Framework id -> label, in display order."""
    return {m.framework: m.label for m in display_order(matrices)}


def rule_links(matrices: Iterable[ControlMatrix]) -> RuleLinks:
    """Every rule some control names -> the controls that name it, per framework.

    Rules are in id order, their frameworks in display order (a framework appears only when one
    of its controls names the rule) and the control ids in natural order (``CC6.1`` before
    ``CC6.10``). Pass the matrices after ``validate.attach_rules`` so that an organisation's own
    rules are included.
    """
    found: dict[str, dict[str, list[str]]] = {}
    for matrix in display_order(matrices):
        for control in matrix.controls:
            for rule_id in control.rules:
                ids = found.setdefault(rule_id, {}).setdefault(matrix.framework, [])
                if control.id not in ids:
                    ids.append(control.id)
    return {
        rule_id: {fw: tuple(sorted(ids, key=control_sort_key)) for fw, ids in found[rule_id].items()}
        for rule_id in sorted(found)
    }
