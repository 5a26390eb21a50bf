# METADATA
# title: Storage and databases are encrypted at rest
# description: Every S3 bucket in the plan has a server-side encryption configuration and every storage or database resource listed in rule data has its encryption attribute set to true; values Terraform only knows after apply, or masks as sensitive, are reported as insufficient evidence, never as pass or fail.
# custom:
#   id: iac.encryption_at_rest
#   severity: high
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC6.1, CC7.1]
#     iso27001-2022: [A.8.24, A.8.9]
#   remediation: Set the encryption attribute (storage_encrypted, encrypted, at_rest_encryption_enabled, ...) to true, ideally with a customer-managed KMS key; for S3 declare an aws_s3_bucket_server_side_encryption_configuration whose bucket refers to aws_s3_bucket.<name>.bucket (known at plan time, unlike .id).
package affidavit.rules.iac.encryption_at_rest

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in terraform.incomplete

missing contains m if some m in params.problems("iac", {"encryption_attributes": "object"})

# --- resources with one boolean encryption attribute -------------------------------------

_judged := [{"c": c, "attr": attr} |
	attrs := params.mapping("iac", "encryption_attributes")
	some c in terraform.planned
	attr := attrs[c.rc.type]
	is_string(attr)
	not _aurora_instance(c.rc)
]

# An Aurora instance is encrypted by its cluster (aws_rds_cluster), not by itself.
_aurora_instance(rc) if {
	rc.type == "aws_db_instance"
	engine := terraform.after(rc, ["engine"])
	is_string(engine)
	startswith(engine, "aurora")
}

missing contains v if {
	some j in _judged
	terraform.unknown(j.c.rc, [j.attr])
	v := {
		"msg": sprintf("%s: %s is %s, so encryption at rest cannot be judged from the plan; set it explicitly to true (%s)", [terraform.address(j.c.rc), j.attr, terraform.unknown_why(j.c.rc, [j.attr]), evidence.label(j.c.record)]),
		"evidence_ids": evidence.id_list(j.c.record),
	}
}

deny contains v if {
	some j in _judged
	not terraform.unknown(j.c.rc, [j.attr])
	value := terraform.after(j.c.rc, [j.attr])
	value != true
	v := {
		"msg": sprintf("%s is not encrypted at rest: %s = %s (%s)", [terraform.address(j.c.rc), j.attr, _shown(value), evidence.label(j.c.record)]),
		"evidence_ids": evidence.id_list(j.c.record),
		"details": {"address": terraform.address(j.c.rc), "attribute": j.attr, "value": value},
	}
}

_shown(null) := "not set (the default is unencrypted)"

_shown(v) := sprintf("%v", [v]) if v != null

# --- S3 buckets --------------------------------------------------------------------------

_buckets := [c | some c in _s3; c.rc.type == "aws_s3_bucket"]

_sse_configs := [c | some c in _s3; c.rc.type == "aws_s3_bucket_server_side_encryption_configuration"]

# Both picked from the plan in one pass (a plan holds thousands of changes).
_s3 := terraform.of_type({"aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration"})

_inline_sse(rc) if {
	sse := terraform.after(rc, ["server_side_encryption_configuration"])
	is_array(sse)
	count(sse) > 0
}

# The bucket names the separate encryption configurations name (computed once: plans can hold
# thousands of buckets).
_sse_buckets := {name |
	some s in _sse_configs
	name := terraform.after(s.rc, ["bucket"])
	is_string(name)
}

_linked_sse(b) if terraform.after(b.rc, ["bucket"]) in _sse_buckets

_encrypted(b) if _inline_sse(b.rc)

_encrypted(b) if _linked_sse(b)

# Why a bucket's encryption cannot be told from the plan (undefined when it can).
_undecidable(b) := sprintf("its server_side_encryption_configuration is %s", [terraform.unknown_why(b.rc, ["server_side_encryption_configuration"])]) if {
	terraform.unknown(b.rc, ["server_side_encryption_configuration"])
} else := sprintf("%s has a bucket the plan does not show (only known after apply, or marked sensitive), so it may or may not be this bucket's", [concat(", ", sort(_unlinked))]) if {
	count(_unlinked) > 0
} else := sprintf("its bucket name is %s", [terraform.unknown_why(b.rc, ["bucket"])]) if {
	count(_sse_configs) > 0
	not _named(b)
}

# _named(b) if its bucket name is known at plan time (a helper: OPA would make `not is_string(...)`
# of an undefined terraform.after undefined, not true; open-policy-agent/opa#1877).
_named(b) if is_string(terraform.after(b.rc, ["bucket"]))

_unlinked := {terraform.address(s.rc) | some s in _sse_configs; terraform.unknown(s.rc, ["bucket"])}

missing contains v if {
	some b in _buckets
	not _encrypted(b)
	why := _undecidable(b)
	v := {
		"msg": sprintf("%s: encryption at rest cannot be judged from the plan: %s; declare an aws_s3_bucket_server_side_encryption_configuration with bucket = aws_s3_bucket.%v.bucket (%s)", [terraform.address(b.rc), why, b.rc.name, evidence.label(b.record)]),
		"evidence_ids": evidence.id_list(b.record),
	}
}

deny contains v if {
	some b in _buckets
	not _encrypted(b)
	not _undecidable(b)
	v := {
		"msg": sprintf("%s (bucket %v) has no server-side encryption configuration: declare an aws_s3_bucket_server_side_encryption_configuration for it (%s)", [terraform.address(b.rc), terraform.after(b.rc, ["bucket"]), evidence.label(b.record)]),
		"evidence_ids": evidence.id_list(b.record),
		"details": {"address": terraform.address(b.rc)},
	}
}
