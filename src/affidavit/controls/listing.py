"""What ``affidavit controls --framework F [--results results.json] [--format json]`` shows.

Every control of one framework with its coverage, the rules that test it, its counterparts in
the other framework of the crosswalk and, when the outcomes of a run are given, its status. The
counts of automated / partial / manual / not covered controls say how much of the framework the
rules can speak to at all. Any framework of the matrices in force can be listed: the built-in
ones and those given with ``--controls``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.controls.links import display_order, framework_labels
from affidavit.controls.loader import load_crosswalk, load_matrices
from affidavit.controls.model import ControlMatrix, Coverage, Crosswalk
from affidavit.controls.status import control_outcomes
from affidavit.errors import UsageError
from affidavit.model import Outcome

if TYPE_CHECKING:
    from pathlib import Path

_TITLE_WIDTH = 60


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One control as listed."""

    id: str
    title: str
    group: str | None
    coverage: Coverage
    status: Outcome | None
    rules: tuple[str, ...]
    evidence: tuple[str, ...]
    related: tuple[str, ...]
    description: str
    manual: str | None
    note: str | None

    def to_json(self, with_status: bool) -> dict[str, Any]:
        """JSON shape of one row (``status`` only when a run's results were given)."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "group": self.group,
            "coverage": self.coverage.value,
        }
        if with_status:
            out["status"] = None if self.status is None else self.status.value
        out.update(
            {
                "rules": list(self.rules),
                "evidence": list(self.evidence),
                "related": list(self.related),
                "description": self.description,
                "manual": self.manual,
                "note": self.note,
            }
        )
        return out


@dataclass(frozen=True, slots=True)
class ControlListing:
    """Every control of one framework, ready to print or serialise."""

    framework: str
    label: str
    version: str
    title: str
    file: str
    sha256: str
    related_framework: str | None
    rows: tuple[ListingRow, ...]
    with_status: bool
    run: Mapping[str, Any] | None = None
    related_label: str | None = None

    def coverage_counts(self) -> dict[str, int]:
        """Controls per coverage, in the fixed order automated, partial, manual, not_covered."""
        counts = {c.value: 0 for c in Coverage}
        for row in self.rows:
            counts[row.coverage.value] += 1
        return counts

    def status_counts(self) -> dict[str, int]:
        """Controls per status (tested controls only), worst status first."""
        counts = {o.value: 0 for o in sorted(Outcome, key=lambda o: -o.rank)}
        for row in self.rows:
            if row.status is not None:
                counts[row.status.value] += 1
        return {k: v for k, v in counts.items() if v}

    def to_json(self) -> dict[str, Any]:
        """The listing as a JSON document (key order fixed, so output is deterministic)."""
        counts: dict[str, int] = {**self.coverage_counts(), "total": len(self.rows)}
        return {
            "framework": self.framework,
            "label": self.label,
            "version": self.version,
            "title": self.title,
            "file": self.file,
            "sha256": self.sha256,
            "related_framework": self.related_framework,
            "counts": counts,
            "status_counts": self.status_counts() if self.with_status else None,
            "run": dict(self.run) if self.run else None,
            "controls": [row.to_json(self.with_status) for row in self.rows],
        }

    def to_text(self) -> str:
        """An aligned table a person reads in a terminal, with the counts above it."""
        counts = self.coverage_counts()
        lines = [
            f"{self.title} ({self.framework} {self.version}, {self.file})",
            f"{len(self.rows)} controls: " + ", ".join(f"{n} {Coverage(k).label}" for k, n in counts.items()),
        ]
        if self.with_status:
            run = ""
            if self.run and self.run.get("run_id"):
                decision = f", {self.run['decision']}" if self.run.get("decision") else ""
                run = f" of run {self.run['run_id']}{decision}"
            tally = ", ".join(f"{n} {k}" for k, n in self.status_counts().items()) or "no tested controls"
            lines.append(f"status{run}: {tally}")
        lines.append("")

        header = ["ID", "COVERAGE"] + (["STATUS"] if self.with_status else []) + ["RULES", "TITLE"]
        if self.related_framework:
            header.append(self.related_label or self.related_framework)
        table = [header]
        for row in self.rows:
            cells = [row.id, row.coverage.label]
            if self.with_status:
                cells.append(row.status.value if row.status is not None else "-")
            cells += [str(len(row.rules)) if row.rules else "-", _clip(row.title, _TITLE_WIDTH)]
            if self.related_framework:
                cells.append(", ".join(row.related) or "-")
            table.append(cells)
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for cells in table:
            padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)] + [cells[-1]]
            lines.append("  ".join(padded).rstrip())
        return "\n".join(lines) + "\n"


def build_listing(
    matrix: ControlMatrix,
    outcomes: Mapping[str, Outcome] | None = None,
    crosswalk: Crosswalk | None = None,
    run: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> ControlListing:
    """The listing of one matrix; with ``outcomes`` (rule id -> outcome of a run), each tested
    control's status. ``labels`` (framework id -> label) names the crosswalk's other framework."""
    statuses = {s.control_id: s for s in control_outcomes(matrix, outcomes or {}, crosswalk)}
    rows = tuple(
        ListingRow(
            id=c.id,
            title=c.title,
            group=c.group,
            coverage=c.coverage,
            status=statuses[c.id].outcome if outcomes is not None else None,
            rules=c.rules,
            evidence=tuple(k.value for k in c.evidence),
            related=statuses[c.id].related,
            description=c.description,
            manual=c.manual,
            note=c.note,
        )
        for c in matrix.controls
    )
    related = crosswalk.other(matrix.framework) if crosswalk is not None else None
    return ControlListing(
        framework=matrix.framework,
        label=matrix.label,
        version=matrix.version,
        title=matrix.title,
        file=matrix.file,
        sha256=matrix.sha256,
        related_framework=related,
        rows=rows,
        with_status=outcomes is not None,
        run=run,
        related_label=(labels or {}).get(related, related) if related else None,
    )


def control_listing(
    framework: str,
    *,
    extra: Sequence[Path] = (),
    outcomes: Mapping[str, Outcome] | None = None,
    run: Mapping[str, Any] | None = None,
    include_builtin: bool = True,
) -> ControlListing:
    """Load the matrices and crosswalk and list ``framework``'s controls.

    ``framework`` is the id of any matrix in force (built-in or in ``extra``). ``outcomes`` maps
    rule ids to their outcome in a run (a rule the matrix relies on that is missing counts as
    ``error``); ``run`` is what the listing says about that run (``run_id``, ``decision`` ...).
    """
    matrices = load_matrices(extra, include_builtin=include_builtin)
    matrix = select_matrix(matrices, framework)
    return build_listing(matrix, outcomes, load_crosswalk(), run=run, labels=framework_labels(matrices))


def select_matrix(matrices: Sequence[ControlMatrix], framework: str) -> ControlMatrix:
    """The matrix of ``framework``; an unknown framework is a usage error naming the known ones."""
    for matrix in matrices:
        if matrix.framework == framework:
            return matrix
    known = ", ".join(m.framework for m in display_order(matrices)) or "none"
    raise UsageError(
        f"no control matrix for framework {framework!r} (known: {known})",
        hint="give a framework id of a built-in matrix, or add your own matrix with --controls FILE",
    )


def _clip(text: str, width: int) -> str:
    """The text cut to ``width`` characters, marked with "..." when cut."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
