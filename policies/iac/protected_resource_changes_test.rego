package affidavit.rules.iac.protected_resource_changes_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.protected_resource_changes as rule

_params := {
	"iac": {"protected_types": ["aws_db_instance", "aws_s3_bucket"], "protected_changes_require_approval": true},
	"change_management": {"min_approvals": 1, "require_ticket": true},
}

_rc(address, type, actions, before, after) := {
	"address": address,
	"type": type,
	"name": split(address, ".")[1],
	"module": null,
	"provider": "registry.terraform.io/hashicorp/aws",
	"mode": "managed",
	"actions": actions,
	"before": before,
	"after": after,
	"after_unknown": {},
	"previous_address": null,
	"action_reason": null,
	"replace_paths": [],
	"sensitive_paths": [],
}

_db := {"identifier": "orders", "engine": "postgres", "engine_version": "16.3", "instance_class": "db.t4g.medium", "storage_encrypted": true, "password": "(sensitive)"}

_replace_db := object.union(
	_rc("aws_db_instance.orders", "aws_db_instance", ["delete", "create"], _db, object.union(_db, {"engine_version": "16.4", "identifier": "orders-v2"})),
	{"action_reason": "replace_because_cannot_update", "replace_paths": [["identifier"]], "after_unknown": {"id": true, "arn": true}},
)

_update_bucket := _rc("aws_s3_bucket.assets", "aws_s3_bucket", ["update"], {"bucket": "acme-shop-assets", "tags": {}}, {"bucket": "acme-shop-assets", "tags": {"team": "shop"}})

_delete_queue := _rc("aws_sqs_queue.jobs", "aws_sqs_queue", ["delete"], {"name": "jobs"}, null)

_plan(rcs) := testing.record("terraform-plan", "p", {
	"format": "terraform-plan-json",
	"format_version": "1.2",
	"tool": {"name": "terraform", "version": "1.9.8"},
	"data": {"terraform_version": "1.9.8", "format_version": "1.2", "resource_changes": rcs, "summary": {}},
})

_change := testing.record("change-record", "c", {
	"format": "affidavit-change-record",
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": testing.digest},
	"effective_at": "2026-11-22T09:20:00Z",
	"data": {
		"id": "CHG-2041", "environment": "prod", "ticket": "OPS-1187", "requested_by": "dana@acme.example",
		"approvals": [{"approver": "lee@acme.example", "approved_at": "2026-11-22T10:41:00Z", "decision": "approved"}],
		"approved": true, "self_approved": false,
	},
})

test_passes_when_no_protected_resource_is_destroyed if {
	inp := testing.input_for({"terraform-plan": [_plan([_update_bucket, _delete_queue])]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_when_protected_resource_replaced_without_approval if {
	inp := testing.input_for({"terraform-plan": [_plan([_replace_db, _update_bucket])]}, "prod", _params)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	d.msg == "aws_db_instance.orders (aws_db_instance) will be replaced (destroyed, then re-created) because of a change to identifier in artefacts/terraform-plan-p.json without an approved change record for this promotion"
	d.evidence_ids == [testing.id("p")]
	d.details.action_reason == "replace_because_cannot_update"
}

test_fires_when_protected_resource_deleted_and_change_is_self_approved if {
	bucket_gone := _rc("aws_s3_bucket.logs", "aws_s3_bucket", ["delete"], {"bucket": "acme-shop-logs"}, null)
	self := json.patch(_change, [
		{"op": "replace", "path": "/data/self_approved", "value": true},
		{"op": "replace", "path": "/data/approvals/0/approver", "value": "dana@acme.example"},
	])
	inp := testing.input_for({"terraform-plan": [_plan([bucket_gone])], "change-record": [self]}, "prod", _params)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	startswith(d.msg, "aws_s3_bucket.logs (aws_s3_bucket) will be destroyed in artefacts/terraform-plan-p.json")
	d.evidence_ids == [testing.id("p"), testing.id("c")]
}

test_passes_with_warning_when_change_record_approves if {
	inp := testing.input_for({"terraform-plan": [_plan([_replace_db])], "change-record": [_change]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	warns := rule.warn with input as inp
	count(warns) == 1
	some w in warns
	endswith(w.msg, "approved by change record CHG-2041 (artefacts/change-record-c.json)")
}

test_only_warns_where_rule_data_allows if {
	p := json.patch(_params, [{"op": "replace", "path": "/iac/protected_changes_require_approval", "value": false}])
	inp := testing.input_for({"terraform-plan": [_plan([_replace_db])]}, "staging", p)
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_no_plan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_protected_types_unset if {
	inp := testing.input_for({"terraform-plan": [_plan([_replace_db])]}, "prod", {"iac": {"protected_changes_require_approval": true}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	{m.details.param | some m in missing} == {"iac.protected_types"}
}

test_missing_when_change_rule_data_absent_for_a_destructive_change if {
	inp := testing.input_for({"terraform-plan": [_plan([_replace_db])]}, "prod", {"iac": _params.iac})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing} == {"change_management.min_approvals", "change_management.require_ticket"}
}

test_missing_when_plan_has_no_resource_changes if {
	r := json.remove(_plan([]), ["data/resource_changes"])
	inp := testing.input_for({"terraform-plan": [r]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
