package affidavit.rules.secrets.no_secrets_test

import data.affidavit.lib.testing
import data.affidavit.rules.secrets.no_secrets as rule

_params := {"secrets": {"allowed_fingerprints": []}}

# A finding as the collector normalises gitleaks v8 JSON: the secret itself is only a hash.
_aws_key := {
	"rule_id": "aws-access-token",
	"file": "deploy/settings.env",
	"line": 14,
	"commit": "5d1e3c0f9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
	"fingerprint": "5d1e3c0f9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d:deploy/settings.env:aws-access-token:14",
	"secret_sha256": "0b3f1c9a6d4e8f2a7c5b9d1e3f6a8c0b2d4e6f8a1c3e5b7d9f0a2c4e6b8d0f1a",
}

_scan(findings) := testing.record("secret-scan", "g", {
	"format": "gitleaks-json",
	"tool": {"name": "gitleaks", "version": "8.21.2"},
	"subject": {"name": "github.com/acme/shop", "version": null, "digest": null},
	"data": {"findings": findings, "summary": {"total": count(findings)}, "commits": [f.commit | some f in findings]},
})

test_passes_when_scan_is_clean if {
	inp := testing.input_for({"secret-scan": [_scan([])]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_for_a_secret_finding if {
	denies := rule.deny with input as testing.input_for({"secret-scan": [_scan([_aws_key])]}, "prod", _params)
	count(denies) == 1
	some d in denies
	d.msg == "gitleaks found a secret (rule aws-access-token) in deploy/settings.env line 14 (commit 5d1e3c0f9b8a); revoke and rotate it, then remove it from the code and history"
	d.evidence_ids == [testing.id("g")]
	d.details.fingerprint == _aws_key.fingerprint
}

test_fires_once_per_finding if {
	other := object.union(_aws_key, {"file": "src/shop/payments.py", "line": 3, "rule_id": "stripe-access-token", "fingerprint": "x:src/shop/payments.py:stripe-access-token:3"})
	count(rule.deny) == 2 with input as testing.input_for({"secret-scan": [_scan([_aws_key, other])]}, "prod", _params)
}

test_warns_for_a_triaged_fingerprint if {
	p := {"secrets": {"allowed_fingerprints": [_aws_key.fingerprint]}}
	inp := testing.input_for({"secret-scan": [_scan([_aws_key])]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_no_secret_scan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_and_still_fires_when_rule_data_absent if {
	inp := testing.input_for({"secret-scan": [_scan([_aws_key])]}, "prod", {})
	count(rule.deny) == 1 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_scan_has_no_findings_list if {
	r := json.remove(_scan([]), ["data/findings"])
	inp := testing.input_for({"secret-scan": [r]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

# Trivy's secret scanner (trivy image / fs, default scanners vuln,secret): its Secrets become
# data.secret_findings of the vulnerability-scan record (aquasecurity/trivy pkg/fanal/types/secret.go).
_trivy(findings) := testing.record("vulnerability-scan", "t", {
	"format": "trivy-json",
	"tool": {"name": "trivy", "version": "0.70.0"},
	"data": {"findings": [], "summary": {"total": 0}, "secret_findings": findings},
})

_trivy_key := {
	"rule_id": "aws-access-key-id",
	"category": "AWS",
	"severity": "critical",
	"file": "app/config.env",
	"line": 3,
	"fingerprint": "trivy:app/config.env:aws-access-key-id:3",
}

test_fires_for_a_trivy_secret if {
	inp := testing.input_for({"secret-scan": [_scan([])], "vulnerability-scan": [_trivy([_trivy_key])]}, "prod", _params)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	startswith(d.msg, "trivy found a secret (rule aws-access-key-id) in app/config.env line 3")
}

test_a_triaged_trivy_secret_warns if {
	p := {"secrets": {"allowed_fingerprints": [_trivy_key.fingerprint]}}
	inp := testing.input_for({"secret-scan": [_scan([])], "vulnerability-scan": [_trivy([_trivy_key])]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

# A gitleaks SARIF log (gitleaks --report-format sarif): its runs are marked secret_scanner by
# the collector and its results are secret findings.
_gitleaks_sarif(results) := testing.record("sast", "s", {
	"format": "sarif",
	"tool": {"name": "gitleaks", "version": "v8.21.2"},
	"data": {
		"findings": results,
		"tools": ["gitleaks", "CodeQL"],
		"runs": 2,
		"run_info": [
			{"tool": "gitleaks", "version": "v8.21.2", "complete": true, "reason": null, "revision": testing.commit, "secret_scanner": true},
			{"tool": "CodeQL", "version": "2.19.3", "complete": true, "reason": null, "revision": testing.commit, "secret_scanner": false},
		],
	},
})

_sarif_leak := {"rule_id": "aws-access-token", "level": "warning", "severity": "medium", "file": "deploy/settings.py", "line": 14, "message": "aws-access-token has detected secret for file deploy/settings.py.", "tool": "gitleaks"}

_codeql_note := {"rule_id": "py/unused-import", "level": "note", "severity": "low", "file": "shop/api/orders.py", "line": 3, "message": "Import of 'os' is not used.", "tool": "CodeQL"}

test_a_secret_scanner_sarif_counts_as_a_secret_scan if {
	inp := testing.input_for({"sast": [_gitleaks_sarif([_codeql_note])]}, "prod", _params)
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as inp
}

test_fires_for_a_secret_in_a_secret_scanner_sarif if {
	inp := testing.input_for({"sast": [_gitleaks_sarif([_sarif_leak, _codeql_note])]}, "prod", _params)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	startswith(d.msg, "gitleaks found a secret (rule aws-access-token) in deploy/settings.py line 14")
}

test_missing_when_a_secret_scanner_run_did_not_complete if {
	r := json.patch(_gitleaks_sarif([]), [{"op": "replace", "path": "/data/run_info/0/complete", "value": false}])
	missing := rule.missing with input as testing.input_for({"sast": [r]}, "prod", _params)
	count(missing) == 1
	some m in missing
	contains(m.msg, "the gitleaks run in artefacts/sast-s.json did not complete")
}
