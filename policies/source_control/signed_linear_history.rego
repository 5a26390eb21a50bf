# METADATA
# title: Signed commits and linear history where required
# description: Where the environment's rule data asks for them, the protected branch accepts only signed commits and keeps a linear history, so every change on it is attributable and traceable.
# custom:
#   id: source_control.signed_linear_history
#   severity: low
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32]
#   remediation: Enable "Require signed commits" and "Require linear history" on the default branch (as source_control.require_signed_commits and require_linear_history ask).
package affidavit.rules.source_control.signed_linear_history

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"require_signed_commits": "boolean", "require_linear_history": "boolean"})

# rule data key -> (branch-protection field, what it means)
_checks := {
	"require_signed_commits": ["required_signatures", "signed commits"],
	"require_linear_history": ["required_linear_history", "a linear history"],
}

missing contains m if {
	some key, check in _checks
	params.enabled("source_control", key)
	some m in branch.unstated([check[0]], "boolean")
}

deny contains v if {
	some key, check in _checks
	params.enabled("source_control", key)
	some r in branch.records
	branch.setting(r, check[0]) == false
	v := {
		"msg": sprintf("%s does not require %s (%s = false), which source_control.%s asks for", [branch.where(r), check[1], check[0], key]),
		"evidence_ids": branch.ids_of(r),
	}
}
