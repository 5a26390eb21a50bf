package affidavit.rules.iac.no_public_buckets_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.no_public_buckets as rule

_params := {"iac": {
	"public_acls": ["public-read", "public-read-write", "authenticated-read"],
	"public_grantee_uris": ["http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"],
}}

_rc(address, after, after_unknown) := {
	"address": address,
	"type": split(address, ".")[0],
	"name": split(address, ".")[1],
	"module": null,
	"provider": "registry.terraform.io/hashicorp/aws",
	"mode": "managed",
	"actions": ["create"],
	"before": null,
	"after": after,
	"after_unknown": after_unknown,
}

_bucket := _rc("aws_s3_bucket.assets", {"bucket": "acme-shop-assets", "force_destroy": false}, {"id": true, "acl": true, "grant": true, "policy": true})

_block(changes) := _rc("aws_s3_bucket_public_access_block.assets", object.union(
	{"bucket": "acme-shop-assets", "block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
	changes,
), {"id": true})

_acl(acl) := _rc("aws_s3_bucket_acl.assets", {"bucket": "acme-shop-assets", "acl": acl, "expected_bucket_owner": null}, {"id": true, "access_control_policy": true})

_policy(doc) := _rc("aws_s3_bucket_policy.assets", {"bucket": "acme-shop-assets", "policy": json.marshal(doc)}, {"id": true})

_plan(rcs) := testing.record("terraform-plan", "p", {
	"format": "terraform-plan-json",
	"tool": {"name": "terraform", "version": "1.9.8"},
	"data": {"terraform_version": "1.9.8", "format_version": "1.2", "resource_changes": rcs, "summary": {}},
})

_input(rcs) := testing.input_for({"terraform-plan": [_plan(rcs)]}, "prod", _params)

_tls_only := {"Version": "2012-10-17", "Statement": [{
	"Sid": "DenyInsecureTransport",
	"Effect": "Deny",
	"Principal": "*",
	"Action": "s3:*",
	"Resource": ["arn:aws:s3:::acme-shop-assets", "arn:aws:s3:::acme-shop-assets/*"],
	"Condition": {"Bool": {"aws:SecureTransport": "false"}},
}]}

test_passes_for_private_bucket_with_full_block if {
	inp := _input([_bucket, _block({}), _acl("private"), _policy(_tls_only)])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_public_canned_acl if {
	denies := rule.deny with input as _input([_bucket, _block({}), _acl("public-read")])
	denies == {{
		"msg": "aws_s3_bucket_acl.assets is public: acl = public-read (artefacts/terraform-plan-p.json)",
		"evidence_ids": [testing.id("p")],
		"details": {"address": "aws_s3_bucket_acl.assets"},
	}}
}

test_fires_for_inline_acl_on_legacy_bucket if {
	legacy := _rc("aws_s3_bucket.data", {"bucket": "acme-shop-data", "acl": "public-read-write", "grant": []}, {})
	count(rule.deny) == 1 with input as _input([legacy])
}

test_fires_for_grant_to_all_users if {
	b := _rc("aws_s3_bucket.media", {"bucket": "acme-shop-media", "acl": null, "grant": [{"id": null, "permissions": ["READ"], "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}]}, {})
	denies := rule.deny with input as _input([b])
	count(denies) == 1
	some d in denies
	contains(d.msg, "it grants [\"READ\"] to http://acs.amazonaws.com/groups/global/AllUsers")
}

test_fires_when_public_access_block_is_disabled if {
	denies := rule.deny with input as _input([_bucket, _block({"block_public_policy": false, "restrict_public_buckets": null})])
	count(denies) == 1
	some d in denies
	d.msg == "aws_s3_bucket_public_access_block.assets is public: its public access block has block_public_policy = false, restrict_public_buckets = not set (false) (artefacts/terraform-plan-p.json)"
}

test_fires_for_policy_allowing_anyone if {
	doc := {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-shop-assets/*"}}
	denies := rule.deny with input as _input([_bucket, _block({}), _policy(doc)])
	count(denies) == 1
	some d in denies
	contains(d.msg, "its bucket policy allows any principal")
}

test_missing_when_acl_known_only_after_apply if {
	inp := _input([_bucket, _block({}), _rc("aws_s3_bucket_acl.assets", {"bucket": "acme-shop-assets"}, {"acl": true})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_policy_known_only_after_apply if {
	inp := _input([_bucket, _block({}), _rc("aws_s3_bucket_policy.assets", {"bucket": "acme-shop-assets"}, {"policy": true})])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "bucket policy is only known after apply")
}

test_missing_when_policy_is_not_json if {
	inp := _input([_bucket, _block({}), _rc("aws_s3_bucket_policy.assets", {"bucket": "acme-shop-assets", "policy": "{not json"}, {})])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "not valid JSON")
}

_anyone_get(condition) := {"Version": "2012-10-17", "Statement": [{
	"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject",
	"Resource": "arn:aws:s3:::acme-shop-assets/*", "Condition": condition,
}]}

test_fires_for_anyone_under_a_condition_that_does_not_restrict if {
	every condition in [
		{"Bool": {"aws:SecureTransport": "true"}},
		{"StringLike": {"aws:Referer": "https://shop.example/*"}},
		{"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
		{"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
		{"StringLike": {"aws:PrincipalOrgID": "o-*"}},
		{"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/0"]}},
		{"StringEquals": {"aws:SourceAccount": []}},
		{"StringEquals": {"aws:userid": "AROAEXAMPLE:*"}},
	] {
		denies := rule.deny with input as _input([_bucket, _block({}), _policy(_anyone_get(condition))])
		count(denies) == 1
		some d in denies
		contains(d.msg, "under a condition that does not limit it")
	}
}

test_passes_for_anyone_restricted_to_fixed_values if {
	every condition in [
		{"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
		{"StringEquals": {"AWS:SourceVpce": ["vpce-0a1b2c3d", "vpce-0e1f2a3b"]}},
		{"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}},
		{"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
		{"StringEquals": {"aws:userid": "AIDAEXAMPLEUSERID"}},
	] {
		inp := _input([_bucket, _block({}), _policy(_anyone_get(condition))])
		count(rule.deny) == 0 with input as inp
		count(rule.missing) == 0 with input as inp
	}
}

test_fires_for_a_statement_object_allowing_anyone if {
	doc := {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}}
	denies := rule.deny with input as _input([_bucket, _block({}), _policy(doc)])
	count(denies) == 1
	some d in denies
	contains(d.msg, "without a condition")
}

test_passes_for_a_policy_with_no_statement if {
	inp := _input([_bucket, _block({}), _policy({"Version": "2012-10-17"})])
	count(rule.deny) == 0 with input as inp
}

test_missing_when_no_plan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"terraform-plan": [_plan([_bucket])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"iac.public_acls", "iac.public_grantee_uris"}
}

test_missing_when_public_access_block_known_only_after_apply if {
	b := _rc("aws_s3_bucket_public_access_block.assets", {"bucket": "acme-shop-assets", "block_public_acls": true, "ignore_public_acls": true, "restrict_public_buckets": true}, {"block_public_policy": true})
	inp := _input([_bucket, b])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "block_public_policy is only known after apply")
}

test_missing_when_plan_has_no_resource_changes if {
	r := json.remove(_plan([]), ["data/resource_changes"])
	inp := testing.input_for({"terraform-plan": [r]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_fires_for_allow_with_not_principal if {
	doc := {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "*"}]}
	denies := rule.deny with input as _input([_bucket, _block({}), _policy(doc)])
	count(denies) == 1
	deny_np := {"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"}]}
	count(rule.deny) == 0 with input as _input([_bucket, _block({}), _policy(deny_np)])
}

test_fires_for_an_access_control_policy_grant_to_all_users if {
	# aws_s3_bucket_acl access_control_policy (AWS provider docs): grant blocks with a grantee block
	acl := _rc("aws_s3_bucket_acl.assets", {"bucket": "acme-shop-assets", "access_control_policy": [{
		"grant": [{"grantee": [{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers", "id": null}], "permission": "READ"}],
		"owner": [{"id": "abc", "display_name": null}],
	}]}, {"id": true})
	denies := rule.deny with input as _input([_bucket, _block({}), acl])
	count(denies) == 1
	some d in denies
	contains(d.msg, "it grants READ to http://acs.amazonaws.com/groups/global/AllUsers")
}

test_missing_when_grants_or_the_acl_are_masked_as_sensitive if {
	# grant is a set: a grantee from a sensitive variable marks the whole set, and the collector
	# lists the masked place in sensitive_paths (Terraform JSON output format, after_sensitive)
	acl := object.union(_rc("aws_s3_bucket_acl.assets", {"bucket": "acme-shop-assets", "access_control_policy": [{"grant": "(sensitive)", "owner": [{"id": "abc"}]}]}, {"id": true}), {"sensitive_paths": [["after", "access_control_policy", 0, "grant"]]})
	v3 := object.union(_rc("aws_s3_bucket.old", {"bucket": "acme-shop-old", "acl": "(sensitive)"}, {"id": true}), {"sensitive_paths": [["after", "acl"]]})
	inp := _input([_bucket, _block({}), acl, v3])
	count(rule.deny) == 0 with input as inp
	msgs := {m.msg | some m in rule.missing with input as inp}
	count(msgs) == 2
	some a in msgs
	contains(a, "aws_s3_bucket_acl.assets: its access_control_policy is masked in the evidence as sensitive")
	some b in msgs
	contains(b, "aws_s3_bucket.old: the ACL is masked in the evidence as sensitive")
}
