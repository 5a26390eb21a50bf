# METADATA
# title: Provenance from an allowed builder, signer, source repository, ref and commit
# description: Verified SLSA build provenance names the promoted digest, was signed by a signer that rule data names for the builder it claims (trust comes from who signed, not from the builder id the document states), records a source repository rule data allows, was built from a ref rule data allows (and from the branch being promoted, when one is given), and from the very commit being promoted, so the artefact demonstrably came from our reviewed code through our build platform.
# custom:
#   id: supply_chain.provenance_trusted
#   severity: critical
#   requires: [provenance]
#   controls:
#     soc2: [CC8.1, CC6.8]
#     iso27001-2022: [A.8.25, A.8.32, A.5.21]
#   remediation: Build the image from the promoted commit of an allowed ref (supply_chain.allowed_refs or ref_patterns) with a trusted builder that signs SLSA provenance (e.g. the slsa-github-generator reusable workflows or GitHub artifact attestations), pass the signed provenance and --commit to the gate, and list a legitimate builder with the signers that sign for it in supply_chain.allowed_builders and its repository in allowed_source_repos.
package affidavit.rules.supply_chain.provenance_trusted

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.repos
import data.affidavit.lib.signers
import data.affidavit.lib.subject

_all := evidence.records("provenance")

_provs := subject.for_target("provenance")

# Only SLSA provenance states a build (builder, source, commit); a VSA, a witness collection or an
# SBOM attestation of the image does not.
_slsa := [r | some r in _provs; object.get(evidence.data_of(r), "predicate_kind", null) == "slsa-provenance"]

_data(r) := evidence.data_of(r)

_source(r, key) := v if {
	v := object.get(_data(r), ["source", key], null)
	evidence.text(v)
}

_source_repo(r) := object.get(_data(r), ["source", "repo"], null)

_builder(r) := object.get(_data(r), "builder_id", null)

_verified(r) if object.get(_data(r), "verified", null) == true

# ---- refs ----------------------------------------------------------------------------------

_allowed_refs := [x | some x in params.optional_list("supply_chain", "allowed_refs"); is_string(x)]

_ref_patterns := [x | some x in params.optional_list("supply_chain", "ref_patterns"); is_string(x)]

_refs_configured if count(_allowed_refs) + count(_ref_patterns) > 0

# A ref is allowed when rule data lists it exactly, or a pattern matches the WHOLE ref.
_ref_allowed(ref) if ref in _allowed_refs

_ref_allowed(ref) if {
	some p in _ref_patterns
	signers.matches(p, ref)
}

_branch := b if {
	b := input.context.branch
	evidence.text(b)
}

# ---- commits -------------------------------------------------------------------------------

_full_commit(c) if regex.match(`^([0-9a-f]{40}|[0-9a-f]{64})$`, c)

_promoted := lower(trim_space(input.context.commit)) if is_string(input.context.commit)

# ---- why a provenance record is not trusted --------------------------------------------------

# Reasons that fail the record (the evidence says something wrong).
_denials(r) := (((_unverified(r) | _signer_problem(r)) | _builder_problem(r)) | _repo_problem(_source_repo(r))) | (_ref_denial(r) | _commit_denial(r))

# Reasons the record cannot be judged (the evidence does not say enough).
_gaps(r) := _ref_gap(r) | _commit_gap(r)

_unverified(r) := {sprintf("it is not verified (%s)", [_reasons(r)])} if not _verified(r)

else := set()

_reasons(r) := concat("; ", reasons) if {
	reasons := [x | some x in evidence.array_at(object.get(_data(r), "signature", {}), "reasons"); is_string(x)]
	count(reasons) > 0
} else := "its signature was not checked"

_signers(r) := concat(" / ", sort(signers.signers_of(r))) if count(signers.signers_of(r)) > 0

else := "none recorded"

# Whoever signed the envelope must be a signer rule data names for the builder it claims: anyone
# can sign a statement naming a trusted builder and our repository.
_signer_problem(r) := set() if {
	not _verified(r)
} else := set() if {
	not signers.tables_ok # reported as missing rule data
} else := set() if {
	count(signers.builders_for(r)) > 0
} else := set() if {
	count(signers.claimed_builders(r)) == 0 # reported as a builder problem
} else := {"no signer of it is recorded, so rule data cannot allow it"} if {
	count(signers.signers_of(r)) == 0
} else := {sprintf("its signer, %s, is not one supply_chain.allowed_builders names for its builder %s", [_signers(r), _builder(r)])}

_builder_problem(r) := {"it names no builder"} if {
	not evidence.text(_builder(r))
} else := {sprintf("its builder %s is not in supply_chain.allowed_builders", [_builder(r)])} if {
	not params.empty("supply_chain", "allowed_builders")
	signers.tables_ok
	count(signers.claimed_builders(r)) == 0
} else := set()

_repo_problem(repo) := {"it names no source repository"} if {
	not evidence.text(repo)
} else := {sprintf("its source repository %s is not allowed (supply_chain.allowed_source_repos)", [repo])} if {
	not repos.empty
	not repos.allowed(repo)
} else := set()

_ref_denial(r) := {sprintf("it was built from %s, which is not an allowed ref (supply_chain.allowed_refs, ref_patterns)", [ref])} if {
	_refs_configured
	ref := _source(r, "ref")
	not _ref_allowed(ref)
} else := set()

_ref_gap(r) := {"it names no source ref, so it cannot be shown to come from an allowed branch or tag"} if {
	not _source(r, "ref")
} else := {sprintf("it was built from %s, but the branch being promoted is %s (--branch): supply the provenance of that branch's build", [ref, _branch])} if {
	ref := _source(r, "ref")
	startswith(ref, "refs/heads/")
	ref != concat("", ["refs/heads/", _branch])
} else := set()

_commit_denial(r) := {sprintf("it was built from commit %s, not the commit being promoted %s (--commit)", [commit, _promoted])} if {
	_full_commit(_promoted)
	commit := _source(r, "commit")
	lower(trim_space(commit)) != _promoted
} else := set()

_commit_gap(r) := {"it names no source commit, so it cannot be shown to be a build of the commit being promoted"} if {
	not _source(r, "commit")
} else := {"the promotion names no commit (--commit), so the provenance cannot be bound to the code being released"} if {
	not _promoted
} else := {"the promotion's --commit is not a full commit id (40 or 64 hex digits), so the provenance cannot be bound to it"} if {
	not _full_commit(_promoted)
} else := set()

_trusted := [r | some r in _slsa; count(_denials(r)) == 0; count(_gaps(r)) == 0]

_details(r) := {
	"builder_id": _builder(r),
	"source_repo": _source_repo(r),
	"source_ref": object.get(_data(r), ["source", "ref"], null),
	"source_commit": object.get(_data(r), ["source", "commit"], null),
	"verified": object.get(_data(r), "verified", null),
}

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"allowed_builders": "array", "allowed_source_repos": "array"})

missing contains m if some m in signers.problems

missing contains m if some m in signers.table_problems

# What an organisation must configure and has not (the built-in rule data trusts no one): the rule
# cannot pass, and a builder, repository, ref or signer is not refused for a list that is empty.
missing contains m if some m in signers.unconfigured

missing contains params.unconfigured("trusted builders", "supply_chain.allowed_builders (the builder ids your provenance names, each with the SLSA level you credit it with and the signers that sign for it)") if {
	params.empty("supply_chain", "allowed_builders")
}

missing contains repos.unconfigured if repos.empty

missing contains params.unconfigured("allowed source refs", "supply_chain.allowed_refs (exact refs, e.g. refs/heads/main) or supply_chain.ref_patterns (regular expressions matching the whole ref, e.g. refs/tags/v[0-9]+[.][0-9]+[.][0-9]+)") if {
	not _refs_configured
}

missing contains v if {
	some i, p in params.optional_list("supply_chain", "ref_patterns")
	not _valid_pattern(p)
	v := {
		"msg": sprintf("rule data supply_chain.ref_patterns[%d] is not a valid regular expression, so it allows no ref; fix it in the rule data file (see docs/params.md)", [i]),
		"evidence_ids": [],
	}
}

_valid_pattern(p) if {
	is_string(p)
	regex.is_valid(p)
}

missing contains v if {
	count(_all) == 0
	v := {
		"msg": "no build provenance was supplied: have the build emit SLSA provenance (e.g. slsa-github-generator or GitHub artifact attestations), verify it and pass it to the gate",
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

missing contains v if {
	count(_provs) > 0
	count(_slsa) == 0
	v := {
		"msg": sprintf("no SLSA provenance names %s: the attestations supplied (%s) do not state its build (builder, source and commit); pass the build's SLSA provenance", [subject.target, concat(", ", sort({sprintf("%v", [object.get(_data(r), "predicate_kind", null)]) | some r in _provs}))]),
		"evidence_ids": evidence.ids(_provs),
	}
}

missing contains v if {
	count(_trusted) == 0
	some r in _slsa
	count(_denials(r)) == 0
	gaps := _gaps(r)
	count(gaps) > 0
	v := {
		"msg": sprintf("provenance %s for %s cannot be judged: %s", [evidence.label(r), subject.target, concat("; ", sort(gaps))]),
		"evidence_ids": evidence.id_list(r),
		"details": _details(r),
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
	some r in _slsa
	problems := _denials(r)
	count(problems) > 0
	v := {
		"msg": sprintf("provenance %s for %s is not trusted: %s", [evidence.label(r), subject.target, concat("; ", sort(problems))]),
		"evidence_ids": evidence.id_list(r),
		"details": _details(r),
	}
}
