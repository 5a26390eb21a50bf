# METADATA
# title: Force pushes and branch deletion are off
# description: The protected branch cannot be rewritten by force pushes or deleted, so its history (and what was reviewed) cannot be changed after the fact.
# custom:
#   id: source_control.no_force_push
#   severity: high
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.8.4]
#   remediation: Disable "Allow force pushes" and "Allow deletions" in the default branch's protection, or add "Block force pushes" and "Restrict deletions" to its ruleset.
package affidavit.rules.source_control.no_force_push

import data.affidavit.lib.branch

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in branch.unstated(["allow_force_pushes", "allow_deletions"], "boolean")

_what := {"allow_force_pushes": "force pushes", "allow_deletions": "deletion of the branch"}

deny contains v if {
	some r in branch.records
	some field, what in _what
	branch.setting(r, field) == true
	v := {
		"msg": sprintf("%s allows %s (%s = true)", [branch.where(r), what, field]),
		"evidence_ids": branch.ids_of(r),
	}
}
