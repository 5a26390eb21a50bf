"""Who may sign is decided by the rules, from the environment's rule data; ``--identity`` is a check a user adds.

The signature collectors record what the bundle shows (the cryptography verified or not, the
certificate's identity and issuer); ``supply_chain.signature_verified`` judges that signer
against ``supply_chain.allowed_identities`` / ``identity_patterns`` with whole-value patterns.
The bundle is sigstore-conformance's happy path, signed by the conformance suite's GitHub Actions
workflow (a Fulcio certificate for ``https://github.com/OWNER/REPO/.github/workflows/FILE@REF``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from tests.conftest import CORPUS

CASES = CORPUS / "sigstore" / "sigstore-conformance"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISSUER = "https://token.actions.githubusercontent.com"
RULE = "supply_chain.signature_verified"


def _run(
    tmp_path: Path,
    allowed: list[dict[str, str]],
    patterns: list[dict[str, str]],
    *options: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Gate the conformance bundle with this rule data; the signature rule and the bundle's record."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(CASES / "happy-path-v0.3" / "bundle.sigstore.json", evidence / "bundle.sigstore.json")
    digest = "sha256:" + hashlib.sha256((CASES / "a.txt").read_bytes()).hexdigest()
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps(
            {
                "environments": {
                    "prod": {"supply_chain": {"allowed_identities": allowed, "identity_patterns": patterns}}
                }
            }
        )
    )
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(evidence),
            "--subject",
            digest,
            "--params",
            str(params),
            "--now",
            "2026-11-20T12:00:00Z",
            "--replay",
            "--out",
            str(tmp_path / "out"),
            *options,
        ],
    )
    # everything else is missing: NO-GO (exit 1 by the gate's own decision, not by an exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output + result.stderr
    bundle = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    rules = json.loads((bundle / "results.json").read_text())["rules"]
    records = [json.loads(p.read_text()) for p in (bundle / "evidence").rglob("*.json")]
    record = next(r for r in records if r.get("kind") == "signature")
    return next(r for r in rules if r["id"] == RULE), record


def test_keyless_signature_from_an_allowed_identity_passes(tmp_path: Path) -> None:
    rule, record = _run(tmp_path, [{"identity": BEACON, "issuer": ISSUER}], [])
    assert rule["outcome"] == "pass"
    (item,) = record["data"]["verifications"]
    assert item["verified"] is True and item["identity"] == BEACON and item["issuer"] == ISSUER


def test_identity_pattern_from_rule_data_passes(tmp_path: Path) -> None:
    rule, _ = _run(
        tmp_path, [], [{"identity": "https://github.com/sigstore-conformance/.*", "issuer": ISSUER}]
    )
    assert rule["outcome"] == "pass"


def test_signer_not_in_rule_data_is_refused_by_the_rule_not_the_collector(tmp_path: Path) -> None:
    """The record states the verified facts; the rule says the signer is not allowed."""
    other = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
    rule, record = _run(tmp_path, [{"identity": other, "issuer": ISSUER}], [])
    assert rule["outcome"] == "fail"
    (item,) = record["data"]["verifications"]
    assert item["checks"] == {"signature": True, "identity": None, "artifact": True}
    assert item["verified"] is True and item["identity"] == BEACON and item["reasons"] == []
    assert record["data"]["policy"]["identity"] is None
    (violation,) = rule["violations"]
    assert f"was made by identity {BEACON} (issuer {ISSUER}), which is not allowed" in violation["msg"]


# Rule-data patterns that an unanchored match would have let the conformance signer through.
LOOK_ALIKE_PATTERNS = {
    "the allowed ref is a prefix of the signer's": re.escape(BEACON.removesuffix("main")) + "mai",
    "the allowed ref, dots unescaped": BEACON.removesuffix("main") + "mai",
    "a fragment of the repository": r"sigstore-conformance/extremely-dangerous",
    "the signer's URL is inside the pattern's": r"https://github\.com/sigstore-conformance/extremely",
}


@pytest.mark.parametrize("pattern", LOOK_ALIKE_PATTERNS.values(), ids=LOOK_ALIKE_PATTERNS.keys())
def test_a_pattern_must_match_the_whole_identity(tmp_path: Path, pattern: str) -> None:
    rule, _ = _run(tmp_path, [], [{"identity": pattern, "issuer": ISSUER}])
    assert rule["outcome"] == "fail"
    assert "which is not allowed" in json.dumps(rule["violations"])


def test_the_right_identity_from_another_issuer_is_refused(tmp_path: Path) -> None:
    rule, _ = _run(
        tmp_path, [{"identity": BEACON, "issuer": "https://token.actions.githubusercontent.com/x"}], []
    )
    assert rule["outcome"] == "fail"


def test_an_explicit_identity_check_that_fails_reaches_the_rule(tmp_path: Path) -> None:
    """``--identity``/``--issuer`` on the gate is checked on the certificate; its failure is a deny."""
    release = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
    rule, record = _run(
        tmp_path,
        [{"identity": BEACON, "issuer": ISSUER}],
        [],
        "--identity",
        release,
        "--issuer",
        ISSUER,
    )
    (item,) = record["data"]["verifications"]
    assert item["checks"] == {"signature": True, "identity": False, "artifact": True}
    assert record["data"]["policy"]["identity"] == release
    assert rule["outcome"] == "fail"
    assert "did not verify" in json.dumps(rule["violations"])
    assert "do not match the allowed identity" in json.dumps(rule["violations"])


def test_an_explicit_pattern_is_whole_value_too(tmp_path: Path) -> None:
    """The same look-alike written as ``--identity re:...`` fails the explicit check."""
    prefix = "re:" + re.escape(BEACON.removesuffix("main")) + "mai"
    rule, record = _run(
        tmp_path, [{"identity": BEACON, "issuer": ISSUER}], [], "--identity", prefix, "--issuer", ISSUER
    )
    assert record["data"]["verifications"][0]["checks"]["identity"] is False
    assert rule["outcome"] == "fail"


def test_an_explicit_identity_that_passes_still_needs_the_rule_data(tmp_path: Path) -> None:
    """``--identity`` adds a check; it does not replace the environment's allow-list."""
    other = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
    rule, record = _run(
        tmp_path, [{"identity": other, "issuer": ISSUER}], [], "--identity", BEACON, "--issuer", ISSUER
    )
    assert record["data"]["verifications"][0]["checks"]["identity"] is True
    assert rule["outcome"] == "fail"
    assert "which is not allowed" in json.dumps(rule["violations"])


# ---------------------------------------------------------------------------------------------
# Keyless provenance: a level is credited through the builder's signers (issue 10)
#
# sigstore-conformance's happy-path-intoto-in-dsse-v3 bundle carries a real SLSA v1 provenance
# of GitHub's artifact attestations (buildType https://actions.github.io/buildtypes/workflow/v1)
# whose builder id is the aa-test repository's own workflow, but whose Fulcio certificate is the
# conformance beacon's workflow: the document says one builder, the signature another identity.

INTOTO = CASES / "happy-path-intoto-in-dsse-v3" / "bundle.sigstore.json"
INTOTO_DIGEST = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"
INTOTO_COMMIT = "ebff8dfbd609b7b22237c7719ce07f2dc7934f5f"
AA_BUILDER = "https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main"


def _provenance_gate(tmp_path: Path, builder_signer: str, commit: str = INTOTO_COMMIT) -> dict[str, str]:
    """Gate the keyless provenance with a builder entry whose only signer is ``builder_signer``."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(INTOTO, evidence / "provenance.sigstore.json")
    params = tmp_path / "params.yaml"
    supply_chain = {
        "allowed_identities": [{"identity": BEACON, "issuer": ISSUER}],
        "allowed_source_repos": ["github.com/loosebazooka/aa-test"],
        "allowed_refs": ["refs/heads/main"],
        "allowed_builders": [
            {"id": AA_BUILDER, "level": 3, "signers": [{"identity": builder_signer, "issuer": ISSUER}]}
        ],
        "min_slsa_level": 3,
    }
    params.write_text(json.dumps({"environments": {"prod": {"supply_chain": supply_chain}}}))
    result = CliRunner().invoke(
        main,
        [
            "gate", "--evidence", str(evidence), "--subject", f"a.txt@{INTOTO_DIGEST}",
            "--commit", commit, "--params", str(params), "--now", "2026-11-20T12:00:00Z", "--replay",
            "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    bundle = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    rules = json.loads((bundle / "results.json").read_text())["rules"]
    return {r["id"]: r["outcome"] for r in rules} | {
        f"{r['id']}:msg": " ".join(v["msg"] for v in r["violations"] + r["missing"]) for r in rules
    }


def test_keyless_provenance_is_credited_its_builders_level_through_the_identity_that_signed(
    tmp_path: Path,
) -> None:
    outcomes = _provenance_gate(tmp_path, BEACON)
    assert outcomes["supply_chain.provenance_trusted"] == "pass", outcomes[
        "supply_chain.provenance_trusted:msg"
    ]
    assert outcomes["supply_chain.slsa_level"] == "pass", outcomes["supply_chain.slsa_level:msg"]
    assert outcomes["supply_chain.signature_verified"] == "pass"


def test_keyless_provenance_naming_a_builder_whose_signer_did_not_sign_it_is_level_1(tmp_path: Path) -> None:
    """The builder id says aa-test's workflow; rule data says that workflow signs for it; the beacon
    signed. The builder is not credited (level 1, below 3) and the provenance is not trusted."""
    outcomes = _provenance_gate(tmp_path, AA_BUILDER)
    assert outcomes["supply_chain.provenance_trusted"] == "fail"
    assert (
        "is not one supply_chain.allowed_builders names for its builder"
        in outcomes["supply_chain.provenance_trusted:msg"]
    )
    assert outcomes["supply_chain.slsa_level"] == "fail"
    assert (
        "shows SLSA build level 1; prod requires at least level 3" in outcomes["supply_chain.slsa_level:msg"]
    )


def test_keyless_provenance_of_another_commit_is_not_trusted(tmp_path: Path) -> None:
    outcomes = _provenance_gate(tmp_path, BEACON, commit="1" * 40)
    assert outcomes["supply_chain.provenance_trusted"] == "fail"
    assert (
        f"it was built from commit {INTOTO_COMMIT}, not the commit being promoted"
        in outcomes["supply_chain.provenance_trusted:msg"]
    )


# ---------------------------------------------------------------------------------------------
# A real VSA (docker/attest test data, corpus attestation-vsa): verifier https://docker.com,
# PASSED, SLSA_BUILD_LEVEL_3, signed with the ECDSA key of docker-attest-doi-signing-key.pem.

VSA_DIR = CORPUS / "attestation-vsa"
VSA_DIGEST = "sha256:da8b190665956ea07890a0273e2a9c96bfe291662f08e2860e868eef69c34620"
DOCKER_KEY_ID = "sha256:a0c296026645799b2a297913878e81b0aefff2a0c301e97232f717e14402f3e4"


def _vsa_gate(tmp_path: Path, verifiers: list[dict[str, Any]]) -> dict[str, str]:
    """Gate the docker VSA (with its key) requiring level 3; the outcomes and messages by rule."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(VSA_DIR / "docker-attest-vsa.json", evidence / "vsa.intoto.json")
    params = tmp_path / "params.yaml"
    supply_chain = {
        "allowed_key_ids": [DOCKER_KEY_ID],
        "allowed_verifiers": verifiers,
        "min_slsa_level": 3,
    }
    params.write_text(json.dumps({"environments": {"prod": {"supply_chain": supply_chain}}}))
    result = CliRunner().invoke(
        main,
        [
            "gate", "--evidence", str(evidence), "--subject", f"test-image@{VSA_DIGEST}",
            "--key", str(VSA_DIR / "docker-attest-doi-signing-key.pem"), "--params", str(params),
            "--now", "2026-11-20T12:00:00Z", "--replay", "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    bundle = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    rules = json.loads((bundle / "results.json").read_text())["rules"]
    return {r["id"]: r["outcome"] for r in rules} | {
        f"{r['id']}:msg": " ".join(v["msg"] for v in r["violations"] + r["missing"]) for r in rules
    }


def test_a_passed_vsa_signed_by_its_allow_listed_verifier_credits_its_level(tmp_path: Path) -> None:
    outcomes = _vsa_gate(tmp_path, [{"id": "https://docker.com", "signers": [{"key_id": DOCKER_KEY_ID}]}])
    assert outcomes["supply_chain.slsa_level"] == "pass", outcomes["supply_chain.slsa_level:msg"]
    # a VSA names no source commit or ref: the provenance rule still wants the build's provenance
    assert outcomes["supply_chain.provenance_trusted"] == "insufficient_evidence"


@pytest.mark.parametrize(
    "verifiers",
    [
        [],  # no verifier trusted
        [{"id": "https://docker.com/", "signers": [{"key_id": DOCKER_KEY_ID}]}],  # another id
        [{"id": "https://docker.com", "signers": [{"key_id": "sha256:" + "0" * 64}]}],  # another key
        [{"id": "https://docker.com", "signers": [{"identity": "https://docker.com", "issuer": ISSUER}]}],
    ],
    ids=["no-verifier", "other-verifier-id", "other-verifier-key", "keyless-signer-only"],
)
def test_a_vsa_from_a_verifier_rule_data_does_not_name_for_its_signer_credits_nothing(
    tmp_path: Path, verifiers: list[dict[str, Any]]
) -> None:
    outcomes = _vsa_gate(tmp_path, verifiers)
    assert outcomes["supply_chain.slsa_level"] == "fail"
    assert (
        "credits nothing" in outcomes["supply_chain.slsa_level:msg"]
        or "is not one supply_chain.allowed_verifiers" in outcomes["supply_chain.slsa_level:msg"]
    )
