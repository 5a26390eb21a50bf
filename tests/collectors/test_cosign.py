"""cosign: ``cosign verify`` output (reported, never verified), key-pair signatures, ``.sig`` manifests.

Key-pair signatures are made here with ECDSA P-256 keys the tests generate (what
``cosign generate-key-pair`` makes), over the simple-signing payload of the corpus.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from affidavit.model import EvidenceKind
from affidavit.signatures.result import REPORTED_REASON
from tests.conftest import CORPUS, NOW, validate_record
from tests.signatures.helpers import collect

if TYPE_CHECKING:
    from pathlib import Path

FOLDER = CORPUS / "sigstore"
VERIFY_OUTPUTS = [
    "chainguard-hello-world-cosign-verify-2022-09.json",
    "chainguard-hello-world-cosign-verify-2022-11.json",
]
PAYLOAD = FOLDER / "conforma-cli-cosign-simplesigning-payload.json"
MANIFEST = FOLDER / "conforma-cli-cosign-signature-manifest.json"


def _load(path: Path) -> Any:
    """A corpus file's parsed JSON."""
    return json.loads(path.read_bytes())


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    """A fresh ECDSA P-256 key and its PEM public key file."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = tmp_path / "cosign.pub"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _sign(private: ec.EllipticCurvePrivateKey, payload: bytes, path: Path) -> Path:
    """A detached signature as ``cosign sign --key --output-signature`` writes it (base64)."""
    path.write_bytes(base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA256()))))
    return path


def _collect_bytes(raw: bytes, name: str, **options: Any) -> Any:
    """Collect ``raw`` bytes (a test-made artefact) with the given options."""
    values: dict[str, Any] = {"now": NOW}
    values.update(options)
    return collect_document(Artefact(name, raw), CollectOptions(**values))


@pytest.mark.parametrize("name", VERIFY_OUTPUTS)
def test_cosign_verify_output_is_reported_not_verified(name: str) -> None:
    """Cosign verify output is reported not verified."""
    record = collect(FOLDER / name)
    validate_record(record)
    claims = _load(FOLDER / name)
    assert record.format == "cosign-verify"
    assert record.kind is EvidenceKind.SIGNATURE
    assert record.data["verified"] is False
    assert len(record.data["verifications"]) == len(claims)
    for item, claim in zip(record.data["verifications"], claims, strict=True):
        assert item["verified"] is False
        assert item["method"] == "reported"
        assert REPORTED_REASON in item["reasons"]
        assert item["subject_digest"] == claim["critical"]["image"]["docker-manifest-digest"]
        assert item["identity"] == claim["optional"]["Subject"]
        assert item["issuer"] == claim["optional"]["Issuer"]
        payload = claim["optional"]["Bundle"]["Payload"]
        assert item["tlog"]["log_index"] == payload["logIndex"]
        assert item["tlog"]["integrated_time"] == payload["integratedTime"]
        assert item["checks"]["signature"] is None
    assert record.subject.digest == claims[0]["critical"]["image"]["docker-manifest-digest"]
    assert record.subject.name == claims[0]["critical"]["identity"]["docker-reference"]


def test_cosign_verify_output_digest_is_compared_but_still_not_verified() -> None:
    """Cosign verify output digest is compared but still not verified."""
    name = VERIFY_OUTPUTS[1]
    digest = _load(FOLDER / name)[0]["critical"]["image"]["docker-manifest-digest"]
    record = collect(FOLDER / name, artifact_digest=digest)
    (item,) = record.data["verifications"]
    assert item["checks"]["artifact"] is True
    assert item["verified"] is False
    record = collect(FOLDER / name, artifact_digest="sha256:" + "1" * 64)
    assert record.data["verifications"][0]["checks"]["artifact"] is False


def test_key_pair_signature_on_simple_signing_payload(
    key_pair: tuple[ec.EllipticCurvePrivateKey, Path], tmp_path: Path
) -> None:
    """Key pair signature on simple signing payload."""
    private, public = key_pair
    payload = PAYLOAD.read_bytes()
    signature = _sign(private, payload, tmp_path / "payload.sig")
    digest = _load(PAYLOAD)["critical"]["image"]["docker-manifest-digest"]
    record = collect(PAYLOAD, public_key=public, artifact_digest=digest, signature=signature)
    validate_record(record)
    (item,) = record.data["verifications"]
    assert record.format == "cosign-simplesigning"
    assert item["method"] == "cosign-key"
    assert item["verified"] is True, item["error"]
    assert item["subject_digest"] == digest == record.subject.digest
    assert record.subject.name == _load(PAYLOAD)["critical"]["identity"]["docker-reference"]
    assert item["key_id"].startswith("sha256:")


def test_payload_changed_after_signing_is_not_verified(
    key_pair: tuple[ec.EllipticCurvePrivateKey, Path], tmp_path: Path
) -> None:
    """Payload changed after signing is not verified."""
    private, public = key_pair
    payload = PAYLOAD.read_bytes()
    signature = _sign(private, payload, tmp_path / "payload.sig")
    claim = _load(PAYLOAD)
    claim["critical"]["image"]["docker-manifest-digest"] = "sha256:" + "e" * 64
    changed = json.dumps(claim).encode()
    record = _collect_bytes(
        changed,
        "changed-payload.json",
        public_key=public,
        artifact_digest="sha256:" + "e" * 64,
        signature=signature,
    )
    (item,) = record.data["verifications"]
    assert item["verified"] is False
    assert item["checks"] == {"signature": False, "identity": True, "artifact": True}
    assert "does not match" in item["error"]


def test_wrong_key_is_not_verified(key_pair: tuple[ec.EllipticCurvePrivateKey, Path], tmp_path: Path) -> None:
    """Wrong key is not verified."""
    _, public = key_pair
    other = ec.generate_private_key(ec.SECP256R1())
    signature = _sign(other, PAYLOAD.read_bytes(), tmp_path / "payload.sig")
    digest = _load(PAYLOAD)["critical"]["image"]["docker-manifest-digest"]
    record = collect(PAYLOAD, public_key=public, artifact_digest=digest, signature=signature)
    assert record.data["verifications"][0]["checks"]["signature"] is False
    assert record.data["verified"] is False


def test_payload_without_signature_is_not_verified() -> None:
    """Payload without signature is not verified."""
    record = collect(PAYLOAD)
    (item,) = record.data["verifications"]
    assert item["verified"] is False
    assert "no detached signature" in item["error"]


def test_signature_manifest_keyless_is_recorded_not_verified() -> None:
    """Signature manifest keyless is recorded not verified."""
    record = collect(MANIFEST, payload=PAYLOAD)
    validate_record(record)
    manifest = _load(MANIFEST)
    notes = manifest["layers"][0]["annotations"]
    rekor = json.loads(notes["dev.sigstore.cosign/bundle"])["Payload"]
    (item,) = record.data["verifications"]
    assert record.format == "cosign-signature-manifest"
    assert item["verified"] is False
    assert "keyless cosign signatures stored in a registry" in item["error"]
    assert item["tlog"]["log_index"] == rekor["logIndex"]
    assert item["tlog"]["integrated_time"] == rekor["integratedTime"]
    # the payload matches the layer digest, so the image digest it names is known
    assert item["subject_digest"] == _load(PAYLOAD)["critical"]["image"]["docker-manifest-digest"]


def test_signature_manifest_without_payload() -> None:
    """Signature manifest without payload."""
    record = collect(MANIFEST)
    (item,) = record.data["verifications"]
    assert item["subject_digest"] is None
    assert "the signed payload (the layer's blob, --payload FILE) is not at hand" in item["error"]
    assert _load(MANIFEST)["layers"][0]["digest"] not in item["error"]  # described, not quoted


def test_signature_manifest_with_key_pair(
    key_pair: tuple[ec.EllipticCurvePrivateKey, Path], tmp_path: Path
) -> None:
    """A key-pair signature stored the cosign way: the annotation holds the base64 signature."""
    private, public = key_pair
    payload = PAYLOAD.read_bytes()
    manifest = _load(MANIFEST)
    layer = manifest["layers"][0]
    layer["annotations"] = {
        "dev.cosignproject.cosign/signature": base64.b64encode(
            private.sign(payload, ec.ECDSA(hashes.SHA256()))
        ).decode()
    }
    digest = _load(PAYLOAD)["critical"]["image"]["docker-manifest-digest"]
    record = _collect_bytes(
        json.dumps(manifest).encode(),
        "key-manifest.json",
        public_key=public,
        artifact_digest=digest,
        payload=PAYLOAD,
    )
    (item,) = record.data["verifications"]
    assert item["method"] == "cosign-key"
    assert item["verified"] is True, item["error"]
    other_payload = tmp_path / "other.json"
    other_payload.write_bytes(payload + b"\n")
    record = _collect_bytes(
        json.dumps(manifest).encode(),
        "key-manifest.json",
        public_key=public,
        artifact_digest=digest,
        payload=other_payload,
    )
    assert "not this layer's payload" in record.data["verifications"][0]["error"]
