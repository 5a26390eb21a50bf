# Helpers for reading the evidence part of the policy input.
package affidavit.lib.evidence

# records(kind) is the array of evidence records of one kind ([] when the input has none);
# anything in the input that is not an object is left out.
records(kind) := [r | some r in _kind(kind); is_object(r)]

_kind(kind) := rs if {
	rs := input.evidence[kind]
	is_array(rs)
} else := []

# all_records is every evidence record of every kind, in input order per kind.
all_records := [r |
	is_object(input.evidence)
	some kind, rs in input.evidence
	is_array(rs)
	some r in rs
	is_object(r)
]

# ids(rs) is the sorted, de-duplicated array of the ids of the records rs.
ids(rs) := sort({r.id | some r in rs; is_string(r.id)})

# id_list(r) is the one-element id array for a record, for result objects.
id_list(r) := [r.id] if is_string(r.id)

else := []

# label(r) names a record for a human: its source path or URL, else its id.
label(r) := r.source if {
	is_string(r.source)
	r.source != ""
} else := r.id if {
	is_string(r.id)
} else := "(unnamed record)"

# data_of(r) is the record's per-kind data object ({} when absent or not an object).
data_of(r) := r.data if is_object(r.data)

else := {}

# array_at(obj, key) is obj[key] when it is an array, else [].
array_at(obj, key) := v if {
	v := obj[key]
	is_array(v)
} else := []

# text(v) is true when v is a non-blank string.
text(v) if {
	is_string(v)
	trim_space(v) != ""
}

# malformed(rs, key) is one `missing` entry per record of rs whose data has no `key` list:
# such a record cannot show that there is nothing to report, so it never counts as clean.
# (object.get, not data_of(r)[key]: OPA evaluates an argument of a negated call before the
# negation, so `not is_array(<undefined>)` is undefined there, not true; open-policy-agent/opa#1877.)
malformed(rs, key) := {m |
	some r in rs
	not is_array(object.get(data_of(r), key, null))
	m := {
		"msg": sprintf("%v record %s has no data.%s list, so it cannot be judged (malformed evidence)", [object.get(r, "kind", "evidence"), label(r), key]),
		"evidence_ids": id_list(r),
	}
}
