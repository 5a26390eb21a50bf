# METADATA
# title: Stale approvals are dismissed on new pushes
# description: Branch protection dismisses approving reviews when new commits are pushed, so an approval always covers the code that merges rather than an earlier version of it.
# custom:
#   id: source_control.dismiss_stale_reviews
#   severity: medium
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32]
#   remediation: Enable "Dismiss stale pull request approvals when new commits are pushed" in the default branch's protection or ruleset.
package affidavit.rules.source_control.dismiss_stale_reviews

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"require_dismiss_stale_reviews": "boolean"})

missing contains m if some m in branch.unstated(["dismiss_stale_reviews"], "boolean")

_off contains r if {
	some r in branch.records
	branch.setting(r, "dismiss_stale_reviews") == false
}

deny contains v if {
	params.enabled("source_control", "require_dismiss_stale_reviews")
	some r in _off
	v := {
		"msg": sprintf("%s keeps approvals after new commits are pushed (dismiss_stale_reviews = false)", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}

warn contains v if {
	params.boolean("source_control", "require_dismiss_stale_reviews") == false
	some r in _off
	v := {
		"msg": sprintf("%s keeps approvals after new commits are pushed; allowed here by source_control.require_dismiss_stale_reviews = false", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}
