"""False-verdict scenarios of the supply chain (issue 10): provenance, SLSA levels, VSAs, signatures.

Each scenario is the demo GO release with its provenance (or one more attestation) changed the
way a real pipeline or an attacker would produce it, re-signed where the scenario says so. Trust
comes from who signed: a builder's level is credited only to provenance signed by a signer rule
data names for that builder (``supply_chain.allowed_builders``), a VSA only when it PASSED, was
signed by an allow-listed verifier and names this artefact, and provenance is bound to
``--commit`` and to an allowed ref. Shapes:

- in-toto Statement v1 / v0.1: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
- DSSE envelope and PAE: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
- SLSA provenance v1 (GitHub Actions build type): https://slsa.dev/spec/v1.0/provenance and
  https://actions.github.io/buildtypes/workflow/v1
- SLSA provenance v0.2: https://slsa.dev/provenance/v0.2
- SLSA VSA v1: https://slsa.dev/spec/v1.0/verification_summary
- SLSA build levels: https://slsa.dev/spec/v1.0/levels
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.attacks.support import COMMIT, DEMO, DIGEST, SUBJECT
from tests.verdicts.support import Change, Scenario, both, check, edit_json, ids, remove_file, write_file

sys.path.insert(0, str(DEMO.parent))
try:
    import make_demo
finally:
    sys.path.pop(0)

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: E402

AREA = "supply chain"
PROV = "supply_chain.provenance_trusted"
SLSA = "supply_chain.slsa_level"
SIG = "supply_chain.signature_verified"
SAME = "supply_chain.same_subject"
FILE = "provenance.intoto.json"
IN_TOTO = "application/vnd.in-toto+json"
ISSUER = "https://token.actions.githubusercontent.com"
BUILDER = make_demo.BUILDER
GENERATOR = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"
)
VERIFIER = "https://verifier.acme.example/slsa"
HEX = DIGEST.split(":", 1)[1]
OTHER_HEX = "0" * 63 + "1"
SPEC_V1 = (
    "https://slsa.dev/spec/v1.0/provenance (buildDefinition.resolvedDependencies, runDetails.builder.id)"
)
SPEC_GHA = "https://actions.github.io/buildtypes/workflow/v1 (externalParameters.workflow.ref)"
SPEC_VSA = "https://slsa.dev/spec/v1.0/verification_summary (verifier.id, verificationResult, verifiedLevels)"
SPEC_DSSE = "https://github.com/secure-systems-lab/dsse/blob/master/protocol.md (PAE, signatures[])"
SPEC_LEVELS = (
    "https://slsa.dev/spec/v1.0/levels (Build L1: provenance exists; L2: signed by a hosted platform)"
)

# ---------------------------------------------------------------------------------------------
# Keys: the demo's (the pipeline's own key, given to the gate with --key) and others


def _key_id(public: Any) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


DEMO_KEY = make_demo._demo_key()
DEMO_KEY_ID = _key_id(DEMO_KEY.public_key())
ATTACKER_KEY = ec.derive_private_key(
    int.from_bytes(hashlib.sha256(b"an attacker's own signing key").digest(), "big") % (2**255),
    ec.SECP256R1(),
)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=3072)
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"witness ed25519 test key").digest())
_KEYS = Path(tempfile.mkdtemp(prefix="affidavit-supply-chain-keys-"))


def _pub_file(name: str, key: Any) -> str:
    path = _KEYS / f"{name}.pub"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


ATTACKER_PUB = _pub_file("attacker", ATTACKER_KEY)
RSA_PUB = _pub_file("rsa", RSA_KEY)
ED_PUB = _pub_file("ed25519", ED_KEY)


def _sign(key: Any, message: bytes, scheme: str) -> bytes:
    """A signature as the named tool makes it."""
    if scheme == "ecdsa":
        return bytes(key.sign(message, ec.ECDSA(hashes.SHA256())))
    if scheme == "ecdsa-p1363":  # Cloud KMS / Go's raw r||s form
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if scheme == "rsa-pss":  # securesystemslib's default scheme rsassa-pss-sha256 (salt = digest length)
        return bytes(
            key.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        )
    if scheme == "rsa-pss-max":  # witness / Go rsa.PSSSaltLengthAuto: the longest salt that fits
        return bytes(
            key.sign(
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
                hashes.SHA256(),
            )
        )
    if scheme == "rsa-pkcs1":
        return bytes(key.sign(message, padding.PKCS1v15(), hashes.SHA256()))
    if scheme == "ed25519":
        return bytes(key.sign(message))
    raise AssertionError(scheme)


def _statement() -> dict[str, Any]:
    envelope = json.loads((DEMO / "go" / FILE).read_text())
    statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


def envelope(
    statement: dict[str, Any],
    key: Any = DEMO_KEY,
    scheme: str = "ecdsa",
    payload_type: str = IN_TOTO,
    keyid: str = "",
    extra: list[dict[str, str]] | None = None,
) -> bytes:
    """A DSSE envelope over ``statement`` signed by ``key`` (the signature over PAE(type, payload))."""
    payload = json.dumps(statement, separators=(",", ":")).encode()
    sig = _sign(key, make_demo._pae(payload_type, payload), scheme)
    return json.dumps(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}, *(extra or [])],
        },
        indent=2,
    ).encode()


def provenance(
    edit: Callable[[dict[str, Any]], Any] | None = None, name: str = FILE, **signing: Any
) -> Change:
    """The demo provenance changed by ``edit`` and signed again (by the demo key unless told)."""
    statement = _statement()
    if edit is not None:
        edit(statement)
    return write_file(name, envelope(statement, **signing))


def _definition(s: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = s["predicate"]["buildDefinition"]
    return definition


def _set_ref(ref: str) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        _definition(s)["externalParameters"]["workflow"]["ref"] = ref
        _definition(s)["resolvedDependencies"][0]["uri"] = f"git+https://github.com/acme/shop@{ref}"

    return edit


def _set_commit(commit: str | None) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        dep = _definition(s)["resolvedDependencies"][0]
        if commit is None:
            del dep["digest"]
        else:
            dep["digest"] = {"gitCommit": commit}

    return edit


def _set_builder(builder: str) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        s["predicate"]["runDetails"]["builder"]["id"] = builder

    return edit


def _set_subjects(subjects: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        s["subject"] = subjects

    return edit


def _v02(builder: str = BUILDER, ref: str = "refs/heads/main", commit: str = COMMIT) -> dict[str, Any]:
    """SLSA provenance v0.2 as slsa-github-generator wrote it (in-toto Statement v0.1)."""
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "ghcr.io/acme/shop", "digest": {"sha256": HEX}}],
        "predicate": {
            "builder": {"id": builder},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
            "invocation": {
                "configSource": {
                    "uri": f"git+https://github.com/acme/shop@{ref}",
                    "digest": {"sha1": commit},
                    "entryPoint": ".github/workflows/release.yml",
                },
                "parameters": {},
                "environment": {"github_event_name": "push", "github_ref": ref, "github_sha1": commit},
            },
            "metadata": {
                "buildInvocationID": "11932245871-1",
                "buildStartedOn": "2026-11-20T09:02:11Z",
                "buildFinishedOn": "2026-11-20T09:10:58Z",
                "completeness": {"parameters": True, "environment": False, "materials": False},
                "reproducible": False,
            },
            "materials": [{"uri": f"git+https://github.com/acme/shop@{ref}", "digest": {"sha1": commit}}],
        },
    }


def _vsa(
    result: str = "PASSED",
    levels: tuple[str, ...] = ("SLSA_BUILD_LEVEL_3",),
    verifier: str = VERIFIER,
    digest: str = HEX,
) -> dict[str, Any]:
    """A SLSA VSA v1 about the image (https://slsa.dev/spec/v1.0/verification_summary)."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/shop", "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/verification_summary/v1",
        "predicate": {
            "verifier": {"id": verifier, "version": {"slsa-verifier": "2.6.0"}},
            "timeVerified": "2026-11-20T09:12:03Z",
            "resourceUri": f"ghcr.io/acme/shop@sha256:{digest}",
            "policy": {"uri": "https://acme.example/policies/release.json"},
            "inputAttestations": [{"uri": "provenance.intoto.json", "digest": {"sha256": "ab" * 32}}],
            "verificationResult": result,
            "verifiedLevels": list(levels),
        },
    }


def vsa(statement: dict[str, Any], **signing: Any) -> Change:
    """A signed VSA added to the release beside its provenance."""
    return write_file("vsa.intoto.json", envelope(statement, **signing))


# ---------------------------------------------------------------------------------------------
# Rule data beside the demo organisation's (lists replace the demo's)

DEMO_BUILDER = {"id": BUILDER, "level": 2, "signers": [{"key_id": DEMO_KEY_ID}]}
GENERATOR_BUILDER = {
    "id": GENERATOR,
    "level": 3,
    "signers": [
        {
            "identity_pattern": GENERATOR.replace(".", r"\.") + r"@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+",
            "issuer": ISSUER,
        }
    ],
}
TRUSTED_VERIFIER = {"id": VERIFIER, "signers": [{"key_id": DEMO_KEY_ID}]}
LEVEL3 = {"defaults": {"supply_chain": {"min_slsa_level": 3, "allowed_verifiers": [TRUSTED_VERIFIER]}}}


def _builders(*entries: Any, **more: Any) -> dict[str, Any]:
    return {"defaults": {"supply_chain": {"allowed_builders": list(entries), **more}}}


def _keys(*key_ids: str, builders: list[Any] | None = None) -> dict[str, Any]:
    sc: dict[str, Any] = {"allowed_key_ids": list(key_ids)}
    if builders is not None:
        sc["allowed_builders"] = builders
    return {"defaults": {"supply_chain": sc}}


def _key_builder(key_id: str) -> dict[str, Any]:
    return {"id": BUILDER, "level": 2, "signers": [{"key_id": key_id}]}


RSA_ID = _key_id(RSA_KEY.public_key())
ED_ID = _key_id(ED_KEY.public_key())


def _other_predicate(s: dict[str, Any]) -> None:
    s["predicateType"] = "https://spdx.dev/Document"
    s["predicate"] = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "shop"}


def _witness(s: dict[str, Any]) -> None:
    s["predicateType"] = "https://witness.testifysec.com/attestation-collection/v0.1"
    s["predicate"] = {
        "name": "build",
        "attestations": [
            {
                "type": "https://witness.dev/attestations/git/v0.1",
                "attestation": {"commithash": COMMIT, "refs": ["refs/heads/main"]},
            }
        ],
    }


def _drop_ref(s: dict[str, Any]) -> None:
    del _definition(s)["externalParameters"]["workflow"]["ref"]
    _definition(s)["resolvedDependencies"][0]["uri"] = "git+https://github.com/acme/shop"


def _unsigned(s: dict[str, Any]) -> str:
    return json.dumps(s, indent=2)


def _tamper(document: dict[str, Any]) -> None:
    statement = json.loads(base64.b64decode(document["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = GENERATOR + "@refs/tags/v2.0.0"
    document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()


def _cosign_verify_claims(document: Any) -> Any:
    """cosign verify --output json (stdout): an array of simple-signing claims."""
    return [
        {
            "critical": {
                "identity": {"docker-reference": "ghcr.io/acme/shop"},
                "image": {"docker-manifest-digest": DIGEST},
                "type": "cosign container image signature",
            },
            "optional": {"Issuer": ISSUER, "Subject": make_demo.IDENTITY},
        }
    ]


def _future(s: dict[str, Any]) -> None:
    s["predicate"]["runDetails"]["metadata"]["finishedOn"] = "2026-11-21T09:10:58Z"


def _fork(s: dict[str, Any]) -> None:
    _definition(s)["externalParameters"]["workflow"]["repository"] = "https://github.com/attacker/shop"
    _definition(s)["resolvedDependencies"][0]["uri"] = "git+https://github.com/attacker/shop@refs/heads/main"


def _dependency_ref(ref: str) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        _definition(s)["resolvedDependencies"][0]["uri"] = f"git+https://github.com/acme/shop@{ref}"

    return edit


def _statement_v01(s: dict[str, Any]) -> None:
    s["_type"] = "https://in-toto.io/Statement/v0.1"


def _no_run_details(s: dict[str, Any]) -> None:
    del s["predicate"]["runDetails"]


SCENARIOS: list[Scenario] = [
    # -- realistic releases that must stay GO ---------------------------------------------------
    Scenario(
        "sc-resigned-unchanged-go",
        AREA,
        PROV,
        provenance(),
        "pass",
        SPEC_DSSE,
        "the demo statement signed again with the demo key (a fresh ECDSA signature)",
        decision="GO",
    ),
    Scenario(
        "sc-tag-build-go",
        AREA,
        PROV,
        provenance(_set_ref("refs/tags/v1.4.2")),
        "pass",
        SPEC_GHA,
        "a release built from a tag the rule data's ref_patterns allow, of main (--branch main)",
        decision="GO",
        options=("--branch", "main"),
    ),
    Scenario(
        "sc-commit-upper-case-go",
        AREA,
        PROV,
        provenance(_set_commit(COMMIT.upper())),
        "pass",
        SPEC_V1,
        "a commit id is hex: case does not make it another commit",
        decision="GO",
    ),
    Scenario(
        "sc-v02-generator-shape-go",
        AREA,
        PROV,
        write_file(FILE, envelope(_v02())),
        "pass",
        "https://slsa.dev/provenance/v0.2 (invocation.configSource, materials)",
        decision="GO",
    ),
    Scenario(
        "sc-two-subjects-go",
        AREA,
        PROV,
        provenance(
            _set_subjects(
                [
                    {"name": "ghcr.io/acme/shop-debug", "digest": {"sha256": OTHER_HEX}},
                    {"name": "ghcr.io/acme/shop", "digest": {"sha256": HEX}},
                ]
            )
        ),
        "pass",
        "https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md (subject[])",
        "a multi-image build: the statement names our digest among others",
        decision="GO",
    ),
    Scenario(
        "sc-envelope-keyid-and-second-signature-go",
        AREA,
        SIG,
        provenance(
            keyid=DEMO_KEY_ID, extra=[{"keyid": "other", "sig": base64.b64encode(b"x" * 64).decode()}]
        ),
        "pass",
        SPEC_DSSE + ": an envelope may carry several signatures; one by the allowed key suffices",
        decision="GO",
    ),
    Scenario(
        "sc-ecdsa-p1363-signature-go",
        AREA,
        SIG,
        provenance(scheme="ecdsa-p1363"),
        "pass",
        "Cloud KMS / Go crypto raw r||s ECDSA signature in DSSE (IEEE P1363)",
        decision="GO",
    ),
    Scenario(
        "sc-rsa-pss-provenance-go",
        AREA,
        PROV,
        provenance(key=RSA_KEY, scheme="rsa-pss"),
        "pass",
        "securesystemslib's default key scheme rsassa-pss-sha256 (in-toto, witness): "
        "https://github.com/secure-systems-lab/securesystemslib/blob/main/securesystemslib/signer/_crypto_signer.py",
        decision="GO",
        options=("--key", RSA_PUB),
        params=_keys(RSA_ID, builders=[_key_builder(RSA_ID)]),
    ),
    Scenario(
        "sc-rsa-pss-max-salt-go",
        AREA,
        SIG,
        provenance(key=RSA_KEY, scheme="rsa-pss-max"),
        "pass",
        "witness signs RSA-PSS with Go's rsa.PSSSaltLengthAuto (corpus attestation-vsa/witness-fulcio-policy-presigned.json)",
        decision="GO",
        options=("--key", RSA_PUB),
        params=_keys(RSA_ID, builders=[_key_builder(RSA_ID)]),
    ),
    Scenario(
        "sc-rsa-pkcs1-go",
        AREA,
        SIG,
        provenance(key=RSA_KEY, scheme="rsa-pkcs1"),
        "pass",
        "cosign RSA keys sign PKCS#1 v1.5 SHA-256 (sigstore/pkg/signature/rsa.go)",
        decision="GO",
        options=("--key", RSA_PUB),
        params=_keys(RSA_ID, builders=[_key_builder(RSA_ID)]),
    ),
    Scenario(
        "sc-ed25519-provenance-go",
        AREA,
        PROV,
        provenance(key=ED_KEY, scheme="ed25519"),
        "pass",
        "witness signs DSSE with Ed25519 (corpus attestation-vsa/witness-spdx-att.json)",
        decision="GO",
        options=("--key", ED_PUB),
        params=_keys(ED_ID, builders=[_key_builder(ED_ID)]),
    ),
    Scenario(
        "sc-vsa-passed-level3-go",
        AREA,
        SLSA,
        vsa(_vsa()),
        "pass",
        SPEC_VSA,
        "rule data requires level 3; a VSA from the allow-listed verifier, signed by it, PASSED at L3",
        decision="GO",
        params=LEVEL3,
    ),
    Scenario(
        "sc-mirror-name-same-digest-go",
        AREA,
        PROV,
        provenance(_set_subjects([{"name": "registry.acme.example/mirror/shop", "digest": {"sha256": HEX}}])),
        "pass",
        "https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md (digest identifies)",
        "the digest is what identifies the image; a mirror's name beside it changes nothing",
        decision="GO",
    ),
    Scenario(
        "sc-statement-v01-with-slsa-v1-go",
        AREA,
        PROV,
        provenance(_statement_v01),
        "pass",
        "https://github.com/in-toto/attestation/blob/main/spec/v0.1.0/README.md (Statement v0.1)",
        "an older Statement type around a SLSA v1 predicate, as early tools wrote it",
        decision="GO",
    ),
    Scenario(
        "sc-second-provenance-from-other-branch-go",
        AREA,
        PROV,
        provenance(_set_ref("refs/heads/attacker"), name="provenance-rebuild.intoto.json"),
        "pass",
        SPEC_GHA,
        "the same digest also built (reproducibly) from another branch: the trusted provenance from main "
        "shows where this artefact came from; the other record is listed, not trusted (--branch main)",
        decision="GO",
        options=("--branch", "main"),
    ),
    Scenario(
        "sc-staging-key-signed-level-1-passes",
        AREA,
        SLSA,
        provenance(),
        "pass",
        SPEC_LEVELS,
        "staging requires level 1: a provenance the pipeline signed with an allowed key is enough there",
        options=("--environment", "staging"),
        params=_builders(
            {"id": BUILDER, "level": 2, "signers": [{"identity": make_demo.IDENTITY, "issuer": ISSUER}]}
        ),
    ),
    Scenario(
        "sc-workflow-ref-and-source-ref-differ",
        AREA,
        PROV,
        provenance(_dependency_ref("refs/heads/attacker")),
        "insufficient_evidence",
        SPEC_GHA + " and resolvedDependencies[0].uri",
        "the workflow says main, the source dependency says another branch: which ref was built is unknown",
    ),
    Scenario(
        "sc-provenance-without-run-details",
        AREA,
        PROV,
        provenance(_no_run_details),
        "fail",
        SPEC_V1 + " (runDetails is required)",
        "a provenance that names no builder cannot be from a trusted one",
    ),
    # -- trust comes from who signed, not what the document says ---------------------------------
    Scenario(
        "sc-own-key-claims-generator-at-attacker-branch",
        AREA,
        SLSA,
        provenance(_set_builder(GENERATOR + "@refs/heads/attacker")),
        "fail",
        SPEC_LEVELS,
        "the pipeline's own key signs a claim that the level-3 generator built it: the key may not sign "
        "for that builder, so only level 1 is credited",
        params=_builders(DEMO_BUILDER, GENERATOR_BUILDER),
    ),
    Scenario(
        "sc-own-key-claims-generator-provenance",
        AREA,
        PROV,
        provenance(_set_builder(GENERATOR + "@refs/heads/attacker")),
        "fail",
        SPEC_LEVELS,
        "a builder is trusted only through the signers rule data names for it",
        params=_builders(DEMO_BUILDER, GENERATOR_BUILDER),
    ),
    Scenario(
        "sc-own-key-claims-generator-at-tag",
        AREA,
        SLSA,
        provenance(_set_builder(GENERATOR + "@refs/tags/v2.0.0")),
        "fail",
        SPEC_LEVELS,
        "even at a release tag: the generator signs keylessly as its workflow, not with the pipeline's key",
        params=_builders(DEMO_BUILDER, GENERATOR_BUILDER),
    ),
    Scenario(
        "sc-key-signed-is-level-1",
        AREA,
        SLSA,
        provenance(),
        "fail",
        SPEC_LEVELS,
        "rule data names only the keyless release workflow as the builder's signer: the pipeline's own key "
        "earns level 1, below prod's 2",
        params=_builders(
            {"id": BUILDER, "level": 2, "signers": [{"identity": make_demo.IDENTITY, "issuer": ISSUER}]}
        ),
    ),
    Scenario(
        "sc-key-signed-not-builder-signer",
        AREA,
        PROV,
        provenance(),
        "fail",
        SPEC_LEVELS,
        "the provenance's signer is not one rule data names for its builder",
        params=_builders(
            {"id": BUILDER, "level": 2, "signers": [{"identity": make_demo.IDENTITY, "issuer": ISSUER}]}
        ),
    ),
    Scenario(
        "sc-v02-generator-claim-own-key",
        AREA,
        SLSA,
        write_file(FILE, envelope(_v02(builder=GENERATOR + "@refs/tags/v1.9.0"))),
        "fail",
        "https://slsa.dev/provenance/v0.2 (builder.id of slsa-github-generator)",
        "a v0.2 statement naming the generator, signed by the pipeline key: level 1",
        params=_builders(DEMO_BUILDER, GENERATOR_BUILDER),
    ),
    Scenario(
        "sc-builder-entry-without-signers",
        AREA,
        PROV,
        provenance(),
        "insufficient_evidence",
        SPEC_LEVELS,
        "an allowed_builders entry that names no signer trusts nobody: rule data to fix",
        params=_builders({"id": BUILDER, "level": 2}),
    ),
    Scenario(
        "sc-builder-entry-plain-string",
        AREA,
        PROV,
        provenance(),
        "insufficient_evidence",
        SPEC_LEVELS,
        "the old shape (a bare builder id) binds no signer: refused as malformed rule data",
        params=_builders(BUILDER),
    ),
    Scenario(
        "sc-builder-level-not-a-number",
        AREA,
        SLSA,
        provenance(),
        "insufficient_evidence",
        SPEC_LEVELS,
        "a level that is not 0-4 cannot be credited",
        params=_builders({"id": BUILDER, "level": "3", "signers": [{"key_id": DEMO_KEY_ID}]}),
    ),
    Scenario(
        "sc-attacker-key-given-to-gate",
        AREA,
        SIG,
        provenance(key=ATTACKER_KEY),
        "fail",
        SPEC_DSSE + "; the gate's --key is what signatures are checked with, not trust",
        "the pipeline signs with its own new key and passes that key to the gate: not an allowed key",
        options=("--key", ATTACKER_PUB),
    ),
    Scenario(
        "sc-attacker-key-given-to-gate-provenance",
        AREA,
        PROV,
        provenance(key=ATTACKER_KEY),
        "fail",
        SPEC_DSSE,
        "a provenance signed by a key no builder entry names",
        options=("--key", ATTACKER_PUB),
    ),
    Scenario(
        "sc-signed-by-other-key",
        AREA,
        PROV,
        provenance(key=ATTACKER_KEY),
        "fail",
        SPEC_DSSE,
        "the envelope does not verify with the key the gate was given",
    ),
    Scenario(
        "sc-payload-changed-after-signing",
        AREA,
        SIG,
        edit_json(FILE, _tamper),
        "fail",
        SPEC_DSSE,
        "the builder id rewritten after signing: the signature no longer covers the payload",
    ),
    Scenario(
        "sc-signature-over-other-payload-type",
        AREA,
        PROV,
        write_file(
            FILE,
            json.dumps(
                {
                    **json.loads(envelope(_statement(), payload_type="application/json")),
                    "payloadType": IN_TOTO,
                }
            ),
        ),
        "fail",
        SPEC_DSSE + ": the PAE binds the payload type",
        "a signature made over another payloadType does not verify for the in-toto type",
    ),
    Scenario(
        "sc-no-signatures",
        AREA,
        PROV,
        edit_json(FILE, lambda d: d.update(signatures=[])),
        ("fail", "insufficient_evidence"),
        SPEC_DSSE,
        "an envelope with no signature is not verified",
    ),
    Scenario(
        "sc-bare-statement",
        AREA,
        PROV,
        write_file(FILE, _unsigned(_statement())),
        ("fail", "insufficient_evidence"),
        "https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md",
        "an unsigned Statement proves nothing about who built the image",
    ),
    # -- provenance bound to --commit and an allowed ref -----------------------------------------
    Scenario(
        "sc-other-commit",
        AREA,
        PROV,
        provenance(_set_commit("9" * 40)),
        "fail",
        SPEC_V1,
        "the provenance is of another commit than the one being promoted",
    ),
    Scenario(
        "sc-no-commit",
        AREA,
        PROV,
        provenance(_set_commit(None)),
        "insufficient_evidence",
        SPEC_V1,
        "a provenance that names no source commit cannot be bound to --commit",
    ),
    Scenario(
        "sc-abbreviated-commit",
        AREA,
        PROV,
        provenance(_set_commit(COMMIT[:7])),
        ("fail", "insufficient_evidence"),
        SPEC_V1 + " (gitCommit is the full 40-hex sha1)",
        "a 7-character commit prefix is not the commit: it may match many",
    ),
    Scenario(
        "sc-attacker-branch",
        AREA,
        PROV,
        provenance(_set_ref("refs/heads/attacker")),
        "fail",
        SPEC_GHA,
        "built from a branch nobody protects",
    ),
    Scenario(
        "sc-pull-request-ref",
        AREA,
        PROV,
        provenance(_set_ref("refs/pull/42/merge")),
        "fail",
        SPEC_GHA,
        "a pull_request build's merge ref is not a release ref",
    ),
    Scenario(
        "sc-branch-prefix-of-main",
        AREA,
        PROV,
        provenance(_set_ref("refs/heads/main-old")),
        "fail",
        SPEC_GHA,
        "allowed refs are compared whole: refs/heads/main-old is not refs/heads/main",
    ),
    Scenario(
        "sc-tag-pattern-anchored",
        AREA,
        PROV,
        provenance(_set_ref("refs/tags/v1.4.2-evil")),
        "fail",
        SPEC_GHA,
        "a ref pattern must match the whole ref (one anchored meaning, as identity patterns)",
    ),
    Scenario(
        "sc-tag-pattern-anchored-front",
        AREA,
        PROV,
        provenance(_set_ref("refs/heads/x/refs/tags/v1.4.2")),
        "fail",
        SPEC_GHA,
        "a pattern matched as a substring would take any branch ending in a tag name",
    ),
    Scenario(
        "sc-no-ref",
        AREA,
        PROV,
        provenance(_drop_ref),
        "insufficient_evidence",
        SPEC_GHA,
        "a provenance that names no ref cannot be shown to come from an allowed one",
    ),
    Scenario(
        "sc-other-branch-than-promoted",
        AREA,
        PROV,
        provenance(_set_ref("refs/heads/release")),
        "insufficient_evidence",
        SPEC_GHA,
        "--branch main is promoted; the provenance is of release (allowed by the rule data, but another branch)",
        options=("--branch", "main"),
        params={"defaults": {"supply_chain": {"allowed_refs": ["refs/heads/main", "refs/heads/release"]}}},
    ),
    Scenario(
        "sc-refs-unconfigured",
        AREA,
        PROV,
        provenance(),
        "insufficient_evidence",
        SPEC_GHA,
        "no allowed ref or ref pattern in rule data: which refs may release is the organisation's to say",
        params={"defaults": {"supply_chain": {"allowed_refs": [], "ref_patterns": []}}},
    ),
    Scenario(
        "sc-fork-repository",
        AREA,
        PROV,
        provenance(_fork),
        "fail",
        SPEC_GHA,
        "built from a fork of the repository",
    ),
    # -- what the provenance is about ------------------------------------------------------------
    Scenario(
        "sc-other-subject",
        AREA,
        SAME,
        provenance(_set_subjects([{"name": "ghcr.io/acme/shop", "digest": {"sha256": OTHER_HEX}}])),
        "fail",
        "https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md (subject digest)",
        "the provenance is of another image",
    ),
    Scenario(
        "sc-sha512-only-subject",
        AREA,
        PROV,
        provenance(_set_subjects([{"name": "ghcr.io/acme/shop", "digest": {"sha512": "ab" * 64}}])),
        ("fail", "insufficient_evidence"),
        "https://github.com/in-toto/attestation/blob/main/spec/v1/digest_set.md",
        "a subject named only by a digest of another algorithm cannot be matched to the image",
    ),
    Scenario(
        "sc-sbom-attestation-not-provenance",
        AREA,
        PROV,
        provenance(_other_predicate),
        "insufficient_evidence",
        "https://github.com/in-toto/attestation/blob/main/spec/predicates/spdx.md",
        "a signed SPDX attestation of the image is not build provenance",
    ),
    Scenario(
        "sc-witness-collection-not-slsa",
        AREA,
        SLSA,
        provenance(_witness),
        "insufficient_evidence",
        "https://witness.dev/docs/concepts/attestor (attestation-collection)",
        "a witness collection states no builder, so no build level can be credited",
    ),
    Scenario(
        "sc-provenance-removed",
        AREA,
        PROV,
        remove_file(FILE),
        "insufficient_evidence",
        SPEC_V1,
        "no provenance at all",
    ),
    Scenario(
        "sc-signature-removed",
        AREA,
        SIG,
        remove_file(FILE),
        "insufficient_evidence",
        SPEC_DSSE,
        "the only signature of the image was its signed provenance",
    ),
    Scenario(
        "sc-future-provenance",
        AREA,
        PROV,
        provenance(_future),
        "insufficient_evidence",
        SPEC_V1,
        "a build that finishes after the evaluation time cannot be judged",
    ),
    Scenario(
        "sc-cosign-verify-reported-only",
        AREA,
        SIG,
        both(remove_file(FILE), write_file("cosign-verify.json", json.dumps(_cosign_verify_claims(None)))),
        "fail",
        "https://docs.sigstore.dev/cosign/verifying/verify/ (cosign verify --output json)",
        "what cosign reports is not a signature affidavit verified",
    ),
    # -- verification summaries -------------------------------------------------------------------
    Scenario(
        "sc-vsa-failed",
        AREA,
        SLSA,
        vsa(_vsa(result="FAILED")),
        "fail",
        SPEC_VSA,
        "a VSA that says FAILED credits nothing",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-lower-case-passed",
        AREA,
        SLSA,
        vsa(_vsa(result="passed")),
        "fail",
        SPEC_VSA + " (PASSED|FAILED)",
        "the result is an enumeration: anything but PASSED is not a pass",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-untrusted-verifier",
        AREA,
        SLSA,
        vsa(_vsa(verifier="https://verifier.attacker.example")),
        "fail",
        SPEC_VSA,
        "a verifier rule data does not list",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-verifier-prefix",
        AREA,
        SLSA,
        vsa(_vsa(verifier=VERIFIER + "-evil")),
        "fail",
        SPEC_VSA,
        "verifier ids are compared whole",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-signed-by-other-key",
        AREA,
        SLSA,
        vsa(_vsa(), key=ATTACKER_KEY),
        "fail",
        SPEC_VSA,
        "the VSA names the trusted verifier but was not signed by it",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-verifier-signer-mismatch",
        AREA,
        SLSA,
        vsa(_vsa()),
        "fail",
        SPEC_VSA,
        "the signer is an allowed key, but not one rule data names for this verifier",
        params={
            "defaults": {
                "supply_chain": {
                    "min_slsa_level": 3,
                    "allowed_verifiers": [
                        {
                            "id": VERIFIER,
                            "signers": [
                                {
                                    "identity": "https://github.com/acme/verify/.github/workflows/vsa.yml@refs/heads/main",
                                    "issuer": ISSUER,
                                }
                            ],
                        }
                    ],
                }
            }
        },
    ),
    Scenario(
        "sc-vsa-other-subject",
        AREA,
        SLSA,
        vsa(_vsa(digest=OTHER_HEX)),
        "fail",
        SPEC_VSA,
        "a VSA for another image",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-unsigned",
        AREA,
        SLSA,
        write_file("vsa.intoto.json", _unsigned(_vsa())),
        "fail",
        SPEC_VSA,
        "an unsigned VSA statement",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-level-2-only",
        AREA,
        SLSA,
        vsa(_vsa(levels=("SLSA_BUILD_LEVEL_2",))),
        "fail",
        SPEC_VSA,
        "a VSA that verified level 2 when 3 is required",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-source-level-only",
        AREA,
        SLSA,
        vsa(_vsa(levels=("SLSA_SOURCE_LEVEL_3",))),
        "fail",
        SPEC_VSA + " (verifiedLevels may name source track levels)",
        "a source-track level is not a build level",
        params=LEVEL3,
    ),
    Scenario(
        "sc-vsa-no-verifiers-configured",
        AREA,
        SLSA,
        vsa(_vsa()),
        "fail",
        SPEC_VSA,
        "no verifier is allow-listed: the VSA credits nothing",
        params={"defaults": {"supply_chain": {"min_slsa_level": 3}}},
    ),
    Scenario(
        "sc-vsa-instead-of-provenance",
        AREA,
        PROV,
        both(remove_file(FILE), vsa(_vsa())),
        "insufficient_evidence",
        SPEC_VSA,
        "a VSA names no source commit: the provenance rule still needs the build's provenance",
        params=LEVEL3,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_supply_chain_scenario(tmp_path: Path, scenario: Scenario) -> None:
    check(tmp_path, scenario)


def test_the_subject_is_the_demo_image() -> None:
    assert SUBJECT.endswith(HEX)
    assert copy.deepcopy(_statement())["subject"][0]["digest"]["sha256"] == HEX
