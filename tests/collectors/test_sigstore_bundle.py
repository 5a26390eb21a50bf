"""Sigstore bundles: every file of the sigstore corpus folder, with its verdict and its reason.

Support files of the folder (artefacts, READMEs, identity/issuer files, keys, detached
signatures and certificates) are not evidence: they are listed explicitly below and must be
refused with an ``InputError`` naming the file (an unknown format). Trusted roots and
ClientTrustConfigs are refused with a message pointing at ``--trusted-root``. The conformance
cases are collected with their case settings (``tests/signatures/test_sigstore_conformance.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import InputError, UnknownFormatError
from affidavit.model import EvidenceKind
from tests.conftest import CORPUS, corpus_index, validate_record
from tests.signatures.helpers import collect
from tests.signatures.test_sigstore_conformance import collect_case, signature_of

FOLDER = CORPUS / "sigstore"
ENTRIES = corpus_index("sigstore")
STAGING = FOLDER / "trusted_root.staging.json"
PUBLIC_GOOD = FOLDER / "trusted_root.public-good.json"
GITHUB_OAUTH = "https://github.com/login/oauth"
GOOGLE = "https://accounts.google.com"
ACTIONS = "https://token.actions.githubusercontent.com"
# The sha256 of CPython's Python-3.12.5.tgz, as sigstore-python's own test of this bundle states
# it (test/integration/cli/test_plumbing.py); the tarball itself is not in the corpus.
PYTHON_3_12_5_TGZ = "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405"

SUPPORT_FILES = {
    "sigstore-conformance/README-conformance-layout.txt",
    "sigstore-conformance/a.txt",
    "sigstore-python-a.txt",
    "sigstore-python-a.txt.crt",
    "sigstore-python-a.txt.sig",
    "sigstore-python-bundle.txt",
    "sigstore-python-bundle_invalid_version.txt",
    "sigstore-python-bundle_v3.txt",
    "sigstore-python-bundle_v3_alt.txt",
    "sigstore-python-tsa-bundle.txt",
}
SUPPORT_NAMES = {"README.txt", "identity", "issuer", "artifact", "key.pub"}
TRUST_ROOTS = {
    "cosign-trusted_root_pgi.json",
    "sigstore-python-config.v1.json",
    "sigstore-python-trustedroot.v1.json",
    "sigstore-python-tsa-trust_config.json",
    "trusted_root.public-good.json",
    "trusted_root.staging.json",
}


def _sha256(path: Path) -> str:
    """``sha256:<hex>`` of a file, computed here."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _message_digest(name: str) -> str:
    """The digest a message-signature bundle signs, decoded here from the raw JSON."""
    bundle = json.loads((FOLDER / name).read_bytes())
    return "sha256:" + base64.b64decode(bundle["messageSignature"]["messageDigest"]["digest"]).hex()


# Non-conformance bundles: the settings to verify them with, and the verdict their INDEX note
# gives (the signing identities are the ones sigstore-python's tests use for these assets).
BUNDLES: dict[str, dict[str, Any]] = {
    "sigstore-python-bundle.txt.sigstore": {
        "options": {
            "trusted_root": STAGING,
            "identity": "a@tny.town",
            "issuer": GITHUB_OAUTH,
            "artifact": FOLDER / "sigstore-python-bundle.txt",
        },
        "verified": True,
    },
    "sigstore-python-bundle_v3.txt.sigstore": {
        "options": {
            "trusted_root": STAGING,
            "identity": "william@yossarian.net",
            "issuer": GITHUB_OAUTH,
            "artifact": FOLDER / "sigstore-python-bundle_v3.txt",
        },
        "verified": True,
    },
    "sigstore-python-bundle_v3_alt.txt.sigstore": {
        "options": {
            "trusted_root": STAGING,
            "identity": "william@yossarian.net",
            "issuer": GITHUB_OAUTH,
            "artifact": FOLDER / "sigstore-python-bundle_v3_alt.txt",
        },
        "verified": True,
    },
    "sigstore-python-tsa-bundle.txt.sigstore": {
        "options": {
            "trusted_root": FOLDER / "sigstore-python-tsa-trust_config.json",
            "identity": r"re:[a-z.]+@trailofbits\.com",
            "issuer": GOOGLE,
            "artifact": FOLDER / "sigstore-python-tsa-bundle.txt",
        },
        "verified": True,
    },
    "sigstore-python-bundle_v3_github.whl.sigstore": {
        # production; the wheel is not in the corpus, so the digest at hand is the one the bundle
        # signs (read from the raw JSON): this checks the signature material, not the wheel
        "options": {
            "identity": "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
            "issuer": ACTIONS,
            "artifact_digest": _message_digest("sigstore-python-bundle_v3_github.whl.sigstore"),
        },
        "verified": True,
    },
    "sigstore-python-Python-3.12.5.tgz.sigstore": {
        # INDEX says "pass (production, artifact not included)", but the bundle's inclusion proof
        # has no checkpoint: sigstore-python's own test asserts that it does not load as is
        "options": {"identity": "thomas@python.org", "issuer": GOOGLE, "artifact_digest": PYTHON_3_12_5_TGZ},
        "verified": False,
        "reason": "inclusion proof has no checkpoint",
    },
    "sigstore-python-bundle_invalid_version.txt.sigstore": {
        "options": {
            "trusted_root": STAGING,
            "identity": "william@yossarian.net",
            "issuer": GITHUB_OAUTH,
            "artifact": FOLDER / "sigstore-python-bundle_invalid_version.txt",
        },
        "verified": False,
        "reason": "unsupported bundle media type (a string of 24 characters, not a Sigstore bundle media type",
    },
    "cosign-oci-attestation.sigstore.json": {
        # cosign's test bundle (public-good); its signer is not stated by the source, so no
        # identity check (the signer is recorded for the rules), and the artefact is not at hand:
        # the cryptography verifies, the record is not verified
        "options": {},
        "verified": False,
        "reason": "no artefact digest given",
        "checks": {"signature": True, "identity": None},
    },
}
COSIGN_FILES = {
    "chainguard-hello-world-cosign-verify-2022-09.json": "cosign-verify",
    "chainguard-hello-world-cosign-verify-2022-11.json": "cosign-verify",
    "conforma-cli-cosign-signature-manifest.json": "cosign-signature-manifest",
    "conforma-cli-cosign-simplesigning-payload.json": "cosign-simplesigning",
    "conforma-cli-cosign-attestation-dsse.json": "in-toto-dsse",
}


def _category(name: str) -> str:
    """Which kind of file of the folder ``name`` is (support, trust root, bundle ...)."""
    if name in SUPPORT_FILES or Path(name).name in SUPPORT_NAMES:
        return "support"
    if Path(name).name == "trusted_root.json" or name in TRUST_ROOTS:
        return "trust-root"
    if name.startswith("sigstore-conformance/"):
        return "conformance"
    if name in BUNDLES:
        return "bundle"
    if name in COSIGN_FILES:
        return "cosign"
    return "unclassified"


def test_index_lists_the_folder() -> None:
    """Index lists the folder."""
    listed = {e["file"] for e in ENTRIES}
    on_disk = {str(p.relative_to(FOLDER)) for p in FOLDER.rglob("*") if p.is_file()}
    assert listed == on_disk - {"INDEX.json", "SOURCES.md"}


@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES])
def test_every_file(name: str) -> None:
    """Every file of the folder: refused as non-evidence, or collected with the right verdict."""
    category = _category(name)
    assert category != "unclassified", f"{name}: add it to a category of this test"
    path = FOLDER / name
    if category == "support":
        with pytest.raises(UnknownFormatError) as info:
            collect(path)
        assert name in info.value.diagnostics()
    elif category == "trust-root":
        with pytest.raises(InputError, match="pass it with --trusted-root") as refused:
            collect(path)
        assert "Sigstore" in refused.value.diagnostics()
    elif category == "conformance":
        case = name.split("/")[1]
        if case.endswith("_fail") and case.startswith("bundle-malformed"):
            with pytest.raises(InputError, match="JSON") as broken:
                collect_case(case)
            assert broken.value.kind == "signature"  # recognised as a bundle, then refused
        else:
            record = collect_case(case)
            validate_record(record)
            assert signature_of(record)["verified"] is (not case.endswith("_fail"))
    elif category == "bundle":
        expect = BUNDLES[name]
        record = collect(path, **expect["options"])
        validate_record(record)
        sig = signature_of(record)
        assert sig["verified"] is expect["verified"], sig["reasons"]
        if "reason" in expect:
            assert any(expect["reason"] in r for r in sig["reasons"]), sig["reasons"]
        for check, value in expect.get("checks", {}).items():
            assert sig["verifications"][0]["checks"][check] is value
    else:
        record = collect(path)
        validate_record(record)
        assert record.format == COSIGN_FILES[name]
        assert signature_of(record)["verified"] is False


@pytest.mark.parametrize("name", sorted(n for n, e in BUNDLES.items() if e["verified"]))
def test_verified_bundle_facts(name: str) -> None:
    """Subject digest, identity and log entry, compared with the raw bundle and artefact."""
    expect = BUNDLES[name]
    record = collect(FOLDER / name, **expect["options"])
    raw = json.loads((FOLDER / name).read_bytes())
    (item,) = record.data["verifications"]
    artifact = expect["options"].get("artifact")
    digest = _sha256(artifact) if artifact else expect["options"]["artifact_digest"]
    assert record.kind is EvidenceKind.SIGNATURE
    assert record.subject.digest == item["subject_digest"] == digest
    assert item["method"] == "sigstore-bundle"
    assert item["issuer"] == expect["options"]["issuer"]
    if not expect["options"]["identity"].startswith("re:"):
        assert item["identity"] == expect["options"]["identity"]
    entry = raw["verificationMaterial"]["tlogEntries"][0]
    assert item["tlog"]["log_index"] == int(entry["logIndex"])
    assert item["tlog"]["integrated_time"] == int(entry["integratedTime"])
    assert record.data["bundle"]["media_type"] == raw["mediaType"]
    assert record.format_version == record.data["bundle"]["version"]


def test_wrong_artifact_fails_the_staging_bundle() -> None:
    """Wrong artifact fails the staging bundle."""
    options = dict(BUNDLES["sigstore-python-bundle_v3.txt.sigstore"]["options"])
    options["artifact"] = FOLDER / "sigstore-python-bundle_v3_alt.txt"
    record = collect(FOLDER / "sigstore-python-bundle_v3.txt.sigstore", **options)
    (item,) = record.data["verifications"]
    assert item["checks"] == {"signature": True, "identity": True, "artifact": False}
    assert _sha256(FOLDER / "sigstore-python-bundle_v3_alt.txt") in item["error"]


def test_staging_bundle_fails_against_the_public_good_root() -> None:
    """Staging bundle fails against the public good root."""
    options = dict(BUNDLES["sigstore-python-bundle.txt.sigstore"]["options"])
    options["trusted_root"] = PUBLIC_GOOD
    record = collect(FOLDER / "sigstore-python-bundle.txt.sigstore", **options)
    assert record.data["verifications"][0]["checks"]["signature"] is False


def test_tsa_bundle_fails_against_the_public_good_root() -> None:
    """Tsa bundle fails against the public good root."""
    options = dict(BUNDLES["sigstore-python-tsa-bundle.txt.sigstore"]["options"])
    options["trusted_root"] = PUBLIC_GOOD
    record = collect(FOLDER / "sigstore-python-tsa-bundle.txt.sigstore", **options)
    assert record.data["verified"] is False
    assert record.data["verifications"][0]["checks"]["signature"] is False
    raw = json.loads((FOLDER / "sigstore-python-tsa-bundle.txt.sigstore").read_bytes())
    timestamps = raw["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    assert record.data["bundle"]["signed_timestamps"] == len(timestamps) > 0


def test_another_identity_is_not_verified() -> None:
    """Another identity is not verified."""
    options = dict(BUNDLES["sigstore-python-bundle_v3.txt.sigstore"]["options"])
    options["identity"] = "mallory@example.com"
    record = collect(FOLDER / "sigstore-python-bundle_v3.txt.sigstore", **options)
    (item,) = record.data["verifications"]
    assert item["checks"] == {"signature": True, "identity": False, "artifact": True}
    assert "the certificate's identities (1, recorded as identity) do not match" in item["error"]
    assert item["identity"] == "william@yossarian.net"  # the signer is evidence, recorded as data
    assert "william@yossarian.net" not in item["error"]


def test_detection_without_media_type(tmp_path: Path) -> None:
    """A bundle with a wrong media type is still recognised by its shape and fails by its reason."""
    record = collect(FOLDER / "sigstore-python-bundle_invalid_version.txt.sigstore")
    assert record.format == "sigstore-bundle"
    assert record.data["bundle"]["media_type"] == "this is completely wrong"
