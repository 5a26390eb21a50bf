# Helpers shared by the source_control rules (branch-protection evidence).
# Other libraries are referenced by full path, never through an import alias: regorus 0.13
# silently makes a library function that uses an alias undefined when its caller reached the
# library through an alias and evaluated one of its rules first (see lib/README.md).
package affidavit.lib.branch

_all := data.affidavit.lib.evidence.records("branch-protection")

# trusted is the branch-protection records of a repository rule data trusts
# (supply_chain.allowed_source_repos, lib/repos): the protection of any other repository says
# nothing about how the promoted code was merged.
trusted := [r | some r in _all; _ours(r)]

_ours(r) if data.affidavit.lib.repos.allowed_by_name(object.get(data.affidavit.lib.evidence.data_of(r), "repository", null))

# target is the branch being promoted: context.branch (--branch); else the repository's default
# branch when a trusted export states it (GitHub GraphQL defaultBranchRef); else the branch the
# promoted artefact's provenance says it was built from (refs/heads/<branch>), when that is one
# branch. Undefined when none of these says: the protection of some branch is then not shown to
# be the protection of the promoted code.
target := b if {
	b := input.context.branch
	is_string(b)
	b != ""
} else := b if {
	count(_stated_defaults) == 1
	some b in _stated_defaults
} else := b if {
	count(_provenance_branches) == 1
	some b in _provenance_branches
}

known_target if target

_stated_defaults := {b |
	some r in trusted
	b := object.get(data.affidavit.lib.evidence.data_of(r), "default_branch", null)
	is_string(b)
	b != ""
}

# The default branch, when the exports state exactly one (needed for ~DEFAULT_BRANCH).
_default := b if {
	count(_stated_defaults) == 1
	some b in _stated_defaults
}

_provenance_branches := {trim_prefix(ref, "refs/heads/") |
	some r in data.affidavit.lib.subject.for_target("provenance")
	ref := object.get(object.get(data.affidavit.lib.evidence.data_of(r), "source", {}), "ref", null)
	is_string(ref)
	startswith(ref, "refs/heads/")
	ref != "refs/heads/"
}

# target_source says where the target branch came from, for messages.
target_source := "--branch" if {
	b := input.context.branch
	is_string(b)
	b != ""
} else := "the repository's default branch stated by the export" if {
	count(_stated_defaults) == 1
} else := "the branch the provenance of the promoted artefact names"

# applies(r) is true when record r is about the promoted branch: a ruleset record's ref
# condition (include and exclude patterns, as GitHub evaluates them, turned into regular
# expressions by the collector) covers refs/heads/<target>; any other record names the target.
applies(r) if {
	m := object.get(data.affidavit.lib.evidence.data_of(r), "ref_match", null)
	is_object(m)
	_included(m)
	not _excluded(m)
}

applies(r) if {
	not is_object(object.get(data.affidavit.lib.evidence.data_of(r), "ref_match", null))
	object.get(data.affidavit.lib.evidence.data_of(r), "branch", null) == target
}

_ref := concat("", ["refs/heads/", target])

_included(m) if {
	some re in _strings(object.get(m, "include", []))
	regex.match(re, _ref)
}

_included(m) if {
	object.get(m, "include_default", false) == true
	target == _default
}

_excluded(m) if {
	some re in _strings(object.get(m, "exclude", []))
	regex.match(re, _ref)
}

_excluded(m) if {
	object.get(m, "exclude_default", false) == true
	target == _default
}

# A ~DEFAULT_BRANCH exclusion with the default branch unknown: the record may not apply, so it
# is not shown to apply.
_excluded(m) if {
	object.get(m, "exclude_default", false) == true
	not _default
}

_strings(v) := [s | some s in v; is_string(s)] if is_array(v)

else := []

# applying is the trusted records about the promoted branch.
applying := [r | some r in trusted; applies(r)]

# records is what every source_control rule judges: the one record about the promoted branch, or,
# when several apply (classic protection and rulesets, which GitHub layers), one record of the
# settings in force (see _merged).
records := [m] if {
	count(applying) > 1
	m := _merged
} else := applying

# ids_of(r) is the evidence ids a judged record stands for (all the merged ones).
ids_of(r) := r.ids if is_array(r.ids)

else := data.affidavit.lib.evidence.id_list(r)

# _merged layers the applying records as GitHub enforces them, erring towards "not protected":
# requirements are the strictest (any source requiring, the highest review count, every required
# check), force pushes and deletions are allowed only when every source allows them, and
# administrators are bound and nobody may bypass only when that holds of every source (a bypass of
# one source may not matter while another binds the actor, which one record cannot show: a possible
# false NO-GO, never a false GO). A field one record does not state is not stated (null).
_merged := {
	"id": data.affidavit.lib.evidence.ids(applying)[0],
	"ids": data.affidavit.lib.evidence.ids(applying),
	"kind": "branch-protection",
	"source": concat(", ", sort([data.affidavit.lib.evidence.label(r) | some r in applying])),
	"data": {
		"repository": object.get(data.affidavit.lib.evidence.data_of(applying[0]), "repository", null),
		"branch": target,
		"sources": sort({s | some r in applying; some s in _array(r, "sources"); is_string(s)}),
		"protected": _any_true("protected"),
		"required_approving_review_count": _max("required_approving_review_count"),
		"require_code_owner_reviews": _any_true("require_code_owner_reviews"),
		"dismiss_stale_reviews": _any_true("dismiss_stale_reviews"),
		"require_last_push_approval": _any_true("require_last_push_approval"),
		"required_status_checks": _union("required_status_checks"),
		"strict_status_checks": _any_true("strict_status_checks"),
		"required_signatures": _any_true("required_signatures"),
		"required_linear_history": _any_true("required_linear_history"),
		"enforce_admins": _all_true("enforce_admins"),
		"review_bypass": _union("review_bypass"),
		"allow_force_pushes": _all_true("allow_force_pushes"),
		"allow_deletions": _all_true("allow_deletions"),
	},
}

_values(f) := [object.get(data.affidavit.lib.evidence.data_of(r), f, null) | some r in applying]

_array(r, f) := v if {
	v := object.get(data.affidavit.lib.evidence.data_of(r), f, null)
	is_array(v)
} else := []

_any_true(f) := null if {
	some v in _values(f)
	not is_boolean(v)
} else := count([v | some v in _values(f); v == true]) > 0

_all_true(f) := null if {
	some v in _values(f)
	not is_boolean(v)
} else := count([v | some v in _values(f); v == false]) == 0

_max(f) := null if {
	some v in _values(f)
	not is_number(v)
} else := max(_values(f))

_union(f) := null if {
	some v in _values(f)
	not is_array(v)
} else := sort({s | some v in _values(f); some s in v; is_string(s)})

# missing is the `missing` entries every source_control rule reports: no branch-protection evidence
# at all, no trusted repository configured, protection of other repositories only, the promoted
# branch unknown, or protection of other branches only.
missing contains no_evidence if count(_all) == 0

missing contains m if some m in data.affidavit.lib.params.problems("supply_chain", {"allowed_source_repos": "array"})

missing contains data.affidavit.lib.repos.unconfigured if data.affidavit.lib.repos.empty

missing contains m if {
	count(trusted) == 0
	not data.affidavit.lib.repos.empty
	some r in _all
	m := {
		"msg": sprintf("%s: the branch-protection record %s is not of a repository in supply_chain.allowed_source_repos, so it cannot show how the promoted code is protected; export the protection of your repository's branch", [where(r), data.affidavit.lib.evidence.label(r)]),
		"evidence_ids": data.affidavit.lib.evidence.id_list(r),
	}
}

missing contains m if {
	count(trusted) > 0
	not known_target
	m := {
		"msg": "the branch being promoted is unknown, so no branch-protection record can be shown to protect it: pass --branch BRANCH (or export the protection with GitHub GraphQL including defaultBranchRef { name })",
		"evidence_ids": data.affidavit.lib.evidence.ids(trusted),
	}
}

missing contains m if {
	known_target
	count(trusted) > 0
	count(records) == 0
	some r in trusted
	m := {
		"msg": sprintf("%s: the branch-protection record %s does not cover the promoted branch %s (from %s)%s; export the protection that applies to that branch", [where(r), data.affidavit.lib.evidence.label(r), target, target_source, _why_not(r)]),
		"evidence_ids": data.affidavit.lib.evidence.id_list(r),
	}
}

_why_not(r) := ": its ruleset targets exclude the branch or do not include it" if {
	is_object(object.get(data.affidavit.lib.evidence.data_of(r), "ref_match", null))
} else := ": it names no branch (the per-branch rules export GET /repos/{owner}/{repo}/rules/branches/{branch} does not say which branch it was fetched for; save each ruleset with gh api repos/OWNER/REPO/rulesets/ID instead)" if {
	not is_string(object.get(data.affidavit.lib.evidence.data_of(r), "branch", null))
} else := ": it is about another branch"

# where(r) names the repository and branch a record is about, for messages.
where(r) := sprintf("%s branch %s", [_text(object.get(d, "repository", null), "(unnamed repository)"), _branch_text(r)]) if {
	d := data.affidavit.lib.evidence.data_of(r)
}

_branch_text(r) := b if {
	b := object.get(data.affidavit.lib.evidence.data_of(r), "branch", null)
	is_string(b)
	b != ""
} else := target if {
	applies(r)
} else := "(unnamed branch)"

_text(v, fallback) := v if {
	is_string(v)
	v != ""
} else := fallback

# setting(r, field) is the record's effective setting, when the record states it.
setting(r, field) := data.affidavit.lib.evidence.data_of(r)[field]

# no_evidence is the `missing` entry of every source_control rule without branch-protection records.
no_evidence := {
	"msg": "no branch-protection evidence: export the promoted branch's protection (GitHub REST GET /repos/{owner}/{repo}/branches/{branch}/protection, or each ruleset that applies to it, GET /repos/{owner}/{repo}/rulesets/{id}) and pass it to the gate",
	"evidence_ids": [],
}

# unstated(fields, type) is one `missing` entry per record and field that is absent or not of
# the type ("boolean", "number", "array"): the record cannot show the setting either way.
unstated(fields, t) := {m |
	some r in records
	some f in fields
	type_name(object.get(data.affidavit.lib.evidence.data_of(r), f, null)) != t
	m := {
		"msg": sprintf("%s: the branch-protection record %s does not state %s (expected a %s)", [where(r), data.affidavit.lib.evidence.label(r), f, t]),
		"evidence_ids": ids_of(r),
	}
}
