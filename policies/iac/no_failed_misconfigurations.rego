# METADATA
# title: No failed misconfiguration check of a blocking severity
# description: The misconfiguration checks a scanner ran over the release's configuration (Trivy's misconfiguration scanner over Dockerfiles, Kubernetes manifests, Helm charts, Terraform and CloudFormation) report no failed check of a severity that rule data says blocks; failed checks of other severities are reported, a failed check of unknown severity is never passed in prod, and a report that lists only part of its failed checks is insufficient evidence.
# custom:
#   id: iac.no_failed_misconfigurations
#   severity: high
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.9]
#   remediation: Fix each failed check in the file and resource it names (its check id explains the fix, e.g. https://avd.aquasec.com/misconfig/<id>) and scan again; a check that does not apply needs a recorded waiver with an owner and an expiry.
package affidavit.rules.iac.no_failed_misconfigurations

import data.affidavit.lib.evidence
import data.affidavit.lib.params

missing contains m if some m in params.problems("iac", {"blocking_misconfiguration_severities": "array"})

# Only Trivy's records carry misconfiguration_findings; a record that holds the key must hold a list.
_scans := [r |
	some r in evidence.records("vulnerability-scan")
	"misconfiguration_findings" in object.keys(evidence.data_of(r))
]

missing contains m if some m in evidence.malformed(_scans, "misconfiguration_findings")

# Every failed check listed (the collector keeps failed ones only: not PASS, not EXCEPTION).
_failed := [{"record": r, "f": f, "severity": _severity(f)} |
	some r in _scans
	some f in evidence.array_at(evidence.data_of(r), "misconfiguration_findings")
	is_object(f)
]

_known := {"critical", "high", "medium", "low", "negligible"}

_severity(f) := lower(f.severity) if {
	is_string(f.severity)
	lower(f.severity) in _known
} else := "unknown"

_blocking := params.lower_set("iac", "blocking_misconfiguration_severities")

_where(f) := sprintf("%v%s%s", [object.get(f, "target", null), _resource(f), _line(f)])

_resource(f) := sprintf(", resource %v", [f.resource]) if is_string(f.resource)

else := ""

_line(f) := sprintf(", line %v", [f.line]) if is_number(f.line)

else := ""

_check(f) := sprintf("%v (%v)", [object.get(f, "id", "?"), f.check_id]) if {
	is_string(f.check_id)
	f.check_id != object.get(f, "id", null)
} else := sprintf("%v", [object.get(f, "id", "?")])

_title(f) := sprintf(" \"%s\"", [f.title]) if is_string(f.title)

else := ""

deny contains v if {
	some e in _failed
	e.severity in _blocking
	v := {
		"msg": sprintf("%v failed misconfiguration check %s%s (%s) in %s; iac.blocking_misconfiguration_severities blocks %s", [object.get(e.record, ["tool", "name"], "the scanner"), _check(e.f), _title(e.f), e.severity, _where(e.f), e.severity]),
		"evidence_ids": evidence.id_list(e.record),
		"details": {"id": object.get(e.f, "id", null), "check_id": object.get(e.f, "check_id", null), "severity": e.severity, "target": object.get(e.f, "target", null), "resource": object.get(e.f, "resource", null), "line": object.get(e.f, "line", null)},
	}
}

# A failed check whose severity the scanner did not state (a custom check without one): never a
# pass in prod, reported elsewhere; listing "unknown" in rule data fails it.
missing contains v if {
	input.context.environment == "prod"
	not "unknown" in _blocking
	some e in _failed
	e.severity == "unknown"
	v := {
		"msg": sprintf("failed misconfiguration check %s in %s states no severity, so whether it blocks is unknown: fix it, or give the check a severity and scan again", [_check(e.f), _where(e.f)]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

# Failed checks of severities that do not block, one line per scan.
_minor[rid] := {"record": r, "entries": entries} if {
	some e in _failed
	not e.severity in _blocking
	not _unknown_in_prod(e)
	r := e.record
	rid := r.id
	entries := [x | some x in _failed; x.record.id == rid; not x.severity in _blocking; not _unknown_in_prod(x)]
}

_unknown_in_prod(e) if {
	e.severity == "unknown"
	input.context.environment == "prod"
}

warn contains v if {
	some _, g in _minor
	v := {
		"msg": sprintf("%s has %d failed misconfiguration check(s) of severities that do not block here (%s%s)", [evidence.label(g.record), count(g.entries), concat(", ", [sprintf("%s %s", [_check(x.f), x.severity]) | some x in array.slice(g.entries, 0, 5)]), _more(count(g.entries), 5)]),
		"evidence_ids": evidence.id_list(g.record),
	}
}

_more(n, shown) := sprintf(" and %d more", [n - shown]) if n > shown

else := ""

# The record lists the first 1,000 failed checks and counts them all: the others' severities are unknown.
missing contains v if {
	some r in _scans
	counted := object.get(evidence.data_of(r), ["other", "misconfigurations"], 0)
	is_number(counted)
	listed := count(evidence.array_at(evidence.data_of(r), "misconfiguration_findings"))
	counted > listed
	v := {
		"msg": sprintf("%s counts %v failed misconfiguration checks but lists %d, so the severities of the others are unknown: fix the listed ones and scan again", [evidence.label(r), counted, listed]),
		"evidence_ids": evidence.id_list(r),
	}
}
