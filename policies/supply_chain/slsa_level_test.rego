package affidavit.rules.supply_chain.slsa_level_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.slsa_level as rule

_issuer := "https://token.actions.githubusercontent.com"

_container := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"

_generator := concat("", [_container, "@refs/tags/v2.1.0"])

_release := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_key := "sha256:a81e0dfa0c6b3a21aff77c2c7e040ea46ea6fe2ec3f9df00373c3100436f5a17"

_verifier := "https://verifier.acme.example/slsa"

_vsa_key := "sha256:0c7c1d5f8a0d3c7b0fd7f9b4a45a44f3a4c0d2e1b7d2a2c8f6b5a4e3d2c1b0a9"

# The generator's reusable workflow signs the provenance it makes; the hosted builder's provenance
# is signed by the release key; the VSA verifier signs with its own key.
_prod := {"supply_chain": {
	"min_slsa_level": 3,
	"allowed_identities": [{"identity": _release, "issuer": _issuer}],
	"allowed_key_ids": [_key],
	"allowed_builders": [
		{"id": _container, "level": 3, "signers": [{"identity_pattern": `https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/generator_container_slsa3\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`, "issuer": _issuer}]},
		{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"key_id": _key}]},
	],
	"allowed_verifiers": [{"id": _verifier, "signers": [{"key_id": _vsa_key}]}],
}}

_verification(identity, key_id, verified) := {
	"verified": verified, "method": "sigstore-bundle", "subject_digest": testing.digest,
	"identity": identity, "issuer": _issuer, "key_id": key_id, "tlog": null, "error": null,
}

_provenance(n, builder, v) := testing.record("provenance", n, {
	"format": "in-toto-dsse",
	"format_version": "1",
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {
		"predicate_type": "https://slsa.dev/provenance/v1",
		"predicate_kind": "slsa-provenance",
		"builder_id": builder,
		"source": {"repo": "https://github.com/acme/shop", "ref": "refs/heads/main", "commit": testing.commit},
		"subjects": [{"name": "ghcr.io/acme/shop", "digest": testing.digest}],
		"slsa_level": null,
		"verified": v.verified,
		"signature": {
			"verified": v.verified,
			"policy": {"identity": null, "issuer": null, "public_key": null},
			"verifications": [v],
			"reasons": [],
		},
	},
})

_by_generator := _provenance("p", _generator, _verification(_generator, null, true))

_vsa(n, result, levels, verifier, key_id) := testing.record("provenance", n, {
	"format": "in-toto-dsse",
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {
		"predicate_type": "https://slsa.dev/verification_summary/v1",
		"predicate_kind": "verification-summary",
		"builder_id": null,
		"slsa_level": levels,
		"verification": {"verifier_id": verifier, "verification_result": result, "verified_levels": []},
		"verified": true,
		"signature": {"verified": true, "verifications": [_verification(null, key_id, true)]},
	},
})

_in(records, env, params) := testing.input_for({"provenance": records}, env, params)

_deny_msg(records, params) := m if {
	denies := rule.deny with input as _in(records, "prod", params)
	count(denies) == 1
	some d in denies
	m := d.msg
}

_with(p) := object.union(_prod, {"supply_chain": p})

test_passes_for_the_level_of_a_builder_signed_by_its_signer if {
	inp := _in([_by_generator], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_the_builders_level_is_below_the_minimum if {
	r := _provenance("p", "https://github.com/actions/runner/github-hosted", _verification(null, _key, true))
	denies := rule.deny with input as _in([r], "prod", _prod)
	count(denies) == 1
	some d in denies
	startswith(d.msg, sprintf("the provenance of %s shows SLSA build level 2; prod requires at least level 3 (supply_chain.min_slsa_level): ", [testing.digest]))
	contains(d.msg, "builder https://github.com/actions/runner/github-hosted, level 2, signed by a signer rule data names for it")
	d.evidence_ids == [testing.id("p")]
	d.details == {"level": 2, "min_slsa_level": 3}
	count(rule.deny) == 0 with input as _in([r], "staging", _with({"min_slsa_level": 2}))
}

test_the_pipeline_key_claiming_the_generator_gets_level_1 if {
	# Trust comes from who signed: whatever ref the claimed builder id names.
	some ref in ["@refs/heads/attacker", "@refs/tags/v2.0.0"]
	r := _provenance("p", concat("", [_container, ref]), _verification(null, _key, true))
	msg := _deny_msg([r], _prod)
	contains(msg, "shows SLSA build level 1; prod requires at least level 3")
	contains(msg, sprintf("its signer (key %s) is not one supply_chain.allowed_builders names for that builder, so only level 1 is credited", [_key]))
}

test_an_allowed_signer_of_an_unlisted_builder_gets_level_1 if {
	r := _provenance("p", "https://ci.acme.example/shop", _verification(_release, null, true))
	msg := _deny_msg([r], _prod)
	contains(msg, "shows SLSA build level 1")
	contains(msg, "builder https://ci.acme.example/shop is not in supply_chain.allowed_builders, so only level 1 is credited")
	inp := _in([r], "dev", _with({"min_slsa_level": 0}))
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as _in([r], "dev", _with({"min_slsa_level": 1}))
}

test_fires_when_no_signer_of_it_is_allowed if {
	evil := "https://github.com/slsa-framework/slsa-github-generator-fork/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0"
	r := _provenance("p", _generator, _verification(evil, null, true))
	msg := _deny_msg([r], _prod)
	startswith(msg, sprintf("no SLSA build level can be credited to %s: ", [testing.digest]))
	contains(msg, "is neither a signer of its builder")
	count(rule.deny) == 1 with input as _in([r], "dev", _with({"min_slsa_level": 0}))
}

test_fires_when_only_unverified_provenance_claims_the_level if {
	r := _provenance("p", _generator, _verification(_generator, null, false))
	msg := _deny_msg([json.patch(r, [{"op": "add", "path": "/data/signature/reasons", "value": ["DSSE signature: no envelope signature was made by this key over the payload"]}])], _prod)
	contains(msg, "artefacts/provenance-p.json is not verified (DSSE signature: no envelope signature was made by this key over the payload)")
	no_reason := json.remove(r, ["data/signature/reasons"])
	contains(_deny_msg([no_reason], _prod), "is not verified (no signature was checked)")
}

test_a_passed_vsa_of_an_allowed_verifier_credits_its_level if {
	v := _vsa("v", "PASSED", 3, _verifier, _vsa_key)
	low := _provenance("p", "https://github.com/actions/runner/github-hosted", _verification(null, _key, true))
	inp := _in([low, v], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_a_vsa_credits_nothing_unless_passed_allowed_and_signed_by_its_verifier if {
	some case in [
		{"result": "FAILED", "verifier": _verifier, "key": _vsa_key, "why": "verificationResult is FAILED, not PASSED"},
		{"result": "passed", "verifier": _verifier, "key": _vsa_key, "why": "verificationResult is passed, not PASSED"},
		{"result": null, "verifier": _verifier, "key": _vsa_key, "why": "verificationResult is null, not PASSED"},
		{"result": "PASSED", "verifier": "https://verifier.attacker.example", "key": _vsa_key, "why": "its verifier https://verifier.attacker.example is not in supply_chain.allowed_verifiers"},
		{"result": "PASSED", "verifier": concat("", [_verifier, "-evil"]), "key": _vsa_key, "why": "is not in supply_chain.allowed_verifiers"},
		{"result": "PASSED", "verifier": _verifier, "key": _key, "why": sprintf("its signer (key %s) is not one supply_chain.allowed_verifiers names for that verifier", [_key])},
	]
	v := _vsa("v", case.result, 3, case.verifier, case.key)
	msg := _deny_msg([v], _prod)
	startswith(msg, "no SLSA build level can be credited to")
	contains(msg, case.why)
}

test_a_vsa_stating_no_build_level_credits_nothing if {
	v := _vsa("v", "PASSED", null, _verifier, _vsa_key)
	contains(_deny_msg([v], _prod), sprintf("verified by %s, states no SLSA build level", [_verifier]))
	w := _vsa("v", "PASSED", 2, _verifier, _vsa_key)
	contains(_deny_msg([w], _prod), sprintf("shows SLSA build level 2; prod requires at least level 3 (supply_chain.min_slsa_level): artefacts/provenance-v.json: verified by %s at SLSA build level 2", [_verifier]))
}

test_missing_when_only_other_attestations_name_the_artefact if {
	r := json.patch(_by_generator, [{"op": "replace", "path": "/data/predicate_kind", "value": "witness-collection"}])
	inp := _in([r], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	contains(m.msg, "the attestations supplied (witness-collection) state no build")
}

test_missing_when_no_provenance if {
	inp := testing.input_for({}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := _in([_by_generator], "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.min_slsa_level"}
}

test_missing_for_rule_data_of_the_old_shape if {
	p := _with({"builder_levels": {_container: 3}})
	some m in rule.missing with input as _in([_by_generator], "prod", p)
	startswith(m.msg, "rule data sets supply_chain.builder_levels, which is no longer read")
}

test_missing_not_failed_for_a_malformed_table_entry if {
	some p in [
		_with({"allowed_builders": [{"id": _container, "level": 5, "signers": [{"key_id": _key}]}]}),
		_with({"allowed_builders": [{"id": _container, "level": 2.5, "signers": [{"key_id": _key}]}]}),
		_with({"allowed_verifiers": [{"id": _verifier, "signers": []}]}),
		_with({"allowed_verifiers": ["https://verifier.acme.example/slsa"]}),
	]
	inp := _in([_provenance("p", _generator, _verification(null, _key, true))], "prod", p)
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	startswith(m.msg, "rule data supply_chain.allowed_")
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_in([_by_generator], "prod", _prod), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	startswith(m.msg, "the promotion names no subject digest")
}

test_missing_when_an_allowed_signer_entry_has_no_issuer if {
	p := _with({"allowed_identities": [{"identity": _generator}]})
	some m in rule.missing with input as _in([_by_generator], "prod", p)
	m.details.entry == "supply_chain.allowed_identities[0]"
}

test_is_insufficient_not_failed_when_no_signer_is_configured if {
	p := _with({"allowed_identities": [], "allowed_key_ids": []})
	inp := _in([_by_generator], "prod", p)
	count(rule.missing) == 1 with input as inp
	some m in rule.missing with input as inp
	startswith(m.msg, "no trusted signers are configured for prod: set supply_chain.allowed_identities")
}
