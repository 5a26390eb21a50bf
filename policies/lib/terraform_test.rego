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
