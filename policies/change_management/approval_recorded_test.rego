package affidavit.rules.change_management.approval_recorded_test

import data.affidavit.lib.testing
import data.affidavit.rules.change_management.approval_recorded as rule

_params := {"change_management": {"min_approvals": 1, "require_ticket": true}}

# A change record in the project's documented change-record JSON format.
_change(changes) := testing.record("change-record", "c", object.union(
	{
		"format": "affidavit-change-record",
		"format_version": "1",
		"tool": null,
		"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": testing.digest},
		"effective_at": "2026-11-22T10:41:00Z",
		"data": {
			"id": "CHG-2041",
			"environment": "prod",
			"ticket": "OPS-1187",
			"requested_by": "dana@acme.example",
			"approvals": [{"approver": "lee@acme.example", "approved_at": "2026-11-22T10:41:00Z", "decision": "approved"}],
			"approved": true,
			"self_approved": false,
		},
	},
	changes,
))

_input(records) := testing.input_for({"change-record": records}, "prod", _params)

test_passes_when_change_approved_by_another_person if {
	inp := _input([_change({})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_self_approved if {
	r := _change({"data": {
		"approvals": [{"approver": "dana@acme.example", "approved_at": "2026-11-22T10:41:00Z", "decision": "approved"}],
		"self_approved": true,
	}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("change record CHG-2041 (artefacts/change-record-c.json) does not approve this promotion of %s to prod: it has 0 approval(s) by someone other than the requester; change_management.min_approvals is 1; it is self-approved: the requester approved their own change", [testing.digest])
	d.evidence_ids == [testing.id("c")]
}

test_fires_when_not_approved if {
	r := _change({"data": {"approved": false, "approvals": [{"approver": "lee@acme.example", "approved_at": "2026-11-22T10:41:00Z", "decision": "rejected"}]}})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	contains(d.msg, "it is not approved")
}

test_fires_when_for_another_environment if {
	denies := rule.deny with input as _input([_change({"data": {"environment": "staging"}})])
	count(denies) == 1
	some d in denies
	endswith(d.msg, "it is for environment staging, not prod")
}

test_fires_when_for_another_artefact if {
	denies := rule.deny with input as _input([_change({"subject": {"digest": testing.other_digest}})])
	count(denies) == 1
	some d in denies
	endswith(d.msg, sprintf("it is about %s, not the promoted artefact %s", [testing.other_digest, testing.digest]))
}

test_fires_when_ticket_required_but_absent if {
	denies := rule.deny with input as _input([_change({"data": {"ticket": null}})])
	count(denies) == 1
	some d in denies
	contains(d.msg, "names no ticket")
}

test_ticket_not_needed_where_rule_data_allows if {
	inp := testing.input_for({"change-record": [_change({"data": {"ticket": null}})]}, "prod", {"change_management": {"min_approvals": 1, "require_ticket": false}})
	count(rule.deny) == 0 with input as inp
}

test_passes_when_one_of_several_records_approves if {
	inp := _input([_change({"data": {"environment": "staging"}}), object.union(_change({}), {"id": testing.id("d")})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_record_names_no_digest if {
	inp := _input([_change({"subject": {"digest": null}})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_change_record if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"change-record": [_change({})]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"change_management.min_approvals", "change_management.require_ticket"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_change({})]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

test_fires_when_record_states_neither_approval_nor_environment if {
	r := json.remove(_change({}), ["data/approved", "data/environment"])
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	contains(d.msg, "it is not approved")
	contains(d.msg, "it is for environment null, not prod")
}

# --- issue 10: who approved, and when ------------------------------------------------------------

_approval(who, at) := {"approver": who, "approved_at": at, "decision": "approved", "bot": false}

_with_approvals(list) := _change({"effective_at": "2026-11-22T09:20:00Z", "data": {"approvals": list}})

_problems_of(r) := {p | some d in rule.deny with input as _input([r]); some p in d.details.problems}

test_environment_aliases_match if {
	inp := _input([_change({"data": {"environment": " Production "}})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as _input([_change({"data": {"environment": "PRD"}})])
}

test_fires_when_approval_is_future_dated if {
	r := _with_approvals([_approval("lee@acme.example", "2026-11-23T08:00:00Z")])
	"1 approval(s) dated after the evaluation time were not counted" in _problems_of(r)
}

test_fires_when_approval_precedes_the_request if {
	r := _with_approvals([_approval("lee@acme.example", "2026-11-22T09:00:00Z")])
	"1 approval(s) dated before the change was requested were not counted" in _problems_of(r)
}

test_fires_when_only_a_bot_approved if {
	by_flag := _with_approvals([object.union(_approval("release-app", "2026-11-22T10:00:00Z"), {"bot": true})])
	"1 approval(s) by a bot were not counted: an approval must be a person's decision" in _problems_of(by_flag)
	by_name := _with_approvals([_approval("github-actions[bot]", "2026-11-22T10:00:00Z")])
	"1 approval(s) by a bot were not counted: an approval must be a person's decision" in _problems_of(by_name)
}

test_fires_when_requester_approves_under_an_alias if {
	r := _with_approvals([_approval("DSmith", "2026-11-22T10:00:00Z")])
	p := object.union(_params, {"change_management": {"aliases": {"dana": ["dana@acme.example", "dsmith"]}}})
	denies := rule.deny with input as testing.input_for({"change-record": [r]}, "prod", p)
	count(denies) == 1
	some d in denies
	contains(d.msg, "under the same name or an alias in change_management.aliases")
	# without the alias the same approval counts
	count(rule.deny) == 0 with input as _input([r])
}

test_missing_when_aliases_malformed if {
	p := object.union(_params, {"change_management": {"aliases": ["dana", "dsmith"]}})
	missing := rule.missing with input as testing.input_for({"change-record": [_change({})]}, "prod", p)
	some m in missing
	m.details.param == "change_management.aliases"
}

test_missing_when_request_time_unknown if {
	r := json.remove(_change({}), ["effective_at"])
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "does not say when the change was requested")
}

test_missing_when_requester_or_approval_time_unknown if {
	r := _change({"data": {"requested_by": null, "approvals": [{"approver": "lee", "approved_at": null, "decision": "approved"}]}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	contains(m.msg, "does not say who requested the change")
	contains(m.msg, "do not say when they were given")
}

test_requested_at_in_data_wins if {
	r := _change({"effective_at": null, "data": {"requested_at": "2026-11-22T11:00:00Z"}})
	"1 approval(s) dated before the change was requested were not counted" in _problems_of(r)
}
