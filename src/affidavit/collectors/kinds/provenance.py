"""The shared vocabulary of provenance evidence: an in-toto Statement normalised to a record.

Every format that yields ``provenance`` (``formats.attestation`` for bare envelopes, Statements,
gcloud and npm; ``formats.sigstore_bundle`` for bundles carrying an attestation) builds its record
with ``provenance_parsed``: the Statement's fields (see ``formats.attestation`` for the list)
normalised by ``normalise_statement``, plus the signature data of the envelope it came in.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from affidavit.collectors.interface import Parsed, Problems, opt_str, shape_of
from affidavit.model import EvidenceKind, Subject
from affidavit.model.digest import DIGEST_HEX_LENGTHS, normalise_digest

STATEMENT_TYPES = {
    "https://in-toto.io/Statement/v0.1": "in-toto v0.1",
    "https://in-toto.io/Statement/v1": "in-toto v1",
}
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


def normalise_statement(statement: dict[str, Any], problems: Problems, path: str) -> dict[str, Any]:
    """The provenance fields of one Statement (without ``verified``/``signature``)."""
    statement_type = STATEMENT_TYPES.get(str(statement.get("_type")))
    if statement_type is None:
        problems.add(
            f"{path}._type",
            f"{shape_of(statement.get('_type'))}, not a Statement type affidavit knows; read as in-toto v1",
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
            _slsa_v1(predicate, out, problems, f"{path}.predicate")
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


def _slsa_v1(predicate: dict[str, Any], out: dict[str, Any], problems: Problems, path: str) -> None:
    """SLSA provenance v1: ``buildDefinition`` and ``runDetails``.

    The ref is the workflow's (``externalParameters.workflow.ref``, GitHub's build types), else
    the source dependency's (``git+URL@REF``). When both are given and differ, the statement does
    not say which ref was built: the record names no ref (the rules then cannot bind it to an
    allowed one) and a problem says why.
    """
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
        if ref is not None and dep_ref is not None and dep_ref != ref:
            problems.add(
                f"{path}.buildDefinition",
                "the workflow ref and the ref of the source in resolvedDependencies differ, so which "
                "ref was built is unknown: the record names no ref",
            )
            ref = None
        else:
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
    where = f"{path}.subject[{data['subjects'].index(chosen)}].digest" if chosen else f"{path}.subject"
    subject = Subject(
        name=chosen["name"] if chosen else None, digest=_envelope_digest(chosen_digest, problems, where)
    )
    return Parsed(
        data=data,
        format_version=SLSA_PROVENANCE.get(str(statement.get("predicateType"))),
        subject=subject,
        effective_at=data.get("finished_at"),
        problems=problems.items,
        kind=EvidenceKind.PROVENANCE,
    )


def _envelope_digest(digest: str | None, problems: Problems, path: str) -> str | None:
    """The record's ``subject.digest``: a SHA-2 digest by the one digest rule (``model.digest``), else ``None``.

    Another algorithm is no artefact digest (a GCE image id, a git commit) and is left out quietly;
    a SHA-2 digest of the wrong length or with other characters is left out as a problem at ``path``.
    """
    if not digest or digest.split(":", 1)[0] not in DIGEST_HEX_LENGTHS:
        return None
    try:
        return normalise_digest(digest)
    except ValueError as exc:
        problems.add(
            path, f"the subject's digest is not a digest ({exc}): the record names no artefact digest"
        )
        return None
