# METADATA
# title: A prod promotion has an approved change record
# description: Promoting to production needs a change record for this artefact and environment, approved after the request and before the evaluation by a person (not a bot) other than the requester under any of their names, so every production change is authorised and traceable to a ticket.
# custom:
#   id: change_management.approval_recorded
#   severity: high
#   requires: [change-record]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32, A.5.3]
#   remediation: Raise a change request for the release naming the image digest and the prod environment, have someone other than the requester approve it, export it as an affidavit change record (or the GitHub deployment review) and pass it to the gate.
#   environments: [prod]
package affidavit.rules.change_management.approval_recorded

import data.affidavit.lib.change
import data.affidavit.lib.evidence
import data.affidavit.lib.subject

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in change.params_problems

missing contains v if {
	count(change.records) == 0
	v := {
		"msg": "no change record was supplied: export the approved change request (or the deployment review) for this promotion and pass it to the gate",
		"evidence_ids": [],
	}
}

# Records that name no digest cannot be tied to the artefact either way.
missing contains v if {
	count(change.approving) == 0
	some r in change.records
	not subject.names_digest(r)
	v := {
		"msg": sprintf("change record %s names no artefact digest, so it cannot be shown to approve %s; record the image digest in the change", [change.name(r), subject.target_text]),
		"evidence_ids": evidence.id_list(r),
	}
}

# A record that does not say who asked, when, or when its approvals were given cannot show that
# the approvals follow the request, precede the evaluation and come from someone else.
missing contains v if {
	subject.has_target
	count(change.approving) == 0
	some r in change.records
	subject.names_digest(r)
	count(change.problems(r)) == 0
	count(change.unknowns(r)) > 0
	v := {
		"msg": sprintf("change record %s cannot be shown to approve this promotion of %s to %v: %s", [change.name(r), subject.target, input.context.environment, concat("; ", sort(change.unknowns(r)))]),
		"evidence_ids": evidence.id_list(r),
		"details": {"unknowns": sort(change.unknowns(r))},
	}
}

deny contains v if {
	subject.has_target
	count(change.approving) == 0
	some r in change.records
	subject.names_digest(r)
	count(change.problems(r)) > 0
	v := {
		"msg": sprintf("change record %s does not approve this promotion of %s to %v: %s", [change.name(r), subject.target, input.context.environment, concat("; ", sort(change.problems(r)))]),
		"evidence_ids": evidence.id_list(r),
		"details": {"problems": sort(change.problems(r))},
	}
}
