# METADATA
# title: Provider versions are pinned
# description: Every provider the Terraform configuration uses has a required_providers version constraint with an upper bound (~>, <, or an exact version), so a new major provider release cannot change infrastructure unreviewed.
# custom:
#   id: iac.providers_pinned
#   severity: medium
#   requires: [terraform-config]
#   controls:
#     soc2: [CC8.1, CC7.1]
#     iso27001-2022: [A.8.9]
#   remediation: Declare each provider in terraform { required_providers { ... } } with a pessimistic constraint such as version = "~> 5.70", and commit .terraform.lock.hcl.
#   effective_on: 2026-10-01
package affidavit.rules.iac.providers_pinned

import data.affidavit.lib.evidence

_configs := evidence.records("terraform-config")

missing contains v if {
	count(_configs) == 0
	v := {
		"msg": "no Terraform configuration was supplied: pass the root module's .tf files (the directory) to the gate so its provider constraints can be checked",
		"evidence_ids": [],
	}
}

missing contains v if {
	some r in _configs
	count(evidence.array_at(evidence.data_of(r), "providers")) == 0
	count(evidence.array_at(evidence.data_of(r), "resources")) == 0
	v := {
		"msg": sprintf("%s declares no providers and no resources, so provider pinning cannot be judged", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}

# A constraint pins when one of its parts sets an upper bound.
_pins(constraint) if {
	some part in split(constraint, ",")
	p := trim_space(part)
	_upper_bound(p)
}

_upper_bound(p) if startswith(p, "~>")

_upper_bound(p) if startswith(p, "<")

_upper_bound(p) if regex.match(`^=?\s*v?[0-9]`, p)

_provider(p) := sprintf("%v (%v)", [object.get(p, "name", "?"), object.get(p, "source", "no source")])

deny contains v if {
	some r in _configs
	some p in evidence.array_at(evidence.data_of(r), "providers")
	is_object(p)
	not evidence.text(object.get(p, "version_constraint", null))
	v := {
		"msg": sprintf("%s: provider %s has no version constraint, so any version may be installed", [evidence.label(r), _provider(p)]),
		"evidence_ids": evidence.id_list(r),
	}
}

deny contains v if {
	some r in _configs
	some p in evidence.array_at(evidence.data_of(r), "providers")
	is_object(p)
	constraint := p.version_constraint
	evidence.text(constraint)
	not _pins(constraint)
	v := {
		"msg": sprintf("%s: provider %s has version constraint %q with no upper bound; use ~> or an exact version", [evidence.label(r), _provider(p), constraint]),
		"evidence_ids": evidence.id_list(r),
		"details": {"provider": object.get(p, "name", null), "version_constraint": constraint},
	}
}

# Resources whose provider has no required_providers entry at all.
deny contains v if {
	some r in _configs
	d := evidence.data_of(r)
	declared := {lower(p.name) | some p in evidence.array_at(d, "providers"); is_object(p); is_string(p.name)}
	used := {split(res.type, "_")[0] | some res in evidence.array_at(d, "resources"); is_object(res); is_string(res.type)}
	some name in used - declared
	v := {
		"msg": sprintf("%s: resources of provider %s (%s) are used but the provider is not in required_providers, so any version may be installed", [evidence.label(r), name, concat(", ", sort([res.address | some res in evidence.array_at(d, "resources"); is_object(res); is_string(res.type); split(res.type, "_")[0] == name; is_string(res.address)]))]),
		"evidence_ids": evidence.id_list(r),
	}
}
