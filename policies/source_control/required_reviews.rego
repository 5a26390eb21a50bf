# METADATA
# title: Pull requests need enough approving reviews
# description: Branch protection of the promoted branch requires at least the number of approving reviews the environment's rule data asks for before a change can merge, and (where rule data asks) an approval given after the last push, so no one ships code that nobody else has read.
# custom:
#   id: source_control.required_reviews
#   severity: high
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.5.3]
#   remediation: In the branch protection or ruleset of the promoted branch, set "Required approvals" to at least source_control.min_approvals and turn on "Require approval of the most recent reviewable push".
package affidavit.rules.source_control.required_reviews

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"min_approvals": "number", "require_last_push_approval": "boolean"})

missing contains m if some m in branch.unstated(["required_approving_review_count"], "number")

missing contains m if {
	params.enabled("source_control", "require_last_push_approval")
	some m in branch.unstated(["require_last_push_approval"], "boolean")
}

deny contains v if {
	minimum := params.number("source_control", "min_approvals")
	some r in branch.records
	have := branch.setting(r, "required_approving_review_count")
	is_number(have)
	have < minimum
	v := {
		"msg": sprintf("%s requires %d approving review(s); at least %d are required (source_control.min_approvals)", [branch.where(r), have, minimum]),
		"evidence_ids": branch.ids_of(r),
		"details": {"required_approving_review_count": have, "min_approvals": minimum},
	}
}

# GitHub: "Require approval of the most recent reviewable push" (classic
# required_pull_request_reviews.require_last_push_approval, ruleset pull_request parameter of the
# same name). Without it the author (or anyone with write access) can push new commits after the
# approvals and merge them unreviewed.
deny contains v if {
	params.enabled("source_control", "require_last_push_approval")
	some r in branch.records
	branch.setting(r, "require_last_push_approval") == false
	v := {
		"msg": sprintf("%s does not require approval of the most recent push: commits pushed after the approvals merge unreviewed (source_control.require_last_push_approval)", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}
