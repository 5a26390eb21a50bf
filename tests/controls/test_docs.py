"""docs/controls.md cannot drift from the matrices: its rule table and its terminal example are
checked against the built-in matrices."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from affidavit.controls.links import rule_links
from affidavit.controls.model import Coverage
from tests.controls.conftest import REPO

if TYPE_CHECKING:
    from affidavit.controls.model import ControlMatrix

DOC = REPO / "docs" / "controls.md"
_ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| [^|]+ \|$")


def _ids(cell: str) -> tuple[str, ...]:
    cell = cell.strip()
    return () if cell == "-" else tuple(c.strip() for c in cell.split(","))


def test_rule_table_is_the_matrices_links(matrices: dict[str, ControlMatrix]) -> None:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = _ROW.match(line)
        if found:
            rule, soc2, iso, ssdf = found.groups()
            rows[rule] = {"soc2": _ids(soc2), "iso27001-2022": _ids(iso), "ssdf": _ids(ssdf)}
    links = rule_links(matrices.values())
    expected = {
        rule: {fw: fws.get(fw, ()) for fw in ("soc2", "iso27001-2022", "ssdf")} for rule, fws in links.items()
    }
    assert rows == expected


def test_table_rule_pattern_reads_a_row() -> None:
    """The pattern above is not vacuous: it reads a row of the documented shape."""
    found = _ROW.match("| `iac.providers_pinned` | CC7.1, CC8.1 | A.8.9 | PO.3.2 | Why. |")
    assert found is not None and _ids(found.group(2)) == ("CC7.1", "CC8.1")


def test_terminal_example_counts_are_the_matrices(matrices: dict[str, ControlMatrix]) -> None:
    """The example is the demo GO release, where every tested control passes."""
    text = DOC.read_text(encoding="utf-8")
    every = [c for m in matrices.values() for c in m.controls]
    partial = sum(1 for c in every if c.coverage is Coverage.PARTIAL)
    manual = sum(1 for c in every if c.coverage is Coverage.MANUAL)
    assert (
        f"  controls: {partial + manual} need people ({partial} tested only in part, {manual} with no rule); "
        "the verdict covers what the rules test, not whole controls\n" in text
    )
    soc2 = matrices["soc2"]
    tested = [c for c in soc2.controls if c.coverage.tested]
    counts = soc2.coverage_counts()
    assert (
        f"    SOC 2: {len(tested)} of {len(soc2.controls)} tested by rules ({counts['automated']} completely, "
        f"{counts['partial']} in part), {counts['manual']} with no rule, {counts['not_covered']} not covered\n"
        in text
    )
    assert f"      pass, partial: {', '.join(c.id for c in tested)}\n" in text
