# Helpers for matching evidence to the promoted subject (context.subject.digest).
# Other libraries are referenced by full path, never through an import alias: regorus 0.13
# silently makes a library function that uses an alias undefined when its caller reached the
# library through an alias and evaluated one of its rules first (see lib/README.md).
package affidavit.lib.subject

# normalize(d) is a digest as "<alg>:<lower-case hex>", or undefined when d is not one.
# Accepts "sha256:ABC..", bare 64-hex sha256, "name@sha256:..", and {"sha256": ".."}.
normalize(d) := n if {
	is_string(d)
	n := _norm(lower(trim_space(d)))
} else := n if {
	is_object(d)
	is_string(d.sha256)
	n := _norm(concat("", ["sha256:", lower(trim_space(d.sha256))]))
}

_after_at(s) := parts[count(parts) - 1] if parts := split(s, "@")

_norm(s) := t if {
	t := _after_at(s)
	regex.match(`^[a-z0-9]+:[0-9a-f]{32,128}$`, t)
} else := concat("", ["sha256:", t]) if {
	t := _after_at(s)
	regex.match(`^[0-9a-f]{64}$`, t)
}

# target is the normalised digest of the promoted subject; undefined when the context has none.
target := normalize(input.context.subject.digest)

# target_text is the target for messages, also when the context names none.
target_text := t if {
	t := target
} else := "(no subject digest given)"

# has_target is true when the promotion names a usable subject digest.
has_target if target

# digests(r) is the set of normalised digests a record names as what it is about.
digests(r) := {d |
	some raw in _raw_digests(r)
	d := normalize(raw)
}

_raw_digests(r) := array.concat(
	array.concat([object.get(r, ["subject", "digest"], null), object.get(r, ["data", "subject", "digest"], null)], [v.subject_digest |
		some v in data.affidavit.lib.evidence.array_at(data.affidavit.lib.evidence.data_of(r), "verifications")
		is_object(v)
	]),
	[s.digest |
		some s in data.affidavit.lib.evidence.array_at(data.affidavit.lib.evidence.data_of(r), "subjects")
		is_object(s)
	],
)

# names_digest(r) is true when the record names any digest at all.
names_digest(r) if count(digests(r)) > 0

# about_target(r) is true when the record names the promoted subject digest.
about_target(r) if target in digests(r)

# about_other(r) is true when the record names digests, none of them the promoted one.
about_other(r) if {
	names_digest(r)
	not about_target(r)
}

# for_target(kind) is the array of records of one kind that name the promoted digest.
for_target(kind) := [r |
	some r in data.affidavit.lib.evidence.records(kind)
	about_target(r)
]

# relevant(kind) is the records of a kind that may speak of the subject: those naming the
# promoted digest and those naming no digest at all (source scans, repository settings).
relevant(kind) := [r |
	some r in data.affidavit.lib.evidence.records(kind)
	not about_other(r)
]

# describe(ds) renders a set of digests for a message ("sha256:ab.., sha256:cd..").
describe(ds) := concat(", ", sort(ds))

# no_target_msg is the `missing` entry every subject-bound rule gives without a subject digest.
no_target_msg := {
	"msg": "the promotion names no subject digest (context.subject.digest), so no evidence can be matched to the artefact being promoted; pass --subject NAME@sha256:...",
	"evidence_ids": [],
}

# no_record_msg(kind, what) is the `missing` entry for "no record of this kind names the subject".
no_record_msg(kind, what) := {
	"msg": sprintf("no %s names the promoted artefact %s, so its %s cannot be judged (see the %s evidence supplied and supply_chain.same_subject)", [kind, target_text, what, kind]),
	"evidence_ids": data.affidavit.lib.evidence.ids(data.affidavit.lib.evidence.records(kind)),
}
