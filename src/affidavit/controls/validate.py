"""Check the control matrices against the rules that exist, before anything is evaluated.

The matrices are the one source of rule <-> control links (``controls/<framework>.yaml``, field
``rules``). A rule's METADATA (``custom.controls``) repeats some of them as a cross-check:

- A matrix that names a rule no policy defines stops the run (exit code 3) before any evidence
  is judged: it would otherwise look like a control nobody can fail. This holds for every
  framework.
- For a framework the METADATA speaks for, the two must agree both ways, or a report would show
  a control as tested by a rule that does not think so (or silently drop a rule's control). The
  built-in rules speak for every framework any built-in rule's METADATA names (SOC 2 and ISO
  27001 today): a built-in rule that names none of that framework's controls claims it tests
  none. An organisation's own rule speaks only for the frameworks its own METADATA names.
- A framework that no METADATA names (SSDF, an organisation's own framework) is checked only
  for naming rules that exist: its matrix alone says which rules test its controls.

An organisation's own rules (``--policies DIR``) need not be listed by the matrices: their
METADATA names the controls they test, and ``attach_rules`` adds them to those controls, so a
user does not have to copy a whole matrix to add one rule. The controls they name must exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from affidavit.controls.model import Control, ControlMatrix, Coverage, control_sort_key
from affidavit.errors import ControlMatrixError

RuleControls = Mapping[str, Mapping[str, Sequence[str]]]
"""Rule id -> framework -> control ids, as the rules' METADATA states them."""

_HINT = (
    "where a rule's METADATA names a framework, the matrix and the METADATA must agree both ways: "
    "fix the control's 'rules' list in the matrix or the rule's 'custom.controls' METADATA"
)


def check_rules(
    matrices: Sequence[ControlMatrix], rules: RuleControls, attachable: Collection[str] = ()
) -> None:
    """Raise ``ControlMatrixError`` listing every disagreement between matrices and rules.

    Checked: one matrix per framework and unique control ids; every rule a matrix names exists;
    every framework a rule's METADATA names has a matrix and every control it names is in that
    matrix; for the frameworks the METADATA speaks for (see the module notes), each rule-control
    link is stated on both sides (except that a matrix need not list the rules in ``attachable``,
    the user's own, which ``attach_rules`` adds); every rule is linked to at least one control.
    """
    problems: list[str] = []
    by_framework: dict[str, ControlMatrix] = {}
    for matrix in matrices:
        if matrix.framework in by_framework:
            problems.append(
                f"framework {matrix.framework}: two matrices are loaded "
                f"({by_framework[matrix.framework].file} and {matrix.file})"
            )
            continue
        by_framework[matrix.framework] = matrix
        seen: set[str] = set()
        for control in matrix.controls:
            if control.id in seen:
                problems.append(f"{matrix.file}: control {control.id} appears more than once")
            seen.add(control.id)

    # The frameworks the built-in rules' METADATA speaks for (see the module notes).
    builtin_named = {fw for rule_id, mapping in rules.items() if rule_id not in attachable for fw in mapping}

    def cross_checked(rule_id: str) -> set[str]:
        named = set(rules[rule_id])
        return named if rule_id in attachable else named | builtin_named

    # Matrix -> rules: every named rule exists and, where its METADATA speaks for the framework,
    # names the control back.
    linked: set[str] = set()
    for matrix in by_framework.values():
        for control in matrix.controls:
            if matrix.get(control.id) is not control:
                continue  # a repeated id, reported above
            for rule_id in control.rules:
                if rule_id not in rules:
                    problems.append(
                        f"{matrix.file}: control {control.id} names rule {rule_id!r}, which no loaded policy defines"
                    )
                    continue
                linked.add(rule_id)
                if matrix.framework not in cross_checked(rule_id):
                    continue
                named = _control_ids(rules[rule_id].get(matrix.framework))
                if control.id not in named:
                    problems.append(
                        f"{matrix.framework} {control.id}: {matrix.file} lists rule {rule_id} "
                        f"but the rule's METADATA does not name {control.id}"
                    )

    # Rules -> matrix: every framework and control a rule names exists and lists the rule.
    known = ", ".join(sorted(by_framework)) or "none"
    for rule_id in sorted(rules):
        mapping = rules[rule_id]
        if rule_id not in linked and not any(_control_ids(ids) for ids in mapping.values()):
            problems.append(
                f"rule {rule_id}: no control matrix lists it and its METADATA maps it to no control, "
                "so its outcome could never count in a decision"
            )
        for framework in sorted(mapping):
            raw_ids = mapping[framework]
            if isinstance(raw_ids, str):
                problems.append(
                    f"rule {rule_id}: METADATA controls for {framework} must be a list of ids, "
                    f"not the string {raw_ids!r}"
                )
                continue
            target = by_framework.get(framework)
            if target is None:
                problems.append(
                    f"rule {rule_id}: its METADATA maps to framework {framework!r}, which has no "
                    f"control matrix (loaded: {known})"
                )
                continue
            for control_id in sorted(_control_ids(raw_ids), key=control_sort_key):
                found = target.get(control_id)
                if found is None:
                    problems.append(
                        f"rule {rule_id}: its METADATA names {framework} control {control_id}, "
                        f"which is not in {target.file}"
                    )
                elif rule_id not in found.rules and rule_id not in attachable:
                    problems.append(
                        f"{framework} {control_id}: rule {rule_id}'s METADATA names this control "
                        f"but {target.file} does not list the rule under it"
                    )

    if problems:
        if len(problems) == 1:
            raise ControlMatrixError(problems[0], hint=_HINT)
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ControlMatrixError(
            f"the control matrices and the policies disagree ({len(problems)} problems):\n{lines}", hint=_HINT
        )


def _control_ids(ids: Sequence[str] | None) -> frozenset[str]:
    """The ids of a METADATA list as a set (a bare string counts as none; it is reported)."""
    if ids is None or isinstance(ids, str):
        return frozenset()
    return frozenset(ids)


def attach_rules(
    matrices: Sequence[ControlMatrix], rules: RuleControls, attachable: Collection[str]
) -> tuple[ControlMatrix, ...]:
    """The matrices with each rule of ``attachable`` added to the controls its METADATA names.

    A control that had no rules (``manual`` or ``not_covered``) becomes ``partial``: a rule now
    gives evidence of it, and what a person must provide still stands. Call after ``check_rules``.
    """
    out = []
    for matrix in matrices:
        extra: dict[str, list[str]] = {}
        for rule_id in sorted(attachable):
            for control_id in _control_ids(rules.get(rule_id, {}).get(matrix.framework)):
                extra.setdefault(control_id, []).append(rule_id)
        if not extra:
            out.append(matrix)
            continue
        controls: list[Control] = []
        for control in matrix.controls:
            added = [r for r in extra.get(control.id, []) if r not in control.rules]
            if not added:
                controls.append(control)
                continue
            coverage = control.coverage if control.coverage.tested else Coverage.PARTIAL
            note = control.note
            if not control.coverage.tested:
                note = f"{control.coverage.value} in the built-in matrix; the organisation's own rules now test part of it"
            controls.append(
                dataclasses.replace(control, rules=(*control.rules, *added), coverage=coverage, note=note)
            )
        out.append(dataclasses.replace(matrix, controls=tuple(controls)))
    return tuple(out)
