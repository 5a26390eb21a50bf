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
the variable cosign reads. cosign's own encrypted format (``cosign generate-key-pair``:
``ENCRYPTED SIGSTORE PRIVATE KEY``, ``ENCRYPTED COSIGN PRIVATE KEY`` before cosign 2) is read with
the same password when PyNaCl is installed: it is a go-tuf ``encrypted`` document, scrypt then a
NaCl secretbox (XSalsa20-Poly1305, which neither ``cryptography`` nor the standard library
provides), around the key's PKCS#8 DER; without PyNaCl it is refused with that reason. ECDSA
signatures are deterministic
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
    try:
        raw = read_user_file(path, MAX_KEY_BYTES)
    except InputError as exc:
        raise UsageError(f"{path}: --sign-key {exc.detail}") from None
    key: Any
    if any(marker in raw for marker in _COSIGN_MARKERS):
        key = _cosign_key(raw, path)
    else:
        key = _pem_key(raw, path)
    return _signer(key, path)


def _pem_key(raw: bytes, path: Path) -> Any:
    """A PEM private key (PKCS#8, encrypted with ``COSIGN_PASSWORD``, or SEC 1)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

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
    return key


def _cosign_key(raw: bytes, path: Path) -> Any:
    """The private key of a cosign ``ENCRYPTED SIGSTORE PRIVATE KEY`` (or ``ENCRYPTED COSIGN
    PRIVATE KEY``) file: a go-tuf ``encrypted`` JSON document (scrypt over ``COSIGN_PASSWORD``,
    then a NaCl secretbox) holding the PKCS#8 DER of the key. The scrypt parameters are the two
    cosign has written (N 32768 or 65536, r 8, p 1) and no others, so a forged file cannot make
    the derivation take unbounded time or memory."""
    import binascii
    import hashlib
    import json

    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        import nacl.exceptions
        import nacl.secret
    except ImportError:
        raise UsageError(
            f"{path}: --sign-key is in cosign's encrypted key format, and reading it needs PyNaCl "
            "(a NaCl secretbox: XSalsa20-Poly1305), which is not installed",
            hint="`pip install pynacl`, or sign with a PEM private key (ECDSA P-256 or Ed25519)",
        ) from None
    secret = os.environ.get(PASSWORD_VARIABLE)
    if secret is None:  # cosign keys may have an empty password: only an unset variable is missing
        raise UsageError(
            f"{path}: --sign-key is a cosign encrypted key and {PASSWORD_VARIABLE} is not set",
            hint=f"put the key's password in the {PASSWORD_VARIABLE} environment variable, as for cosign",
        )
    broken = UsageError(f"{path}: --sign-key is not a readable cosign encrypted key")
    try:
        lines = raw.decode("ascii").strip().splitlines()
        body = "".join(line.strip() for line in lines if line.strip() and not line.startswith("-----"))
        document = json.loads(base64.b64decode(body, validate=True))
        kdf, cipher = document["kdf"], document["cipher"]
        params = kdf["params"]
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(cipher["nonce"], validate=True)
        ciphertext = base64.b64decode(document["ciphertext"], validate=True)
        n, r, p = params["N"], params["r"], params["p"]
    except (UnicodeDecodeError, binascii.Error, ValueError, KeyError, TypeError):
        raise broken from None
    if kdf.get("name") != "scrypt" or cipher.get("name") != "nacl/secretbox" or len(nonce) != 24:
        raise broken
    if (n, r, p) not in ((32768, 8, 1), (65536, 8, 1)):
        raise UsageError(f"{path}: --sign-key: its scrypt parameters are not ones cosign writes")
    box_key = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)
    try:
        plain = nacl.secret.SecretBox(box_key).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise UsageError(
            f"{path}: --sign-key cannot be decrypted with the password in {PASSWORD_VARIABLE}"
        ) from None
    try:
        return load_der_private_key(plain, password=None)
    except (ValueError, TypeError):
        raise broken from None
    except Exception as exc:  # UnsupportedAlgorithm
        raise UsageError(
            f"{path}: --sign-key uses an algorithm affidavit cannot sign with ({type(exc).__name__})"
        ) from None


def _signer(key: Any, path: Path) -> Signer:
    """A ``Signer`` for ``key``, if it is ECDSA P-256 or Ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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
