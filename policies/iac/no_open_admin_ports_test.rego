package affidavit.rules.iac.no_open_admin_ports_test

import data.affidavit.lib.testing
import data.affidavit.rules.iac.no_open_admin_ports as rule

_params := {"iac": {"admin_ports": [22, 3389, 5432], "open_cidrs": ["0.0.0.0/0", "::/0"]}}

_rc(address, after, after_unknown) := {
	"address": address,
	"type": split(address, ".")[0],
	"name": split(address, ".")[1],
	"module": null,
	"provider": "registry.terraform.io/hashicorp/aws",
	"mode": "managed",
	"actions": ["create"],
	"before": null,
	"after": after,
	"after_unknown": after_unknown,
}

_ingress(from, to, protocol, cidrs, ipv6) := {
	"cidr_blocks": cidrs, "description": "", "from_port": from, "ipv6_cidr_blocks": ipv6,
	"prefix_list_ids": [], "protocol": protocol, "security_groups": [], "self": false, "to_port": to,
}

_sg(ingress) := _rc("aws_security_group.web", {
	"name": "shop-web",
	"description": "shop web tier",
	"ingress": ingress,
	"egress": [_ingress(0, 0, "-1", ["0.0.0.0/0"], [])],
	"revoke_rules_on_delete": false,
}, {"id": true, "arn": true, "owner_id": true, "vpc_id": true})

_plan(rcs) := testing.record("terraform-plan", "p", {
	"format": "terraform-plan-json",
	"tool": {"name": "terraform", "version": "1.9.8"},
	"data": {"terraform_version": "1.9.8", "format_version": "1.2", "resource_changes": rcs, "summary": {}},
})

_input(rcs) := testing.input_for({"terraform-plan": [_plan(rcs)]}, "prod", _params)

test_passes_when_only_web_ports_are_open if {
	inp := _input([_sg([
		_ingress(443, 443, "tcp", ["0.0.0.0/0"], ["::/0"]),
		_ingress(22, 22, "tcp", ["10.20.0.0/16"], []),
	])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_ssh_open_to_the_internet if {
	denies := rule.deny with input as _input([_sg([_ingress(443, 443, "tcp", ["0.0.0.0/0"], []), _ingress(22, 22, "tcp", ["0.0.0.0/0"], [])])])
	count(denies) == 1
	some d in denies
	d.msg == "aws_security_group.web ingress[1] admits tcp 22 from 0.0.0.0/0 to administrative port(s) 22 (artefacts/terraform-plan-p.json)"
	d.evidence_ids == [testing.id("p")]
}

test_fires_for_a_port_range_over_ipv6 if {
	r := _rc("aws_security_group_rule.admin", {"type": "ingress", "from_port": 3000, "to_port": 3400, "protocol": "tcp", "cidr_blocks": null, "ipv6_cidr_blocks": ["::/0"], "security_group_id": "sg-0a1b2c3d"}, {"id": true})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	d.msg == "aws_security_group_rule.admin admits tcp 3000-3400 from ::/0 to administrative port(s) 3389 (artefacts/terraform-plan-p.json)"
}

test_fires_for_all_traffic_rule if {
	r := _rc("aws_vpc_security_group_ingress_rule.all", {"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0", "security_group_id": "sg-0a1b2c3d"}, {"id": true, "arn": true})
	denies := rule.deny with input as _input([r])
	count(denies) == 1
	some d in denies
	contains(d.msg, "admits all traffic from 0.0.0.0/0 to administrative port(s) 22, 3389, 5432")
}

test_ignores_egress_rules if {
	r := _rc("aws_security_group_rule.out", {"type": "egress", "from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]}, {})
	count(rule.deny) == 0 with input as _input([r])
}

test_missing_when_source_ranges_unknown if {
	r := _rc("aws_security_group_rule.ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "ipv6_cidr_blocks": null}, {"cidr_blocks": true, "id": true})
	inp := _input([r])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_no_plan if {
	inp := testing.input_for({}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"terraform-plan": [_plan([])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"iac.admin_ports", "iac.open_cidrs"}
}

test_missing_when_plan_has_no_resource_changes if {
	r := json.remove(_plan([]), ["data/resource_changes"])
	inp := testing.input_for({"terraform-plan": [r]}, "prod", _params)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_fires_for_halves_of_the_internet_in_one_rule if {
	every sources in [["0.0.0.0/1", "128.0.0.0/1"], ["::/1", "8000::/1"], ["0::/0"], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/8"]] {
		denies := rule.deny with input as _input([_sg([_ingress(22, 22, "tcp", [s | some s in sources; contains(s, ".")], [s | some s in sources; contains(s, ":")])])])
		count(denies) == 1
	}
}

test_fires_for_halves_of_the_internet_in_two_ingress_blocks if {
	denies := rule.deny with input as _input([_sg([_ingress(22, 22, "tcp", ["0.0.0.0/1"], []), _ingress(0, 65535, "tcp", ["128.0.0.0/1"], [])])])
	count(denies) == 1
	some d in denies
	contains(d.msg, "in 2 ingress blocks, which together cover the whole internet")
}

test_passes_for_ranges_that_leave_part_of_the_internet_out if {
	every sources in [["0.0.0.0/1", "128.0.0.0/2"], ["0.0.0.0/1", "0.0.0.0/1"], ["::/1"], ["not-a-cidr", "300.1.1.1/1", "1::2::3/0", "12345::/1"]] {
		inp := _input([_sg([_ingress(22, 22, "tcp", sources, [])])])
		count(rule.deny) == 0 with input as inp
	}
}

test_passes_for_equal_blocks_written_twice if {
	inp := _input([_sg([_ingress(22, 22, "tcp", ["10.0.0.0/8", "10.0.0.0/8", "10.0.0.1/8"], [])])])
	count(rule.deny) == 0 with input as inp
}

test_missing_when_the_whole_ingress_list_is_unknown if {
	sg := _rc("aws_security_group.web", {"name": "shop-web"}, {"id": true, "ingress": true})
	missing := rule.missing with input as _input([sg])
	count(missing) == 1
	some m in missing
	contains(m.msg, "its ingress rules are only known after apply")
}

test_missing_when_ports_are_unknown_on_an_open_rule if {
	r := _rc("aws_security_group_rule.admin", {"type": "ingress", "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}, {"from_port": true, "to_port": true})
	missing := rule.missing with input as _input([r])
	count(missing) == 2
	v := _rc("aws_vpc_security_group_ingress_rule.admin", {"cidr_ipv4": "0.0.0.0/0", "from_port": 22, "to_port": 22}, {"ip_protocol": true})
	missing_v := rule.missing with input as _input([v])
	count(missing_v) == 1
	inline := _sg([{"protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": []}])
	unknown_inline := json.patch(inline, [{"op": "add", "path": "/after_unknown/ingress", "value": [{"from_port": true, "to_port": true}]}])
	missing_i := rule.missing with input as _input([unknown_inline])
	count(missing_i) == 2
}

test_missing_for_every_incomplete_plan if {
	every d in [{"errored": true}, {"complete": false}, {"partial": true}, {"deferred_changes": [{"address": "aws_security_group.db", "type": "aws_security_group", "actions": ["create"], "reason": "provider_config_unknown"}]}] {
		r := object.union(_plan([_sg([_ingress(443, 443, "tcp", ["0.0.0.0/0"], [])])]), {"data": d})
		missing := rule.missing with input as testing.input_for({"terraform-plan": [r]}, "prod", _params)
		count(missing) == 1
		some m in missing
		contains(m.msg, "does not show everything the apply will do")
	}
}

test_a_rule_of_unknown_type_open_to_the_internet_is_judged_as_ingress if {
	r := _rc("aws_security_group_rule.admin", {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}, {"id": true, "type": true})
	count(rule.deny) == 1 with input as _input([r])
}

test_fires_for_an_ipv6_split_into_many_ranges if {
	# ::/1, then 8000::/2, c000::/3, ... down to /70, and the last /70 twice over: the whole space
	prefixes := numbers.range(2, 70)
	ranges := array.concat(["::/1"], [sprintf("%s/%d", [_v6_block(p), p]) | some p in prefixes])
	last := sprintf("%s/70", [_v6_last])
	denies := rule.deny with input as _input([_sg([_ingress(22, 22, "tcp", [], array.concat(ranges, [last]))])])
	count(denies) == 1
	# without the /2 block a quarter of the space is left out: not the whole internet
	partial := [r | some r in array.concat(ranges, [last]); not startswith(r, "8000:")]
	count(rule.deny) == 0 with input as _input([_sg([_ingress(22, 22, "tcp", [], partial)])])
}

# The block of prefix p whose first p-1 bits are 1 and whose p-th bit is 0 (8000::/2, c000::/3 ...).
_v6_block(p) := _v6_from_bits([1 | some _ in numbers.range(1, p - 1)])

_v6_last := _v6_from_bits([1 | some _ in numbers.range(1, 70)])

_v6_from_bits(ones) := concat(":", [sprintf("%x", [_group(ones, g)]) | some g in numbers.range(0, 7)])

_group(ones, g) := sum([v |
	some i in numbers.range(0, 15)
	v := _bit(ones, (g * 16) + i) * _pow2(15 - i)
])

_bit(ones, i) := 1 if i < count(ones)

else := 0

_pow2(0) := 1

_pow2(n) := product([2 | some _ in numbers.range(1, n)]) if n > 0
