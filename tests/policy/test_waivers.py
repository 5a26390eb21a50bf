"""Typed waivers: the parser's refusals (model and command line), JSON form, and how they apply."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import UsageError
from affidavit.model import Outcome, Violation
from affidavit.model.waiver import WAIVER_KEYS, AppliedWaiver, Waiver, parse_waivers
from affidavit.policy.loader import load_policy_set
from affidavit.policy.params import load_params
from affidavit.policy.waivers import WaiverRules, apply_waivers, check_waivers, finding_ids

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "evidence" / "demo"
SECRET = "ghp_" + "Zq8rT1uV2wX3yZ4aB5cD6eF7gH8iJ9kL0mN1"  # a token-shaped value: never echoed
EVIDENCE_ID = "sha256:" + "e9" * 32
SUBJECT = "sha256:" + "9f" * 32
GOOD = {
    "rule": "vulnerabilities.fixable_within_window",
    "reason": "the fix lands in 1.4.3",
    "owner": "sam.release-manager",
    "expires": dt.date(2026, 12, 5),
}


def _one(**changes: Any) -> list[dict[str, Any]]:
    """A waivers list holding one waiver: GOOD with ``changes`` (None removes a key)."""
    item = {**GOOD, **changes}
    return [{k: v for k, v in item.items() if v is not None}]


# ---------------------------------------------------------------------------------------------
# The parser


def test_both_documented_shapes_and_empty_files() -> None:
    (as_list,) = parse_waivers([GOOD], "w.yaml")
    (as_mapping,) = parse_waivers({"waivers": [GOOD]}, "w.yaml")
    assert (
        as_list
        == as_mapping
        == Waiver(
            rule="vulnerabilities.fixable_within_window",
            reason="the fix lands in 1.4.3",
            owner="sam.release-manager",
            expires=dt.date(2026, 12, 5),
        )
    )
    assert parse_waivers(None, "w.yaml") == ()
    assert parse_waivers({"waivers": None}, "w.yaml") == ()
    assert parse_waivers([], "w.yaml") == ()


def test_optional_fields_and_whitespace() -> None:
    (waiver,) = parse_waivers(
        _one(
            owner="  sam  ",
            evidence_id=EVIDENCE_ID.upper().replace("SHA256", "sha256"),
            approver="dana.security",
            ticket="https://tracker.example/RISK-12",
        ),
        "w.yaml",
    )
    assert waiver.owner == "sam"
    assert waiver.evidence_id == EVIDENCE_ID  # hex case normalised: evidence ids are lower case
    assert (waiver.approver, waiver.ticket) == ("dana.security", "https://tracker.example/RISK-12")


@pytest.mark.parametrize(
    ("expires", "stored", "text"),
    [
        (dt.date(2026, 12, 5), dt.date(2026, 12, 5), "2026-12-05"),
        ("2026-12-05", dt.date(2026, 12, 5), "2026-12-05"),
        (dt.date(9999, 12, 31), dt.date(9999, 12, 31), "9999-12-31"),
        ("9999-12-31", dt.date(9999, 12, 31), "9999-12-31"),
        ("2026-12-05T10:00:00Z", dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC), "2026-12-05T10:00:00Z"),
        ("2026-12-05T12:00:00+02:00", dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC), "2026-12-05T10:00:00Z"),
        ("2026-12-05 10:00:00", dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC), "2026-12-05T10:00:00Z"),
        (dt.datetime(2026, 12, 5, 10), dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC), "2026-12-05T10:00:00Z"),
        (
            dt.datetime(2026, 12, 5, 11, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC),
            "2026-12-05T10:00:00Z",
        ),
    ],
)
def test_expires_dates_and_times(expires: Any, stored: dt.date, text: str) -> None:
    (waiver,) = parse_waivers(_one(expires=expires), "w.yaml")
    assert waiver.expires == stored
    assert type(waiver.expires) is type(stored)
    assert waiver.expires_text == text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"owner": {"name": "sam"}},
            r"w\.yaml: waivers\[0\]\.owner must be a non-empty string, not a mapping",
        ),
        ({"owner": "   "}, r"waivers\[0\]\.owner must be a non-empty string, not an empty string"),
        ({"owner": 7}, r"waivers\[0\]\.owner must be a non-empty string, not a number"),
        ({"reason": True}, r"waivers\[0\]\.reason must be a non-empty string, not a boolean"),
        ({"reason": None}, r"waivers\[0\] lacks reason"),
        ({"owner": None, "expires": None}, r"waivers\[0\] lacks owner, expires"),
        ({"expires": "someday"}, r"waivers\[0\]\.expires is not a date \(YYYY-MM-DD\) or an RFC 3339 time"),
        ({"expires": "2026-02-30"}, r"waivers\[0\]\.expires is not a calendar date"),
        ({"expires": "2026-12-05T25:00:00Z"}, r"waivers\[0\]\.expires is not a date"),
        ({"expires": 20261205}, r"waivers\[0\]\.expires must be a date .* not a number"),
        ({"expires": ["2026-12-05"]}, r"waivers\[0\]\.expires must be a date .* not a list"),
        (
            {"expires": dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=1)))},
            r"waivers\[0\]\.expires is a time that cannot be expressed in UTC",
        ),
        ({"expires": "9999-12-31T23:59:59-01:00"}, r"waivers\[0\]\.expires is not a date .* in range"),
        ({"rule": "vulnerabilities fixable"}, r"waivers\[0\]\.rule is not a rule id"),
        ({"rule": "data.affidavit.rules.x; y"}, r"waivers\[0\]\.rule is not a rule id"),
        ({"rule": "a." * 120 + "b"}, r"waivers\[0\]\.rule is not a rule id"),
        ({"rule": {"id": "x"}}, r"waivers\[0\]\.rule must be a non-empty string, not a mapping"),
        ({"evidence_id": "sha256:abc"}, r"waivers\[0\]\.evidence_id is not an evidence id"),
        (
            {"evidence-id": EVIDENCE_ID},
            r"waivers\[0\] has an unknown key 'evidence-id' \(did you mean evidence_id\?\); a waiver's keys are rule,",
        ),
        ({"expiry": "2027-01-01"}, r"waivers\[0\] has an unknown key 'expiry' \(did you mean expires\?\)"),
        ({"colour": "blue"}, r"waivers\[0\] has an unknown key; a waiver's keys are rule, reason"),
    ],
)
def test_refusals_name_the_file_and_the_waiver(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse_waivers([GOOD, *_one(**changes)][1:], "w.yaml")
    assert caught.value.message.startswith("w.yaml: waivers[0]")
    assert caught.value.hint is not None and "README" in caught.value.hint


def test_the_index_is_the_position_in_the_file() -> None:
    with pytest.raises(UsageError, match=r"^w\.yaml: waivers\[2\]\.owner"):
        parse_waivers([GOOD, GOOD, {**GOOD, "owner": ""}], "w.yaml")


@pytest.mark.parametrize(
    ("loaded", "message"),
    [
        ("a waiver", r"w\.yaml: waivers must be a list, not a string"),
        ({"waivers": {"rule": "x"}}, r"w\.yaml: waivers must be a list, not a mapping"),
        (GOOD, r"w\.yaml: a waivers file is a list of waivers, or a mapping with the one key 'waivers'"),
        (
            ["rule: x"],
            r"w\.yaml: waivers\[0\] must be a mapping of rule, reason, owner, expires, not a string",
        ),
    ],
)
def test_refusals_of_the_document_shape(loaded: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_waivers(loaded, "w.yaml")


@pytest.mark.parametrize(
    "changes",
    [
        {"owner": {"token": SECRET}},
        {"reason": [SECRET]},
        {"rule": SECRET + "-x"},
        {"expires": SECRET},
        {"evidence_id": SECRET},
        {SECRET: "x"},
    ],
)
def test_messages_never_quote_the_file(changes: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_waivers(_one(**changes), "w.yaml")
    assert SECRET not in caught.value.diagnostics()
    assert "ghp_" not in caught.value.diagnostics()


def test_to_json_has_a_fixed_key_order_and_round_trips() -> None:
    full = Waiver(
        rule="a.b",
        reason="r",
        owner="o",
        expires=dt.datetime(2026, 12, 5, 10, 0, 0, 500000, tzinfo=dt.UTC),
        evidence_id=EVIDENCE_ID,
        approver="ap",
        ticket="T-1",
        subject=SUBJECT,
        findings=("CVE-2026-28877", "py/sql-injection@shop/api/search.py:41"),
    )
    doc = full.to_json()
    assert list(doc) == list(WAIVER_KEYS)
    assert doc["expires"] == "2026-12-05T10:00:00Z"  # to the second, cut rather than rounded up
    assert doc["findings"] == ["CVE-2026-28877", "py/sql-injection@shop/api/search.py:41"]
    assert Waiver.from_json(json.loads(json.dumps(doc))) == full
    short = Waiver("a.b", "r", "o", dt.date(2026, 12, 5))
    assert list(short.to_json()) == ["rule", "reason", "owner", "expires"]
    assert Waiver.from_json(short.to_json()) == short
    with pytest.raises(UsageError, match=r"^results\.json: waiver\.owner must be"):
        Waiver.from_json({**short.to_json(), "owner": ""}, "results.json")


@pytest.mark.parametrize(
    "changes",
    [
        {"rule": "not an id"},
        {"owner": " "},
        {"reason": ""},
        {"expires": dt.datetime(2026, 12, 5, 10)},  # naive
        {"expires": dt.datetime(2026, 12, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))},
        {"expires": "2026-12-05"},
        {"evidence_id": "sha256:ABC"},
        {"approver": "O "},
        {"approver": ""},
        {"subject": "SHA256:" + "9F" * 32},
        {"subject": "ghcr.io/acme/shop@" + SUBJECT},
        {"findings": ["CVE-1"]},
        {"findings": (" CVE-1",)},
        {"findings": ("",)},
        {"findings": ("CVE-1\x1b[2J",)},
    ],
)
def test_a_waiver_built_in_code_keeps_the_same_rules(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Waiver"):
        dataclasses.replace(Waiver("a.b", "r", "o", dt.date(2026, 12, 5)), **changes)


# ---------------------------------------------------------------------------------------------
# The parser: approver, scope and origin


@pytest.mark.parametrize("approver", ["sam.release-manager", "  Sam.Release-Manager ", "SAM.RELEASE-MANAGER"])
def test_the_approver_is_never_the_owner(approver: str) -> None:
    with pytest.raises(
        UsageError, match=r"^w\.yaml: waivers\[0\]\.approver must be someone other than the owner"
    ):
        parse_waivers(_one(approver=approver), "w.yaml")


def test_a_subject_is_a_digest_or_an_image_reference() -> None:
    (plain,) = parse_waivers(_one(subject=SUBJECT.upper().replace("SHA256", "sha256")), "w.yaml")
    (reference,) = parse_waivers(_one(subject=f"ghcr.io/acme/shop@{SUBJECT}"), "w.yaml")
    assert plain.subject == reference.subject == SUBJECT
    for bad, problem in (
        ("sha256:abc", "sha256 takes 64 hex digits, not 3"),
        ("ghcr.io/acme/shop:1.4.2", "unknown digest algorithm"),
        (SECRET, "not <algorithm>:<hex>"),
    ):
        with pytest.raises(
            UsageError, match=r"waivers\[0\]\.subject is not the digest of a promoted artefact"
        ) as caught:
            parse_waivers(_one(subject=bad), "w.yaml")
        assert problem in caught.value.message
        assert SECRET not in caught.value.diagnostics()


def test_findings_are_a_list_of_ids_kept_in_order_once() -> None:
    (waiver,) = parse_waivers(_one(findings=[" CVE-2026-28877 ", "GHSA-xxxx", "CVE-2026-28877"]), "w.yaml")
    assert waiver.findings == ("CVE-2026-28877", "GHSA-xxxx")
    assert waiver.scoped


@pytest.mark.parametrize(
    ("findings", "message"),
    [
        ("CVE-2026-28877", r"waivers\[0\]\.findings must be a non-empty list of finding ids, not a string"),
        ([], r"waivers\[0\]\.findings must be a non-empty list of finding ids, not a list"),
        (None, r"waivers\[0\]\.findings must be a non-empty list of finding ids, not nothing"),
        (["CVE-1", 7], r"waivers\[0\]\.findings\[1\] must be a non-empty string, not a number"),
        (["CVE-1", "  "], r"waivers\[0\]\.findings\[1\] must be a non-empty string, not an empty string"),
        (["CVE-1\x1b[2J"], r"waivers\[0\]\.findings\[0\] is not a finding id"),
        (["x" * 301], r"waivers\[0\]\.findings\[0\] is not a finding id \(at most 300 characters"),
        ([f"CVE-{n}" for n in range(101)], r"waivers\[0\]\.findings lists more than 100 finding ids"),
    ],
)
def test_bad_findings_are_refused(findings: Any, message: str) -> None:
    item = {**GOOD, "findings": findings}
    with pytest.raises(UsageError, match=message):
        parse_waivers([item], "w.yaml")


def test_each_waiver_knows_where_it_was_written() -> None:
    first, second = parse_waivers([GOOD, GOOD], "w.yaml")
    assert (first.where, second.where) == ("w.yaml: waivers[0]", "w.yaml: waivers[1]")
    assert first == second  # where it was written is not part of the waiver
    assert Waiver("a.b", "r", "o", dt.date(2026, 12, 5)).where == "the waiver for a.b"


# ---------------------------------------------------------------------------------------------
# The rule data and the refusals


NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
PROD = WaiverRules.from_params(load_params("prod"))
RULE_IDS = frozenset({"a.b", "a.c", "change_management.approval_recorded"})


def test_the_built_in_rule_data_per_environment() -> None:
    assert PROD == WaiverRules(
        require_approver=True,
        require_scope=True,
        max_days=30,
        max_active=5,
        allow_insufficient_evidence=False,
        unwaivable=frozenset(
            {
                "supply_chain.signature_verified",
                "supply_chain.provenance_trusted",
                "supply_chain.same_subject",
                "change_management.approval_recorded",
                "iac.protected_resource_changes",
                "secrets.no_secrets",
            }
        ),
    )
    staging = WaiverRules.from_params(load_params("staging"))
    assert (staging.require_approver, staging.require_scope, staging.max_days, staging.max_active) == (
        True,
        False,
        90,
        10,
    )
    assert staging.unwaivable == PROD.unwaivable and not staging.allow_insufficient_evidence
    dev = WaiverRules.from_params(load_params("dev"))
    assert (dev.require_approver, dev.max_days, dev.allow_insufficient_evidence, dev.unwaivable) == (
        False,
        180,
        True,
        frozenset(),
    )
    # Every unwaivable rule is a real rule id.
    assert PROD.unwaivable <= set(load_policy_set(()).ids)


def _governed(rule: str = "a.b", **changes: Any) -> Waiver:
    """A waiver that prod rule data accepts at NOW."""
    base = Waiver(rule, "accepted", "alice", dt.date(2026, 12, 5), approver="dana", subject=SUBJECT)
    return dataclasses.replace(base, **changes)


def _check(*waivers: Waiver, rules: WaiverRules = PROD) -> None:
    check_waivers(waivers, rules, NOW, RULE_IDS)


def test_governed_waivers_pass_the_checks() -> None:
    _check(*(_governed(reason=f"r{n}") for n in range(5)))
    _check(_governed(subject=None, evidence_id=EVIDENCE_ID))
    _check(_governed(subject=None, findings=("CVE-1",)))


@pytest.mark.parametrize(
    ("waiver", "message"),
    [
        (
            _governed(approver=None),
            r"^the waiver for a\.b needs an approver in this environment \(waivers\.require_approver\)",
        ),
        (
            _governed(subject=None),
            r"^the waiver for a\.b needs a scope in this environment \(waivers\.require_scope\)",
        ),
        (
            _governed(rule="change_management.approval_recorded"),
            r"rule change_management\.approval_recorded cannot be waived in this environment \(waivers\.unwaivable\)",
        ),
        (_governed(rule="a.zzz"), r"^the waiver for a\.zzz\.rule names no rule of the policies in force"),
        (
            _governed(expires=dt.date(2026, 12, 23)),
            r"expires more than 30 days after the evaluation time \(2026-11-22T12:00:00Z\)",
        ),
        (_governed(expires=dt.date(9999, 12, 31)), r"expires more than 30 days"),
        (
            _governed(expires=dt.datetime(2026, 12, 22, 12, 0, 1, tzinfo=dt.UTC)),
            r"expires more than 30 days",
        ),
    ],
)
def test_refusals(waiver: Waiver, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _check(waiver)


def test_the_longest_lifetime_is_counted_from_the_evaluation_time() -> None:
    _check(_governed(expires=dt.date(2026, 12, 22)))  # the day 30 days after NOW lasts to its end
    _check(_governed(expires=dt.datetime(2026, 12, 22, 12, 0, tzinfo=dt.UTC)))
    with pytest.raises(UsageError) as caught:
        _check(_governed(expires=dt.date(2026, 12, 23)))
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("set 'expires' no later than 2026-12-22")
    # An evaluation time near the end of the calendar never overflows.
    late = dt.datetime(9999, 12, 20, tzinfo=dt.UTC)
    check_waivers([_governed(expires=dt.date(9999, 12, 31))], PROD, late, RULE_IDS)


def test_the_refusal_names_the_file_and_the_waiver_and_the_first_problem_wins() -> None:
    bad = {**GOOD, "rule": "a.b", "approver": "dana", "expires": dt.date(3000, 1, 1)}
    waivers = parse_waivers([{**GOOD, "rule": "a.b", "approver": "dana", "subject": SUBJECT}, bad], "w.yaml")
    with pytest.raises(UsageError) as caught:
        _check(*waivers)
    # The lifetime is checked before the scope: the first message is the most telling.
    assert caught.value.message.startswith("w.yaml: waivers[1] expires more than 30 days")


def test_too_many_waivers_in_force() -> None:
    expired = _governed(expires=dt.date(2026, 11, 1), approver=None, subject=None)
    many = [expired] + [_governed(reason=f"r{n}") for n in range(6)]
    named = [dataclasses.replace(w, origin=f"w.yaml: waivers[{n}]") for n, w in enumerate(many)]
    with pytest.raises(
        UsageError, match=r"^w\.yaml: waivers\[6\]: one waiver too many: 6 are in force"
    ) as caught:
        _check(*named)
    assert "at most 5 in force (waivers.max_active)" in caught.value.message
    # An expired waiver is neither counted nor judged: it is ignored when applied.
    _check(*named[:6])
    with pytest.raises(UsageError, match=r"allows no waiver \(waivers\.max_active\)"):
        _check(_governed(), rules=dataclasses.replace(PROD, max_active=0))


# ---------------------------------------------------------------------------------------------
# Finding ids


@pytest.mark.parametrize(
    ("details", "ids"),
    [
        ({"id": "CVE-2026-28877", "severity": "critical"}, ("CVE-2026-28877",)),
        (
            {"tool": "CodeQL", "rule_id": "py/sql-injection", "file": "shop/api/search.py", "line": 41},
            ("py/sql-injection@shop/api/search.py:41",),
        ),
        ({"rule_id": "py/x", "file": "a.py", "line": None}, ("py/x@a.py",)),
        ({"rule_id": "py/x", "file": None, "line": 3}, ("py/x",)),
        (
            {
                "rule_id": "aws-access-token",
                "file": "deploy/settings.py",
                "line": 14,
                "fingerprint": "3f1c:deploy/settings.py:aws-access-token:14",
            },
            ("3f1c:deploy/settings.py:aws-access-token:14", "aws-access-token@deploy/settings.py:14"),
        ),
        ({"address": "aws_db_instance.main", "actions": ["delete", "create"]}, ("aws_db_instance.main",)),
        ({"resource": "aws_security_group.api", "ports": [22]}, ("aws_security_group.api",)),
        ({"component": "x", "purl": "pkg:npm/x@1.0.0", "license": "AGPL-3.0"}, ("pkg:npm/x@1.0.0",)),
        ({"provider": "registry.terraform.io/hashicorp/aws"}, ("registry.terraform.io/hashicorp/aws",)),
        ({"metric": "purl", "share": 0.5}, ()),
        ({"id": 7, "rule_id": True}, ()),
        (None, ()),
    ],
)
def test_finding_ids_from_what_the_rules_report(details: dict[str, Any] | None, ids: tuple[str, ...]) -> None:
    assert finding_ids(Violation("m", (), details)) == ids


# ---------------------------------------------------------------------------------------------
# Applying waivers (the rules' side is in test_evaluate)

BLOCKING = (Violation("bad", (EVIDENCE_ID,)),)
LAX = dataclasses.replace(PROD, require_approver=False, require_scope=False, allow_insufficient_evidence=True)


@pytest.mark.parametrize(
    ("outcome", "waived"),
    [
        (Outcome.FAIL, True),
        (Outcome.INSUFFICIENT_EVIDENCE, True),
        (Outcome.ERROR, False),
        (Outcome.WARN, False),
        (Outcome.PASS, False),
    ],
)
def test_only_blocking_outcomes_are_waived(outcome: Outcome, waived: bool) -> None:
    waiver = Waiver("a.b", "accepted", "alice", dt.date(2026, 12, 5))
    blocking = {"missing" if outcome is Outcome.INSUFFICIENT_EVIDENCE else "failures": BLOCKING}
    decision = apply_waivers("a.b", outcome, [waiver], NOW, LAX, **blocking)
    assert decision.outcome is (Outcome.WAIVED if waived else outcome)
    assert decision.waiver is (waiver if waived else None)
    assert decision.reason == ("waived by alice until 2026-12-05: accepted" if waived else None)
    assert decision.applied == ((AppliedWaiver(waiver, BLOCKING),) if waived else ())


def test_what_each_waiver_hid_is_recorded() -> None:
    cve_a = Violation("CVE-A in a", (EVIDENCE_ID,), {"id": "CVE-A"})
    cve_b = Violation("CVE-B in b", (EVIDENCE_ID,), {"id": "CVE-B"})
    cve_c = Violation("CVE-C in c", (EVIDENCE_ID,), {"id": "CVE-C"})
    first = _governed(findings=("CVE-A", "CVE-B"))
    second = _governed(findings=("CVE-B", "CVE-C"), owner="carol", approver="erin")
    decision = apply_waivers(
        "a.b", Outcome.FAIL, [first, second], NOW, PROD, failures=(cve_a, cve_b, cve_c), subject=SUBJECT
    )
    assert decision.outcome is Outcome.WAIVED
    # Each finding is hidden by the first waiver (in file order) that names it.
    assert decision.applied == (AppliedWaiver(first, (cve_a, cve_b)), AppliedWaiver(second, (cve_c,)))
    assert decision.applied[1].to_json() == {
        "waiver": second.to_json(),
        "findings": [cve_c.to_json()],
        "absent_evidence": False,
    }
    assert decision.reason == (
        "waived by alice until 2026-12-05 (approved by dana): accepted; "
        "waived by carol until 2026-12-05 (approved by erin): accepted"
    )
    partial = apply_waivers(
        "a.b", Outcome.FAIL, [second], NOW, PROD, failures=(cve_a, cve_b, cve_c), subject=SUBJECT
    )
    assert partial.outcome is Outcome.FAIL and partial.waiver is None
    assert partial.applied == (AppliedWaiver(second, (cve_b, cve_c)),)
    assert (
        partial.reason
        == "2 of 3 finding(s) waived by carol until 2026-12-05 (approved by erin): accepted; 1 still block(s)"
    )


def test_absent_evidence_needs_an_unscoped_waiver_where_it_may_be_waived() -> None:
    anyone = Waiver("a.b", "accepted", "alice", dt.date(2026, 12, 5))
    scoped = dataclasses.replace(anyone, evidence_id=EVIDENCE_ID)
    decision = apply_waivers(
        "a.b", Outcome.INSUFFICIENT_EVIDENCE, [scoped, anyone], NOW, LAX, absent=("sbom",)
    )
    assert decision.outcome is Outcome.WAIVED and decision.waiver is anyone
    assert decision.applied == (AppliedWaiver(anyone, (), absent_evidence=True),)
    assert decision.notes == (f"waiver for evidence {EVIDENCE_ID} does not cover the missing evidence",)
    refused = apply_waivers("a.b", Outcome.INSUFFICIENT_EVIDENCE, [anyone], NOW, PROD, absent=("sbom",))
    assert refused.outcome is Outcome.INSUFFICIENT_EVIDENCE and refused.applied == ()
    # With a failure beside the absent kind, lifting the absence shows the failure.
    failing = apply_waivers(
        "a.b", Outcome.INSUFFICIENT_EVIDENCE, [anyone], NOW, LAX, absent=("sbom",), failures=BLOCKING
    )
    assert failing.outcome is Outcome.WAIVED
    one_finding = dataclasses.replace(anyone, findings=("CVE-A",))
    cve = Violation("CVE-A", (EVIDENCE_ID,), {"id": "CVE-A"})
    shown = apply_waivers(
        "a.b",
        Outcome.INSUFFICIENT_EVIDENCE,
        [one_finding, anyone],
        NOW,
        LAX,
        absent=("sbom",),
        failures=(cve, *BLOCKING),
    )
    assert shown.outcome is Outcome.WAIVED
    assert shown.applied == (
        AppliedWaiver(one_finding, (cve,)),
        AppliedWaiver(anyone, BLOCKING, absent_evidence=True),
    )
    no_absence = apply_waivers(
        "a.b",
        Outcome.INSUFFICIENT_EVIDENCE,
        [one_finding],
        NOW,
        LAX,
        absent=("sbom",),
        failures=(cve, *BLOCKING),
    )
    assert no_absence.outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert no_absence.reason == (
        "1 of 2 finding(s) waived by alice until 2026-12-05: accepted; 1 still block(s)"
    )


def test_the_first_usable_waiver_is_used_and_expired_ones_are_noted() -> None:
    expired = Waiver("a.b", "old", "bob", dt.date(2026, 11, 21))
    other_record = Waiver("a.b", "scoped", "carol", dt.date(2026, 12, 5), evidence_id="sha256:" + "0" * 64)
    good = Waiver("a.b", "accepted", "alice", dt.date(2026, 12, 5))
    decision = apply_waivers("a.b", Outcome.FAIL, [expired, other_record, good], NOW, LAX, failures=BLOCKING)
    assert decision.outcome is Outcome.WAIVED and decision.waiver is good
    assert decision.notes == (
        "waiver ignored: it expired at 2026-11-22T00:00:00Z (owner bob)",
        "waiver for evidence sha256:" + "0" * 64 + " does not cover any of the rule's blocking results",
    )


def test_no_waiver_applies_without_evidence() -> None:
    good = Waiver("a.b", "accepted", "alice", dt.date(2026, 12, 5))
    decision = apply_waivers("a.b", Outcome.FAIL, [good], NOW, LAX, failures=BLOCKING, judged_evidence=False)
    assert decision.outcome is Outcome.FAIL and decision.applied == ()
    assert decision.notes == (
        "waiver not used: the run judged no evidence at all, and waivers never stand in for all of it",
    )


def test_a_far_future_waiver_never_overflows() -> None:
    forever = Waiver("a.b", "accepted", "alice", dt.date(9999, 12, 31))
    assert forever.active_at(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
    assert forever.ended_at() == "never"
    assert (
        apply_waivers("a.b", Outcome.FAIL, [forever], NOW, LAX, failures=BLOCKING).outcome is Outcome.WAIVED
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        forever.active_at(dt.datetime(2026, 1, 1))


# ---------------------------------------------------------------------------------------------
# The command line


def _gate(tmp_path: Path, waivers: Path) -> tuple[int, str, str, Path | None]:
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    args = [
        "gate",
        "--evidence",
        str(DEMO / "no-go"),
        "--environment",
        "prod",
        "--subject",
        f"ghcr.io/acme/shop@{digest}",
        "--commit",
        (DEMO / "COMMIT").read_text().strip(),
        "--now",
        "2026-11-20T12:00:00Z",
        "--replay",
        "--out",
        str(tmp_path / "out"),
        "--key",
        str(DEMO / "cosign.pub"),
        "--params",
        str(DEMO / "params.yaml"),  # the demo organisation's rule data
        "--waivers",
        str(waivers),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    out = tmp_path / "out"
    bundles = [p for p in out.glob("*") if p.is_dir()] if out.exists() else []
    return result.exit_code, result.stdout, result.stderr, bundles[0] if bundles else None


_WAIVER_YAML = (
    "- rule: vulnerabilities.fixable_within_window\n"
    "  reason: fix lands next release\n"
    "  owner: sam.release-manager\n"
    "  expires: {expires}\n"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            _WAIVER_YAML.replace("owner: sam.release-manager", "owner: {name: sam}"),
            "waivers[0].owner must be",
        ),
        (_WAIVER_YAML.replace("reason: fix lands next release", "reason: true"), "waivers[0].reason must be"),
        (_WAIVER_YAML.format(expires="soon"), "waivers[0].expires is not a date"),
        (
            _WAIVER_YAML.format(expires="2026-02-30"),
            "at line 4, column 12: a date or time that does not exist",
        ),
        (
            _WAIVER_YAML.format(expires="2026-12-05").replace("vulnerabilities.", "vulnerabilities "),
            "rule is not a rule id",
        ),
        (
            _WAIVER_YAML.format(expires="2026-12-05") + "  evidence-id: sha256:x\n",
            "unknown key 'evidence-id'",
        ),
        (_WAIVER_YAML.format(expires="2026-12-05") + "  owner: someone.else\n", "names the same key twice"),
        ("waivers: [rule: x\n", "waivers file is not valid YAML at line"),
        ("just text\n", "waivers must be a list, not a string"),
    ],
)
def test_gate_refuses_a_bad_waivers_file_with_exit_2(tmp_path: Path, text: str, problem: str) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(text, encoding="utf-8")
    code, out, err, bundle = _gate(tmp_path, waivers)
    assert code == 2, out + err
    assert err.startswith(f"affidavit: error: {waivers}")
    assert problem in err
    assert bundle is None
    assert "Traceback" not in err


def test_gate_applies_a_waiver_and_results_json_reads_as_the_file(tmp_path: Path) -> None:
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        _WAIVER_YAML.format(expires="2026-12-05")
        + "  approver: dana.security\n"
        + f"  subject: ghcr.io/acme/shop@{digest}\n"
        + "  findings: [CVE-2026-28877]\n",
        encoding="utf-8",
    )
    code, out, err, bundle = _gate(tmp_path, waivers)
    assert code == 1, out + err  # the demo's other failures still block
    assert bundle is not None
    results = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    written = {
        "rule": "vulnerabilities.fixable_within_window",
        "reason": "fix lands next release",
        "owner": "sam.release-manager",
        "expires": "2026-12-05",
        "approver": "dana.security",
        "subject": digest,
        "findings": ["CVE-2026-28877"],
    }
    assert results["waivers"] == [written]
    rule = next(r for r in results["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == "waived"
    assert rule["waiver"] == written
    assert (
        "waived by sam.release-manager until 2026-12-05 (approved by dana.security): fix lands next release"
        in rule["reason"]
    )
