"""Sigstore bundles: signatures affidavit verifies itself, offline.

A bundle (media types v0.1, v0.2, v0.3 in both spellings) is verified by
``affidavit.signatures.sigstore`` against the trust root, explicit identity check, public key and
artefact digest of the ``CollectOptions``:

- ``trusted_root``: a ``trusted_root.json`` or ClientTrustConfig; default: the public-good root
  embedded in sigstore-python (never refreshed over the network);
- ``identity`` / ``issuer``: an explicit check of the signer the user asks for; exact, or
  ``re:<pattern>`` (a whole-value regular expression); a certificate that fails it is not
  verified. Without them the certificate's identity and issuer are recorded and the rules judge
  them against the rule data (``policies/lib/signers.rego``);
- ``public_key``: for bundles signed with a managed key;
- ``artifact_digest`` (``sha256:<hex>``) or ``artifact`` (a file, hashed): the artefact
  the signature must cover.

What a bundle yields:

- a message signature: a ``signature`` record, ``data.verifications[0]`` saying what was checked;
- a DSSE envelope carrying an in-toto Statement (an attestation): a ``provenance`` record (see
  ``affidavit.collectors.kinds.provenance``) whose ``data.signature`` holds the same signature data
  and whose ``verified`` is true only when the envelope verified.

A trusted root or ClientTrustConfig is recognised too, and refused with a message saying it is
a verification setting, not evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.collectors.envelopes import (
    BUNDLE_MEDIA_PREFIX,
    IN_TOTO_PAYLOAD_TYPE,
    decode_statement,
    single_document,
)
from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    POSSIBLE,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    require_mapping,
    shape_of,
)
from affidavit.collectors.kinds.provenance import provenance_parsed
from affidavit.collectors.kinds.signature import signature_data, unix_to_iso, verification_settings
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject
from affidavit.signatures.sigstore import verify_bundle
from affidavit.signatures.trust import TRUST_CONFIG_MEDIA_TYPE, TRUSTED_ROOT_MEDIA_TYPE

if TYPE_CHECKING:
    from affidavit.artefact import Artefact


# ---------------------------------------------------------------------------------------------
# Sigstore bundle


def detect_bundle(doc: Artefact) -> int:
    """A Sigstore bundle: its media type, or the shape of one (for a wrong or unknown media type)."""
    value = doc.try_json()
    if isinstance(value, dict):
        media = value.get("mediaType")
        if isinstance(media, str) and media.startswith(BUNDLE_MEDIA_PREFIX):
            return DEFINITE
        if isinstance(value.get("verificationMaterial"), dict) and (
            "messageSignature" in value or "dsseEnvelope" in value
        ):
            return LIKELY
        return NO
    if value is None and doc.looks_like_json and f'"{BUNDLE_MEDIA_PREFIX}' in doc.head:
        return POSSIBLE  # broken JSON or JSON Lines that start like a bundle: parse() says which
    return NO


def parse_bundle(doc: Artefact, options: CollectOptions) -> Parsed:
    """Verify a bundle; a message signature gives a signature record, an attestation a provenance one."""
    data = require_mapping(doc, single_document(doc), "$")
    problems = Problems(doc.source)
    if not isinstance(data.get("verificationMaterial"), dict):
        raise InputError(
            doc.source, "the bundle has no verificationMaterial object", path="$.verificationMaterial"
        )
    settings = verification_settings(options)
    result = verify_bundle(doc.raw, data, settings)
    check = result.check
    sig = signature_data([check], settings, bundle=result.bundle, trust_root=result.trust_root)
    signed_at = unix_to_iso((check.tlog or {}).get("integrated_time"))
    version = result.bundle["version"]

    if result.bundle["content"] == "dsse":
        if result.payload is None:
            raise InputError(
                doc.source, "the DSSE payload is missing or not base64", path="$.dsseEnvelope.payload"
            )
        if result.payload_type == IN_TOTO_PAYLOAD_TYPE:
            statement = decode_statement(doc, result.payload, "$.dsseEnvelope.payload")
            parsed = provenance_parsed(statement, sig, problems, "$.dsseEnvelope.payload")
            parsed.format_version = version
            parsed.effective_at = parsed.effective_at or signed_at
            return parsed
        problems.add(
            "$.dsseEnvelope.payloadType",
            f"the payload type ({shape_of(result.payload_type)}) is not an in-toto Statement's",
        )

    subject = Subject(name=_artifact_name(options), digest=check.subject_digest)
    return Parsed(
        data=sig,
        format_version=version,
        subject=subject,
        effective_at=signed_at,
        problems=problems.items,
        kind=EvidenceKind.SIGNATURE,
    )


def _artifact_name(options: CollectOptions) -> str | None:
    """The artefact's file name, when the artefact was given as a file."""
    return options.artifact.name if options.artifact is not None else None


# ---------------------------------------------------------------------------------------------
# Trusted roots: settings, not evidence


def detect_trust_root(doc: Artefact) -> int:
    """A Sigstore trusted root or ClientTrustConfig (by media type)."""
    value = doc.try_json()
    if isinstance(value, dict) and value.get("mediaType") in (
        TRUSTED_ROOT_MEDIA_TYPE,
        TRUST_CONFIG_MEDIA_TYPE,
    ):
        return DEFINITE
    return NO


def parse_trust_root(doc: Artefact, options: CollectOptions) -> Parsed:
    """Refuse a trust root as evidence, saying how it is meant to be used."""
    value = doc.json()
    media = value.get("mediaType") if isinstance(value, dict) else None
    what = "Sigstore ClientTrustConfig" if media == TRUST_CONFIG_MEDIA_TYPE else "Sigstore trusted root"
    raise InputError(
        doc.source,
        f"this is a {what} (whom to trust when verifying signatures), not evidence: "
        "pass it with --trusted-root",
        hint=f"affidavit collect BUNDLE --trusted-root {doc.source}",
    )


FORMATS: tuple[Format, ...] = (
    Format(
        name="sigstore-bundle",
        kind=EvidenceKind.SIGNATURE,
        detect=detect_bundle,
        parse=parse_bundle,
        description=(
            "Sigstore bundle (v0.1-v0.3; message signature or DSSE attestation), verified offline "
            "against a pinned trust root"
        ),
    ),
    Format(
        name="sigstore-trusted-root",
        kind=EvidenceKind.SIGNATURE,
        detect=detect_trust_root,
        parse=parse_trust_root,
        description="Sigstore trusted root / ClientTrustConfig: recognised and refused (a setting, not evidence)",
    ),
)
