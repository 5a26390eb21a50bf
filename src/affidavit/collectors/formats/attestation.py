"""Attestations: in-toto Statements (v0.1, v1), bare or in DSSE envelopes, normalised to provenance.

Every in-toto Statement yields one ``provenance`` record:

- ``statement_type`` (``in-toto v0.1`` / ``in-toto v1``), ``predicate_type`` and
  ``predicate_kind``: ``slsa-provenance`` (SLSA provenance v0.1, v0.2, v1),
  ``verification-summary`` (SLSA VSA), ``witness-collection`` (a witness attestation
  collection) or ``other`` (any other predicate: the statement's subjects still count);
- ``builder_id``, ``build_type``, ``source {repo, ref, commit}``: normalised from the predicate
  (SLSA v0.2 ``invocation.configSource``, v1 ``externalParameters.workflow`` or the git
  dependency in ``resolvedDependencies``, v0.1 ``materials``; a witness collection's git
  attestation); ``source.repo`` is the repository URL without ``git+`` and without ``@ref``;
- ``subjects[] {name, digest, digests}``: ``digest`` is ``sha256:<hex>`` when the subject has
  one (else the first algorithm), ``digests`` every algorithm the statement gives;
- ``slsa_level``: only what the attestation itself states: the ``SLSA_BUILD_LEVEL_n`` a VSA lists
  as verified; provenance does not state a level, so it is ``null`` there;
- a VSA's ``verification {verifier_id, verification_result, verified_levels, resource_uri,
  time_verified, policy_uri}``; a witness collection's ``witness {name, attestations[]}``;
- ``verified`` and ``signature``: the signature data of ``affidavit.collectors.kinds.signature``.
  ``verified`` is true only when the statement came from an envelope affidavit verified (the
  signature, that the envelope names the artefact being verified, and the signer when the user
  asked for an explicit check). Who signed is in ``signature.verifications[]``; whether that
  signer may sign is decided by the rules (``policies/lib/signers.rego``).

Formats read here: a bare DSSE envelope (``cosign attest``, slsa-github-generator
``.intoto.jsonl``, witness, a VSA), a bare Statement, ``gcloud artifacts docker images describe
--show-provenance`` output, and the npm registry's attestations response. Sigstore bundles that
carry an attestation are read by ``sigstore_bundle``; both normalise the Statement with
``affidavit.collectors.kinds.provenance``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from affidavit.collectors.envelopes import (
    IN_TOTO_PAYLOAD_TYPE,
    decode_statement,
    dsse_payload_bytes,
    first_of_json_lines,
    is_dsse_envelope,
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
    opt_str,
    require_list,
    require_mapping,
    shape_of,
)
from affidavit.collectors.kinds.provenance import provenance_parsed
from affidavit.collectors.kinds.signature import signature_data, verification_settings
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject
from affidavit.signatures import keys
from affidavit.signatures.identity import certificate_identity
from affidavit.signatures.result import SignatureCheck
from affidavit.signatures.sigstore import statement_digests, verify_bundle

if TYPE_CHECKING:
    from affidavit.artefact import Artefact
    from affidavit.signatures.result import Settings

# ---------------------------------------------------------------------------------------------
# Envelope verification (bare DSSE: no transparency-log entry)


def verify_bare_envelope(envelope: dict[str, Any], settings: Settings, signed: list[str]) -> SignatureCheck:
    """What can be verified of a bare DSSE envelope offline: a signature by a given key."""
    check = SignatureCheck(method="dsse")
    signatures = envelope.get("signatures") if isinstance(envelope.get("signatures"), list) else []
    assert isinstance(signatures, list)
    keyids = sorted({str(s.get("keyid")) for s in signatures if isinstance(s, dict) and s.get("keyid")})
    certs = [str(s["cert"]) for s in signatures if isinstance(s, dict) and isinstance(s.get("cert"), str)]
    if settings.public_key is not None:
        check.method = "dsse-key"
        loaded = keys.load_public_key(settings.public_key)
        if isinstance(loaded, str):
            check.signature = False
            check.identity_ok = False
            check.fail(loaded)
        else:
            check.key_id = loaded.key_id
            problem = keys.verify_envelope(loaded.key, envelope)
            check.identity_ok = True
            if problem is None:
                check.signature = True
                check.checked.append(
                    f"affidavit verified the envelope signature with the given public key {loaded.key_id}"
                )
            else:
                check.signature = False
                check.fail(f"DSSE signature: {problem}")
    elif certs:
        check.method = "dsse-certificate"
        _bare_certificate(check, envelope, certs[0])
    else:
        shown = (
            f" (its signatures name {len(keyids)} key id{'' if len(keyids) == 1 else 's'})" if keyids else ""
        )
        check.fail(f"the envelope is signed with a key{shown}: pass the public key (--key FILE) to verify it")
    check.check_artifact(signed, settings)
    return check


def _bare_certificate(check: SignatureCheck, envelope: dict[str, Any], pem: str) -> None:
    """Check a bare envelope against the certificate it carries, and say why that is not enough."""
    from cryptography.x509 import load_pem_x509_certificate

    try:
        cert = load_pem_x509_certificate(pem.encode("utf-8"))
    except ValueError:
        check.signature = False
        check.fail("the envelope's certificate is not a PEM certificate")
        return
    identities, issuer = certificate_identity(cert)
    check.identity = identities[0] if identities else None
    check.issuer = issuer
    problem = keys.verify_envelope(cert.public_key(), envelope)
    if problem is not None:
        check.signature = False
        check.fail(f"DSSE signature: {problem}")
        return
    check.checked.append("the envelope signature matches the key of the certificate it carries")
    check.fail(
        "the envelope carries a certificate but no transparency-log entry or signed timestamp: "
        "when it was signed, and so whether the certificate was valid, cannot be established offline "
        "(verify the Sigstore bundle instead)"
    )


# ---------------------------------------------------------------------------------------------
# Formats


def detect_envelope(doc: Artefact) -> int:
    """A bare DSSE envelope: ``payload``, ``payloadType`` and ``signatures``."""
    value = doc.try_json()
    if value is None:
        first = first_of_json_lines(doc)
        return POSSIBLE if is_dsse_envelope(first) else NO  # JSON Lines: parse() says so
    if not is_dsse_envelope(value):
        return NO
    return DEFINITE if value.get("payloadType") == IN_TOTO_PAYLOAD_TYPE else LIKELY


def parse_envelope(doc: Artefact, options: CollectOptions) -> Parsed:
    """A bare DSSE envelope carrying an in-toto Statement."""
    envelope = require_mapping(doc, single_document(doc), "$")
    payload_type = envelope.get("payloadType")
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise InputError(
            doc.source,
            f"the DSSE envelope's payloadType is {shape_of(payload_type)}, not an in-toto Statement "
            f"({IN_TOTO_PAYLOAD_TYPE})",
            path="$.payloadType",
        )
    payload = dsse_payload_bytes(doc, envelope.get("payload"), "$.payload")
    statement = decode_statement(doc, payload, "$.payload")
    problems = Problems(doc.source)
    require_list(doc, envelope.get("signatures"), "$.signatures")
    settings = verification_settings(options)
    check = verify_bare_envelope(envelope, settings, statement_digests(payload))
    sig = signature_data([check], settings)
    return provenance_parsed(statement, sig, problems, "$.payload")


def detect_statement(doc: Artefact) -> int:
    """A bare in-toto Statement (``_type`` https://in-toto.io/Statement/...)."""
    value = doc.try_json()
    if isinstance(value, dict) and str(value.get("_type", "")).startswith("https://in-toto.io/Statement/"):
        return DEFINITE if "subject" in value else LIKELY
    return NO


def parse_statement(doc: Artefact, options: CollectOptions) -> Parsed:
    """A bare (unsigned) in-toto Statement: recorded, never verified."""
    statement = require_mapping(doc, doc.json(), "$")
    problems = Problems(doc.source)
    settings = verification_settings(options)
    check = SignatureCheck(method="none", signature=None)
    check.fail("a bare in-toto Statement carries no signature")
    check.check_artifact(statement_digests(statement), settings)
    return provenance_parsed(statement, signature_data([check], settings), problems, "$")


def detect_gcloud(doc: Artefact) -> int:
    """``gcloud artifacts docker images describe --show-provenance --format json`` output."""
    value = doc.try_json()
    if isinstance(value, dict) and isinstance(value.get("provenance_summary"), dict):
        return DEFINITE if "image_summary" in value else LIKELY
    return NO


def parse_gcloud(doc: Artefact, options: CollectOptions) -> Parsed:
    """Google Cloud Build provenance: the signed envelope's Statement, verified with a given key."""
    value = require_mapping(doc, doc.json(), "$")
    summary = require_mapping(doc, value.get("provenance_summary"), "$.provenance_summary")
    entries = require_list(doc, summary.get("provenance"), "$.provenance_summary.provenance")
    if not entries:
        raise InputError(doc.source, "the image has no provenance", path="$.provenance_summary.provenance")
    problems = Problems(doc.source)
    if len(entries) > 1:
        problems.add(
            "$.provenance_summary.provenance",
            f"{len(entries)} provenance entries; the record is built from the first",
        )
    entry = require_mapping(doc, entries[0], "$.provenance_summary.provenance[0]")
    settings = verification_settings(options)
    envelope = entry.get("envelope")
    path = "$.provenance_summary.provenance[0].envelope.payload"
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), str):
        payload = dsse_payload_bytes(doc, envelope["payload"], path)
        statement = decode_statement(doc, payload, path)
        check = verify_bare_envelope(envelope, settings, statement_digests(payload))
    else:
        build = entry.get("build") if isinstance(entry.get("build"), dict) else {}
        assert isinstance(build, dict)
        path = "$.provenance_summary.provenance[0].build.intotoStatement"
        statement = require_mapping(doc, build.get("intotoStatement"), path)
        check = SignatureCheck(method="none")
        check.fail("the provenance has no signed envelope")
        check.check_artifact(statement_digests(statement), settings)
    parsed = provenance_parsed(statement, signature_data([check], settings), problems, path)
    image = value.get("image_summary") if isinstance(value.get("image_summary"), dict) else {}
    assert isinstance(image, dict)
    name = opt_str(image.get("fully_qualified_digest"))
    parsed.subject = Subject(
        name=name.split("@", 1)[0] if name else parsed.subject.name,
        digest=opt_str(image.get("digest")) or parsed.subject.digest,
    )
    parsed.effective_at = opt_str(entry.get("createTime")) or parsed.effective_at
    parsed.tool = None
    return parsed


def detect_npm(doc: Artefact) -> int:
    """The npm registry's attestations response: ``attestations[] {predicateType, bundle}``."""
    value = doc.try_json()
    if not isinstance(value, dict) or not isinstance(value.get("attestations"), list):
        return NO
    items = value["attestations"]
    if items and all(isinstance(i, dict) and "bundle" in i and "predicateType" in i for i in items):
        return DEFINITE
    return NO


def parse_npm(doc: Artefact, options: CollectOptions) -> Parsed:
    """The SLSA provenance bundle of an npm package (the publish attestation is noted, not recorded)."""
    value = require_mapping(doc, doc.json(), "$")
    items = require_list(doc, value.get("attestations"), "$.attestations")
    problems = Problems(doc.source)
    index = next(
        (
            i
            for i, a in enumerate(items)
            if str(a.get("predicateType", "")).startswith("https://slsa.dev/provenance/")
        ),
        0,
    )
    for i in range(len(items)):
        if i != index:
            problems.add(
                f"$.attestations[{i}]",
                f"this attestation is not recorded (the record is built from $.attestations[{index}])",
            )
    path = f"$.attestations[{index}].bundle"
    bundle = require_mapping(doc, items[index].get("bundle"), path)
    settings = verification_settings(options)
    raw = json.dumps(bundle).encode("utf-8")
    result = verify_bundle(raw, bundle, settings)
    if result.payload is None:
        raise InputError(
            doc.source, "the attestation bundle has no readable DSSE payload", path=f"{path}.dsseEnvelope"
        )
    statement = decode_statement(doc, result.payload, f"{path}.dsseEnvelope.payload")
    sig = signature_data([result.check], settings, bundle=result.bundle, trust_root=result.trust_root)
    parsed = provenance_parsed(statement, sig, problems, f"{path}.dsseEnvelope.payload")
    parsed.format_version = result.bundle["version"]
    return parsed


FORMATS: tuple[Format, ...] = (
    Format(
        name="in-toto-dsse",
        kind=EvidenceKind.PROVENANCE,
        detect=detect_envelope,
        parse=parse_envelope,
        description="DSSE envelope with an in-toto Statement (cosign attest, slsa-github-generator, witness, VSA)",
    ),
    Format(
        name="in-toto-statement",
        kind=EvidenceKind.PROVENANCE,
        detect=detect_statement,
        parse=parse_statement,
        description="bare in-toto Statement v0.1/v1 (unsigned; SLSA provenance, VSA or other predicate)",
    ),
    Format(
        name="gcloud-provenance",
        kind=EvidenceKind.PROVENANCE,
        detect=detect_gcloud,
        parse=parse_gcloud,
        description="gcloud artifacts docker images describe --show-provenance (Cloud Build SLSA provenance)",
    ),
    Format(
        name="npm-attestations",
        kind=EvidenceKind.PROVENANCE,
        detect=detect_npm,
        parse=parse_npm,
        description="npm registry attestations response (SLSA provenance Sigstore bundle)",
    ),
)
