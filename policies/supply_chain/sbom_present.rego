# METADATA
# title: An SBOM exists for the promoted artefact
# description: At least one SBOM names the digest of the artefact being promoted, so its components are known and can be checked for vulnerabilities and licences.
# custom:
#   id: supply_chain.sbom_present
#   severity: high
#   requires: [sbom]
#   controls:
#     soc2: [CC7.1, CC8.1]
#     iso27001-2022: [A.8.8, A.5.21]
#   remediation: Generate an SBOM from the image by digest in the build (for example `syft ghcr.io/acme/shop@sha256:... -o cyclonedx-json`) and pass it to the gate.
package affidavit.rules.supply_chain.sbom_present

import data.affidavit.lib.evidence
import data.affidavit.lib.subject

_sboms := evidence.records("sbom")

_for_target := subject.for_target("sbom")

missing contains subject.no_target_msg if not subject.has_target

missing contains v if {
	count(_sboms) == 0
	v := {
		"msg": "no SBOM was supplied: generate a CycloneDX or SPDX SBOM of the image in the build and pass it to the gate",
		"evidence_ids": [],
	}
}

# SBOMs that name no digest cannot be matched to the artefact either way.
missing contains v if {
	subject.has_target
	count(_for_target) == 0
	some r in _sboms
	not subject.names_digest(r)
	v := {
		"msg": sprintf("SBOM %s names no digest, so it cannot be shown to describe %s; generate it from the image by digest", [evidence.label(r), subject.target]),
		"evidence_ids": evidence.id_list(r),
	}
}

deny contains v if {
	subject.has_target
	count(_for_target) == 0
	others := [r | some r in _sboms; subject.about_other(r)]
	count(others) > 0
	v := {
		"msg": sprintf("no SBOM describes the promoted artefact %s: the SBOM(s) supplied describe %s", [subject.target, subject.describe({d | some r in others; some d in subject.digests(r)})]),
		"evidence_ids": evidence.ids(others),
	}
}
