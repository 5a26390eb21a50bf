# METADATA
# title: A vulnerability scan covers the promoted artefact
# description: At least one vulnerability scan names the digest being promoted (a digest the scanner itself resolved) and shows that its vulnerability scanner ran, and every image target listed in rule data appears in some scan, so no promoted image goes unscanned.
# custom:
#   id: vulnerabilities.scan_covers_subject
#   severity: high
#   requires: [vulnerability-scan]
#   controls:
#     soc2: [CC7.1]
#     iso27001-2022: [A.8.8]
#   remediation: Scan the image by its digest in the release pipeline (trivy image IMAGE@DIGEST or grype IMAGE@DIGEST) and every image listed in vulnerabilities.required_targets, and pass the reports to the gate.
package affidavit.rules.vulnerabilities.scan_covers_subject

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.subject

_scans := evidence.records("vulnerability-scan")

# Scans of the target that show the vulnerability scanner ran (a Trivy report of only
# misconfiguration, secret or licence results covers nothing here: scanned_for_vulnerabilities).
_for_target := [r | some r in subject.for_target("vulnerability-scan"); _vulnerability_scan(r)]

_vulnerability_scan(r) if object.get(evidence.data_of(r), "scanned_for_vulnerabilities", true) == true

missing contains v if {
	subject.has_target
	count(_for_target) == 0
	others := [r | some r in subject.for_target("vulnerability-scan"); not _vulnerability_scan(r)]
	count(others) > 0
	v := {
		"msg": sprintf("the scans of %s (%s) do not show that vulnerabilities were scanned for (only misconfiguration, secret or licence results, or none); run the scanner with its vulnerability scanner on", [subject.target, concat(", ", sort([evidence.label(r) | some r in others]))]),
		"evidence_ids": evidence.ids(others),
	}
}

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("vulnerabilities", {"required_targets": "array"})

missing contains v if {
	count(_scans) == 0
	v := {
		"msg": "no vulnerability scan was supplied: scan the image by digest and pass the report to the gate",
		"evidence_ids": [],
	}
}

missing contains v if {
	subject.has_target
	count(_for_target) == 0
	some r in _scans
	not subject.names_digest(r)
	v := {
		"msg": sprintf("the vulnerability scan %s names no image digest, so it cannot be shown to cover %s; scan the image by digest", [evidence.label(r), subject.target]),
		"evidence_ids": evidence.id_list(r),
	}
}

deny contains v if {
	subject.has_target
	count(_for_target) == 0
	others := [r | some r in _scans; subject.about_other(r)]
	count(others) > 0
	v := {
		"msg": sprintf("no vulnerability scan covers the promoted artefact %s: the scans supplied are of %s", [subject.target, subject.describe({d | some r in others; some d in subject.digests(r)})]),
		"evidence_ids": evidence.ids(others),
	}
}

# The names a scan covers: its targets and its subject name, lower-cased.
_covered(r) := {lower(t) |
	some t in array.concat(evidence.array_at(evidence.data_of(r), "targets"), [object.get(r, ["subject", "name"], null)])
	is_string(t)
}

deny contains v if {
	count(_scans) > 0
	some required in params.list("vulnerabilities", "required_targets")
	is_string(required)
	not _scanned(lower(required))
	v := {
		"msg": sprintf("no vulnerability scan covers the required target %s (vulnerabilities.required_targets); the scans cover: %s", [required, concat(", ", sort({t | some r in _scans; some t in _covered(r)}))]),
		"evidence_ids": evidence.ids(_scans),
	}
}

_scanned(required) if {
	some r in _scans
	some t in _covered(r)
	startswith(t, required)
}
