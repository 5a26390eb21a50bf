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
