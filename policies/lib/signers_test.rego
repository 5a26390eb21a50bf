package affidavit.lib.signers_test

import data.affidavit.lib.signers
import data.affidavit.lib.testing

# Identities as Fulcio writes them for GitHub Actions: the certificate's SAN is the workflow
# that ran (https://github.com/OWNER/REPO/.github/workflows/FILE@REF) and the issuer extension
# is the Actions OIDC issuer (sigstore/fulcio docs/oid-info.md).
_issuer := "https://token.actions.githubusercontent.com"

_release := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_tagged := "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.8.0"

# Look-alikes of _release: a branch whose name extends "main", the real identity embedded in
# another URL, and a repository whose name extends "shop".
_suffix_extended := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main-evil"

_prefix_extended := "https://evil.example/?https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_other_repo := "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main"

_escaped := `https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/heads/main`

_unescaped := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_params(exact, patterns) := {"supply_chain": {"allowed_identities": exact, "identity_patterns": patterns}}

# allowed(rule_data, identity, issuer): the helper's answer under that rule data.
allowed(p, identity, issuer) if {
	signers.identity_allowed(identity, issuer) with input as testing.input_for({}, "prod", p)
}

_pattern(p) := _params([], [{"identity": p, "issuer": _issuer}])

_exact(identity) := _params([{"identity": identity, "issuer": _issuer}], [])

test_an_escaped_pattern_admits_the_release_workflow_only if {
	allowed(_pattern(_escaped), _release, _issuer)
	not allowed(_pattern(_escaped), _suffix_extended, _issuer)
	not allowed(_pattern(_escaped), _prefix_extended, _issuer)
	not allowed(_pattern(_escaped), _other_repo, _issuer)
}

test_an_unescaped_pattern_is_anchored_too if {
	allowed(_pattern(_unescaped), _release, _issuer)
	not allowed(_pattern(_unescaped), _suffix_extended, _issuer)
	not allowed(_pattern(_unescaped), _prefix_extended, _issuer)
}

test_a_pattern_for_one_repository_refuses_a_repository_sharing_its_prefix if {
	repo := `https://github\.com/acme/shop/.+`
	allowed(_pattern(repo), _release, _issuer)
	allowed(_pattern(repo), _tagged, _issuer)
	not allowed(_pattern(repo), _other_repo, _issuer)

	# written without the trailing path it matches no workflow at all (whole value), not a prefix
	not allowed(_pattern(`https://github\.com/acme/shop`), _other_repo, _issuer)
	not allowed(_pattern(`https://github\.com/acme/shop`), _release, _issuer)
}

test_an_alternation_is_anchored_as_a_whole if {
	# ^a|b$ would leave the end of a and the start of b open; the helper anchors the group
	either := concat("|", [_escaped, `https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/tags/v[0-9.]+`])
	allowed(_pattern(either), _release, _issuer)
	allowed(_pattern(either), _tagged, _issuer)
	not allowed(_pattern(either), _suffix_extended, _issuer)
	not allowed(_pattern(either), concat("", ["https://evil.example/?", _tagged]), _issuer)
}

test_a_tag_pattern_refuses_an_extended_tag if {
	tags := `https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`
	allowed(_pattern(tags), _tagged, _issuer)
	not allowed(_pattern(tags), concat("", [_tagged, "-rc.evil"]), _issuer)
	not allowed(_pattern(tags), _release, _issuer)
}

test_the_issuer_is_compared_exactly_and_is_required if {
	allowed(_pattern(_escaped), _release, _issuer)
	not allowed(_pattern(_escaped), _release, "https://token.actions.githubusercontent.com.evil.example")
	not allowed(_pattern(_escaped), _release, "https://accounts.google.com")
	not allowed(_pattern(_escaped), _release, null)
	not allowed(_pattern(_escaped), _release, "")
	allowed(_exact(_release), _release, _issuer)
	not allowed(_exact(_release), _release, "https://accounts.google.com")
	not allowed(_exact(_release), _release, null)
}

test_an_entry_without_an_issuer_allows_nobody if {
	no_issuer := _params([{"identity": _release}], [{"identity": _escaped}])
	not allowed(no_issuer, _release, _issuer)
	empty_issuer := _params([{"identity": _release, "issuer": ""}], [{"identity": _escaped, "issuer": ""}])
	not allowed(empty_issuer, _release, _issuer)
	not allowed(empty_issuer, _release, "")
}

test_an_exact_entry_is_not_a_pattern if {
	allowed(_exact(_release), _release, _issuer)
	not allowed(_exact(_release), "https://github.com/acme/shop/.github/workflows/releaseXyml@refs/heads/main", _issuer)
	not allowed(_exact(_release), _suffix_extended, _issuer)
	not allowed(_exact(_release), _prefix_extended, _issuer)
	not allowed(_exact(".*"), _release, _issuer)
}

test_an_invalid_pattern_allows_nobody_even_when_it_would_escape_the_anchors if {
	# "x)|(.*" is unbalanced on its own; wrapped naively as ^(?:x)|(.*)$ it would match anything
	not allowed(_pattern(`x)|(.*`), _release, _issuer)
	not allowed(_pattern("("), _release, _issuer)
}

test_an_identity_that_is_not_text_is_never_allowed if {
	not allowed(_pattern(".*"), null, _issuer)
	not allowed(_pattern(".*"), 7, _issuer)
	not allowed(_exact(_release), {"identity": _release}, _issuer)
}

test_malformed_entries_are_reported if {
	p := _params(
		[{"identity": _release, "issuer": _issuer}, {"identity": _release}, "not an entry"],
		[{"identity": `x)|(.*`, "issuer": _issuer}, {"identity": _escaped, "issuer": ""}],
	)
	problems := signers.problems with input as testing.input_for({}, "prod", p)
	{m.details.entry | some m in problems} == {
		"supply_chain.allowed_identities[1]", "supply_chain.allowed_identities[2]",
		"supply_chain.identity_patterns[0]", "supply_chain.identity_patterns[1]",
	}
}

test_well_formed_rule_data_has_no_problems if {
	p := _params([{"identity": _release, "issuer": _issuer}], [{"identity": _escaped, "issuer": _issuer}])
	count(signers.problems) == 0 with input as testing.input_for({}, "prod", p)
}

_key := "sha256:a81e0dfa0c6b3a21aff77c2c7e040ea46ea6fe2ec3f9df00373c3100436f5a17"

_key_verification := {"verified": true, "identity": null, "issuer": null, "key_id": _key}

test_a_key_is_allowed_by_its_id_or_as_the_gate_key_outside_prod if {
	listed := {"supply_chain": {"allowed_key_ids": [_key], "accept_gate_key": false}}
	signers.allowed(_key_verification, {}) with input as testing.input_for({}, "prod", listed)
	gate := {"supply_chain": {"allowed_key_ids": [], "accept_gate_key": true}}
	signers.allowed(_key_verification, {"public_key": "release.pub"}) with input as testing.input_for({}, "staging", gate)
	not signers.allowed(_key_verification, {"public_key": null}) with input as testing.input_for({}, "staging", gate)
	neither := {"supply_chain": {"allowed_key_ids": [], "accept_gate_key": false}}
	not signers.allowed(_key_verification, {"public_key": "release.pub"}) with input as testing.input_for({}, "staging", neither)
}

test_the_gate_key_is_never_trusted_in_prod if {
	# In prod a key given with --key counts only by its listed key id, whatever accept_gate_key says.
	gate := {"supply_chain": {"allowed_key_ids": [], "accept_gate_key": true}}
	inp := testing.input_for({}, "prod", gate)
	not signers.allowed(_key_verification, {"public_key": "release.pub"}) with input as inp
	not signers.gate_key_accepted with input as inp
	not signers.configured with input as inp
	count(signers.ignored) == 1 with input as inp
	count(signers.ignored) == 0 with input as testing.input_for({}, "staging", gate)
	# an input without an environment name is not "outside prod"
	nameless := testing.with_context(inp, {"environment": null})
	not signers.gate_key_accepted with input as nameless
}

test_no_signer_configured_is_reported_once_with_the_keys_to_set if {
	empty := {"supply_chain": {"allowed_identities": [], "identity_patterns": [], "allowed_key_ids": [], "accept_gate_key": false}}
	inp := testing.input_for({}, "prod", empty)
	not signers.configured with input as inp
	missing := signers.unconfigured with input as inp
	count(missing) == 1
	some m in missing
	m.msg == "no trusted signers are configured for prod: set supply_chain.allowed_identities or identity_patterns (keyless signers: certificate identity and OIDC issuer) or supply_chain.allowed_key_ids (signing keys, by key id) in a rule data file given with --params (see docs/params.md)"
	# any one list with an entry, or the gate key outside prod, configures a signer
	signers.configured with input as testing.input_for({}, "prod", {"supply_chain": {"allowed_key_ids": [_key]}})
	signers.configured with input as testing.input_for({}, "prod", _pattern(_escaped))
	signers.configured with input as testing.input_for({}, "prod", _exact(_release))
	signers.configured with input as testing.input_for({}, "dev", {"supply_chain": {"accept_gate_key": true}})
	count(signers.unconfigured) == 0 with input as testing.input_for({}, "prod", _exact(_release))
}

test_a_refused_key_is_explained_for_the_environment if {
	prod := signers.not_allowed_because(_key_verification) with input as testing.input_for({}, "prod", {})
	contains(prod, "in prod a key given to the gate with --key is trusted only when its key id is listed there")
	staging := signers.not_allowed_because(_key_verification) with input as testing.input_for({}, "staging", {})
	contains(staging, "nor a key given to the gate with --key while supply_chain.accept_gate_key is true")
}

test_a_keyless_verification_is_judged_by_its_identity_not_the_gate_key if {
	p := object.union(_pattern(_escaped), {"supply_chain": {"accept_gate_key": true}})
	inp := testing.input_for({}, "prod", p)
	signers.allowed({"identity": _release, "issuer": _issuer, "key_id": null}, {}) with input as inp
	not signers.allowed({"identity": _suffix_extended, "issuer": _issuer, "key_id": null}, {"public_key": "release.pub"}) with input as inp
}

# ---- signers of a builder or verifier (allowed_builders / allowed_verifiers entries) ----------

_key := "sha256:a81e0dfa0c6b3a21aff77c2c7e040ea46ea6fe2ec3f9df00373c3100436f5a17"

_v(identity, issuer, key_id) := {"verified": true, "identity": identity, "issuer": issuer, "key_id": key_id}

test_a_signer_entry_matches_by_key_exact_identity_or_whole_pattern if {
	signers.signer_matches({"key_id": _key}, _v(null, null, _key))
	not signers.signer_matches({"key_id": _key}, _v(null, null, "sha256:00"))
	not signers.signer_matches({"key_id": ""}, _v(null, null, ""))
	signers.signer_matches({"identity": _release, "issuer": _issuer}, _v(_release, _issuer, null))
	not signers.signer_matches({"identity": _release, "issuer": _issuer}, _v(_suffix_extended, _issuer, null))
	not signers.signer_matches({"identity": _release, "issuer": _issuer}, _v(_release, "https://accounts.google.com", null))
	not signers.signer_matches({"identity": _release}, _v(_release, null, null))
	signers.signer_matches({"identity_pattern": _escaped, "issuer": _issuer}, _v(_release, _issuer, null))
	not signers.signer_matches({"identity_pattern": _escaped, "issuer": _issuer}, _v(_suffix_extended, _issuer, null))
	not signers.signer_matches({"identity_pattern": _escaped, "issuer": _issuer}, _v(_prefix_extended, _issuer, null))
	not signers.signer_matches({"identity_pattern": "x)|(.*", "issuer": _issuer}, _v(_release, _issuer, null))
	not signers.signer_matches("key", _v(null, null, "key"))
}

_tables(builders, verifiers) := testing.input_for({}, "prod", {"supply_chain": {"allowed_builders": builders, "allowed_verifiers": verifiers}})

test_malformed_builder_and_verifier_entries_are_reported if {
	cases := {
		"is not an object with id and signers (builder entries name who may sign for them)": "https://builder.example",
		"has no id string": {"level": 2, "signers": [{"key_id": _key}]},
		"has no level: the SLSA build level (0 to 4) credited to provenance its signers sign": {"id": "b", "signers": [{"key_id": _key}]},
		"has a level that is not a whole number from 0 to 4": {"id": "b", "level": -1, "signers": [{"key_id": _key}]},
		"names no signers, so nobody may sign for it": {"id": "b", "level": 2, "signers": []},
		"signer 0 is not an object with key_id, or identity (or identity_pattern) and issuer": {"id": "b", "level": 2, "signers": ["k"]},
		"signer 0 names more than one of key_id, identity and identity_pattern": {"id": "b", "level": 2, "signers": [{"key_id": _key, "identity_pattern": ".*", "issuer": _issuer}]},
		"signer 0 has no key_id, identity or identity_pattern": {"id": "b", "level": 2, "signers": [{"issuer": _issuer}]},
		"signer 0 has a key_id that is not a non-blank string": {"id": "b", "level": 2, "signers": [{"key_id": " "}]},
		"signer 0 has no issuer (an identity is only meaningful with the OIDC issuer that vouched for it)": {"id": "b", "level": 2, "signers": [{"identity": _release}]},
		"signer 0 has an identity that is not a string": {"id": "b", "level": 2, "signers": [{"identity": 7, "issuer": _issuer}]},
		"signer 0 has an identity_pattern that is not a valid regular expression": {"id": "b", "level": 2, "signers": [{"identity_pattern": "(", "issuer": _issuer}]},
	}
	every why, entry in cases {
		problems := signers.table_problems with input as _tables([entry], [])
		{p.msg | some p in problems} == {sprintf("rule data supply_chain.allowed_builders[0] %s, so it trusts nobody; fix it in the rule data file (see docs/params.md)", [why])}
		not signers.tables_ok with input as _tables([entry], [])
	}
	some v in signers.table_problems with input as _tables([], [{"id": "https://verifier.example", "signers": []}])
	v.details.entry == "supply_chain.allowed_verifiers[0]"
}

test_well_formed_tables_have_no_problems_and_need_no_level_for_a_verifier if {
	inp := _tables(
		[{"id": "b", "level": 0, "signers": [{"key_id": _key}, {"identity": _release, "issuer": _issuer}, {"identity_pattern": _escaped, "issuer": _issuer}]}],
		[{"id": "https://verifier.example", "signers": [{"key_id": _key}]}],
	)
	count(signers.table_problems) == 0 with input as inp
	signers.tables_ok with input as inp
	count(signers.builder_entries) == 1 with input as inp
	count(signers.verifier_entries) == 1 with input as inp
}

test_a_builder_is_credited_only_through_its_own_signers if {
	inp := _tables([{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"key_id": _key}]}], [])
	by_key := {"data": {"verified": true, "builder_id": "https://github.com/actions/runner/github-hosted", "signature": {"verifications": [_v(null, null, _key)]}}}
	count(signers.builders_for(by_key)) == 1 with input as inp
	by_other := json.patch(by_key, [{"op": "replace", "path": "/data/signature/verifications/0/key_id", "value": "sha256:00"}])
	count(signers.builders_for(by_other)) == 0 with input as inp
	count(signers.claimed_builders(by_other)) == 1 with input as inp
	unverified := json.patch(by_key, [{"op": "replace", "path": "/data/verified", "value": false}])
	count(signers.builders_for(unverified)) == 0 with input as inp
	other_builder := json.patch(by_key, [{"op": "replace", "path": "/data/builder_id", "value": "https://github.com/actions/runner/self-hosted"}])
	count(signers.builders_for(other_builder)) == 0 with input as inp
}
