# METADATA
# title: The artefact carries a verified signature from an allowed identity
# description: A signature over the promoted digest was verified and was made by an identity (certificate subject and OIDC issuer, or key) that rule data allows, so the artefact comes from the trusted release pipeline. A verified signed attestation (DSSE envelope) naming the digest counts as such a signature.
# custom:
#   id: supply_chain.signature_verified
#   severity: critical
#   requires: []  # a signature record or a signed attestation (provenance) will do; the rule reports missing itself
#   cites: [provenance, signature]  # what a pass stands on: these records, not every file
#   controls:
#     soc2: [CC6.8, CC8.1]
#     iso27001-2022: [A.8.19, A.8.32]
#   remediation: Sign the image (or attest it) by digest in the release workflow (cosign sign / cosign attest, or a GitHub artifact attestation), pass the signature or bundle to the gate with --identity and --issuer (keyless) or --key, and add a legitimate signer to supply_chain.allowed_identities or allowed_key_ids.
package affidavit.rules.supply_chain.signature_verified

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.signers
import data.affidavit.lib.subject

_records := evidence.records("signature")

# Signed attestations: provenance records carry their envelope's verification in data.signature.
_attestations := [r |
	some r in evidence.records("provenance")
	is_object(evidence.data_of(r).signature)
]

# Every verification with the record it came from and the digest it speaks of ("" when none).
_verifications := array.concat(
	[{"record": r, "v": v, "digest": _digest(r, v), "policy": _policy(evidence.data_of(r))} |
		some r in _records
		some v in evidence.array_at(evidence.data_of(r), "verifications")
		is_object(v)
	],
	[{"record": r, "v": v, "digest": _digest(r, v), "policy": _policy(evidence.data_of(r).signature)} |
		some r in _attestations
		some v in evidence.array_at(evidence.data_of(r).signature, "verifications")
		is_object(v)
	],
)

_digest(r, v) := d if {
	d := subject.normalize(object.get(v, "subject_digest", null))
} else := d if {
	d := subject.normalize(object.get(r, ["subject", "digest"], null))
} else := ""

# The verification policy the collector applied (the gate's --identity/--issuer/--key).
_policy(d) := signers.policy_of(d)

# Who may sign is the rule data's allow-list, read in one place for every rule (lib/signers).
_allowed(e) if signers.allowed(e.v, e.policy)

_good := [e |
	some e in _verifications
	e.digest == subject.target
	e.v.verified == true
	_allowed(e)
]

_reason(v) := v.error if evidence.text(v.error)

else := "no reason given"

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"allowed_identities": "array", "accept_gate_key": "boolean"})

missing contains m if some m in signers.problems

# No signer is trusted yet (the built-in rule data trusts no one): insufficient, with the keys to set.
missing contains m if some m in signers.unconfigured

warn contains m if some m in signers.ignored

missing contains v if {
	count(_verifications) == 0
	v := {
		"msg": "no signature verification was supplied: pass the image's signature (a sigstore bundle, cosign verify --output json, or a signed attestation of the image) to the gate",
		"evidence_ids": evidence.ids(array.concat(_records, _attestations)),
	}
}

missing contains v if {
	count(_good) == 0
	some e in _verifications
	e.digest == ""
	v := {
		"msg": sprintf("the signature verification in %s names no digest, so it cannot be shown to cover %s", [evidence.label(e.record), subject.target]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

deny contains v if {
	count(_good) == 0
	some e in _verifications
	e.digest == subject.target
	object.get(e.v, "verified", null) != true
	v := {
		"msg": sprintf("the signature over %s in %s did not verify: %v", [subject.target, evidence.label(e.record), _reason(e.v)]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

deny contains v if {
	signers.configured
	count(_good) == 0
	some e in _verifications
	e.digest == subject.target
	e.v.verified == true
	not _allowed(e)
	v := {
		"msg": sprintf("the signature over %s in %s was made by %s, which is not allowed: %s", [subject.target, evidence.label(e.record), signers.describe(e.v), signers.not_allowed_because(e.v)]),
		"evidence_ids": evidence.id_list(e.record),
		"details": {"identity": object.get(e.v, "identity", null), "issuer": object.get(e.v, "issuer", null), "key_id": object.get(e.v, "key_id", null)},
	}
}

deny contains v if {
	subject.has_target
	count(_good) == 0
	some e in _verifications
	e.digest != ""
	e.digest != subject.target
	v := {
		"msg": sprintf("the signature in %s is for %s, not for the promoted artefact %s", [evidence.label(e.record), e.digest, subject.target]),
		"evidence_ids": evidence.id_list(e.record),
	}
}
