# METADATA
# title: Pull requests need enough approving reviews
# description: Branch protection requires at least the number of approving reviews the environment's rule data asks for before a change can merge, so no one ships code that nobody else has read.
# custom:
#   id: source_control.required_reviews
#   severity: high
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.5.3]
#   remediation: In the branch protection or ruleset of the default branch, set "Required approvals" to at least source_control.min_approvals.
package affidavit.rules.source_control.required_reviews

import data.affidavit.lib.branch
import data.affidavit.lib.evidence
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"min_approvals": "number"})

missing contains m if some m in branch.unstated(["required_approving_review_count"], "number")

deny contains v if {
	minimum := params.number("source_control", "min_approvals")
	some r in branch.records
	have := branch.setting(r, "required_approving_review_count")
	is_number(have)
	have < minimum
	v := {
		"msg": sprintf("%s requires %d approving review(s); at least %d are required (source_control.min_approvals)", [branch.where(r), have, minimum]),
		"evidence_ids": evidence.id_list(r),
		"details": {"required_approving_review_count": have, "min_approvals": minimum},
	}
}
