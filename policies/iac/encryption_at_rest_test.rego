package affidavit.rules.iac.encryption_at_rest_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.encryption_at_rest as rule

_params := {"iac": {"encryption_attributes": {
	"aws_db_instance": "storage_encrypted",
	"aws_rds_cluster": "storage_encrypted",
	"aws_ebs_volume": "encrypted",
}}}

_rc(address, actions, after, after_unknown) := {
	"address": address,
	"type": split(address, ".")[0],
	"name": split(address, ".")[1],
	"module": null,
	"provider": "registry.terraform.io/hashicorp/aws",
	"mode": "managed",
	"actions": actions,
	"before": null,
	"after": after,
	"after_unknown": after_unknown,
	"previous_address": null,
	"action_reason": null,
	"replace_paths": [],
	"sensitive_paths": [],
}

_db(encrypted) := _rc("aws_db_instance.orders", ["create"], {
	"identifier": "orders", "engine": "postgres", "engine_version": "16.4", "instance_class": "db.t4g.medium",
	"allocated_storage": 50, "storage_encrypted": encrypted, "password": "(sensitive)",
}, {"id": true, "arn": true, "endpoint": true, "kms_key_id": true})

# AWS provider v5: the bucket's own SSE attribute is computed on create; a separate resource sets it.
_bucket := _rc("aws_s3_bucket.assets", ["create"], {"bucket": "acme-shop-assets", "force_destroy": false, "tags": {"team": "shop"}}, {
	"id": true, "arn": true, "acl": true, "server_side_encryption_configuration": true, "versioning": true,
})

_sse(bucket, unknown) := _rc("aws_s3_bucket_server_side_encryption_configuration.assets", ["create"], {
	"bucket": bucket,
	"expected_bucket_owner": null,
	"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": null}], "bucket_key_enabled": true}],
}, object.union({"id": true}, unknown))

_plan(rcs) := testing.record("terraform-plan", "p", {
	"format": "terraform-plan-json",
	"tool": {"name": "terraform", "version": "1.9.8"},
	"data": {"terraform_version": "1.9.8", "format_version": "1.2", "resource_changes": rcs, "summary": {}},
})

_input(rcs) := testing.input_for({"terraform-plan": [_plan(rcs)]}, "prod", _params)

test_passes_when_everything_is_encrypted if {
	inp := _input([_db(true), _bucket, _sse("acme-shop-assets", {})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_for_inline_bucket_encryption if {
	# AWS provider v3 style: the configuration sits on the bucket itself.
	b := _rc("aws_s3_bucket.logs", ["create"], {"bucket": "acme-shop-logs", "acl": "log-delivery-write", "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]}]}, {"id": true})
	inp := _input([b])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_database_is_not_encrypted if {
	denies := rule.deny with input as _input([_db(false)])
	count(denies) == 1
	some d in denies
	d.msg == "aws_db_instance.orders is not encrypted at rest: storage_encrypted = false (artefacts/terraform-plan-p.json)"
	d.evidence_ids == [testing.id("p")]
}

test_fires_when_encryption_attribute_is_not_set if {
	denies := rule.deny with input as _input([_db(null)])
	count(denies) == 1
	some d in denies
	contains(d.msg, "storage_encrypted = not set (the default is unencrypted)")
}

test_fires_when_bucket_has_no_encryption_configuration if {
	# AWS provider v3 style bucket with an empty inline configuration and no separate resource.
	b := _rc("aws_s3_bucket.data", ["create"], {"bucket": "acme-shop-data", "acl": "private", "server_side_encryption_configuration": []}, {"id": true})
	denies := rule.deny with input as _input([b])
	count(denies) == 1
	some d in denies
	d.msg == "aws_s3_bucket.data (bucket acme-shop-data) has no server-side encryption configuration: declare an aws_s3_bucket_server_side_encryption_configuration for it (artefacts/terraform-plan-p.json)"
}

test_missing_when_encryption_known_only_after_apply if {
	# An EBS volume without `encrypted`: the account default decides at apply time.
	ebs := _rc("aws_ebs_volume.cache", ["create"], {"availability_zone": "eu-west-1a", "size": 100, "type": "gp3"}, {"id": true, "arn": true, "encrypted": true, "kms_key_id": true})
	inp := _input([ebs])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	startswith(m.msg, "aws_ebs_volume.cache: encrypted is only known after apply")
}

test_missing_when_bucket_encryption_cannot_be_linked if {
	# The SSE resource names the bucket by aws_s3_bucket.assets.id, unknown until apply.
	inp := _input([_bucket, _sse(null, {"bucket": true})])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "aws_s3_bucket.assets: encryption at rest cannot be judged from the plan")
}

test_ignores_deleted_resources_and_aurora_instances if {
	gone := _rc("aws_db_instance.legacy", ["delete"], null, {})
	aurora := _rc("aws_db_instance.reader", ["create"], {"engine": "aurora-postgresql", "storage_encrypted": false}, {})
	inp := _input([gone, aurora])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_no_plan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"terraform-plan": [_plan([_db(true)])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"iac.encryption_attributes"}
}

test_missing_when_plan_has_no_resource_changes if {
	r := json.remove(_plan([]), ["data/resource_changes"])
	inp := testing.input_for({"terraform-plan": [r]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	m.msg == "terraform-plan record artefacts/terraform-plan-p.json has no data.resource_changes list, so it cannot be judged (malformed evidence)"
}
