package affidavit.lib.terraform_test

import data.affidavit.lib.terraform

# unknown(rc, path): a value is unknown when after_unknown marks it, or any parent of it, true.
test_unknown_reads_the_path_and_every_parent_of_it if {
	rc := {"after_unknown": {"ingress": [{"cidr_blocks": true, "ports": [false, true]}, {}], "tags": false, "name": {}}}
	terraform.unknown(rc, ["ingress", 0, "cidr_blocks"])
	terraform.unknown(rc, ["ingress", 0, "cidr_blocks", 3])
	terraform.unknown(rc, ["ingress", 0, "ports", 1])
	not terraform.unknown(rc, ["ingress", 0, "ports", 0])
	not terraform.unknown(rc, ["ingress", 0, "ports"])
	not terraform.unknown(rc, ["ingress", 1, "cidr_blocks"])
	not terraform.unknown(rc, ["ingress"])
	not terraform.unknown(rc, ["tags", "x"])
	not terraform.unknown(rc, ["name", "x"])
	not terraform.unknown(rc, ["egress", 0])
	not terraform.unknown(rc, [])
}

test_unknown_when_the_whole_state_is if {
	terraform.unknown({"after_unknown": true}, [])
	terraform.unknown({"after_unknown": true}, ["a", 0, "b"])
	terraform.unknown({"after_unknown": {"a": true}}, ["a", "b", "c"])
	not terraform.unknown({}, ["a"])
	not terraform.unknown({"after_unknown": false}, ["a"])
}

# masked(rc, path): a value of `after` at the path, above it or inside it was masked by the
# collector (sensitive_paths, as Terraform's replace_paths: keys and indexes); unknown then holds
# too, and unknown_why says which of the two hides a value.
test_masked_reads_the_path_its_parents_and_what_it_holds if {
	rc := {"sensitive_paths": [["after", "ingress", 0, "cidr_blocks", 1], ["after", "tags"], ["before", "acl"]]}
	terraform.masked(rc, ["ingress", 0, "cidr_blocks", 1])
	terraform.masked(rc, ["ingress", 0, "cidr_blocks"]) # one of the ranges hides the list
	terraform.masked(rc, ["ingress"])
	terraform.masked(rc, ["tags", "Name"])
	terraform.masked(rc, ["tags"])
	not terraform.masked(rc, ["ingress", 1, "cidr_blocks"])
	not terraform.masked(rc, ["ingress", 0, "from_port"])
	not terraform.masked(rc, ["acl"]) # a masked `before` hides nothing of the planned state
	not terraform.masked(rc, ["tags_all"])
	terraform.unknown(rc, ["ingress", 0, "cidr_blocks"])
	not terraform.unknown(rc, ["ingress", 0, "from_port"])
	terraform.unknown_why(rc, ["tags"]) == "masked in the evidence as sensitive (the plan marks it, or it looks like a credential)"
	terraform.unknown_why({"after_unknown": {"acl": true}}, ["acl"]) == "only known after apply"
}

test_masked_when_the_whole_state_is_and_never_from_odd_entries if {
	terraform.masked({"sensitive_paths": [["after"]]}, ["a", 0])
	terraform.masked({"sensitive_paths": [["after"]]}, [])
	not terraform.masked({"sensitive_paths": [[], "after", {"a": 1}, ["before"]]}, ["a"])
	not terraform.masked({"sensitive_paths": "after"}, ["a"])
	not terraform.masked({}, ["a"])
}

# covers_internet(sources) is covers_space of the IPv4 or of the IPv6 ranges that cidrs picks.
test_covers_internet_by_either_family if {
	terraform.covers_internet({"0.0.0.0/0"})
	terraform.covers_internet({"0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8"})
	terraform.covers_internet({"::/1", "8000::/1"})
	not terraform.covers_internet({"0.0.0.0/1", "8000::/1"})
	not terraform.covers_internet({"10.0.0.0/8", "not a range", 7})
	not terraform.covers_internet(set())
	terraform.cidrs({"0.0.0.0/1", "::/0", "300.0.0.0/8", 7}, 4) == {"0.0.0.0/1"}
	terraform.cidrs({"0.0.0.0/1", "::/0", "300.0.0.0/8", 7}, 6) == {"::/0"}
	terraform.covers_space({"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"})
	not terraform.covers_space({"0.0.0.0/1", "128.0.0.0/2"})
}
