package affidavit.rules.vulnerabilities.scan_covers_subject_test

import data.affidavit.lib.testing
import data.affidavit.rules.vulnerabilities.scan_covers_subject as rule

_params := {"vulnerabilities": {"required_targets": []}}

_scan(n, name, digest, targets) := testing.record("vulnerability-scan", n, {
	"format": "trivy-json",
	"format_version": "2",
	"tool": {"name": "trivy", "version": "0.56.2"},
	"subject": {"name": name, "version": null, "digest": digest},
	"data": {
		"findings": [],
		"summary": {"critical": 0, "high": 0, "medium": 0, "low": 0, "negligible": 0, "unknown": 0, "total": 0},
		"targets": targets,
	},
})

_shop := _scan("v", "ghcr.io/acme/shop:1.8.0", testing.digest, ["ghcr.io/acme/shop:1.8.0 (debian 12.7)", "Python"])

_worker := _scan("w", "ghcr.io/acme/shop-worker:1.8.0", testing.other_digest, ["ghcr.io/acme/shop-worker:1.8.0 (alpine 3.20.3)"])

test_passes_when_scan_names_subject_digest if {
	inp := testing.input_for({"vulnerability-scan": [_shop]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_scans_are_of_another_artefact if {
	denies := rule.deny with input as testing.input_for({"vulnerability-scan": [_worker]}, "prod", _params)
	count(denies) == 1
	some d in denies
	d.msg == sprintf("no vulnerability scan covers the promoted artefact %s: the scans supplied are of %s", [testing.digest, testing.other_digest])
	d.evidence_ids == [testing.id("w")]
}

test_passes_when_every_required_target_is_scanned if {
	p := {"vulnerabilities": {"required_targets": ["ghcr.io/acme/shop", "ghcr.io/acme/shop-worker"]}}
	inp := testing.input_for({"vulnerability-scan": [_shop, _worker]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_a_required_target_is_not_scanned if {
	p := {"vulnerabilities": {"required_targets": ["ghcr.io/acme/shop-worker"]}}
	denies := rule.deny with input as testing.input_for({"vulnerability-scan": [_shop]}, "prod", p)
	count(denies) == 1
	some d in denies
	d.msg == "no vulnerability scan covers the required target ghcr.io/acme/shop-worker (vulnerabilities.required_targets); the scans cover: ghcr.io/acme/shop:1.8.0, ghcr.io/acme/shop:1.8.0 (debian 12.7), python"
}

test_missing_when_scan_names_no_digest if {
	fs := _scan("f", "shop", null, ["requirements.txt"])
	inp := testing.input_for({"vulnerability-scan": [fs]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_scan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"vulnerability-scan": [_shop]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"vulnerabilities.required_targets"}
}

test_missing_when_context_names_no_digest if {
	inp := testing.with_context(testing.input_for({"vulnerability-scan": [_shop]}, "prod", _params), {"subject": {"name": "ghcr.io/acme/shop", "digest": null}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	some m in missing
	startswith(m.msg, "the promotion names no subject digest")
}

test_missing_when_the_scan_of_the_target_is_no_vulnerability_scan if {
	# trivy image --scanners misconfig,secret IMAGE@DIGEST: result classes config and secret only
	secrets_only := json.patch(_shop, [{"op": "add", "path": "/data/scanned_for_vulnerabilities", "value": false}])
	inp := testing.input_for({"vulnerability-scan": [secrets_only]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "do not show that vulnerabilities were scanned for")
	scanned := json.patch(_shop, [{"op": "add", "path": "/data/scanned_for_vulnerabilities", "value": true}])
	count(rule.missing) == 0 with input as testing.input_for({"vulnerability-scan": [scanned]}, "prod", _params)
}
