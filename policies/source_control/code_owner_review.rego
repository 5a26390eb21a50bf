# METADATA
# title: Code owners must review changes
# description: Branch protection requires a review from the code owners of the files a change touches, so the people accountable for a component approve changes to it.
# custom:
#   id: source_control.code_owner_review
#   severity: medium
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.5.3]
#   remediation: Add a CODEOWNERS file and enable "Require review from Code Owners" in the default branch's protection or ruleset.
package affidavit.rules.source_control.code_owner_review

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"require_code_owner_review": "boolean"})

missing contains m if some m in branch.unstated(["require_code_owner_reviews"], "boolean")

_off contains r if {
	some r in branch.records
	branch.setting(r, "require_code_owner_reviews") == false
}

deny contains v if {
	params.enabled("source_control", "require_code_owner_review")
	some r in _off
	v := {
		"msg": sprintf("%s does not require code-owner review (require_code_owner_reviews = false)", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}

warn contains v if {
	params.boolean("source_control", "require_code_owner_review") == false
	some r in _off
	v := {
		"msg": sprintf("%s does not require code-owner review; allowed here by source_control.require_code_owner_review = false", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}
