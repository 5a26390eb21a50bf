package affidavit.rules.supply_chain.same_subject_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.same_subject as rule

_sbom(n, digest) := testing.record("sbom", n, {
	"format": "cyclonedx-json",
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": digest},
	"data": {"spec": "cyclonedx", "spec_version": "1.5", "subject": {"name": "ghcr.io/acme/shop", "digest": digest}, "components": []},
})

_scan(n, digest) := testing.record("vulnerability-scan", n, {
	"format": "trivy-json",
	"tool": {"name": "trivy", "version": "0.56.2"},
	"subject": {"name": "ghcr.io/acme/shop:1.8.0", "version": null, "digest": digest},
	"data": {"findings": [], "targets": ["ghcr.io/acme/shop:1.8.0 (debian 12.7)"]},
})

# Provenance from the generic SLSA generator names every file it attests.
_provenance(n, digests) := testing.record("provenance", n, {
	"format": "in-toto-slsa",
	"data": {
		"predicate_type": "https://slsa.dev/provenance/v1",
		"subjects": [{"name": sprintf("shop-%d", [i]), "digest": d} | some i, d in digests],
		"verified": true,
	},
})

# Branch protection speaks of a repository, not an artefact: it names no digest.
_protection := testing.record("branch-protection", "f", {"data": {"repository": "acme/shop", "branch": "main", "protected": true}})

test_passes_when_all_records_name_the_subject if {
	inp := testing.input_for(
		{"sbom": [_sbom("a", testing.digest)], "vulnerability-scan": [_scan("b", testing.digest)], "branch-protection": [_protection]},
		"prod", {},
	)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_provenance_lists_subject_among_others if {
	inp := testing.input_for({"provenance": [_provenance("c", [testing.other_digest, testing.digest])]}, "prod", {})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_each_record_about_another_artefact if {
	inp := testing.input_for(
		{"sbom": [_sbom("a", testing.digest)], "vulnerability-scan": [_scan("b", testing.other_digest)], "provenance": [_provenance("c", [testing.other_digest])]},
		"prod", {},
	)
	denies := rule.deny with input as inp
	count(denies) == 2
	{d.evidence_ids[0] | some d in denies} == {testing.id("b"), testing.id("c")}
	some d in denies
	d.msg == sprintf("the vulnerability-scan record artefacts/vulnerability-scan-b.json is about %s, not the promoted artefact %s", [testing.other_digest, testing.digest])
}

test_fires_only_when_no_digest_of_the_record_is_the_subject if {
	r := json.patch(_sbom("a", testing.digest), [{"op": "replace", "path": "/data/subject/digest", "value": testing.other_digest}])
	count(rule.deny) == 0 with input as testing.input_for({"sbom": [r]}, "prod", {})
	# the record names both digests, one of them the promoted one: it is about the subject
	r2 := json.patch(r, [{"op": "replace", "path": "/subject/digest", "value": testing.other_digest}])
	count(rule.deny) == 1 with input as testing.input_for({"sbom": [r2]}, "prod", {})
}

test_missing_when_no_record_names_a_digest if {
	inp := testing.input_for({"branch-protection": [_protection]}, "prod", {})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_evidence if {
	inp := testing.input_for({}, "prod", {})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(testing.input_for({"sbom": [_sbom("a", testing.digest)]}, "prod", {}), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}
