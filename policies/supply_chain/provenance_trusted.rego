# METADATA
# title: Provenance from an allowed builder and source repository
# description: Verified build provenance names the promoted digest, was produced by a builder that rule data trusts, and records a source repository that rule data allows, so the artefact demonstrably came from our code through our build platform.
# custom:
#   id: supply_chain.provenance_trusted
#   severity: critical
#   requires: [provenance]
#   controls:
#     soc2: [CC8.1, CC6.8]
#     iso27001-2022: [A.8.25, A.8.32]
#   remediation: Build the image with a trusted builder that emits signed SLSA provenance (e.g. the slsa-github-generator reusable workflows), verify it (slsa-verifier or cosign verify-attestation) and pass the verified provenance to the gate; add a legitimate builder or repository to supply_chain.allowed_builders or allowed_source_repos.
package affidavit.rules.supply_chain.provenance_trusted

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.repos
import data.affidavit.lib.signers
import data.affidavit.lib.subject

_all := evidence.records("provenance")

_provs := subject.for_target("provenance")

# A builder id without its ref: ".../generator_generic_slsa3.yml@refs/tags/v2.1.0" -> ".../generator_generic_slsa3.yml".
_unversioned(id) := lower(split(id, "@")[0])

_builder_ok(builder) if {
	some allowed in params.list("supply_chain", "allowed_builders")
	is_string(allowed)
	_unversioned(allowed) == _unversioned(builder)
}

# The source repository compared whole (host/owner/name, lib/repos): provenance names its host.
_repo_ok(repo) if repos.allowed(repo)

_source_repo(r) := object.get(evidence.data_of(r), ["source", "repo"], null)

_builder(r) := object.get(evidence.data_of(r), "builder_id", null)

# Reasons a provenance record is not trusted (empty: it is).
_problems(r) := ((_unverified(r) | _signer_problem(r)) | _builder_problem(_builder(r))) | _repo_problem(_source_repo(r))

_unverified(r) := {"it is not verified (its signature or attestation was not checked)"} if {
	object.get(evidence.data_of(r), "verified", null) != true
} else := set()

# Whoever signed the envelope must be a signer rule data allows (lib/signers): anyone can sign a
# statement naming a trusted builder and our repository.
_signer_problem(r) := set() if {
	object.get(evidence.data_of(r), "verified", null) != true
} else := set() if {
	signers.attested(r)
} else := {"no signer of it is recorded, so rule data cannot allow it"} if {
	count(signers.signers_of(r)) == 0
} else := set() if {
	not signers.configured # reported as missing rule data, not as a refused signer
} else := {sprintf("its signer, %s, is not allowed (supply_chain.allowed_identities, identity_patterns or allowed_key_ids)", [concat(" / ", sort(signers.signers_of(r)))])}

_builder_problem(b) := {"it names no builder"} if {
	not evidence.text(b)
} else := {sprintf("its builder %s is not allowed (supply_chain.allowed_builders)", [b])} if {
	not params.empty("supply_chain", "allowed_builders")
	not _builder_ok(b)
} else := set()

_repo_problem(repo) := {"it names no source repository"} if {
	not evidence.text(repo)
} else := {sprintf("its source repository %s is not allowed (supply_chain.allowed_source_repos)", [repo])} if {
	not repos.empty
	not _repo_ok(repo)
} else := set()

_trusted := [r | some r in _provs; count(_problems(r)) == 0]

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"allowed_builders": "array", "allowed_source_repos": "array"})

missing contains m if some m in signers.problems

# What an organisation must configure and has not (the built-in rule data trusts no one): the rule
# cannot pass, and a builder, repository or signer is not refused for a list that is empty.
missing contains m if some m in signers.unconfigured

missing contains params.unconfigured("trusted builders", "supply_chain.allowed_builders (the builder ids of your build platform, as provenance names them)") if {
	params.empty("supply_chain", "allowed_builders")
}

missing contains repos.unconfigured if repos.empty

missing contains v if {
	count(_all) == 0
	v := {
		"msg": "no build provenance was supplied: have the build emit SLSA provenance (e.g. slsa-github-generator), verify it and pass it to the gate",
		"evidence_ids": [],
	}
}

missing contains v if {
	subject.has_target
	count(_provs) == 0
	some r in _all
	not subject.names_digest(r)
	v := {
		"msg": sprintf("provenance %s names no subject digest, so it cannot be shown to describe %s", [evidence.label(r), subject.target]),
		"evidence_ids": evidence.id_list(r),
	}
}

deny contains v if {
	subject.has_target
	count(_provs) == 0
	others := [r | some r in _all; subject.about_other(r)]
	count(others) > 0
	v := {
		"msg": sprintf("no provenance names the promoted artefact %s: the provenance supplied is for %s", [subject.target, subject.describe({d | some r in others; some d in subject.digests(r)})]),
		"evidence_ids": evidence.ids(others),
	}
}

deny contains v if {
	count(_trusted) == 0
	some r in _provs
	problems := _problems(r)
	count(problems) > 0
	v := {
		"msg": sprintf("provenance %s for %s is not trusted: %s", [evidence.label(r), subject.target, concat("; ", sort(problems))]),
		"evidence_ids": evidence.id_list(r),
		"details": {
			"builder_id": _builder(r),
			"source_repo": _source_repo(r),
			"verified": object.get(evidence.data_of(r), "verified", null),
		},
	}
}
