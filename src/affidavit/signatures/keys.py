"""Signatures made with a key pair (not a Fulcio certificate), checked with ``cryptography``.

- cosign key pairs: ``cosign sign --key`` signs the simple-signing payload bytes (ECDSA P-256
  with SHA-256 by default); ``cosign sign-blob --key`` signs the blob the same way, and a
  Sigstore bundle made with a managed key signs the artefact's SHA-256 digest (pre-hashed).
- DSSE envelopes signed with a key (a VSA, a witness collection, a Cloud KMS-signed
  provenance): the signature is over the pre-authentication encoding (PAE) of the payload type
  and payload, as the DSSE specification defines it. ECDSA (DER or raw ``r || s``), RSA with
  PKCS#1 v1.5 or PSS padding (in-toto and witness sign RSA-PSS, securesystemslib's default) and
  Ed25519 keys verify.

``cryptography`` is imported inside the functions so that importing this module is cheap.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.artefact import read_user_file
from affidavit.errors import InputError
from affidavit.signatures.result import key_fingerprint

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A loaded public key, its id (``sha256:`` of its DER SPKI) and the file it came from."""

    key: PublicKeyTypes
    key_id: str
    source: str
    der: bytes

    def same_key(self, other: PublicKeyTypes) -> bool:
        """True when ``other`` is this very key (compared as DER SubjectPublicKeyInfo)."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        try:
            return other.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == self.der
        except (TypeError, ValueError):
            return False


#: The largest public key file read, in bytes: a PEM key of any algorithm cosign uses is a few
#: hundred bytes (an RSA-4096 SPKI under 1 KiB), so anything near this is not a key.
MAX_KEY_BYTES = 64 * 1024


def load_public_key(path: Path) -> PublicKey | str:
    """Load a PEM (or DER) public key; returns the reason as a string when it is unusable.

    A file that cannot be read at all, is not a regular file or is larger than any key
    (``MAX_KEY_BYTES``) is an ``InputError`` (the run cannot go on), refused before it is read;
    a file that holds no usable key is a verification failure the record states.
    """
    try:
        raw = read_user_file(path, MAX_KEY_BYTES)
    except InputError as exc:
        why = exc.detail if exc.detail.startswith("cannot be read") else f"cannot be read: it {exc.detail}"
        raise InputError(exc.source, f"the public key {why}", hint=exc.hint) from None
    loaded = parse_public_key(raw)
    if isinstance(loaded, str):
        return f"the public key {path} cannot be used: {loaded}"
    key, der = loaded
    return PublicKey(key=key, key_id=key_fingerprint(der), source=str(path), der=der)


def parse_public_key(raw: bytes) -> tuple[PublicKeyTypes, bytes] | str:
    """A public key from PEM or DER bytes, with its DER SPKI; or why it is not one."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_der_public_key,
        load_pem_public_key,
    )

    try:
        key = load_pem_public_key(raw) if b"-----BEGIN" in raw else load_der_public_key(raw)
    except (ValueError, TypeError) as exc:
        text = re.sub(r" See https://\S+ for more details\.", "", str(exc)).strip()
        return text or "not a public key"
    except Exception as exc:  # unsupported algorithms raise UnsupportedAlgorithm
        return f"{type(exc).__name__}: {exc}"
    return key, key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def decode_signature(raw: bytes) -> bytes:
    """A signature as cosign writes it (base64 text) or as raw bytes."""
    text = raw.strip()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return raw


def verify_data(key: PublicKeyTypes, signature: bytes, data: bytes) -> str | None:
    """Check ``signature`` over ``data`` (hashed with the key's usual hash); ``None`` when valid."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            _verify_ecdsa(key, signature, data, ec.ECDSA(_ec_hash(key)))
        elif isinstance(key, rsa.RSAPublicKey):
            _verify_rsa(key, signature, data)
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            return f"unsupported key type {type(key).__name__}"
    except InvalidSignature:
        return "the signature does not match the signed data and key"
    return None


def _verify_rsa(key: Any, signature: bytes, data: bytes) -> None:
    """RSA with SHA-256 in either padding signers use: PKCS#1 v1.5 (cosign, sigstore) or PSS with
    MGF1-SHA-256 (securesystemslib's default scheme ``rsassa-pss-sha256``, used by in-toto and
    witness). A PSS salt of any length verifies (``PSS.AUTO``): securesystemslib uses the digest
    length, Go's ``rsa.PSSSaltLengthAuto`` (witness) the longest that fits. Raises
    ``InvalidSignature`` when neither verifies."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        return
    except InvalidSignature:
        pass
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    key.verify(signature, data, pss, hashes.SHA256())


def verify_prehashed(key: PublicKeyTypes, signature: bytes, digest: bytes) -> str | None:
    """Check a signature over a SHA-256 ``digest`` (Sigstore hashedrekord); ``None`` when valid."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            _verify_ecdsa(key, signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        else:
            return f"a {type(key).__name__} cannot verify a pre-hashed SHA-256 signature"
    except InvalidSignature:
        return "the signature does not match the artefact digest and key"
    return None


def _ecdsa_forms(key: Any, signature: bytes) -> list[bytes]:
    """The signature as given (DER), and, when it has the length of a raw ``r || s`` signature
    (IEEE P1363, as Cloud KMS-backed signers such as Google's VSA signer write it), in DER."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    size = (key.curve.key_size + 7) // 8
    forms = [signature]
    if len(signature) == 2 * size:
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        forms.append(bytes(encode_dss_signature(r, s)))
    return forms


def _verify_ecdsa(key: Any, signature: bytes, data: bytes, algorithm: Any) -> None:
    """ECDSA verification of either signature encoding; raises ``InvalidSignature`` when none fits."""
    from cryptography.exceptions import InvalidSignature

    for form in _ecdsa_forms(key, signature):
        try:
            key.verify(form, data, algorithm)
        except InvalidSignature:
            continue
        return
    raise InvalidSignature


def _ec_hash(key: Any) -> Any:
    """The hash ECDSA uses with this curve (SHA-256 for P-256, as cosign does)."""
    from cryptography.hazmat.primitives import hashes

    size = key.curve.key_size
    if size > 384:
        return hashes.SHA512()
    if size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE pre-authentication encoding of a payload type and payload."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def verify_envelope(key: PublicKeyTypes, envelope: dict[str, Any]) -> str | None:
    """Check that one of a DSSE envelope's signatures is ``key``'s over the PAE; ``None`` when so."""
    try:
        payload = base64.b64decode(envelope.get("payload", ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        return "the envelope payload is not base64"
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        return "the envelope has no payloadType"
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        return "the envelope has no signatures"
    message = pae(payload_type, payload)
    last = "the envelope has no signature"
    for item in signatures:
        sig_text = item.get("sig") if isinstance(item, dict) else None
        if not isinstance(sig_text, str):
            continue
        try:
            sig = base64.b64decode(sig_text, validate=True)
        except (binascii.Error, ValueError):
            last = "an envelope signature is not base64"
            continue
        problem = verify_data(key, sig, message)
        if problem is None:
            return None
        last = "no envelope signature was made by this key over the payload"
    return last
