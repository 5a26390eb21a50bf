# METADATA
# title: No unapproved destruction of protected resources
# description: A Terraform plan that deletes or replaces a resource of a protected type (databases, buckets, keys, ...) needs an approved change record for this promotion, so data-bearing infrastructure is never destroyed by an unreviewed release.
# custom:
#   id: iac.protected_resource_changes
#   severity: critical
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32]
#   remediation: Avoid the delete or replace (check `lifecycle { prevent_destroy = true }`, moved blocks and the attributes in replace_paths), or raise a change record for this promotion that an approver other than the requester signs off, and pass it to the gate.
package affidavit.rules.iac.protected_resource_changes

import data.affidavit.lib.change
import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in terraform.incomplete

missing contains m if some m in params.problems("iac", {"protected_types": "array", "protected_changes_require_approval": "boolean"})

missing contains m if {
	count(_destructive) > 0
	some m in change.params_problems
}

_destructive := [c |
	types := {t | some t in params.list("iac", "protected_types")}
	some c in terraform.changes
	c.rc.type in types
	terraform.destroys(c.rc)
]

_describe(c) := sprintf("%s (%s) %s%s", [terraform.address(c.rc), c.rc.type, terraform.what_happens(c.rc), _why(c.rc)])

_why(rc) := sprintf(" because of a change to %s", [concat(", ", [concat(".", [sprintf("%v", [p]) | some p in path]) | some path in rc.replace_paths; is_array(path)])]) if {
	is_array(rc.replace_paths)
	count(rc.replace_paths) > 0
} else := ""

deny contains v if {
	count(change.approving) == 0
	params.enabled("iac", "protected_changes_require_approval")
	some c in _destructive
	v := {
		"msg": sprintf("%s in %s without an approved change record for this promotion", [_describe(c), evidence.label(c.record)]),
		"evidence_ids": array.concat(evidence.id_list(c.record), evidence.ids(change.records)),
		"details": {"address": terraform.address(c.rc), "actions": c.rc.actions, "action_reason": object.get(c.rc, "action_reason", null)},
	}
}

warn contains v if {
	count(change.approving) == 0
	params.boolean("iac", "protected_changes_require_approval") == false
	some c in _destructive
	v := {
		"msg": sprintf("%s in %s; no approved change record, which iac.protected_changes_require_approval does not ask for here", [_describe(c), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

warn contains v if {
	count(change.approving) > 0
	some c in _destructive
	v := {
		"msg": sprintf("%s in %s, approved by change record %s", [_describe(c), evidence.label(c.record), concat(", ", sort([change.name(r) | some r in change.approving]))]),
		"evidence_ids": array.concat(evidence.id_list(c.record), evidence.ids(change.approving)),
	}
}
