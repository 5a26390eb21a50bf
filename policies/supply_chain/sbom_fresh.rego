# METADATA
# title: The SBOM was produced for this build
# description: The SBOM of the promoted artefact is dated no longer ago than rule data allows before this run and, where provenance says when the artefact was built, not before that build; an old SBOM reused from an earlier build may not list what this one contains.
# custom:
#   id: supply_chain.sbom_fresh
#   severity: medium
#   requires: [sbom]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32]
#   remediation: Generate the SBOM in the same pipeline run that builds the image, from the built image by digest, and pass that SBOM (with its creation timestamp) to the gate.
#   effective_on: 2026-10-01
package affidavit.rules.supply_chain.sbom_fresh

import data.affidavit.lib.dates
import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_sboms := subject.for_target("sbom")

_dated := [r | some r in _sboms; dates.valid(r.effective_at)]

# When the artefact was built, per verified or unverified provenance naming it (the latest).
_built := max({t |
	some p in subject.for_target("provenance")
	dates.valid(p.effective_at)
	t := dates.ns(p.effective_at)
})

_built_text := time.format(_built)

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"sbom_max_age_hours": "number", "sbom_build_skew_minutes": "number"})

missing contains subject.no_record_msg("sbom", "freshness") if {
	subject.has_target
	count(_sboms) == 0
}

# Reasons an SBOM is not from this build (empty: it is).
_stale(r) := {sprintf("it is dated %s, %v hours before this run; at most %v hours are allowed (supply_chain.sbom_max_age_hours)", [r.effective_at, dates.round1(age), max_hours]) |
	max_hours := params.number("supply_chain", "sbom_max_age_hours")
	age := dates.age_hours(r.effective_at)
	age > max_hours
} | {sprintf("it is dated %s, before the artefact was built at %s (provenance)", [r.effective_at, _built_text]) |
	skew := params.number("supply_chain", "sbom_build_skew_minutes")
	dates.ns(r.effective_at) < _built - ((skew * 60) * 1000000000)
}

_fresh := [r | some r in _dated; count(_stale(r)) == 0]

deny contains v if {
	count(_fresh) == 0
	some r in _dated
	reasons := _stale(r)
	count(reasons) > 0
	v := {
		"msg": sprintf("SBOM %s was not produced for this build: %s", [evidence.label(r), concat("; ", sort(reasons))]),
		"evidence_ids": evidence.id_list(r),
		"details": {"effective_at": r.effective_at},
	}
}

warn contains v if {
	count(_fresh) > 0
	some r in _dated
	reasons := _stale(r)
	count(reasons) > 0
	v := {
		"msg": sprintf("an older SBOM %s was also supplied: %s", [evidence.label(r), concat("; ", sort(reasons))]),
		"evidence_ids": evidence.id_list(r),
	}
}

warn contains v if {
	skew := params.number("supply_chain", "sbom_build_skew_minutes")
	some r in _dated
	dates.age_hours(r.effective_at) < 0 - (skew / 60)
	v := {
		"msg": sprintf("SBOM %s is dated %s, after this run's time %s: check the clocks of the build and the gate", [evidence.label(r), r.effective_at, input.context.now]),
		"evidence_ids": evidence.id_list(r),
	}
}

missing contains v if {
	count(_fresh) == 0
	some r in _sboms
	not dates.valid(object.get(r, "effective_at", null)) # a value on OPA too (docs/engines.md)
	v := {
		"msg": sprintf("SBOM %s does not say when it was produced (no valid timestamp), so it cannot be shown to be from this build", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}
