# METADATA
# title: No fixable critical or high vulnerability beyond its remediation window
# description: Findings of the severities rule data lists, for which a fixed version exists, have been known for no longer than that severity's remediation window (counted from when the finding was first seen, or from its publication); in prod a fixable critical must be fixed before release.
# custom:
#   id: vulnerabilities.fixable_within_window
#   severity: critical
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8]
#   remediation: Upgrade each named package to a fixed version (or rebuild on a patched base image), rescan the image and pass the new report; a finding that cannot be fixed in time needs a recorded waiver with an owner and an expiry.
package affidavit.rules.vulnerabilities.fixable_within_window

import data.affidavit.lib.dates
import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_all_scans := evidence.records("vulnerability-scan")

# Scans of the promoted image, plus scans that name no digest (e.g. of the source tree).
_scans := subject.relevant("vulnerability-scan")

missing contains m if some m in params.problems("vulnerabilities", {"remediation_days": "object"})

missing contains m if some m in evidence.malformed(_scans, "findings")

missing contains v if {
	count(_all_scans) == 0
	v := {
		"msg": "no vulnerability scan was supplied: scan the image by digest (e.g. trivy image --format json IMAGE@DIGEST) and pass the report to the gate",
		"evidence_ids": [],
	}
}

missing contains v if {
	count(_all_scans) > 0
	count(_scans) == 0
	v := {
		"msg": sprintf("none of the vulnerability scans is of the promoted artefact %s, so its vulnerabilities are unknown", [subject.target_text]),
		"evidence_ids": evidence.ids(_all_scans),
	}
}

# Every finding a window applies to and for which a fix exists, with its scan and window.
_fixable := [{"record": r, "f": f, "severity": sev, "days": days} |
	windows := params.mapping("vulnerabilities", "remediation_days")
	some r in _scans
	some f in evidence.array_at(evidence.data_of(r), "findings")
	is_object(f)
	is_string(f.severity)
	sev := lower(f.severity)
	days := windows[sev]
	is_number(days)
	_fix_available(f)
]

_fix_available(f) if count(evidence.array_at(f, "fixed_versions")) > 0

_fix_available(f) if f.status == "fixed"

# When the finding became known: first seen in the run history, else its publication date.
_since(f) := f.first_seen if {
	dates.valid(f.first_seen)
} else := f.published_at if {
	dates.valid(f.published_at)
}

_name(f) := sprintf("%v %v", [object.get(f, ["package", "name"], "(unnamed package)"), object.get(f, ["package", "version"], "(no version)")])

_fix(f) := concat(", ", [v | some v in evidence.array_at(f, "fixed_versions"); is_string(v)]) if {
	count(evidence.array_at(f, "fixed_versions")) > 0
} else := "a fixed version (status: fixed)"

_details(e) := {
	"id": e.f.id,
	"severity": e.severity,
	"package": object.get(e.f, "package", null),
	"fixed_versions": evidence.array_at(e.f, "fixed_versions"),
	"target": object.get(e.f, "target", null),
	"window_days": e.days,
}

deny contains v if {
	some e in _fixable
	since := _since(e.f)
	age := dates.age_days(since)
	age > e.days
	v := {
		"msg": sprintf("%v (%s) in %s, target %v: fixed in %s, known since %s (%v days ago), beyond the %v-day window for %s (vulnerabilities.remediation_days.%s)", [e.f.id, e.severity, _name(e.f), object.get(e.f, "target", null), _fix(e.f), dates.day(since), floor(age), e.days, e.severity, e.severity]),
		"evidence_ids": evidence.id_list(e.record),
		"details": object.union(_details(e), {"known_since": since, "age_days": dates.round1(age)}),
	}
}

# With a zero-day window any open fixable finding is overdue, whether or not its date is known.
deny contains v if {
	some e in _fixable
	not _since(e.f)
	e.days <= 0
	v := {
		"msg": sprintf("%v (%s) in %s, target %v: fixed in %s; the window for %s is %v days (vulnerabilities.remediation_days.%s), so it must be fixed before release", [e.f.id, e.severity, _name(e.f), object.get(e.f, "target", null), _fix(e.f), e.severity, e.days, e.severity]),
		"evidence_ids": evidence.id_list(e.record),
		"details": _details(e),
	}
}

missing contains v if {
	some e in _fixable
	not _since(e.f)
	e.days > 0
	v := {
		"msg": sprintf("%v (%s) in %s has a fix but the scan gives no date for it, so its %v-day window cannot be checked; use a scanner output that carries publication dates", [e.f.id, e.severity, _name(e.f), e.days]),
		"evidence_ids": evidence.id_list(e.record),
	}
}
