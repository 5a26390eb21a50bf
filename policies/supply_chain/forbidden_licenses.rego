# METADATA
# title: No component under a forbidden licence
# description: No component in the SBOM of the promoted artefact is licensed only under a licence that rule data forbids (for example network-copyleft or non-commercial licences), so the release does not breach licence obligations.
# custom:
#   id: supply_chain.forbidden_licenses
#   severity: high
#   requires: [sbom]
#   controls:
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

# Deprecated ids in rule data mean their current ones (SPDX licence list 3.x): "GPL-3.0" is
# "GPL-3.0-only", a trailing "+" is "-or-later". The collector maps the SBOM's ids the same way.
_deprecated := {
	"gpl-1.0", "gpl-2.0", "gpl-3.0", "lgpl-2.0", "lgpl-2.1", "lgpl-3.0",
	"agpl-1.0", "agpl-3.0", "gfdl-1.1", "gfdl-1.2", "gfdl-1.3",
}

_forbidden := {id |
	some f in params.lower_set("supply_chain", "forbidden_licenses")
	some id in _spellings(f)
}

_spellings(f) := {f, sprintf("%s-only", [f])} if f in _deprecated
else := {f, sprintf("%s-or-later", [trim_suffix(f, "+")])} if endswith(f, "+")
else := {f}

_accepted_names := params.lower_set("supply_chain", "accepted_license_names")

# A component is forbidden when every choice its licences leave the licensee holds a forbidden id
# (OR is the licensee's choice; every licence entry of a component is in force together).
_forbidden_component(c) if {
	choices := evidence.array_at(c, "license_choices")
	count(choices) > 0
	every choice in choices {
		is_array(choice)
		some id in choice
		is_string(id)
		lower(id) in _forbidden
	}
}

_components := [{"record": r, "c": c} |
	some r in _sboms
	some c in evidence.array_at(evidence.data_of(r), "components")
	is_object(c)
]

deny contains v if {
	some e in _components
	_forbidden_component(e.c)
	c := e.c
	expr := concat(" AND ", [sprintf("%v", [l]) | some l in evidence.array_at(c, "licenses")])
	v := {
		"msg": sprintf("component %v %v (%v) in SBOM %s is licensed under %s, and every choice it allows includes a licence supply_chain.forbidden_licenses forbids", [object.get(c, "name", "(unnamed)"), object.get(c, "version", "(no version)"), object.get(c, "purl", "no purl"), evidence.label(e.record), expr]),
		"evidence_ids": evidence.id_list(e.record),
		"details": {"component": object.get(c, "name", null), "purl": object.get(c, "purl", null), "license": expr},
	}
}

# Trivy's licence scanner (`--scanners license`) on the promoted image: a licence it found in a
# package is judged the same way (data.license_findings; Trivy's own category is its config's, not
# the organisation's rule data, and is not used).
deny contains v if {
	some r in subject.for_target("vulnerability-scan")
	some f in evidence.array_at(evidence.data_of(r), "license_findings")
	is_object(f)
	_forbidden_component(f)
	v := {
		"msg": sprintf("Trivy found %v licensed under %v in %v (%s), and supply_chain.forbidden_licenses forbids it", [object.get(f, "package", "(unnamed package)"), object.get(f, "name", "?"), object.get(f, "target", "?"), evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
		"details": {"component": object.get(f, "package", null), "license": object.get(f, "name", null)},
	}
}

# An SBOM from before the collector read licence choices cannot be judged (a record without them).
missing contains v if {
	some e in _components
	count(evidence.array_at(e.c, "licenses")) > 0
	not is_array(object.get(e.c, "license_choices", null))
	v := {
		"msg": sprintf("component %v in SBOM %s has licences but no license_choices, so they cannot be judged (malformed evidence)", [object.get(e.c, "name", "(unnamed)"), evidence.label(e.record)]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

# Licences given as names instead of SPDX ids (or expressions naming unknown ids) are not judged
# allowed: what they are is unknown until someone maps them (supply_chain.unidentified_licenses).
_unidentified := [{"record": e.record, "c": e.c, "names": names} |
	some e in _components
	names := [n |
		some n in evidence.array_at(e.c, "license_unidentified")
		is_string(n)
		not lower(n) in _accepted_names
	]
	count(names) > 0
]

_unidentified_by_record[label] := entries if {
	some e in _unidentified
	label := evidence.label(e.record)
	entries := [x | some x in _unidentified; evidence.label(x.record) == label]
}

_unidentified_msg(entries) := sprintf("SBOM %s gives %d component(s) a licence that is no SPDX id or expression (%s%s), so whether it is forbidden is unknown: record the SPDX id in the SBOM (or a LicenseRef- with its text), or, once legal has reviewed a name, list it in supply_chain.accepted_license_names (supply_chain.unidentified_licenses)", [evidence.label(entries[0].record), count(entries), concat("; ", [sprintf("%v: %v", [object.get(x.c, "name", "(unnamed)"), concat(", ", x.names)]) | some x in array.slice(entries, 0, 5)]), _more(count(entries))])

_more(n) := sprintf(" and %d more", [n - 5]) if n > 5
else := ""

_action := "insufficient_evidence" if {
	params.value("supply_chain", "unidentified_licenses") == "warn"
	input.context.environment == "prod"
} else := params.value("supply_chain", "unidentified_licenses")

missing contains m if some m in params.problems("supply_chain", {"unidentified_licenses": "string"})

missing contains v if {
	a := params.value("supply_chain", "unidentified_licenses")
	not a in {"fail", "insufficient_evidence", "warn"}
	v := {"msg": sprintf("rule data supply_chain.unidentified_licenses is %v; it must be one of fail, insufficient_evidence, warn", [a]), "evidence_ids": []}
}

deny contains v if {
	_action == "fail"
	some _, entries in _unidentified_by_record
	v := {"msg": _unidentified_msg(entries), "evidence_ids": evidence.id_list(entries[0].record)}
}

missing contains v if {
	_action == "insufficient_evidence"
	some _, entries in _unidentified_by_record
	v := {"msg": _unidentified_msg(entries), "evidence_ids": evidence.id_list(entries[0].record)}
}

warn contains v if {
	_action == "warn"
	some _, entries in _unidentified_by_record
	v := {"msg": _unidentified_msg(entries), "evidence_ids": evidence.id_list(entries[0].record)}
}
