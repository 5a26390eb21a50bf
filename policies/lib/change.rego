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

# The names people give the built-in environments, as affidavit.policy.params.ALIASES resolves
# --environment (tests/verdicts/test_change_management.py checks that the two tables agree): a
# record for "production" approves a promotion to prod.
environment_aliases := {
	"production": "prod",
	"prd": "prod",
	"stage": "staging",
	"stg": "staging",
	"development": "dev",
}

# environment_name(e) is the environment a record's environment names (case and spaces ignored).
environment_name(e) := n if {
	is_string(e)
	n := environment_aliases[lower(trim_space(e))]
} else := lower(trim_space(e)) if {
	is_string(e)
} else := null

# same_person(a, b) is true when a and b name the same person: equal ignoring case, or both in
# one group of change_management.aliases ({person: [login, email, ...]}).
same_person(a, b) if {
	is_string(a)
	is_string(b)
	lower(trim_space(a)) == lower(trim_space(b))
}

same_person(a, b) if {
	is_string(a)
	is_string(b)
	some group in _alias_groups
	lower(trim_space(a)) in group
	lower(trim_space(b)) in group
}

_alias_groups := [group |
	aliases := data.affidavit.lib.params.mapping("change_management", "aliases")
	some person, names in aliases
	group := {lower(trim_space(person))} | {lower(trim_space(n)) | some n in _list(names); is_string(n)}
]

_list(v) := v if is_array(v)

else := []

# bot(a) is true when an approval was given by a bot: GitHub marks bot accounts with type Bot
# (the collector's `bot`) and their logins end in "[bot]" (github-actions[bot], dependabot[bot]).
bot(a) if a.bot == true

bot(a) if endswith(lower(a.approver), "[bot]")

# requester(r) is who requested the change, null when the record does not say (never undefined:
# OPA makes `not f(<undefined>)` undefined where regorus makes it true; open-policy-agent/opa#1877).
requester(r) := object.get(data.affidavit.lib.evidence.data_of(r), "requested_by", null)

# requested_ns(r) is when the change was requested (the record's created_at, its effective_at).
requested_ns(r) := n if {
	n := data.affidavit.lib.dates.ns(object.get(data.affidavit.lib.evidence.data_of(r), "requested_at", null))
} else := n if {
	n := data.affidavit.lib.dates.ns(object.get(r, "effective_at", null))
}

# decisions(r) is the approving decisions recorded (any approver, any time).
decisions(r) := [a |
	d := data.affidavit.lib.evidence.data_of(r)
	some a in data.affidavit.lib.evidence.array_at(d, "approvals")
	is_object(a)
	is_string(a.decision)
	lower(a.decision) in {"approved", "approve"}
	is_string(a.approver)
]

# approvals(r) is the approvals that count: by a person (not a bot) other than the requester
# under any alias, given after the change was requested and not after the evaluation time.
approvals(r) := [a |
	some a in decisions(r)
	not same_person(a.approver, requester(r))
	not bot(a)
	not _before_request(r, a)
	not _after_now(a)
	not _undated(a)
]

_undated(a) if not data.affidavit.lib.dates.ns(object.get(a, "approved_at", null))

_before_request(r, a) if data.affidavit.lib.dates.ns(a.approved_at) < requested_ns(r)

_after_now(a) if data.affidavit.lib.dates.ns(a.approved_at) > data.affidavit.lib.dates.now_ns

# problems(r) is the set of reasons record r does not approve this promotion (empty: it does).
problems(r) := (((((((_not_approved(r) | _self_approved(r)) | _too_few(r)) | _other_environment(r)) | _no_ticket(r)) | _other_subject(r)) | _by_bots(r)) | _early(r)) | _future(r)

# unknowns(r) is what the record does not say, without which it cannot be shown to approve.
unknowns(r) := (_no_requester(r) | _no_request_time(r)) | _no_approval_time(r)

_not_approved(r) := {"it is not approved (approved is not true)"} if {
	object.get(data.affidavit.lib.evidence.data_of(r), "approved", null) != true
} else := set()

_self_approved(r) := {"it is self-approved: the requester approved their own change"} if {
	data.affidavit.lib.evidence.data_of(r).self_approved == true
} else := {"it is self-approved: the requester approved their own change (under the same name or an alias in change_management.aliases)"} if {
	some a in decisions(r)
	same_person(a.approver, requester(r))
} else := set()

# _short(r) is true when too few approvals count; the notes below then say why others did not.
_short(r) if count(approvals(r)) < data.affidavit.lib.params.number("change_management", "min_approvals")

_by_bots(r) := {sprintf("%d approval(s) by a bot were not counted: an approval must be a person's decision", [n])} if {
	n := count([a | some a in decisions(r); bot(a)])
	n > 0
	_short(r)
} else := set()

_early(r) := {sprintf("%d approval(s) dated before the change was requested were not counted", [n])} if {
	n := count([a | some a in decisions(r); _before_request(r, a)])
	n > 0
	_short(r)
} else := set()

_future(r) := {sprintf("%d approval(s) dated after the evaluation time were not counted", [n])} if {
	n := count([a | some a in decisions(r); _after_now(a)])
	n > 0
	_short(r)
} else := set()

_too_few(r) := {sprintf("it has %d approval(s) by someone other than the requester; change_management.min_approvals is %d", [count(approvals(r)), n])} if {
	n := data.affidavit.lib.params.number("change_management", "min_approvals")
	count(approvals(r)) < n
	count(unknowns(r)) == 0
} else := set()

_other_environment(r) := {sprintf("it is for environment %v, not %v", [env, _environment])} if {
	env := object.get(data.affidavit.lib.evidence.data_of(r), "environment", null)
	environment_name(env) != _environment
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

_no_requester(r) := {"it does not say who requested the change (requested_by), so an approval cannot be shown to come from someone else"} if {
	not is_string(requester(r))
} else := set()

_no_request_time(r) := {"it does not say when the change was requested (created_at), so approvals cannot be shown to follow the request"} if {
	not requested_ns(r)
} else := set()

_no_approval_time(r) := {"its approvals do not say when they were given (approved_at), so they cannot be shown to follow the request and precede the evaluation"} if {
	some a in decisions(r)
	_undated(a)
	_short(r)
} else := set()

# approving is the change records that approve this promotion: about the subject digest, for
# this environment, approved in time by people other than the requester, as rule data asks.
approving := [r |
	some r in records
	count(problems(r)) == 0
	count(unknowns(r)) == 0
]

# params_problems is the `missing` entries for the rule data the checks above need.
params_problems := data.affidavit.lib.params.problems("change_management", {"min_approvals": "number", "require_ticket": "boolean"}) | _alias_problems

# change_management.aliases is optional ({} when unset), but when set it must be a mapping: a
# malformed one would silently let a requester approve under another name.
_alias_problems contains m if {
	v := data.affidavit.lib.params.value("change_management", "aliases")
	v != null
	not is_object(v)
	m := {
		"msg": sprintf("rule data change_management.aliases is a %s, not a mapping of each person to their other logins and emails; fix it in policies/params.yaml or an override file", [type_name(v)]),
		"evidence_ids": [],
		"details": {"param": "change_management.aliases", "expected_type": "object", "got": type_name(v)},
	}
}
