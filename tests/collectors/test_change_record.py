"""Change records: affidavit.change-record/v1 (strict), GitHub deployment reviews, the documented example.

The example inputs in ``tests/golden/change-record/examples/`` were written for these tests (they
are not copies of anyone's data); the example in ``docs/change-record.md`` is read from the doc
itself, so the documentation cannot drift from the reader.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.formats.change_record import FORMATS
from affidavit.collectors.interface import NO, CollectOptions
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.conftest import validate_record

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "change-record"
EXAMPLES = GOLDEN / "examples"
DOC = REPO / "docs" / "change-record.md"
NOW = "2026-11-20T12:00:00Z"
OPTIONS = CollectOptions(now=NOW)
OWN_EXAMPLES = ["prod-release-approved.json", "staging-self-approved-then-rejected.json"]

_OWN_MODULES = (
    "affidavit.collectors.formats.terraform_plan",
    "affidavit.collectors.formats.terraform_config",
    "affidavit.collectors.formats.branch_protection",
    "affidavit.collectors.formats.change_record",
)


@pytest.fixture(autouse=True)
def _own_formats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run detection over this area's formats only, so that these tests do not depend on others'."""
    monkeypatch.setattr(registry, "_MODULES", _OWN_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def _collect_bytes(name: str, raw: bytes) -> dict[str, Any]:
    """The record of ``raw`` read under ``name``, as JSON."""
    return collect_document(Artefact(name, raw), OPTIONS).to_json()


def _collect_example(name: str) -> dict[str, Any]:
    """The record of one example file, as JSON."""
    return _collect_bytes(f"examples/{name}", (EXAMPLES / name).read_bytes())


def _doc_example() -> dict[str, Any]:
    """The first JSON example of docs/change-record.md."""
    match = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "docs/change-record.md has no ```json example"
    value: dict[str, Any] = json.loads(match.group(1))
    return value


def _utc(text: str) -> str:
    """An RFC 3339 time in the one written form: UTC, to the second (computed independently)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _valid() -> dict[str, Any]:
    """A valid change record to break in tests."""
    return json.loads((EXAMPLES / "prod-release-approved.json").read_bytes())  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", OWN_EXAMPLES)
def test_own_examples(name: str) -> None:
    """The example change records give the facts computed here from them."""
    raw = json.loads((EXAMPLES / name).read_bytes())
    record = _collect_example(name)
    data = record["data"]
    assert (record["kind"], record["format"], record["format_version"]) == (
        EvidenceKind.CHANGE_RECORD.value,
        "affidavit-change-record",
        "v1",
    )
    decisions = [a["decision"] for a in raw["approvals"]]
    requester = raw["requested_by"].lower()
    assert data["id"] == raw["id"] and data["environment"] == raw["environment"]
    assert data["requested_by"] == raw["requested_by"] and data["ticket"] == raw.get("ticket")
    assert data["approved"] is ("approved" in decisions and "rejected" not in decisions)
    assert data["self_approved"] is any(
        a["decision"] == "approved" and a["approver"].lower() == requester for a in raw["approvals"]
    )
    written = [
        dict(a, approved_at=_utc(a["approved_at"]), bot=a["approver"].lower().endswith("[bot]"))
        for a in raw["approvals"]
    ]
    assert sorted(map(json.dumps, data["approvals"])) == sorted(map(json.dumps, written))
    assert [a["approved_at"] for a in data["approvals"]] == sorted(a["approved_at"] for a in written)
    assert record["effective_at"] == _utc(raw["created_at"]) == data["requested_at"]
    subject = raw.get("subject") or {}
    assert record["subject"] == {
        "name": subject.get("name"),
        "version": None,
        "digest": subject.get("digest"),
    }


def test_self_approval_and_rejection() -> None:
    """A rejection makes it unapproved; a case-insensitive self-approval is flagged."""
    data = _collect_example("staging-self-approved-then-rejected.json")["data"]
    assert data["approved"] is False  # someone rejected it
    assert data["self_approved"] is True  # "lchen" approved a change "LChen" requested


def test_approvals_are_sorted_by_time_not_by_how_the_time_is_written() -> None:
    """An approval at 08:40+01:00 (07:40 UTC) came before one at 07:45Z, and is listed first."""
    value = _valid()
    value["approvals"] = [
        {"approver": "zoe", "approved_at": "2026-11-19T07:45:00Z", "decision": "approved"},
        {"approver": "yann", "approved_at": "2026-11-19T08:40:00.250+01:00", "decision": "approved"},
    ]
    value["created_at"] = "2026-11-19T08:05:00+01:00"
    record = _collect_bytes("offsets.json", json.dumps(value).encode())
    assert [(a["approver"], a["approved_at"]) for a in record["data"]["approvals"]] == [
        ("yann", "2026-11-19T07:40:00Z"),
        ("zoe", "2026-11-19T07:45:00Z"),
    ]
    assert record["effective_at"] == "2026-11-19T07:05:00Z"


def test_documented_example_is_valid() -> None:
    """The documented example is read as documented."""
    example = _doc_example()
    assert example["schema"] == "affidavit.change-record/v1"
    record = _collect_bytes("docs-example.json", json.dumps(example).encode())
    assert record["data"]["approved"] is True and record["data"]["self_approved"] is False
    assert [a["approver"] for a in record["data"]["approvals"]] == ["akim", "jdoe"]


def test_no_approvals_is_not_approved() -> None:
    """No approvals: not approved, with a problem."""
    value = dict(_valid(), approvals=[])
    record = _collect_bytes("none.json", json.dumps(value).encode())
    assert record["data"]["approved"] is False and record["data"]["self_approved"] is False
    assert any("has not been approved" in p for p in record["problems"])


def test_every_error_is_reported_at_once() -> None:
    """Every error of a file is in one message."""
    value = _valid()
    value["aprovals"] = value.pop("approvals")
    value["environment"] = ""
    value["created_at"] = "2026-11-19 14:58"
    value.pop("id")
    with pytest.raises(InputError) as info:
        _collect_bytes("bad.json", json.dumps(value).encode())
    message = info.value.diagnostics()
    assert "4 errors" not in message  # there are five
    for part in (
        "5 errors",
        "unknown key(s) aprovals",
        "$.id: expected a non-empty string, found missing",
        "$.environment: expected a non-empty string",
        "$.created_at: a string of 16 characters is not an RFC 3339",
        "$.approvals: expected an array (possibly empty), found missing",
        "docs/change-record.md",
    ):
        assert part in message, part
    assert "2026-11-19 14:58" not in message


def test_bad_approvals() -> None:
    """Bad approval entries are each named."""
    value = _valid()
    value["approvals"] = [
        {"approver": "jdoe", "approved_at": "2026-11-19T16:05:12", "decision": "approved"},
        {"approver": "akim", "approved_at": "2026-11-19T16:05:12Z", "decision": "lgtm", "note": "x"},
        "bob",
    ]
    with pytest.raises(InputError) as info:
        _collect_bytes("bad.json", json.dumps(value).encode())
    message = info.value.diagnostics()
    assert "$.approvals[0].approved_at: a string of 19 characters is not an RFC 3339" in message
    assert "$.approvals[1].decision: a string of 4 characters is not 'approved' or 'rejected'" in message
    assert "2026-11-19T16:05:12'" not in message and "lgtm" not in message
    assert "$.approvals[1]: unknown key(s) note" in message
    assert "$.approvals[2]: expected an object, found a string" in message


def test_subject_digest_must_be_a_sha2_digest() -> None:
    """The subject digest must be a lower-case sha2 digest; the message says why without quoting it."""
    value = _valid()
    value["subject"] = {"name": "x", "digest": "md5:0cc175b9c0f1b6a831c399e269772661", "tag": "1"}
    with pytest.raises(InputError) as info:
        _collect_bytes("bad.json", json.dumps(value).encode())
    message = info.value.diagnostics()
    assert "$.subject.digest: unknown digest algorithm (known: sha256, sha384, sha512)" in message
    assert "0cc175b9c0f1b6a831c399e269772661" not in message
    assert "$.subject: unknown key(s) tag" in message


HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("digest", "reason"),
    [
        ("sha256:" + HEX[:40], "sha256 takes 64 hex digits, not 40"),  # a git commit id passed as sha256
        ("sha256:" + HEX + "00", "sha256 takes 64 hex digits, not 66"),
        ("sha512:" + HEX, "sha512 takes 128 hex digits, not 64"),
        ("sha256:" + HEX[:63] + "g", "not hexadecimal"),
        ("SHA256:" + HEX.upper(), "not in the written form"),
        (" sha256:" + HEX, "not in the written form"),
        ("ghcr.io/acme/shop@sha256:" + HEX, "an image reference (name@digest), not a digest"),
        (HEX, "not in the written form"),
    ],
)
def test_subject_digest_follows_the_one_digest_rule(digest: str, reason: str) -> None:
    """Only ``<sha2 algorithm>:<hex of its length>``, lower case and nothing around it, is a subject digest."""
    value = _valid()
    value["subject"] = {"name": "ghcr.io/acme/shop", "digest": digest}
    with pytest.raises(InputError) as info:
        _collect_bytes("bad.json", json.dumps(value).encode())
    message = info.value.diagnostics()
    assert f"$.subject.digest: {reason}" in message, message
    assert digest.strip() not in message


@pytest.mark.parametrize("digest", ["sha256:" + HEX, "sha384:" + HEX[:48] * 2, "sha512:" + HEX * 2])
def test_subject_digest_of_each_sha2_algorithm_is_read(digest: str) -> None:
    """A subject digest in the written form, of any SHA-2 algorithm the rule knows, is the record's subject."""
    value = _valid()
    value["subject"] = {"name": "ghcr.io/acme/shop", "digest": digest}
    record = _collect_bytes("change.json", json.dumps(value).encode())
    assert record["subject"]["digest"] == digest


def test_unknown_schema_version() -> None:
    """An unknown schema version is refused."""
    value = dict(_valid(), schema="affidavit.change-record/v2")
    with pytest.raises(InputError, match="schema a string of 26 characters is not supported") as info:
        _collect_bytes("v2.json", json.dumps(value).encode())
    assert "change-record/v2" not in info.value.diagnostics()


def test_github_deployment_reviews() -> None:
    """GitHub's run approvals become a change record with its gaps said."""
    raw = json.loads((EXAMPLES / "github-run-approvals.json").read_bytes())
    record = _collect_example("github-run-approvals.json")
    assert record["format"] == "github-deployment-approvals"
    data = record["data"]
    decided = [r for r in raw if r["state"] != "pending"]
    assert data["approvals"] == [
        {
            "approver": r["user"]["login"],
            "approved_at": None,
            "decision": r["state"],
            "bot": r["user"].get("type") == "Bot" or r["user"]["login"].endswith("[bot]"),
        }
        for r in decided
    ]
    assert data["requested_at"] is None
    assert data["environment"] == "production"
    assert data["approved"] is True and data["self_approved"] is None
    assert (data["id"], data["requested_by"], data["ticket"]) == (None, None, None)
    assert record["subject"]["name"] == "acme/payments-api"
    assert any("1 review(s) are 'pending'" in p for p in record["problems"])
    assert any("names neither the run" in p for p in record["problems"])


def test_github_rejection_and_several_environments() -> None:
    """A GitHub rejection, and reviews over several environments."""
    reviews = [
        {
            "state": "approved",
            "comment": "",
            "user": {"login": "jdoe"},
            "environments": [{"name": "staging"}],
        },
        {
            "state": "rejected",
            "comment": "no",
            "user": {"login": "akim"},
            "environments": [{"name": "production"}],
        },
    ]
    record = _collect_bytes("reviews.json", json.dumps(reviews).encode())
    assert record["data"]["approved"] is False and record["data"]["environment"] is None
    assert any("several environments (production, staging)" in p for p in record["problems"])


@pytest.mark.parametrize("value", [[], {}, [{"state": "approved"}], {"schema": "other/v1"}])
def test_does_not_claim_other_json(value: Any) -> None:
    """Other JSON is not claimed."""
    doc = Artefact("x.json", json.dumps(value).encode())
    assert all(fmt.detect(doc) == NO for fmt in FORMATS)


def _check_shape(record: dict[str, Any]) -> None:
    """Validate a record: the public schema, then the change-record data keys."""
    validate_record(record)
    assert record["schema"] == "affidavit.evidence/v1" and record["kind"] == "change-record"
    assert list(record["data"]) == [
        "id",
        "environment",
        "approvals",
        "approved",
        "self_approved",
        "ticket",
        "requested_by",
        "requested_at",
    ]
    assert all(set(a) == {"approver", "approved_at", "decision", "bot"} for a in record["data"]["approvals"])


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_records_have_the_change_record_shape(name: str) -> None:
    """The record of every example (the inputs of the change-record goldens among them) has the shape."""
    _check_shape(_collect_example(name))


@pytest.mark.parametrize(
    ("login", "account_type", "bot"),
    [
        ("github-actions[bot]", "Bot", True),
        ("Release-Train[BOT]", None, True),  # the suffix in any case
        ("deploy-app", "Bot", True),  # GitHub's user type says so without the suffix
        ("sam", "User", False),
        ("bot-builder", "User", False),  # "bot" elsewhere in a login is a person's name
    ],
)
def test_bot_approvers_are_marked(login: str, account_type: str | None, bot: bool) -> None:
    """GitHub bot accounts: user type Bot, logins ending in [bot] (GitHub docs on apps)."""
    reviews = [
        {
            "state": "approved",
            "comment": "",
            "user": {"login": login, "type": account_type},
            "environments": [],
        }
    ]
    assert _collect_bytes("reviews.json", json.dumps(reviews).encode())["data"]["approvals"][0]["bot"] is bot
    own = _valid()
    own["approvals"] = [{"approver": login, "approved_at": "2026-11-20T10:00:00Z", "decision": "approved"}]
    assert _collect_bytes("own.json", json.dumps(own).encode())["data"]["approvals"][0]["bot"] is (
        login.lower().endswith("[bot]")
    )
