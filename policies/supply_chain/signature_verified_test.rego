package affidavit.rules.supply_chain.signature_verified_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.signature_verified as rule

_identity := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_issuer := "https://token.actions.githubusercontent.com"

_params := {"supply_chain": {
	"allowed_identities": [{"identity": _identity, "issuer": _issuer}],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
}}

# A keyless verification, as the collector normalises `cosign verify --output json`.
_verification(changes) := object.union(
	{
		"verified": true,
		"method": "keyless",
		"subject_digest": testing.digest,
		"identity": _identity,
		"issuer": _issuer,
		"key_id": null,
		"tlog": {"log_index": 148213977, "integrated_time": 1795330441},
		"error": null,
	},
	changes,
)

_signature(n, verifications) := testing.record("signature", n, {
	"format": "cosign-verify-json",
	"tool": {"name": "cosign", "version": "2.4.1"},
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {"verifications": verifications, "policy": {"identity": _identity, "issuer": _issuer}},
})

_input(records) := testing.input_for({"signature": records}, "prod", _params)

test_passes_when_verified_by_allowed_identity if {
	inp := _input([_signature("s", [_verification({})])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_identity_matches_a_pattern if {
	feature := "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.8.0"
	p := object.union(_params, {"supply_chain": {"identity_patterns": [{
		"identity": `^https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/tags/v[0-9.]+$`,
		"issuer": _issuer,
	}]}})
	inp := testing.input_for({"signature": [_signature("s", [_verification({"identity": feature})])]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_verification_names_digest_only_on_the_record if {
	inp := _input([_signature("s", [_verification({"subject_digest": null})])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_identity_not_allowed if {
	fork := "https://github.com/mallory/shop/.github/workflows/release.yml@refs/heads/main"
	denies := rule.deny with input as _input([_signature("s", [_verification({"identity": fork})])])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("the signature over %s in artefacts/signature-s.json was made by identity %s (issuer %s), which is not allowed: it is not in supply_chain.allowed_identities or identity_patterns", [testing.digest, fork, _issuer])
	d.evidence_ids == [testing.id("s")]
}

test_fires_when_issuer_differs if {
	count(rule.deny) == 1 with input as _input([_signature("s", [_verification({"issuer": "https://accounts.google.com"})])])
}

test_fires_when_signature_did_not_verify if {
	v := _verification({"verified": false, "error": "no matching signatures: certificate identity mismatch"})
	denies := rule.deny with input as _input([_signature("s", [v])])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "did not verify: no matching signatures: certificate identity mismatch")
}

test_fires_when_signature_is_for_another_artefact if {
	r := object.union(_signature("s", [_verification({"subject_digest": testing.other_digest})]), {"subject": {"digest": testing.other_digest}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	contains(d.msg, sprintf("is for %s, not for the promoted artefact %s", [testing.other_digest, testing.digest]))
}

test_missing_when_no_signature_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_digest_anywhere if {
	r := object.union(_signature("s", [_verification({"subject_digest": null})]), {"subject": {"digest": null}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"signature": [_signature("s", [_verification({})])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing} == {"supply_chain.allowed_identities", "supply_chain.accept_gate_key"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_signature("s", [_verification({})])]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

test_fires_when_verification_does_not_say_it_verified if {
	v := json.remove(_verification({}), ["verified"])
	denies := rule.deny with input as _input([_signature("s", [v])])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "did not verify: no reason given")
}

# A provenance attestation in a DSSE envelope verified with the release key, as the attestation
# collector normalises it (GitHub artifact attestations sign only this way).
_attestation(key_id, verified) := testing.record("provenance", "p", {
	"format": "in-toto-dsse",
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {
		"predicate_type": "https://slsa.dev/provenance/v1",
		"builder_id": "https://github.com/actions/runner/github-hosted",
		"subjects": [{"name": "ghcr.io/acme/shop", "digest": testing.digest}],
		"verified": verified,
		"signature": {
			"policy": {"identity": null, "issuer": null, "public_key": "release.pub"},
			"verified": verified,
			"verifications": [{
				"verified": verified, "method": "dsse-key", "subject_digest": testing.digest,
				"identity": null, "issuer": null, "key_id": key_id, "tlog": null, "error": null,
			}],
		},
	},
})

_release_key := "sha256:a81e0dfa0c6b3a21aff77c2c7e040ea46ea6fe2ec3f9df00373c3100436f5a17"

test_passes_for_signed_attestation_by_allowed_key if {
	p := object.union(_params, {"supply_chain": {"allowed_key_ids": [_release_key]}})
	inp := testing.input_for({"provenance": [_attestation(_release_key, true)]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_signed_attestation_by_unknown_key if {
	denies := rule.deny with input as testing.input_for({"provenance": [_attestation(_release_key, true)]}, "prod", _params)
	count(denies) == 1
	some d in denies
	contains(d.msg, sprintf("was made by key %s, which is not allowed: it is not in supply_chain.allowed_key_ids (in prod a key given to the gate with --key is trusted only when its key id is listed there)", [_release_key]))
	staging := rule.deny with input as testing.input_for({"provenance": [_attestation(_release_key, true)]}, "staging", _params)
	some s in staging
	contains(s.msg, "nor a key given to the gate with --key while supply_chain.accept_gate_key is true")
}

test_passes_for_signature_verified_with_the_gate_key_where_rule_data_accepts_it_outside_prod if {
	p := object.union(_params, {"supply_chain": {"accept_gate_key": true}})
	inp := testing.input_for({"provenance": [_attestation(_release_key, true)]}, "staging", p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_for_the_gate_key_in_prod_even_where_rule_data_accepts_it if {
	# A key given only on the command line is no trust in prod: it must be listed by its key id.
	p := object.union(_params, {"supply_chain": {"accept_gate_key": true}})
	inp := testing.input_for({"provenance": [_attestation(_release_key, true)]}, "prod", p)
	count(rule.deny) == 1 with input as inp
	warnings := rule.warn with input as inp
	count(warnings) == 1
	some w in warnings
	contains(w.msg, "supply_chain.accept_gate_key for prod, where it is not honoured")
}

_unconfigured := {"supply_chain": {
	"allowed_identities": [],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
}}

test_is_insufficient_not_failed_when_no_signer_is_configured if {
	# The built-in rule data trusts no one: a verified signature is neither allowed nor refused.
	inp := testing.input_for({"signature": [_signature("s", [_verification({})])], "provenance": [_attestation(_release_key, true)]}, "prod", _unconfigured)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	startswith(m.msg, "no trusted signers are configured for prod: set supply_chain.allowed_identities")
}

test_fires_for_a_bad_signature_even_when_no_signer_is_configured if {
	v := _verification({"verified": false, "error": "invalid signature"})
	inp := testing.input_for({"signature": [_signature("s", [v])]}, "prod", _unconfigured)
	count(rule.deny) == 1 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_fires_for_key_signature_without_a_gate_key if {
	# accept_gate_key does not help when no key was given to the gate (cosign's own report).
	p := object.union(_params, {"supply_chain": {"accept_gate_key": true}})
	r := json.patch(_attestation(_release_key, true), [{"op": "replace", "path": "/data/signature/policy/public_key", "value": null}])
	count(rule.deny) == 1 with input as testing.input_for({"provenance": [r]}, "prod", p)
}

# Look-alikes of the release workflow's Fulcio identity, each refused by an allow-list that a
# pattern without anchors would have let them through.
_release_pattern := `https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/heads/main`

_with_pattern(p) := object.union(_params, {"supply_chain": {
	"allowed_identities": [],
	"identity_patterns": [{"identity": p, "issuer": _issuer}],
}})

_signed_by(identity, issuer, p) := testing.input_for(
	{"signature": [_signature("s", [_verification({"identity": identity, "issuer": issuer})])]},
	"prod",
	p,
)

test_passes_for_the_release_workflow_by_pattern if {
	inp := _signed_by(_identity, _issuer, _with_pattern(_release_pattern))
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_a_branch_extending_the_allowed_ref if {
	evil := concat("", [_identity, "-evil"])
	denies := rule.deny with input as _signed_by(evil, _issuer, _with_pattern(_release_pattern))
	count(denies) == 1
	some d in denies
	contains(d.msg, sprintf("was made by identity %s (issuer %s), which is not allowed", [evil, _issuer]))
}

test_fires_for_the_allowed_identity_embedded_in_another_url if {
	evil := concat("", ["https://evil.example/?", _identity])
	count(rule.deny) == 1 with input as _signed_by(evil, _issuer, _with_pattern(_release_pattern))
}

test_fires_for_a_repository_sharing_the_allowed_prefix if {
	fork := "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main"
	count(rule.deny) == 1 with input as _signed_by(fork, _issuer, _with_pattern(`https://github\.com/acme/shop`))
	count(rule.deny) == 1 with input as _signed_by(fork, _issuer, _with_pattern(`https://github\.com/acme/shop/.+`))
}

test_fires_for_an_unescaped_pattern_and_an_extended_ref if {
	unescaped := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
	evil := concat("", [_identity, "-evil"])
	count(rule.deny) == 1 with input as _signed_by(evil, _issuer, _with_pattern(unescaped))
}

test_fires_for_the_right_identity_from_another_issuer if {
	look_alike := "https://token.actions.githubusercontent.com.evil.example"
	count(rule.deny) == 1 with input as _signed_by(_identity, look_alike, _with_pattern(_release_pattern))
	count(rule.deny) == 1 with input as _signed_by(_identity, look_alike, _params)
}

test_missing_when_an_allowed_signer_entry_is_malformed if {
	p := object.union(_params, {"supply_chain": {"identity_patterns": [{"identity": `x)|(.*`, "issuer": _issuer}]}})
	inp := _signed_by(_identity, _issuer, p)
	missing := rule.missing with input as inp
	some m in missing
	m.details.entry == "supply_chain.identity_patterns[0]"
}
