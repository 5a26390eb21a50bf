"""Attestations: every file of the in-toto corpus folder, normalised and verified (or not) honestly.

The provenance fields (builder id, build type, source repository, ref and commit, subjects) are
asserted against the raw JSON decoded here, each file by the paths its own predicate uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.errors import InputError, UnknownFormatError
from affidavit.model import EvidenceKind
from tests.conftest import CORPUS, NOW, corpus_index, validate_record
from tests.signatures.helpers import collect

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

FOLDER = CORPUS / "in-toto"
ENTRIES = corpus_index("in-toto")
ACTIONS = "https://token.actions.githubusercontent.com"
GENERATOR = r"re:https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/[a-z0-9_-]+\.yml@refs/tags/v2\.1\.0"
VSA_KEY = FOLDER / "slsa-verifier-vsa_signing_public_key.pem"

SUPPORT_FILES = {"slsa-verifier-bcr-MODULE.bazel.txt", "slsa-verifier-vsa_signing_public_key.pem"}
REFUSED = {"archivista-invalid_payload.attestation.json": "not an in-toto Statement"}


def _load(name: str) -> Any:
    """A corpus file's parsed JSON."""
    return json.loads((FOLDER / name).read_bytes())


def _statement(name: str) -> dict[str, Any]:
    """The in-toto Statement of a corpus file, decoded here from its raw JSON."""
    raw = _load(name)
    if "attestations" in raw:  # npm: the SLSA provenance attestation
        raw = next(
            a["bundle"] for a in raw["attestations"] if a["predicateType"].startswith("https://slsa.dev/")
        )
    if "provenance_summary" in raw:
        raw = raw["provenance_summary"]["provenance"][0]["envelope"]
    if "dsseEnvelope" in raw:
        raw = raw["dsseEnvelope"]
    if "payload" in raw:
        return json.loads(base64.b64decode(raw["payload"]))  # type: ignore[no-any-return]
    return raw  # type: ignore[no-any-return]


def _first_sha256(name: str) -> str:
    """``sha256:`` of the first subject of a file's Statement, from the raw JSON."""
    subject = _statement(name)["subject"][0]
    return "sha256:" + str(subject["digest"]["sha256"])


# name -> (format, options, verified, reason fragment or None)
FILES: dict[str, tuple[str, dict[str, Any], bool, str | None]] = {
    "archivista-build.attestation.json": ("in-toto-dsse", {}, False, "pass the public key"),
    "chainloop-attestation.json": ("sigstore-bundle", {}, False, "no transparency-log entry"),
    "grype-alpine.att.json": ("in-toto-dsse", {}, False, "pass the public key"),
    "guac-oci-kubectl-linux-amd64-in-toto.json": ("in-toto-statement", {}, False, "carries no signature"),
    "slsa-verifier-bcr-MODULE.bazel.intoto.jsonl": (
        "sigstore-bundle",
        {
            "identity": "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1",
            "issuer": ACTIONS,
            "artifact": FOLDER / "slsa-verifier-bcr-MODULE.bazel.txt",
        },
        True,
        None,
    ),
    "slsa-verifier-binary-linux-amd64-expired-cert.intoto.jsonl": (
        "in-toto-dsse",
        {"identity": GENERATOR, "issuer": ACTIONS},
        False,
        "cannot be established offline",
    ),
    "slsa-verifier-gcb-v0.3-gcloud-container-github.json": (
        "gcloud-provenance",
        {},
        False,
        "pass the public key",
    ),
    "slsa-verifier-gha_delegator-v2.1.0-binary-linux-amd64-workflow_dispatch.build.slsa.json": (
        "sigstore-bundle",
        {"identity": GENERATOR, "issuer": ACTIONS},
        True,
        None,
    ),
    "slsa-verifier-gha_generic-v1.2.1-binary-linux-amd64-workflow_dispatch.intoto.jsonl": (
        "in-toto-dsse",
        {},
        False,
        "cannot be established offline",
    ),
    "slsa-verifier-gha_generic-v2.1.0-binary-linux-amd64-workflow_dispatch.intoto.jsonl": (
        "sigstore-bundle",
        {"identity": GENERATOR, "issuer": ACTIONS},
        True,
        None,
    ),
    "slsa-verifier-gha_go-v1.2.2-binary-linux-amd64-push-v14.intoto.jsonl": (
        "in-toto-dsse",
        {},
        False,
        "cannot be established offline",
    ),
    "slsa-verifier-gha_maven-v2.1.0-binary-linux-amd64-workflow_dispatch.build.slsa.json": (
        "sigstore-bundle",
        {"identity": GENERATOR, "issuer": ACTIONS},
        True,
        None,
    ),
    "slsa-verifier-npm-gundam-visor-cli-v1-tag.tgz.json": (
        "npm-attestations",
        {
            "identity": "https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1",
            "issuer": ACTIONS,
        },
        True,
        None,
    ),
    "slsa-verifier-vsa-gke-gce-pre.bcid-vsa.jsonl": (
        "in-toto-dsse",
        {"public_key": VSA_KEY},
        False,
        "no artefact digest",
    ),
}


def _options(name: str) -> dict[str, Any]:
    """The file's options; the artefact digest comes from its statement when no artefact is in the corpus."""
    _, options, verified, _ = FILES[name]
    options = dict(options)
    if verified and "artifact" not in options:
        subject = _statement(name)["subject"][0]["digest"]
        alg = "sha256" if "sha256" in subject else "sha512"
        options["artifact_digest"] = f"{alg}:{subject[alg]}"
    return options


def test_index_lists_the_folder() -> None:
    """Index lists the folder."""
    listed = {e["file"] for e in ENTRIES}
    on_disk = {p.name for p in FOLDER.iterdir() if p.is_file()}
    assert listed == on_disk - {"INDEX.json", "SOURCES.md"}
    assert listed == set(FILES) | SUPPORT_FILES | set(REFUSED)


@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES])
def test_every_file(name: str) -> None:
    """Every file."""
    path = FOLDER / name
    if name in SUPPORT_FILES:
        with pytest.raises(UnknownFormatError) as info:
            collect(path)
        assert name in info.value.diagnostics()
        return
    if name in REFUSED:
        with pytest.raises(InputError, match=REFUSED[name]) as refused:
            collect(path)
        assert refused.value.path == "$.payload"
        return
    fmt, _, verified, reason = FILES[name]
    record = collect(path, **_options(name))
    validate_record(record)
    assert record.kind is EvidenceKind.PROVENANCE
    assert record.format == fmt
    assert record.data["verified"] is verified, record.data["signature"]["reasons"]
    assert record.data["signature"]["verified"] is verified
    if reason is not None:
        assert any(reason in r for r in record.data["signature"]["reasons"]), record.data["signature"][
            "reasons"
        ]
    statement = _statement(name)
    assert record.data["predicate_type"] == statement["predicateType"]
    # an empty subject name (grype's attestation) is normalised to null
    assert [s["name"] for s in record.data["subjects"]] == [
        s.get("name") or None for s in statement["subject"]
    ]
    assert [s["digests"] for s in record.data["subjects"]] == [s["digest"] for s in statement["subject"]]
    assert (
        record.data["statement_type"]
        == {
            "https://in-toto.io/Statement/v0.1": "in-toto v0.1",
            "https://in-toto.io/Statement/v1": "in-toto v1",
        }[statement["_type"]]
    )


def _source(record_data: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(repo, ref, commit) of a provenance record."""
    src = record_data["source"]
    return src["repo"], src["ref"], src["commit"]


def _git(uri: str) -> tuple[str, str]:
    """``git+https://host/o/r@ref`` split by hand (what a reader of the provenance sees)."""
    body = uri.removeprefix("git+")
    repo, ref = body.split("@", 1)
    return repo, ref


@pytest.mark.parametrize(
    "name",
    [
        "slsa-verifier-binary-linux-amd64-expired-cert.intoto.jsonl",
        "slsa-verifier-gha_generic-v1.2.1-binary-linux-amd64-workflow_dispatch.intoto.jsonl",
        "slsa-verifier-gha_go-v1.2.2-binary-linux-amd64-push-v14.intoto.jsonl",
        "slsa-verifier-gha_generic-v2.1.0-binary-linux-amd64-workflow_dispatch.intoto.jsonl",
    ],
)
def test_slsa_v02_from_slsa_github_generator(name: str) -> None:
    """Slsa v02 from slsa github generator."""
    record = collect(FOLDER / name, **_options(name))
    predicate = _statement(name)["predicate"]
    config = predicate["invocation"]["configSource"]
    repo, ref = _git(config["uri"])
    assert record.data["predicate_kind"] == "slsa-provenance"
    assert record.data["predicate_type"] == "https://slsa.dev/provenance/v0.2"
    assert record.data["builder_id"] == predicate["builder"]["id"]
    assert record.data["build_type"] == predicate["buildType"]
    assert _source(record.data) == (repo, ref, config["digest"]["sha1"])
    assert record.data["invocation_id"] == predicate["metadata"]["buildInvocationID"]
    assert record.subject.digest == _first_sha256(name)
    assert record.data["slsa_level"] is None


@pytest.mark.parametrize(
    "name",
    [
        "slsa-verifier-gha_delegator-v2.1.0-binary-linux-amd64-workflow_dispatch.build.slsa.json",
        "slsa-verifier-gha_maven-v2.1.0-binary-linux-amd64-workflow_dispatch.build.slsa.json",
    ],
)
def test_slsa_v1_from_the_delegator(name: str) -> None:
    """Slsa v1 from the delegator."""
    record = collect(FOLDER / name, **_options(name))
    predicate = _statement(name)["predicate"]
    dep = predicate["buildDefinition"]["resolvedDependencies"][0]
    repo, ref = _git(dep["uri"])
    assert record.data["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert record.format_version == _load(name)["mediaType"].rsplit("=", 1)[1]  # the bundle's version
    assert record.data["builder_id"] == predicate["runDetails"]["builder"]["id"]
    assert record.data["build_type"] == predicate["buildDefinition"]["buildType"]
    assert _source(record.data) == (repo, ref, dep["digest"]["gitCommit"])
    # the provenance is inside an intoto/0.0.2 bundle, which affidavit verified
    (item,) = record.data["signature"]["verifications"]
    assert record.data["signature"]["bundle"]["tlog_entry_kind"] == "intoto/0.0.2"
    assert item["checks"] == {"signature": True, "identity": True, "artifact": True}


@pytest.mark.parametrize(
    "name",
    ["slsa-verifier-bcr-MODULE.bazel.intoto.jsonl", "slsa-verifier-npm-gundam-visor-cli-v1-tag.tgz.json"],
)
def test_slsa_v1_github_actions_workflow(name: str) -> None:
    """Slsa v1 github actions workflow."""
    record = collect(FOLDER / name, **_options(name))
    predicate = _statement(name)["predicate"]
    workflow = predicate["buildDefinition"]["externalParameters"]["workflow"]
    commit = predicate["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"]
    assert record.data["builder_id"] == predicate["runDetails"]["builder"]["id"]
    assert _source(record.data) == (workflow["repository"], workflow["ref"], commit)
    assert record.data["invocation_id"] == predicate["runDetails"]["metadata"]["invocationId"]


def test_bcr_provenance_names_the_artifact() -> None:
    """Bcr provenance names the artifact."""
    name = "slsa-verifier-bcr-MODULE.bazel.intoto.jsonl"
    record = collect(FOLDER / name, **_options(name))
    artifact = (FOLDER / "slsa-verifier-bcr-MODULE.bazel.txt").read_bytes()
    assert record.subject.digest == "sha256:" + hashlib.sha256(artifact).hexdigest() == _first_sha256(name)
    assert record.subject.name == "MODULE.bazel"


def test_bcr_provenance_for_another_artifact_is_not_verified(tmp_path: Path) -> None:
    """Bcr provenance for another artifact is not verified."""
    name = "slsa-verifier-bcr-MODULE.bazel.intoto.jsonl"
    other = tmp_path / "MODULE.bazel"
    other.write_bytes((FOLDER / "slsa-verifier-bcr-MODULE.bazel.txt").read_bytes() + b"\n# changed\n")
    options = _options(name) | {"artifact": other}
    record = collect(FOLDER / name, **options)
    assert record.data["verified"] is False
    assert record.data["signature"]["verifications"][0]["checks"]["artifact"] is False


def test_npm_provenance_uses_sha512_subject() -> None:
    """Npm provenance uses sha512 subject."""
    name = "slsa-verifier-npm-gundam-visor-cli-v1-tag.tgz.json"
    record = collect(FOLDER / name, **_options(name))
    subject = _statement(name)["subject"][0]
    assert record.subject.digest == "sha512:" + subject["digest"]["sha512"]
    assert record.subject.name == subject["name"]
    publish = _load(name)["attestations"][0]["predicateType"]
    assert any("$.attestations[0]: this attestation is not recorded" in p for p in record.problems)
    assert not any(publish in p for p in record.problems)  # described, never quoted


def test_gcloud_cloud_build_provenance() -> None:
    """Gcloud cloud build provenance."""
    name = "slsa-verifier-gcb-v0.3-gcloud-container-github.json"
    record = collect(FOLDER / name)
    raw = _load(name)
    predicate = _statement(name)["predicate"]
    material = predicate["materials"][0]
    assert record.format_version == "0.1"
    assert record.data["builder_id"] == predicate["builder"]["id"]
    assert record.data["build_type"] == predicate["recipe"]["type"]
    tag = predicate["recipe"]["arguments"]["substitutions"]["TAG_NAME"]
    assert _source(record.data) == (material["uri"], f"refs/tags/{tag}", material["digest"]["sha1"])
    assert record.subject.digest == raw["image_summary"]["digest"]
    keyid = raw["provenance_summary"]["provenance"][0]["envelope"]["signatures"][0]["keyid"]
    reason = record.data["signature"]["reasons"][0]
    assert "the envelope is signed with a key (its signatures name 1 key id)" in reason
    assert keyid not in reason  # the artefact's value is described, never quoted


def test_bare_statement_v02_other_builder() -> None:
    """Bare statement v02 other builder."""
    name = "guac-oci-kubectl-linux-amd64-in-toto.json"
    record = collect(FOLDER / name)
    predicate = _load(name)["predicate"]
    config = predicate["invocation"]["configSource"]
    assert record.format == "in-toto-statement"
    assert record.data["builder_id"] == predicate["builder"]["id"]
    # the configSource URI carries user information before the host, not a ref
    assert (
        record.data["source"]["repo"]
        == "https://dev.azure.com/AzureContainerUpstream/Kubernetes/_git/ado-build-definitions"
    )
    assert config["uri"].endswith(record.data["source"]["repo"].removeprefix("https://dev.azure.com"))
    assert record.data["source"]["ref"] is None
    assert record.data["source"]["commit"] == config["digest"]["sha256"]
    assert len(record.data["subjects"]) == len(_load(name)["subject"])
    assert record.data["signature"]["verifications"][0]["method"] == "none"


def test_vsa_is_recognised_and_its_key_signature_checked() -> None:
    """Vsa is recognised and its key signature checked."""
    name = "slsa-verifier-vsa-gke-gce-pre.bcid-vsa.jsonl"
    record = collect(FOLDER / name, public_key=VSA_KEY)
    predicate = _statement(name)["predicate"]
    assert record.data["predicate_kind"] == "verification-summary"
    assert record.data["predicate_type"] == "https://slsa.dev/verification_summary/v1"
    vsa = record.data["verification"]
    assert vsa["verification_result"] == predicate["verificationResult"]
    assert vsa["verified_levels"] == predicate["verifiedLevels"]
    assert vsa["resource_uri"] == predicate["resourceUri"]
    assert vsa["verifier_id"] == predicate["verifier"]["id"]
    assert record.data["slsa_level"] == 2  # SLSA_BUILD_LEVEL_2 is among the verified levels
    (item,) = record.data["signature"]["verifications"]
    assert item["method"] == "dsse-key"
    assert item["checks"]["signature"] is True
    assert item["checks"]["artifact"] is None  # the subject is a GCE image id, no sha256
    assert record.data["verified"] is False


def test_vsa_changed_after_signing_fails(tmp_path: Path) -> None:
    """Vsa changed after signing fails."""
    name = "slsa-verifier-vsa-gke-gce-pre.bcid-vsa.jsonl"
    envelope = _load(name)
    statement = _statement(name)
    statement["predicate"]["verificationResult"] = "FAILED"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    changed = tmp_path / "vsa.json"
    changed.write_text(json.dumps(envelope))
    from affidavit.artefact import Artefact
    from affidavit.collectors import collect_document
    from affidavit.collectors.interface import CollectOptions
    from tests.conftest import NOW

    record = collect_document(Artefact.from_path(changed), CollectOptions(now=NOW, public_key=VSA_KEY))
    assert record.data["verification"]["verification_result"] == "FAILED"
    assert record.data["signature"]["verifications"][0]["checks"]["signature"] is False


def test_witness_collection_is_recognised() -> None:
    """Witness collection is recognised."""
    name = "archivista-build.attestation.json"
    record = collect(FOLDER / name)
    predicate = _statement(name)["predicate"]
    git = next(a["attestation"] for a in predicate["attestations"] if "/attestations/git/" in a["type"])
    assert record.data["predicate_kind"] == "witness-collection"
    assert record.data["witness"]["name"] == predicate["name"]
    assert record.data["witness"]["attestations"] == [a["type"] for a in predicate["attestations"]]
    assert record.data["source"]["commit"] == git["commithash"]
    assert record.data["source"]["ref"] == "refs/heads/main" and "refs/heads/main" in git["refs"]
    assert record.subject.digest == _first_sha256(name)


def test_expired_certificate_envelope_checks_what_it_can() -> None:
    """Expired certificate envelope checks what it can."""
    name = "slsa-verifier-binary-linux-amd64-expired-cert.intoto.jsonl"
    record = collect(FOLDER / name)
    (item,) = record.data["signature"]["verifications"]
    assert item["method"] == "dsse-certificate"
    assert item["checks"]["signature"] is None
    assert item["verified"] is False
    assert any("matches the key of the certificate" in line for line in item["checked"])


@pytest.mark.parametrize(
    "name",
    [
        "slsa-verifier-bcr-MODULE.bazel.intoto.jsonl",
        "slsa-verifier-gha_go-v1.2.2-binary-linux-amd64-push-v14.intoto.jsonl",
    ],
)
def test_json_lines_with_several_attestations_are_refused_clearly(name: str, tmp_path: Path) -> None:
    """``gh attestation download`` / ``cosign verify-attestation`` write one document per line."""
    line = json.dumps(_load(name))
    path = tmp_path / "two.jsonl"
    path.write_text(line + "\n" + line + "\n")
    from affidavit.artefact import Artefact
    from affidavit.collectors import collect_document
    from affidavit.collectors.interface import CollectOptions
    from tests.conftest import NOW

    with pytest.raises(InputError, match="holds 2 JSON documents, one per line") as refused:
        collect_document(Artefact.from_path(path), CollectOptions(now=NOW))
    assert refused.value.hint is not None and "split" in refused.value.hint


SIGNED_FORMATS = ("attestation", "sigstore_bundle", "cosign")


@pytest.mark.parametrize("module", SIGNED_FORMATS)
def test_signed_evidence_formats_import_no_other_format(module: str) -> None:
    """The three signed-evidence formats share ``envelopes`` and ``kinds``, never each other.

    Every import in the module is looked at, including those inside functions and relative ones
    (an import of ``affidavit.collectors.formats`` itself counts too).
    """
    import ast
    from pathlib import Path

    import affidavit.collectors.formats as formats

    path = Path(formats.__file__).parent / f"{module}.py"
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = (
                    "affidavit.collectors.formats." + base
                    if node.level == 1
                    else "affidavit.collectors." + base
                )
            found.extend(f"{base}.{a.name}".strip(".") for a in node.names)
    bad = sorted(n for n in found if n.startswith("affidavit.collectors.formats"))
    assert not bad, f"{path.name} imports {bad}"


HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("digest", "subject_digest", "problem"),
    [
        ({"sha256": HEX.upper()}, f"sha256:{HEX}", None),
        ({"sha512": HEX * 2}, f"sha512:{HEX * 2}", None),
        ({"gitCommit": HEX[:40]}, None, None),  # a commit is no artefact digest, and no error either
        ({"sha256": HEX[:40]}, None, "sha256 takes 64 hex digits, not 40"),
        ({"sha256": HEX[:63] + "z"}, None, "not hexadecimal"),
        ({"sha384": HEX}, None, "sha384 takes 96 hex digits, not 64"),
    ],
)
def test_statement_subject_digest_follows_the_one_digest_rule(
    digest: dict[str, str], subject_digest: str | None, problem: str | None
) -> None:
    """The record's subject digest is the Statement's, by the one digest rule; a malformed SHA-2 one is a problem."""
    from affidavit.artefact import Artefact
    from affidavit.collectors import collect_document
    from affidavit.collectors.interface import CollectOptions
    from tests.conftest import NOW

    name = "guac-oci-kubectl-linux-amd64-in-toto.json"
    statement = _load(name)
    statement["subject"][0]["digest"] = digest
    record = collect_document(Artefact(name, json.dumps(statement).encode()), CollectOptions(now=NOW))
    validate_record(record)
    assert record.subject.name == statement["subject"][0]["name"]
    assert record.subject.digest == subject_digest
    found = [p for p in record.problems if "$.subject" in p and "digest" in p]
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], record.problems
        assert next(iter(digest.values())) not in found[0]


def test_a_workflow_ref_the_source_dependency_contradicts_is_not_recorded() -> None:
    """SLSA v1 with GitHub's build type names the ref twice: externalParameters.workflow.ref and the
    git source in resolvedDependencies (https://actions.github.io/buildtypes/workflow/v1). When a
    crafted statement says main in one and another branch in the other, which ref was built is
    unknown: the record names no ref (so no rule can bind it to an allowed ref) and says why."""
    name = "slsa-verifier-npm-gundam-visor-cli-v1-tag.tgz.json"
    statement = _statement(name)
    definition = statement["predicate"]["buildDefinition"]
    workflow_ref = definition["externalParameters"]["workflow"]["ref"]
    dependency = definition["resolvedDependencies"][0]
    repo, _ = _git(dependency["uri"])
    dependency["uri"] = f"git+{repo}@refs/heads/attacker"
    record = _collect_statement(statement)
    assert workflow_ref != "refs/heads/attacker"
    assert record.data["source"]["ref"] is None
    assert any(
        "the workflow ref and the ref of the source in resolvedDependencies differ" in p
        for p in record.problems
    )
    dependency["uri"] = f"git+{repo}@{workflow_ref}"  # agreeing refs are kept
    assert _collect_statement(statement).data["source"]["ref"] == workflow_ref


def _collect_statement(statement: dict[str, Any]) -> Any:
    """A bare Statement collected as a file would be."""
    from affidavit.artefact import Artefact
    from affidavit.collectors import collect_document
    from affidavit.collectors.interface import CollectOptions

    return collect_document(
        Artefact("statement.json", json.dumps(statement).encode()), CollectOptions(now=NOW)
    )


def test_in_toto_link_metadata_in_dsse_says_what_to_pass_instead() -> None:
    """in-toto's demo link (corpus attestation-vsa, in-toto/in-toto tests/demo_dsse_files) is DSSE
    around classic link metadata (``_type: link``, in-toto spec v0.9 section 4.3), not a Statement:
    refused with what it is and what to pass, never read as provenance."""
    path = CORPUS / "attestation-vsa" / "in-toto-write-code.776a00e2.link"
    with pytest.raises(InputError) as info:
        collect(path, public_key=CORPUS / "attestation-vsa" / "in-toto-bob.pub")
    message = info.value.diagnostics()
    assert "is in-toto link metadata" in message and "in-toto Statement with SLSA provenance" in message
    assert "write-code" not in message.split(": ", 1)[1]  # the step's name is content: not repeated
