# METADATA
# title: Branch protection applies to administrators
# description: Repository administrators are bound by the same branch protection as everyone else, so the review and check requirements cannot be bypassed by privileged accounts.
# custom:
#   id: source_control.admins_enforced
#   severity: medium
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.8.2]
#   remediation: Enable "Do not allow bypassing the above settings" (include administrators) on the default branch, or remove bypass actors from its rulesets.
package affidavit.rules.source_control.admins_enforced

import data.affidavit.lib.branch
import data.affidavit.lib.evidence
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"require_admins_enforced": "boolean"})

missing contains m if some m in branch.unstated(["enforce_admins"], "boolean")

_off contains r if {
	some r in branch.records
	branch.setting(r, "enforce_admins") == false
}

deny contains v if {
	params.enabled("source_control", "require_admins_enforced")
	some r in _off
	v := {
		"msg": sprintf("%s lets administrators bypass its protection (enforce_admins = false)", [branch.where(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}

warn contains v if {
	params.boolean("source_control", "require_admins_enforced") == false
	some r in _off
	v := {
		"msg": sprintf("%s lets administrators bypass its protection; allowed here by source_control.require_admins_enforced = false", [branch.where(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}
