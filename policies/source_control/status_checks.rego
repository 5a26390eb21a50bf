# METADATA
# title: Required status checks include the named ones and are strict
# description: Branch protection requires the CI checks named in rule data to pass, on a branch that is up to date with its base, before a change can merge; a change cannot reach a release untested.
# custom:
#   id: source_control.status_checks
#   severity: high
#   requires: [branch-protection]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.8.29]
#   remediation: Add every check of source_control.required_checks to "Require status checks to pass before merging" and enable "Require branches to be up to date before merging".
package affidavit.rules.source_control.status_checks

import data.affidavit.lib.branch
import data.affidavit.lib.params

# No evidence, no trusted repository configured, or protection of another repository only.
missing contains m if some m in branch.missing

missing contains m if some m in params.problems("source_control", {"required_checks": "array", "require_strict_checks": "boolean"})

# The checks are the organisation's own CI job names; the built-in rule data names none.
missing contains params.unconfigured("required status checks", "source_control.required_checks (the names of the CI checks that must pass before a change merges, as branch protection lists them)") if {
	params.empty("source_control", "required_checks")
}

missing contains m if some m in branch.unstated(["required_status_checks"], "array")

missing contains m if {
	params.enabled("source_control", "require_strict_checks")
	some m in branch.unstated(["strict_status_checks"], "boolean")
}

deny contains v if {
	some r in branch.records
	checks := branch.setting(r, "required_status_checks")
	is_array(checks)
	have := {c | some c in checks; is_string(c)}
	absent := {c | some c in params.list("source_control", "required_checks"); is_string(c)} - have
	count(absent) > 0
	v := {
		"msg": sprintf("%s does not require the status check(s) %s (source_control.required_checks); it requires: %s", [branch.where(r), concat(", ", sort(absent)), _names(have)]),
		"evidence_ids": branch.ids_of(r),
		"details": {"absent": sort(absent), "required": sort(have)},
	}
}

deny contains v if {
	params.enabled("source_control", "require_strict_checks")
	some r in branch.records
	branch.setting(r, "strict_status_checks") == false
	v := {
		"msg": sprintf("%s does not require branches to be up to date before merging (strict_status_checks = false)", [branch.where(r)]),
		"evidence_ids": branch.ids_of(r),
	}
}

_names(s) := concat(", ", sort(s)) if count(s) > 0

else := "(none)"
