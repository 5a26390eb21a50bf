package affidavit.rules.vulnerabilities.fixable_within_window_test

import data.affidavit.lib.testing
import data.affidavit.rules.vulnerabilities.fixable_within_window as rule

_prod := {"vulnerabilities": {"remediation_days": {"critical": 0, "high": 7}, "unknown_severity": "insufficient_evidence", "unfixed": {}}}

_staging := {"vulnerabilities": {"remediation_days": {"critical": 7, "high": 30}, "unknown_severity": "warn", "unfixed": {}}}

# Rule data as shipped for prod: windows for every severity, unfixed criticals fail.
_shipped := {"vulnerabilities": {"remediation_days": {"critical": 15, "high": 30, "medium": 90, "low": 180}, "unknown_severity": "insufficient_evidence", "unfixed": {"critical": "fail"}}}

# Findings as the collector normalises them from `trivy image --format json` (schema 2).
_expat := {
	"id": "CVE-2024-45490",
	"aliases": [],
	"severity": "critical",
	"cvss_score": 9.8,
	"package": {"name": "libexpat1", "version": "2.5.0-1", "purl": "pkg:deb/debian/libexpat1@2.5.0-1?arch=amd64&distro=debian-12.7", "ecosystem": "debian"},
	"fixed_versions": ["2.5.0-1+deb12u1"],
	"target": "ghcr.io/acme/shop:1.8.0 (debian 12.7)",
	"title": "libexpat: Negative Length Parsing Vulnerability in libexpat",
	"status": "fixed",
	"published_at": "2024-08-30T03:15:03Z",
}

# A high finding published 3 days before the run.
_requests := {
	"id": "GHSA-9wx4-h78v-vm56",
	"aliases": ["CVE-2024-35195"],
	"severity": "high",
	"cvss_score": 7.5,
	"package": {"name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0", "ecosystem": "pypi"},
	"fixed_versions": ["2.32.0"],
	"target": "Python",
	"title": "Requests Session object does not verify requests after making first request with verify=False",
	"status": "fixed",
	"published_at": "2026-11-19T12:00:00Z",
}

# A critical finding with no fix yet.
_zlib := {
	"id": "CVE-2023-45853",
	"aliases": [],
	"severity": "critical",
	"cvss_score": 9.8,
	"package": {"name": "zlib1g", "version": "1:1.2.13.dfsg-1", "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1", "ecosystem": "debian"},
	"fixed_versions": [],
	"target": "ghcr.io/acme/shop:1.8.0 (debian 12.7)",
	"title": "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6",
	"status": "will_not_fix",
	"published_at": "2023-10-14T02:15:09Z",
}

_scan(n, digest, findings) := testing.record("vulnerability-scan", n, {
	"format": "trivy-json",
	"format_version": "2",
	"tool": {"name": "trivy", "version": "0.56.2"},
	"subject": {"name": "ghcr.io/acme/shop:1.8.0", "version": null, "digest": digest},
	"effective_at": "2026-11-22T09:20:11Z",
	"data": {
		"findings": findings,
		"summary": {"critical": 0, "high": 0, "medium": 0, "low": 0, "negligible": 0, "unknown": 0, "total": count(findings)},
		"targets": ["ghcr.io/acme/shop:1.8.0 (debian 12.7)", "Python"],
		"database": {"updated_at": "2026-11-22T06:10:44Z", "version": 2, "schema": 2},
	},
})

_input(scans, p) := testing.input_for({"vulnerability-scan": scans}, "prod", p)

test_passes_when_no_fixable_finding_is_overdue if {
	# high published 3 days ago is inside 7 days; the critical has no fix.
	inp := _input([_scan("v", testing.digest, [_requests, _zlib])], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_fixable_critical_in_prod if {
	denies := rule.deny with input as _input([_scan("v", testing.digest, [_expat, _requests])], _prod)
	count(denies) == 1
	some d in denies
	d.msg == "CVE-2024-45490 (critical) in libexpat1 2.5.0-1, target ghcr.io/acme/shop:1.8.0 (debian 12.7): fixed in 2.5.0-1+deb12u1, published 2024-08-30 (814 days ago), beyond the 0-day window for critical (vulnerabilities.remediation_days.critical)"
	d.evidence_ids == [testing.id("v")]
	d.details.fixed_versions == ["2.5.0-1+deb12u1"]
}

test_fires_when_high_exceeds_its_window if {
	old := object.union(_requests, {"published_at": "2026-11-01T00:00:00Z"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [old])], _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "published 2026-11-01 (21 days ago), beyond the 7-day window for high")
}

test_first_seen_wins_over_publication if {
	# Published long ago but first seen by our scans 2 days ago: inside the staging window.
	seen := object.union(_expat, {"first_seen": "2026-11-20T12:00:00Z"})
	count(rule.deny) == 0 with input as testing.input_for({"vulnerability-scan": [_scan("v", testing.digest, [seen])]}, "staging", _staging)
	count(rule.deny) == 1 with input as testing.input_for({"vulnerability-scan": [_scan("v", testing.digest, [_expat])]}, "staging", _staging)
}

test_message_says_the_window_counted_from_first_seen if {
	# Published in 2024, first seen by a recorded run 21 days ago: the 7-day high window counted
	# from the sighting is over, and the message names the sighting, not the publication.
	seen := object.union(_requests, {"published_at": "2024-01-01T00:00:00Z", "first_seen": "2026-11-01T00:00:00Z"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [seen])], _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "fixed in 2.32.0, first seen in the run history on 2026-11-01 (21 days ago), beyond the 7-day window for high")
	not contains(d.msg, "published")
	d.details.counted_from == "first_seen"
	d.details.known_since == "2026-11-01T00:00:00Z"
}

test_message_says_the_window_counted_from_publication if {
	old := object.union(_requests, {"published_at": "2026-11-01T00:00:00Z"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [old])], _prod)
	some d in denies
	d.details.counted_from == "published_at"
	not contains(d.msg, "run history")
}

test_invalid_first_seen_falls_back_to_publication if {
	# A first_seen that is not a time is no sighting: publication counts (and is over the window).
	bad := object.union(_requests, {"published_at": "2026-11-01T00:00:00Z", "first_seen": "yesterday"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [bad])], _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "published 2026-11-01 (21 days ago)")
}

test_first_seen_dates_a_finding_the_scan_leaves_undated if {
	# Grype and pip-audit give no publication date: a sighting in the history makes the window checkable.
	undated := json.remove(_requests, ["published_at"])
	recent := object.union(undated, {"first_seen": "2026-11-20T00:00:00Z"})
	inp := _input([_scan("v", testing.digest, [recent])], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	overdue := object.union(undated, {"first_seen": "2026-10-01T00:00:00Z"})
	count(rule.deny) == 1 with input as _input([_scan("v", testing.digest, [overdue])], _prod)
}

test_fires_for_zero_day_window_without_a_date if {
	undated := json.remove(_expat, ["published_at"])
	denies := rule.deny with input as _input([_scan("v", testing.digest, [undated])], _prod)
	count(denies) == 1
	some d in denies
	endswith(d.msg, "so it must be fixed before release")
}

test_missing_when_undated_finding_has_a_window if {
	undated := json.remove(_requests, ["published_at"])
	inp := _input([_scan("v", testing.digest, [undated])], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_ignores_scans_of_other_artefacts if {
	inp := _input([_scan("v", testing.other_digest, [_expat])], _prod)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "none of the vulnerability scans is of the promoted artefact")
}

test_judges_scans_that_name_no_digest if {
	count(rule.deny) == 1 with input as _input([_scan("v", null, [_expat])], _prod)
}

test_missing_when_no_scan if {
	inp := _input([], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_windows_unset if {
	inp := _input([_scan("v", testing.digest, [_expat])], {})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	{m.details.param | some m in missing} == {"vulnerabilities.remediation_days", "vulnerabilities.unknown_severity", "vulnerabilities.unfixed"}
}

test_missing_when_scan_has_no_findings_list if {
	r := json.remove(_scan("v", testing.digest, []), ["data/findings"])
	inp := _input([r], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

# A pip-audit finding (pip-audit -f json: {id, fix_versions, aliases}; no severity, no score).
_pip := {
	"id": "PYSEC-2026-17",
	"aliases": ["CVE-2026-1111"],
	"severity": "unknown",
	"cvss_score": null,
	"package": {"name": "jinja2", "version": "3.1.3", "purl": "pkg:pypi/jinja2@3.1.3", "ecosystem": "pypi"},
	"fixed_versions": ["3.1.4"],
	"fixes": ["3.1.4"],
	"fix_available": true,
	"target": null,
	"title": null,
	"status": null,
	"published_at": null,
}

test_unknown_severity_is_judged_as_rule_data_says if {
	scans := [_scan("v", testing.digest, [_pip, object.union(_pip, {"id": "PYSEC-2026-18"})])]
	missing := rule.missing with input as _input(scans, _shipped)
	count(missing) == 1
	some m in missing
	contains(m.msg, "has 2 finding(s) of unknown severity (PYSEC-2026-17 in jinja2 3.1.3, PYSEC-2026-18 in jinja2 3.1.3)")
	fail := json.patch(_shipped, [{"op": "replace", "path": "/vulnerabilities/unknown_severity", "value": "fail"}])
	count(rule.deny) == 1 with input as _input(scans, fail)
	# warn is honoured outside prod only
	warn := json.patch(_shipped, [{"op": "replace", "path": "/vulnerabilities/unknown_severity", "value": "warn"}])
	count(rule.missing) == 1 with input as _input(scans, warn)
	count(rule.warn) == 1 with input as testing.input_for({"vulnerability-scan": scans}, "staging", warn)
	count(rule.missing) == 0 with input as testing.input_for({"vulnerability-scan": scans}, "staging", warn)
}

test_many_unrated_findings_are_summarised if {
	many := [object.union(_pip, {"id": sprintf("PYSEC-2026-%d", [i])}) | some i in numbers.range(1, 7)]
	missing := rule.missing with input as _input([_scan("v", testing.digest, many)], _shipped)
	some m in missing
	contains(m.msg, "has 7 finding(s) of unknown severity")
	contains(m.msg, "and 2 more")
}

test_unfixed_critical_fails_as_rule_data_says if {
	inp := _input([_scan("v", testing.digest, [_zlib])], _shipped)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	contains(d.msg, "has 1 critical finding(s) with no fix newer than the installed version (CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1)")
	d.details.findings == ["CVE-2023-45853"]
	insufficient := json.patch(_shipped, [{"op": "replace", "path": "/vulnerabilities/unfixed/critical", "value": "insufficient_evidence"}])
	count(rule.missing) == 1 with input as _input([_scan("v", testing.digest, [_zlib])], insufficient)
	warn := json.patch(_shipped, [{"op": "replace", "path": "/vulnerabilities/unfixed/critical", "value": "warn"}])
	count(rule.warn) == 1 with input as testing.input_for({"vulnerability-scan": [_scan("v", testing.digest, [_zlib])]}, "dev", warn)
}

test_a_fix_older_than_the_installed_version_is_no_fix if {
	# a Java 17.0.10 runtime "fixed in 1.2.3": the collector found no newer fix (fix_available false)
	java := object.union(_expat, {"package": {"name": "openjdk-17", "version": "17.0.10", "ecosystem": "maven"}, "fixed_versions": ["1.2.3"], "fixes": [], "fix_available": false, "status": null})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [java])], _shipped)
	count(denies) == 1
	some d in denies
	contains(d.msg, "with no fix newer than the installed version")
	# with no unfixed rule data for critical it is not judged at all
	count(rule.deny) == 0 with input as _input([_scan("v", testing.digest, [java])], _prod)
}

test_a_fix_that_could_not_be_compared_counts_as_a_fix if {
	unsure := object.union(_expat, {"fixes": ["2.5.0-1+deb12u1"], "fix_available": null})
	count(rule.deny) == 1 with input as _input([_scan("v", testing.digest, [unsure])], _prod)
	newer := object.union(_expat, {"fixes": ["2.5.0-1+deb12u1"], "fix_available": true})
	count(rule.deny) == 1 with input as _input([_scan("v", testing.digest, [newer])], _prod)
}

test_medium_and_low_have_windows if {
	medium := object.union(_requests, {"severity": "medium", "published_at": "2026-07-01T00:00:00Z"})
	low := object.union(_requests, {"id": "CVE-2026-2", "severity": "low", "published_at": "2026-10-01T00:00:00Z"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [medium, low])], _shipped)
	count(denies) == 1
	some d in denies
	contains(d.msg, "beyond the 90-day window for medium")
}

test_not_affected_and_withdrawn_findings_are_not_judged if {
	vex := object.union(_expat, {"status": "not_affected"})
	gone := object.union(_expat, {"id": "GHSA-x", "withdrawn": "2026-01-01T00:00:00Z"})
	inp := _input([_scan("v", testing.digest, [vex, gone])], _shipped)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_the_scan_did_not_scan_for_vulnerabilities if {
	secrets_only := json.patch(_scan("v", testing.digest, []), [{"op": "add", "path": "/data/scanned_for_vulnerabilities", "value": false}])
	missing := rule.missing with input as _input([secrets_only], _shipped)
	count(missing) == 1
	some m in missing
	contains(m.msg, "it holds only misconfiguration, secret or licence results")
	nothing := json.patch(_scan("v", testing.digest, []), [{"op": "add", "path": "/data/scanned_for_vulnerabilities", "value": null}])
	missing_n := rule.missing with input as _input([nothing], _shipped)
	some n in missing_n
	contains(n.msg, "it holds no results at all")
	scanned := json.patch(_scan("v", testing.digest, []), [{"op": "add", "path": "/data/scanned_for_vulnerabilities", "value": true}])
	count(rule.missing) == 0 with input as _input([scanned], _shipped)
}

test_missing_when_an_outcome_in_rule_data_is_unknown if {
	bad := json.patch(_shipped, [{"op": "replace", "path": "/vulnerabilities/unfixed/critical", "value": "ignore"}])
	missing := rule.missing with input as _input([_scan("v", testing.digest, [])], bad)
	some m in missing
	m.msg == "rule data vulnerabilities.unfixed.critical is ignore; it must be one of fail, insufficient_evidence, warn"
}
