package affidavit.rules.supply_chain.provenance_trusted_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.provenance_trusted as rule

_issuer := "https://token.actions.githubusercontent.com"

_generic := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"

# The generator's reusable workflow signs the provenance it makes (Fulcio identity of that
# workflow at its release tag, issued by GitHub Actions' OIDC issuer).
_generator_signer := concat("", [_generic, "@refs/tags/v2.1.0"])

_release := "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"

_key := "sha256:a81e0dfa0c6b3a21aff77c2c7e040ea46ea6fe2ec3f9df00373c3100436f5a17"

_builders := [
	{"id": concat("", [_generic, "@refs/tags/v2.0.0"]), "level": 3, "signers": [{
		"identity_pattern": `https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/generator_generic_slsa3\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`,
		"issuer": _issuer,
	}]},
	{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"key_id": _key}, {"identity": _release, "issuer": _issuer}]},
]

_params := {"supply_chain": {
	"allowed_builders": _builders,
	"allowed_source_repos": ["github.com/acme/shop"],
	"allowed_identities": [{"identity": _release, "issuer": _issuer}],
	"allowed_key_ids": [_key],
	"allowed_refs": ["refs/heads/main"],
	"ref_patterns": [`refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`],
}}

_verification(identity, issuer, key_id) := {
	"verified": true, "method": "sigstore-bundle", "subject_digest": testing.digest,
	"identity": identity, "issuer": issuer, "key_id": key_id,
	"tlog": {"log_index": 148213977, "integrated_time": 1795330441}, "error": null,
}

# SLSA v0.2 provenance from the generic generator, as the collector normalises it.
_provenance(n, changes) := testing.record("provenance", n, object.union(
	{
		"format": "in-toto-dsse",
		"format_version": "0.2",
		"tool": null,
		"subject": {"name": "shop-linux-amd64", "version": null, "digest": testing.digest},
		"effective_at": "2026-11-22T09:05:00Z",
		"data": {
			"predicate_type": "https://slsa.dev/provenance/v0.2",
			"predicate_kind": "slsa-provenance",
			"builder_id": _generator_signer,
			"build_type": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
			"source": {"repo": "https://github.com/acme/shop", "ref": "refs/heads/main", "commit": testing.commit},
			"subjects": [{"name": "shop-linux-amd64", "digest": testing.digest}],
			"slsa_level": null,
			"verified": true,
			"signature": {
				"verified": true,
				"policy": {"identity": null, "issuer": null, "public_key": null},
				"verifications": [_verification(_generator_signer, _issuer, null)],
			},
		},
	},
	changes,
))

_signed_by(v) := _provenance("p", {"data": {"signature": {"verifications": [v]}}})

_input(records) := testing.input_for({"provenance": records}, "prod", _params)

_with(p) := object.union(_params, {"supply_chain": p})

_deny_msg(records, params) := m if {
	denies := rule.deny with input as testing.input_for({"provenance": records}, "prod", params)
	count(denies) == 1
	some d in denies
	m := d.msg
}

_missing_msgs(records, params) := {m.msg | some m in rule.missing with input as testing.input_for({"provenance": records}, "prod", params)}

test_passes_for_allowed_builder_signer_repository_ref_and_commit if {
	# The builder's ref (v2.1.0) differs from the listed one (v2.0.0): only the part before @ counts.
	inp := _input([_provenance("p", {})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_for_repository_written_as_url_and_a_tag_build if {
	r := _provenance("p", {"data": {"source": {"repo": "git+https://github.com/Acme/shop.git", "ref": "refs/tags/v1.4.2", "commit": upper(testing.commit)}}})
	count(rule.deny) == 0 with input as _input([r])
	count(rule.missing) == 0 with input as _input([r])
}

test_passes_for_the_hosted_builder_signed_by_its_key if {
	r := _provenance("p", {"data": {
		"builder_id": "https://github.com/actions/runner/github-hosted",
		"signature": {"verifications": [_verification(null, null, _key)]},
	}})
	count(rule.deny) == 0 with input as _input([r])
	count(rule.missing) == 0 with input as _input([r])
}

test_fires_for_builder_not_allowed if {
	r := _provenance("p", {"data": {"builder_id": "https://jenkins.acme.example/job/shop-release"}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("provenance artefacts/provenance-p.json for %s is not trusted: its builder https://jenkins.acme.example/job/shop-release is not in supply_chain.allowed_builders", [testing.digest])
	d.evidence_ids == [testing.id("p")]
	d.details.source_commit == testing.commit
}

test_fires_when_the_pipeline_key_signs_for_the_generator if {
	# Trust comes from who signed: the key may sign for the hosted builder, not for the generator,
	# whatever ref the builder id names.
	some ref in ["@refs/heads/attacker", "@refs/tags/v2.0.0", ""]
	r := _provenance("p", {"data": {
		"builder_id": concat("", [_generic, ref]),
		"signature": {"verifications": [_verification(null, null, _key)]},
	}})
	msg := _deny_msg([r], _params)
	contains(msg, sprintf("its signer, key %s, is not one supply_chain.allowed_builders names for its builder", [_key]))
}

test_fires_for_a_look_alike_identity_of_the_generator if {
	# The pattern must match the whole identity: a suffix after the tag, a fork's path in front.
	some identity in [
		concat("", [_generator_signer, "-evil"]),
		concat("", ["https://evil.example/", _generator_signer]),
		concat("", [_generic, "@refs/heads/attacker"]),
	]
	msg := _deny_msg([_signed_by(_verification(identity, _issuer, null))], _params)
	contains(msg, "is not one supply_chain.allowed_builders names for its builder")
}

test_fires_for_the_right_identity_from_another_issuer if {
	msg := _deny_msg([_signed_by(_verification(_generator_signer, "https://accounts.google.com", null))], _params)
	contains(msg, "(issuer https://accounts.google.com), is not one supply_chain.allowed_builders names")
}

test_fires_for_source_repository_not_allowed if {
	r := _provenance("p", {"data": {"source": {"repo": "https://github.com/mallory/shop"}}})
	endswith(_deny_msg([r], _params), "its source repository https://github.com/mallory/shop is not allowed (supply_chain.allowed_source_repos)")
}

test_fires_for_unverified_provenance if {
	r := _provenance("p", {"data": {"verified": false, "signature": {"reasons": ["DSSE signature: no envelope signature was made by this key over the payload"]}}})
	endswith(_deny_msg([r], _params), "it is not verified (DSSE signature: no envelope signature was made by this key over the payload)")
	s := json.remove(_provenance("p", {}), ["data/verified", "data/signature"])
	endswith(_deny_msg([s], _params), "it is not verified (its signature was not checked)")
}

test_fires_for_verified_provenance_without_signature_data if {
	# "verified" alone does not say who signed: nothing to allow
	r := json.remove(_provenance("p", {}), ["data/signature"])
	contains(_deny_msg([r], _params), "no signer of it is recorded")
}

test_fires_for_a_ref_rule_data_does_not_allow if {
	some ref in ["refs/heads/attacker", "refs/pull/42/merge", "refs/heads/main-old", "refs/tags/v1.4.2-evil", "refs/heads/x/refs/tags/v1.4.2"]
	r := _provenance("p", {"data": {"source": {"ref": ref}}})
	endswith(_deny_msg([r], _params), sprintf("it was built from %s, which is not an allowed ref (supply_chain.allowed_refs, ref_patterns)", [ref]))
}

test_fires_for_another_commit if {
	some commit in ["1111111111111111111111111111111111111111", substring(testing.commit, 0, 7)]
	r := _provenance("p", {"data": {"source": {"commit": commit}}})
	endswith(_deny_msg([r], _params), sprintf("it was built from commit %s, not the commit being promoted %s (--commit)", [commit, testing.commit]))
}

test_missing_when_the_commit_cannot_be_bound if {
	r := _provenance("p", {"data": {"source": {"commit": null}}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	endswith(m.msg, "cannot be judged: it names no source commit, so it cannot be shown to be a build of the commit being promoted")
	no_commit := testing.with_context(_input([_provenance("p", {})]), {"commit": null})
	some n in rule.missing with input as no_commit
	contains(n.msg, "the promotion names no commit (--commit)")
	short := testing.with_context(_input([_provenance("p", {})]), {"commit": "9c4e2f7"})
	count(rule.deny) == 0 with input as short
	some s in rule.missing with input as short
	contains(s.msg, "is not a full commit id")
}

test_missing_when_the_ref_cannot_be_bound if {
	r := _provenance("p", {"data": {"source": {"ref": null}}})
	count(rule.deny) == 0 with input as _input([r])
	some m in rule.missing with input as _input([r])
	contains(m.msg, "it names no source ref")
}

test_missing_when_another_branch_than_the_promoted_one if {
	release := _provenance("p", {"data": {"source": {"ref": "refs/heads/release"}}})
	p := _with({"allowed_refs": ["refs/heads/main", "refs/heads/release"]})
	inp := testing.with_context(testing.input_for({"provenance": [release]}, "prod", p), {"branch": "main"})
	count(rule.deny) == 0 with input as inp
	some b in rule.missing with input as inp
	contains(b.msg, "it was built from refs/heads/release, but the branch being promoted is main (--branch)")
}

test_no_gap_for_the_promoted_branch_or_a_tag if {
	same := testing.with_context(_input([_provenance("p", {})]), {"branch": "main"})
	count(rule.missing) == 0 with input as same
	tag := testing.with_context(_input([_provenance("p", {"data": {"source": {"ref": "refs/tags/v1.4.2"}}})]), {"branch": "main"})
	count(rule.missing) == 0 with input as tag
}

test_missing_when_no_ref_is_configured if {
	msgs := _missing_msgs([_provenance("p", {})], _with({"allowed_refs": [], "ref_patterns": []}))
	some m in msgs
	startswith(m, "no allowed source refs are configured for prod: set supply_chain.allowed_refs")
	count(rule.deny) == 0 with input as testing.input_for({"provenance": [_provenance("p", {})]}, "prod", _with({"allowed_refs": [], "ref_patterns": []}))
}

test_missing_when_a_ref_pattern_is_invalid if {
	msgs := _missing_msgs([_provenance("p", {})], _with({"ref_patterns": ["(", `refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`]}))
	msgs == {"rule data supply_chain.ref_patterns[0] is not a valid regular expression, so it allows no ref; fix it in the rule data file (see docs/params.md)"}
}

test_missing_not_failed_for_malformed_builder_entries if {
	some entry in [
		"https://github.com/actions/runner/github-hosted",
		{"id": "https://github.com/actions/runner/github-hosted", "level": 2},
		{"id": "https://github.com/actions/runner/github-hosted", "level": "2", "signers": [{"key_id": _key}]},
		{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"identity": _release}]},
		{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"identity_pattern": "(", "issuer": _issuer}]},
		{"id": "https://github.com/actions/runner/github-hosted", "level": 2, "signers": [{"key_id": _key, "identity": _release, "issuer": _issuer}]},
		{"level": 2, "signers": [{"key_id": _key}]},
	]
	p := _with({"allowed_builders": [entry]})
	inp := testing.input_for({"provenance": [_provenance("p", {})]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	startswith(m.msg, "rule data supply_chain.allowed_builders[0] ")
	m.details.entry == "supply_chain.allowed_builders[0]"
}

test_fires_for_provenance_of_another_artefact if {
	r := _provenance("p", {"subject": {"digest": testing.other_digest}, "data": {"subjects": [{"name": "shop-linux-arm64", "digest": testing.other_digest}]}})
	contains(_deny_msg([r], _params), "no provenance names the promoted artefact")
}

test_missing_when_no_provenance if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_only_other_attestations_name_the_artefact if {
	vsa := _provenance("v", {"data": {"predicate_kind": "verification-summary", "builder_id": null, "source": {"repo": null, "ref": null, "commit": null}}})
	inp := _input([vsa])
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
	contains(m.msg, "the attestations supplied (verification-summary) do not state its build")
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"provenance": [_provenance("p", {})]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.allowed_builders", "supply_chain.allowed_source_repos"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_provenance("p", {})]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	some m in rule.missing with input as inp
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

test_missing_when_an_allowed_signer_pattern_is_invalid if {
	p := _with({"identity_patterns": [{"identity": "(", "issuer": _issuer}]})
	some m in rule.missing with input as testing.input_for({"provenance": [_provenance("p", {})]}, "prod", p)
	m.details.entry == "supply_chain.identity_patterns[0]"
}

# The built-in rule data trusts no builder, repository or signer: an organisation lists its own.
_unconfigured := {"supply_chain": {
	"allowed_builders": [],
	"allowed_source_repos": [],
	"allowed_identities": [],
	"identity_patterns": [],
	"allowed_key_ids": [],
	"accept_gate_key": false,
	"allowed_refs": ["refs/heads/main"],
}}

test_is_insufficient_not_failed_when_nothing_is_configured if {
	inp := testing.input_for({"provenance": [_provenance("p", {})]}, "prod", _unconfigured)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	{m.msg | some m in missing} == {
		"no trusted signers are configured for prod: set supply_chain.allowed_identities or identity_patterns (keyless signers: certificate identity and OIDC issuer) or supply_chain.allowed_key_ids (signing keys, by key id) in a rule data file given with --params (see docs/params.md)",
		"no trusted builders are configured for prod: set supply_chain.allowed_builders (the builder ids your provenance names, each with the SLSA level you credit it with and the signers that sign for it) in a rule data file given with --params (see docs/params.md)",
		"no trusted source repositories are configured for prod: set supply_chain.allowed_source_repos (your repositories, such as github.com/<owner>/<repo>) in a rule data file given with --params (see docs/params.md)",
	}
}

test_fires_for_unverified_provenance_even_when_nothing_is_configured if {
	unverified := _provenance("p", {"data": {"verified": false}})
	contains(_deny_msg([unverified], _unconfigured), "it is not verified")
}

test_fires_for_provenance_naming_no_builder_or_repository if {
	r := _provenance("p", {"data": {"builder_id": null, "source": {"repo": ""}}})
	endswith(_deny_msg([r], _params), "is not trusted: it names no builder; it names no source repository")
}
