"""The period's OSCAL assessment results, checked by the two readers tests/render/test_oscal.py
uses: compliance-trestle's ``AssessmentResults`` model and NIST's OSCAL 1.1.3 JSON schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from affidavit.cli import main
from tests.render.test_oscal import _schema_validator

if TYPE_CHECKING:
    from pathlib import Path

    from tests.export.conftest import Quarter


def test_the_period_is_valid_oscal_and_unknown_is_never_satisfied(quarter: Quarter, tmp_path: Path) -> None:
    """Valid for both readers; a control that failed on a day, a manual control and a control
    never assessed are not satisfied; the sampled runs are observations; the waiver's hostile
    reason does not reach the document as markup (it is not in it at all: only counts are)."""
    from trestle.oscal.assessment_results import Model

    out = tmp_path / "audit"
    args = ["export", "--framework", "iso27001", "--period", "2026-Q4", "--environment", "prod"]
    result = CliRunner().invoke(
        main, [*args, "--store", quarter.url, "--sample-seed", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "assessment-results.json").read_text())
    Model.parse_obj(doc)
    errors = list(_schema_validator().iter_errors(doc))
    assert not errors, [e.message[:200] for e in errors[:3]]
    period = json.loads((out / "period.json").read_text())
    (res,) = doc["assessment-results"]["results"]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in res["findings"]}
    for control in period["controls"]:
        key = f"{control['id']}_obj"
        if control["days"]["failed"] or not control["rules"]:
            assert states[key] == "not-satisfied", control["id"]
    assert len(res["observations"]) == 1 + period["sample"]["size"]
    assert "<script>" not in json.dumps(doc)
    again = tmp_path / "again"
    assert (
        CliRunner()
        .invoke(main, [*args, "--store", quarter.url, "--sample-seed", "9", "--out", str(again)])
        .exit_code
        == 0
    )
    assert (again / "assessment-results.json").read_bytes() == (out / "assessment-results.json").read_bytes()
