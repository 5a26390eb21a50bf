package affidavit.rules.iac.providers_pinned_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.providers_pinned as rule

_config(providers, resources) := testing.record("terraform-config", "t", {
	"format": "terraform-hcl",
	"tool": null,
	"source": "infra/prod",
	"data": {
		"backend": {"type": "s3", "config": {"bucket": "acme-terraform-state", "key": "shop/prod.tfstate", "encrypt": true, "use_lockfile": true}},
		"required_version": "~> 1.9",
		"providers": providers,
		"resources": resources,
		"modules": [],
	},
})

_aws(constraint) := {"name": "aws", "source": "hashicorp/aws", "version_constraint": constraint}

_bucket := {"address": "aws_s3_bucket.assets", "type": "aws_s3_bucket", "name": "assets", "arguments": {"bucket": "acme-shop-assets"}}

_random := {"address": "random_id.suffix", "type": "random_id", "name": "suffix", "arguments": {"byte_length": 4}}

_input(providers, resources) := testing.input_for({"terraform-config": [_config(providers, resources)]}, "prod", {})

test_passes_for_pessimistic_and_bounded_constraints if {
	providers := [_aws("~> 5.70"), {"name": "random", "source": "hashicorp/random", "version_constraint": ">= 3.5, < 4.0"}]
	inp := _input(providers, [_bucket, _random])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_for_exact_version if {
	count(rule.deny) == 0 with input as _input([_aws("= 5.72.1")], [_bucket])
	count(rule.deny) == 0 with input as _input([_aws("5.72.1")], [_bucket])
}

test_fires_for_lower_bound_only if {
	denies := rule.deny with input as _input([_aws(">= 4.0")], [_bucket])
	denies == {{
		"msg": "infra/prod: provider aws (hashicorp/aws) has version constraint \">= 4.0\" with no upper bound; use ~> or an exact version",
		"evidence_ids": [testing.id("t")],
		"details": {"provider": "aws", "version_constraint": ">= 4.0"},
	}}
}

test_fires_for_missing_constraint if {
	denies := rule.deny with input as _input([_aws(null)], [_bucket])
	count(denies) == 1
	some d in denies
	d.msg == "infra/prod: provider aws (hashicorp/aws) has no version constraint, so any version may be installed"
}

test_fires_for_provider_not_declared if {
	denies := rule.deny with input as _input([_aws("~> 5.70")], [_bucket, _random])
	count(denies) == 1
	some d in denies
	d.msg == "infra/prod: resources of provider random (random_id.suffix) are used but the provider is not in required_providers, so any version may be installed"
}

test_missing_when_configuration_is_empty if {
	inp := _input([], [])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_configuration if {
	inp := testing.input_for({}, "prod", {})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
