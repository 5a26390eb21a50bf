# METADATA
# title: All evidence is about the promoted artefact
# description: Every evidence record that names an artefact digest names the digest being promoted, so no scan, SBOM, signature or approval of another build is counted for this one.
# custom:
#   id: supply_chain.same_subject
#   severity: critical
#   requires: []
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.32]
#   remediation: Produce every artefact (SBOM, scans, signature, provenance, change record) from the image by its digest in the same pipeline run, and pass only those to the gate.
package affidavit.rules.supply_chain.same_subject

import data.affidavit.lib.evidence
import data.affidavit.lib.subject

_naming := [r |
	some r in evidence.all_records
	subject.names_digest(r)
]

missing contains subject.no_target_msg if not subject.has_target

missing contains v if {
	subject.has_target
	count(_naming) == 0
	v := {
		"msg": sprintf("no evidence record names an artefact digest, so none can be shown to be about the promoted artefact %s; produce SBOMs, scans and signatures from the image by digest", [subject.target]),
		"evidence_ids": evidence.ids(evidence.all_records),
	}
}

deny contains v if {
	some r in _naming
	subject.about_other(r)
	v := {
		"msg": sprintf("the %v record %s is about %s, not the promoted artefact %s", [r.kind, evidence.label(r), subject.describe(subject.digests(r)), subject.target]),
		"evidence_ids": evidence.id_list(r),
		"details": {"digests": sort(subject.digests(r))},
	}
}
