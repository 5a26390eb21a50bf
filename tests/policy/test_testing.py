"""``affidavit policy test``: unit tests, fire/pass classification by mutation, vacuity, coverage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import EngineError
from affidavit.policy.engines.regorus import RegorusEngine, coverable_lines
from affidavit.policy.interface import PolicyModule
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
    (covered,) = good.coverage.files
    assert (Path(covered.path).name, covered.covered, covered.not_covered) == (
        "good.rego",
        (13, 14, 15, 18),
        (),
    )
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
    assert rules["fxt.vacuous"].fired_by == ("affidavit.org.fxt.vacuous.test_fires",)
    assert rules["fxt.vacuous"].passed_by == ("affidavit.org.fxt.vacuous.test_passes",)
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
        'package affidavit.org.fxt.good_test\n\ntest_typo if {\n\tfalse\n\tstrings.revers("ab") == "ba"\n}\n',
        encoding="utf-8",
    )
    report = run_policy_tests([tmp_path])
    assert report.file_errors == (
        f"{tmp_path}/good_test.rego:5:5: unknown function strings.revers\n"
        f"  hint: regorus {report.engine.split()[1]} has no built-in strings.revers and no loaded policy defines it",
    )
    assert not report.ok


# ---------------------------------------------------------------------------------------------
# Coverage

_COVERAGE_RULE = """# METADATA
# title: Coverage fixture
# description: A rule with a line only the vacuity check reaches and a helper no test calls.
# custom:
#   id: cov.rule
#   severity: medium
#   requires: [sbom]
#   controls:
#     soc2: [CC8.1]
#   remediation: None.
package affidavit.org.cov.rule

deny contains {"msg": "bad sbom", "evidence_ids": [r.id]} if {
	some r in input.evidence.sbom
	r.data.bad
}

missing contains "no sbom" if {
	count(input.evidence.sbom) == 0
}

_unused(x) := y if {
	y := x + 1
}
"""

_COVERAGE_TEST = """package affidavit.org.cov.rule_test

import data.affidavit.org.cov.rule

_input(records) := {"evidence": {"sbom": records}, "context": {}}

test_fires if {
	some v in rule.deny with input as _input([{"id": "e1", "data": {"bad": true}}])
	v.evidence_ids == ["e1"]
}

test_passes if {
	count(rule.deny) == 0 with input as _input([{"id": "e1", "data": {"bad": false}}])
}
"""

# A module of the folder that no test reaches at all.
_UNREACHED = "package cov.helpers\n\ndouble(x) := x * 2\n\ntriple(x) := y if {\n\ty := x * 3\n}\n"


@pytest.fixture
def coverage_folder(tmp_path: Path) -> Path:
    """A tested rule whose tests leave lines uncovered, and a module no test reaches."""
    (tmp_path / "rule.rego").write_text(_COVERAGE_RULE, encoding="utf-8")
    (tmp_path / "rule_test.rego").write_text(_COVERAGE_TEST, encoding="utf-8")
    (tmp_path / "helpers.rego").write_text(_UNREACHED, encoding="utf-8")
    return tmp_path


def test_coverage_counts_what_the_tests_reach(coverage_folder: Path) -> None:
    report = run_policy_tests([coverage_folder])
    assert report.ok  # the rule is tested both ways; no minimum was asked for
    files = {Path(f.path).name: f for f in report.coverage.files}
    assert set(files) == {"rule.rego", "helpers.rego"}  # not the test file, not the built-in lib/
    rule = files["rule.rego"]
    # Line 18 (the `missing` result) is reached only on empty evidence, which is the vacuity
    # check's run, not a test's; lines 22-23 are a function no test calls.
    assert rule.covered == (13, 14, 15, 19)
    assert rule.not_covered == (18, 22, 23)
    # No test reaches helpers.rego: it counts with every line uncovered, not as absent.
    assert (files["helpers.rego"].covered, files["helpers.rego"].not_covered) == ((), (3, 5, 6))
    assert (report.coverage.covered, report.coverage.lines) == (4, 10)
    assert report.coverage.percent == 40.0
    text = report.to_text()
    assert "coverage: 40.00% of 10 lines in 2 module(s) under test" in text
    assert f"{coverage_folder}/rule.rego: 57.1%, not covered: 18, 22-23" in text
    doc = report.to_json()["coverage"]
    assert (doc["percent"], doc["lines"], doc["covered_lines"], doc["ok"]) == (40.0, 10, 4, True)
    assert doc["files"][1] == {
        "path": f"{coverage_folder}/rule.rego",
        "lines": 7,
        "covered_lines": 4,
        "percent": 57.14,
        "not_covered": [18, 22, 23],
    }


def test_the_vacuity_run_would_have_covered_the_missing_line(coverage_folder: Path) -> None:
    # The counter-check of the test above: evaluating the rule on empty evidence reaches line 18.
    module = PolicyModule.from_text("rule.rego", _COVERAGE_RULE)
    empty = json.dumps({"evidence": {"sbom": []}, "context": {}})
    session = RegorusEngine().session([module], now_ns=0, input_json=empty).with_modules([], coverage=True)
    assert session.eval_rule("data.affidavit.org.cov.rule.missing").value == ["no sbom"]
    assert 18 in session.coverage().covered["rule.rego"]


def test_lines_of_an_unreached_module_are_those_regorus_counts() -> None:
    # coverable_lines must give the lines regorus reports once the module is reached.
    module = PolicyModule.from_text("helpers.rego", _UNREACHED)
    session = RegorusEngine().session([module], now_ns=0).with_modules([], coverage=True)
    assert session.eval_query("data.cov.helpers.double(2)").value == 4
    measured = session.coverage()
    assert measured.covered["helpers.rego"] == {3}
    assert measured.lines["helpers.rego"] == set(coverable_lines(module, "cov.helpers")) == {3, 5, 6}


def test_coverage_session_must_be_asked_for() -> None:
    session = RegorusEngine().session([], now_ns=0)
    with pytest.raises(EngineError, match="not created to measure coverage"):
        session.coverage()


@pytest.mark.parametrize(("minimum", "ok"), [(40.0, True), (39.9, True), (40.01, False), (100.0, False)])
def test_min_coverage_fails_the_run_below_it(coverage_folder: Path, minimum: float, ok: bool) -> None:
    report = run_policy_tests([coverage_folder], min_coverage=minimum)
    assert report.ok is ok
    assert report.coverage.ok is ok
    text = report.to_text()
    verdict = "reaches" if ok else "is BELOW"
    assert (
        f"coverage: 40.00% of 10 lines in 2 module(s) under test; {verdict} the minimum {minimum:g}%" in text
    )
    assert text.rstrip().endswith("not vacuous" if ok else "-- FAILED")
    assert report.to_json()["coverage"]["min_coverage"] == minimum
    assert report.to_json()["ok"] is ok


def test_min_coverage_is_a_percentage(coverage_folder: Path) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        run_policy_tests([coverage_folder], min_coverage=101)


def test_builtin_library_coverage_is_measured_over_rules_and_lib() -> None:
    report = run_policy_tests()
    paths = {f.path for f in report.coverage.files}
    assert all(p.startswith("policies/") and not p.endswith("_test.rego") for p in paths)
    assert {"policies/lib/dates.rego", "policies/supply_chain/sbom_present.rego"} <= paths
    assert report.coverage.lines > 1000
    assert report.coverage.percent is not None and report.coverage.percent > 90


def test_cli_policy_test_min_coverage(coverage_folder: Path) -> None:
    runner = CliRunner()
    passing = runner.invoke(main, ["policy", "test", str(coverage_folder), "--min-coverage", "40"])
    assert passing.exit_code == 0, passing.output
    assert "reaches the minimum 40%" in passing.output
    failing = runner.invoke(main, ["policy", "test", str(coverage_folder), "--min-coverage", "41"])
    assert failing.exit_code == 1
    assert (
        "coverage: 40.00% of 10 lines in 2 module(s) under test; is BELOW the minimum 41%" in failing.output
    )
    as_json = runner.invoke(
        main, ["policy", "test", str(coverage_folder), "--min-coverage", "41", "--format", "json"]
    )
    assert as_json.exit_code == 1
    doc = json.loads(as_json.output)
    assert (doc["ok"], doc["coverage"]["percent"], doc["coverage"]["ok"]) == (False, 40.0, False)
    out_of_range = runner.invoke(main, ["policy", "test", str(coverage_folder), "--min-coverage", "101"])
    assert out_of_range.exit_code == 2
