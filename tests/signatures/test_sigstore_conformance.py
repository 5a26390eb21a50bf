"""The Sigstore conformance cases: each verdict right, with the reason, offline.

Each case directory of ``../shared/corpus/sigstore/sigstore-conformance`` is collected as the
command line would (``--artifact``, ``--identity``/``--issuer``, ``--trusted-root``, ``--key``),
using the case's own files or the defaults of ``README-conformance-layout.txt``. A case whose
name ends in ``_fail`` must not verify, and its reason must be the one the case is about.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind
from tests.conftest import CORPUS, NOW

if TYPE_CHECKING:
    from pathlib import Path

CASES_DIR = CORPUS / "sigstore" / "sigstore-conformance"
PUBLIC_GOOD = CORPUS / "sigstore" / "trusted_root.public-good.json"
DEFAULT_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())

# What each failing case is about: a fragment of the reason that must be recorded.
FAIL_REASONS = {
    # the JSON error of ``Artefact.json()`` (its wording is the core's: "JSON ends early ... truncated")
    "bundle-malformed-json_fail": "JSON",
    "bundle-unknown-version_fail": "unsupported bundle media type",
    "checkpoint-wrong-roothash_fail": "invalid root hash",
    "dsse-mismatch-sig_fail": "log entry signatures do not match",
    "integrated-time-in-future_fail": "not valid at validation time",
    "intoto-expired-certificate_fail": "not valid at validation time",
    "managed-key-wrong-key_fail": "cannot be used",
    "signature-mismatch_fail": "Signature is invalid for input",
    "wrong-hashedrekord-artifact_fail": "inconsistent with other materials",
}
# Passing cases that sigstore-python alone cannot verify, and the method affidavit uses instead.
OTHER_WAY = {
    "managed-key-happy-path": "sigstore-bundle-key",
    "intoto-with-custom-trust-root": "sigstore-bundle",
}


def case_options(case: str, **override: Any) -> CollectOptions:
    """The options the command line would pass for ``case`` (its files, else the defaults)."""
    folder = CASES_DIR / case
    artifact = folder / "artifact" if (folder / "artifact").exists() else CASES_DIR / "a.txt"
    identity = (
        (folder / "identity").read_text().strip() if (folder / "identity").exists() else DEFAULT_IDENTITY
    )
    issuer = (folder / "issuer").read_text().strip() if (folder / "issuer").exists() else DEFAULT_ISSUER
    root = folder / "trusted_root.json" if (folder / "trusted_root.json").exists() else PUBLIC_GOOD
    key = folder / "key.pub" if (folder / "key.pub").exists() else None
    values: dict[str, Any] = {
        "now": NOW,
        "identity": identity,
        "issuer": issuer,
        "trusted_root": root,
        "public_key": key,
        "artifact": artifact,
    }
    values.update(override)
    return CollectOptions(**values)


def collect_case(case: str, raw: bytes | None = None, **override: Any) -> Evidence:
    """Collect ``case``'s bundle (or ``raw`` bytes in its place) with the case's options."""
    path = CASES_DIR / case / "bundle.sigstore.json"
    data = path.read_bytes() if raw is None else raw
    return collect_document(
        Artefact(f"sigstore-conformance/{case}/bundle.sigstore.json", data), case_options(case, **override)
    )


def signature_of(record: Evidence) -> dict[str, Any]:
    """The signature data of a signature record, or of a provenance record's envelope."""
    data = dict(record.data)
    return data["signature"] if record.kind is EvidenceKind.PROVENANCE else data


def verdict(case: str) -> tuple[bool, str]:
    """(verified, reason) for one case; a refused file is (False, the error)."""
    try:
        record = collect_case(case)
    except InputError as exc:
        return False, exc.diagnostics()
    sig = signature_of(record)
    return bool(sig["verified"]), "; ".join(sig["reasons"])


def test_every_case_is_listed() -> None:
    """Every case is listed."""
    assert len(CASES) == 18
    assert set(FAIL_REASONS) == {c for c in CASES if c.endswith("_fail")}


@pytest.mark.parametrize("case", CASES)
def test_verdict(case: str) -> None:
    """Verdict."""
    verified, reason = verdict(case)
    if case.endswith("_fail"):
        assert verified is False
        assert FAIL_REASONS[case] in reason, reason
    else:
        assert verified is True, reason
        assert reason == ""


@pytest.mark.parametrize("case", sorted(c for c in CASES if not c.endswith("_fail")))
def test_passing_case_records_what_was_checked(case: str) -> None:
    """Passing case records what was checked."""
    record = collect_case(case)
    sig = signature_of(record)
    (item,) = sig["verifications"]
    assert item["checks"] == {"signature": True, "identity": True, "artifact": True}
    assert item["method"] == OTHER_WAY.get(case, "sigstore-bundle")
    assert item["checked"], "a verified signature says what was checked"
    folder = CASES_DIR / case
    artifact = folder / "artifact" if (folder / "artifact").exists() else CASES_DIR / "a.txt"
    expected = "sha256:" + hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert item["subject_digest"] == expected
    assert record.subject.digest == expected
    assert sig["artifact_digest"] == expected
    bundle = json.loads((folder / "bundle.sigstore.json").read_bytes())
    assert sig["bundle"]["media_type"] == bundle["mediaType"]
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    assert item["tlog"]["log_index"] == int(entry["logIndex"])
    assert item["tlog"]["log_id"] == base64.b64decode(entry["logId"]["keyId"]).hex()
    if "integratedTime" in entry:
        assert item["tlog"]["integrated_time"] == int(entry["integratedTime"])
    if (folder / "key.pub").exists():
        assert item["identity"] is None
        assert item["key_id"] is not None
    else:
        assert item["identity"] == case_options(case).identity
        assert item["issuer"] == case_options(case).issuer


def test_attestation_cases_are_provenance_records() -> None:
    """A bundle carrying a DSSE attestation is a provenance record; a message signature is not."""
    for case in CASES:
        path = CASES_DIR / case / "bundle.sigstore.json"
        try:
            bundle = json.loads(path.read_bytes())
        except ValueError:
            continue
        record = collect_case(case)
        expected = EvidenceKind.PROVENANCE if "dsseEnvelope" in bundle else EvidenceKind.SIGNATURE
        assert record.kind is expected, case


def test_intoto_v002_path_states_how_it_verified() -> None:
    """Intoto v002 path states how it verified."""
    record = collect_case("intoto-with-custom-trust-root")
    (item,) = signature_of(record)["verifications"]
    assert any("intoto/0.0.2" in line for line in item["checked"])
    assert signature_of(record)["bundle"]["tlog_entry_kind"] == "intoto/0.0.2"


def test_intoto_v002_path_rejects_a_changed_payload() -> None:
    """Intoto v002 path rejects a changed payload."""
    bundle = json.loads((CASES_DIR / "intoto-with-custom-trust-root" / "bundle.sigstore.json").read_bytes())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["subject"][0]["name"] = "e.txt"
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    record = collect_case("intoto-with-custom-trust-root", json.dumps(bundle).encode())
    sig = signature_of(record)
    assert sig["verified"] is False
    assert sig["verifications"][0]["checks"]["signature"] is False
    assert "DSSE signature" in sig["verifications"][0]["error"]


def test_intoto_v002_path_rejects_another_signer() -> None:
    """Intoto v002 path rejects another signer."""
    record = collect_case(
        "intoto-with-custom-trust-root",
        identity="https://github.com/someone-else/.github/workflows/x.yml@refs/heads/main",
    )
    item = signature_of(record)["verifications"][0]
    assert item["checks"] == {"signature": True, "identity": False, "artifact": True}
    assert item["verified"] is False


def test_managed_key_rejects_another_valid_key(tmp_path: Path) -> None:
    """Managed key rejects another valid key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = tmp_path / "other.pub"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    record = collect_case("managed-key-happy-path", public_key=other)
    item = record.data["verifications"][0]
    assert item["verified"] is False
    assert item["checks"]["signature"] is False
    assert "does not match" in item["error"]


def test_managed_key_rejects_another_artifact(tmp_path: Path) -> None:
    """Managed key rejects another artifact."""
    other = tmp_path / "b.txt"
    other.write_bytes(b"not the signed artefact\n")
    record = collect_case("managed-key-happy-path", artifact=other)
    item = record.data["verifications"][0]
    assert item["checks"] == {"signature": True, "identity": True, "artifact": False}
    assert "sha256:" + hashlib.sha256(other.read_bytes()).hexdigest() in item["error"]


def test_managed_key_without_a_key_is_not_verified() -> None:
    """Managed key without a key is not verified."""
    record = collect_case("managed-key-happy-path", public_key=None)
    item = record.data["verifications"][0]
    assert item["verified"] is False
    assert item["checks"]["signature"] is None
    assert "--key" in item["error"]


def test_without_an_identity_check_the_signer_is_recorded_not_judged() -> None:
    """No ``--identity``/``--issuer``: the cryptography and artefact are verified and the signer recorded.

    Whether that signer may sign is the rules' decision (``policies/lib/signers.rego``); the record
    says the identity was not checked here (``checks.identity`` null, ``policy.identity`` null).
    """
    record = collect_case("happy-path-v0.3", identity=None, issuer=None)
    item = record.data["verifications"][0]
    assert item["checks"] == {"signature": True, "identity": None, "artifact": True}
    assert item["verified"] is True and item["error"] is None
    assert item["identity"] == DEFAULT_IDENTITY
    assert item["issuer"] == DEFAULT_ISSUER
    assert any("not judged here" in c for c in item["checked"])
    assert record.data["policy"]["identity"] is None and record.data["policy"]["issuer"] is None


@pytest.mark.parametrize(("identity", "issuer"), [(DEFAULT_IDENTITY, None), (None, DEFAULT_ISSUER)])
def test_half_an_identity_check_fails_closed(identity: str | None, issuer: str | None) -> None:
    """An identity without its issuer (or the reverse) is a check that cannot be made: not verified."""
    record = collect_case("happy-path-v0.3", identity=identity, issuer=issuer)
    item = record.data["verifications"][0]
    assert item["verified"] is False
    assert item["checks"] == {"signature": True, "identity": None, "artifact": True}
    assert "no issuer given" in item["error"] or "no identity given" in item["error"]


def test_a_certificate_signed_by_someone_else_still_verifies_without_an_identity_check() -> None:
    """The record states the facts of another signer's bundle; the rules decide (here: verified)."""
    record = collect_case("happy-path-v0.3", identity=None, issuer=None)
    assert record.data["verified"] is True
    with_check = collect_case(
        "happy-path-v0.3",
        identity="https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main",
        issuer=DEFAULT_ISSUER,
    )
    assert with_check.data["verified"] is False
    assert with_check.data["verifications"][0]["checks"]["identity"] is False


def test_identity_pattern() -> None:
    """Identity pattern."""
    record = collect_case(
        "happy-path-v0.3", identity=r"re:https://github\.com/sigstore-conformance/.+@refs/heads/main"
    )
    assert record.data["verified"] is True
    record = collect_case("happy-path-v0.3", identity=r"re:https://github\.com/someone-else/.+")
    assert record.data["verifications"][0]["checks"]["identity"] is False


def test_wrong_issuer_is_not_verified() -> None:
    """Wrong issuer is not verified."""
    record = collect_case("happy-path-v0.2", issuer="https://accounts.google.com")
    item = record.data["verifications"][0]
    assert item["checks"]["identity"] is False
    assert "issuer" in item["error"]


def test_digest_alone_is_enough() -> None:
    """Digest alone is enough."""
    digest = "sha256:" + hashlib.sha256((CASES_DIR / "a.txt").read_bytes()).hexdigest()
    record = collect_case("happy-path-v0.1", artifact=None, artifact_digest=digest)
    assert record.data["verified"] is True
    record = collect_case("happy-path-v0.1", artifact=None, artifact_digest="sha256:" + "0" * 64)
    assert record.data["verifications"][0]["checks"] == {
        "signature": True,
        "identity": True,
        "artifact": False,
    }


def test_no_artifact_is_not_verified() -> None:
    """No artifact is not verified."""
    record = collect_case("happy-path-v0.3-new-mediaType", artifact=None)
    item = record.data["verifications"][0]
    assert item["checks"]["artifact"] is None
    assert "no artefact digest given" in item["error"]


def test_default_trust_root_is_the_embedded_public_good_root() -> None:
    """Default trust root is the embedded public good root."""
    record = collect_case("happy-path-v0.3", trusted_root=None)
    assert record.data["verified"] is True
    expected = "sha256:" + hashlib.sha256(PUBLIC_GOOD.read_bytes()).hexdigest()
    assert record.data["trust_root"]["sha256"] == expected
    assert "embedded in sigstore-python" in record.data["trust_root"]["source"]


def test_rekor_v2_case_fails_against_the_wrong_trust_root() -> None:
    """Rekor v2 case fails against the wrong trust root."""
    record = collect_case("rekor2-happy-path", trusted_root=PUBLIC_GOOD)
    assert record.data["verified"] is False
    assert record.data["verifications"][0]["checks"]["signature"] is False


def test_verification_never_uses_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification never uses the network."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        """Fail the test on any attempt to reach the network."""
        raise AssertionError(f"network use attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    results = {case: verdict(case)[0] for case in CASES}
    assert results == {case: not case.endswith("_fail") for case in CASES}


def test_a_trusted_root_that_is_not_one_is_an_input_error() -> None:
    """A --trusted-root that is not a trust root stops the run with a message naming it."""
    with pytest.raises(InputError, match="not valid JSON") as refused:
        collect_case("happy-path-v0.3", trusted_root=CASES_DIR / "a.txt")
    assert str(CASES_DIR / "a.txt") in refused.value.diagnostics()
    with pytest.raises(InputError, match="is not a Sigstore trusted root"):
        collect_case("happy-path-v0.3", trusted_root=CASES_DIR / "happy-path-v0.3" / "bundle.sigstore.json")


def test_an_entry_integrated_after_the_run_clock_is_not_believed() -> None:
    """With the run clock set before the entry's integrated time, the case fails on time."""
    bundle = json.loads((CASES_DIR / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    integrated = int(bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"])
    record = collect_case("happy-path-v0.3", now="2024-01-01T00:00:00Z")
    assert integrated > 1704067200
    item = record.data["verifications"][0]
    assert item["checks"]["signature"] is False
    assert "after the run's clock" in item["error"]
