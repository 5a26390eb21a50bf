"""JSON inside an artefact is parsed as strictly as the artefact: a key named twice is refused.

Python's own parser keeps the last of two equal keys, another reader may keep the first, so a
second ``"subject"`` in a signed in-toto Statement, a second ``"tlogs"`` in a trusted root or a
second ``"spec"`` in a Rekor entry body would let two readers see two different documents. Each
case starts from a real file of the corpus, shows that the plain parser would be fooled, and
checks that ``affidavit collect`` refuses the file (exit 3) naming it and the place, without
quoting anything from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from affidavit.artefact import Artefact
from affidavit.cli import main
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from affidavit.errors import InputError
from affidavit.signatures.sigstore import message_digest, statement_digests
from tests.conftest import CORPUS, NOW, object_text

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

DSSE_ENVELOPE = CORPUS / "in-toto" / "grype-alpine.att.json"
CONFORMANCE = CORPUS / "sigstore" / "sigstore-conformance"
DSSE_BUNDLE = CONFORMANCE / "happy-path-intoto-in-dsse-v3" / "bundle.sigstore.json"
MESSAGE_BUNDLE = CONFORMANCE / "happy-path-v0.3" / "bundle.sigstore.json"
PUBLIC_GOOD = CORPUS / "sigstore" / "trusted_root.public-good.json"
COSIGN_VERIFY = CORPUS / "sigstore" / "chainguard-hello-world-cosign-verify-2022-11.json"
COSIGN_MANIFEST = CORPUS / "sigstore" / "conforma-cli-cosign-signature-manifest.json"
COSIGN_PAYLOAD = CORPUS / "sigstore" / "conforma-cli-cosign-simplesigning-payload.json"
ATTACKER = "f" * 64
REFUSAL = "names the same key twice"


def b64(text: str | bytes) -> str:
    """Standard base64 of ``text`` (UTF-8), as DSSE and Rekor carry their payloads."""
    return base64.b64encode(text.encode("utf-8") if isinstance(text, str) else text).decode("ascii")


def statement_with_two_subjects(statement: dict[str, Any], attacker_first: bool) -> str:
    """``statement`` with a second ``subject`` naming the attacker's digest, before or after the real one."""
    forged = [{"name": "forged", "digest": {"sha256": ATTACKER}}]
    pairs: list[tuple[str, Any]] = []
    for key, value in statement.items():
        if key == "subject":
            pairs += (
                [("subject", forged), ("subject", value)]
                if attacker_first
                else [
                    ("subject", value),
                    ("subject", forged),
                ]
            )
        else:
            pairs.append((key, value))
    return object_text(pairs)


def collect_cli(*args: str) -> Result:
    """``affidavit collect --format json`` as a user runs it."""
    return CliRunner().invoke(main, ["collect", "--format", "json", "--now", NOW, *args])


def assert_refused(result: Result, path: Path, *where: str) -> None:
    """Exit 3, no record, one error naming ``path`` and each of ``where``, quoting no forged value."""
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout) == []
    errors = [line for line in result.stderr.splitlines() if line.startswith("affidavit: error:")]
    assert len(errors) == 1, result.stderr
    assert str(path) in errors[0] and REFUSAL in errors[0], errors[0]
    for fragment in where:
        assert fragment in errors[0], errors[0]
    assert ATTACKER not in result.output and "forged" not in result.output


# ---------------------------------------------------------------------------------------------
# DSSE envelopes and in-toto Statements


def test_the_unchanged_envelope_is_collected() -> None:
    """The control: the corpus envelope itself is collected, with the subject of its Statement."""
    result = collect_cli(str(DSSE_ENVELOPE))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    statement = json.loads(base64.b64decode(json.loads(DSSE_ENVELOPE.read_bytes())["payload"]))
    assert record["subject"]["digest"] == "sha256:" + statement["subject"][0]["digest"]["sha256"]


@pytest.mark.parametrize("attacker_first", [True, False], ids=["attacker-first", "attacker-second"])
def test_dsse_statement_naming_subject_twice_is_refused(tmp_path: Path, attacker_first: bool) -> None:
    """A DSSE envelope whose in-toto Statement names ``subject`` twice is refused, either order."""
    envelope = json.loads(DSSE_ENVELOPE.read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    forged = statement_with_two_subjects(statement, attacker_first)
    kept = json.loads(forged)["subject"][0]["digest"]["sha256"]  # the plain parser keeps the last
    assert kept == (statement["subject"][0]["digest"]["sha256"] if attacker_first else ATTACKER)
    envelope["payload"] = b64(forged)
    path = tmp_path / "attestation.json"
    path.write_text(json.dumps(envelope))
    result = collect_cli("--digest", f"sha256:{ATTACKER}", str(path))
    assert_refused(result, path, "$.payload", "DSSE payload")


def test_the_digests_of_a_statement_naming_subject_twice_are_none() -> None:
    """``statement_digests`` (what signatures are checked against) believes neither subject."""
    statement = json.loads(base64.b64decode(json.loads(DSSE_ENVELOPE.read_bytes())["payload"]))
    assert statement_digests(json.dumps(statement).encode()) == [
        "sha256:" + statement["subject"][0]["digest"]["sha256"]
    ]
    for attacker_first in (True, False):
        assert statement_digests(statement_with_two_subjects(statement, attacker_first).encode()) == []


def test_first_line_of_json_lines_naming_a_key_twice_is_refused(tmp_path: Path) -> None:
    """A JSON Lines file (``.intoto.jsonl``) whose first envelope names ``payload`` twice is refused."""
    envelope = json.loads(DSSE_ENVELOPE.read_bytes())
    forged = object_text(
        [
            ("payloadType", envelope["payloadType"]),
            ("payload", b64(json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": []}))),
            ("payload", envelope["payload"]),
            ("signatures", envelope["signatures"]),
        ]
    )
    path = tmp_path / "provenance.intoto.jsonl"
    path.write_text(forged + "\n" + json.dumps(envelope) + "\n")
    result = collect_cli(str(path))
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout) == []
    assert str(path) in result.stderr


# ---------------------------------------------------------------------------------------------
# Sigstore bundles and trusted roots


def test_the_unchanged_dsse_bundle_is_collected() -> None:
    """The control: the conformance DSSE bundle is collected as provenance about its subject."""
    result = collect_cli(str(DSSE_BUNDLE))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    bundle = json.loads(DSSE_BUNDLE.read_bytes())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    assert record["kind"] == "provenance"
    assert record["subject"]["digest"] == "sha256:" + statement["subject"][0]["digest"]["sha256"]


def test_sigstore_bundle_naming_its_envelope_twice_is_refused(tmp_path: Path) -> None:
    """A Sigstore bundle with a second ``dsseEnvelope`` (another Statement) is refused."""
    bundle = json.loads(DSSE_BUNDLE.read_bytes())
    other = dict(bundle["dsseEnvelope"])
    other["payload"] = b64(json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": []}))
    path = tmp_path / "bundle.sigstore.json"
    path.write_text(
        object_text(
            [
                ("mediaType", bundle["mediaType"]),
                ("verificationMaterial", bundle["verificationMaterial"]),
                ("dsseEnvelope", bundle["dsseEnvelope"]),
                ("dsseEnvelope", other),
            ]
        )
    )
    assert_refused(collect_cli(str(path)), path, "line 1")


@pytest.mark.parametrize("attacker_first", [True, False], ids=["attacker-first", "attacker-second"])
def test_sigstore_bundle_whose_statement_names_subject_twice_is_refused(
    tmp_path: Path, attacker_first: bool
) -> None:
    """The in-toto Statement inside a Sigstore bundle's envelope naming ``subject`` twice is refused."""
    bundle = json.loads(DSSE_BUNDLE.read_bytes())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    bundle["dsseEnvelope"]["payload"] = b64(statement_with_two_subjects(statement, attacker_first))
    path = tmp_path / "bundle.sigstore.json"
    path.write_text(json.dumps(bundle))
    assert_refused(collect_cli(str(path)), path, "$.dsseEnvelope.payload")


def test_the_unchanged_trusted_root_is_used(tmp_path: Path) -> None:
    """The control: a copy of the public-good root verifies the conformance message-signature case."""
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(PUBLIC_GOOD.read_bytes())))
    result = collect_cli(
        "--trusted-root", str(root), "--artifact", str(CONFORMANCE / "a.txt"), str(MESSAGE_BUNDLE)
    )
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["data"]["verifications"][0]["checks"]["signature"] is True


@pytest.mark.parametrize("key", ["tlogs", "certificateAuthorities", "mediaType"])
def test_trusted_root_naming_a_key_twice_is_refused(tmp_path: Path, key: str) -> None:
    """A trusted root whose second ``tlogs`` (or CA list, or media type) would replace the first is refused."""
    value = json.loads(PUBLIC_GOOD.read_bytes())
    pairs = list(value.items()) + [(key, value[key] if key == "mediaType" else [])]
    root = tmp_path / "trusted_root.json"
    root.write_text(object_text(pairs))
    result = collect_cli(
        "--trusted-root", str(root), "--artifact", str(CONFORMANCE / "a.txt"), str(MESSAGE_BUNDLE)
    )
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout) == []
    assert str(root) in result.stderr and "trusted root" in result.stderr and REFUSAL in result.stderr


def test_log_entry_body_naming_a_key_twice_gives_no_digest() -> None:
    """A Rekor body naming ``hash`` twice yields no signed digest; the same body written once does."""
    bundle = json.loads(MESSAGE_BUNDLE.read_bytes())
    del bundle["messageSignature"]["messageDigest"]  # so that the digest comes from the log entry
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    real = body["spec"]["data"]["hash"]
    assert message_digest(bundle) == bytes.fromhex(real["value"])
    forged = {"algorithm": "sha256", "value": ATTACKER}
    data = object_text([("hash", real), ("hash", forged)])
    spec = object_text([("data", data), ("signature", body["spec"]["signature"])])
    entry["canonicalizedBody"] = b64(
        object_text([("apiVersion", body["apiVersion"]), ("kind", body["kind"]), ("spec", spec)])
    )
    assert json.loads(base64.b64decode(entry["canonicalizedBody"]))["spec"]["data"]["hash"] == forged
    assert message_digest(bundle) is None


# ---------------------------------------------------------------------------------------------
# cosign


def test_cosign_verify_output_with_a_rekor_body_naming_a_key_twice_is_refused(tmp_path: Path) -> None:
    """A ``cosign verify`` claim whose logged Rekor body names ``spec`` twice is refused."""
    claims = json.loads(COSIGN_VERIFY.read_bytes())
    payload = claims[0]["optional"]["Bundle"]["Payload"]
    body = json.loads(base64.b64decode(payload["body"]))
    payload["body"] = b64(
        object_text(
            [("apiVersion", body["apiVersion"]), ("kind", body["kind"]), ("spec", {}), ("spec", body["spec"])]
        )
    )
    path = tmp_path / "cosign-verify.json"
    path.write_text(json.dumps(claims))
    assert_refused(collect_cli(str(path)), path, "$[0].optional.Bundle.Payload.body", "Rekor entry body")


def test_cosign_manifest_with_a_bundle_annotation_naming_a_key_twice_is_refused(tmp_path: Path) -> None:
    """A ``.sig`` manifest whose Rekor bundle annotation names ``Payload`` twice is refused."""
    manifest = json.loads(COSIGN_MANIFEST.read_bytes())
    notes = manifest["layers"][0]["annotations"]
    rekor = json.loads(notes["dev.sigstore.cosign/bundle"])
    forged = dict(rekor["Payload"], logIndex=1)
    notes["dev.sigstore.cosign/bundle"] = object_text(
        [
            ("SignedEntryTimestamp", rekor["SignedEntryTimestamp"]),
            ("Payload", forged),
            ("Payload", rekor["Payload"]),
        ]
    )
    path = tmp_path / "signature-manifest.json"
    path.write_text(json.dumps(manifest))
    assert_refused(collect_cli(str(path)), path, "$.layers[0].annotations", "Rekor bundle annotation")


def test_cosign_manifest_with_its_annotation_intact_is_collected(tmp_path: Path) -> None:
    """The control: the same manifest, re-written without a repeat, is collected with its log index."""
    manifest = json.loads(COSIGN_MANIFEST.read_bytes())
    path = tmp_path / "signature-manifest.json"
    path.write_text(json.dumps(manifest))
    result = collect_cli(str(path))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    rekor = json.loads(manifest["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"])
    assert record["data"]["verifications"][0]["tlog"]["log_index"] == rekor["Payload"]["logIndex"]


def test_cosign_payload_naming_a_key_twice_is_refused(tmp_path: Path) -> None:
    """A simple-signing payload (matching its layer digest) that names ``critical`` twice is refused."""
    claim = json.loads(COSIGN_PAYLOAD.read_bytes())
    forged_critical = json.loads(json.dumps(claim["critical"]))
    forged_critical["image"]["docker-manifest-digest"] = f"sha256:{ATTACKER}"
    text = object_text([("critical", forged_critical), *claim.items()]).encode()
    payload = tmp_path / "payload.json"
    payload.write_bytes(text)
    manifest = json.loads(COSIGN_MANIFEST.read_bytes())
    manifest["layers"][0]["digest"] = "sha256:" + hashlib.sha256(text).hexdigest()
    doc = Artefact("signature-manifest.json", json.dumps(manifest).encode())
    with pytest.raises(InputError, match=REFUSAL) as refused:
        collect_document(doc, CollectOptions(now=NOW, payload=payload))
    assert refused.value.source == str(payload)
    assert ATTACKER not in refused.value.diagnostics()
