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
- ``verified`` and ``signature``: the signature data of ``affidavit.collectors.formats.sigstore_bundle``.
  ``verified`` is true only when the statement came from an envelope affidavit verified (the
  signature, the signer, and that the envelope names the artefact being verified).

Formats read here: a bare DSSE envelope (``cosign attest``, slsa-github-generator
``.intoto.jsonl``, witness, a VSA), a bare Statement, ``gcloud artifacts docker images describe
--show-provenance`` output, and the npm registry's attestations response. Sigstore bundles that
carry an attestation are read by ``sigstore_bundle`` and normalised here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from affidavit.collectors.formats.sigstore_bundle import (
    first_of_json_lines,
    signature_data,
    single_document,
    verification_settings,
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
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject
from affidavit.signatures import keys
from affidavit.signatures.identity import certificate_identity
from affidavit.signatures.result import SignatureCheck
from affidavit.signatures.sigstore import statement_digests, verify_bundle

if TYPE_CHECKING:
    from affidavit.artefact import Artefact
    from affidavit.signatures.result import Settings

STATEMENT_TYPES = {
    "https://in-toto.io/Statement/v0.1": "in-toto v0.1",
    "https://in-toto.io/Statement/v1": "in-toto v1",
}
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SLSA_PROVENANCE = {
    "https://slsa.dev/provenance/v0.1": "0.1",
    "https://slsa.dev/provenance/v0.2": "0.2",
    "https://slsa.dev/provenance/v1": "1",
}
VSA_TYPES = (
    "https://slsa.dev/verification_summary/v1",
    "https://slsa.dev/verification_summary/v0.2",
    "https://slsa.dev/verification_summary/v0.1",
)
WITNESS_COLLECTION_PREFIXES = (
    "https://witness.testifysec.com/attestation-collection/",
    "https://witness.dev/attestation-collection/",
)
_SLSA_LEVEL = re.compile(r"^SLSA_BUILD_LEVEL_(\d)$")


# ---------------------------------------------------------------------------------------------
# Statement normalisation


def decode_statement(doc: Artefact, payload: bytes, path: str) -> dict[str, Any]:
    """The in-toto Statement in a DSSE payload; anything else is an ``InputError`` at ``path``."""
    try:
        statement = json.loads(payload)
    except ValueError:
        raise InputError(
            doc.source, "the DSSE payload is not JSON, so not an in-toto Statement", path=path
        ) from None
    if not isinstance(statement, dict) or not isinstance(statement.get("_type"), str):
        keys = ", ".join(sorted(statement)) if isinstance(statement, dict) else type(statement).__name__
        raise InputError(
            doc.source,
            f"the DSSE payload is not an in-toto Statement (no _type; it holds: {keys or 'an empty object'})",
            path=path,
        )
    if not statement["_type"].startswith("https://in-toto.io/Statement/"):
        raise InputError(
            doc.source,
            f"the DSSE payload has _type {statement['_type']!r}, not an in-toto Statement",
            path=path,
        )
    return statement


def normalise_statement(statement: dict[str, Any], problems: Problems, path: str) -> dict[str, Any]:
    """The provenance fields of one Statement (without ``verified``/``signature``)."""
    statement_type = STATEMENT_TYPES.get(str(statement.get("_type")))
    if statement_type is None:
        problems.add(
            f"{path}._type", f"unknown Statement type {statement.get('_type')!r}; read as in-toto v1"
        )
        statement_type = "in-toto (unknown version)"
    predicate_type = opt_str(statement.get("predicateType"))
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        # Google Cloud Build's rendering names the predicate after its type
        predicate = (
            statement.get("slsaProvenance") if isinstance(statement.get("slsaProvenance"), dict) else {}
        )
        if not predicate:
            problems.add(f"{path}.predicate", "the Statement has no predicate object")
    subjects = _subjects(statement.get("subject"), problems, f"{path}.subject")
    out: dict[str, Any] = {
        "statement_type": statement_type,
        "predicate_type": predicate_type,
        "predicate_kind": "other",
        "builder_id": None,
        "build_type": None,
        "source": {"repo": None, "ref": None, "commit": None},
        "subjects": subjects,
        "slsa_level": None,
        "invocation_id": None,
        "started_at": None,
        "finished_at": None,
    }
    assert isinstance(predicate, dict)
    if predicate_type in SLSA_PROVENANCE:
        out["predicate_kind"] = "slsa-provenance"
        version = SLSA_PROVENANCE[predicate_type]
        if version == "1":
            _slsa_v1(predicate, out)
        else:
            _slsa_v0(predicate, out, version)
    elif predicate_type in VSA_TYPES:
        out["predicate_kind"] = "verification-summary"
        _vsa(predicate, out)
    elif predicate_type is not None and predicate_type.startswith(WITNESS_COLLECTION_PREFIXES):
        out["predicate_kind"] = "witness-collection"
        _witness(predicate, out, problems, f"{path}.predicate")
    else:
        builder = predicate.get("builder")
        out["builder_id"] = opt_str(builder.get("id")) if isinstance(builder, dict) else None
        out["build_type"] = opt_str(predicate.get("buildType"))
    return out


def _subjects(value: Any, problems: Problems, path: str) -> list[dict[str, Any]]:
    """The Statement's subjects as ``{name, digest, digests}``; oddities become problems."""
    if not isinstance(value, list):
        problems.add(path, "the Statement has no subject list")
        return []
    out: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            problems.add(f"{path}[{i}]", "a subject is not an object")
            continue
        raw = item.get("digest")
        digests = (
            {str(k).lower(): str(v).lower() for k, v in raw.items() if isinstance(v, str)}
            if isinstance(raw, dict)
            else {}
        )
        if not digests:
            problems.add(f"{path}[{i}].digest", "the subject has no digest")
        out.append({"name": opt_str(item.get("name")), "digest": _preferred(digests), "digests": digests})
    return out


def _preferred(digests: dict[str, str]) -> str | None:
    """``sha256:<hex>`` when the subject has it, else the first algorithm in name order."""
    if "sha256" in digests:
        return f"sha256:{digests['sha256']}"
    for alg in sorted(digests):
        return f"{alg}:{digests[alg]}"
    return None


def split_git_uri(uri: str | None) -> tuple[str | None, str | None]:
    """``git+https://github.com/o/r@refs/heads/main`` -> (``https://github.com/o/r``, ``refs/heads/main``).

    The ``@`` of a ref is looked for in the path only (an ``@`` before the host is user
    information, which is dropped from the repository URL).
    """
    if not uri:
        return None, None
    text = uri.removeprefix("git+")
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        body, _, ref = text.partition("@")
        return body or None, ref or None
    path, _, ref = parts.path.partition("@")
    host = parts.netloc.rsplit("@", 1)[-1]
    repo = urlunsplit((parts.scheme, host, path, "", ""))
    return repo or None, ref or None


def _commit(digest: Any) -> str | None:
    """A commit id from a digest map (``gitCommit``, ``sha1``, then ``sha256``)."""
    if not isinstance(digest, dict):
        return None
    for alg in ("gitCommit", "sha1", "sha256"):
        value = digest.get(alg)
        if isinstance(value, str) and value:
            return value.lower()
    return None


def _slsa_v0(predicate: dict[str, Any], out: dict[str, Any], version: str) -> None:
    """SLSA provenance v0.2 (``invocation``) and v0.1 (``recipe``)."""
    builder = predicate.get("builder")
    out["builder_id"] = opt_str(builder.get("id")) if isinstance(builder, dict) else None
    metadata = predicate.get("metadata") if isinstance(predicate.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    out["invocation_id"] = opt_str(metadata.get("buildInvocationID") or metadata.get("buildInvocationId"))
    out["started_at"] = opt_str(metadata.get("buildStartedOn"))
    out["finished_at"] = opt_str(metadata.get("buildFinishedOn"))
    materials = predicate.get("materials") if isinstance(predicate.get("materials"), list) else []
    assert isinstance(materials, list)
    repo = ref = commit = None
    if version == "0.2":
        out["build_type"] = opt_str(predicate.get("buildType"))
        invocation = predicate.get("invocation") if isinstance(predicate.get("invocation"), dict) else {}
        assert isinstance(invocation, dict)
        config = invocation.get("configSource") if isinstance(invocation.get("configSource"), dict) else {}
        assert isinstance(config, dict)
        repo, ref = split_git_uri(opt_str(config.get("uri")))
        commit = _commit(config.get("digest"))
    else:
        recipe = predicate.get("recipe") if isinstance(predicate.get("recipe"), dict) else {}
        assert isinstance(recipe, dict)
        out["build_type"] = opt_str(recipe.get("type"))
        ref = _gcb_ref(recipe)
    if repo is None and materials and isinstance(materials[0], dict):
        repo, material_ref = split_git_uri(opt_str(materials[0].get("uri")))
        ref = ref or material_ref
        commit = commit or _commit(materials[0].get("digest"))
    elif repo is not None and commit is None:
        for material in materials:
            if isinstance(material, dict) and split_git_uri(opt_str(material.get("uri")))[0] == repo:
                commit = _commit(material.get("digest"))
                break
    out["source"] = {"repo": repo, "ref": ref, "commit": commit}


def _gcb_ref(recipe: dict[str, Any]) -> str | None:
    """Google Cloud Build names the triggering tag or branch in its build substitutions."""
    arguments = recipe.get("arguments")
    subs = arguments.get("substitutions") if isinstance(arguments, dict) else None
    if not isinstance(subs, dict):
        return None
    if isinstance(subs.get("TAG_NAME"), str) and subs["TAG_NAME"]:
        return f"refs/tags/{subs['TAG_NAME']}"
    if isinstance(subs.get("BRANCH_NAME"), str) and subs["BRANCH_NAME"]:
        return f"refs/heads/{subs['BRANCH_NAME']}"
    return None


def _slsa_v1(predicate: dict[str, Any], out: dict[str, Any]) -> None:
    """SLSA provenance v1: ``buildDefinition`` and ``runDetails``."""
    definition = (
        predicate.get("buildDefinition") if isinstance(predicate.get("buildDefinition"), dict) else {}
    )
    run = predicate.get("runDetails") if isinstance(predicate.get("runDetails"), dict) else {}
    assert isinstance(definition, dict) and isinstance(run, dict)
    builder = run.get("builder")
    out["builder_id"] = opt_str(builder.get("id")) if isinstance(builder, dict) else None
    out["build_type"] = opt_str(definition.get("buildType"))
    metadata = run.get("metadata") if isinstance(run.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    out["invocation_id"] = opt_str(metadata.get("invocationId") or metadata.get("invocationID"))
    out["started_at"] = opt_str(metadata.get("startedOn"))
    out["finished_at"] = opt_str(metadata.get("finishedOn"))

    external = (
        definition.get("externalParameters") if isinstance(definition.get("externalParameters"), dict) else {}
    )
    assert isinstance(external, dict)
    repo = ref = None
    workflow = external.get("workflow")
    if isinstance(workflow, dict):  # GitHub Actions build types
        repo = opt_str(workflow.get("repository"))
        ref = opt_str(workflow.get("ref"))
    deps = (
        definition.get("resolvedDependencies")
        if isinstance(definition.get("resolvedDependencies"), list)
        else []
    )
    assert isinstance(deps, list)
    commit = None
    git_deps = [d for d in deps if isinstance(d, dict) and str(d.get("uri", "")).startswith("git+")]
    chosen = None
    for dep in git_deps:
        dep_repo, _ = split_git_uri(opt_str(dep.get("uri")))
        if repo is None or _same_repo(dep_repo, repo):
            chosen = dep
            break
    if chosen is not None:
        dep_repo, dep_ref = split_git_uri(opt_str(chosen.get("uri")))
        repo = repo or dep_repo
        ref = ref or dep_ref
        commit = _commit(chosen.get("digest"))
    out["source"] = {"repo": repo, "ref": ref, "commit": commit}


def _same_repo(a: str | None, b: str | None) -> bool:
    """True when two repository URLs name the same repository (case, ``.git``, ``/``)."""

    def norm(x: str | None) -> str:
        """Lower case, without ``.git`` and a trailing slash."""
        return (x or "").lower().removesuffix(".git").rstrip("/")

    return norm(a) == norm(b)


def _vsa(predicate: dict[str, Any], out: dict[str, Any]) -> None:
    """A SLSA Verification Summary Attestation: who verified what, with which result."""
    verifier = predicate.get("verifier")
    levels_raw = predicate.get("verifiedLevels")
    levels = [str(x) for x in levels_raw] if isinstance(levels_raw, list) else []
    policy = predicate.get("policy")
    out["builder_id"] = None
    out["verification"] = {
        "verifier_id": opt_str(verifier.get("id")) if isinstance(verifier, dict) else None,
        "verification_result": opt_str(predicate.get("verificationResult")),
        "verified_levels": levels,
        "resource_uri": opt_str(predicate.get("resourceUri") or predicate.get("resource_uri")),
        "time_verified": opt_str(predicate.get("timeVerified")),
        "policy_uri": opt_str(policy.get("uri")) if isinstance(policy, dict) else None,
    }
    stated = [int(m.group(1)) for lvl in levels if (m := _SLSA_LEVEL.match(lvl))]
    out["slsa_level"] = max(stated) if stated else None
    out["finished_at"] = out["verification"]["time_verified"]


def _witness(predicate: dict[str, Any], out: dict[str, Any], problems: Problems, path: str) -> None:
    """A witness attestation collection: the step name, the attestor types, the git state."""
    attestations = predicate.get("attestations")
    types: list[str] = []
    repo = ref = commit = None
    if isinstance(attestations, list):
        for item in attestations:
            if not isinstance(item, dict):
                continue
            kind = opt_str(item.get("type"))
            if kind:
                types.append(kind)
            body = item.get("attestation") if isinstance(item.get("attestation"), dict) else {}
            assert isinstance(body, dict)
            if kind and "/attestations/git/" in kind:
                commit = opt_str(body.get("commithash"))
                refs = (
                    [r for r in body.get("refs", []) if isinstance(r, str)]
                    if isinstance(body.get("refs"), list)
                    else []
                )
                heads = [r for r in refs if r.startswith(("refs/heads/", "refs/tags/"))]
                ref = heads[0] if heads else (refs[0] if refs else None)
                remotes = body.get("remotes")
                if isinstance(remotes, list) and remotes and isinstance(remotes[0], str):
                    repo = remotes[0]
            elif kind and ("/attestations/github/" in kind or "/attestations/gitlab/" in kind):
                repo = repo or opt_str(body.get("projecturl"))
    else:
        problems.add(f"{path}.attestations", "the witness collection lists no attestations")
    out["witness"] = {"name": opt_str(predicate.get("name")), "attestations": types}
    out["source"] = {"repo": repo, "ref": ref, "commit": commit}


def provenance_parsed(
    statement: dict[str, Any], signature: dict[str, Any], problems: Problems, path: str
) -> Parsed:
    """A provenance ``Parsed`` from a Statement and the signature data of its envelope."""
    data = normalise_statement(statement, problems, path)
    data["verified"] = bool(signature.get("verified"))
    data["signature"] = signature
    verifications = signature.get("verifications") or [{}]
    digest = verifications[0].get("subject_digest")
    chosen = next((s for s in data["subjects"] if digest and s["digest"] == digest), None)
    if chosen is None and digest:
        chosen = next((s for s in data["subjects"] if digest.split(":", 1)[1] in s["digests"].values()), None)
    if chosen is None and data["subjects"]:
        chosen = data["subjects"][0]
    chosen_digest = (
        digest if digest and chosen and digest.split(":", 1)[1] in chosen["digests"].values() else None
    ) or (chosen["digest"] if chosen else None)
    subject = Subject(name=chosen["name"] if chosen else None, digest=_envelope_digest(chosen_digest))
    return Parsed(
        data=data,
        format_version=SLSA_PROVENANCE.get(str(statement.get("predicateType"))),
        subject=subject,
        effective_at=data.get("finished_at"),
        problems=problems.items,
        kind=EvidenceKind.PROVENANCE,
    )


def _envelope_digest(digest: str | None) -> str | None:
    """The record's ``subject.digest``: a SHA-2 digest only (a GCE image id is no artefact digest)."""
    if digest and digest.split(":", 1)[0] in ("sha256", "sha384", "sha512"):
        return digest
    return None


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
        shown = f" (keyid {', '.join(keyids)})" if keyids else ""
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
        return POSSIBLE if _is_envelope(first) else NO  # JSON Lines: parse() says so
    if not _is_envelope(value):
        return NO
    return DEFINITE if value.get("payloadType") == IN_TOTO_PAYLOAD_TYPE else LIKELY


def _is_envelope(value: Any) -> bool:
    """The shape of a DSSE envelope: a string payload and payload type, a list of signatures."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("payload"), str)
        and isinstance(value.get("payloadType"), str)
        and isinstance(value.get("signatures"), list)
    )


def parse_envelope(doc: Artefact, options: CollectOptions) -> Parsed:
    """A bare DSSE envelope carrying an in-toto Statement."""
    envelope = require_mapping(doc, single_document(doc), "$")
    payload_type = envelope.get("payloadType")
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise InputError(
            doc.source,
            f"the DSSE envelope carries {payload_type!r}, not an in-toto Statement ({IN_TOTO_PAYLOAD_TYPE})",
            path="$.payloadType",
        )
    payload = _b64_payload(doc, envelope.get("payload"), "$.payload")
    statement = decode_statement(doc, payload, "$.payload")
    problems = Problems(doc.source)
    require_list(doc, envelope.get("signatures"), "$.signatures")
    settings = verification_settings(options)
    check = verify_bare_envelope(envelope, settings, statement_digests(payload))
    sig = signature_data([check], settings)
    return provenance_parsed(statement, sig, problems, "$.payload")


def _b64_payload(doc: Artefact, value: Any, path: str) -> bytes:
    """The decoded DSSE payload; missing or not base64 is an ``InputError`` at ``path``."""
    if not isinstance(value, str):
        raise InputError(doc.source, "the DSSE payload is missing", path=path)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(doc.source, "the DSSE payload is not base64", path=path) from None


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
        payload = _b64_payload(doc, envelope["payload"], path)
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
    for i, item in enumerate(items):
        if i != index:
            problems.add(
                f"$.attestations[{i}]",
                f"attestation {item.get('predicateType')!r} is not recorded (the record is built from "
                f"$.attestations[{index}])",
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
