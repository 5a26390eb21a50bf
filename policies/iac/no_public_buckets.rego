# METADATA
# title: No public S3 buckets
# description: No S3 bucket in the plan is made public by a canned ACL, an ACL grant to everyone or to any AWS account, a public access block with a protection turned off, or a bucket policy that allows anyone without conditions.
# custom:
#   id: iac.no_public_buckets
#   severity: critical
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC6.1]
#     iso27001-2022: [A.8.3]
#   remediation: Use the private ACL (or BucketOwnerEnforced object ownership), set all four aws_s3_bucket_public_access_block settings to true, and serve public content through CloudFront with origin access control instead of a public bucket.
package affidavit.rules.iac.no_public_buckets

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in params.problems("iac", {"public_acls": "array", "public_grantee_uris": "array"})

_public_acls := {a | some a in params.list("iac", "public_acls")}

_public_uris := {u | some u in params.list("iac", "public_grantee_uris")}

_result(c, why) := {
	"msg": sprintf("%s is public: %s (%s)", [terraform.address(c.rc), why, evidence.label(c.record)]),
	"evidence_ids": evidence.id_list(c.record),
	"details": {"address": terraform.address(c.rc)},
}

# Canned ACLs, on the bucket (provider v3) or on aws_s3_bucket_acl (v4+).
deny contains _result(c, sprintf("acl = %s", [acl])) if {
	some c in terraform.of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	acl := terraform.after(c.rc, ["acl"])
	acl in _public_acls
}

missing contains v if {
	some c in terraform.of_type({"aws_s3_bucket_acl"})
	terraform.unknown(c.rc, ["acl"])
	v := {
		"msg": sprintf("%s: the ACL is only known after apply, so whether it makes the bucket public cannot be judged (%s)", [terraform.address(c.rc), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# ACL grants to a public group: inline `grant` blocks, or access_control_policy on aws_s3_bucket_acl.
deny contains _result(c, sprintf("it grants %v to %s", [object.get(g, "permissions", object.get(g, "permission", "access")), uri])) if {
	some c in terraform.of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	some g in _grants(c.rc)
	uri := _grantee_uri(g)
	uri in _public_uris
}

_grants(rc) := array.concat(
	[g | some g in evidence.array_at(object.get(rc, "after", {}), "grant"); is_object(g)],
	[g |
		some acp in evidence.array_at(object.get(rc, "after", {}), "access_control_policy")
		is_object(acp)
		some g in evidence.array_at(acp, "grant")
		is_object(g)
	],
)

_grantee_uri(g) := g.uri if is_string(g.uri)

else := uri if {
	some grantee in evidence.array_at(g, "grantee")
	is_object(grantee)
	uri := grantee.uri
	is_string(uri)
}

# Public access blocks: each protection defaults to false when not set.
_protections := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

deny contains _result(c, sprintf("its public access block has %s", [concat(", ", off)])) if {
	some c in terraform.of_type({"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"})
	off := [sprintf("%s = %v", [p, _shown(terraform.after(c.rc, [p]))]) |
		some p in _protections
		not terraform.unknown(c.rc, [p])
		terraform.after(c.rc, [p]) != true
	]
	count(off) > 0
}

_shown(null) := "not set (false)"

_shown(v) := v if v != null

missing contains v if {
	some c in terraform.of_type({"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"})
	unknown := [p | some p in _protections; terraform.unknown(c.rc, [p])]
	count(unknown) > 0
	v := {
		"msg": sprintf("%s: %s only known after apply, so whether public access is blocked cannot be judged (%s)", [terraform.address(c.rc), concat(", ", unknown), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# Bucket policies that allow anyone, without a condition.
deny contains _result(c, "its bucket policy allows any principal (\"*\") without a condition") if {
	some c in terraform.of_type({"aws_s3_bucket", "aws_s3_bucket_policy"})
	policy := terraform.after(c.rc, ["policy"])
	is_string(policy)
	json.is_valid(policy)
	some st in _statements(json.unmarshal(policy))
	st.Effect == "Allow"
	_anyone(st.Principal)
	not st.Condition
}

_statements(doc) := doc.Statement if is_array(doc.Statement)

else := [doc.Statement] if is_object(doc.Statement)

else := []

_anyone(p) if p == "*"

_anyone(p) if p.AWS == "*"

_anyone(p) if {
	is_array(p.AWS)
	"*" in p.AWS
}

warn contains v if {
	some c in terraform.of_type({"aws_s3_bucket_policy"})
	terraform.unknown(c.rc, ["policy"])
	v := {
		"msg": sprintf("%s: the bucket policy is only known after apply and was not checked for public access (%s)", [terraform.address(c.rc), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}
