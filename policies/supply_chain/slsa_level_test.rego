package affidavit.rules.supply_chain.slsa_level_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.slsa_level as rule

_levels := {
	"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0": 3,
	"https://github.com/actions/runner/github-hosted": 2,
}

# The generator's reusable workflow signs the provenance it makes; rule data allows it.
_prod := {"supply_chain": {
	"min_slsa_level": 3,
	"builder_levels": _levels,
	"allowed_identities": [{"identity": _generator, "issuer": _issuer}],
}}

_provenance(n, level, verified) := testing.record("provenance", n, {
	"format": "in-toto-slsa",
	"format_version": "1",
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {
		"predicate_type": "https://slsa.dev/provenance/v1",
		"builder_id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0",
		"build_type": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
		"source": {"repo": "git+https://github.com/acme/shop", "ref": "refs/heads/main", "commit": testing.commit},
		"subjects": [{"name": "ghcr.io/acme/shop", "digest": testing.digest}],
		"slsa_level": level,
		"verified": verified,
		"signature": {
			"verified": verified,
			"policy": {"identity": null, "issuer": null, "public_key": null},
			"verifications": [{
				"verified": verified, "method": "sigstore-bundle", "subject_digest": testing.digest,
				"identity": _generator, "issuer": _issuer, "key_id": null, "tlog": null, "error": null,
			}],
		},
	},
})

test_passes_when_level_meets_minimum if {
	inp := testing.input_for({"provenance": [_provenance("p", 3, true)]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_level_below_minimum if {
	denies := rule.deny with input as testing.input_for({"provenance": [_provenance("p", 2, true)]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	d.msg == sprintf("the provenance of %s shows SLSA build level 2; prod requires at least level 3 (supply_chain.min_slsa_level)", [testing.digest])
	d.evidence_ids == [testing.id("p")]
}

test_minimum_comes_from_rule_data if {
	inp := testing.input_for({"provenance": [_provenance("p", 2, true)]}, "staging", object.union(_prod, {"supply_chain": {"min_slsa_level": 2}}))
	count(rule.deny) == 0 with input as inp
}

test_level_of_builder_comes_from_rule_data if {
	# Provenance states no level: the generator's v2.1.0 counts as the listed v2.0.0 (level 3).
	inp := testing.input_for({"provenance": [_provenance("p", null, true)]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_builder_level_below_minimum if {
	r := json.patch(_provenance("p", null, true), [{"op": "replace", "path": "/data/builder_id", "value": "https://github.com/actions/runner/github-hosted"}])
	denies := rule.deny with input as testing.input_for({"provenance": [r]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "shows SLSA build level 2; prod requires at least level 3")
}

test_unknown_level_is_enough_when_minimum_is_zero if {
	r := json.patch(_provenance("p", null, true), [{"op": "replace", "path": "/data/builder_id", "value": "https://ci.acme.example/shop"}])
	inp := testing.input_for({"provenance": [r]}, "dev", object.union(_prod, {"supply_chain": {"min_slsa_level": 0}}))
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_only_unverified_provenance_claims_the_level if {
	denies := rule.deny with input as testing.input_for({"provenance": [_provenance("p", 3, false)]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "no provenance of")
	contains(d.msg, "(claimed levels: 3)")
}

test_missing_when_level_unknown if {
	r := json.patch(_provenance("p", null, true), [{"op": "replace", "path": "/data/builder_id", "value": "https://ci.acme.example/shop"}])
	inp := testing.input_for({"provenance": [r]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_provenance if {
	inp := testing.input_for({}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"provenance": [_provenance("p", 3, true)]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.min_slsa_level", "supply_chain.builder_levels"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(testing.input_for({"provenance": [_provenance("p", 3, true)]}, "prod", _prod), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

_issuer := "https://token.actions.githubusercontent.com"

_generator := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0"

# rule data naming who may sign provenance (the generator's own workflow signs it)
_signers := object.union(_prod, {"supply_chain": {
	"allowed_identities": [{"identity": _generator, "issuer": _issuer}],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
}})

_signed_by(n, level, identity) := json.patch(_provenance(n, level, true), [{"op": "add", "path": "/data/signature", "value": {
	"verified": true,
	"policy": {"identity": null, "issuer": null, "public_key": null},
	"verifications": [{
		"verified": true, "method": "sigstore-bundle", "subject_digest": testing.digest,
		"identity": identity, "issuer": _issuer, "key_id": null, "tlog": null, "error": null,
	}],
}}])

test_passes_for_level_of_provenance_signed_by_an_allowed_signer if {
	inp := testing.input_for({"provenance": [_signed_by("p", 3, _generator)]}, "prod", _signers)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_the_level_is_claimed_by_provenance_from_a_look_alike_signer if {
	evil := concat("", ["https://github.com/slsa-framework/slsa-github-generator-fork/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0"])
	denies := rule.deny with input as testing.input_for({"provenance": [_signed_by("p", 3, evil)]}, "prod", _signers)
	count(denies) == 1
	some d in denies
	startswith(d.msg, sprintf("no provenance of %s is verified and signed by a signer rule data allows", [testing.digest]))
}

test_missing_when_an_allowed_signer_entry_has_no_issuer if {
	p := object.union(_signers, {"supply_chain": {"allowed_identities": [{"identity": _generator}]}})
	missing := rule.missing with input as testing.input_for({"provenance": [_signed_by("p", 3, _generator)]}, "prod", p)
	some m in missing
	m.details.entry == "supply_chain.allowed_identities[0]"
}

test_is_insufficient_not_failed_when_no_signer_is_configured if {
	# No level can be credited, and none is refused: the organisation has trusted no signer yet.
	p := object.union(_signers, {"supply_chain": {"allowed_identities": []}})
	inp := testing.input_for({"provenance": [_signed_by("p", 3, _generator)]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	startswith(m.msg, "no trusted signers are configured for prod: set supply_chain.allowed_identities")
}
