# METADATA
# title: SLSA build level meets the environment's minimum
# description: The promoted artefact's SLSA build level, credited from who signed its evidence and never from what a document claims, is at or above the environment's minimum. A verified SLSA provenance is credited the level rule data gives its builder only when one of the signers rule data names for that builder signed it, and level 1 when an otherwise allowed signer did; a verification summary (VSA) counts only when it PASSED, names the artefact and was signed by a signer of a verifier rule data allows.
# custom:
#   id: supply_chain.slsa_level
#   severity: high
#   requires: [provenance]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.5.21, A.8.25]
#   remediation: Build on a platform that reaches the required SLSA build level (hosted, isolated builds whose platform signs the provenance, e.g. the slsa-github-generator workflows for level 3), list it in supply_chain.allowed_builders with its level and the signers that sign for it, and pass its verified provenance (or a PASSED VSA of a verifier in supply_chain.allowed_verifiers) to the gate.
#   effective_on: 2026-10-01
package affidavit.rules.supply_chain.slsa_level

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.signers
import data.affidavit.lib.subject

_provs := subject.for_target("provenance")

_kind(r) := object.get(evidence.data_of(r), "predicate_kind", null)

# SLSA provenance and verification summaries that name the promoted digest.
_slsa := [r | some r in _provs; _kind(r) == "slsa-provenance"]

_vsas := [r | some r in _provs; _kind(r) == "verification-summary"]

_builder(r) := b if {
	b := evidence.data_of(r).builder_id
	evidence.text(b)
} else := "(no builder)"

# The level a provenance record is credited with: its builder's level when a signer rule data
# names for that builder signed it; else 1 when a signer rule data allows signed it (SLSA Build
# L1: provenance exists; a platform-signed provenance is what L2 adds); else none.
_level(r) := max([e.level | some e in signers.builders_for(r)]) if {
	count(signers.builders_for(r)) > 0
} else := 1 if {
	signers.attested(r)
}

_verification(r) := v if {
	v := evidence.data_of(r).verification
	is_object(v)
} else := {}

_verifier(r) := object.get(_verification(r), "verifier_id", null)

_result(r) := object.get(_verification(r), "verification_result", null)

# The allow-listed verifier entries whose signers signed the VSA record r and whose id it names.
_vouched(r) := [e |
	some e in signers.verifier_entries
	_verifier(r) == e.id
	signers.signed_by(r, e)
]

# A VSA's level: the highest SLSA_BUILD_LEVEL_n it verified, when it PASSED, names the artefact
# (it is among _vsas) and an allow-listed verifier signed it.
_vsa_level(r) := l if {
	_result(r) == "PASSED"
	count(_vouched(r)) > 0
	l := evidence.data_of(r).slsa_level
	is_number(l)
}

_credited := array.concat(
	[{"record": r, "level": l} | some r in _slsa; l := _level(r)],
	[{"record": r, "level": l} | some r in _vsas; l := _vsa_level(r)],
)

_levels := [c.level | some c in _credited]

# Why a record is credited what it is (or nothing), for messages.
_why(r) := sprintf("%s is not verified (%s)", [evidence.label(r), _reasons(r)]) if {
	object.get(evidence.data_of(r), "verified", null) != true
} else := sprintf("%s: builder %s, level %v, signed by a signer rule data names for it", [evidence.label(r), _builder(r), _level(r)]) if {
	_kind(r) == "slsa-provenance"
	count(signers.builders_for(r)) > 0
} else := sprintf("%s: builder %s is claimed, but its signer (%s) is not one supply_chain.allowed_builders names for that builder, so only level 1 is credited (provenance exists, signed by an allowed signer)", [evidence.label(r), _builder(r), _signers(r)]) if {
	_kind(r) == "slsa-provenance"
	count(signers.claimed_builders(r)) > 0
	signers.attested(r)
} else := sprintf("%s: builder %s is not in supply_chain.allowed_builders, so only level 1 is credited (provenance exists, signed by an allowed signer)", [evidence.label(r), _builder(r)]) if {
	_kind(r) == "slsa-provenance"
	signers.attested(r)
} else := sprintf("%s: its signer (%s) is neither a signer of its builder %s in supply_chain.allowed_builders nor otherwise allowed, so no level is credited", [evidence.label(r), _signers(r), _builder(r)]) if {
	_kind(r) == "slsa-provenance"
} else := sprintf("%s: a verification summary whose verificationResult is %v, not PASSED, credits nothing", [evidence.label(r), _result(r)]) if {
	_result(r) != "PASSED"
} else := sprintf("%s: its verifier %v is not in supply_chain.allowed_verifiers, so it credits nothing", [evidence.label(r), _verifier(r)]) if {
	not _verifier(r) in {e.id | some e in signers.verifier_entries}
} else := sprintf("%s: it names verifier %v, but its signer (%s) is not one supply_chain.allowed_verifiers names for that verifier", [evidence.label(r), _verifier(r), _signers(r)]) if {
	count(_vouched(r)) == 0
} else := sprintf("%s: verified by %v, states no SLSA build level", [evidence.label(r), _verifier(r)]) if {
	not _vsa_level(r)
} else := sprintf("%s: verified by %v at SLSA build level %v", [evidence.label(r), _verifier(r), _vsa_level(r)])

_reasons(r) := concat("; ", reasons) if {
	reasons := [x | some x in evidence.array_at(object.get(evidence.data_of(r), "signature", {}), "reasons"); is_string(x)]
	count(reasons) > 0
} else := "no signature was checked"

_signers(r) := concat(" / ", sort(signers.signers_of(r))) if count(signers.signers_of(r)) > 0

else := "none recorded"

_explained := concat("; ", sort([_why(r) | some r in array.concat(_slsa, _vsas)]))

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"min_slsa_level": "number"})

missing contains m if some m in signers.problems

missing contains m if some m in signers.table_problems

missing contains m if some m in signers.unconfigured

# Rule data of the old shape: a level per builder id, trusted whoever signed. It is not read.
missing contains v if {
	params.value("supply_chain", "builder_levels")
	v := {
		"msg": "rule data sets supply_chain.builder_levels, which is no longer read: a level is credited only through the signers of a builder, so give each builder its level and signers in supply_chain.allowed_builders (see docs/params.md)",
		"evidence_ids": [],
	}
}

missing contains subject.no_record_msg("provenance", "SLSA build level") if {
	subject.has_target
	count(_provs) == 0
}

missing contains v if {
	subject.has_target
	count(_provs) > 0
	count(_slsa) + count(_vsas) == 0
	v := {
		"msg": sprintf("no SLSA provenance or verification summary names %s: the attestations supplied (%s) state no build, so no SLSA build level can be credited; pass the build's SLSA provenance", [subject.target, concat(", ", sort({sprintf("%v", [_kind(r)]) | some r in _provs}))]),
		"evidence_ids": evidence.ids(_provs),
	}
}

deny contains v if {
	signers.configured
	signers.tables_ok
	count(_slsa) + count(_vsas) > 0
	count(_credited) == 0
	v := {
		"msg": sprintf("no SLSA build level can be credited to %s: %s", [subject.target, _explained]),
		"evidence_ids": evidence.ids(array.concat(_slsa, _vsas)),
	}
}

deny contains v if {
	signers.tables_ok
	minimum := params.number("supply_chain", "min_slsa_level")
	count(_levels) > 0
	max(_levels) < minimum
	v := {
		"msg": sprintf("the provenance of %s shows SLSA build level %v; %v requires at least level %v (supply_chain.min_slsa_level): %s", [subject.target, max(_levels), input.context.environment, minimum, _explained]),
		"evidence_ids": evidence.ids([c.record | some c in _credited]),
		"details": {"level": max(_levels), "min_slsa_level": minimum},
	}
}
