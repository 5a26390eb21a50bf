package affidavit.rules.supply_chain.provenance_trusted_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.provenance_trusted as rule

_generic := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0"

# The generator's reusable workflow signs the provenance it makes (Fulcio identity of that
# workflow at the release tag, issued by GitHub Actions' OIDC issuer).
_generator_signer := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"

_params := {"supply_chain": {
	"allowed_builders": [_generic, "https://github.com/actions/runner/github-hosted"],
	"allowed_source_repos": ["github.com/acme/shop"],
	"allowed_identities": [{"identity": _generator_signer, "issuer": _issuer}],
}}

# SLSA v0.2 provenance from the generic generator, as the collector normalises it.
_provenance(n, changes) := testing.record("provenance", n, object.union(
	{
		"format": "in-toto-slsa",
		"format_version": "0.2",
		"tool": null,
		"subject": {"name": "shop-linux-amd64", "version": null, "digest": testing.digest},
		"effective_at": "2026-11-22T09:05:00Z",
		"data": {
			"predicate_type": "https://slsa.dev/provenance/v0.2",
			"builder_id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0",
			"build_type": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
			"source": {"repo": "git+https://github.com/acme/shop@refs/heads/main", "ref": "refs/heads/main", "commit": testing.commit},
			"subjects": [{"name": "shop-linux-amd64", "digest": testing.digest}],
			"slsa_level": 3,
			"verified": true,
			"signature": {
				"verified": true,
				"policy": {"identity": null, "issuer": null, "public_key": null},
				"verifications": [{
					"verified": true, "method": "sigstore-bundle", "subject_digest": testing.digest,
					"identity": _generator_signer, "issuer": _issuer, "key_id": null,
					"tlog": {"log_index": 148213977, "integrated_time": 1795330441}, "error": null,
				}],
			},
		},
	},
	changes,
))

_input(records) := testing.input_for({"provenance": records}, "prod", _params)

test_passes_for_allowed_builder_and_repository if {
	# The builder's ref (v2.1.0) differs from the allowed one (v2.0.0): only the part before @ counts.
	inp := _input([_provenance("p", {})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_for_repository_written_as_url if {
	r := _provenance("p", {"data": {
		"builder_id": "https://github.com/actions/runner/github-hosted",
		"source": {"repo": "https://github.com/Acme/shop.git"},
	}})
	count(rule.deny) == 0 with input as _input([r])
}

test_fires_for_builder_not_allowed if {
	r := _provenance("p", {"data": {"builder_id": "https://jenkins.acme.example/job/shop-release"}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("provenance artefacts/provenance-p.json for %s is not trusted: its builder https://jenkins.acme.example/job/shop-release is not allowed (supply_chain.allowed_builders)", [testing.digest])
	d.evidence_ids == [testing.id("p")]
}

test_fires_for_source_repository_not_allowed if {
	r := _provenance("p", {"data": {"source": {"repo": "git+https://github.com/mallory/shop@refs/heads/main"}}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "its source repository git+https://github.com/mallory/shop@refs/heads/main is not allowed (supply_chain.allowed_source_repos)")
}

test_fires_for_unverified_provenance if {
	denies := rule.deny with input as _input([_provenance("p", {"data": {"verified": false}})])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "it is not verified (its signature or attestation was not checked)")
}

test_fires_for_provenance_of_another_artefact if {
	r := _provenance("p", {"subject": {"digest": testing.other_digest}, "data": {"subjects": [{"name": "shop-linux-arm64", "digest": testing.other_digest}]}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	contains(d.msg, "no provenance names the promoted artefact")
}

test_missing_when_no_provenance if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"provenance": [_provenance("p", {})]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.allowed_builders", "supply_chain.allowed_source_repos"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_provenance("p", {})]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

test_missing_when_provenance_names_no_digest if {
	r := _provenance("p", {"subject": {"digest": null}, "data": {"subjects": []}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "names no subject digest")
}

test_fires_when_provenance_does_not_say_it_was_verified if {
	r := json.remove(_provenance("p", {}), ["data/verified"])
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "it is not verified (its signature or attestation was not checked)")
}

# Who signed the provenance's envelope is judged like any signer (lib/signers): a verified
# envelope by an identity rule data does not allow gives untrusted provenance, however good the
# builder and repository it claims.
_issuer := "https://token.actions.githubusercontent.com"

_release := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_signer_params := object.union(_params, {"supply_chain": {
	"allowed_identities": [{"identity": _release, "issuer": _issuer}],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
}})

_signed(identity, issuer) := _provenance("p", {"data": {"signature": {
	"verified": true,
	"policy": {"identity": null, "issuer": null, "public_key": null},
	"verifications": [{
		"verified": true, "method": "sigstore-bundle", "subject_digest": testing.digest,
		"identity": identity, "issuer": issuer, "key_id": null,
		"tlog": {"log_index": 148213977, "integrated_time": 1795330441}, "error": null,
	}],
}}})

test_passes_for_provenance_signed_by_an_allowed_identity if {
	inp := testing.input_for({"provenance": [_signed(_release, _issuer)]}, "prod", _signer_params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_provenance_signed_by_a_look_alike_identity if {
	evil := concat("", [_release, "-evil"])
	p := object.union(_signer_params, {"supply_chain": {"allowed_identities": [], "identity_patterns": [{
		"identity": `https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/heads/main`,
		"issuer": _issuer,
	}]}})
	denies := rule.deny with input as testing.input_for({"provenance": [_signed(evil, _issuer)]}, "prod", p)
	count(denies) == 1
	some d in denies
	contains(d.msg, sprintf("its signer, identity %s (issuer %s), is not allowed", [evil, _issuer]))
}

test_fires_for_provenance_signed_by_the_right_identity_from_another_issuer if {
	inp := testing.input_for({"provenance": [_signed(_release, "https://accounts.google.com")]}, "prod", _signer_params)
	count(rule.deny) == 1 with input as inp
}

test_fires_for_verified_provenance_without_signature_data if {
	# "verified" alone does not say who signed: nothing to allow
	r := json.remove(_provenance("p", {}), ["data/signature"])
	denies := rule.deny with input as testing.input_for({"provenance": [r]}, "prod", _signer_params)
	count(denies) == 1
	some d in denies
	contains(d.msg, "no signer of it is recorded")
}

test_missing_when_an_allowed_signer_pattern_is_invalid if {
	p := object.union(_signer_params, {"supply_chain": {"identity_patterns": [{"identity": "(", "issuer": _issuer}]}})
	missing := rule.missing with input as testing.input_for({"provenance": [_signed(_release, _issuer)]}, "prod", p)
	some m in missing
	m.details.entry == "supply_chain.identity_patterns[0]"
	m.msg == "rule data supply_chain.identity_patterns[0] is not a valid regular expression, so it allows nobody; fix it in policies/params.yaml or the override file"
}

# The built-in rule data trusts no builder, repository or signer: an organisation lists its own.
_unconfigured := {"supply_chain": {
	"allowed_builders": [],
	"allowed_source_repos": [],
	"allowed_identities": [],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
}}

test_is_insufficient_not_failed_when_nothing_is_configured if {
	# Verified provenance from any builder and repository: nothing could allow it, nothing refuses it.
	inp := testing.input_for({"provenance": [_signed(_release, _issuer)]}, "prod", _unconfigured)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	{m.msg | some m in missing} == {
		"no trusted signers are configured for prod: set supply_chain.allowed_identities or identity_patterns (keyless signers: certificate identity and OIDC issuer) or supply_chain.allowed_key_ids (signing keys, by key id) in a rule data file given with --params (see docs/params.md)",
		"no trusted builders are configured for prod: set supply_chain.allowed_builders (the builder ids of your build platform, as provenance names them) in a rule data file given with --params (see docs/params.md)",
		"no trusted source repositories are configured for prod: set supply_chain.allowed_source_repos (your repositories, such as github.com/<owner>/<repo>) in a rule data file given with --params (see docs/params.md)",
	}
}

test_each_unconfigured_list_is_reported_on_its_own if {
	no_repos := object.union(_signer_params, {"supply_chain": {"allowed_source_repos": []}})
	inp := testing.input_for({"provenance": [_signed(_release, _issuer)]}, "prod", no_repos)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	startswith(m.msg, "no trusted source repositories are configured for prod")
	no_builders := object.union(_signer_params, {"supply_chain": {"allowed_builders": []}})
	staging := rule.missing with input as testing.input_for({"provenance": [_signed(_release, _issuer)]}, "staging", no_builders)
	count(staging) == 1
	some b in staging
	startswith(b.msg, "no trusted builders are configured for staging")
}

test_fires_for_unverified_or_unsigned_provenance_even_when_nothing_is_configured if {
	unverified := _provenance("p", {"data": {"verified": false}})
	denies := rule.deny with input as testing.input_for({"provenance": [unverified]}, "prod", _unconfigured)
	count(denies) == 1
	some d in denies
	contains(d.msg, "it is not verified")
	unsigned := json.remove(_provenance("p", {}), ["data/signature"])
	count(rule.deny) == 1 with input as testing.input_for({"provenance": [unsigned]}, "prod", _unconfigured)
	count(rule.missing) == 3 with input as testing.input_for({"provenance": [unsigned]}, "prod", _unconfigured)
}

test_fires_for_provenance_naming_no_builder_or_repository if {
	r := _provenance("p", {"data": {"builder_id": null, "source": {"repo": ""}}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "is not trusted: it names no builder; it names no source repository")
}
