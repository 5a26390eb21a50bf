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
from affidavit.errors import InputError
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


# ---------------------------------------------------------------------------------------------
# What people save instead of a signature: refused with what to save (issue 10)

_IMAGE = "ghcr.io/acme/shop@sha256:" + "ab" * 32
# cosign verify's report lines, printed on stderr before the JSON it prints on stdout
# (cmd/cosign/cli/verify/verify.go, PrintVerificationHeader; the lines as Chainguard's image
# READMEs and the cosign docs show them: https://docs.sigstore.dev/cosign/verifying/verify/).
_STDERR = (
    f"\nVerification for {_IMAGE} --\n"
    "The following checks were performed on each of these signatures:\n"
    "  - The cosign claims were validated\n"
    "  - Existence of the claims in the transparency log was verified offline\n"
    "  - The code-signing certificate was verified using trusted certificate authority certificates\n"
)
_CLAIMS = [
    {
        "critical": {
            "identity": {"docker-reference": "ghcr.io/acme/shop"},
            "image": {"docker-manifest-digest": "sha256:" + "ab" * 32},
            "type": "cosign container image signature",
        },
        "optional": {"Issuer": "https://token.actions.githubusercontent.com", "Subject": "secret-subject"},
    }
]


@pytest.mark.parametrize(
    "text",
    [
        _STDERR + json.dumps(_CLAIMS) + "\n",
        "tuf: warning using deprecated ecdsa hex-encoded keys\n" * 3
        + _STDERR
        + json.dumps(_CLAIMS, indent=2),
        _STDERR,  # stderr captured alone
    ],
    ids=["stderr-then-json", "tuf-warnings-stderr-then-json", "stderr-only"],
)
def test_cosign_verify_console_output_says_what_to_save(text: str) -> None:
    """``cosign verify ... 2>&1 > file`` puts cosign's stderr report in front of its JSON: the file is
    not JSON. It must be refused with what to save instead, not "not a format affidavit knows", and
    without repeating the image name or the claims it holds."""
    with pytest.raises(InputError) as info:
        _collect_bytes(text.encode(), "cosign-verify.txt", artifact_digest="sha256:" + "ab" * 32)
    message = info.value.diagnostics()
    assert "is cosign verify's console output" in message
    assert "--output json > cosign-verify.json" in message and "Sigstore bundle" in message
    assert "not a format affidavit knows" not in message
    assert _IMAGE not in message and "secret-subject" not in message


def test_cosign_verify_console_output_is_refused_in_the_gate_by_its_file(tmp_path: Path) -> None:
    """In a gate the refused file makes the run INCOMPLETE (never a pass on what cosign printed)."""
    from click.testing import CliRunner

    from affidavit.cli import main

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cosign-verify.txt").write_text(_STDERR + json.dumps(_CLAIMS))
    result = CliRunner().invoke(main, ["collect", "--format", "json", str(evidence)])
    assert result.exit_code == 3
    assert "is cosign verify's console output" in result.stderr


# OCI image-spec image-index.md / manifest.md examples, and Docker's manifest list (Image Manifest
# V2, Schema 2): what `crane manifest IMAGE` or `docker buildx imagetools inspect --raw` prints.
_INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 7143,
            "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
            "platform": {"architecture": "ppc64le", "os": "linux"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 7682,
            "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
            "platform": {"architecture": "amd64", "os": "linux"},
        },
    ],
}
_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
        "size": 7023,
    },
    "layers": [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
            "size": 32654,
        }
    ],
}


@pytest.mark.parametrize(
    ("document", "said"),
    [
        (_INDEX, "is an OCI image index listing 2 manifest(s)"),
        (
            {**_INDEX, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json"},
            "is an OCI image index listing 2 manifest(s)",
        ),
        ({k: v for k, v in _INDEX.items() if k != "mediaType"}, "is an OCI image index"),
        (_MANIFEST, "is an OCI image manifest with no cosign signature layer"),
    ],
    ids=["oci-index", "docker-manifest-list", "index-without-media-type", "image-manifest"],
)
def test_an_image_index_or_manifest_is_refused_with_what_to_save(document: Any, said: str) -> None:
    """The image's own index or manifest signs nothing: refused with the signature formats to save."""
    with pytest.raises(InputError) as info:
        _collect_bytes(json.dumps(document).encode(), "image.json")
    message = str(info.value.diagnostics())
    assert said in message
    assert "save the image's signature instead" in message and "cosign verify --output json" in message
    assert "not a format affidavit knows" not in message


def test_an_index_of_another_media_type_is_not_claimed() -> None:
    """Only image indexes and manifests are claimed: another document with `manifests` stays unknown."""
    with pytest.raises(InputError) as info:
        _collect_bytes(
            json.dumps({"schemaVersion": 2, "mediaType": "text/plain", "manifests": []}).encode(), "x.json"
        )
    assert "not a format affidavit knows" in str(info.value.diagnostics())
