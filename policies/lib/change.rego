# Helpers for change-record evidence: which records approve the promotion under way.
# Other libraries are referenced by full path, never through an import alias: regorus 0.13
# silently makes a library function that uses an alias undefined when its caller reached the
# library through an alias and evaluated one of its rules first (see lib/README.md).
package affidavit.lib.change

records := data.affidavit.lib.evidence.records("change-record")

# name(r) names a change record for messages: its change id and where it came from.
name(r) := sprintf("%s (%s)", [d.id, data.affidavit.lib.evidence.label(r)]) if {
	d := data.affidavit.lib.evidence.data_of(r)
	is_string(d.id)
} else := data.affidavit.lib.evidence.label(r)

# approvals(r) is the approving decisions of people other than the requester.
approvals(r) := [a |
	d := data.affidavit.lib.evidence.data_of(r)
	some a in data.affidavit.lib.evidence.array_at(d, "approvals")
	is_object(a)
	is_string(a.decision)
	lower(a.decision) in {"approved", "approve"}
	is_string(a.approver)
	a.approver != object.get(d, "requested_by", null)
]

# problems(r) is the set of reasons record r does not approve this promotion (empty: it does).
problems(r) := ((((_not_approved(r) | _self_approved(r)) | _too_few(r)) | _other_environment(r)) | _no_ticket(r)) | _other_subject(r)

_not_approved(r) := {"it is not approved (approved is not true)"} if {
	object.get(data.affidavit.lib.evidence.data_of(r), "approved", null) != true
} else := set()

_self_approved(r) := {"it is self-approved: the requester approved their own change"} if {
	data.affidavit.lib.evidence.data_of(r).self_approved == true
} else := {"it is self-approved: the requester approved their own change"} if {
	d := data.affidavit.lib.evidence.data_of(r)
	some a in data.affidavit.lib.evidence.array_at(d, "approvals")
	a.approver == d.requested_by
	count(approvals(r)) == 0
} else := set()

_too_few(r) := {sprintf("it has %d approval(s) by someone other than the requester; change_management.min_approvals is %d", [count(approvals(r)), n])} if {
	n := data.affidavit.lib.params.number("change_management", "min_approvals")
	count(approvals(r)) < n
} else := set()

_other_environment(r) := {sprintf("it is for environment %v, not %v", [env, _environment])} if {
	env := object.get(data.affidavit.lib.evidence.data_of(r), "environment", null)
	env != _environment
} else := set()

_environment := e if {
	e := input.context.environment
	is_string(e)
} else := null

_no_ticket(r) := {"it names no ticket, which change_management.require_ticket asks for"} if {
	data.affidavit.lib.params.enabled("change_management", "require_ticket")
	not _has_ticket(r)
} else := set()

_has_ticket(r) if {
	t := data.affidavit.lib.evidence.data_of(r).ticket
	is_string(t)
	trim_space(t) != ""
}

_other_subject(r) := {sprintf("it names no artefact digest, so it cannot be shown to approve %s", [data.affidavit.lib.subject.target_text])} if {
	not data.affidavit.lib.subject.names_digest(r)
} else := {sprintf("it is about %s, not the promoted artefact %s", [data.affidavit.lib.subject.describe(data.affidavit.lib.subject.digests(r)), data.affidavit.lib.subject.target_text])} if {
	not data.affidavit.lib.subject.about_target(r)
} else := set()

# approving is the change records that approve this promotion: about the subject digest, for
# this environment, approved by someone other than the requester, as rule data asks.
approving := [r |
	some r in records
	count(problems(r)) == 0
]

# params_problems is the `missing` entries for the rule data the checks above need.
params_problems := data.affidavit.lib.params.problems("change_management", {"min_approvals": "number", "require_ticket": "boolean"})
