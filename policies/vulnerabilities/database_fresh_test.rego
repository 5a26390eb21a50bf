package affidavit.rules.vulnerabilities.database_fresh_test

import data.affidavit.lib.testing
import data.affidavit.rules.vulnerabilities.database_fresh as rule

_params := {"vulnerabilities": {"max_db_age_days": 2, "unknown_db_age": "insufficient_evidence"}}

_relaxed := {"vulnerabilities": {"max_db_age_days": 7, "unknown_db_age": "warn"}}

# A grype report: the collector keeps the DB build time as data.database.updated_at.
_scan(n, database) := testing.record("vulnerability-scan", n, {
	"format": "grype-json",
	"tool": {"name": "grype", "version": "0.82.0"},
	"subject": {"name": "ghcr.io/acme/shop:1.8.0", "version": null, "digest": testing.digest},
	"effective_at": "2026-11-22T09:20:11Z",
	"data": object.union(
		{
			"findings": [],
			"summary": {"critical": 0, "high": 0, "medium": 0, "low": 0, "negligible": 0, "unknown": 0, "total": 0},
			"targets": ["ghcr.io/acme/shop:1.8.0"],
		},
		database,
	),
})

_input(scans) := testing.input_for({"vulnerability-scan": scans}, "prod", _params)

test_passes_when_database_is_recent if {
	inp := _input([_scan("v", {"database": {"updated_at": "2026-11-21T01:33:05Z", "version": "v6.0.2", "schema": "6"}})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_fires_when_database_is_old if {
	denies := rule.deny with input as _input([_scan("v", {"database": {"updated_at": "2026-11-12T12:00:00Z", "version": "v6.0.2", "schema": "6"}})])
	count(denies) == 1
	some d in denies
	d.msg == "the vulnerability database used by grype for artefacts/vulnerability-scan-v.json was last updated 2026-11-12T12:00:00Z, 10 days before this run; at most 2 days are allowed (vulnerabilities.max_db_age_days)"
	d.evidence_ids == [testing.id("v")]
}

test_threshold_comes_from_rule_data if {
	inp := testing.input_for({"vulnerability-scan": [_scan("v", {"database": {"updated_at": "2026-11-12T12:00:00Z"}})]}, "dev", {"vulnerabilities": {"max_db_age_days": 30}})
	count(rule.deny) == 0 with input as inp
}

test_missing_in_prod_when_report_gives_no_database_date if {
	# pip-audit, npm audit, OSV-Scanner and standalone Trivy record no database date
	inp := _input([_scan("v", {})])
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "(grype) does not say when its vulnerability database was updated")
	# warn is not honoured in prod
	count(rule.missing) == 1 with input as testing.input_for({"vulnerability-scan": [_scan("v", {})]}, "prod", _relaxed)
}

test_warns_outside_prod_where_rule_data_says if {
	inp := testing.input_for({"vulnerability-scan": [_scan("v", {})]}, "staging", _relaxed)
	count(rule.missing) == 0 with input as inp
	warns := rule.warn with input as inp
	count(warns) == 1
	some w in warns
	contains(w.msg, "does not say when its vulnerability database was updated")
}

test_missing_when_database_date_is_not_a_timestamp if {
	count(rule.missing) == 1 with input as _input([_scan("v", {"database": {"updated_at": "yesterday"}})])
}

test_missing_when_unknown_db_age_is_not_an_outcome if {
	inp := testing.input_for({"vulnerability-scan": [_scan("v", {})]}, "staging", {"vulnerabilities": {"max_db_age_days": 7, "unknown_db_age": "pass"}})
	missing := rule.missing with input as inp
	some m in missing
	m.msg == "rule data vulnerabilities.unknown_db_age is pass; it must be insufficient_evidence or warn"
}

test_missing_when_no_scan if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"vulnerability-scan": [_scan("v", {})]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"vulnerabilities.max_db_age_days", "vulnerabilities.unknown_db_age"}
}

test_missing_when_scans_are_of_another_artefact if {
	r := object.union(_scan("v", {"database": {"updated_at": "2026-11-01T00:00:00Z"}}), {"subject": {"digest": testing.other_digest}})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "none of the vulnerability scans is of the promoted artefact")
}
