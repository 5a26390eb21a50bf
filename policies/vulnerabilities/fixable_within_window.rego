# METADATA
# title: Known vulnerabilities are fixed within their windows; unfixed and unrated ones are judged
# description: Findings of each severity with a fix (a fixed version newer than the installed one, compared in the package's own ecosystem's version order) have been known for no longer than that severity's remediation window in rule data (counted from when the finding was first seen, or from its publication); findings with no fix of the severities rule data lists under `unfixed`, and findings of unknown severity (pip-audit states none), are failed or reported as insufficient evidence as rule data says, never passed in prod. Findings a scanner marks not affected (Trivy's not_affected, a VEX statement) are not judged; a scan that does not show the vulnerability scanner ran (a Trivy report of only misconfiguration, secret or licence results) is no evidence.
# custom:
#   id: vulnerabilities.fixable_within_window
#   severity: critical
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8]
#   remediation: Upgrade each named package to a fixed version (or rebuild on a patched base image), rescan the image and pass the new report; rescan with a scanner that rates severity where the severity is unknown; a finding that cannot be fixed in time, or has no fix, needs a recorded waiver with an owner and an expiry.
package affidavit.rules.vulnerabilities.fixable_within_window

import data.affidavit.lib.dates
import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_all_scans := evidence.records("vulnerability-scan")

# Scans of the promoted image, plus scans that name no digest (e.g. of the source tree).
_scans := subject.relevant("vulnerability-scan")

missing contains m if some m in params.problems("vulnerabilities", {"remediation_days": "object", "unknown_severity": "string", "unfixed": "object"})

_actions := {"fail", "insufficient_evidence", "warn"}

missing contains v if {
	some key, action in _rule_actions
	not action in _actions
	v := {
		"msg": sprintf("rule data vulnerabilities.%s is %v; it must be one of fail, insufficient_evidence, warn", [key, action]),
		"evidence_ids": [],
	}
}

# Every configured outcome, by the rule-data key that sets it.
_rule_actions[key] := action if {
	some key in ["unknown_severity"]
	action := params.value("vulnerabilities", key)
}

_rule_actions[key] := action if {
	some sev, action in params.mapping("vulnerabilities", "unfixed")
	key := sprintf("unfixed.%v", [sev])
}

# What an outcome of rule data means here: `warn` is not honoured in prod (an unknown is never a
# pass there), where it is read as insufficient_evidence.
_effective(action) := "insufficient_evidence" if {
	action == "warn"
	input.context.environment == "prod"
} else := action

# A scan that does not show the vulnerability scanner ran (Trivy with only the misconfiguration,
# secret or licence scanners: scanned_for_vulnerabilities false, or no results at all: null).
missing contains v if {
	some r in _scans
	d := evidence.data_of(r)
	"scanned_for_vulnerabilities" in object.keys(d)
	d.scanned_for_vulnerabilities != true
	v := {
		"msg": sprintf("%s does not show that vulnerabilities were scanned for (%s), so it is no evidence that the image has none; run the scanner with its vulnerability scanner on (trivy image --scanners vuln ...)", [evidence.label(r), _coverage_why(d.scanned_for_vulnerabilities)]),
		"evidence_ids": evidence.id_list(r),
	}
}

_coverage_why(false) := "it holds only misconfiguration, secret or licence results"

_coverage_why(v) := "it holds no results at all" if v != false

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

# Every finding to judge, with its scan and its severity ("unknown" when the scan states none).
_findings := [{"record": r, "f": f, "severity": _severity(f)} |
	some r in _scans
	some f in evidence.array_at(evidence.data_of(r), "findings")
	is_object(f)
	object.get(f, "status", null) != "not_affected"
	object.get(f, "withdrawn", null) == null
]

_known := {"critical", "high", "medium", "low", "negligible"}

_severity(f) := lower(f.severity) if {
	is_string(f.severity)
	lower(f.severity) in _known
} else := "unknown"

# Every finding a window applies to and for which a fix exists, with its scan and window.
_fixable := [object.union(e, {"days": days}) |
	windows := params.mapping("vulnerabilities", "remediation_days")
	some e in _findings
	e.severity != "unknown"
	days := windows[e.severity]
	is_number(days)
	_fix_available(e.f)
]

# A fix is available when the collector found a listed fixed version newer than the installed one
# (fix_available true). Where it could not compare (null, or a record without the field), any
# listed version, or a "fixed" status, counts: fail closed.
_fix_available(f) if object.get(f, "fix_available", null) == true

_fix_available(f) if {
	object.get(f, "fix_available", null) == null
	count(evidence.array_at(f, "fixed_versions")) > 0
}

_fix_available(f) if {
	object.get(f, "fix_available", null) != true
	count(evidence.array_at(f, "fixed_versions")) == 0
	object.get(f, "status", null) == "fixed"
}

# When the finding became known: first seen in the run history (the pipeline sets first_seen from
# earlier runs of the same subject name), else its publication date.
_since(f) := f.first_seen if {
	dates.valid(f.first_seen)
} else := f.published_at if {
	dates.valid(f.published_at)
}

# Which of the two dates a window counted from, for the message and the details.
_counted_from(f) := "first_seen" if {
	dates.valid(f.first_seen)
} else := "published_at"

_since_text(f, since) := sprintf("first seen in the run history on %s", [dates.day(since)]) if {
	_counted_from(f) == "first_seen"
} else := sprintf("published %s", [dates.day(since)])

_name(f) := sprintf("%v %v", [object.get(f, ["package", "name"], "(unnamed package)"), object.get(f, ["package", "version"], "(no version)")])

_fix(f) := concat(", ", [v | some v in _fix_list(f); is_string(v)]) if {
	count(_fix_list(f)) > 0
} else := "a fixed version (status: fixed)"

_fix_list(f) := evidence.array_at(f, "fixes") if count(evidence.array_at(f, "fixes")) > 0

else := evidence.array_at(f, "fixed_versions")

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
		"msg": sprintf("%v (%s) in %s, target %v: fixed in %s, %s (%v days ago), beyond the %v-day window for %s (vulnerabilities.remediation_days.%s)", [e.f.id, e.severity, _name(e.f), object.get(e.f, "target", null), _fix(e.f), _since_text(e.f, since), floor(age), e.days, e.severity, e.severity]),
		"evidence_ids": evidence.id_list(e.record),
		"details": object.union(_details(e), {"known_since": since, "counted_from": _counted_from(e.f), "age_days": dates.round1(age)}),
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
		"msg": sprintf("%v (%s) in %s has a fix but neither the scan nor the run history gives a date for it, so its %v-day window cannot be checked; use a scanner output that carries publication dates (once a recorded run of this subject name has seen the finding, its window counts from that first sighting)", [e.f.id, e.severity, _name(e.f), e.days]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

# --- findings of unknown severity --------------------------------------------------------------

_unrated := [e | some e in _findings; e.severity == "unknown"]

_unrated_by_record[rid] := {"record": r, "entries": entries} if {
	some x in _unrated
	r := x.record
	rid := r.id
	entries := _unrated_of(rid)
}

_unrated_of(rid) := [e | some e in _unrated; e.record.id == rid]

_unrated_msg(g) := sprintf("%s has %d finding(s) of unknown severity (%s%s): the scanner states no severity and no CVSS score, so no remediation window can be applied; rescan with a scanner that rates severity (Trivy, Grype or OSV-Scanner, whose records carry CVSS vectors) or fix them (vulnerabilities.unknown_severity)", [evidence.label(g.record), count(g.entries), concat(", ", [_short(e.f) | some e in array.slice(g.entries, 0, 5)]), _more(count(g.entries), 5)])

deny contains v if {
	_effective(params.value("vulnerabilities", "unknown_severity")) == "fail"
	some _, g in _unrated_by_record
	v := {"msg": _unrated_msg(g), "evidence_ids": evidence.id_list(g.record), "details": {"findings": count(g.entries)}}
}

missing contains v if {
	_effective(params.value("vulnerabilities", "unknown_severity")) == "insufficient_evidence"
	some _, g in _unrated_by_record
	v := {"msg": _unrated_msg(g), "evidence_ids": evidence.id_list(g.record)}
}

warn contains v if {
	_effective(params.value("vulnerabilities", "unknown_severity")) == "warn"
	some _, g in _unrated_by_record
	v := {"msg": _unrated_msg(g), "evidence_ids": evidence.id_list(g.record)}
}

_short(f) := sprintf("%v in %v %v", [object.get(f, "id", "?"), object.get(f, ["package", "name"], "?"), object.get(f, ["package", "version"], "?")])

_more(n, shown) := sprintf(" and %d more", [n - shown]) if n > shown

else := ""

# --- findings with no fix, of the severities rule data names -------------------------------

_unfixed := [object.union(e, {"action": _effective(action)}) |
	some sev, action in params.mapping("vulnerabilities", "unfixed")
	some e in _findings
	e.severity == sev
	not _fix_available(e.f)
]

_unfixed_groups[key] := {"record": e.record, "severity": e.severity, "action": e.action, "entries": entries} if {
	some e in _unfixed
	key := sprintf("%v %v", [e.record.id, e.severity])
	entries := _unfixed_of(e.record.id, e.severity)
}

_unfixed_of(rid, sev) := [x | some x in _unfixed; x.record.id == rid; x.severity == sev]

_unfixed_msg(g) := sprintf("%s has %d %s finding(s) with no fix newer than the installed version (%s%s); vulnerabilities.unfixed.%s is %s: rebuild on a base image or dependency without them, or record a waiver with an owner and an expiry", [evidence.label(g.record), count(g.entries), g.severity, concat(", ", [_short(e.f) | some e in array.slice(g.entries, 0, 5)]), _more(count(g.entries), 5), g.severity, g.action])

deny contains v if {
	some _, g in _unfixed_groups
	g.action == "fail"
	v := {"msg": _unfixed_msg(g), "evidence_ids": evidence.id_list(g.record), "details": {"severity": g.severity, "findings": [e.f.id | some e in g.entries]}}
}

missing contains v if {
	some _, g in _unfixed_groups
	g.action == "insufficient_evidence"
	v := {"msg": _unfixed_msg(g), "evidence_ids": evidence.id_list(g.record)}
}

warn contains v if {
	some _, g in _unfixed_groups
	g.action == "warn"
	v := {"msg": _unfixed_msg(g), "evidence_ids": evidence.id_list(g.record)}
}
