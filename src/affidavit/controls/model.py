"""Value types of the control layer: a control, a framework's matrix of controls, the crosswalk.

A control matrix is data a compliance engineer edits (``controls/<framework>.yaml``). It knows
rules only by id: which rules test a control, never how. ``loader`` parses and checks the files
into these frozen objects; ``validate`` checks them against the policies' METADATA.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from affidavit.model import EvidenceKind

MATRIX_SCHEMA = "affidavit.control-matrix/v1"
CROSSWALK_SCHEMA = "affidavit.crosswalk/v1"


class Coverage(enum.StrEnum):
    """How much of a control affidavit's rules can show operating for a release."""

    AUTOMATED = "automated"
    """The rules give evidence of the control operating for the release; no human input needed."""
    PARTIAL = "partial"
    """The rules cover part of the control; ``manual`` says what a human must supply."""
    MANUAL = "manual"
    """No rule tests it; ``manual`` says what an auditor expects a human to provide."""
    NOT_COVERED = "not_covered"
    """Outside what affidavit tracks; ``note`` says why and who usually evidences it."""

    @property
    def tested(self) -> bool:
        """True when rules test the control (it has an outcome after a run)."""
        return self in (Coverage.AUTOMATED, Coverage.PARTIAL)

    @property
    def label(self) -> str:
        """The word people read (``not covered`` rather than ``not_covered``)."""
        return self.value.replace("_", " ")


class Tier(enum.StrEnum):
    """How well sourced a crosswalk pair is (how many independent mappings assert it)."""

    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"
    NONE = "none"

    @property
    def rank(self) -> int:
        """0 for the best supported tier, higher for weaker ones (sort order)."""
        return _TIER_RANK[self]


_TIER_RANK = {Tier.STRONG: 0, Tier.MODERATE: 1, Tier.WEAK: 2, Tier.NONE: 3}

_NUMBER = re.compile(r"(\d+)")


def control_sort_key(control_id: str) -> tuple[tuple[int, str | int], ...]:
    """Natural order of control ids: ``A.8.4`` before ``A.8.32``, ``CC1.5`` before ``CC2.1``."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in _NUMBER.split(control_id) if part
    )


@dataclass(frozen=True, slots=True)
class Control:
    """One control of a framework and how affidavit covers it."""

    id: str
    title: str
    description: str
    coverage: Coverage
    rules: tuple[str, ...] = ()
    evidence: tuple[EvidenceKind, ...] = ()
    manual: str | None = None
    note: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ControlMatrix:
    """Every control of one framework version, in the file's order.

    ``file`` is the name shown in reports (``controls/soc2-2017.yaml`` for a built-in matrix, the
    path as given for a user's own) and ``sha256`` the hex digest of the file's bytes. ``label`` is
    the short name people read ("SOC 2"; the framework id when the file gives none) and ``order``
    places the framework among the others (see ``display_key``).
    """

    framework: str
    version: str
    title: str
    controls: tuple[Control, ...]
    file: str
    sha256: str
    source: str | None = None
    label: str = ""
    order: int | None = None
    _index: Mapping[str, Control] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Default the label to the framework id; build the lookup index (not part of equality)."""
        if not self.label:
            object.__setattr__(self, "label", self.framework)
        index: dict[str, Control] = {}
        for control in self.controls:
            index.setdefault(control.id, control)  # a duplicate id is an error; the first one counts
        object.__setattr__(self, "_index", index)

    def get(self, control_id: str) -> Control | None:
        """The control with this id, or ``None``."""
        return self._index.get(control_id)

    def __contains__(self, control_id: object) -> bool:
        """True when the matrix has a control with this id."""
        return control_id in self._index

    @property
    def control_ids(self) -> tuple[str, ...]:
        """Every control id, in the file's order."""
        return tuple(c.id for c in self.controls)

    @property
    def rule_ids(self) -> frozenset[str]:
        """Every rule some control of this matrix names."""
        return frozenset(r for c in self.controls for r in c.rules)

    def coverage_counts(self) -> dict[str, int]:
        """How many controls have each coverage, in the fixed order of ``Coverage``."""
        counts = {c.value: 0 for c in Coverage}
        for control in self.controls:
            counts[control.coverage.value] += 1
        return counts

    @property
    def display_key(self) -> tuple[bool, int, str]:
        """Where the framework is shown among others: by ``order``, lowest first; a matrix without
        ``order`` after every matrix that has one; ties by framework id."""
        return (self.order is None, self.order or 0, self.framework)


@dataclass(frozen=True, slots=True)
class CrosswalkPair:
    """One relationship between a control of the crosswalk's left and right frameworks.

    Every pair means "the two requirements overlap" (OSCAL ``intersects-with``), never that one
    satisfies the other. ``via`` names the independent source mappings that assert it;
    ``primary`` marks the pairs the reference proposes as a criterion's main counterparts.
    """

    left: str
    right: str
    tier: Tier
    via: tuple[str, ...] = ()
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """Pairs of related controls between two frameworks (SOC 2 and ISO 27001:2022)."""

    frameworks: tuple[str, str]
    relationship: str
    pairs: tuple[CrosswalkPair, ...]
    file: str
    sha256: str
    _left: Mapping[str, tuple[CrosswalkPair, ...]] = field(init=False, repr=False, compare=False)
    _right: Mapping[str, tuple[CrosswalkPair, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the lookup index (not part of equality)."""
        left: dict[str, list[CrosswalkPair]] = {}
        right: dict[str, list[CrosswalkPair]] = {}
        for pair in self.pairs:
            left.setdefault(pair.left, []).append(pair)
            right.setdefault(pair.right, []).append(pair)
        object.__setattr__(self, "_left", {k: tuple(v) for k, v in left.items()})
        object.__setattr__(self, "_right", {k: tuple(v) for k, v in right.items()})

    def other(self, framework: str) -> str | None:
        """The framework on the other side of the crosswalk, or ``None`` if it is not in it."""
        if framework == self.frameworks[0]:
            return self.frameworks[1]
        if framework == self.frameworks[1]:
            return self.frameworks[0]
        return None

    def pairs_for(self, framework: str, control_id: str) -> tuple[CrosswalkPair, ...]:
        """Every pair naming this control, best supported first."""
        if framework == self.frameworks[0]:
            found = self._left.get(control_id, ())
            return tuple(sorted(found, key=lambda p: (p.tier.rank, control_sort_key(p.right))))
        if framework == self.frameworks[1]:
            found = self._right.get(control_id, ())
            return tuple(sorted(found, key=lambda p: (p.tier.rank, control_sort_key(p.left))))
        return ()

    def related(self, framework: str, control_id: str) -> tuple[str, ...]:
        """The ids in the other framework a report shows beside this control.

        From the left (SOC 2) side: the pairs the reference marks primary, which it chose per
        criterion as the short list of counterparts (its strong pairs when it marks none). From
        the right (ISO) side the primary lists were not made for this direction, so the related
        ids are the pairs that are primary or strong. Best supported first.
        """
        pairs = self.pairs_for(framework, control_id)
        if framework == self.frameworks[0]:
            chosen = [p for p in pairs if p.primary] or [p for p in pairs if p.tier is Tier.STRONG]
            return tuple(p.right for p in chosen)
        return tuple(p.left for p in pairs if p.primary or p.tier is Tier.STRONG)
