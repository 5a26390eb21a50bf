package affidavit.rules.supply_chain.sbom_complete_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.sbom_complete as rule

_params := {"supply_chain": {"sbom_min_share": {"version": 0.95, "purl": 0.9, "license": 0.8}}}

_component(name, version, purl, licenses) := {
	"bom_ref": purl,
	"name": name,
	"version": version,
	"purl": purl,
	"type": "library",
	"licenses": licenses,
	"hashes": {},
}

# Ten components of a small Python service image.
_good := [
	_component("flask", "3.0.3", "pkg:pypi/flask@3.0.3", ["BSD-3-Clause"]),
	_component("werkzeug", "3.0.4", "pkg:pypi/werkzeug@3.0.4", ["BSD-3-Clause"]),
	_component("jinja2", "3.1.4", "pkg:pypi/jinja2@3.1.4", ["BSD-3-Clause"]),
	_component("click", "8.1.7", "pkg:pypi/click@8.1.7", ["BSD-3-Clause"]),
	_component("itsdangerous", "2.2.0", "pkg:pypi/itsdangerous@2.2.0", ["BSD-3-Clause"]),
	_component("markupsafe", "2.1.5", "pkg:pypi/markupsafe@2.1.5", ["BSD-3-Clause"]),
	_component("gunicorn", "23.0.0", "pkg:pypi/gunicorn@23.0.0", ["MIT"]),
	_component("requests", "2.32.3", "pkg:pypi/requests@2.32.3", ["Apache-2.0"]),
	_component("libssl3", "3.0.15-1~deb12u1", "pkg:deb/debian/libssl3@3.0.15-1~deb12u1", ["Apache-2.0"]),
	_component("shop", "1.8.0", "pkg:pypi/shop@1.8.0", ["LicenseRef-Proprietary"]),
]

_sbom(n, components, completeness) := testing.record("sbom", n, {
	"format": "cyclonedx-json",
	"format_version": "1.5",
	"tool": {"name": "syft", "version": "1.4.1"},
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": testing.digest},
	"data": {
		"spec": "cyclonedx",
		"spec_version": "1.5",
		"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "purl": null, "digest": testing.digest},
		"components": components,
		"dependencies": [],
		"completeness": completeness,
	},
})

_input(sboms) := testing.input_for({"sbom": sboms}, "prod", _params)

test_passes_when_every_share_meets_its_minimum if {
	inp := _input([_sbom("a", _good, {"components": 10, "without_version": 0, "without_purl": 0, "without_license": 0})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_licences_are_missing if {
	# 3 of 10 components without licence: 70% < 80%.
	comps := array.concat(array.slice(_good, 0, 7), [object.union(c, {"licenses": []}) | some c in array.slice(_good, 7, 10)])
	denies := rule.deny with input as _input([_sbom("a", comps, {"components": 10, "without_version": 0, "without_purl": 0, "without_license": 3})])
	count(denies) == 1
	some d in denies
	d.msg == "SBOM artefacts/sbom-a.json: 70% of its 10 components have a licence, below the 80% minimum (supply_chain.sbom_min_share.license)"
	d.details.lacking == 3
}

test_counts_components_when_summary_absent if {
	# No completeness summary: 1 of 10 lacks a purl and a version -> version 90% < 95%, purl 90% ok.
	comps := array.concat(array.slice(_good, 0, 9), [_component("vendored-lib", null, null, ["MIT"])])
	denies := rule.deny with input as _input([_sbom("a", comps, null)])
	count(denies) == 1
	some d in denies
	d.details.metric == "version"
	d.details.share == 0.9
}

test_fires_when_sbom_lists_no_components if {
	denies := rule.deny with input as _input([_sbom("a", [], {"components": 0, "without_version": 0, "without_purl": 0, "without_license": 0})])
	count(denies) == 1
	some d in denies
	contains(d.msg, "lists no components")
}

test_thresholds_come_from_rule_data if {
	comps := array.concat(array.slice(_good, 0, 7), [object.union(c, {"licenses": []}) | some c in array.slice(_good, 7, 10)])
	p := {"supply_chain": {"sbom_min_share": {"version": 0.9, "purl": 0.8, "license": 0.6}}}
	count(rule.deny) == 0 with input as testing.input_for({"sbom": [_sbom("a", comps, null)]}, "staging", p)
}

test_missing_when_no_sbom_for_subject if {
	r := object.union(_sbom("a", _good, null), {"subject": {"digest": testing.other_digest}, "data": {"subject": {"digest": testing.other_digest}}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_sbom if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"sbom": [_sbom("a", _good, null)]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.sbom_min_share"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_sbom("a", _good, null)]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}
