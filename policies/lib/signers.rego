# Who may sign: the one reading of the signer allow-list of rule data, for every rule that judges a
# signature or a signed attestation. The collectors only record who signed (the certificate's
# identity and OIDC issuer, or the key id) and whether the cryptography verified; allowing that
# signer is decided here:
#
#   supply_chain.allowed_identities  [{identity, issuer}]  identity compared exactly
#   supply_chain.identity_patterns   [{identity, issuer}]  identity a regular expression that must
#                                                          match the WHOLE identity
#   supply_chain.allowed_key_ids     [key id]              key-based signatures by these keys
#   supply_chain.accept_gate_key     boolean               outside prod: key-based signatures
#                                                          verified with --key
#
# The built-in rule data trusts no one. With all three lists empty (and the gate key not accepted)
# no signer is configured: `unconfigured` is the rules' `missing` entry, and they report
# insufficient evidence rather than refusing a signer that nothing could have allowed. A key given
# to the gate with --key is what signatures are checked with, not trust in it: in prod it counts
# only when its key id is in allowed_key_ids, whatever accept_gate_key says (`ignored` warns then).
#
# The issuer of an identity entry is required and compared exactly: an identity means nothing
# without the issuer that vouched for it. A pattern means what `re.fullmatch` means to
# `affidavit --identity re:...`: it is checked on its own first (so that "x)|(.*" cannot close the
# group the anchors are put around), then matched as ^(?:pattern)$. A malformed entry allows nobody
# and is reported by `problems`.
#
# Library files import nothing (see README.md): other libraries are named by their full path.
package affidavit.lib.signers

# matches(pattern, value) is true when the regular expression pattern matches the whole of value.
matches(pattern, value) if {
	is_string(pattern)
	is_string(value)
	regex.is_valid(pattern)
	regex.match(concat("", ["^(?:", pattern, ")$"]), value)
}

_text(v) if data.affidavit.lib.evidence.text(v)

_exact := data.affidavit.lib.params.optional_list("supply_chain", "allowed_identities")

_patterns := data.affidavit.lib.params.optional_list("supply_chain", "identity_patterns")

_key_ids := data.affidavit.lib.params.optional_list("supply_chain", "allowed_key_ids")

_accept_gate_key if data.affidavit.lib.params.enabled("supply_chain", "accept_gate_key")

_prod if input.context.environment == "prod"

# gate_key_accepted is true when a signature verified with the gate's --key counts as allowed:
# rule data says so, and the run is for a named environment other than prod.
gate_key_accepted if {
	_accept_gate_key
	is_string(input.context.environment)
	not _prod
}

# configured is true when rule data trusts some signer.
configured if count(_exact) > 0

configured if count(_patterns) > 0

configured if count(_key_ids) > 0

configured if gate_key_accepted

# unconfigured is the `missing` entry of every signature rule while no signer is configured.
unconfigured := {m |
	not configured
	m := data.affidavit.lib.params.unconfigured("trusted signers", "supply_chain.allowed_identities or identity_patterns (keyless signers: certificate identity and OIDC issuer) or supply_chain.allowed_key_ids (signing keys, by key id)")
}

# ignored is a `warn` entry when rule data asks prod to accept the gate's key, which prod never does.
ignored := {m |
	_accept_gate_key
	_prod
	m := {
		"msg": "rule data sets supply_chain.accept_gate_key for prod, where it is not honoured: in prod a key given to the gate with --key is trusted only when its key id is in supply_chain.allowed_key_ids",
		"evidence_ids": [],
	}
}

# A usable entry: an object with an identity string and a non-blank issuer.
_entry_ok(e) if {
	is_object(e)
	is_string(object.get(e, "identity", null))
	_text(object.get(e, "issuer", null))
}

# identity_allowed(identity, issuer) is true when rule data allows that certificate identity
# vouched for by that OIDC issuer.
identity_allowed(identity, issuer) if {
	is_string(identity)
	_text(issuer)
	some e in _exact
	_entry_ok(e)
	e.identity == identity
	e.issuer == issuer
}

identity_allowed(identity, issuer) if {
	is_string(identity)
	_text(issuer)
	some e in _patterns
	_entry_ok(e)
	e.issuer == issuer
	matches(e.identity, identity)
}

# key_allowed(key_id) is true when rule data lists the key id.
key_allowed(key_id) if {
	_text(key_id)
	key_id in _key_ids
}

# allowed(v, policy) is true when rule data allows the signer of verification v (an item of a
# record's data.verifications); policy is the verification policy the collector applied (its
# public_key is the key given to the gate with --key).
allowed(v, policy) if {
	is_object(v)
	identity_allowed(object.get(v, "identity", null), object.get(v, "issuer", null))
}

allowed(v, policy) if {
	is_object(v)
	key_allowed(object.get(v, "key_id", null))
}

# A key-based signature verified against the public key given to the gate (--key), outside prod
# and only when rule data accepts that key as trust in it (gate_key_accepted).
allowed(v, policy) if {
	gate_key_accepted
	is_object(v)
	not _text(object.get(v, "identity", null))
	_text(object.get(v, "key_id", null))
	is_object(policy)
	_text(object.get(policy, "public_key", null))
}

# describe(v) names the signer of a verification for a message.
describe(v) := sprintf("identity %v (issuer %v)", [object.get(v, "identity", null), object.get(v, "issuer", null)]) if {
	is_string(object.get(v, "identity", null))
} else := sprintf("key %v", [object.get(v, "key_id", null)])

# not_allowed_because(v) says which rule data a signer is missing from.
not_allowed_because(v) := "it is not in supply_chain.allowed_identities or identity_patterns" if {
	is_string(object.get(v, "identity", null))
} else := "it is not in supply_chain.allowed_key_ids (in prod a key given to the gate with --key is trusted only when its key id is listed there)" if {
	_prod
} else := "it is not in supply_chain.allowed_key_ids, nor a key given to the gate with --key while supply_chain.accept_gate_key is true"

# verifications(sig) is every verification object of a signature data object (a signature
# record's data, or a provenance record's data.signature).
verifications(sig) := [v |
	is_object(sig)
	some v in data.affidavit.lib.evidence.array_at(sig, "verifications")
	is_object(v)
]

# policy_of(sig) is the verification policy recorded with the signature data ({} when none).
policy_of(sig) := p if {
	is_object(sig)
	p := sig.policy
	is_object(p)
} else := {}

# attested(r) is true when the provenance record r came in an envelope that verified and was
# signed by a signer rule data allows.
attested(r) if {
	d := data.affidavit.lib.evidence.data_of(r)
	d.verified == true
	sig := d.signature
	some v in verifications(sig)
	v.verified == true
	allowed(v, policy_of(sig))
}

# signers_of(r) names the signers recorded for a provenance record's envelope (empty: none).
signers_of(r) := {describe(v) |
	some v in verifications(object.get(data.affidavit.lib.evidence.data_of(r), "signature", null))
	_signer_recorded(v)
}

_signer_recorded(v) if is_string(object.get(v, "identity", null))

_signer_recorded(v) if _text(object.get(v, "key_id", null))

# problems is one `missing` entry per malformed allow-list entry: one that is not an object, has no
# identity string or no issuer, or (identity_patterns) whose pattern is not a valid regular
# expression. Such an entry allows nobody, and the rule data does not say what was meant.
problems := {m |
	some key, entries in {"allowed_identities": _exact, "identity_patterns": _patterns}
	some i, e in entries
	why := _entry_problem(key, e)
	m := {
		"msg": sprintf("rule data supply_chain.%s[%d] %s, so it allows nobody; fix it in policies/params.yaml or the override file", [key, i, why]),
		"evidence_ids": [],
		"details": {"entry": sprintf("supply_chain.%s[%d]", [key, i])},
	}
}

_entry_problem(key, e) := "is not an object with identity and issuer" if {
	not is_object(e)
} else := "has no identity string" if {
	not is_string(object.get(e, "identity", null))
} else := "has no issuer (an identity is only meaningful with the OIDC issuer that vouched for it)" if {
	not _text(object.get(e, "issuer", null))
} else := "is not a valid regular expression" if {
	key == "identity_patterns"
	not regex.is_valid(e.identity)
}

# ---------------------------------------------------------------------------------------------
# Who may sign for a builder or a verifier: trust comes from who signed, not from what the
# document says. Rule data binds each trusted builder (supply_chain.allowed_builders) and each
# trusted VSA verifier (supply_chain.allowed_verifiers) to the signers that may speak for it:
#
#   allowed_builders   [{id, level, signers: [signer]}]   level: the SLSA build level (0-4) the
#                                                         organisation credits that builder with
#   allowed_verifiers  [{id, signers: [signer]}]
#   signer             {key_id} | {identity, issuer} | {identity_pattern, issuer}
#
# A signer entry means what the allow-lists above mean: a key id compared exactly; an identity
# compared exactly; an identity pattern matching the WHOLE identity (`matches`); the issuer always
# required and compared exactly. An entry that is malformed allows nobody and is reported by
# `table_problems`.

_builders := data.affidavit.lib.params.optional_list("supply_chain", "allowed_builders")

_verifiers := data.affidavit.lib.params.optional_list("supply_chain", "allowed_verifiers")

# signer_matches(s, v) is true when signer entry s names the signer of verification v.
signer_matches(s, v) if {
	is_object(s)
	is_object(v)
	_text(object.get(s, "key_id", null))
	object.get(v, "key_id", null) == s.key_id
}

signer_matches(s, v) if {
	is_object(s)
	is_object(v)
	is_string(object.get(s, "identity", null))
	_text(object.get(s, "issuer", null))
	is_string(object.get(v, "identity", null))
	v.identity == s.identity
	object.get(v, "issuer", null) == s.issuer
}

signer_matches(s, v) if {
	is_object(s)
	is_object(v)
	_text(object.get(s, "issuer", null))
	object.get(v, "issuer", null) == s.issuer
	matches(object.get(s, "identity_pattern", null), object.get(v, "identity", null))
}

# _signer_problem(s) says why a signer entry allows nobody (undefined when it is usable).
_signer_problem(s) := "is not an object with key_id, or identity (or identity_pattern) and issuer" if {
	not is_object(s)
} else := "names more than one of key_id, identity and identity_pattern" if {
	count([k | some k in ["key_id", "identity", "identity_pattern"]; object.get(s, k, null) != null]) > 1
} else := "has no key_id, identity or identity_pattern" if {
	count([k | some k in ["key_id", "identity", "identity_pattern"]; object.get(s, k, null) != null]) == 0
} else := "has a key_id that is not a non-blank string" if {
	object.get(s, "key_id", null) != null
	not _text(s.key_id)
} else := "has no issuer (an identity is only meaningful with the OIDC issuer that vouched for it)" if {
	object.get(s, "key_id", null) == null
	not _text(object.get(s, "issuer", null))
} else := "has an identity that is not a string" if {
	object.get(s, "identity", null) != null
	not is_string(s.identity)
} else := "has an identity_pattern that is not a valid regular expression" if {
	object.get(s, "identity_pattern", null) != null
	not _valid_pattern(s.identity_pattern)
}

_valid_pattern(p) if {
	is_string(p)
	regex.is_valid(p)
}

# _table_entry_problem(kind, e) says why a builder or verifier entry trusts nobody (undefined: usable).
_table_entry_problem(kind, e) := sprintf("is not an object with id and signers (%s entries name who may sign for them)", [kind]) if {
	not is_object(e)
} else := "has no id string" if {
	not _text(object.get(e, "id", null))
} else := "has no level: the SLSA build level (0 to 4) credited to provenance its signers sign" if {
	kind == "builder"
	object.get(e, "level", null) == null
} else := "has a level that is not a whole number from 0 to 4" if {
	kind == "builder"
	not _level_ok(e.level)
} else := "names no signers, so nobody may sign for it" if {
	count(data.affidavit.lib.evidence.array_at(e, "signers")) == 0
} else := sprintf("signer %d %s", [i, why]) if {
	some i, s in data.affidavit.lib.evidence.array_at(e, "signers")
	why := _signer_problem(s)
}

_level_ok(l) if {
	is_number(l)
	l >= 0
	l <= 4
	round(l) == l
}

# table_problems is one `missing` entry per malformed allowed_builders or allowed_verifiers entry.
table_problems := {m |
	some key, table in {"allowed_builders": ["builder", _builders], "allowed_verifiers": ["verifier", _verifiers]}
	some i, e in table[1]
	why := _table_entry_problem(table[0], e)
	m := {
		"msg": sprintf("rule data supply_chain.%s[%d] %s, so it trusts nobody; fix it in the rule data file (see docs/params.md)", [key, i, why]),
		"evidence_ids": [],
		"details": {"entry": sprintf("supply_chain.%s[%d]", [key, i])},
	}
}

# tables_ok is true when no allowed_builders or allowed_verifiers entry is malformed: while one is,
# what the rule data meant is unknown, so no provenance is refused for a builder it may have meant.
tables_ok if count(table_problems) == 0

# builder_entries and verifier_entries are the usable entries of the two tables.
builder_entries := [e | some e in _builders; not _table_entry_problem("builder", e)]

verifier_entries := [e | some e in _verifiers; not _table_entry_problem("verifier", e)]

# builder_matches(e, builder) is true when the builder id a provenance names is entry e's id,
# compared on the part before "@" (a reusable workflow's ref varies by release), case-insensitively.
builder_matches(e, builder) if {
	is_string(builder)
	lower(split(e.id, "@")[0]) == lower(split(builder, "@")[0])
}

# signed_by(r, e) is true when record r verified and one of its verified signatures was made by a
# signer entry e names for itself (a builder or a verifier).
signed_by(r, e) if {
	d := data.affidavit.lib.evidence.data_of(r)
	d.verified == true
	some v in verifications(object.get(d, "signature", null))
	v.verified == true
	some s in data.affidavit.lib.evidence.array_at(e, "signers")
	signer_matches(s, v)
}

# builders_for(r) is the usable allowed_builders entries that the provenance record r names as its
# builder AND whose signers signed r: the only builders it is credited to.
builders_for(r) := [e |
	some e in builder_entries
	builder_matches(e, object.get(data.affidavit.lib.evidence.data_of(r), "builder_id", null))
	signed_by(r, e)
]

# claimed_builders(r) is the usable entries for the builder r names, whoever signed it.
claimed_builders(r) := [e |
	some e in builder_entries
	builder_matches(e, object.get(data.affidavit.lib.evidence.data_of(r), "builder_id", null))
]
