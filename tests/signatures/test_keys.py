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
