"""Evaluation: the input document, outcomes, isolation, grace period, environments, waivers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from affidavit.errors import EngineError
from affidavit.model import EvidenceKind, Outcome, RuleResult
from affidavit.model.waiver import Waiver
from affidavit.policy.evaluate import EvalContext, build_input, evaluate, input_json
from affidavit.policy.loader import PolicySet, load_policy_set

from .helpers import FIXTURES, NOW, OTHER_DIGEST, SUBJECT_DIGEST, evidence, metadata, policy_set

SBOM_BAD = evidence(EvidenceKind.SBOM, 1, {"bad": True, "components": [1]}, source="sbom-bad.json")
SBOM_OLD = evidence(EvidenceKind.SBOM, 2, {"old": True, "components": [1]}, source="sbom-old.json")
SBOM_EMPTY = evidence(EvidenceKind.SBOM, 3, {}, source="sbom-empty.json")
SCAN = evidence(EvidenceKind.VULNERABILITY_SCAN, 4, {"findings": []}, source="trivy.json")


@pytest.fixture(scope="module")
def fixtures() -> PolicySet:
    """The fixture rules of tests/policy/fixtures/rules."""
    return load_policy_set([FIXTURES / "rules"], include_builtin=False)


def _context(environment: str = "prod", **changes: Any) -> EvalContext:
    """A run context at NOW for the promoted subject."""
    base = EvalContext(
        environment=environment,
        subject_name="ghcr.io/acme/shop",
        subject_digest=SUBJECT_DIGEST,
        now=NOW,
        commit="9c4e2f7a1b3d5e6f708192a3b4c5d6e7f8091a2b",
        params={"limit": 3},
    )
    return dataclasses.replace(base, **changes)


def _by_id(results: list[RuleResult]) -> dict[str, RuleResult]:
    """Results keyed by rule id."""
    return {r.rule_id: r for r in results}


def test_input_document_shape() -> None:
    waiver = Waiver("x.y", "accepted", "alice", dt.date(2026, 12, 31))
    doc = build_input([SCAN, SBOM_BAD], _context(waivers=[waiver]))
    assert list(doc["evidence"]) == [k.value for k in EvidenceKind]
    assert doc["evidence"]["sbom"] == [SBOM_BAD.to_json()]
    assert doc["evidence"]["vulnerability-scan"] == [SCAN.to_json()]
    assert doc["evidence"]["secret-scan"] == []
    assert doc["context"] == {
        "environment": "prod",
        "subject": {"name": "ghcr.io/acme/shop", "digest": SUBJECT_DIGEST},
        "now": "2026-11-22T12:00:00Z",
        "commit": "9c4e2f7a1b3d5e6f708192a3b4c5d6e7f8091a2b",
        "params": {"limit": 3},
        "waivers": [{"rule": "x.y", "reason": "accepted", "owner": "alice", "expires": "2026-12-31"}],
    }
    json.dumps(doc)  # JSON-serialisable as it is


def test_the_clock_is_utc_to_the_second_and_never_naive() -> None:
    # One timestamp rule (model/time.py): context.now and time.now_ns() agree to the second.
    fine = EvalContext("prod", None, None, dt.datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=dt.UTC))
    assert fine.to_json()["now"] == "2026-01-02T03:04:05Z" and fine.now.microsecond == 0
    shifted = EvalContext(
        "prod", None, None, dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    )
    assert shifted.to_json()["now"] == "2026-01-02T03:04:05Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        EvalContext("prod", None, None, dt.datetime(2026, 1, 1))


def test_outcomes_and_isolation(fixtures: PolicySet) -> None:
    results = _by_id(evaluate(fixtures, [SBOM_BAD, SBOM_OLD, SBOM_EMPTY], _context()))
    assert list(results) == list(fixtures.ids)

    sbom = results["fx.sbom_check"]
    assert sbom.outcome is Outcome.FAIL
    assert [(v.msg, v.evidence_ids) for v in sbom.violations] == [("sbom-bad.json is bad", (SBOM_BAD.id,))]
    assert [(v.msg, v.evidence_ids) for v in sbom.warnings] == [("sbom-old.json is old", (SBOM_OLD.id,))]
    assert [(v.msg, v.evidence_ids) for v in sbom.missing] == [
        ("sbom-empty.json lists no components", (SBOM_EMPTY.id,))
    ]
    assert sbom.evidence_ids == tuple(sorted([SBOM_BAD.id, SBOM_OLD.id, SBOM_EMPTY.id]))

    # Engine errors stay with their rule...
    assert results["fx.to_number_error"].outcome is Outcome.ERROR
    assert results["fx.to_number_error"].error == (
        f"deny: {FIXTURES / 'rules'}/to_number_error.rego:15:45: could not parse string as number"
    )
    assert results["fx.panics"].outcome is Outcome.ERROR
    assert results["fx.panics"].error == "deny: engine panic: window size must be non-zero"
    assert results["fx.http_send"].outcome is Outcome.ERROR
    assert "http.send is disabled in affidavit" in (results["fx.http_send"].error or "")
    # ... and every other rule is judged normally.
    assert results["fx.same_digest"].outcome is Outcome.PASS
    assert results["fx.prod_only"].outcome is Outcome.FAIL
    assert results["fx.prod_only"].violations[0].msg == "prod says no"


def test_missing_results_make_insufficient_evidence(fixtures: PolicySet) -> None:
    result = _by_id(evaluate(fixtures, [SBOM_EMPTY], _context()))["fx.sbom_check"]
    assert result.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert result.reason == "the evidence provided lacks what the rule needs"


def test_warn_only(fixtures: PolicySet) -> None:
    result = _by_id(evaluate(fixtures, [SBOM_OLD], _context()))["fx.sbom_check"]
    assert result.outcome is Outcome.WARN
    assert result.violations == () and len(result.warnings) == 1


def test_required_kind_absent_is_never_pass(fixtures: PolicySet) -> None:
    results = _by_id(evaluate(fixtures, [SCAN], _context()))
    result = results["fx.sbom_check"]
    assert result.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert result.reason == "no sbom evidence was provided"
    # A rule without `requires` reports its own `missing`.
    same = results["fx.same_digest"]
    assert same.outcome is Outcome.PASS  # the scan names the subject digest
    empty = _by_id(evaluate(fixtures, [], _context()))["fx.same_digest"]
    assert empty.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert [v.msg for v in empty.missing] == ["no record names a digest"]


def test_time_now_ns_is_the_context_clock(fixtures: PolicySet) -> None:
    now = dt.datetime(2029, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    result = _by_id(evaluate(fixtures, [], _context(now=now)))["fx.clock"]
    details = result.warnings[0].details
    assert details == {
        "now_ns": int(now.timestamp()) * 1_000_000_000,
        "context_now": "2029-02-03T04:05:06Z",
        "parsed": int(now.timestamp()) * 1_000_000_000,
    }


def test_grace_period_turns_fail_into_warn(fixtures: PolicySet) -> None:
    before = _by_id(evaluate(fixtures, [], _context()))["fx.grace"]
    assert before.outcome is Outcome.WARN
    assert (
        before.reason == "grace period: the rule takes effect on 2099-01-01; until then a failure only warns"
    )
    assert [v.msg for v in before.violations] == ["always"]
    after = _by_id(evaluate(fixtures, [], _context(now=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))))["fx.grace"]
    assert after.outcome is Outcome.FAIL


def test_environments_scope(fixtures: PolicySet) -> None:
    staging = _by_id(evaluate(fixtures, [], _context("staging")))["fx.prod_only"]
    assert staging.outcome is Outcome.NOT_APPLICABLE
    assert staging.reason == "applies only to prod, not staging"
    assert staging.violations == ()


def test_result_objects_and_bare_strings(fixtures: PolicySet) -> None:
    other = evidence(EvidenceKind.SIGNATURE, 5, digest=OTHER_DIGEST, source="bare.json")
    result = _by_id(evaluate(fixtures, [other, SCAN], _context()))["fx.same_digest"]
    assert result.outcome is Outcome.FAIL
    assert [(v.msg, v.evidence_ids, v.details) for v in result.violations] == [
        ("bare string result for bare.json", (), None),
        (f"bare.json is about {OTHER_DIGEST}", (other.id,), {"digest": OTHER_DIGEST}),
    ]


def test_violations_are_sorted_and_results_deterministic(fixtures: PolicySet) -> None:
    records = [
        evidence(EvidenceKind.SBOM, n, {"bad": True, "components": [1]}, source=f"sbom-{9 - n}.json")
        for n in range(1, 6)
    ]
    first = evaluate(fixtures, records, _context())
    second = evaluate(fixtures, list(reversed(records)), _context())
    assert first == second
    msgs = [v.msg for v in _by_id(first)["fx.sbom_check"].violations]
    assert msgs == sorted(msgs) and len(msgs) == 5


# ---------------------------------------------------------------------------------------------
# Waivers


WAIVER = Waiver(
    rule="fx.sbom_check",
    owner="alice@acme.example",
    reason="accepted until the fix ships",
    expires=dt.date(2026, 12, 31),
)


def test_valid_waiver(fixtures: PolicySet) -> None:
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _context(waivers=[WAIVER])))["fx.sbom_check"]
    assert result.outcome is Outcome.WAIVED
    # The result carries the waiver as results.json shows it: the keys of the file, in order.
    assert result.waiver is not None
    assert result.waiver.to_json() == {
        "rule": "fx.sbom_check",
        "reason": "accepted until the fix ships",
        "owner": "alice@acme.example",
        "expires": "2026-12-31",
    }
    assert list(result.waiver.to_json()) == ["rule", "reason", "owner", "expires"]
    assert result.reason == "waived by alice@acme.example until 2026-12-31: accepted until the fix ships"
    assert len(result.violations) == 1  # the facts stay in the result


def test_waiver_date_lasts_until_the_end_of_that_day(fixtures: PolicySet) -> None:
    last_second = dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert (
        _by_id(evaluate(fixtures, [SBOM_BAD], _context(now=last_second, waivers=[WAIVER])))[
            "fx.sbom_check"
        ].outcome
        is Outcome.WAIVED
    )
    next_day = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _context(now=next_day, waivers=[WAIVER])))["fx.sbom_check"]
    assert result.outcome is Outcome.FAIL
    assert result.reason == "waiver ignored: it expired at 2027-01-01T00:00:00Z (owner alice@acme.example)"
    assert result.waiver is None


def test_waiver_until_an_instant(fixtures: PolicySet) -> None:
    until_ten = dataclasses.replace(WAIVER, expires=dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC))
    before = _context(now=dt.datetime(2026, 11, 22, 9, 59, 59, tzinfo=dt.UTC), waivers=[until_ten])
    waived = _by_id(evaluate(fixtures, [SBOM_BAD], before))["fx.sbom_check"]
    assert waived.outcome is Outcome.WAIVED
    assert waived.reason == (
        "waived by alice@acme.example until 2026-11-22T10:00:00Z: accepted until the fix ships"
    )
    at_ten = _context(now=dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    expired = _by_id(evaluate(fixtures, [SBOM_BAD], dataclasses.replace(at_ten, waivers=[until_ten])))
    assert expired["fx.sbom_check"].outcome is Outcome.FAIL
    assert expired["fx.sbom_check"].reason == (
        "waiver ignored: it expired at 2026-11-22T10:00:00Z (owner alice@acme.example)"
    )


def test_waiver_until_the_last_representable_day_never_expires(fixtures: PolicySet) -> None:
    forever = dataclasses.replace(WAIVER, expires=dt.date(9999, 12, 31))
    late = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _context(now=late, waivers=[forever])))["fx.sbom_check"]
    assert result.outcome is Outcome.WAIVED
    assert result.reason == "waived by alice@acme.example until 9999-12-31: accepted until the fix ships"


def test_waiver_covers_insufficient_evidence_but_never_error(fixtures: PolicySet) -> None:
    missing = _by_id(evaluate(fixtures, [SCAN], _context(waivers=[WAIVER])))["fx.sbom_check"]
    assert missing.outcome is Outcome.WAIVED
    error_waiver = dataclasses.replace(WAIVER, rule="fx.to_number_error")
    errored = _by_id(evaluate(fixtures, [SBOM_BAD], _context(waivers=[error_waiver])))["fx.to_number_error"]
    assert errored.outcome is Outcome.ERROR and errored.waiver is None


def test_waiver_for_one_evidence_record(fixtures: PolicySet) -> None:
    bad_two = evidence(EvidenceKind.SBOM, 6, {"bad": True, "components": [1]}, source="sbom-bad-2.json")
    scoped = dataclasses.replace(WAIVER, evidence_id=SBOM_BAD.id)
    only_that = _by_id(evaluate(fixtures, [SBOM_BAD], _context(waivers=[scoped])))["fx.sbom_check"]
    assert only_that.outcome is Outcome.WAIVED
    assert only_that.waiver is not None and only_that.waiver.evidence_id == SBOM_BAD.id
    both = _by_id(evaluate(fixtures, [SBOM_BAD, bad_two], _context(waivers=[scoped])))["fx.sbom_check"]
    assert both.outcome is Outcome.FAIL
    assert both.reason == f"waiver for evidence {SBOM_BAD.id} does not cover 1 other result(s)"
    # A scoped waiver cannot cover evidence that is missing altogether.
    absent = _by_id(evaluate(fixtures, [SCAN], _context(waivers=[scoped])))["fx.sbom_check"]
    assert absent.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert absent.reason is not None and absent.reason.endswith(
        f"waiver for evidence {SBOM_BAD.id} does not cover missing evidence"
    )


def test_waiver_for_another_rule_is_not_used(fixtures: PolicySet) -> None:
    other = dataclasses.replace(WAIVER, rule="fx.same_digest")
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _context(waivers=[other])))["fx.sbom_check"]
    assert (result.outcome, result.reason) == (Outcome.FAIL, None)


def test_rule_with_only_warn_and_invalid_set_value() -> None:
    ps = policy_set(
        {
            "r.rego": metadata("a.b") + '\nwarn contains "careful" if input.context.environment == "prod"\n',
            "s.rego": metadata("a.c")
            + '\ndeny contains x if { x := {"msg": 1, "evidence_id": "sha256:x", "details": [1]} }\n',
        }
    )
    results = _by_id(evaluate(ps, [], _context()))
    assert results["a.b"].outcome is Outcome.WARN
    assert [v.msg for v in results["a.b"].warnings] == ["careful"]
    weird = results["a.c"].violations[0]
    assert (weird.msg, weird.evidence_ids, weird.details) == ("1", ("sha256:x",), {"value": [1]})


def test_waivers_in_the_input_and_non_json_input(fixtures: PolicySet) -> None:
    doc = json.loads(input_json([], _context(waivers=[WAIVER])))
    assert doc["context"]["waivers"] == [WAIVER.to_json()]
    broken = evidence(EvidenceKind.SBOM, 7, {"x": object()})
    with pytest.raises(EngineError, match=r"the policy input cannot be written as JSON: object is not JSON"):
        evaluate(fixtures, [broken], _context())
