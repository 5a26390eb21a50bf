# METADATA
# title: The artefact carries a verified signature from an allowed identity
# description: A signature over the promoted digest was verified and was made by an identity (certificate subject and OIDC issuer, or key) that rule data allows, so the artefact comes from the trusted release pipeline. A verified signed attestation (DSSE envelope) naming the digest counts as such a signature.
# custom:
#   id: supply_chain.signature_verified
#   severity: critical
#   requires: []  # a signature record or a signed attestation (provenance) will do; the rule reports missing itself
#   controls:
#     soc2: [CC6.8, CC8.1]
#     iso27001-2022: [A.8.19, A.8.32]
#   remediation: Sign the image (or attest it) by digest in the release workflow (cosign sign / cosign attest, or a GitHub artifact attestation), pass the signature or bundle to the gate with --identity and --issuer (keyless) or --key, and add a legitimate signer to supply_chain.allowed_identities or allowed_key_ids.
package affidavit.rules.supply_chain.signature_verified

import data.affidavit.lib.evidence
import data.affidavit.lib.params
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
_policy(d) := d.policy if is_object(d.policy)

else := {}

_allowed(e) if {
	v := e.v
	some a in params.list("supply_chain", "allowed_identities")
	is_object(a)
	a.identity == v.identity
	a.issuer == v.issuer
}

_allowed(e) if {
	v := e.v
	some p in params.optional_list("supply_chain", "identity_patterns")
	is_object(p)
	is_string(p.identity)
	regex.is_valid(p.identity)
	is_string(v.identity)
	regex.match(p.identity, v.identity)
	p.issuer == v.issuer
}

_allowed(e) if {
	is_string(e.v.key_id)
	e.v.key_id in params.optional_list("supply_chain", "allowed_key_ids")
}

# A key-based signature verified against the public key the gate was given (--key): that key is
# pinned in the release pipeline's own command, which rule data may accept as trust in it.
_allowed(e) if {
	params.enabled("supply_chain", "accept_gate_key")
	not evidence.text(object.get(e.v, "identity", null))
	evidence.text(e.v.key_id)
	evidence.text(object.get(e.policy, "public_key", null))
}

_good := [e |
	some e in _verifications
	e.digest == subject.target
	e.v.verified == true
	_allowed(e)
]

_not_allowed_because(v) := "it is not in supply_chain.allowed_identities or identity_patterns" if {
	is_string(object.get(v, "identity", null))
} else := "it is not in supply_chain.allowed_key_ids, nor a key given to the gate with --key while supply_chain.accept_gate_key is true"

_reason(v) := v.error if evidence.text(v.error)

else := "no reason given"

_signer(v) := sprintf("identity %v (issuer %v)", [object.get(v, "identity", null), object.get(v, "issuer", null)]) if {
	is_string(object.get(v, "identity", null))
} else := sprintf("key %v", [object.get(v, "key_id", null)])

missing contains subject.no_target_msg if not subject.has_target

missing contains m if some m in params.problems("supply_chain", {"allowed_identities": "array", "accept_gate_key": "boolean"})

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
	count(_good) == 0
	some e in _verifications
	e.digest == subject.target
	e.v.verified == true
	not _allowed(e)
	v := {
		"msg": sprintf("the signature over %s in %s was made by %s, which is not allowed: %s", [subject.target, evidence.label(e.record), _signer(e.v), _not_allowed_because(e.v)]),
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
