package affidavit.rules.secrets.scan_covers_commit_test

import data.affidavit.lib.testing
import data.affidavit.rules.secrets.scan_covers_commit as rule

_params := {"secrets": {"require_commit": true, "require_commit_coverage": false}}

# A scan that states the revision it scanned (as the subject version), and found nothing.
_scan(n, version, commits) := testing.record("secret-scan", n, {
	"format": "trivy-json",
	"tool": {"name": "trivy", "version": "0.56.2"},
	"subject": {"name": "github.com/acme/shop", "version": version, "digest": null},
	"data": {"findings": [], "summary": {"total": 0}, "commits": commits},
})

# A clean gitleaks report is `[]`: it names no commit at all.
_clean_gitleaks := testing.record("secret-scan", "g", {
	"format": "gitleaks-json",
	"tool": {"name": "gitleaks", "version": null},
	"data": {"findings": [], "summary": {"total": 0}, "commits": []},
})

_input(scans) := testing.input_for({"secret-scan": scans}, "prod", _params)

test_passes_when_scan_states_the_promoted_commit if {
	inp := _input([_scan("s", testing.commit, [])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_passes_when_abbreviated_commit_matches if {
	inp := _input([_scan("s", upper(substring(testing.commit, 0, 12)), [])])
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_passes_when_a_finding_names_the_commit if {
	inp := _input([_scan("s", null, [testing.commit])])
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_when_scan_was_of_another_commit if {
	denies := rule.deny with input as _input([_scan("s", "1111111111111111111111111111111111111111", [])])
	count(denies) == 1
	some d in denies
	d.msg == sprintf("the secret scans were of commit(s) 1111111111111111111111111111111111111111, not the promoted commit %s", [testing.commit])
	d.evidence_ids == [testing.id("s")]
}

test_warns_when_no_scan_states_its_commit if {
	inp := _input([_clean_gitleaks])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_coverage_must_be_proven if {
	p := {"secrets": {"require_commit": true, "require_commit_coverage": true}}
	inp := testing.input_for({"secret-scan": [_clean_gitleaks]}, "prod", p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_promotion_names_no_commit if {
	inp := testing.with_context(_input([_scan("s", testing.commit, [])]), {"commit": null})
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_warns_when_no_commit_and_rule_data_allows if {
	p := {"secrets": {"require_commit": false, "require_commit_coverage": false}}
	inp := testing.with_context(testing.input_for({"secret-scan": [_clean_gitleaks]}, "staging", p), {"commit": null})
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_no_secret_scan if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"secret-scan": [_scan("s", testing.commit, [])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"secrets.require_commit", "secrets.require_commit_coverage"}
}

# A secret scanner's SARIF run that states the commit it scanned (versionControlProvenance
# revisionId, SARIF 2.1.0 3.14.28) proves coverage; a clean gitleaks JSON report names none.
_sarif(n, tool, secret, revision) := testing.record("sast", n, {
	"format": "sarif",
	"tool": {"name": tool, "version": "1"},
	"data": {"findings": [], "tools": [tool], "runs": 1, "run_info": [{"tool": tool, "version": "1", "complete": true, "reason": null, "revision": revision, "secret_scanner": secret}]},
})

_strict := {"secrets": {"require_commit": true, "require_commit_coverage": true}}

test_passes_when_a_secret_scanner_sarif_states_the_commit if {
	inp := testing.input_for({"secret-scan": [_clean_gitleaks], "sast": [_sarif("s", "gitleaks", true, testing.commit)]}, "prod", _strict)
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as inp
}

test_a_secret_scanner_sarif_alone_is_a_secret_scan if {
	inp := testing.input_for({"sast": [_sarif("s", "gitleaks", true, testing.commit)]}, "prod", _strict)
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as inp
}

test_fires_when_the_secret_scanner_sarif_is_of_another_commit if {
	inp := testing.input_for({"sast": [_sarif("s", "gitleaks", true, "1111111111111111111111111111111111111111")]}, "prod", _strict)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	contains(d.msg, "1111111111111111111111111111111111111111")
}

test_a_code_analysis_sarif_proves_no_secret_scan if {
	inp := testing.input_for({"secret-scan": [_clean_gitleaks], "sast": [_sarif("q", "CodeQL", false, testing.commit)]}, "prod", _strict)
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "coverage of the promoted commit")
}

test_a_secret_scanner_sarif_without_revision_proves_nothing if {
	inp := testing.input_for({"sast": [_sarif("s", "gitleaks", true, null)]}, "prod", _strict)
	count(rule.missing) == 1 with input as inp
}

test_an_incomplete_secret_scanner_run_proves_nothing if {
	r := json.patch(_sarif("s", "gitleaks", true, testing.commit), [{"op": "replace", "path": "/data/run_info/0/complete", "value": false}])
	count(rule.missing) == 1 with input as testing.input_for({"sast": [r]}, "prod", _strict)
}
