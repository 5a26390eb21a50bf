package affidavit.rules.iac.no_failed_misconfigurations_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.no_failed_misconfigurations as rule

_prod := {"iac": {"blocking_misconfiguration_severities": ["critical", "high"]}}

_staging := {"iac": {"blocking_misconfiguration_severities": ["critical"]}}

# Failed checks as the collector normalises `trivy config --format json` (Results[].Misconfigurations[]
# with Status FAIL; aquasecurity/trivy integration/testdata/dockerfile.json.golden, helm.json.golden).
_root_user := {
	"id": "AVD-DS-0002",
	"check_id": "DS002",
	"type": "Dockerfile Security Check",
	"title": "Image user should not be 'root'",
	"severity": "high",
	"status": "FAIL",
	"target": "Dockerfile",
	"resource": null,
	"line": null,
}

_no_limits := {
	"id": "AVD-KSV-0011",
	"check_id": "KSV011",
	"type": "Helm Security Check",
	"title": "CPU not limited",
	"severity": "low",
	"status": "FAIL",
	"target": "templates/deployment.yaml",
	"resource": "Deployment/testchart",
	"line": 32,
}

_custom := {
	"id": "AVD-FOO-0001",
	"check_id": "FOO-0001",
	"type": "Custom Check",
	"title": "Something custom",
	"severity": "unknown",
	"status": "FAIL",
	"target": "Dockerfile",
	"resource": null,
	"line": null,
}

_scan(findings, counted) := testing.record("vulnerability-scan", "t", {
	"format": "trivy-json",
	"tool": {"name": "trivy", "version": "0.56.2"},
	"data": {
		"findings": [],
		"summary": {"critical": 0, "high": 0, "medium": 0, "low": 0, "negligible": 0, "unknown": 0, "total": 0},
		"scanned_for_vulnerabilities": false,
		"other": {"misconfigurations": counted, "secrets": 0},
		"misconfiguration_findings": findings,
	},
})

_input(scans, env, p) := testing.input_for({"vulnerability-scan": scans}, env, p)

test_passes_when_no_check_failed if {
	inp := _input([_scan([], 0)], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_passes_for_a_scan_without_misconfiguration_results if {
	# An image scan of the vulnerability scanner alone (Grype, or Trivy without misconfig results).
	image := testing.record("vulnerability-scan", "g", {"format": "grype-json", "data": {"findings": [], "summary": {"total": 0}}})
	inp := _input([image], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_a_failed_high_check_in_prod if {
	denies := rule.deny with input as _input([_scan([_root_user], 1)], "prod", _prod)
	count(denies) == 1
	some d in denies
	d.msg == "trivy failed misconfiguration check AVD-DS-0002 (DS002) \"Image user should not be 'root'\" (high) in Dockerfile; iac.blocking_misconfiguration_severities blocks high"
	d.evidence_ids == [testing.id("t")]
	d.details.severity == "high"
}

test_low_check_warns_and_names_where if {
	inp := _input([_scan([_no_limits], 1)], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	warns := rule.warn with input as inp
	count(warns) == 1
	some w in warns
	contains(w.msg, "1 failed misconfiguration check(s) of severities that do not block here (AVD-KSV-0011 (KSV011) low)")
}

test_location_in_the_message if {
	blocking := object.union(_no_limits, {"severity": "critical"})
	some d in rule.deny with input as _input([_scan([blocking], 1)], "prod", _prod)
	contains(d.msg, "in templates/deployment.yaml, resource Deployment/testchart, line 32;")
}

test_staging_blocks_critical_only if {
	inp := _input([_scan([_root_user], 1)], "staging", _staging)
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_unknown_severity_is_insufficient_in_prod if {
	inp := _input([_scan([_custom], 1)], "prod", _prod)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "AVD-FOO-0001 (FOO-0001) in Dockerfile states no severity")
	count(rule.warn) == 0 with input as inp
}

test_unknown_severity_warns_outside_prod if {
	inp := _input([_scan([_custom], 1)], "staging", _staging)
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_unknown_severity_fails_when_rule_data_lists_it if {
	p := {"iac": {"blocking_misconfiguration_severities": ["critical", "high", "unknown"]}}
	inp := _input([_scan([_custom], 1)], "prod", p)
	count(rule.deny) == 1 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_a_cut_list_is_insufficient if {
	# 1,200 failed checks counted, the record lists the first 1,000 (here: one).
	missing := rule.missing with input as _input([_scan([_no_limits], 1200)], "prod", _prod)
	some m in missing
	contains(m.msg, "counts 1200 failed misconfiguration checks but lists 1")
}

test_malformed_list_is_insufficient if {
	bad := testing.record("vulnerability-scan", "t", {"data": {"findings": [], "misconfiguration_findings": "none"}})
	count(rule.missing) == 1 with input as _input([bad], "prod", _prod)
}

test_missing_rule_data_is_insufficient if {
	count(rule.missing) > 0 with input as _input([_scan([], 0)], "prod", {"iac": {}})
}

test_many_minor_checks_are_one_line_per_scan if {
	checks := [object.union(_no_limits, {"line": n}) | some n in numbers.range(1, 7)]
	warns := rule.warn with input as _input([_scan(checks, 7)], "prod", _prod)
	count(warns) == 1
	some w in warns
	endswith(w.msg, "and 2 more)")
}
