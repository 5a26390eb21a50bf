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

# unknown(rc, path) is true when Terraform will only know the value at path (or a parent of
# it) after apply: after_unknown mirrors `after` with true where a value is unknown.
unknown(rc, path) if {
	some i in numbers.range(0, count(path))
	object.get(rc, array.concat(["after_unknown"], array.slice(path, 0, i)), false) == true
}

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
