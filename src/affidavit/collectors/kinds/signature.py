"""The shared vocabulary of signature evidence: what a verification is checked against, and its record.

Used by every format that verifies a signature (``formats.sigstore_bundle``, ``formats.cosign``,
``formats.attestation``): ``verification_settings`` turns the read options into the
``affidavit.signatures`` settings, and ``signature_data`` is the ``data`` of a ``signature``
record (and ``data.signature`` of a signed ``provenance`` record).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.model.time import normalise
from affidavit.signatures.identity import IdentityPolicy
from affidavit.signatures.result import Settings

if TYPE_CHECKING:
    from affidavit.collectors.interface import CollectOptions
    from affidavit.signatures.result import SignatureCheck


def verification_settings(options: CollectOptions) -> Settings:
    """The verification settings of ``options``: the artefact (a digest, or a file hashed to its
    digest), trust root, the user's explicit identity check (``--identity``/``--issuer``; none: the
    signer is recorded and the rules judge it), public key, and the detached signature and payload
    files of cosign's own formats."""
    return Settings.build(
        policy=IdentityPolicy.build(options.identity, options.issuer),
        artifact_digest=options.artifact_digest,
        artifact=options.artifact,
        trusted_root=options.trusted_root,
        public_key=options.public_key,
        signature=options.signature,
        payload=options.payload,
        now=options.now,
    )


def signature_data(
    checks: list[SignatureCheck],
    settings: Settings,
    *,
    bundle: dict[str, Any] | None = None,
    trust_root: dict[str, Any] | None = None,
    extra_reasons: list[str] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a signature record (also ``data.signature`` of a provenance record).

    ``verified`` is true when there is at least one verification and every one verified.
    ``reasons`` gathers every reason against, in order, without repeats.
    """
    verifications = [c.to_json() for c in checks]
    reasons: list[str] = []
    for item in [*(extra_reasons or []), *(r for c in checks for r in c.reasons)]:
        if item not in reasons:
            reasons.append(item)
    policy = settings.policy.describe()
    policy["public_key"] = str(settings.public_key) if settings.public_key is not None else None
    return {
        "verified": bool(checks) and all(c.verified for c in checks),
        "verifications": verifications,
        "bundle": bundle,
        "policy": policy,
        "artifact_digest": settings.artifact_digest,
        "trust_root": trust_root,
        "reasons": reasons,
    }


def unix_to_iso(value: Any) -> str | None:
    """An ISO 8601 UTC time from Unix seconds (``None`` when absent or not a number)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return normalise(value, epoch=True)
