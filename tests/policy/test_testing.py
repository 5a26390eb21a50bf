"""``affidavit policy test``: unit tests, fire/pass classification by mutation, vacuity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affidavit.policy.testing import PolicyTestReport, run_policy_tests

from .helpers import FIXTURES


@pytest.fixture(scope="module")
def good() -> PolicyTestReport:
    """Report on a folder whose rule is tested both ways and is not vacuous."""
    return run_policy_tests([FIXTURES / "testing_good"])


@pytest.fixture(scope="module")
def bad() -> PolicyTestReport:
    """Report on a folder with every kind of problem."""
    return run_policy_tests([FIXTURES / "testing_bad"])


def test_good_folder_passes(good: PolicyTestReport) -> None:
    assert good.ok
    assert [(t.name, t.status, t.fires, t.passes) for t in good.tests] == [
        ("test_fires_on_bad_sbom", "pass", ("fxt.good",), ()),
        ("test_passes_on_good_sbom", "pass", (), ("fxt.good",)),
        ("test_missing_without_sbom", "pass", ("fxt.good",), ()),
    ]
    (rule,) = good.rules
    assert rule.rule_id == "fxt.good"
    assert rule.empty_evidence == (
        ("dev", "insufficient_evidence"),
        ("prod", "insufficient_evidence"),
        ("staging", "insufficient_evidence"),
    )
    assert rule.problems == () and rule.notes == ()
    assert good.counts() == {"tests": 3, "passed": 3, "failed": 0, "errors": 0, "rules": 1, "rules_ok": 1}
    text = good.to_text()
    assert f"PASS  {FIXTURES / 'testing_good'}/good_test.rego:7: test_fires_on_bad_sbom" in text
    assert text.rstrip().endswith("1 rules: 1 exercised both ways and not vacuous")


def test_bad_folder_reports_each_problem(bad: PolicyTestReport) -> None:
    assert not bad.ok
    statuses = {(Path(t.file).name, t.name): t.status for t in bad.tests}
    assert statuses == {
        ("only_fire_test.rego", "test_fires"): "pass",
        ("only_fire_test.rego", "test_unrelated"): "pass",
        ("only_pass_test.rego", "test_passes"): "pass",
        ("only_pass_test.rego", "test_wrong_expectation"): "fail",
        ("only_pass_test.rego", "test_errors"): "error",
        ("vacuous_test.rego", "test_fires"): "pass",
        ("vacuous_test.rego", "test_passes"): "pass",
    }
    by_name = {t.name + "@" + Path(t.file).name: t for t in bad.tests}
    unrelated = by_name["test_unrelated@only_fire_test.rego"]
    assert (unrelated.fires, unrelated.passes) == ((), ())
    errored = by_name["test_errors@only_pass_test.rego"]
    assert errored.message is not None and errored.message.endswith(
        "only_pass_test.rego:15:16: could not parse string as number"
    )
    assert errored.prints == (f"{FIXTURES / 'testing_bad'}/only_pass_test.rego:14: about to fail",)

    rules = {r.rule_id: r for r in bad.rules}
    assert rules["fxt.only_fire"].problems == ("no passing test makes it pass (deny empty)",)
    assert rules["fxt.only_pass"].problems == ("no passing test makes it fire (deny or missing non-empty)",)
    assert rules["fxt.vacuous"].problems == (
        "vacuous: on empty evidence it is pass in dev, prod, staging, not insufficient_evidence (its Rego reported nothing)",
    )
    # A same-package test file (bare `deny`) is classified like an importing one.
    assert rules["fxt.vacuous"].fired_by == ("affidavit.rules.fxt.vacuous.test_fires",)
    assert rules["fxt.vacuous"].passed_by == ("affidavit.rules.fxt.vacuous.test_passes",)
    assert rules["fxt.only_fire"].notes == (
        "its Rego reports nothing on empty evidence (in dev, prod, staging); only custom.requires makes it insufficient_evidence",
    )
    (file_error,) = bad.file_errors
    assert "syntax_error_test.rego:5:1: expecting expression" in file_error
    assert bad.counts() == {"tests": 7, "passed": 5, "failed": 1, "errors": 2, "rules": 3, "rules_ok": 0}


def test_report_json_round_trips(bad: PolicyTestReport) -> None:
    doc = json.loads(json.dumps(bad.to_json()))
    assert doc["ok"] is False
    assert doc["summary"]["failed"] == 1
    assert {r["rule"] for r in doc["rules"]} == {"fxt.only_fire", "fxt.only_pass", "fxt.vacuous"}
    assert all(set(t) >= {"file", "line", "name", "status", "makes_fire", "makes_pass"} for t in doc["tests"])
    assert "-- FAILED" in bad.to_text()


def test_rule_without_any_test_fails(tmp_path: Path) -> None:
    source = (FIXTURES / "testing_good" / "good.rego").read_text(encoding="utf-8")
    (tmp_path / "good.rego").write_text(source, encoding="utf-8")
    report = run_policy_tests([tmp_path])
    assert not report.ok
    assert report.tests == ()
    assert report.rules[0].problems == (
        "no passing test makes it fire (deny or missing non-empty)",
        "no passing test makes it pass (deny empty)",
    )


def test_unknown_function_in_a_test_file_is_reported(tmp_path: Path) -> None:
    source = (FIXTURES / "testing_good" / "good.rego").read_text(encoding="utf-8")
    (tmp_path / "good.rego").write_text(source, encoding="utf-8")
    (tmp_path / "good_test.rego").write_text(
        'package affidavit.rules.fxt.good_test\n\ntest_typo if {\n\tfalse\n\tstrings.revers("ab") == "ba"\n}\n',
        encoding="utf-8",
    )
    report = run_policy_tests([tmp_path])
    assert report.file_errors == (
        f"{tmp_path}/good_test.rego:5:5: unknown function strings.revers\n"
        f"  hint: regorus {report.engine.split()[1]} has no built-in strings.revers and no loaded policy defines it",
    )
    assert not report.ok
