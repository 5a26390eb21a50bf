"""The bundle's copy of a JSON artefact stored as it is (``unchanged_copy``, issue 14), decided
from the collector's own parse.

A copy may only be stored as it is when ``mask_document`` would give the raw bytes back: whenever
``mask_tree`` changes a document, the copy must go through the masking, whichever way the text is
written (as ``json.dumps`` writes it, with every character escaped, with ``\\/`` for a slash).
The tests build documents meant to slip past it (a credential seen only once its JSON escapes
are decoded, a secret name in camel case or with a Kelvin sign), and a seeded random mix of the
pieces the masking reacts to, and check that implication on each.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.bundle.redact import redacted_copy
from affidavit.collectors import collect_paths
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.kinds.secrets import (
    AS_IS,
    SECRET_KEY_ENV,
    mask_document,
    mask_tree,
    redact_secret_scan,
    unchanged_copy,
)
from affidavit.collectors.registry import detect

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
NOW = "2026-11-20T12:00:00Z"


@pytest.fixture(autouse=True)
def _no_organisation_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)


def _escape_every_character(value: Any) -> str:
    """``value`` as JSON in which every character of every string and key is a ``\\uXXXX`` escape."""

    def string(text: str) -> str:
        return (
            '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in text) + '"'
        )

    def write(node: Any) -> str:
        if isinstance(node, dict):
            return "{" + ",".join(f"{string(k)}:{write(v)}" for k, v in node.items()) + "}"
        if isinstance(node, list):
            return "[" + ",".join(write(v) for v in node) + "]"
        if isinstance(node, str):
            return string(node)
        return json.dumps(node)

    return write(value)


def _writings(value: Any) -> list[str]:
    """Ways a tool may write ``value`` as JSON."""
    plain = json.dumps(value, ensure_ascii=False)
    return [
        plain,
        json.dumps(value, ensure_ascii=False, separators=(",", ":")),
        json.dumps(value),  # non-ASCII as \uXXXX
        json.dumps(value, indent=2).replace("/", "\\/"),  # PHP's json_encode escapes every slash
        _escape_every_character(value),
    ]


def _stored_as_is(text: str) -> bool:
    """Whether the gate's collection tells the bundle to store the JSON document ``text`` as it is."""
    doc = Artefact("doc.json", text.encode("utf-8", "surrogatepass"))
    doc.json()  # the collector's parse, which ``unchanged_copy`` reads
    return unchanged_copy(doc, None) == AS_IS


def _assert_never_skips_a_change(value: Any) -> None:
    changed = mask_tree(value) is not value
    for text in _writings(value):
        assert json.loads(text) == value
        if changed:
            assert not _stored_as_is(text), text


# Documents that mask_tree changes, each hiding what changes it in a way a byte scan could miss.
NEEDS_MASKING: list[Any] = [
    {"description": f"key {AWS_KEY_ID} in a comment"},
    {"url": "https://shop:hunter2hunter2@db.example.com/shop"},
    {"p\u0061ssword": "hunter22"},  # the key, escaped in one writing
    {"apiKey": "abcd1234efgh"},
    {"api-key": "abcd1234efgh"},
    {"api.key": "abcd1234efgh"},
    {"API_TOKEN": "abcd1234efgh"},
    {"api\u212aey": "abcd1234efgh"},  # KELVIN SIGN: lower-cases to k
    {"passwords": ["hunter22", "hunter33"]},
    {"tokens_list": [["abcd1234"]]},
    {"master_user_secret": [{"x": 1}, "abcd1234"]},
    {"cmd": 'export PASSWORD="hunter22"'},  # the quote is \" in the text
    {"cmd": "password:\t'hunter22'"},  # the tab is \t in the text
    {"cmd": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
    {"password=hunter22": 1},  # a key is masked too
    {"x token=abcd password": 1},  # two words in one key
    {"password\U0001f600": "hunter22"},  # a surrogate pair in the \u writing
    {"nested": {"deeper": [{"client_secret": "s3cr3t-value"}]}},
    {"ghp": "ghp_" + "a" * 36},
    {"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"},
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"],
    {"\u0130password": "hunter22"},  # a letter that lower-cases to two characters
]

# Documents with nothing to mask: settings that look like secrets, masked values, references.
NOTHING_TO_MASK: list[Any] = [
    {"name": "left-pad", "purl": "pkg:npm/left-pad@1.3.0?arch=x64", "url": "https://example.com/a"},
    {"kms_key_id": "arn:aws:kms:eu-west-1:1:key/abc", "password_length": 12, "http_tokens": "required"},
    {"password": "(sensitive)", "secret": {"nested": "value"}, "token": None, "api_key": 12},
    {"password": "${var.db_password}", "secret_name": "prod/db", "key": "value", "tokens": ["abcdef"]},
    {"description": "rotate the key every 90 days; the token endpoint is /oauth/token"},
    [1, 2.5, True, None, "plain"],
]


@pytest.mark.parametrize("value", NEEDS_MASKING, ids=range(len(NEEDS_MASKING)))
def test_a_document_mask_tree_changes_is_never_stored_as_it_is(value: Any) -> None:
    assert mask_tree(value) is not value, "the case no longer exercises a masking"
    _assert_never_skips_a_change(value)


@pytest.mark.parametrize("value", NOTHING_TO_MASK, ids=range(len(NOTHING_TO_MASK)))
def test_a_document_without_secrets_is_stored_as_it_is_however_it_is_written(value: Any) -> None:
    assert mask_tree(value) is value
    for text in _writings(value):
        assert _stored_as_is(text), text


_PIECES = [
    "password", "Password", "PASS", "passwd", "secret", "Secret", "token", "TOKEN", "key", "Key", "apiKey",
    "api_key", "api-key", "access.key", "private", "credential", "auth", "pwd", "priv", "_id", "_length", "_arn",
    "=", ":", ": ", " = ", ":=", "=>", '"', "'", "\t", "\n", "\\", "/", "://", "@", "user", "hunter22",
    "AKIA", "IOSFODNN7EXAMPLE", "ghp_", "a" * 36, "eyJ", "xoxb-", "1234567890", "http", "s", "${", "}", " ",
    "(sensitive)", "required", "REDACTED", "\u212a", "é", "\U0001f600",
]  # fmt: skip


def _random_string(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 5)))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.35:
        return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and roll < 0.55:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.9:
        return _random_string(rng)
    return rng.choice([None, True, 7, 1.5])


def test_random_documents_never_skip_a_change() -> None:
    rng = random.Random(14)
    changed = clean = 0
    for _ in range(3000):
        value = {_random_string(rng): _random_value(rng) for _ in range(rng.randint(1, 3))}
        _assert_never_skips_a_change(value)
        if mask_tree(value) is value:
            clean += 1
        else:
            changed += 1
    assert changed > 300 and clean > 300  # both sides were exercised


def test_a_credential_seen_only_after_unescaping_is_never_stored_as_it_is() -> None:
    raw = '{"note": "\\u0041KIAIOSFODNN7EXAMPLE", "u": "https:\\/\\/a:hunter22@h"}'
    assert AWS_KEY_ID not in raw and "://" not in raw
    assert not _stored_as_is(raw)
    assert not _stored_as_is('{"u": "https:\\/\\/a:hunter22@h"}')
    assert not _stored_as_is('{"p\\u0061ssword": "hunter22"}')
    assert _stored_as_is('{"p\\u0061ssword": "(sensitive)"}')


# ---------------------------------------------------------------------------------------------
# The bundle's copy, stored as it is on the parse's word


def _sbom(description: str) -> bytes:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "container", "name": "shop", "version": "1.0"}},
        "components": [
            {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"},
            {"type": "library", "name": "right-pad", "version": "1.0.0", "description": description},
        ],
    }
    return json.dumps(bom, indent=2).encode()


def test_an_sbom_without_secrets_is_stored_as_its_own_bytes() -> None:
    raw = _sbom("pads strings on the right")
    doc = Artefact("sbom.cdx.json", raw)
    fmt = detect(doc)
    assert fmt.redact is None
    assert unchanged_copy(doc, fmt.redact) == AS_IS
    assert mask_document(raw, "sbom.cdx.json") == raw


def test_an_sbom_whose_credential_shows_only_after_unescaping_is_masked_by_the_bundle() -> None:
    raw = _sbom("deploy with \\u0041KIAIOSFODNN7EXAMPLE").replace(b"\\\\u0041", b"\\u0041")
    assert AWS_KEY_ID.encode() not in raw and AWS_KEY_ID in raw.decode("unicode_escape")
    doc = Artefact("sbom.cdx.json", raw)
    fmt = detect(doc)
    assert unchanged_copy(doc, fmt.redact) is None  # not proven clean: the bundle masks it
    stored = mask_document(raw, "sbom.cdx.json")
    assert AWS_KEY_ID not in json.dumps(json.loads(stored), ensure_ascii=False)


def test_a_scan_report_naming_a_field_it_quotes_is_left_to_its_hook() -> None:
    report = {"SchemaVersion": 2, "ArtifactName": "shop", "Results": [{"Target": "app", "Secrets": []}]}
    raw = json.dumps(report).encode()
    doc = Artefact("trivy.json", raw)
    doc.json()
    assert unchanged_copy(doc, redact_secret_scan) is None
    clean = json.dumps({"SchemaVersion": 2, "ArtifactName": "shop", "Results": [{"Target": "app"}]}).encode()
    clean_doc = Artefact("trivy.json", clean)
    assert unchanged_copy(clean_doc, redact_secret_scan) == AS_IS
    assert redact_secret_scan(clean, "trivy.json") == clean


def test_other_hooks_and_other_text_are_left_to_the_bundle() -> None:
    raw = _sbom("plain")
    doc = Artefact("x.json", raw)
    assert unchanged_copy(doc, lambda data, source: data) is None
    assert unchanged_copy(Artefact("main.tf", b'resource "x" "y" {}\n'), None) is None
    assert unchanged_copy(Artefact("lines.json", b'{"a": 1}\n{"b": 2}\n'), None) is None  # JSON Lines


@pytest.mark.parametrize(
    ("description", "kept"), [("plain words", True), ("\\u0041KIAIOSFODNN7EXAMPLE", False)]
)
def test_the_gate_collection_hands_the_bundle_the_copy_it_would_make(
    tmp_path: Path, description: str, kept: bool
) -> None:
    path = tmp_path / "sbom.cdx.json"
    raw = _sbom(description).replace(b"\\\\u0041", b"\\u0041")
    path.write_bytes(raw)
    collection = collect_paths([path], CollectOptions(now=NOW, stored_copies=True))
    assert not collection.errors
    (record,) = collection.evidence
    made = collection.stored.get(record.id)
    assert made == (AS_IS if kept else None)  # the raw bytes are not held until the bundle
    stored, changed = redacted_copy(record, raw, made)
    assert changed is not kept
    assert stored == mask_document(raw, record.source)  # what the bundle stored before
    assert AWS_KEY_ID not in json.dumps(json.loads(stored), ensure_ascii=False)


def test_the_bundle_writer_stores_the_raw_bytes_for_a_copy_proven_unchanged(tmp_path: Path) -> None:
    from affidavit.bundle.write import _stored_copy  # the writer's one place that reads the file

    path = tmp_path / "sbom.cdx.json"
    raw = _sbom("plain words")
    path.write_bytes(raw)
    collection = collect_paths([path], CollectOptions(now=NOW, stored_copies=True))
    (record,) = collection.evidence
    assert collection.stored[record.id] == AS_IS
    assert _stored_copy(record, path, collection.stored[record.id]) == raw


def test_each_distinct_string_is_scanned_once_and_the_candidates_are_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 14: a plan holds each value many times (``before`` and ``prior_state``, the same tags
    on every resource); the scan for credential shapes reads each distinct string once, and finds
    the same strings as a scan of them all, wherever the repeats fall (a credential repeated, one
    split from its name by the join, a name and value in one string)."""
    import affidavit.collectors.kinds.secrets as secrets

    scanned: list[int] = []
    real = secrets._triggered

    def counted(text: str) -> set[int]:
        scanned.append(len(text))
        return real(text)

    monkeypatch.setattr(secrets, "_triggered", counted)
    pieces = [AWS_KEY_ID, "password = hunter2hunter2", "us-east-1", "password", "= x", "Name", "prod", ""]
    rng = random.Random(14)
    strings = [rng.choice(pieces) for _ in range(5000)]
    found = secrets.credential_candidates(strings)
    assert scanned == [sum(len(p) + 1 for p in set(strings)) - 1]
    assert found == {AWS_KEY_ID, "password = hunter2hunter2"}
    everything = "\n".join(strings)  # the scan of every string, as it was before
    starts = real(everything)
    assert found == {s for s in strings if real(s)} and len(starts) >= 1000
    assert mask_tree({"v": strings}) == {"v": [mask_tree(s) for s in strings]}
