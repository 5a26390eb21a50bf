# METADATA
# title: No component under a forbidden licence
# description: No component in the SBOM of the promoted artefact is licensed only under a licence that rule data forbids (for example network-copyleft or non-commercial licences), so the release does not breach licence obligations.
# custom:
#   id: supply_chain.forbidden_licenses
#   severity: high
#   requires: [sbom]
#   controls:
#     soc2: [CC9.2]
#     iso27001-2022: [A.5.32]
#   remediation: Replace or remove each named component, or obtain a commercial licence and have legal record an exception (a waiver); fix wrong licence metadata upstream or with an SBOM override.
package affidavit.rules.supply_chain.forbidden_licenses

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_sboms := subject.for_target("sbom")

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"forbidden_licenses": "array"})

missing contains subject.no_record_msg("sbom", "licences") if {
	subject.has_target
	count(_sboms) == 0
}

missing contains v if {
	some r in _sboms
	count([c | some c in evidence.array_at(evidence.data_of(r), "components"); is_object(c)]) == 0
	v := {
		"msg": sprintf("SBOM %s lists no components, so it cannot show which licences the artefact carries", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}

# The SPDX ids of an expression, lower-cased, without operators and parentheses.
_ids(expr) := {t |
	some t in split(replace(replace(lower(expr), "(", " "), ")", " "), " ")
	t != ""
	not t in {"and", "or", "with"}
}

# A licence expression is forbidden when every choice it offers contains a forbidden id.
# Without parentheses "A OR B AND C" is split on OR (AND binds tighter); with parentheses any
# forbidden id counts (conservative: nested choices are not evaluated).
_forbidden(expr, forbidden) if {
	contains(expr, "(")
	some id in _ids(expr)
	id in forbidden
}

_forbidden(expr, forbidden) if {
	not contains(expr, "(")
	every choice in split(lower(expr), " or ") {
		some id in _ids(choice)
		id in forbidden
	}
}

deny contains v if {
	forbidden := params.lower_set("supply_chain", "forbidden_licenses")
	some r in _sboms
	some c in evidence.array_at(evidence.data_of(r), "components")
	is_object(c)
	some expr in evidence.array_at(c, "licenses")
	is_string(expr)
	_forbidden(expr, forbidden)
	v := {
		"msg": sprintf("component %v %v (%v) in SBOM %s is licensed under %s, which supply_chain.forbidden_licenses forbids", [object.get(c, "name", "(unnamed)"), object.get(c, "version", "(no version)"), object.get(c, "purl", "no purl"), evidence.label(r), expr]),
		"evidence_ids": evidence.id_list(r),
		"details": {"component": object.get(c, "name", null), "purl": object.get(c, "purl", null), "license": expr},
	}
}
