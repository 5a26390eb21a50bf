"""Evaluation: the input document, outcomes, isolation, grace period, environments, waivers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from affidavit.errors import EngineError, UsageError
from affidavit.model import EvidenceKind, Outcome, RuleResult
from affidavit.model.waiver import Waiver
from affidavit.policy.evaluate import EvalContext, build_input, evaluate, input_json
from affidavit.policy.loader import PolicySet, load_policy_set
from affidavit.policy.params import load_params

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
        branch="main",
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
        "branch": "main",
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
# Waivers (governed by the ``waivers`` rule data: see affidavit.policy.waivers)

#: Waiver rule data that lets every waiver through (as a dev override might).
LAX = {
    "require_approver": False,
    "require_scope": False,
    "max_days": 3650,
    "max_active": 10,
    "allow_insufficient_evidence": True,
    "unwaivable": [],
}
#: The built-in prod rule data of waivers.
PROD = load_params("prod")["waivers"]

WAIVER = Waiver(
    rule="fx.sbom_check",
    owner="alice@acme.example",
    reason="accepted until the fix ships",
    expires=dt.date(2026, 12, 31),
)


def _waived(*waivers: Waiver, rules: dict[str, Any] | None = None, **changes: Any) -> EvalContext:
    """A run context with ``waivers`` under ``rules`` (default LAX)."""
    params = {"limit": 3, "waivers": LAX if rules is None else rules}
    return _context(waivers=list(waivers), params=params, **changes)


def test_valid_waiver(fixtures: PolicySet) -> None:
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(WAIVER)))["fx.sbom_check"]
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
        _by_id(evaluate(fixtures, [SBOM_BAD], _waived(WAIVER, now=last_second)))["fx.sbom_check"].outcome
        is Outcome.WAIVED
    )
    next_day = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(WAIVER, now=next_day)))["fx.sbom_check"]
    assert result.outcome is Outcome.FAIL
    assert result.reason == "waiver ignored: it expired at 2027-01-01T00:00:00Z (owner alice@acme.example)"
    assert result.waiver is None


def test_waiver_until_an_instant(fixtures: PolicySet) -> None:
    until_ten = dataclasses.replace(WAIVER, expires=dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC))
    before = _waived(until_ten, now=dt.datetime(2026, 11, 22, 9, 59, 59, tzinfo=dt.UTC))
    waived = _by_id(evaluate(fixtures, [SBOM_BAD], before))["fx.sbom_check"]
    assert waived.outcome is Outcome.WAIVED
    assert waived.reason == (
        "waived by alice@acme.example until 2026-11-22T10:00:00Z: accepted until the fix ships"
    )
    at_ten = _waived(
        until_ten, now=dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    expired = _by_id(evaluate(fixtures, [SBOM_BAD], at_ten))
    assert expired["fx.sbom_check"].outcome is Outcome.FAIL
    assert expired["fx.sbom_check"].reason == (
        "waiver ignored: it expired at 2026-11-22T10:00:00Z (owner alice@acme.example)"
    )


def test_waiver_until_the_last_representable_day_never_expires(fixtures: PolicySet) -> None:
    forever = dataclasses.replace(WAIVER, expires=dt.date(9999, 12, 31))
    late = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(forever, now=late)))["fx.sbom_check"]
    assert result.outcome is Outcome.WAIVED
    assert result.reason == "waived by alice@acme.example until 9999-12-31: accepted until the fix ships"


def test_waiver_covers_insufficient_evidence_only_where_allowed_and_never_error(fixtures: PolicySet) -> None:
    missing = _by_id(evaluate(fixtures, [SCAN], _waived(WAIVER)))["fx.sbom_check"]
    assert missing.outcome is Outcome.WAIVED
    strict = {**LAX, "allow_insufficient_evidence": False}
    kept = _by_id(evaluate(fixtures, [SCAN], _waived(WAIVER, rules=strict)))["fx.sbom_check"]
    assert kept.outcome is Outcome.INSUFFICIENT_EVIDENCE and kept.waiver is None
    assert kept.reason == (
        "no sbom evidence was provided; waiver not used for missing evidence: missing evidence cannot be "
        "waived in this environment (waivers.allow_insufficient_evidence)"
    )
    error_waiver = dataclasses.replace(WAIVER, rule="fx.to_number_error")
    errored = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(error_waiver)))["fx.to_number_error"]
    assert errored.outcome is Outcome.ERROR and errored.waiver is None


def test_a_waived_failure_does_not_hide_missing_evidence(fixtures: PolicySet) -> None:
    # SBOM_BAD fails the rule and SBOM_EMPTY lacks what it needs: waiving the failure leaves the
    # missing evidence blocking where it may not be waived.
    strict = {**LAX, "allow_insufficient_evidence": False}
    result = _by_id(evaluate(fixtures, [SBOM_BAD, SBOM_EMPTY], _waived(WAIVER, rules=strict)))[
        "fx.sbom_check"
    ]
    assert result.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert result.waiver is None
    assert result.reason == (
        "1 of 2 finding(s) waived by alice@acme.example until 2026-12-31: accepted until the fix ships; "
        "1 still block(s); waiver not used for missing evidence: missing evidence cannot be waived in "
        "this environment (waivers.allow_insufficient_evidence)"
    )
    allowed = _by_id(evaluate(fixtures, [SBOM_BAD, SBOM_EMPTY], _waived(WAIVER)))["fx.sbom_check"]
    assert allowed.outcome is Outcome.WAIVED


def test_waiver_for_one_evidence_record(fixtures: PolicySet) -> None:
    bad_two = evidence(EvidenceKind.SBOM, 6, {"bad": True, "components": [1]}, source="sbom-bad-2.json")
    scoped = dataclasses.replace(WAIVER, evidence_id=SBOM_BAD.id)
    only_that = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(scoped)))["fx.sbom_check"]
    assert only_that.outcome is Outcome.WAIVED
    assert only_that.waiver is not None and only_that.waiver.evidence_id == SBOM_BAD.id
    both = _by_id(evaluate(fixtures, [SBOM_BAD, bad_two], _waived(scoped)))["fx.sbom_check"]
    assert both.outcome is Outcome.FAIL and both.waiver is None
    assert both.reason == (
        "1 of 2 finding(s) waived by alice@acme.example until 2026-12-31: accepted until the fix ships; "
        "1 still block(s)"
    )
    # A scoped waiver cannot cover evidence that is missing altogether.
    absent = _by_id(evaluate(fixtures, [SCAN], _waived(scoped)))["fx.sbom_check"]
    assert absent.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert absent.reason is not None and absent.reason.endswith(
        f"waiver for evidence {SBOM_BAD.id} does not cover the missing evidence"
    )


def test_waiver_for_another_rule_is_not_used(fixtures: PolicySet) -> None:
    other = dataclasses.replace(WAIVER, rule="fx.same_digest")
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(other)))["fx.sbom_check"]
    assert (result.outcome, result.reason) == (Outcome.FAIL, None)


def test_waiver_for_a_subject_applies_to_that_release_only(fixtures: PolicySet) -> None:
    mine = dataclasses.replace(WAIVER, subject=SUBJECT_DIGEST)
    assert _by_id(evaluate(fixtures, [SBOM_BAD], _waived(mine)))["fx.sbom_check"].outcome is Outcome.WAIVED
    theirs = dataclasses.replace(WAIVER, subject=OTHER_DIGEST)
    result = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(theirs)))["fx.sbom_check"]
    assert result.outcome is Outcome.FAIL
    assert result.reason == f"waiver not used: it is for subject {OTHER_DIGEST}, not this run's"
    nameless = _by_id(evaluate(fixtures, [SBOM_BAD], _waived(mine, subject_digest=None)))["fx.sbom_check"]
    assert nameless.outcome is Outcome.FAIL
    assert nameless.reason == (
        f"waiver not used: it is for subject {SUBJECT_DIGEST}, not this run, which names no subject digest"
    )


CVES = policy_set(
    {
        "cves.rego": metadata("v.cves")
        + "\n"
        + 'deny contains {"msg": "CVE-2026-0001 in a", "details": {"id": "CVE-2026-0001"}} if true\n'
        + 'deny contains {"msg": "CVE-2026-0002 in b", "details": {"id": "CVE-2026-0002"}} if true\n'
    }
)


def test_a_waiver_for_named_findings_hides_only_those() -> None:
    one = Waiver("v.cves", "accepted", "alice", dt.date(2026, 12, 31), findings=("CVE-2026-0001",))
    result = _by_id(evaluate(CVES, [SCAN], _waived(one)))["v.cves"]
    assert result.outcome is Outcome.FAIL and result.waiver is None
    assert [v.msg for v in result.violations] == ["CVE-2026-0001 in a", "CVE-2026-0002 in b"]
    assert result.reason == "1 of 2 finding(s) waived by alice until 2026-12-31: accepted; 1 still block(s)"
    two = dataclasses.replace(one, findings=("CVE-2026-0002",), owner="bob")
    both = _by_id(evaluate(CVES, [SCAN], _waived(one, two)))["v.cves"]
    assert both.outcome is Outcome.WAIVED and both.waiver == one
    assert both.reason == (
        "waived by alice until 2026-12-31: accepted; waived by bob until 2026-12-31: accepted"
    )
    stranger = dataclasses.replace(one, findings=("CVE-1999-0001",))
    unused = _by_id(evaluate(CVES, [SCAN], _waived(stranger)))["v.cves"]
    assert unused.outcome is Outcome.FAIL
    assert unused.reason == "waiver for 1 named finding(s) does not cover any of the rule's blocking results"


def test_no_waiver_applies_when_the_run_judged_no_evidence(fixtures: PolicySet) -> None:
    result = _by_id(evaluate(fixtures, [], _waived(WAIVER)))["fx.sbom_check"]
    assert result.outcome is Outcome.INSUFFICIENT_EVIDENCE and result.waiver is None
    assert result.reason == (
        "no sbom evidence was provided; waiver not used: the run judged no evidence at all, and waivers "
        "never stand in for all of it"
    )


def test_a_waivers_file_that_breaks_the_rule_data_is_refused_before_judging(fixtures: PolicySet) -> None:
    with pytest.raises(UsageError, match=r"^the waiver for fx\.sbom_check needs an approver"):
        evaluate(fixtures, [SBOM_BAD], _waived(WAIVER, rules=PROD))
    unknown = dataclasses.replace(WAIVER, rule="fx.nothing_like_it")
    with pytest.raises(UsageError, match=r"\.rule names no rule of the policies in force"):
        evaluate(fixtures, [SBOM_BAD], _waived(unknown))


@pytest.mark.parametrize(
    ("waivers", "message"),
    [
        (None, r"the rule data has no 'waivers' mapping"),
        ({**LAX, "max_days": "30"}, r"rule data waivers\.max_days must be a whole number from 1 to 3650"),
        ({**LAX, "max_days": 0}, r"waivers\.max_days must be a whole number from 1 to 3650"),
        ({**LAX, "max_days": True}, r"waivers\.max_days must be a whole number"),
        ({**LAX, "max_active": -1}, r"waivers\.max_active must be a whole number from 0 to 1000"),
        ({**LAX, "require_approver": "yes"}, r"waivers\.require_approver must be true or false"),
        ({**LAX, "require_scope": None}, r"waivers\.require_scope must be true or false"),
        ({**LAX, "allow_insufficient_evidence": 1}, r"waivers\.allow_insufficient_evidence must be"),
        ({**LAX, "unwaivable": "secrets.no_secrets"}, r"waivers\.unwaivable must be a list of rule ids"),
    ],
)
def test_waivers_are_never_judged_without_their_rule_data(
    fixtures: PolicySet, waivers: dict[str, Any] | None, message: str
) -> None:
    params: dict[str, Any] = {"limit": 3}
    if waivers is not None:
        params["waivers"] = waivers
    with pytest.raises(UsageError, match=message):
        evaluate(fixtures, [SBOM_BAD], _context(waivers=[WAIVER], params=params))
    # Without waivers, the waiver rule data is not needed.
    assert evaluate(fixtures, [SBOM_BAD], _context(params=params))


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


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


class _CheckedEngine:
    """The regorus engine as an engine that does not refuse an unreadable input itself."""

    name = "checked"
    version = "1"

    def __init__(self) -> None:
        from affidavit.policy.engines.regorus import RegorusEngine

        self.inner = RegorusEngine()
        self.calls = 0

    def evaluate(self, modules: Any, text: str, paths: Any, *, now: dt.datetime) -> Any:
        self.calls += 1
        return self.inner.evaluate(modules, text, paths, now=now)


@pytest.mark.parametrize("bad", [{"deep": _deep(130)}, {"text": "hidden \ud800 value"}])
def test_an_unreadable_record_is_named_whichever_checks_it(
    fixtures: PolicySet, bad: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: regorus refuses an input nested too deep or holding a lone surrogate itself, so
    the whole text is not searched for them first; when it refuses, each record it cannot read is
    named (RecordsRefused, the others judged by the gate). Another engine gets the input checked
    first, and is never called with it."""
    import affidavit.policy.evaluate as module
    from affidavit.policy.evaluate import RecordsRefused

    records = [SCAN, evidence(EvidenceKind.SBOM, 7, bad, source="odd.json")]
    depth_passes: list[int] = []
    plain = module.json_depth
    monkeypatch.setattr(module, "json_depth", lambda data: (depth_passes.append(len(data)), plain(data))[1])
    with pytest.raises(RecordsRefused) as info:
        evaluate(fixtures, records, _context())
    assert [r.source for r in info.value.refusals] == ["odd.json"]
    assert "the evidence record of odd.json" in str(info.value) and "hidden" not in str(info.value)
    # the whole input's text was never searched: each record and the rule data, to name them
    assert len(depth_passes) == len(records) + 1
    # the readable records alone are judged, and the whole text is not searched for them either
    depth_passes.clear()
    assert _by_id(evaluate(fixtures, [SCAN], _context()))
    assert depth_passes == []
    # an engine that does not check its input is handed none it cannot read
    other = _CheckedEngine()
    with pytest.raises(RecordsRefused) as info:
        evaluate(fixtures, records, _context(), engine=other)
    assert [r.source for r in info.value.refusals] == ["odd.json"] and other.calls == 0


def test_a_large_input_is_handed_over_once_the_free_heap_went_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: before the engine reads an input of ``RETURN_MEMORY_FROM`` characters or more, the
    C heap's free pages are given back (regorus's allocator would never reuse them); a small input
    (the demo's) is handed over at once. The text is the same either way."""
    import affidavit.policy.evaluate as evaluating

    calls: list[int] = []
    monkeypatch.setattr(evaluating, "return_free_memory", lambda: calls.append(1) or True)
    small = "x" * (evaluating.RETURN_MEMORY_FROM - 1)
    large = small + "x"
    assert evaluating._handed_over(small) is small and calls == []
    assert evaluating._handed_over(large) is large and calls == [1]
