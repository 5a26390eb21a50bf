"""Attacks on the shipped rule data (issue 9, finding 4: "the built-in prod defaults trust the
demo's own signer, source repository and check names").

The built-in rule data is neutral: it trusts no signer, builder or source repository and requires
no check by name. Where an organisation has configured none, the rules that need them say
``insufficient_evidence`` with the rule data key to set, never pass and never fail as "not
allowed". A key given to the gate with ``--key`` is only the key signatures are checked with: in
prod it counts as an allowed signer only when its key id is listed in
``supply_chain.allowed_key_ids``. The demo organisation's own rule data is
``evidence/demo/params.yaml``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from affidavit.policy.evaluate import EvalContext, evaluate
from affidavit.policy.loader import load_policy_set
from affidavit.policy.params import builtin_params_path, known_environments, load_params
from affidavit.signatures.result import key_fingerprint
from tests.attacks.support import DEMO, DEMO_PARAMS, GateResult, gate, release
from tests.conftest import CORPUS

if TYPE_CHECKING:
    from affidavit.model import Evidence, RuleResult

# The values the old built-in rule data trusted or required: the demo organisation's own.
DEMO_IDENTITY = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEMO_VALUES = ("acme", "shop", "ci/build", "ci/test", "release.yml", "accept_gate_key: true")

# Rule data an organisation must set before the rules that read it can pass.
MUST_CONFIGURE = {
    "supply_chain": (
        "allowed_identities",
        "identity_patterns",
        "allowed_key_ids",
        "allowed_builders",
        "allowed_source_repos",
    ),
    "source_control": ("required_checks",),
}
SIGNATURE = "supply_chain.signature_verified"
PROVENANCE = "supply_chain.provenance_trusted"
SLSA = "supply_chain.slsa_level"
CHECKS = "source_control.status_checks"


def _rule(result: GateResult, rule_id: str) -> dict[str, Any]:
    rule: dict[str, Any] = next(r for r in result.results["rules"] if r["id"] == rule_id)
    return rule


def _missing(rule: dict[str, Any]) -> str:
    return "\n".join(m["msg"] for m in rule["missing"])


# ---------------------------------------------------------------------------------------------
# The shipped rule data


def test_the_built_in_rule_data_names_nothing_of_the_demo() -> None:
    text = builtin_params_path().read_text(encoding="utf-8")
    demo_key_id = key_fingerprint(_der(DEMO / "cosign.pub"))
    for value in (*DEMO_VALUES, demo_key_id, demo_key_id.removeprefix("sha256:")):
        assert value not in text, value


@pytest.mark.parametrize("environment", known_environments())
def test_the_built_in_rule_data_trusts_no_one_in_any_environment(environment: str) -> None:
    params = load_params(environment)
    for area, keys in MUST_CONFIGURE.items():
        for key in keys:
            assert params[area][key] == [], (environment, area, key)
    assert params["supply_chain"]["accept_gate_key"] is False


# ---------------------------------------------------------------------------------------------
# The GO release, judged by the built-in rule data only


def test_the_go_release_is_not_go_without_its_organisations_rule_data(tmp_path: Path) -> None:
    # Before: GO, exit 0. The built-in prod data trusted the demo's signer (the gate key),
    # builder and repository, and required the demo's check names.
    result = gate(tmp_path, release(tmp_path, "go"), demo_params=False)
    assert result.exit_code == 1
    assert result.results["decision"] != "GO"
    expected = {
        SIGNATURE: ("supply_chain.allowed_identities", "supply_chain.allowed_key_ids"),
        PROVENANCE: (
            "supply_chain.allowed_builders",
            "supply_chain.allowed_source_repos",
            "supply_chain.allowed_key_ids",
        ),
        SLSA: ("supply_chain.allowed_identities", "supply_chain.allowed_key_ids"),
        CHECKS: ("source_control.required_checks",),
    }
    for rule_id, keys in expected.items():
        rule = _rule(result, rule_id)
        # insufficient evidence, with the fix; never a pass, never a silent "not allowed" failure
        assert rule["outcome"] == "insufficient_evidence", rule_id
        assert rule["violations"] == [], rule_id
        text = _missing(rule)
        for key in keys:
            assert key in text, (rule_id, key)
        assert "docs/params.md" in text and "--params" in text, rule_id
    assert "no trusted signers are configured for prod" in _missing(_rule(result, SIGNATURE))
    assert "no trusted builders are configured for prod" in _missing(_rule(result, PROVENANCE))
    assert "no trusted source repositories are configured for prod" in _missing(_rule(result, PROVENANCE))
    assert "no required status checks are configured for prod" in _missing(_rule(result, CHECKS))


def test_with_the_demo_organisations_rule_data_go_is_go_and_no_go_is_no_go(tmp_path: Path) -> None:
    go = gate(tmp_path, release(tmp_path, "go"), out="go")
    assert go.exit_code == 0, go.stdout
    assert {_rule(go, r)["outcome"] for r in (SIGNATURE, PROVENANCE, SLSA, CHECKS)} == {"pass"}
    inputs = go.results["configuration"]["inputs"]
    assert {"role": "params", "path": str(DEMO_PARAMS)} in [
        {k: i[k] for k in ("role", "path")} for i in inputs
    ]
    nogo = gate(tmp_path, release(tmp_path), out="nogo")
    assert nogo.exit_code == 1
    assert nogo.results["decision"] == "NO-GO"


# ---------------------------------------------------------------------------------------------
# A key of the attacker's own, given with --key


def _der(pem_path: Path) -> bytes:
    key = serialization.load_pem_public_key(pem_path.read_bytes())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _resign(evidence: Path, tmp_path: Path) -> Path:
    """Sign the release's provenance again with a key of the attacker's own, as ``cosign attest
    --key`` does (a DSSE envelope, ECDSA P-256 over the pre-authentication encoding:
    https://github.com/secure-systems-lab/dsse/blob/master/protocol.md); return its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    envelope = json.loads((evidence / "provenance.intoto.json").read_text())
    payload = base64.b64decode(envelope["payload"])
    kind = envelope["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope["signatures"] = [{"keyid": "", "sig": base64.b64encode(signature).decode()}]
    (evidence / "provenance.intoto.json").write_text(json.dumps(envelope, indent=2) + "\n")
    public = tmp_path / "attacker.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def test_an_attackers_own_key_given_with_key_is_not_an_allowed_signer(tmp_path: Path) -> None:
    # Before: GO, exit 0. accept_gate_key (true in prod) trusted whatever key the gate was given.
    evidence = release(tmp_path, "go")
    attacker = _resign(evidence, tmp_path)
    alone = gate(tmp_path, evidence, "--key", str(attacker), key=False, demo_params=False, out="alone")
    assert alone.exit_code == 1
    for rule_id in (SIGNATURE, PROVENANCE, SLSA):
        assert _rule(alone, rule_id)["outcome"] == "insufficient_evidence", rule_id
    # The key is recorded (path, hash and key id) even though it is trusted by nothing.
    digest = hashlib.sha256(attacker.read_bytes()).hexdigest()
    recorded = [i for i in alone.results["configuration"]["inputs"] if i["role"] == "key"]
    assert len(recorded) == 1 and recorded[0]["path"] == str(attacker) and recorded[0]["sha256"] == digest
    assert recorded[0]["value"].startswith("sha256:")  # the key id, to hold against allowed_key_ids

    # The organisation's rule data lists its own key; the attacker's verifies but is not allowed.
    org = gate(tmp_path, evidence, "--key", str(attacker), key=False, out="org")
    assert org.exit_code == 1
    signature = _rule(org, SIGNATURE)
    assert signature["outcome"] == "fail"
    attacker_id = key_fingerprint(_der(attacker))
    assert f"was made by key {attacker_id}, which is not allowed" in signature["violations"][0]["msg"]
    assert "supply_chain.allowed_key_ids" in signature["violations"][0]["msg"]
    assert _rule(org, PROVENANCE)["outcome"] == "fail"
    assert _rule(org, SLSA)["outcome"] == "fail"


def test_accept_gate_key_cannot_trust_a_command_line_key_in_prod(tmp_path: Path) -> None:
    # An override that sets accept_gate_key for prod: in prod a key counts only by its listed id.
    evidence = release(tmp_path, "go")
    attacker = _resign(evidence, tmp_path)
    override = tmp_path / "accept.yaml"
    override.write_text("environments:\n  prod:\n    supply_chain:\n      accept_gate_key: true\n")
    result = gate(tmp_path, evidence, "--params", str(override), "--key", str(attacker), key=False)
    assert result.exit_code == 1
    signature = _rule(result, SIGNATURE)
    assert signature["outcome"] == "fail"
    assert any("accept_gate_key" in w["msg"] and "prod" in w["msg"] for w in signature["warnings"])
    assert _rule(result, PROVENANCE)["outcome"] == "fail"


# ---------------------------------------------------------------------------------------------
# A keyless signer of another repository


CONFORMANCE = CORPUS / "sigstore" / "sigstore-conformance"
ARTIFACT = CONFORMANCE / "a.txt"


def _keyless_record(identity: str | None = None) -> Evidence:
    """The record affidavit writes for a verified keyless Sigstore bundle (sigstore-conformance's
    happy path, verified here against the public-good trust root); with ``identity``, the same
    record for a certificate issued to that workflow identity (Fulcio's SAN for GitHub Actions:
    https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)."""
    case = CONFORMANCE / "happy-path-v0.3"
    doc = Artefact(f"evidence/{case.name}.sigstore.json", (case / "bundle.sigstore.json").read_bytes())
    record = collect_document(doc, CollectOptions(now="2026-11-20T12:00:00Z", artifact=ARTIFACT))
    (item,) = record.data["verifications"]
    assert item["verified"] is True and item["issuer"] == ACTIONS_ISSUER
    if identity is None:
        return record
    data = dict(record.data)
    data["verifications"] = [{**item, "identity": identity}]
    return dataclasses.replace(record, data=data)


def _judge(record: Evidence, params: dict[str, Any]) -> RuleResult:
    digest = "sha256:" + hashlib.sha256(ARTIFACT.read_bytes()).hexdigest()
    context = EvalContext(
        environment="prod",
        subject_name=None,
        subject_digest=digest,
        now=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
        params=params,
    )
    results = evaluate(load_policy_set(()), [record], context)
    return next(r for r in results if r.rule_id == SIGNATURE)


def test_the_identity_of_another_repository_that_the_old_defaults_trusted_is_not_allowed(
    tmp_path: Path,
) -> None:
    # Before: pass. The built-in prod data allowed acme/shop's release workflow, so any
    # organisation that had not configured its signers accepted acme/shop's signatures.
    record = _keyless_record(DEMO_IDENTITY)
    built_in = _judge(record, load_params("prod"))
    assert built_in.outcome.value == "insufficient_evidence"
    assert not built_in.violations
    assert any("supply_chain.allowed_identities" in m.msg for m in built_in.missing)
    # An organisation that trusts its own release workflow does not trust acme/shop's.
    own = {
        "identity": "https://github.com/example-org/app/.github/workflows/release.yml@refs/heads/main",
        "issuer": ACTIONS_ISSUER,
    }
    org = tmp_path / "org.yaml"
    org.write_text(json.dumps({"defaults": {"supply_chain": {"allowed_identities": [own]}}}))
    theirs = _judge(record, load_params("prod", [org]))
    assert theirs.outcome.value == "fail"
    assert "which is not allowed" in theirs.violations[0].msg
    # The demo organisation's rule data allows it (the record is judged, not the file name).
    assert _judge(record, load_params("prod", [DEMO_PARAMS])).outcome.value == "pass"


def test_a_keyless_signature_without_configured_signers_is_insufficient_not_a_failure(tmp_path: Path) -> None:
    # Before: fail, "not in supply_chain.allowed_identities": as if the signer had been refused,
    # when in truth no one had been trusted. The gate verifies the real bundle here.
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "bundle.sigstore.json").write_bytes(
        (CONFORMANCE / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    )
    digest = "sha256:" + hashlib.sha256(ARTIFACT.read_bytes()).hexdigest()
    from click.testing import CliRunner

    from affidavit.cli import main

    out = tmp_path / "out"
    args = ["gate", "--evidence", str(evidence), "--subject", digest, "--now", "2026-11-20T12:00:00Z"]
    result = CliRunner().invoke(main, [*args, "--replay", "--out", str(out)])
    assert result.exit_code == 1, result.output
    bundle = next(p for p in out.iterdir() if p.is_dir())
    rule = next(r for r in json.loads((bundle / "results.json").read_text())["rules"] if r["id"] == SIGNATURE)
    assert rule["outcome"] == "insufficient_evidence"
    assert rule["violations"] == []
    assert "no trusted signers are configured for prod" in _missing(rule)


# ---------------------------------------------------------------------------------------------
# Branch protection of another repository


SOURCE_CONTROL = (
    "source_control.branch_protected",
    "source_control.required_reviews",
    "source_control.code_owner_review",
    "source_control.dismiss_stale_reviews",
    "source_control.status_checks",
    "source_control.admins_enforced",
    "source_control.signed_linear_history",
    "source_control.no_force_push",
)


def test_the_branch_protection_of_another_repository_does_not_stand_in_for_ours(tmp_path: Path) -> None:
    # Before: GO, exit 0. A release whose only problem was its weakly protected branch became GO
    # when the weak export was swapped for the strong protection of someone else's repository
    # (GitHub REST "Get branch protection", whose url names the repository:
    # https://docs.github.com/en/rest/branches/branch-protection#get-branch-protection).
    evidence = release(tmp_path, "go")
    weak = (DEMO / "no-go" / "branch-protection.json").read_text()
    (evidence / "branch-protection.json").write_text(weak)
    assert gate(tmp_path, evidence, out="weak").exit_code == 1  # the release's real state: NO-GO

    strong_elsewhere = (
        (DEMO / "go" / "branch-protection.json")
        .read_text()
        .replace("/repos/acme/shop/", "/repos/mallory/shop/")
    )
    assert strong_elsewhere.count("/repos/mallory/shop/") > 1
    (evidence / "branch-protection.json").write_text(strong_elsewhere)
    result = gate(tmp_path, evidence, out="swapped")
    assert result.exit_code == 1
    for rule_id in SOURCE_CONTROL:
        rule = _rule(result, rule_id)
        assert rule["outcome"] == "insufficient_evidence", rule_id
        assert "mallory/shop branch main: the branch-protection record" in _missing(rule), rule_id
        assert "supply_chain.allowed_source_repos" in _missing(rule), rule_id


def test_branch_protection_is_not_judged_without_the_organisations_repositories(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "go"), demo_params=False)
    assert result.exit_code == 1
    for rule_id in SOURCE_CONTROL:
        rule = _rule(result, rule_id)
        assert rule["outcome"] == "insufficient_evidence", rule_id
        assert rule["violations"] == [], rule_id
        assert "no trusted source repositories are configured for prod" in _missing(rule), rule_id
