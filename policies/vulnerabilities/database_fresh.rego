# METADATA
# title: Scanner vulnerability database is recent
# description: Where a scan report says when its vulnerability database was last updated, that update is no older than rule data allows, so the scan knows about recently published vulnerabilities; a report that does not say is flagged.
# custom:
#   id: vulnerabilities.database_fresh
#   severity: medium
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8]
#   remediation: Update the scanner's database before scanning (trivy refreshes it unless --skip-db-update is set; grype db update) and rescan; in air-gapped builds refresh the mirrored database at least every vulnerabilities.max_db_age_days days.
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

missing contains m if some m in params.problems("vulnerabilities", {"max_db_age_days": "number"})

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

warn contains v if {
	some r in _scans
	not _updated(r)
	v := {
		"msg": sprintf("%s does not say when its vulnerability database was updated, so its freshness cannot be checked", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}
