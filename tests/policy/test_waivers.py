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
from affidavit.model.waiver import WAIVER_KEYS, Waiver, parse_waivers
from affidavit.policy.waivers import apply_waivers

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "evidence" / "demo"
SECRET = "ghp_" + "Zq8rT1uV2wX3yZ4aB5cD6eF7gH8iJ9kL0mN1"  # a token-shaped value: never echoed
EVIDENCE_ID = "sha256:" + "e9" * 32
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
    )
    doc = full.to_json()
    assert list(doc) == list(WAIVER_KEYS)
    assert doc["expires"] == "2026-12-05T10:00:00Z"  # to the second, cut rather than rounded up
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
    ],
)
def test_a_waiver_built_in_code_keeps_the_same_rules(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Waiver"):
        dataclasses.replace(Waiver("a.b", "r", "o", dt.date(2026, 12, 5)), **changes)


# ---------------------------------------------------------------------------------------------
# Applying waivers (the rules' side is in test_evaluate)

BLOCKING = (Violation("bad", (EVIDENCE_ID,)),)
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


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
    decision = apply_waivers("a.b", outcome, BLOCKING, [waiver], NOW)
    assert decision.outcome is (Outcome.WAIVED if waived else outcome)
    assert decision.waiver is (waiver if waived else None)
    assert decision.reason == ("waived by alice until 2026-12-05: accepted" if waived else None)


def test_the_first_usable_waiver_is_used_and_expired_ones_are_noted() -> None:
    expired = Waiver("a.b", "old", "bob", dt.date(2026, 11, 21))
    other_record = Waiver("a.b", "scoped", "carol", dt.date(2026, 12, 5), evidence_id="sha256:" + "0" * 64)
    good = Waiver("a.b", "accepted", "alice", dt.date(2026, 12, 5))
    decision = apply_waivers("a.b", Outcome.FAIL, BLOCKING, [expired, other_record, good], NOW)
    assert decision.outcome is Outcome.WAIVED and decision.waiver is good
    assert decision.notes == (
        "waiver ignored: it expired at 2026-11-22T00:00:00Z (owner bob)",
        "waiver for evidence sha256:" + "0" * 64 + " does not cover 1 other result(s)",
    )


def test_a_far_future_waiver_never_overflows() -> None:
    forever = Waiver("a.b", "accepted", "alice", dt.date(9999, 12, 31))
    assert forever.active_at(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
    assert forever.ended_at() == "never"
    assert apply_waivers("a.b", Outcome.FAIL, BLOCKING, [forever], NOW).outcome is Outcome.WAIVED
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
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(_WAIVER_YAML.format(expires="9999-12-31"), encoding="utf-8")
    code, out, err, bundle = _gate(tmp_path, waivers)
    assert code == 1, out + err  # the demo's other failures still block
    assert bundle is not None
    results = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    written = {
        "rule": "vulnerabilities.fixable_within_window",
        "reason": "fix lands next release",
        "owner": "sam.release-manager",
        "expires": "9999-12-31",
    }
    assert results["waivers"] == [written]
    rule = next(r for r in results["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == "waived"
    assert rule["waiver"] == written
    assert "waived by sam.release-manager until 9999-12-31: fix lands next release" in rule["reason"]
