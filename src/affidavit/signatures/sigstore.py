"""Sigstore bundles verified offline against a pinned trust root.

Keyless bundles (a Fulcio certificate) are verified with sigstore-python's ``Verifier``: the
certificate chain at the signing time, its SCT, the transparency-log entry (inclusion proof
and checkpoint, signed entry timestamp), signed RFC 3161 timestamps, the signature, and the
consistency of the log entry with the bundle. Message signatures are checked over the digest
the bundle signs; DSSE envelopes over their payload. sigstore-python receives a policy that
accepts any certificate: affidavit records the certificate's identity and issuer, and applies
the user's explicit identity check (``--identity``/``--issuer``) itself when one was given, so
that "the cryptography failed" and "someone else signed" stay two findings. Whether the signer
may sign for an environment is decided by the rules (``policies/lib/signers.rego``).

Two kinds of bundle that the conformance suite expects to pass are outside what
sigstore-python 4 verifies, and affidavit verifies them another way:

- DSSE bundles whose log entry is ``intoto/0.0.2`` (Rekor v1's older encoding, still used by
  slsa-github-generator v2 and npm): the library refuses to use their integrated time. A
  ``Verifier`` subclass accepts it (the time is covered by the signed entry timestamp, which
  the library verifies with the log entry), runs the library's certificate, SCT and log
  checks, and affidavit checks the envelope signature and that the log entry records this
  envelope (payload hash, signatures, certificate).
- bundles signed with a managed key (``verificationMaterial.publicKey``): checked against the
  public key the user gives, the log entry (inclusion proof, checkpoint, signed entry
  timestamp) against the trust root's Rekor keys, and the log entry's consistency with the
  signature, digest and key.

What is neither verified by the library nor by these paths (a v0.1 bundle whose inclusion
proof lacks a checkpoint, an unknown media type) is recorded as not verified with the reason.
The subclass and the log-entry check use sigstore-python internals (``Verifier`` private
methods, ``TransparencyLogEntry._verify``); ``pyproject.toml`` pins ``sigstore<5`` and the
conformance tests fail if they change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json, shape_of
from affidavit.errors import InputError
from affidavit.signatures import keys
from affidavit.signatures.identity import certificate_identity
from affidavit.signatures.result import SignatureCheck, library_message
from affidavit.signatures.trust import LoadedRoot, load_trusted_root

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from affidavit.signatures.result import Settings

BUNDLE_MEDIA_TYPES: dict[str, str] = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1": "0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2": "0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3": "0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json": "0.3",
}
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"


@dataclass(slots=True)
class BundleVerification:
    """The outcome for one bundle: the check, what the bundle is, and its DSSE payload if any."""

    check: SignatureCheck
    bundle: dict[str, Any]
    trust_root: dict[str, Any] | None = None
    payload_type: str | None = None
    payload: bytes | None = None
    notes: list[str] = field(default_factory=list)


def describe_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """``data.bundle`` of a record: media type, version, content and Rekor version."""
    media_type = data.get("mediaType")
    media = media_type if isinstance(media_type, str) else None
    version = BUNDLE_MEDIA_TYPES.get(media or "")
    if version is None and media and media.startswith(BUNDLE_MEDIA_PREFIX):
        version = _version_from_media_type(media)
    content = (
        "dsse" if "dsseEnvelope" in data else "message_signature" if "messageSignature" in data else None
    )
    entry = _first_tlog_entry(data)
    kind = _kind_version(entry)
    rekor_version: int | None = None
    if kind is not None:
        rekor_version = 2 if kind in ("hashedrekord/0.0.2", "dsse/0.0.2") else 1
    material = data.get("verificationMaterial")
    timestamps = 0
    if isinstance(material, dict):
        tsd = material.get("timestampVerificationData")
        if isinstance(tsd, dict) and isinstance(tsd.get("rfc3161Timestamps"), list):
            timestamps = len(tsd["rfc3161Timestamps"])
    return {
        "media_type": media,
        "version": version,
        "content": content,
        "rekor_version": rekor_version,
        "tlog_entry_kind": kind,
        "signed_timestamps": timestamps,
    }


def _version_from_media_type(media: str) -> str | None:
    """The version an unknown bundle media type names (``...;version=9`` or ``bundle.v9+json``)."""
    if ";version=" in media:
        return media.rsplit(";version=", 1)[1] or None
    middle = media[len(BUNDLE_MEDIA_PREFIX) :]
    if middle.startswith(".v") and middle.endswith("+json"):
        return middle[2:-5] or None
    return None


def _first_tlog_entry(data: dict[str, Any]) -> dict[str, Any] | None:
    """The bundle's first transparency-log entry (bundles have exactly one), if any."""
    material = data.get("verificationMaterial")
    entries = material.get("tlogEntries") if isinstance(material, dict) else None
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return entries[0]
    return None


# Rekor entry kinds and versions, named in messages (another is described, not quoted).
_KNOWN_KINDS = frozenset(
    {"hashedrekord/0.0.1", "hashedrekord/0.0.2", "intoto/0.0.1", "intoto/0.0.2", "dsse/0.0.1", "dsse/0.0.2"}
)


def _kind_version(entry: dict[str, Any] | None) -> str | None:
    """``kind/version`` of a log entry (``hashedrekord/0.0.1``), if it says."""
    if entry is None:
        return None
    kv = entry.get("kindVersion")
    if isinstance(kv, dict) and isinstance(kv.get("kind"), str) and isinstance(kv.get("version"), str):
        return f"{kv['kind']}/{kv['version']}"
    return None


def tlog_summary(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """``tlog`` of a verification: log index, integrated time (Unix seconds), log id (hex)."""
    if entry is None:
        return None
    log_id = None
    raw_id = entry.get("logId")
    if isinstance(raw_id, dict) and isinstance(raw_id.get("keyId"), str):
        try:
            log_id = base64.b64decode(raw_id["keyId"], validate=True).hex()
        except (binascii.Error, ValueError):
            log_id = raw_id["keyId"]
    return {
        "log_index": _int(entry.get("logIndex")),
        "integrated_time": _int(entry.get("integratedTime")),
        "log_id": log_id,
        "kind": _kind_version(entry),
    }


def _int(value: Any) -> int | None:
    """An integer field that protobuf JSON may write as a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def dsse_payload(envelope: Any) -> tuple[str | None, bytes | None]:
    """The payload type and decoded payload of a DSSE envelope (``None`` where unreadable)."""
    if not isinstance(envelope, dict):
        return None, None
    payload_type = envelope.get("payloadType")
    payload: bytes | None = None
    if isinstance(envelope.get("payload"), str):
        try:
            payload = base64.b64decode(envelope["payload"], validate=True)
        except (binascii.Error, ValueError):
            payload = None
    return (payload_type if isinstance(payload_type, str) else None), payload


def statement_digests(payload: bytes | dict[str, Any] | None) -> list[str]:
    """``alg:hex`` of every subject digest of an in-toto Statement, in statement order.

    Each subject contributes its ``sha256`` first, then its other algorithms; repeats are dropped.
    """
    statement: Any = payload
    if isinstance(payload, bytes):
        try:
            statement = load_json(payload, "the DSSE payload")
        except InputError:  # not JSON, or a key named twice: no digest can be believed
            return []
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    out: list[str] = []
    if isinstance(subjects, list):
        for subject in subjects:
            digests = subject.get("digest") if isinstance(subject, dict) else None
            if not isinstance(digests, dict):
                continue
            pairs = sorted(
                (
                    (str(alg).lower(), value.lower())
                    for alg, value in digests.items()
                    if isinstance(value, str)
                ),
                key=lambda pair: (pair[0] != "sha256", pair[0]),
            )
            out.extend(f"{alg}:{value}" for alg, value in pairs if f"{alg}:{value}" not in out)
    return out


def message_digest(data: dict[str, Any]) -> bytes | None:
    """The SHA-256 digest a message-signature bundle says it signs (or its log entry records)."""
    signature = data.get("messageSignature")
    if isinstance(signature, dict):
        md = signature.get("messageDigest")
        if isinstance(md, dict) and md.get("algorithm") == "SHA2_256" and isinstance(md.get("digest"), str):
            try:
                value = base64.b64decode(md["digest"], validate=True)
            except (binascii.Error, ValueError):
                value = b""
            if len(value) == 32:
                return value
    body = _entry_body(_first_tlog_entry(data))
    spec = body.get("spec") if isinstance(body, dict) else None
    if isinstance(spec, dict):
        hashed = spec.get("data", {}).get("hash") if isinstance(spec.get("data"), dict) else None
        if isinstance(hashed, dict) and hashed.get("algorithm") == "sha256":
            try:
                return bytes.fromhex(str(hashed.get("value")))
            except ValueError:
                return None
        v2 = spec.get("hashedRekordV002")
        if isinstance(v2, dict) and isinstance(v2.get("data"), dict):
            try:
                value = base64.b64decode(str(v2["data"].get("digest")), validate=True)
            except (binascii.Error, ValueError):
                return None
            return value if len(value) == 32 else None
    return None


def _entry_body(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The decoded ``canonicalizedBody`` of a log entry, if it is a JSON object.

    A body that is not JSON, or names a key twice, is ``None``: every check that needs the body
    then fails, since which of two values the log meant cannot be known.
    """
    if entry is None or not isinstance(entry.get("canonicalizedBody"), str):
        return None
    try:
        body = load_json(base64.b64decode(entry["canonicalizedBody"], validate=True), "the log entry body")
    except (binascii.Error, ValueError, InputError):
        return None
    return body if isinstance(body, dict) else None


def certificate_from_json(data: dict[str, Any]) -> Certificate | None:
    """The signing (leaf) certificate named by a bundle's verification material, unverified."""
    from cryptography.x509 import load_der_x509_certificate

    material = data.get("verificationMaterial")
    if not isinstance(material, dict):
        return None
    raw: Any = None
    if isinstance(material.get("certificate"), dict):
        raw = material["certificate"].get("rawBytes")
    elif isinstance(material.get("x509CertificateChain"), dict):
        certs = material["x509CertificateChain"].get("certificates")
        if isinstance(certs, list) and certs and isinstance(certs[0], dict):
            raw = certs[0].get("rawBytes")
    if not isinstance(raw, str):
        return None
    try:
        return load_der_x509_certificate(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return None


def verify_bundle(raw: bytes, data: dict[str, Any], settings: Settings) -> BundleVerification:
    """Verify one Sigstore bundle (``raw`` bytes, ``data`` its parsed JSON) offline.

    Never raises for a bundle that fails verification; raises ``InputError`` only when a
    setting cannot be used at all (an unreadable trust root or key file).
    """
    info = describe_bundle(data)
    check = SignatureCheck(method="sigstore-bundle", tlog=tlog_summary(_first_tlog_entry(data)))
    payload_type, payload = dsse_payload(data.get("dsseEnvelope"))
    result = BundleVerification(check=check, bundle=info, payload_type=payload_type, payload=payload)
    if info["content"] == "dsse":
        signed = statement_digests(payload)
    else:
        digest = message_digest(data)
        signed = [f"sha256:{digest.hex()}"] if digest is not None else []
    cert = certificate_from_json(data)
    if cert is not None:
        identities, issuer = certificate_identity(cert)
        check.identity = _shown_identity(identities, settings)
        check.issuer = issuer

    if info["media_type"] not in BUNDLE_MEDIA_TYPES:
        check.signature = False
        known = ", ".join(sorted(set(BUNDLE_MEDIA_TYPES.values())))
        check.fail(
            f"unsupported bundle media type ({shape_of(info['media_type'])}, not a Sigstore bundle "
            f"media type affidavit knows; known versions: {known})"
        )
        if settings.policy.requested and (missing := settings.policy.missing()) is not None:
            check.fail(missing)
        check.check_artifact(signed, settings)
        return result

    material = data.get("verificationMaterial")
    if isinstance(material, dict) and "publicKey" in material:
        _verify_with_key(raw, data, settings, result, signed)
    else:
        root = load_trusted_root(settings.trusted_root)
        result.trust_root = root.describe()
        _verify_keyless(raw, data, settings, result, root, signed)
    _not_in_the_future(check, settings)
    check.check_artifact(signed, settings)
    return result


CLOCK_SKEW_SECONDS = 300


def _not_in_the_future(check: SignatureCheck, settings: Settings) -> None:
    """A log entry integrated after the run's clock (beyond a little skew) is not believed."""
    integrated = (check.tlog or {}).get("integrated_time")
    if not isinstance(integrated, int) or not settings.now:
        return
    try:
        now = datetime.fromisoformat(settings.now.replace("Z", "+00:00"))
    except ValueError:
        return
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if integrated > now.timestamp() + CLOCK_SKEW_SECONDS:
        check.signature = False
        when = datetime.fromtimestamp(integrated, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        check.fail(f"the log entry says it was integrated at {when}, after the run's clock ({settings.now})")


def _shown_identity(identities: list[str], settings: Settings) -> str | None:
    """The certificate identity to record: the one the policy allows, else the first."""
    for name in identities:
        if settings.policy.allows_identity(name):
            return name
    return identities[0] if identities else None


class _RecordOnly:
    """A verification policy that accepts every certificate: the identity is checked afterwards."""

    def verify(self, cert: Certificate) -> None:
        """Accept ``cert`` (affidavit applies its own identity policy to it separately)."""
        return None


def _verify_keyless(
    raw: bytes,
    data: dict[str, Any],
    settings: Settings,
    result: BundleVerification,
    root: LoadedRoot,
    signed: list[str],
) -> None:
    """Verify a certificate-signed bundle with sigstore-python (or the intoto/0.0.2 path)."""
    from sigstore import __version__ as sigstore_version
    from sigstore.models import Bundle

    check = result.check
    if _first_tlog_entry(data) is None:
        check.signature = False
        check.fail(
            "the bundle has no transparency-log entry: without one the signing time and the "
            "certificate cannot be verified against the trust root"
        )
        _policy_on(check, settings, certificate_from_json(data))
        return
    try:
        bundle = Bundle.from_json(raw)
    except _sigstore_errors() as exc:
        check.signature = False
        check.fail(f"sigstore-python {sigstore_version} rejects the bundle: {library_message(exc)}")
        if "inclusion proof, with checkpoint" in str(exc):
            check.fail(
                "the log entry's inclusion proof has no checkpoint (an old v0.1 bundle); "
                "`sigstore plumbing fix-bundle` repairs it, but needs the network"
            )
        _policy_on(check, settings, None)
        return

    cert = bundle.signing_certificate
    kind = _kind_version(_first_tlog_entry(data))
    policy = _RecordOnly()
    try:
        if result.bundle["content"] == "dsse":
            if kind == "intoto/0.0.2":
                _verify_intoto_v002(bundle, data, root)
                how = (
                    "sigstore-python checked the certificate chain, SCT and log entry; affidavit "
                    "checked the envelope signature and that the intoto/0.0.2 entry records it"
                )
            else:
                _verifier(root).verify_dsse(bundle, policy)
                how = "sigstore-python verified the DSSE envelope, certificate chain, SCT and log entry"
        else:
            if not signed:
                raise _VerifyFailed("the bundle names no SHA-256 message digest")
            _verifier(root).verify_artifact(_hashed(signed[0]), bundle, policy)
            how = (
                "sigstore-python verified the signature over the digest, certificate chain, SCT and log entry"
            )
    except _VerifyFailed as exc:
        check.signature = False
        check.fail(str(exc))
    except _sigstore_errors() as exc:
        check.signature = False
        check.fail(f"verification failed: {library_message(exc)}")
    else:
        check.signature = True
        check.checked.append(f"{how}, offline, against {root.source}")
    _policy_on(check, settings, cert)


SIGNER_RECORDED = (
    "who signed is recorded (the certificate's identity and issuer), not judged here: no --identity/"
    "--issuer was given, so the rules judge the signer against the environment's rule data"
)


def _policy_on(check: SignatureCheck, settings: Settings, cert: Certificate | None) -> None:
    """Apply the user's explicit identity check to the signing certificate, when one was asked for.

    Without one, the signer is only recorded (``identity_ok`` stays ``None``): who may sign is
    decided by the rules. Half a policy (an identity without its issuer, or the reverse) fails
    closed, as does a certificate that cannot be read.
    """
    if not settings.policy.requested:
        check.identity_ok = None
        if cert is None:
            check.fail("no usable signing certificate: who signed cannot be recorded")
        else:
            check.checked.append(SIGNER_RECORDED)
        return
    if settings.policy.missing() is not None:
        check.identity_ok = None
        check.fail(settings.policy.missing() or "")
        return
    if cert is None:
        check.identity_ok = None
        check.fail("no usable signing certificate: the identity could not be checked")
        return
    identities, issuer = certificate_identity(cert)
    problem = settings.policy.check(identities, issuer)
    if problem is None:
        check.identity_ok = True
        check.checked.append("the certificate's identity and issuer match the identity policy")
    else:
        check.identity_ok = False
        check.fail(problem)


class _VerifyFailed(Exception):
    """A check affidavit makes itself failed (the message says which)."""


def _sigstore_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "this bundle does not verify" (never a crash)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from sigstore.errors import Error as SigstoreError

    return (
        SigstoreError,
        InvalidSignature,
        UnsupportedAlgorithm,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
    )


def _hashed(digest: str) -> Any:
    """sigstore-python's ``Hashed`` for a ``sha256:<hex>`` digest."""
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(digest.split(":", 1)[1]))


def _verifier(root: LoadedRoot) -> Any:
    """A sigstore-python ``Verifier`` for the loaded trust root (offline: nothing fetched)."""
    from sigstore.verify import Verifier

    return Verifier(trusted_root=root.root)


@cache
def _intoto_verifier_class() -> type[Any]:
    """A ``Verifier`` that also takes the integrated time of ``intoto/0.0.2`` log entries."""
    from datetime import UTC, datetime

    from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
    from sigstore.errors import VerificationError
    from sigstore.verify import Verifier

    class IntotoV002Verifier(Verifier):
        """Establishes the signing time from signed timestamps and the log's integrated time."""

        def _establish_time(self, bundle: Any) -> list[Any]:
            """Verified times: RFC 3161 timestamps, plus the integrated time when promised.

            The integrated time is only taken with an inclusion promise, whose signature
            (the signed entry timestamp, which covers it) ``_verify_common_signing_cert``
            verifies with the log entry.
            """
            times: list[Any] = []
            if bundle.verification_material.timestamp_verification_data:
                if not self._trusted_root.get_timestamp_authorities():
                    raise VerificationError(
                        "the bundle has signed timestamps but the trust root has no timestamp authority"
                    )
                times.extend(self._verify_timestamp_authority(bundle))
            entry = bundle.log_entry._inner
            if entry.integrated_time and entry.inclusion_promise:
                when = datetime.fromtimestamp(entry.integrated_time, tz=UTC)
                times.append(
                    TimestampVerificationResult(source=TimestampSource.TRANSPARENCY_SERVICE, time=when)
                )
            return times

    return IntotoV002Verifier


def _verify_intoto_v002(bundle: Any, data: dict[str, Any], root: LoadedRoot) -> None:
    """Verify a keyless DSSE bundle whose log entry is ``intoto/0.0.2``; raises when it fails."""
    verifier = _intoto_verifier_class()(trusted_root=root.root)
    verifier._verify_common_signing_cert(bundle, _RecordOnly())
    envelope = data.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise _VerifyFailed("the bundle has no DSSE envelope")
    problem = keys.verify_envelope(bundle.signing_certificate.public_key(), envelope)
    if problem is not None:
        raise _VerifyFailed(f"DSSE signature: {problem}")
    _check_intoto_body(
        _entry_body(_first_tlog_entry(data)), envelope, _cert_matcher(bundle.signing_certificate)
    )


def _cert_matcher(cert: Certificate) -> Any:
    """A predicate: does a log entry's ``publicKey`` (base64 PEM) hold this certificate?"""
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import load_pem_x509_certificate

    want = cert.public_bytes(Encoding.DER)

    def matches(pem: bytes) -> bool:
        """True when ``pem`` (from the log entry) is this very certificate."""
        try:
            return load_pem_x509_certificate(pem).public_bytes(Encoding.DER) == want
        except ValueError:
            return False

    return matches


def _key_matcher(key: keys.PublicKey) -> Any:
    """A predicate: does a log entry's ``publicKey`` (base64 PEM) hold this public key?"""

    def matches(pem: bytes) -> bool:
        """True when ``pem`` (from the log entry) is this very public key."""
        loaded = keys.parse_public_key(pem)
        return not isinstance(loaded, str) and loaded[1] == key.der

    return matches


def _b64(value: Any) -> bytes:
    """Decode a base64 field of a log entry; a missing or bad field fails the check."""
    if not isinstance(value, str):
        raise _VerifyFailed("the log entry is malformed (a base64 field is missing)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _VerifyFailed("the log entry is malformed (a field is not base64)") from None


def _check_intoto_body(body: dict[str, Any] | None, envelope: dict[str, Any], signer: Any) -> None:
    """The ``intoto/0.0.2`` entry must record this envelope: payload hash, type, signatures, signer."""
    if body is None or body.get("kind") != "intoto" or body.get("apiVersion") != "0.0.2":
        raise _VerifyFailed("the log entry is not an intoto/0.0.2 entry")
    content = body.get("spec", {}).get("content") if isinstance(body.get("spec"), dict) else None
    if not isinstance(content, dict):
        raise _VerifyFailed("the intoto log entry has no content")
    payload = _b64(envelope.get("payload"))
    payload_hash = content.get("payloadHash")
    if not (
        isinstance(payload_hash, dict)
        and payload_hash.get("algorithm") == "sha256"
        and payload_hash.get("value") == hashlib.sha256(payload).hexdigest()
    ):
        raise _VerifyFailed("the log entry's payload hash is not the hash of this envelope's payload")
    logged = content.get("envelope")
    if not isinstance(logged, dict) or logged.get("payloadType") != envelope.get("payloadType"):
        raise _VerifyFailed("the log entry records another payload type")
    if "payload" in logged and _b64(_b64(logged.get("payload")).decode("ascii", "replace")) != payload:
        raise _VerifyFailed("the log entry records another payload")
    ours = sorted(_b64(s.get("sig")) for s in envelope.get("signatures", []) if isinstance(s, dict))
    theirs_raw = logged.get("signatures")
    if not isinstance(theirs_raw, list) or not theirs_raw:
        raise _VerifyFailed("the log entry records no signatures")
    theirs = []
    for item in theirs_raw:
        if not isinstance(item, dict):
            raise _VerifyFailed("the log entry's signatures are malformed")
        theirs.append(_b64(_b64(item.get("sig")).decode("ascii", "replace")))
        if not signer(_b64(item.get("publicKey"))):
            raise _VerifyFailed("the log entry names another signing certificate or key")
    if sorted(theirs) != ours:
        raise _VerifyFailed("the log entry records other signatures than the envelope's")


def _check_dsse_body(body: dict[str, Any] | None, envelope: dict[str, Any], signer: Any) -> None:
    """A Rekor ``dsse/0.0.1`` entry must record this payload's hash, signatures and signer."""
    if body is None or body.get("kind") != "dsse":
        raise _VerifyFailed("the log entry is not a dsse entry")
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    payload = _b64(envelope.get("payload"))
    payload_hash = spec.get("payloadHash") if isinstance(spec, dict) else None
    if not (
        isinstance(payload_hash, dict) and payload_hash.get("value") == hashlib.sha256(payload).hexdigest()
    ):
        raise _VerifyFailed("the log entry's payload hash is not the hash of this envelope's payload")
    ours = sorted(_b64(s.get("sig")) for s in envelope.get("signatures", []) if isinstance(s, dict))
    logged = spec.get("signatures") if isinstance(spec, dict) else None
    if not isinstance(logged, list) or not logged:
        raise _VerifyFailed("the log entry records no signatures")
    theirs = []
    for item in logged:
        if not isinstance(item, dict):
            raise _VerifyFailed("the log entry's signatures are malformed")
        theirs.append(_b64(item.get("signature")))
        if not signer(_b64(item.get("verifier"))):
            raise _VerifyFailed("the log entry names another signing key")
    if sorted(theirs) != ours:
        raise _VerifyFailed("the log entry records other signatures than the envelope's")


def _check_hashedrekord_body(
    body: dict[str, Any] | None, digest: bytes, signature: bytes, key: keys.PublicKey
) -> None:
    """A ``hashedrekord`` entry (0.0.1 or 0.0.2) must record this digest, signature and key."""
    if body is None or body.get("kind") != "hashedrekord":
        raise _VerifyFailed("the log entry is not a hashedrekord entry")
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    if body.get("apiVersion") == "0.0.2":
        inner = spec.get("hashedRekordV002")
        if not isinstance(inner, dict):
            raise _VerifyFailed("the hashedrekord/0.0.2 entry has no content")
        data = inner.get("data") if isinstance(inner.get("data"), dict) else {}
        sig = inner.get("signature") if isinstance(inner.get("signature"), dict) else {}
        assert isinstance(data, dict) and isinstance(sig, dict)
        if _b64(data.get("digest")) != digest:
            raise _VerifyFailed("the log entry records another artefact digest")
        if _b64(sig.get("content")) != signature:
            raise _VerifyFailed("the log entry records another signature")
        verifier = sig.get("verifier") if isinstance(sig.get("verifier"), dict) else {}
        assert isinstance(verifier, dict)
        public = verifier.get("publicKey") if isinstance(verifier.get("publicKey"), dict) else {}
        assert isinstance(public, dict)
        if _b64(public.get("rawBytes")) != key.der:
            raise _VerifyFailed("the log entry names another signing key")
        return
    data = spec.get("data") if isinstance(spec.get("data"), dict) else {}
    sig = spec.get("signature") if isinstance(spec.get("signature"), dict) else {}
    assert isinstance(data, dict) and isinstance(sig, dict)
    hashed = data.get("hash") if isinstance(data.get("hash"), dict) else {}
    assert isinstance(hashed, dict)
    if hashed.get("algorithm") != "sha256" or hashed.get("value") != digest.hex():
        raise _VerifyFailed("the log entry records another artefact digest")
    if _b64(sig.get("content")) != signature:
        raise _VerifyFailed("the log entry records another signature")
    public = sig.get("publicKey") if isinstance(sig.get("publicKey"), dict) else {}
    assert isinstance(public, dict)
    if not _key_matcher(key)(_b64(public.get("content"))):
        raise _VerifyFailed("the log entry names another signing key")


def _verify_with_key(
    raw: bytes,
    data: dict[str, Any],
    settings: Settings,
    result: BundleVerification,
    signed: list[str],
) -> None:
    """Verify a bundle made with a managed key against the public key the user gave."""
    check = result.check
    check.method = "sigstore-bundle-key"
    material = data.get("verificationMaterial", {})
    hint = material.get("publicKey", {}).get("hint") if isinstance(material.get("publicKey"), dict) else None
    if settings.public_key is None:
        check.signature = None
        check.identity_ok = None
        check.fail(
            f"the bundle is signed with a key ({'it names a key hint' if hint else 'no key hint'}), not a certificate: "
            "pass the public key (--key FILE) to verify it"
        )
        return
    loaded = keys.load_public_key(settings.public_key)
    if isinstance(loaded, str):
        check.signature = False
        check.identity_ok = False
        check.fail(loaded)
        return
    check.key_id = loaded.key_id
    check.identity_ok = True
    check.checked.append(f"signed by the given public key {settings.public_key} ({loaded.key_id})")
    if isinstance(hint, str) and hint == base64.b64encode(bytes.fromhex(loaded.key_id[7:])).decode():
        check.checked.append("the bundle's key hint names the given key")
    root = load_trusted_root(settings.trusted_root)
    result.trust_root = root.describe()
    try:
        _verify_key_material(raw, data, loaded, root, result, signed)
    except _VerifyFailed as exc:
        check.signature = False
        check.fail(str(exc))
    except _sigstore_errors() as exc:
        check.signature = False
        check.fail(f"verification failed: {library_message(exc)}")
    else:
        check.signature = True


def _verify_key_material(
    raw: bytes,
    data: dict[str, Any],
    key: keys.PublicKey,
    root: LoadedRoot,
    result: BundleVerification,
    signed: list[str],
) -> None:
    """Check the log entry, the signature and their consistency for a key-signed bundle; raises when one fails."""
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.models import TransparencyLogEntry
    from sigstore_models.bundle.v1 import Bundle as BundleModel

    check = result.check
    model = BundleModel.from_json(raw)
    entries = model.verification_material.tlog_entries or []
    if len(entries) != 1:
        raise _VerifyFailed(f"expected exactly one transparency-log entry, found {len(entries)}")
    entry = TransparencyLogEntry(entries[0])  # requires an inclusion proof with a checkpoint
    entry._verify(root.root.rekor_keyring(KeyringPurpose.VERIFY))
    body = _entry_body(_first_tlog_entry(data))
    envelope = data.get("dsseEnvelope")
    if isinstance(envelope, dict):
        problem = keys.verify_envelope(key.key, envelope)
        if problem is not None:
            raise _VerifyFailed(f"DSSE signature: {problem}")
        kind = _kind_version(_first_tlog_entry(data))
        if kind == "intoto/0.0.2":
            _check_intoto_body(body, envelope, _key_matcher(key))
        elif kind == "dsse/0.0.1":
            _check_dsse_body(body, envelope, _key_matcher(key))
        else:
            shown = kind if kind in _KNOWN_KINDS else "another kind of"
            raise _VerifyFailed(f"a key-signed DSSE bundle with a {shown} log entry is not supported")
        what = "the DSSE envelope signature"
    else:
        if model.message_signature is None or not signed:
            raise _VerifyFailed("the bundle has no message signature with a SHA-256 digest")
        digest = bytes.fromhex(signed[0].split(":", 1)[1])
        signature = model.message_signature.signature
        problem = keys.verify_prehashed(key.key, signature, digest)
        if problem is not None:
            raise _VerifyFailed(problem)
        _check_hashedrekord_body(body, digest, signature, key)
        what = "the signature over the digest"
    check.checked.append(
        f"affidavit verified {what} with the key, the log entry's inclusion proof, checkpoint and "
        f"signed entry timestamp against {root.source}, and that the entry records this signature"
    )
