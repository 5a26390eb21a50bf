# METADATA
# title: Default branch is protected
# description: The branch releases are built from has branch protection (classic rules or a ruleset), so changes reach it only through the agreed review path.
# custom:
#   id: source_control.branch_protected
#   severity: high
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.8.4]
#   remediation: Enable branch protection or a repository ruleset on the default branch (Settings > Branches or Rules) and re-export its protection.
package affidavit.rules.source_control.branch_protected

import data.affidavit.lib.branch
import data.affidavit.lib.evidence

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in branch.unstated(["protected"], "boolean")

deny contains v if {
	some r in branch.records
	branch.setting(r, "protected") == false
	v := {
		"msg": sprintf("%s is not protected: anyone with write access can push to it directly (%s)", [branch.where(r), evidence.label(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}
