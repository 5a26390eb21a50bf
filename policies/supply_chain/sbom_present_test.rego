package affidavit.rules.supply_chain.sbom_present_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.sbom_present as rule

# A CycloneDX SBOM as the collector normalises `syft <image>@<digest> -o cyclonedx-json`.
_sbom(n, digest) := testing.record("sbom", n, {
	"format": "cyclonedx-json",
	"format_version": "1.5",
	"tool": {"name": "syft", "version": "1.4.1"},
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": digest},
	"effective_at": "2026-11-22T09:14:03Z",
	"data": {
		"spec": "cyclonedx",
		"spec_version": "1.5",
		"serial_number": "urn:uuid:2c1f0c4e-3b59-4d8e-9f0a-6f1c2b7d8e90",
		"tools": ["syft 1.4.1"],
		"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "purl": "pkg:oci/shop@sha256%3A3f1d?repository_url=ghcr.io/acme/shop", "digest": digest},
		"components": [{
			"bom_ref": "pkg:pypi/flask@3.0.3",
			"name": "flask",
			"version": "3.0.3",
			"purl": "pkg:pypi/flask@3.0.3",
			"type": "library",
			"licenses": ["BSD-3-Clause"],
			"hashes": {},
		}],
		"dependencies": [],
		"completeness": {"components": 1, "without_version": 0, "without_purl": 0, "without_license": 0},
	},
})

_input(sboms) := testing.input_for({"sbom": sboms}, "prod", {})

test_passes_when_sbom_names_subject_digest if {
	inp := _input([_sbom("a", testing.digest)])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_digest_differs_only_in_case_and_form if {
	# An upper-case digest given as image@digest still names the same artefact.
	shouted := concat("", ["ghcr.io/acme/shop@", upper(testing.digest)])
	inp := _input([_sbom("a", shouted)])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_one_of_several_sboms_is_for_subject if {
	inp := _input([_sbom("a", testing.other_digest), _sbom("b", testing.digest)])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_sboms_describe_another_artefact if {
	denies := rule.deny with input as _input([_sbom("a", testing.other_digest)])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("no SBOM describes the promoted artefact %s: the SBOM(s) supplied describe %s", [testing.digest, testing.other_digest])
	d.evidence_ids == [testing.id("a")]
}

test_missing_when_sbom_names_no_digest if {
	r := json.patch(_sbom("a", null), [{"op": "replace", "path": "/data/subject/digest", "value": null}])
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "names no digest")
}

test_missing_when_no_sbom if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input([_sbom("a", testing.digest)]), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
