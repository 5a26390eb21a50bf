package affidavit.rules.supply_chain.sbom_fresh_test

import data.affidavit.lib.testing
import data.affidavit.rules.supply_chain.sbom_fresh as rule

_params := {"supply_chain": {"sbom_max_age_hours": 72, "sbom_build_skew_minutes": 60}}

_sbom(n, effective_at) := testing.record("sbom", n, {
	"format": "cyclonedx-json",
	"format_version": "1.5",
	"tool": {"name": "syft", "version": "1.4.1"},
	"subject": {"name": "ghcr.io/acme/shop", "version": "1.8.0", "digest": testing.digest},
	"effective_at": effective_at,
	"data": {"spec": "cyclonedx", "spec_version": "1.5", "components": []},
})

# Provenance of the build; the collector dates it by the build's start.
_provenance(effective_at) := testing.record("provenance", "p", {
	"format": "in-toto-slsa",
	"subject": {"name": "ghcr.io/acme/shop", "version": null, "digest": testing.digest},
	"effective_at": effective_at,
	"data": {"predicate_type": "https://slsa.dev/provenance/v1", "subjects": [{"name": "ghcr.io/acme/shop", "digest": testing.digest}], "verified": true},
})

_input(ev) := testing.input_for(ev, "prod", _params)

test_passes_when_sbom_is_recent if {
	inp := _input({"sbom": [_sbom("a", "2026-11-22T09:14:03Z")]})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_passes_when_sbom_made_during_the_build if {
	inp := _input({"sbom": [_sbom("a", "2026-11-22T09:14:03Z")], "provenance": [_provenance("2026-11-22T09:05:00Z")]})
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_when_sbom_is_older_than_max_age if {
	denies := rule.deny with input as _input({"sbom": [_sbom("a", "2026-11-10T12:00:00Z")]})
	count(denies) == 1
	some d in denies
	d.msg == "SBOM artefacts/sbom-a.json was not produced for this build: it is dated 2026-11-10T12:00:00Z, 288 hours before this run; at most 72 hours are allowed (supply_chain.sbom_max_age_hours)"
	d.evidence_ids == [testing.id("a")]
}

test_fires_when_sbom_predates_the_build if {
	denies := rule.deny with input as _input({"sbom": [_sbom("a", "2026-11-21T20:00:00Z")], "provenance": [_provenance("2026-11-22T09:05:00Z")]})
	count(denies) == 1
	some d in denies
	endswith(d.msg, "it is dated 2026-11-21T20:00:00Z, before the artefact was built at 2026-11-22T09:05:00Z (provenance)")
}

test_warns_about_an_extra_stale_sbom if {
	inp := _input({"sbom": [_sbom("a", "2026-11-01T00:00:00Z"), _sbom("b", "2026-11-22T09:14:03Z")]})
	count(rule.deny) == 0 with input as inp
	warns := rule.warn with input as inp
	count(warns) == 1
	some w in warns
	startswith(w.msg, "an older SBOM artefacts/sbom-a.json was also supplied")
}

test_warns_when_sbom_is_from_the_future if {
	inp := _input({"sbom": [_sbom("a", "2026-11-22T18:00:00Z")]})
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_sbom_is_undated if {
	inp := _input({"sbom": [_sbom("a", null)]})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_sbom if {
	inp := _input({})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"sbom": [_sbom("a", "2026-11-22T09:14:03Z")]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"supply_chain.sbom_max_age_hours", "supply_chain.sbom_build_skew_minutes"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(_input({"sbom": [_sbom("a", "2026-11-22T09:14:03Z")]}), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}
