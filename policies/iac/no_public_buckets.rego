# METADATA
# title: No public S3 buckets
# description: No S3 bucket in the plan is made public by a canned ACL, an ACL grant to everyone or to any AWS account, a public access block with a protection turned off, or a bucket policy that allows anyone unless a condition limits it to fixed accounts, organisations, VPCs, endpoints or source ranges (AWS's meaning of public); a policy or ACL known only after apply or masked as sensitive, and an errored, partial or deferring plan, is insufficient evidence.
# custom:
#   id: iac.no_public_buckets
#   severity: critical
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC6.1, CC7.1]
#     iso27001-2022: [A.8.3, A.8.9, A.8.12]
#   remediation: Use the private ACL (or BucketOwnerEnforced object ownership), set all four aws_s3_bucket_public_access_block settings to true, and serve public content through CloudFront with origin access control instead of a public bucket.
package affidavit.rules.iac.no_public_buckets

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in terraform.incomplete

missing contains m if some m in params.problems("iac", {"public_acls": "array", "public_grantee_uris": "array"})

# The planned changes of the types this rule reads, picked from the plan once (a plan holds
# thousands of changes); _of_type(types) then picks from those few.
_changes := terraform.of_type({"aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block", "aws_s3_bucket_policy"})

_of_type(types) := [c |
	some c in _changes
	c.rc.type in types
]

_public_acls := {a | some a in params.list("iac", "public_acls")}

_public_uris := {u | some u in params.list("iac", "public_grantee_uris")}

_result(c, why) := {
	"msg": sprintf("%s is public: %s (%s)", [terraform.address(c.rc), why, evidence.label(c.record)]),
	"evidence_ids": evidence.id_list(c.record),
	"details": {"address": terraform.address(c.rc)},
}

# Canned ACLs, on the bucket (provider v3) or on aws_s3_bucket_acl (v4+).
deny contains _result(c, sprintf("acl = %s", [acl])) if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	acl := terraform.after(c.rc, ["acl"])
	acl in _public_acls
}

missing contains v if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	_hidden(c.rc, "acl", "aws_s3_bucket_acl")
	v := {
		"msg": sprintf("%s: the ACL is %s, so whether it makes the bucket public cannot be judged (%s)", [terraform.address(c.rc), terraform.unknown_why(c.rc, ["acl"]), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# ACL grants to a public group: inline `grant` blocks, or access_control_policy on aws_s3_bucket_acl.
deny contains _result(c, sprintf("it grants %v to %s", [object.get(g, "permissions", object.get(g, "permission", "access")), uri])) if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	some g in _grants(c.rc)
	uri := _grantee_uri(g)
	uri in _public_uris
}

# Grants the plan masks (a grantee from a sensitive variable; grant is a set, so the mark takes
# the whole set): whether one is to everyone cannot be told. (Only masked ones: on an
# aws_s3_bucket_acl with a canned acl, access_control_policy is computed, unknown until apply.)
missing contains v if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_acl"})
	some key in ["grant", "access_control_policy"]
	terraform.masked(c.rc, [key])
	v := {
		"msg": sprintf("%s: its %s is %s, so whether it makes the bucket public cannot be judged (%s)", [terraform.address(c.rc), key, terraform.unknown_why(c.rc, [key]), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
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
	some c in _of_type({"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"})
	off := [sprintf("%s = %v", [p, _shown(terraform.after(c.rc, [p]))]) |
		some p in _protections
		not terraform.unknown(c.rc, [p])
		terraform.after(c.rc, [p]) != true
	]
	count(off) > 0
}

# The ACL or the policy (key) cannot be read: on the resource that sets it (own) when it is unknown
# or masked; on aws_s3_bucket itself (provider v3) only when masked, since v4+ shows those
# deprecated attributes unknown on every new bucket.
_hidden(rc, key, own) if {
	rc.type == own
	terraform.unknown(rc, [key])
}

_hidden(rc, key, _) if {
	rc.type == "aws_s3_bucket"
	terraform.masked(rc, [key])
}

_shown(null) := "not set (false)"

_shown(v) := v if v != null

missing contains v if {
	some c in _of_type({"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"})
	unknown := [sprintf("%s is %s", [p, terraform.unknown_why(c.rc, [p])]) | some p in _protections; terraform.unknown(c.rc, [p])]
	count(unknown) > 0
	v := {
		"msg": sprintf("%s: %s, so whether public access is blocked cannot be judged (%s)", [terraform.address(c.rc), concat(", ", unknown), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# Bucket policies that allow anyone. AWS counts a policy as public unless each statement that
# allows "*" is restricted by a condition on a fixed value of one of the keys of
# _restricting_keys (Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage",
# section "The meaning of public"): a condition on anything else (aws:SecureTransport,
# aws:Referer, a user agent), a wildcard value, an ...IfExists or set operator (which let a request
# without the key through), or an aws:SourceIp range of the whole internet does not restrict.
deny contains _result(c, sprintf("its bucket policy allows any principal (\"*\") %s", [_why_public(st)])) if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_policy"})
	policy := terraform.after(c.rc, ["policy"])
	is_string(policy)
	json.is_valid(policy)
	some st in _statements(json.unmarshal(policy))
	is_object(st)
	object.get(st, "Effect", null) == "Allow"
	_allows_anyone(st)
	not _restricted(st)
}

_allows_anyone(st) if _anyone(object.get(st, "Principal", null))

# Allow with NotPrincipal grants every principal but the ones named: anyone (IAM User Guide,
# "AWS JSON policy elements: NotPrincipal").
_allows_anyone(st) if "NotPrincipal" in object.keys(st)

_why_public(st) := "without a condition" if {
	not is_object(object.get(st, "Condition", null))
} else := "under a condition that does not limit it to fixed accounts, organisations, networks or source ranges"

_statements(doc) := doc.Statement if {
	is_object(doc)
	is_array(doc.Statement)
} else := [doc.Statement] if {
	is_object(doc)
	is_object(doc.Statement)
} else := []

_anyone(p) if p == "*"

_anyone(p) if {
	is_object(p)
	object.get(p, "AWS", null) == "*"
}

_anyone(p) if {
	is_object(p)
	is_array(p.AWS)
	"*" in p.AWS
}

# Condition keys whose fixed value makes a statement non-public (lower case; AWS compares keys
# case-insensitively). aws:PrincipalOrgID and aws:PrincipalAccount restrict to a known
# organisation or account, as IAM Access Analyzer reads them.
_restricting_keys := {
	"aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner",
	"aws:sourceaccount", "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:userid",
	"aws:principalorgid", "aws:principalaccount",
}

# Operators that test a key against fixed values; a key absent from the request fails them.
_fixed_operators := {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}

_restricted(st) if {
	cond := object.get(st, "Condition", null)
	is_object(cond)
	some op, tests in cond
	is_string(op)
	lower(op) in _fixed_operators
	is_object(tests)
	some key, values in tests
	is_string(key)
	lower(key) in _restricting_keys
	_fixed_values(lower(key), values)
}

_values(v) := v if is_array(v)

else := [v]

_fixed_values(key, values) if {
	vs := _values(values)
	count(vs) > 0
	every v in vs {
		is_string(v)
		_fixed(key, v)
	}
}

_fixed(key, v) if {
	key != "aws:sourceip"
	key != "aws:userid"
	v != ""
	not contains(v, "*")
	not contains(v, "?")
}

_fixed(key, v) if {
	key == "aws:userid"
	v != ""
	not contains(v, "*")
	not contains(v, "?")
}

_fixed("aws:sourceip", v) if {
	contains(v, ".")
	not endswith(v, "/0")
}

_fixed("aws:sourceip", v) if {
	contains(v, ":")
	not endswith(v, "/0")
}

# A policy only known after apply or masked (or that is not valid JSON) cannot be judged. (On
# aws_s3_bucket itself, provider v4+, `policy` is a computed legacy attribute that every new
# bucket shows as unknown; the policy is then set by aws_s3_bucket_policy, judged here. A masked
# one is a value the plan knows and hides, on either.)
missing contains v if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_policy"})
	_hidden(c.rc, "policy", "aws_s3_bucket_policy")
	v := {
		"msg": sprintf("%s: the bucket policy is %s, so whether it makes the bucket public cannot be judged; write the policy document in the configuration (jsonencode or aws_iam_policy_document with known values) (%s)", [terraform.address(c.rc), terraform.unknown_why(c.rc, ["policy"]), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

missing contains v if {
	some c in _of_type({"aws_s3_bucket", "aws_s3_bucket_policy"})
	policy := terraform.after(c.rc, ["policy"])
	is_string(policy)
	policy != ""
	not json.is_valid(policy)
	v := {
		"msg": sprintf("%s: the bucket policy in the plan is not valid JSON, so whether it makes the bucket public cannot be judged (%s)", [terraform.address(c.rc), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}
