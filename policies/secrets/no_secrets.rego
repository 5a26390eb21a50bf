# METADATA
# title: No secrets found in the source
# description: The secret scans of the source (Gitleaks and other secret scanners, in their JSON or SARIF, and the secret scanner of Trivy) report no findings, apart from fingerprints that rule data records as triaged false positives, so no credential ships in the code, its history or the image.
# custom:
#   id: secrets.no_secrets
#   severity: critical
#   requires: []
#   cites: [sast, secret-scan, vulnerability-scan]  # what a pass stands on: these records, not every file
#   controls:
#     soc2: [CC6.1]
#     iso27001-2022: [A.5.17, A.8.12, A.8.28]
#   remediation: Revoke and rotate each exposed credential first, then remove it from the code and history; record a finding confirmed to be a false positive by its fingerprint in secrets.allowed_fingerprints (or a .gitleaksignore) and rescan.
package affidavit.rules.secrets.no_secrets

import data.affidavit.lib.evidence
import data.affidavit.lib.params

_scans := evidence.records("secret-scan")

# SARIF logs of secret scanners (gitleaks --report-format sarif ...): their runs are marked by the
# collector (run_info[].secret_scanner) and their results are secret findings.
_sarif_scans := [r |
	some r in evidence.records("sast")
	count(_secret_tools(r)) > 0
]

_secret_tools(r) := {lower(i.tool) |
	some i in evidence.array_at(evidence.data_of(r), "run_info")
	is_object(i)
	i.secret_scanner == true
	is_string(i.tool)
}

missing contains m if some m in params.problems("secrets", {"allowed_fingerprints": "array"})

missing contains m if some m in evidence.malformed(_scans, "findings")

missing contains v if {
	count(_scans) == 0
	count(_sarif_scans) == 0
	v := {
		"msg": "no secret scan was supplied: scan the repository (e.g. gitleaks detect --report-format json --report-path gitleaks.json) and pass the report to the gate",
		"evidence_ids": [],
	}
}

_findings := array.concat(
	array.concat(
		[{"record": r, "f": f} |
			some r in _scans
			some f in evidence.array_at(evidence.data_of(r), "findings")
			is_object(f)
		],
		# Trivy's secret scanner (on by default for images and file systems): its Secrets.
		[{"record": r, "f": f} |
			some r in evidence.records("vulnerability-scan")
			some f in evidence.array_at(evidence.data_of(r), "secret_findings")
			is_object(f)
		],
	),
	[{"record": r, "f": f} |
		some r in _sarif_scans
		some f in evidence.array_at(evidence.data_of(r), "findings")
		is_object(f)
		is_string(f.tool)
		lower(f.tool) in _secret_tools(r)
	],
)

_accepted(f) if {
	is_string(f.fingerprint)
	f.fingerprint in params.list("secrets", "allowed_fingerprints")
}

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
		"msg": sprintf("%v found a secret (rule %v) in %s; revoke and rotate it, then remove it from the code and history", [_scanner(e), object.get(e.f, "rule_id", "?"), _where(e.f)]),
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

_scanner(e) := e.f.tool if is_string(e.f.tool)
else := object.get(e.record, ["tool", "name"], "the secret scanner")

# A secret scanner's run that failed or reported errors scanned part of the code at most.
missing contains v if {
	some r in _sarif_scans
	some i in evidence.array_at(evidence.data_of(r), "run_info")
	is_object(i)
	i.secret_scanner == true
	not i.complete == true
	v := {
		"msg": sprintf("the %v run in %s did not complete (%v), so secrets in what it did not scan are unknown: fix the error and re-run the scan", [i.tool, evidence.label(r), object.get(i, "reason", "no reason stated")]),
		"evidence_ids": evidence.id_list(r),
	}
}
