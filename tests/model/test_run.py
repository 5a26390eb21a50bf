"""The typed Run is the only writer and reader of results.json; these tests hold it to the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import ResultsError
from affidavit.model import Decision, Outcome, Run
from tests.conftest import results_validator
from tests.model.runs import sample_run

VALIDATOR = results_validator()


@pytest.mark.parametrize("outcome", [Outcome.FAIL, Outcome.PASS])
def test_round_trip_is_exact_and_valid(outcome: Outcome) -> None:
    run = sample_run(outcome=outcome)
    doc = run.to_json()
    VALIDATOR.validate(doc)
    assert Run.from_json(json.loads(json.dumps(doc))) == run


def test_incomplete_is_its_own_decision_with_exit_code_3() -> None:
    doc = sample_run().to_json()
    doc["decision"], doc["exit_code"] = "INCOMPLETE", 3
    VALIDATOR.validate(doc)
    assert Run.from_json(doc).decision is Decision.INCOMPLETE
    doc["exit_code"] = 1
    assert list(VALIDATOR.iter_errors(doc)), "the schema must tie INCOMPLETE to exit code 3"
    with pytest.raises(ResultsError, match="exit_code"):
        Run.from_json(doc)


def _edited(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(sample_run().to_json())
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["schema"], "affidavit.results/v0", "schema"),
        (["decision"], "MAYBE", "decision"),
        (["rules", 0, "outcome"], "passed", "rules[0].outcome"),
        (["rules", 0, "violations", 0, "msg"], 7, "rules[0].violations[0].msg"),
        (["inputs", 0, "problems"], "none", "inputs[0].problems"),
        (["controls", "soc2", 0, "rules"], [1], "controls.soc2[0].rules"),
        (["summary", "rules", "fail"], 0, "summary"),
        (["exit_code"], 0, "exit_code"),
    ],
)
def test_a_wrong_field_is_named_and_its_value_is_not_quoted(path: list[Any], value: Any, field: str) -> None:
    with pytest.raises(ResultsError) as caught:
        Run.from_json(_edited(path, value))
    assert field in caught.value.message
    assert repr(value) not in caught.value.message or isinstance(value, int)


def test_a_summary_edited_to_look_clean_is_refused() -> None:
    # An attacker who rewrites the counts (but not the rules) must not get a reader to believe them.
    doc = sample_run().to_json()
    doc["summary"]["rules"] = {"pass": 1}
    with pytest.raises(ResultsError, match="summary"):
        Run.from_json(doc)


def test_the_only_writer_of_results_json_is_run() -> None:
    # No module but model/results.py spells the keys only results.json has: every other one goes
    # through Run. ("matrices" is left out: the VSA's policy document names its matrices too.)
    src = Path(__file__).resolve().parents[2] / "src" / "affidavit"
    spelled = sorted(
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if any(
            key in p.read_text()
            for key in ('"input_errors"', '"inputs"', '"not_read"', '"rule_data_changes"')
        )
    )
    assert spelled == ["model/results.py"]


def test_a_rule_listed_twice_is_refused() -> None:
    # Two entries for one rule would let a reader pick the passing one.
    doc = sample_run().to_json()
    twin = dict(doc["rules"][0], outcome="pass", violations=[])
    doc["rules"].append(twin)
    doc["summary"]["rules"] = {"fail": 1, "pass": 1}
    with pytest.raises(ResultsError, match="twice"):
        Run.from_json(doc)
