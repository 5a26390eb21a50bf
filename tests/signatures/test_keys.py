"""Key-pair signatures with keys the tests make themselves (ECDSA P-256, like ``cosign generate-key-pair``)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from affidavit.signatures import keys
from affidavit.signatures.result import key_fingerprint
from tests.conftest import CORPUS

if TYPE_CHECKING:
    from pathlib import Path

PAYLOAD = json.dumps(
    {
        "critical": {
            "identity": {"docker-reference": "registry.example/app"},
            "image": {"docker-manifest-digest": "sha256:" + "ab" * 32},
            "type": "cosign container image signature",
        },
        "optional": None,
    },
    separators=(",", ":"),
).encode()


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The PEM public key of ``key``."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def signer() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key, as ``cosign generate-key-pair`` makes."""
    return ec.generate_private_key(ec.SECP256R1())


def test_simple_signing_signature_verifies(signer: ec.EllipticCurvePrivateKey, tmp_path: Path) -> None:
    """Simple signing signature verifies."""
    path = tmp_path / "cosign.pub"
    path.write_bytes(_pem(signer))
    loaded = keys.load_public_key(path)
    assert isinstance(loaded, keys.PublicKey)
    signature = base64.b64encode(signer.sign(PAYLOAD, ec.ECDSA(hashes.SHA256())))
    assert keys.verify_data(loaded.key, keys.decode_signature(signature), PAYLOAD) is None
    der = signer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert loaded.key_id == "sha256:" + hashlib.sha256(der).hexdigest() == key_fingerprint(der)


def test_payload_changed_after_signing_does_not_verify(signer: ec.EllipticCurvePrivateKey) -> None:
    """Payload changed after signing does not verify."""
    signature = signer.sign(PAYLOAD, ec.ECDSA(hashes.SHA256()))
    changed = PAYLOAD.replace(b"ab" * 32, b"cd" * 32)
    assert changed != PAYLOAD
    problem = keys.verify_data(signer.public_key(), signature, changed)
    assert problem is not None and "does not match" in problem


def test_wrong_key_does_not_verify(signer: ec.EllipticCurvePrivateKey) -> None:
    """Wrong key does not verify."""
    signature = signer.sign(PAYLOAD, ec.ECDSA(hashes.SHA256()))
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert keys.verify_data(other, signature, PAYLOAD) is not None


def test_prehashed_digest_signature(signer: ec.EllipticCurvePrivateKey) -> None:
    """Prehashed digest signature."""
    digest = hashlib.sha256(b"artefact bytes").digest()
    signature = signer.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert keys.verify_prehashed(signer.public_key(), signature, digest) is None
    assert (
        keys.verify_prehashed(signer.public_key(), signature, hashlib.sha256(b"other").digest()) is not None
    )


def test_dsse_envelope_with_key(signer: ec.EllipticCurvePrivateKey) -> None:
    """Dsse envelope with key."""
    payload = b'{"_type":"https://in-toto.io/Statement/v1","subject":[]}'
    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %b %d %b" % (len(payload_type), payload_type.encode(), len(payload), payload)
    assert keys.pae(payload_type, payload) == pae
    sig = signer.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    assert keys.verify_envelope(signer.public_key(), envelope) is None
    envelope["payload"] = base64.b64encode(payload + b" ").decode()
    assert keys.verify_envelope(signer.public_key(), envelope) is not None


def test_unusable_key_file_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    """Unusable key file is a reason not a crash."""
    path = tmp_path / "broken.pub"
    path.write_bytes(b"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    loaded = keys.load_public_key(path)
    assert isinstance(loaded, str) and str(path) in loaded


def test_missing_key_file_is_an_input_error(tmp_path: Path) -> None:
    """Missing key file is an input error."""
    from affidavit.errors import InputError

    with pytest.raises(InputError, match="cannot be read"):
        keys.load_public_key(tmp_path / "absent.pub")


def test_raw_r_s_ecdsa_signature_is_accepted(signer: ec.EllipticCurvePrivateKey) -> None:
    """Cloud KMS-backed signers (Google's VSA) write ECDSA signatures as raw ``r || s``."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(signer.sign(PAYLOAD, ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert keys.verify_data(signer.public_key(), raw, PAYLOAD) is None
    assert keys.verify_data(signer.public_key(), raw, PAYLOAD + b"x") is not None


# ---------------------------------------------------------------------------------------------
# DSSE envelopes from the corpus, each with the key its source says signed it (attestation-vsa)

VSA = CORPUS / "attestation-vsa"


def _envelope(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((VSA / name).read_text(encoding="utf-8"))
    return loaded


def _witness_certificate_key() -> object:
    from cryptography.x509 import load_pem_x509_certificate

    signature = _envelope("witness-fulcio-policy-presigned.json")["signatures"]
    assert isinstance(signature, list)
    # witness (Go) writes the PEM certificate as a JSON []byte: base64 of the PEM text
    return load_pem_x509_certificate(base64.b64decode(signature[0]["certificate"])).public_key()


@pytest.mark.parametrize(
    ("envelope", "key_file"),
    [
        # in-toto's demo link, RSA-PSS SHA-256 with salt = digest length (securesystemslib's default)
        ("in-toto-write-code.776a00e2.link", "in-toto-bob.pub"),
        # witness attestation collection, Ed25519
        ("witness-spdx-att.json", "witness-testpub.pem"),
        # docker/attest VSA, ECDSA P-256
        ("docker-attest-vsa.json", "docker-attest-doi-signing-key.pem"),
    ],
)
def test_corpus_envelopes_verify_with_the_key_that_signed_them(envelope: str, key_file: str) -> None:
    """RSA-PSS (in-toto), Ed25519 (witness) and ECDSA (docker/attest) DSSE signatures verify over the PAE
    with the right key (corpus attestation-vsa/SOURCES.md names each key), and not with another one."""
    loaded = keys.load_public_key(VSA / key_file)
    assert not isinstance(loaded, str), loaded
    assert keys.verify_envelope(loaded.key, _envelope(envelope)) is None
    for other in {"in-toto-bob.pub", "witness-testpub.pem", "docker-attest-doi-signing-key.pem"} - {key_file}:
        wrong = keys.load_public_key(VSA / other)
        assert not isinstance(wrong, str)
        assert keys.verify_envelope(wrong.key, _envelope(envelope)) is not None


def test_witness_rsa_pss_with_the_longest_salt_verifies() -> None:
    """witness signs RSA-PSS with Go's rsa.PSSSaltLengthAuto (a 478-byte salt for RSA-4096): it must
    verify with the key of the certificate the envelope carries (corpus SOURCES.md), and a changed
    payload must not."""
    envelope = _envelope("witness-fulcio-policy-presigned.json")
    key = _witness_certificate_key()
    assert keys.verify_envelope(key, envelope) is None  # type: ignore[arg-type]
    payload = base64.b64decode(str(envelope["payload"]))
    tampered = {**envelope, "payload": base64.b64encode(payload.replace(b"a", b"b", 1)).decode()}
    assert (
        keys.verify_envelope(key, tampered) == "no envelope signature was made by this key over the payload"
    )  # type: ignore[arg-type]


def test_rsa_pss_over_other_bytes_or_with_sha1_is_refused() -> None:
    """PSS verification is of SHA-256 over exactly the PAE: the same key's PSS signature with SHA-1,
    or over the bare payload (no PAE), does not verify."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = keys.pae("application/vnd.in-toto+json", b"{}")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    assert (
        keys.verify_data(private.public_key(), private.sign(message, pss, hashes.SHA256()), message) is None
    )
    sha1 = padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=20)
    assert (
        keys.verify_data(private.public_key(), private.sign(message, sha1, hashes.SHA1()), message)
        is not None
    )
    bare = private.sign(b"{}", pss, hashes.SHA256())
    assert keys.verify_data(private.public_key(), bare, message) is not None
