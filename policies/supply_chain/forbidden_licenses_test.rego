package affidavit.rules.supply_chain.forbidden_licenses_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.forbidden_licenses as rule

_params := {"supply_chain": {"forbidden_licenses": ["AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"]}}

_component(name, version, licenses) := {
	"bom_ref": sprintf("pkg:npm/%s@%s", [name, version]),
	"name": name,
	"version": version,
	"purl": sprintf("pkg:npm/%s@%s", [name, version]),
	"type": "library",
	"licenses": licenses,
	"hashes": {},
}

_sbom(components) := testing.record("sbom", "a", {
	"format": "cyclonedx-json",
	"format_version": "1.6",
	"tool": {"name": "cdxgen", "version": "10.10.0"},
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": testing.digest},
	"data": {"spec": "cyclonedx", "spec_version": "1.6", "components": components},
})

_clean := [
	_component("express", "4.21.1", ["MIT"]),
	_component("pg", "8.13.1", ["MIT"]),
	# A dual-licensed package: MIT may be chosen.
	_component("jszip", "3.10.1", ["(MIT OR GPL-3.0-or-later)"]),
	_component("dompurify", "3.1.7", ["MPL-2.0 OR Apache-2.0"]),
]

_input(components) := testing.input_for({"sbom": [_sbom(components)]}, "prod", _params)

test_passes_when_no_licence_is_forbidden if {
	inp := _input(_clean)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_a_forbidden_licence if {
	denies := rule.deny with input as _input(array.concat(_clean, [_component("ghostscript-wasm", "10.4.0", ["AGPL-3.0-only"])]))
	count(denies) == 1
	some d in denies
	d.msg == "component ghostscript-wasm 10.4.0 (pkg:npm/ghostscript-wasm@10.4.0) in SBOM artefacts/sbom-a.json is licensed under AGPL-3.0-only, which supply_chain.forbidden_licenses forbids"
	d.evidence_ids == [testing.id("a")]
}

test_matches_licence_ids_case_insensitively if {
	count(rule.deny) == 1 with input as _input([_component("mongo-tools", "1.0.0", ["sspl-1.0"])])
}

test_fires_when_every_choice_is_forbidden if {
	count(rule.deny) == 1 with input as _input([_component("x", "1.0.0", ["AGPL-3.0-only OR SSPL-1.0"])])
}

test_passes_when_one_choice_is_allowed if {
	count(rule.deny) == 0 with input as _input([_component("x", "1.0.0", ["AGPL-3.0-or-later OR MIT"])])
}

test_fires_when_a_conjunction_includes_a_forbidden_licence if {
	count(rule.deny) == 1 with input as _input([_component("x", "1.0.0", ["MIT AND AGPL-3.0-only"])])
}

test_missing_when_sbom_lists_no_components if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_sbom if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"sbom": [_sbom(_clean)]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.forbidden_licenses"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input(_clean), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}
