"""cosign's own artefacts: ``cosign verify`` output, simple-signing payloads, ``.sig`` manifests.

- ``cosign verify`` JSON (stdout; an array of simple-signing claims with
  ``critical.image.docker-manifest-digest`` and ``optional`` Fulcio claims and a Rekor
  ``Bundle``): what cosign *reports*. Every claim becomes a verification with
  ``method: reported`` and ``verified: false`` ("reported by cosign, not verified by
  affidavit"): the log shows that cosign said so, not that the signature is good. The
  claimed digest is still compared with the artefact digest when one is given.
- a simple-signing payload (``cosign sign --output-payload``; the OCI blob cosign signs):
  verified as a cosign key-pair signature when a public key (``public_key``) and the detached
  signature (``signature``, base64 as cosign writes it) are given.
- a cosign ``.sig`` OCI manifest (a layer per signature, with the signature, certificate and
  Rekor bundle in its annotations): recognised. With ``payload`` (the layer's
  simple-signing blob, checked against the layer digest) and a public key, a key-pair
  signature is verified; keyless signatures stored this way are recorded but not verified
  (affidavit verifies keyless signatures from Sigstore bundles).

What people save instead, refused with what to save (never "not a format affidavit knows"):
``cosign verify`` run with ``2>&1``, its report lines ("Verification for ... --", "The following
checks were performed on each of these signatures:", the checks; cosign prints them on stderr)
in front of the JSON it prints on stdout; and the image's own OCI image index or manifest
(``crane manifest``, ``docker buildx imagetools inspect --raw``, ``oras manifest fetch``), which
lists platforms or layers and signs nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json, read_user_file
from affidavit.collectors.envelopes import inner_json
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
)
from affidavit.collectors.kinds.signature import signature_data, unix_to_iso, verification_settings
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool
from affidavit.signatures.result import REPORTED_REASON, Settings, SignatureCheck

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

SIMPLE_SIGNING_TYPES = ("cosign container image signature", "atomic container signature")
SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
ANNOTATION_SIGNATURE = "dev.cosignproject.cosign/signature"
ANNOTATION_CERTIFICATE = "dev.sigstore.cosign/certificate"
ANNOTATION_BUNDLE = "dev.sigstore.cosign/bundle"
OID_ISSUER = "1.3.6.1.4.1.57264.1.1"


def _is_claim(value: Any) -> bool:
    """True for a simple-signing claim: ``critical.image.docker-manifest-digest``."""
    if not isinstance(value, dict):
        return False
    critical = value.get("critical")
    if not isinstance(critical, dict):
        return False
    image = critical.get("image")
    return isinstance(image, dict) and "docker-manifest-digest" in image


def _claim_digest(claim: dict[str, Any]) -> str | None:
    """The image digest a simple-signing claim names (lower case)."""
    digest = opt_str(claim["critical"]["image"].get("docker-manifest-digest"))
    return digest.lower() if digest else None


def _claim_name(claim: dict[str, Any]) -> str | None:
    """The image reference (``critical.identity.docker-reference``) of a claim."""
    identity = claim["critical"].get("identity")
    return opt_str(identity.get("docker-reference")) if isinstance(identity, dict) else None


# ---------------------------------------------------------------------------------------------
# cosign verify output (reported claims)


#: The lines ``cosign verify`` prints on stderr before its JSON (cmd/cosign/cli/verify,
#: PrintVerificationHeader): "Verification for <image> --" then this sentence.
_VERIFY_HEADER = re.compile(r"^Verification for \S.* --\s*$", re.MULTILINE)
_VERIFY_CHECKS = "The following checks were performed on each of these signatures:"


def _console_log(doc: Artefact) -> bool:
    """True for ``cosign verify``'s console output: its stderr report lines, with or without the JSON."""
    if doc.looks_like_json:
        return False
    head = doc.raw[:16384].decode("utf-8", errors="replace") if doc.encoding == "utf-8" else doc.text[:16384]
    return _VERIFY_CHECKS in head and _VERIFY_HEADER.search(head) is not None


def detect_verify_output(doc: Artefact) -> int:
    """A JSON array of simple-signing claims, as ``cosign verify`` prints (or its console output)."""
    value = doc.try_json()
    if isinstance(value, list) and value and all(_is_claim(v) for v in value):
        types = {str(v["critical"].get("type", "")).lower() for v in value}
        return DEFINITE if types & set(SIMPLE_SIGNING_TYPES) else LIKELY
    if value is None and _console_log(doc):
        return LIKELY  # refused by parse_verify_output with what to save instead
    return NO


def _console_error(doc: Artefact) -> InputError:
    """The error for ``cosign verify`` output captured with its stderr report lines (``2>&1``)."""
    return InputError(
        doc.source,
        "is cosign verify's console output: its report lines (printed on stderr) stand in front of "
        "the JSON it prints on stdout, so the file is not JSON",
        hint="save cosign's standard output alone (`cosign verify ... --output json > cosign-verify.json`, "
        "without 2>&1); better, save the signature's Sigstore bundle, which affidavit verifies itself "
        "(cosign verify output is recorded as reported by cosign, not verified)",
    )


def parse_verify_output(doc: Artefact, options: CollectOptions) -> Parsed:
    """Each claim becomes a ``reported`` verification: recorded, never verified by affidavit."""
    if doc.try_json() is None and _console_log(doc):
        raise _console_error(doc)
    claims = require_list(doc, doc.json(), "$")
    settings = verification_settings(options)
    problems = Problems(doc.source)
    checks: list[SignatureCheck] = []
    times: list[str] = []
    for i, claim in enumerate(claims):
        check = SignatureCheck(method="reported")
        check.fail(REPORTED_REASON)
        optional = claim.get("optional") if isinstance(claim.get("optional"), dict) else {}
        assert isinstance(optional, dict)
        check.identity = opt_str(optional.get("Subject"))
        check.issuer = opt_str(optional.get("Issuer")) or opt_str(optional.get(OID_ISSUER))
        rekor = optional.get("Bundle") if isinstance(optional.get("Bundle"), dict) else None
        if rekor is not None:
            body = _decode_body(doc, rekor, f"$[{i}].optional.Bundle.Payload.body")
            check.tlog = _rekor_bundle_tlog(rekor, body)
            if check.identity is None:
                check.identity = _identity_from_rekor_body(body)
            when = unix_to_iso(check.tlog.get("integrated_time"))
            if when:
                times.append(when)
        else:
            problems.add(
                f"$[{i}].optional", "the claim carries no Rekor bundle (not logged, or a key-pair signature)"
            )
        digest = _claim_digest(claim)
        check.subject_digest = digest
        check.check_artifact([digest] if digest else [], settings)
        checks.append(check)
    if not claims:
        raise InputError(doc.source, "cosign reported no signatures (an empty array)", path="$")
    digests = sorted({c.subject_digest for c in checks if c.subject_digest})
    names = sorted({n for c in claims if (n := _claim_name(c))})
    if len(digests) > 1:
        problems.add("$", f"the claims name {len(digests)} different image digests")
    data = signature_data(checks, settings)
    data["policy"] = {"identity": None, "issuer": None, "public_key": None}
    return Parsed(
        data=data,
        subject=Subject(name=names[0] if names else None, digest=digests[0] if digests else None),
        tool=Tool(name="cosign"),
        effective_at=max(times) if times else None,
        problems=problems.items,
    )


def _rekor_bundle_tlog(rekor: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``tlog`` from cosign's legacy Rekor bundle (``SignedEntryTimestamp`` + ``Payload``)."""
    payload = rekor.get("Payload") if isinstance(rekor.get("Payload"), dict) else {}
    assert isinstance(payload, dict)
    kind = f"{body.get('kind')}/{body.get('apiVersion')}" if body else None
    return {
        "log_index": payload.get("logIndex") if isinstance(payload.get("logIndex"), int) else None,
        "integrated_time": payload.get("integratedTime")
        if isinstance(payload.get("integratedTime"), int)
        else None,
        "log_id": opt_str(payload.get("logID")),
        "kind": kind,
    }


def _decode_body(doc: Artefact, rekor: dict[str, Any], path: str) -> dict[str, Any]:
    """The decoded Rekor entry body (base64 JSON at ``path``), or an empty object when absent.

    Body text that is not JSON, or names a key twice, is an ``InputError``: both readers of the
    body (the log entry kind and the certificate) must see the one value the log recorded.
    """
    payload = rekor.get("Payload") if isinstance(rekor.get("Payload"), dict) else {}
    assert isinstance(payload, dict)
    value = payload.get("body")
    if not isinstance(value, str):
        return {}
    try:
        text = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return {}
    body = inner_json(doc, text, path, "the Rekor entry body")
    return body if isinstance(body, dict) else {}


def _identity_from_rekor_body(body: dict[str, Any]) -> str | None:
    """The SAN of the certificate logged in a hashedrekord body (as reported, not verified)."""
    from cryptography.x509 import load_pem_x509_certificate

    from affidavit.signatures.identity import certificate_identity

    try:
        pem = base64.b64decode(body["spec"]["signature"]["publicKey"]["content"], validate=True)
        identities, _ = certificate_identity(load_pem_x509_certificate(pem))
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None
    return identities[0] if identities else None


# ---------------------------------------------------------------------------------------------
# simple-signing payload (cosign key pairs)


def detect_payload(doc: Artefact) -> int:
    """One simple-signing claim (an object, not the array ``cosign verify`` prints)."""
    value = doc.try_json()
    if _is_claim(value) and "optional" in value:
        kind = str(value["critical"].get("type", "")).lower()
        return DEFINITE if kind in SIMPLE_SIGNING_TYPES else LIKELY
    return NO


def verify_payload(
    payload: bytes, signature: bytes, settings: Settings, digest: str | None
) -> SignatureCheck:
    """A cosign key-pair signature over simple-signing ``payload`` bytes, checked with the key."""
    from affidavit.signatures import keys

    check = SignatureCheck(method="cosign-key", subject_digest=digest)
    if settings.public_key is None:
        check.fail("no public key given (--key FILE): the cosign key-pair signature was not checked")
    else:
        loaded = keys.load_public_key(settings.public_key)
        if isinstance(loaded, str):
            check.signature = False
            check.identity_ok = False
            check.fail(loaded)
        else:
            check.key_id = loaded.key_id
            check.identity_ok = True
            problem = keys.verify_data(loaded.key, keys.decode_signature(signature), payload)
            if problem is None:
                check.signature = True
                check.checked.append(
                    f"affidavit verified the signature over the simple-signing payload with the key {loaded.key_id}"
                )
            else:
                check.signature = False
                check.fail(problem)
    check.check_artifact([digest] if digest else [], settings)
    return check


def parse_payload(doc: Artefact, options: CollectOptions) -> Parsed:
    """A simple-signing payload; verified when the key and the detached signature are given."""
    claim = require_mapping(doc, doc.json(), "$")
    settings = verification_settings(options)
    digest = _claim_digest(claim)
    if settings.signature is None:
        check = SignatureCheck(method="cosign-key", subject_digest=digest)
        check.fail("no detached signature given for this payload: nothing to verify")
        check.check_artifact([digest] if digest else [], settings)
    else:
        try:  # a device, FIFO or oversized file is refused before it is read
            signature = read_user_file(settings.signature, MAX_DETACHED_BYTES)
        except InputError as exc:
            raise InputError(exc.source, f"the signature {exc.detail}", hint=exc.hint) from None
        check = verify_payload(doc.raw, signature, settings, digest)
    return Parsed(
        data=signature_data([check], settings),
        subject=Subject(name=_claim_name(claim), digest=digest),
        tool=Tool(name="cosign"),
    )


# ---------------------------------------------------------------------------------------------
# cosign .sig OCI manifest


#: Media types of an image index (a list of per-platform manifests) and of an image manifest
#: (OCI image-spec image-index.md and manifest.md; Docker's Image Manifest V2, Schema 2).
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def _image_index(value: Any) -> bool:
    """An OCI image index or Docker manifest list: ``manifests`` list, ``schemaVersion`` 2."""
    return (
        isinstance(value, dict)
        and value.get("schemaVersion") == 2
        and isinstance(value.get("manifests"), list)
        and value.get("mediaType", INDEX_MEDIA_TYPES[0]) in INDEX_MEDIA_TYPES
    )


def _image_manifest(value: Any) -> bool:
    """An OCI image manifest (``config`` and ``layers``, ``schemaVersion`` 2)."""
    return (
        isinstance(value, dict)
        and value.get("schemaVersion") == 2
        and isinstance(value.get("layers"), list)
        and isinstance(value.get("config"), dict)
        and value.get("mediaType", MANIFEST_MEDIA_TYPES[0]) in MANIFEST_MEDIA_TYPES
    )


def _signature_layers(value: dict[str, Any]) -> bool:
    """True when a manifest has a layer holding a cosign simple-signing signature."""
    for layer in value["layers"]:
        if not isinstance(layer, dict):
            continue
        notes = layer.get("annotations")
        if layer.get("mediaType") == SIMPLE_SIGNING_MEDIA_TYPE or (
            isinstance(notes, dict) and ANNOTATION_SIGNATURE in notes
        ):
            return True
    return False


def detect_manifest(doc: Artefact) -> int:
    """An OCI image manifest whose layers are cosign simple-signing signatures (or, refused by
    ``parse_manifest`` with what to save instead, an image index or an image's own manifest)."""
    value = doc.try_json()
    if _image_index(value):
        return POSSIBLE
    if not isinstance(value, dict) or not isinstance(value.get("layers"), list):
        return NO
    if _signature_layers(value):
        return DEFINITE
    return POSSIBLE if _image_manifest(value) else NO


def _not_a_signature(doc: Artefact, value: Any) -> InputError | None:
    """The error for an image index or an image manifest saved instead of a signature."""
    if _image_index(value):
        what = f"an OCI image index listing {len(value['manifests'])} manifest(s) (the image's platforms)"
    elif _image_manifest(value) and not _signature_layers(value):
        what = "an OCI image manifest with no cosign signature layer (the image itself, not its signature)"
    else:
        return None
    return InputError(
        doc.source,
        f"is {what}: it signs nothing and is not evidence of a signature",
        hint="save the image's signature instead: its Sigstore bundle (which affidavit verifies), or "
        "`cosign verify --output json` of the image by digest; the .sig manifest cosign stores "
        "(`crane manifest $(cosign triangulate IMAGE)`) is read too",
    )


def parse_manifest(doc: Artefact, options: CollectOptions) -> Parsed:
    """One verification per signature layer; see the module docstring for what is verified."""
    from cryptography.x509 import load_pem_x509_certificate

    from affidavit.signatures.identity import certificate_identity

    refused = _not_a_signature(doc, doc.json())
    if refused is not None:
        raise refused
    manifest = require_mapping(doc, doc.json(), "$")
    layers = require_list(doc, manifest.get("layers"), "$.layers")
    settings = verification_settings(options)
    problems = Problems(doc.source)
    payload = _read_optional(settings.payload)
    checks: list[SignatureCheck] = []
    names: list[str] = []
    times: list[str] = []
    for i, layer in enumerate(layers):
        notes = layer.get("annotations") if isinstance(layer, dict) else None
        if not isinstance(notes, dict) or ANNOTATION_SIGNATURE not in notes:
            continue
        path = f"$.layers[{i}]"
        layer_digest = opt_str(layer.get("digest"))
        signature = str(notes[ANNOTATION_SIGNATURE]).encode("ascii", "replace")
        claim_digest: str | None = None
        payload_ok = False
        if payload is not None:
            payload_ok = layer_digest == f"sha256:{hashlib.sha256(payload).hexdigest()}"
            if payload_ok:
                claim = load_json(payload, str(settings.payload))
                if _is_claim(claim):
                    claim_digest = _claim_digest(claim)
                    if name := _claim_name(claim):
                        names.append(name)
        if payload_ok and settings.public_key is not None:
            assert payload is not None
            check = verify_payload(payload, signature, settings, claim_digest)
        else:
            check = SignatureCheck(method="cosign-oci", subject_digest=claim_digest)
            if payload is None:
                check.fail(
                    "the signed payload (the layer's blob, --payload FILE) is not at hand, so the "
                    "signature and the image digest it names were not checked"
                )
            elif not payload_ok:
                check.fail(
                    "the payload given is not this layer's payload (its sha256 is not the layer digest)"
                )
            if isinstance(notes.get(ANNOTATION_CERTIFICATE), str):
                try:
                    cert = load_pem_x509_certificate(notes[ANNOTATION_CERTIFICATE].encode("utf-8"))
                    identities, check.issuer = certificate_identity(cert)
                    check.identity = identities[0] if identities else None
                except ValueError:
                    problems.add(f"{path}.annotations", "the certificate annotation is not a PEM certificate")
                check.fail(
                    "keyless cosign signatures stored in a registry are recorded, not verified: affidavit "
                    "verifies keyless signatures from Sigstore bundles (cosign --new-bundle-format)"
                )
            elif settings.public_key is None:
                check.fail("no public key given (--key FILE): the cosign key-pair signature was not checked")
            check.check_artifact([claim_digest] if claim_digest else [], settings)
        where = f'{path}.annotations["{ANNOTATION_BUNDLE}"]'
        rekor = _json_annotation(doc, notes.get(ANNOTATION_BUNDLE), where)
        if rekor is not None:
            check.tlog = _rekor_bundle_tlog(rekor, _decode_body(doc, rekor, f"{where}.Payload.body"))
            if when := unix_to_iso(check.tlog.get("integrated_time")):
                times.append(when)
        checks.append(check)
    if not checks:
        raise InputError(doc.source, "the manifest has no cosign signature layer", path="$.layers")
    digests = sorted({c.subject_digest for c in checks if c.subject_digest})
    return Parsed(
        data=signature_data(checks, settings),
        subject=Subject(name=names[0] if names else None, digest=digests[0] if digests else None),
        tool=Tool(name="cosign"),
        effective_at=max(times) if times else None,
        problems=problems.items,
    )


#: The largest detached signature or payload file read (--signature, --payload), in bytes.
MAX_DETACHED_BYTES = 4 * 1024 * 1024


def _read_optional(path: Any) -> bytes | None:
    """The bytes of an optional settings file; unreadable is an ``InputError``."""
    if path is None:
        return None
    try:  # a device, FIFO or oversized file is refused before it is read
        return read_user_file(path, MAX_DETACHED_BYTES)
    except InputError as exc:
        raise InputError(exc.source, f"the payload {exc.detail}", hint=exc.hint) from None


def _json_annotation(doc: Artefact, value: Any, path: str) -> dict[str, Any] | None:
    """An annotation holding JSON text, parsed (``None`` when absent or not an object).

    Text that is not JSON, or names a key twice, is an ``InputError`` at ``path``.
    """
    if not isinstance(value, str):
        return None
    parsed = inner_json(doc, value, path, "the Rekor bundle annotation")
    return parsed if isinstance(parsed, dict) else None


FORMATS: tuple[Format, ...] = (
    Format(
        name="cosign-verify",
        kind=EvidenceKind.SIGNATURE,
        detect=detect_verify_output,
        parse=parse_verify_output,
        description="cosign verify JSON output: claims recorded as reported, not verified by affidavit",
    ),
    Format(
        name="cosign-simplesigning",
        kind=EvidenceKind.SIGNATURE,
        detect=detect_payload,
        parse=parse_payload,
        description="cosign simple-signing payload; key-pair signature verified with --key and a detached signature",
    ),
    Format(
        name="cosign-signature-manifest",
        kind=EvidenceKind.SIGNATURE,
        detect=detect_manifest,
        parse=parse_manifest,
        description="cosign .sig OCI manifest (signature, certificate and Rekor bundle in layer annotations)",
    ),
)
