"""The key a bundle is signed with, and the two signatures a signed bundle carries.

A signed bundle holds, beside its files:

* ``SHA256SUMS.sig``: a plain signature over the bytes of ``SHA256SUMS``, so that an auditor with
  no affidavit can check a bundle with ``sha256sum -c SHA256SUMS`` and then, for an ECDSA P-256
  key (a DER-encoded ECDSA signature over the SHA-256 of the file, what ``openssl dgst`` makes)::

      openssl dgst -sha256 -verify key.pub -signature SHA256SUMS.sig SHA256SUMS

  or, for an Ed25519 key (a raw 64-byte signature over the file itself, RFC 8032)::

      openssl pkeyutl -verify -pubin -inkey key.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig

* ``attestation.intoto.jsonl``: one DSSE envelope (one JSON line) over an in-toto Statement v1
  whose predicate is a SLSA Verification Summary Attestation (``affidavit.bundle.attest``). The
  signature is over the DSSE pre-authentication encoding of the payload type and payload, with
  the same key and the same encoding as above.

Keys (``affidavit gate --sign-key KEY``): a PEM private key, ECDSA on P-256 or Ed25519, in
PKCS#8 (``openssl genpkey``) or SEC 1 (``openssl ecparam -genkey``) form. An encrypted PKCS#8 key
(``-----BEGIN ENCRYPTED PRIVATE KEY-----``) is decrypted with the password in ``COSIGN_PASSWORD``,
the variable cosign reads. cosign's own encrypted format (``ENCRYPTED SIGSTORE PRIVATE KEY`` or
``ENCRYPTED COSIGN PRIVATE KEY``: scrypt and a NaCl secretbox) is refused with a clear message:
decrypting it needs XSalsa20-Poly1305, which neither ``cryptography`` nor the standard library
provides, and PyNaCl is not a dependency of affidavit. ECDSA signatures are deterministic
(RFC 6979), as Ed25519 signatures are, so a signed bundle is byte-reproducible too.

A key's id is ``sha256:`` of its public key's DER SubjectPublicKeyInfo, the id affidavit gives
every public key (``signatures.result.key_fingerprint``).

Keyless signing (a Fulcio certificate for an OIDC identity, logged in Rekor) needs both services
online; it is not built.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.artefact import read_user_file
from affidavit.errors import InputError, UsageError
from affidavit.signatures.keys import MAX_KEY_BYTES, PublicKey, pae
from affidavit.signatures.result import key_fingerprint

if TYPE_CHECKING:
    from pathlib import Path

SUMS_NAME = "SHA256SUMS"
SIGNATURE_NAME = "SHA256SUMS.sig"
ENVELOPE_NAME = "attestation.intoto.jsonl"
#: The DSSE payload type of an in-toto statement.
PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: The environment variable holding the password of an encrypted key (cosign's name for it).
PASSWORD_VARIABLE = "COSIGN_PASSWORD"

ECDSA_P256 = "ecdsa-p256-sha256"
ED25519 = "ed25519"

_COSIGN_MARKERS = (
    b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
    b"-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----",
)
_ENCRYPTED_PKCS8 = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key that signs bundles: its algorithm, its public key's id and PEM."""

    key: Any  # EllipticCurvePrivateKey (P-256) or Ed25519PrivateKey
    algorithm: str
    public: PublicKey

    @property
    def key_id(self) -> str:
        """``sha256:`` of the public key's DER SubjectPublicKeyInfo."""
        return self.public.key_id

    @property
    def public_pem(self) -> bytes:
        """The public key, PEM: what ``affidavit verify --key`` and ``openssl`` check with."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return bytes(self.public.key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))

    def sign(self, data: bytes) -> bytes:
        """A signature over ``data``: DER ECDSA over its SHA-256 (RFC 6979), or raw Ed25519."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        if self.algorithm == ECDSA_P256:
            return bytes(self.key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        return bytes(self.key.sign(data))

    def sign_envelope(self, payload: bytes) -> bytes:
        """One DSSE envelope over an in-toto payload, as a JSON line (final newline included)."""
        import json

        signature = self.sign(pae(PAYLOAD_TYPE, payload))
        envelope = {
            "payload": base64.b64encode(payload).decode("ascii"),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"keyid": self.key_id, "sig": base64.b64encode(signature).decode("ascii")}],
        }
        return (json.dumps(envelope, sort_keys=True, separators=(",", ":")) + "\n").encode("ascii")


def load_signing_key(path: Path) -> Signer:
    """The private key at ``path`` (see the module docstring); ``UsageError`` (exit 2) when it is
    not one affidavit can sign with. Messages name the file and never repeat what it holds."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    try:
        raw = read_user_file(path, MAX_KEY_BYTES)
    except InputError as exc:
        raise UsageError(f"{path}: --sign-key {exc.detail}") from None
    if any(marker in raw for marker in _COSIGN_MARKERS):
        raise UsageError(
            f"{path}: --sign-key is in cosign's encrypted key format, which affidavit cannot read: "
            "decrypting it needs a NaCl secretbox (XSalsa20-Poly1305), and PyNaCl is not installed",
            hint="sign with a PEM private key (ECDSA P-256 or Ed25519; PKCS#8, encrypted with its "
            f"password in {PASSWORD_VARIABLE} if you like): `openssl genpkey -algorithm ed25519 -out key.pem`",
        )
    if b"-----BEGIN" not in raw or b"PRIVATE KEY-----" not in raw:
        raise UsageError(
            f"{path}: --sign-key holds no PEM private key",
            hint="give the private key (a public key only verifies: pass it to `affidavit verify --key`)",
        )
    password: bytes | None = None
    if _ENCRYPTED_PKCS8 in raw:
        secret = os.environ.get(PASSWORD_VARIABLE)
        if not secret:
            raise UsageError(
                f"{path}: --sign-key is encrypted and {PASSWORD_VARIABLE} is not set",
                hint=f"put the key's password in the {PASSWORD_VARIABLE} environment variable",
            )
        password = secret.encode("utf-8")
    try:
        key = load_pem_private_key(raw, password=password)
    except (ValueError, TypeError):
        why = (
            f"cannot be decrypted with the password in {PASSWORD_VARIABLE}"
            if password is not None
            else "is not a readable PEM private key"
        )
        raise UsageError(f"{path}: --sign-key {why}") from None
    except Exception as exc:  # UnsupportedAlgorithm
        raise UsageError(
            f"{path}: --sign-key uses an algorithm affidavit cannot sign with ({type(exc).__name__})"
        ) from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        algorithm = ECDSA_P256
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = ED25519
    else:
        kind = f"{type(key).__name__.removeprefix('_')}" + (
            f" on {key.curve.name}" if isinstance(key, ec.EllipticCurvePrivateKey) else ""
        )
        raise UsageError(
            f"{path}: --sign-key is a {kind} key; affidavit signs with ECDSA P-256 or Ed25519",
            hint="`openssl genpkey -algorithm ed25519` or `openssl genpkey -algorithm EC -pkeyopt "
            "ec_paramgen_curve:P-256` makes one",
        )
    public = key.public_key()
    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    loaded = PublicKey(key=public, key_id=key_fingerprint(der), source=str(path), der=der)
    return Signer(key=key, algorithm=algorithm, public=loaded)


def check_verifying_key(key: PublicKey) -> str | None:
    """Why ``key`` cannot check a bundle signature (not ECDSA P-256 or Ed25519), or ``None``."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key.key, ec.EllipticCurvePublicKey) and isinstance(key.key.curve, ec.SECP256R1):
        return None
    if isinstance(key.key, ed25519.Ed25519PublicKey):
        return None
    return f"{key.source}: a bundle is signed with ECDSA P-256 or Ed25519, and this key is neither"


def signature_valid(key: PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``key``'s over ``data``, in exactly the encoding ``Signer.sign``
    writes (DER for ECDSA: the raw ``r || s`` form other verifiers also accept is not taken)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    try:
        if isinstance(key.key, ec.EllipticCurvePublicKey):
            key.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key.key, ed25519.Ed25519PublicKey):
            key.key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
