# Helpers for Terraform plan evidence (`terraform show -json` normalised by the collector).
# Other libraries are referenced by full path, never through an import alias: regorus 0.13
# silently makes a library function that uses an alias undefined when its caller reached the
# library through an alias and evaluated one of its rules first (see lib/README.md).
package affidavit.lib.terraform

plans := data.affidavit.lib.evidence.records("terraform-plan")

# changes is every managed resource change of every plan, with the record it came from.
changes := [{"record": r, "rc": rc} |
	some r in plans
	some rc in data.affidavit.lib.evidence.array_at(data.affidavit.lib.evidence.data_of(r), "resource_changes")
	is_object(rc)
	object.get(rc, "mode", "managed") == "managed"
]

# planned is the changes that leave the resource in place afterwards (everything but a pure
# delete), i.e. those whose `after` state is what the plan will apply.
planned := [c |
	some c in changes
	is_object(object.get(c.rc, "after", null))
]

# of_type(types) is the planned changes whose resource type is in the set types.
of_type(types) := [c |
	some c in planned
	c.rc.type in types
]

# after(rc, path) is the planned value at path (an array of keys and indexes), when known.
after(rc, path) := v if {
	not unknown(rc, path)
	v := object.get(rc, array.concat(["after"], path), null)
}

# unknown(rc, path) is true when the judge cannot see the planned value at path: Terraform will
# only know it (or a parent of it) after apply, or the evidence hides it (masked(rc, path)).
# after_unknown mirrors `after` with true where a value is unknown. (When nothing under the path's
# first key is unknown, as for most attributes and blocks, that one lookup decides it: plans hold
# thousands of changes. A key holding the text "true" only skips the shortcut.) unknown_why(rc,
# path) says which, for messages.
unknown(rc, path) if {
	rc.sensitive_paths != [] # (most changes mask nothing: no call of masked for them)
	masked(rc, path)
}

unknown(rc, path) if object.get(rc, "after_unknown", false) == true

unknown(rc, path) if {
	count(path) > 0
	below := object.get(rc, ["after_unknown", path[0]], false)
	below != false
	contains(json.marshal(below), "true")
	some i in numbers.range(1, count(path))
	object.get(rc, array.concat(["after_unknown"], array.slice(path, 0, i)), false) == true
}

# masked(rc, path) is true when a value of `after` at path, around it or inside it is hidden from
# the judge: the collector writes "(sensitive)" in place of every value Terraform marks sensitive
# (after_sensitive) and of every value that looks like a secret, and lists each place in the
# change's sensitive_paths (["after", key or index, ...]). A rule that read "(sensitive)" as the
# value would judge a mask: a security group whose source ranges come from a variable declared
# sensitive would pass however open it is. A hidden part (one of the ranges) hides the whole.
masked(rc, path) if {
	masks := rc.sensitive_paths # (checks that fail fast first: most changes mask nothing)
	masks != []
	is_array(masks)
	some m in masks
	is_array(m)
	count(m) > 0
	m[0] == "after"
	n := min({count(m) - 1, count(path)})
	array.slice(m, 1, n + 1) == array.slice(path, 0, n)
}

unknown_why(rc, path) := "masked in the evidence as sensitive (the plan marks it, or it looks like a credential)" if {
	masked(rc, path)
} else := "only known after apply"

# destroys(rc) is true when the change deletes the resource (a delete or a replace).
destroys(rc) if "delete" in data.affidavit.lib.evidence.array_at(rc, "actions")

# what_happens(rc) says in words what the change does to the resource.
what_happens(rc) := "will be replaced (destroyed, then re-created)" if {
	data.affidavit.lib.evidence.array_at(rc, "actions") == ["delete", "create"]
} else := "will be replaced (re-created, then the old one destroyed)" if {
	data.affidavit.lib.evidence.array_at(rc, "actions") == ["create", "delete"]
} else := "will be destroyed"

# no_plan is the `missing` entry of every plan-based rule without terraform-plan records.
no_plan := {
	"msg": "no Terraform plan was supplied: run `terraform plan -out tfplan && terraform show -json tfplan > tfplan.json` for the release and pass it to the gate",
	"evidence_ids": [],
}

# address(rc) is the resource address for messages.
address(rc) := rc.address if is_string(rc.address)

else := sprintf("%v.%v", [object.get(rc, "type", "?"), object.get(rc, "name", "?")])

# malformed is the `missing` entries for plans without a resource_changes list.
malformed := data.affidavit.lib.evidence.malformed(plans, "resource_changes")

# incomplete is the `missing` entries for plans that do not show everything an apply would do:
# an errored plan (`errored: true`), an incomplete one (`complete: false`: made with -target or
# with deferred changes, Terraform 1.8+), one whose prior state holds resources the plan does not
# list (the collector's `partial`: a -target plan of an older Terraform) and one with
# `deferred_changes`. Every plan-based rule reports them: a rule that passes such a plan would
# vouch for changes it never saw.
incomplete contains m if {
	some r in plans
	d := data.affidavit.lib.evidence.data_of(r)
	why := _incomplete_because(d)
	m := {
		"msg": sprintf("the Terraform plan %s %s, so it does not show everything the apply will do; run a full `terraform plan -out tfplan` (no -target) that succeeds and defers nothing, and pass its `terraform show -json` output", [data.affidavit.lib.evidence.label(r), why]),
		"evidence_ids": data.affidavit.lib.evidence.id_list(r),
	}
}

_incomplete_because(d) := "errored (errored: true): planning failed part way" if {
	object.get(d, "errored", false) == true
} else := sprintf("defers %d change(s) to a later plan (deferred_changes: %s)", [count(_deferred(d)), concat(", ", _deferred_addresses(d))]) if {
	count(_deferred(d)) > 0
} else := "is incomplete (complete: false): it was made with -target or defers changes" if {
	object.get(d, "complete", null) == false
} else := "looks partial: resources of its prior state have no change at all, as in a -target plan" if {
	object.get(d, "partial", false) == true
}

_deferred(d) := [c | some c in data.affidavit.lib.evidence.array_at(d, "deferred_changes"); is_object(c)]

_deferred_addresses(d) := sort([sprintf("%v (%v)", [object.get(c, "address", "?"), object.get(c, "reason", "?")]) | some c in _deferred(d)])

# covers_internet(sources) is true when the CIDR ranges in sources (strings) together cover every
# IPv4 address or every IPv6 address: 0.0.0.0/0, but also 0.0.0.0/1 with 128.0.0.0/1, or any
# other split of the whole space. Two CIDR blocks are either nested or disjoint, so after dropping
# every block inside another the rest are disjoint and cover the space exactly when their shares
# (2^-prefix) add up to 1. Strings that are not CIDR ranges are left out. The shares are summed as
# doubles: exact for IPv4 (multiples of 2^-32); for IPv6 a set that leaves out less than 10^-12 of
# the space (rounding could hide that much) counts as covering it, so rounding never opens a gap.
covers_internet(sources) if covers_space(_cidrs(sources, 4))

covers_internet(sources) if covers_space(_cidrs(sources, 6))

# cidrs(sources, family) is the strings of sources that are IPv4 (family 4) or IPv6 (family 6)
# CIDR ranges, and covers_space(blocks) is true when such ranges, of one family, together cover
# that family's whole space: covers_internet(sources) is covers_space(cidrs(sources, 4)) or
# covers_space(cidrs(sources, 6)). A rule judging many sets of sources picks the ranges of all of
# them once, then intersects (the ranges are told one string at a time).
cidrs(sources, family) := _cidrs(sources, family)

_cidrs(sources, 4) := {s |
	some s in sources
	is_string(s)
	regex.match(`^[0-9]{1,3}(\.[0-9]{1,3}){3}/([0-9]|[12][0-9]|3[0-2])$`, s)
	every part in split(split(s, "/")[0], ".") {
		to_number(part) <= 255
	}
}

_cidrs(sources, 6) := {s |
	some s in sources
	is_string(s)
	regex.match(`^[0-9a-fA-F:]*:[0-9a-fA-F:]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$`, s)
	not contains(s, ":::")
	count(indexof_n(s, "::")) <= 1
	groups := split(split(s, "/")[0], ":")
	count(groups) <= 8
	every g in groups {
		count(g) <= 4
	}
}

_prefix(s) := to_number(split(s, "/")[1])

covers_space(blocks) if {
	count(blocks) > 0
	outer := {s |
		some s in blocks
		not _inside_another(s, blocks)
	}
	sum([_share(_prefix(s)) | some s in outer]) >= 1 - 1e-12
}

# s lies inside another block of blocks (of two blocks that contain each other, the greater
# string is the one dropped).
_inside_another(s, blocks) if {
	some t in blocks
	t != s
	net.cidr_contains(t, s)
	not _mutual_and_first(s, t)
}

_mutual_and_first(s, t) if {
	net.cidr_contains(s, t)
	s < t
}

_share(0) := 1

_share(p) := product([0.5 | some _ in numbers.range(1, p)]) if p > 0
