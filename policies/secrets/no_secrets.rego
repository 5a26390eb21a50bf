# METADATA
# title: No secrets found in the source
# description: The secret scans of the source report no findings, apart from fingerprints that rule data records as triaged false positives, so no credential ships in the code or its history.
# custom:
#   id: secrets.no_secrets
#   severity: critical
#   requires: [secret-scan]
#   controls:
#     soc2: [CC6.1]
#     iso27001-2022: [A.5.17, A.8.12]
#   remediation: Revoke and rotate each exposed credential first, then remove it from the code and history; record a finding confirmed to be a false positive by its fingerprint in secrets.allowed_fingerprints (or a .gitleaksignore) and rescan.
package affidavit.rules.secrets.no_secrets

import data.affidavit.lib.evidence
import data.affidavit.lib.params

_scans := evidence.records("secret-scan")

missing contains m if some m in params.problems("secrets", {"allowed_fingerprints": "array"})

missing contains m if some m in evidence.malformed(_scans, "findings")

missing contains v if {
	count(_scans) == 0
	v := {
		"msg": "no secret scan was supplied: scan the repository (e.g. gitleaks detect --report-format json --report-path gitleaks.json) and pass the report to the gate",
		"evidence_ids": [],
	}
}

_findings := [{"record": r, "f": f} |
	some r in _scans
	some f in evidence.array_at(evidence.data_of(r), "findings")
	is_object(f)
]

_accepted(f) if f.fingerprint in params.list("secrets", "allowed_fingerprints")

_where(f) := sprintf("%v line %v (commit %s)", [object.get(f, "file", "(unknown file)"), object.get(f, "line", "?"), _short(object.get(f, "commit", null))])

_short(c) := substring(c, 0, 12) if {
	is_string(c)
	count(c) > 12
} else := c if is_string(c)

else := "unknown"

deny contains v if {
	some e in _findings
	not _accepted(e.f)
	v := {
		"msg": sprintf("%v found a secret (rule %v) in %s; revoke and rotate it, then remove it from the code and history", [object.get(e.record, ["tool", "name"], "the secret scanner"), object.get(e.f, "rule_id", "?"), _where(e.f)]),
		"evidence_ids": evidence.id_list(e.record),
		"details": {"rule_id": object.get(e.f, "rule_id", null), "file": object.get(e.f, "file", null), "line": object.get(e.f, "line", null), "commit": object.get(e.f, "commit", null), "fingerprint": object.get(e.f, "fingerprint", null)},
	}
}

warn contains v if {
	some e in _findings
	_accepted(e.f)
	v := {
		"msg": sprintf("secret finding %v (rule %v) in %s is accepted as a false positive by secrets.allowed_fingerprints", [e.f.fingerprint, object.get(e.f, "rule_id", "?"), _where(e.f)]),
		"evidence_ids": evidence.id_list(e.record),
	}
}
