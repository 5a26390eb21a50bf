# Helpers shared by the source_control rules (branch-protection evidence).
# Other libraries are referenced by full path, never through an import alias: regorus 0.13
# silently makes a library function that uses an alias undefined when its caller reached the
# library through an alias and evaluated one of its rules first (see lib/README.md).
package affidavit.lib.branch

_all := data.affidavit.lib.evidence.records("branch-protection")

# records are the branch-protection records of a repository rule data trusts
# (supply_chain.allowed_source_repos, lib/repos): the protection of any other repository says
# nothing about how the promoted code was merged. Every source_control rule judges these only.
records := [r | some r in _all; _ours(r)]

_ours(r) if data.affidavit.lib.repos.allowed_by_name(object.get(data.affidavit.lib.evidence.data_of(r), "repository", null))

# missing is the `missing` entries every source_control rule reports: no branch-protection evidence
# at all, no trusted repository configured, or protection of other repositories only.
missing contains no_evidence if count(_all) == 0

missing contains m if some m in data.affidavit.lib.params.problems("supply_chain", {"allowed_source_repos": "array"})

missing contains data.affidavit.lib.repos.unconfigured if data.affidavit.lib.repos.empty

missing contains m if {
	count(records) == 0
	not data.affidavit.lib.repos.empty
	some r in _all
	m := {
		"msg": sprintf("%s: the branch-protection record %s is not of a repository in supply_chain.allowed_source_repos, so it cannot show how the promoted code is protected; export the protection of your repository's branch", [where(r), data.affidavit.lib.evidence.label(r)]),
		"evidence_ids": data.affidavit.lib.evidence.id_list(r),
	}
}

# where(r) names the repository and branch a record is about, for messages.
where(r) := sprintf("%s branch %s", [_text(object.get(d, "repository", null), "(unnamed repository)"), _text(object.get(d, "branch", null), "(unnamed branch)")]) if {
	d := data.affidavit.lib.evidence.data_of(r)
}

_text(v, fallback) := v if {
	is_string(v)
	v != ""
} else := fallback

# setting(r, field) is the record's effective setting, when the record states it.
setting(r, field) := data.affidavit.lib.evidence.data_of(r)[field]

# no_evidence is the `missing` entry of every source_control rule without branch-protection records.
no_evidence := {
	"msg": "no branch-protection evidence: export the default branch's protection (GitHub REST GET /repos/{owner}/{repo}/branches/{branch}/protection, or the rulesets that apply to it) and pass it to the gate",
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
		"evidence_ids": data.affidavit.lib.evidence.id_list(r),
	}
}
