# METADATA
# title: SLSA build level meets the environment's minimum
# description: Verified provenance of the promoted artefact comes from a build platform whose SLSA build level (stated by the attestation, else the level rule data assigns to its builder) is at or above the environment's minimum, so the build's protections match the risk of the target environment.
# custom:
#   id: supply_chain.slsa_level
#   severity: high
#   requires: [provenance]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.5.21, A.8.25]
#   remediation: Build on a platform that reaches the required SLSA build level (hosted, isolated builds with signed, non-forgeable provenance, e.g. the slsa-github-generator workflows for level 3) and pass its verified provenance to the gate.
#   effective_on: 2026-10-01
package affidavit.rules.supply_chain.slsa_level

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.signers
import data.affidavit.lib.subject

_provs := subject.for_target("provenance")

# Provenance that verified and was signed by a signer rule data allows (lib/signers).
_verified := [r | some r in _provs; signers.attested(r)]

# A record's level: what the attestation states (a VSA), else what rule data says its builder
# reaches (provenance itself states no level).
_level(r) := l if {
	l := evidence.data_of(r).slsa_level
	is_number(l)
} else := l if {
	builder := evidence.data_of(r).builder_id
	is_string(builder)
	some known, l in params.mapping("supply_chain", "builder_levels")
	lower(split(known, "@")[0]) == lower(split(builder, "@")[0])
	is_number(l)
}

_levels := [l | some r in _verified; l := _level(r)]

_builder(r) := b if {
	b := evidence.data_of(r).builder_id
	is_string(b)
} else := "(no builder)"

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"min_slsa_level": "number", "builder_levels": "object"})

missing contains m if some m in signers.problems

missing contains m if some m in signers.unconfigured

missing contains subject.no_record_msg("provenance", "SLSA build level") if {
	subject.has_target
	count(_provs) == 0
}

missing contains v if {
	params.number("supply_chain", "min_slsa_level") > 0
	count(_verified) > 0
	count(_levels) == 0
	v := {
		"msg": sprintf("the SLSA build level of %s is unknown: its provenance states none and its builder (%s) is not in supply_chain.builder_levels", [subject.target, concat(", ", sort({_builder(r) | some r in _verified}))]),
		"evidence_ids": evidence.ids(_verified),
	}
}

deny contains v if {
	signers.configured
	count(_provs) > 0
	count(_verified) == 0
	v := {
		"msg": sprintf("no provenance of %s is verified and signed by a signer rule data allows, so no SLSA build level can be credited (claimed levels: %s)", [subject.target, _claimed]),
		"evidence_ids": evidence.ids(_provs),
	}
}

_claimed_levels := [sprintf("%v", [l]) | some r in _provs; l := evidence.data_of(r).slsa_level; is_number(l)]

_claimed := concat(", ", _claimed_levels) if count(_claimed_levels) > 0

else := "none"

deny contains v if {
	minimum := params.number("supply_chain", "min_slsa_level")
	count(_levels) > 0
	max(_levels) < minimum
	v := {
		"msg": sprintf("the provenance of %s shows SLSA build level %v; %v requires at least level %v (supply_chain.min_slsa_level)", [subject.target, max(_levels), input.context.environment, minimum]),
		"evidence_ids": evidence.ids(_verified),
		"details": {"level": max(_levels), "min_slsa_level": minimum},
	}
}
