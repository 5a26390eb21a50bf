package affidavit.rules.iac.state_backend_secure_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.state_backend_secure as rule

_params := {"iac": {"secure_backends": ["gcs", "azurerm", "remote", "cloud"]}}

# The root module of the shop's infrastructure, as the collector reads it with python-hcl2.
_config(backend) := testing.record("terraform-config", "t", {
	"format": "terraform-hcl",
	"tool": null,
	"source": "infra/prod",
	"data": {
		"backend": backend,
		"required_version": "~> 1.9",
		"providers": [{"name": "aws", "source": "hashicorp/aws", "version_constraint": "~> 5.70"}],
		"resources": [{"address": "aws_s3_bucket.assets", "type": "aws_s3_bucket", "name": "assets", "arguments": {"bucket": "acme-shop-assets"}}],
		"modules": [],
	},
})

_s3(config) := {"type": "s3", "config": object.union(
	{"bucket": "acme-terraform-state", "key": "shop/prod.tfstate", "region": "eu-west-1"},
	config,
)}

_input(backend) := testing.input_for({"terraform-config": [_config(backend)]}, "prod", _params)

test_passes_for_encrypted_s3_with_lockfile if {
	inp := _input(_s3({"encrypt": true, "use_lockfile": true}))
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_for_encrypted_s3_with_dynamodb_lock if {
	count(rule.deny) == 0 with input as _input(_s3({"encrypt": "true", "dynamodb_table": "terraform-locks"}))
}

test_passes_for_a_secure_backend_type if {
	count(rule.deny) == 0 with input as _input({"type": "gcs", "config": {"bucket": "acme-tf-state", "prefix": "shop"}})
}

test_fires_when_s3_state_is_not_encrypted if {
	denies := rule.deny with input as _input(_s3({"use_lockfile": true}))
	denies == {{
		"msg": "infra/prod: the s3 backend does not encrypt state (encrypt = null); set encrypt = true",
		"evidence_ids": [testing.id("t")],
	}}
}

test_fires_when_s3_state_is_not_locked if {
	denies := rule.deny with input as _input(_s3({"encrypt": true}))
	count(denies) == 1
	some d in denies
	contains(d.msg, "does not lock state")
}

test_fires_for_local_state if {
	denies := rule.deny with input as _input(null)
	count(denies) == 1
	some d in denies
	d.msg == "no backend is configured in infra/prod: Terraform keeps state in a local file, unencrypted and unlocked"
}

test_fires_for_backend_not_known_to_be_secure if {
	denies := rule.deny with input as _input({"type": "local", "config": {"path": "terraform.tfstate"}})
	count(denies) == 1
	some d in denies
	contains(d.msg, "uses backend \"local\"")
}

test_missing_for_partial_backend_configuration if {
	inp := _input({"type": "s3", "config": {}})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_configuration if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"terraform-config": [_config(_s3({"encrypt": true, "use_lockfile": true}))]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"iac.secure_backends"}
}

test_missing_when_setting_resolved_at_init if {
	inp := _input(_s3({"encrypt": "${var.state_encrypt}", "use_lockfile": true}))
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "encrypt = ${var.state_encrypt} is only resolved at init")
}
