# METADATA
# title: Branch protection applies to administrators
# description: Repository administrators are bound by the same branch protection as everyone else, and no user, team, app or role may bypass it (classic bypass_pull_request_allowances, ruleset bypass_actors), so the review and check requirements cannot be skipped by privileged accounts.
# custom:
#   id: source_control.admins_enforced
#   severity: medium
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.8.2]
#   remediation: Enable "Do not allow bypassing the above settings" (include administrators) on the promoted branch, empty "Allow specified actors to bypass required pull requests", and remove bypass actors from its rulesets.
package affidavit.rules.source_control.admins_enforced

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"require_admins_enforced": "boolean"})

missing contains m if some m in branch.unstated(["enforce_admins"], "boolean")

missing contains m if some m in branch.unstated(["review_bypass"], "array")

_off contains r if {
	some r in branch.records
	branch.setting(r, "enforce_admins") == false
}

_bypassed contains r if {
	some r in branch.records
	b := branch.setting(r, "review_bypass")
	is_array(b)
	count(b) > 0
}

deny contains v if {
	params.enabled("source_control", "require_admins_enforced")
	some r in _bypassed
	v := {
		"msg": sprintf("%s can be bypassed: %d kind(s) of actor may merge without the required reviews or push past the rules (bypass allowances or ruleset bypass actors)", [branch.where(r), count(branch.setting(r, "review_bypass"))]),
		"evidence_ids": branch.ids_of(r),
	}
}

warn contains v if {
	params.boolean("source_control", "require_admins_enforced") == false
	some r in _bypassed
	v := {
		"msg": sprintf("%s can be bypassed by %d kind(s) of actor; allowed here by source_control.require_admins_enforced = false", [branch.where(r), count(branch.setting(r, "review_bypass"))]),
		"evidence_ids": branch.ids_of(r),
	}
}

deny contains v if {
	params.enabled("source_control", "require_admins_enforced")
	some r in _off
	v := {
		"msg": sprintf("%s lets administrators bypass its protection (enforce_admins = false)", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}

warn contains v if {
	params.boolean("source_control", "require_admins_enforced") == false
	some r in _off
	v := {
		"msg": sprintf("%s lets administrators bypass its protection; allowed here by source_control.require_admins_enforced = false", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}
