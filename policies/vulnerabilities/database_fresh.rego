# METADATA
# title: Scanner vulnerability database is recent
# description: Every scan of the promoted artefact says when its vulnerability database was last updated (Grype's descriptor.db, Trivy's Trivy.Server.VulnerabilityDB) and that update is no older than rule data allows, so the scan knows about recently published vulnerabilities; a report that does not say (pip-audit, npm audit, OSV-Scanner and standalone Trivy record no database date) is insufficient evidence in prod, or as rule data unknown_db_age says elsewhere.
# custom:
#   id: vulnerabilities.database_fresh
#   severity: medium
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8]
#   remediation: Update the scanner's database before scanning (trivy refreshes it unless --skip-db-update is set; grype db update) and rescan; in air-gapped builds refresh the mirrored database at least every vulnerabilities.max_db_age_days days. Where the report does not record its database date, add a scan that does (grype -o json, or trivy in client/server mode), or set vulnerabilities.unknown_db_age outside prod.
package affidavit.rules.vulnerabilities.database_fresh

import data.affidavit.lib.dates
import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_all_scans := evidence.records("vulnerability-scan")

_scans := subject.relevant("vulnerability-scan")

_updated(r) := u if {
	u := object.get(evidence.data_of(r), ["database", "updated_at"], null)
	dates.valid(u)
}

missing contains m if some m in params.problems("vulnerabilities", {"max_db_age_days": "number", "unknown_db_age": "string"})

missing contains v if {
	action := params.value("vulnerabilities", "unknown_db_age")
	not action in {"insufficient_evidence", "warn"}
	v := {
		"msg": sprintf("rule data vulnerabilities.unknown_db_age is %v; it must be insufficient_evidence or warn", [action]),
		"evidence_ids": [],
	}
}

# What a scan of unknown database age is: `warn` is not honoured in prod (unknown is never a pass).
_unknown_action := "insufficient_evidence" if {
	input.context.environment == "prod"
} else := params.value("vulnerabilities", "unknown_db_age")

missing contains v if {
	count(_all_scans) == 0
	v := {
		"msg": "no vulnerability scan was supplied, so the freshness of its database cannot be judged",
		"evidence_ids": [],
	}
}

missing contains v if {
	count(_all_scans) > 0
	count(_scans) == 0
	v := {
		"msg": sprintf("none of the vulnerability scans is of the promoted artefact %s", [subject.target_text]),
		"evidence_ids": evidence.ids(_all_scans),
	}
}

deny contains v if {
	max_days := params.number("vulnerabilities", "max_db_age_days")
	some r in _scans
	updated := _updated(r)
	age := dates.age_days(updated)
	age > max_days
	v := {
		"msg": sprintf("the vulnerability database used by %v for %s was last updated %s, %v days before this run; at most %v days are allowed (vulnerabilities.max_db_age_days)", [object.get(r, ["tool", "name"], "the scanner"), evidence.label(r), updated, dates.round1(age), max_days]),
		"evidence_ids": evidence.id_list(r),
		"details": {"updated_at": updated, "age_days": dates.round1(age), "max_db_age_days": max_days},
	}
}

_unknown_age_msg(r) := sprintf("%s (%v) does not say when its vulnerability database was updated, so whether it knew of recently published vulnerabilities cannot be judged; add a scan that records its database date (grype -o json, or trivy in client/server mode)", [evidence.label(r), object.get(r, ["tool", "name"], "the scanner")])

missing contains v if {
	_unknown_action == "insufficient_evidence"
	some r in _scans
	not _updated(r)
	v := {"msg": _unknown_age_msg(r), "evidence_ids": evidence.id_list(r)}
}

warn contains v if {
	_unknown_action == "warn"
	some r in _scans
	not _updated(r)
	v := {"msg": _unknown_age_msg(r), "evidence_ids": evidence.id_list(r)}
}
