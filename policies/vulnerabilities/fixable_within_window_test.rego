package affidavit.rules.vulnerabilities.fixable_within_window_test

import data.affidavit.lib.testing
import data.affidavit.rules.vulnerabilities.fixable_within_window as rule

_prod := {"vulnerabilities": {"remediation_days": {"critical": 0, "high": 7}}}

_staging := {"vulnerabilities": {"remediation_days": {"critical": 7, "high": 30}}}

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
	d.msg == "CVE-2024-45490 (critical) in libexpat1 2.5.0-1, target ghcr.io/acme/shop:1.8.0 (debian 12.7): fixed in 2.5.0-1+deb12u1, known since 2024-08-30 (814 days ago), beyond the 0-day window for critical (vulnerabilities.remediation_days.critical)"
	d.evidence_ids == [testing.id("v")]
	d.details.fixed_versions == ["2.5.0-1+deb12u1"]
}

test_fires_when_high_exceeds_its_window if {
	old := object.union(_requests, {"published_at": "2026-11-01T00:00:00Z"})
	denies := rule.deny with input as _input([_scan("v", testing.digest, [old])], _prod)
	count(denies) == 1
	some d in denies
	contains(d.msg, "known since 2026-11-01 (21 days ago), beyond the 7-day window for high")
}

test_first_seen_wins_over_publication if {
	# Published long ago but first seen by our scans 2 days ago: inside the staging window.
	seen := object.union(_expat, {"first_seen": "2026-11-20T12:00:00Z"})
	count(rule.deny) == 0 with input as testing.input_for({"vulnerability-scan": [_scan("v", testing.digest, [seen])]}, "staging", _staging)
	count(rule.deny) == 1 with input as testing.input_for({"vulnerability-scan": [_scan("v", testing.digest, [_expat])]}, "staging", _staging)
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
	{m.details.param | some m in missing} == {"vulnerabilities.remediation_days"}
}

test_missing_when_scan_has_no_findings_list if {
	r := json.remove(_scan("v", testing.digest, []), ["data/findings"])
	inp := _input([r], _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
