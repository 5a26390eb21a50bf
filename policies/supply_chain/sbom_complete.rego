# METADATA
# title: The SBOM is complete enough
# description: In the SBOM of the promoted artefact, the shares of components that carry a version, a package URL and a licence reach the thresholds of rule data, so the SBOM can actually be matched against vulnerability and licence data.
# custom:
#   id: supply_chain.sbom_complete
#   severity: medium
#   requires: [sbom]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8, A.5.9]
#   remediation: Generate the SBOM from the built image with a cataloguer that records versions, purls and licences (e.g. syft, cdxgen), and fix packaging metadata of in-house components that lack them.
package affidavit.rules.supply_chain.sbom_complete

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_sboms := subject.for_target("sbom")

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"sbom_min_share": "object"})

missing contains subject.no_record_msg("sbom", "completeness") if {
	subject.has_target
	count(_sboms) == 0
}

# field name in the rule data -> (completeness counter, what it means)
_metrics := {
	"version": ["without_version", "a version"],
	"purl": ["without_purl", "a package URL (purl)"],
	"license": ["without_license", "a licence"],
}

# stats(r): number of components and, per metric, how many lack it. Taken from the collector's
# completeness summary when it has one, else counted from the components.
_stats(r) := s if {
	c := evidence.data_of(r).completeness
	is_number(c.components)
	every k in ["without_version", "without_purl", "without_license"] {
		is_number(c[k])
	}
	s := c
} else := {
	"components": count(comps),
	"without_version": count([c | some c in comps; not evidence.text(object.get(c, "version", null))]),
	"without_purl": count([c | some c in comps; not evidence.text(object.get(c, "purl", null))]),
	"without_license": count([c | some c in comps; count(evidence.array_at(c, "licenses")) == 0]),
} if {
	comps := [c | some c in evidence.array_at(evidence.data_of(r), "components"); is_object(c)]
}

deny contains v if {
	some r in _sboms
	_stats(r).components == 0
	v := {
		"msg": sprintf("SBOM %s lists no components, so it cannot show what the artefact contains", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}

deny contains v if {
	shares := params.mapping("supply_chain", "sbom_min_share")
	some r in _sboms
	s := _stats(r)
	s.components > 0
	some key, metric in _metrics
	minimum := shares[key]
	is_number(minimum)
	share := (s.components - s[metric[0]]) / s.components
	share < minimum
	v := {
		"msg": sprintf("SBOM %s: %v%% of its %d components have %s, below the %v%% minimum (supply_chain.sbom_min_share.%s)", [evidence.label(r), round(share * 1000) / 10, s.components, metric[1], round(minimum * 1000) / 10, key]),
		"evidence_ids": evidence.id_list(r),
		"details": {"metric": key, "share": round(share * 1000) / 1000, "minimum": minimum, "components": s.components, "lacking": s[metric[0]]},
	}
}
