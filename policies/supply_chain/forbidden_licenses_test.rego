package affidavit.rules.supply_chain.forbidden_licenses_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.forbidden_licenses as rule

_params := {"supply_chain": {
	"forbidden_licenses": ["AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"],
	"unidentified_licenses": "insufficient_evidence",
	"accepted_license_names": ["BSD License"],
}}

# A component as the collector writes it: `license_choices` is what its licences allow
# (kinds.licenses.reading), `license_unidentified` the entries that are no SPDX id or expression.
_component(name, version, licenses, choices, unidentified) := {
	"bom_ref": sprintf("pkg:npm/%s@%s", [name, version]),
	"name": name,
	"version": version,
	"purl": sprintf("pkg:npm/%s@%s", [name, version]),
	"type": "library",
	"licenses": licenses,
	"license_choices": choices,
	"license_unidentified": unidentified,
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
	_component("express", "4.21.1", ["MIT"], [["MIT"]], []),
	# A dual-licensed package: MIT may be chosen.
	_component("jszip", "3.10.1", ["(MIT OR GPL-3.0-or-later)"], [["GPL-3.0-or-later"], ["MIT"]], []),
	_component("dompurify", "3.1.7", ["MPL-2.0 OR Apache-2.0"], [["Apache-2.0"], ["MPL-2.0"]], []),
	# A name legal accepted (supply_chain.accepted_license_names).
	_component("six", "1.16.0", ["BSD License"], [], ["BSD License"]),
	# No licence at all is sbom_complete's business.
	_component("left-pad", "1.3.0", [], [], []),
]

_input(components) := testing.input_for({"sbom": [_sbom(components)]}, "prod", _params)

_in(components, env, p) := testing.input_for({"sbom": [_sbom(components)]}, env, p)

test_passes_when_no_licence_is_forbidden if {
	inp := _input(_clean)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_for_a_forbidden_licence if {
	c := _component("ghostscript-wasm", "10.4.0", ["AGPL-3.0-only"], [["AGPL-3.0-only"]], [])
	denies := rule.deny with input as _input(array.concat(_clean, [c]))
	count(denies) == 1
	some d in denies
	d.msg == "component ghostscript-wasm 10.4.0 (pkg:npm/ghostscript-wasm@10.4.0) in SBOM artefacts/sbom-a.json is licensed under AGPL-3.0-only, and every choice it allows includes a licence supply_chain.forbidden_licenses forbids"
	d.evidence_ids == [testing.id("a")]
}

test_matches_licence_ids_case_insensitively if {
	count(rule.deny) == 1 with input as _input([_component("mongo-tools", "1.0.0", ["sspl-1.0"], [["sspl-1.0"]], [])])
}

test_fires_when_every_choice_is_forbidden if {
	c := _component("x", "1.0.0", ["AGPL-3.0-only OR SSPL-1.0"], [["AGPL-3.0-only"], ["SSPL-1.0"]], [])
	count(rule.deny) == 1 with input as _input([c])
}

test_passes_when_one_choice_is_allowed if {
	c := _component("x", "1.0.0", ["AGPL-3.0-or-later OR MIT"], [["AGPL-3.0-or-later"], ["MIT"]], [])
	count(rule.deny) == 0 with input as _input([c])
}

test_fires_when_a_conjunction_includes_a_forbidden_licence if {
	c := _component("x", "1.0.0", ["MIT AND AGPL-3.0-only"], [["AGPL-3.0-only", "MIT"]], [])
	count(rule.deny) == 1 with input as _input([c])
}

test_deprecated_ids_in_rule_data_mean_their_current_ones if {
	p := object.union(_params, {"supply_chain": {"forbidden_licenses": ["GPL-3.0", "LGPL-2.1+"]}})
	only := _component("a", "1", ["GPL-3.0"], [["GPL-3.0-only"]], [])
	later := _component("b", "1", ["LGPL-2.1+"], [["LGPL-2.1-or-later"]], [])
	count(rule.deny) == 2 with input as _in([only, later], "prod", p)
}

test_missing_for_a_licence_name_in_prod if {
	c := _component("agpl-lib", "2.0.0", ["GNU Affero General Public License v3"], [], ["GNU Affero General Public License v3"])
	inp := _input([c])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "agpl-lib: GNU Affero General Public License v3")
}

test_warn_for_a_licence_name_honoured_outside_prod_only if {
	c := _component("agpl-lib", "2.0.0", ["Some Licence"], [], ["Some Licence"])
	p := object.union(_params, {"supply_chain": {"unidentified_licenses": "warn"}})
	count(rule.warn) == 1 with input as _in([c], "staging", p)
	count(rule.missing) == 0 with input as _in([c], "staging", p)
	count(rule.missing) == 1 with input as _in([c], "prod", p)
}

test_fail_for_a_licence_name_when_rule_data_says_so if {
	many := [_component(sprintf("n%d", [i]), "1", ["Custom"], [], ["Custom"]) | some i in numbers.range(1, 7)]
	p := object.union(_params, {"supply_chain": {"unidentified_licenses": "fail"}})
	denies := rule.deny with input as _in(many, "prod", p)
	count(denies) == 1
	some d in denies
	contains(d.msg, "7 component(s)")
	contains(d.msg, "and 2 more")
}

test_missing_when_unidentified_action_is_unknown if {
	p := object.union(_params, {"supply_chain": {"unidentified_licenses": "ignore"}})
	missing := rule.missing with input as _in(_clean, "prod", p)
	some m in missing
	startswith(m.msg, "rule data supply_chain.unidentified_licenses is ignore")
}

test_missing_when_component_lacks_choices if {
	c := json.remove(_component("x", "1.0.0", ["AGPL-3.0-only"], [], []), ["license_choices"])
	inp := _input([c])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	contains(m.msg, "malformed evidence")
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
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.forbidden_licenses", "supply_chain.unidentified_licenses"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input(_clean), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

# Trivy --scanners license on the image (Results[].Licenses[], aquasecurity/trivy
# integration/testdata/license-cyclonedx.json.golden).
_trivy(findings) := testing.record("vulnerability-scan", "t", {
	"format": "trivy-json",
	"tool": {"name": "trivy", "version": "0.70.0"},
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"data": {"findings": [], "license_findings": findings},
})

test_fires_for_a_forbidden_licence_trivy_found if {
	f := {"package": "ghostscript", "name": "AGPL-3.0", "license_choices": [["AGPL-3.0-only"]], "license_unidentified": [], "category": "forbidden", "severity": "CRITICAL", "file": null, "target": "OS Packages"}
	inp := testing.input_for({"sbom": [_sbom(_clean)], "vulnerability-scan": [_trivy([f])]}, "prod", _params)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	startswith(d.msg, "Trivy found ghostscript licensed under AGPL-3.0 in OS Packages")
}

test_trivy_licence_of_another_image_is_not_judged_here if {
	f := {"package": "ghostscript", "name": "AGPL-3.0", "license_choices": [["AGPL-3.0-only"]], "license_unidentified": []}
	other := object.union(_trivy([f]), {"subject": {"digest": testing.other_digest}})
	count(rule.deny) == 0 with input as testing.input_for({"sbom": [_sbom(_clean)], "vulnerability-scan": [other]}, "prod", _params)
}
