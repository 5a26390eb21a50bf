"""What ``affidavit controls --framework F [--results results.json] [--format json]`` shows.

Every control of one framework with its coverage, the rules that test it, its counterparts in
the other framework of the crosswalk and, when the results of a run are given, its status. The
counts of automated / partial / manual / not covered controls say how much of the framework the
rules can speak to at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.controls.loader import load_crosswalk, load_matrices
from affidavit.controls.model import ControlMatrix, Coverage, Crosswalk
from affidavit.controls.status import control_statuses
from affidavit.errors import UsageError
from affidavit.model import Outcome, RuleResult

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
    version: str
    title: str
    file: str
    sha256: str
    related_framework: str | None
    rows: tuple[ListingRow, ...]
    with_status: bool
    run: Mapping[str, Any] | None = None

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
            header.append(self.related_framework.upper())
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
    results: Sequence[RuleResult] | None = None,
    crosswalk: Crosswalk | None = None,
    run: Mapping[str, Any] | None = None,
) -> ControlListing:
    """The listing of one matrix; with ``results``, each tested control's status."""
    statuses = {s.control_id: s for s in control_statuses(matrix, results or (), crosswalk)}
    rows = tuple(
        ListingRow(
            id=c.id,
            title=c.title,
            group=c.group,
            coverage=c.coverage,
            status=statuses[c.id].outcome if results is not None else None,
            rules=c.rules,
            evidence=tuple(k.value for k in c.evidence),
            related=statuses[c.id].related,
            description=c.description,
            manual=c.manual,
            note=c.note,
        )
        for c in matrix.controls
    )
    return ControlListing(
        framework=matrix.framework,
        version=matrix.version,
        title=matrix.title,
        file=matrix.file,
        sha256=matrix.sha256,
        related_framework=crosswalk.other(matrix.framework) if crosswalk is not None else None,
        rows=rows,
        with_status=results is not None,
        run=run,
    )


def control_listing(
    framework: str,
    *,
    extra: Sequence[Path] = (),
    results: Mapping[str, Any] | Sequence[RuleResult] | None = None,
    include_builtin: bool = True,
) -> ControlListing:
    """Load the matrices and crosswalk and list ``framework``'s controls.

    ``results`` is either a run's ``results.json`` document (its ``rules`` outcomes are mapped
    through the matrix being listed) or the ``RuleResult`` values of a run.
    """
    matrices = load_matrices(extra, include_builtin=include_builtin)
    matrix = select_matrix(matrices, framework)
    rule_results: Sequence[RuleResult] | None = None
    run: Mapping[str, Any] | None = None
    if isinstance(results, Mapping):
        rule_results = rule_results_from_json(results)
        run = {k: results[k] for k in ("run_id", "time", "decision", "environment") if k in results}
    elif results is not None:
        rule_results = results
    return build_listing(matrix, rule_results, load_crosswalk(), run=run)


def select_matrix(matrices: Sequence[ControlMatrix], framework: str) -> ControlMatrix:
    """The matrix of ``framework``; an unknown framework is a usage error naming the known ones."""
    for matrix in matrices:
        if matrix.framework == framework:
            return matrix
    known = ", ".join(m.framework for m in matrices) or "none"
    raise UsageError(f"no control matrix for framework {framework!r} (known: {known})")


def rule_results_from_json(results: Mapping[str, Any]) -> list[RuleResult]:
    """The rule outcomes recorded in a ``results.json`` document."""
    rules = results.get("rules")
    if not isinstance(rules, list):
        raise UsageError("the results document has no 'rules' list: is it the results.json of a gate run?")
    out: list[RuleResult] = []
    outcomes = {o.value: o for o in Outcome}
    for i, rule in enumerate(rules):
        rule_id = rule.get("id") if isinstance(rule, Mapping) else None
        outcome = rule.get("outcome") if isinstance(rule, Mapping) else None
        if not isinstance(rule_id, str) or outcome not in outcomes:
            raise UsageError(
                f"the results document's rules[{i}] has no rule id or no known outcome "
                f"(outcomes: {', '.join(outcomes)})"
            )
        out.append(RuleResult(rule_id=rule_id, outcome=outcomes[outcome]))
    return out


def _clip(text: str, width: int) -> str:
    """The text cut to ``width`` characters, marked with "..." when cut."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
