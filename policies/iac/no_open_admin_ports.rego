# METADATA
# title: No administrative port open to the internet
# description: No security group rule in the plan admits traffic from the whole internet (0.0.0.0/0 or ::/0 from rule data open_cidrs, or ranges that together cover every IPv4 or IPv6 address) to an administrative or data-store port listed in rule data (SSH, SMB, RDP, WinRM, database and cache ports, ...); ingress lists, ports or sources known only after apply or masked as sensitive, and errored, partial or deferring plans, are insufficient evidence.
# custom:
#   id: iac.no_open_admin_ports
#   severity: critical
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC6.6, CC7.1]
#     iso27001-2022: [A.8.20, A.8.9]
#   remediation: Restrict the rule's source to known ranges (a VPN, a bastion's security group or a prefix list), or remove it and use SSM Session Manager / a private endpoint for administration.
package affidavit.rules.iac.no_open_admin_ports

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in terraform.incomplete

missing contains m if some m in params.problems("iac", {"admin_ports": "array", "open_cidrs": "array"})

# Every ingress rule, normalised: where it is, its protocol and port range, its source ranges,
# the path to them (for after_unknown) and the administrative ports it admits (worked out once
# per rule: a plan holds thousands of rules, and every deny and missing entry below reads them).
_rules := array.concat(array.concat(_inline, _separate), _vpc_rules)

_inline := [rule |
	some group in _groups
	some rule in group.inline
]

# The planned changes of the types this rule reads, picked from the plan once (a plan holds
# thousands of changes); _of_type(types) then picks from those few.
_changes := terraform.of_type({"aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"})

_of_type(types) := [c |
	some c in _changes
	c.rc.type in types
]

# Each security group with its ingress rules (built once per group, for _inline and for the
# deny on several blocks alike).
_groups := [{"c": c, "inline": _inline_of(c)} | some c in _of_type({"aws_security_group"})]

# The ingress rules of one security group (linear: never a search of every group's rules).
_inline_of(c) := [_rule(c, sprintf("%s ingress[%d]", [terraform.address(c.rc), i]), object.get(r, "protocol", null), object.get(r, "from_port", null), object.get(r, "to_port", null), _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), [["ingress", i, "cidr_blocks"], ["ingress", i, "ipv6_cidr_blocks"]], ["ingress", i]) |
	some i, r in evidence.array_at(c.rc.after, "ingress")
	is_object(r)
]

# One normalised rule; base is the path to the rule's block (["ingress", i] in a security group),
# and port_paths the path to each of its protocol and port keys.
_rule(c, where, protocol, from, to, sources, paths, base) := {"c": c, "where": where, "protocol": protocol, "from": from, "to": to, "sources": sources, "paths": paths, "ports": _ports(lower(sprintf("%v", [protocol])), from, to), "port_paths": {key: array.concat(base, [key]) | some key in _port_keys(c.rc.type)}}

_separate := [_rule(c, terraform.address(c.rc), object.get(r, "protocol", null), object.get(r, "from_port", null), object.get(r, "to_port", null), _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), [["cidr_blocks"], ["ipv6_cidr_blocks"]], []) |
	some c in _of_type({"aws_security_group_rule"})
	r := c.rc.after
	is_object(r)
	_ingress_rule(c.rc, r)
]

# A rule is an ingress rule when it says so, or when its type is only known after apply.
_ingress_rule(_, r) if r.type == "ingress"

_ingress_rule(rc, _) if terraform.unknown(rc, ["type"])

_vpc_rules := [_rule(c, terraform.address(c.rc), object.get(r, "ip_protocol", null), object.get(r, "from_port", null), object.get(r, "to_port", null), {s | some s in [object.get(r, "cidr_ipv4", null), object.get(r, "cidr_ipv6", null)]; is_string(s)}, [["cidr_ipv4"], ["cidr_ipv6"]], []) |
	some c in _of_type({"aws_vpc_security_group_ingress_rule"})
	r := c.rc.after
	is_object(r)
]

_sources(r, keys) := {s |
	some k in keys
	some s in evidence.array_at(r, k)
	is_string(s)
}

# The administrative ports of rule data (numbers only).
_admin_ports := {p |
	some p in params.list("iac", "admin_ports")
	is_number(p)
}

# The admin ports a rule admits: every one for all traffic (protocol -1 or all), those in its
# range for TCP or UDP, none otherwise. protocol is the rule's protocol in lower-case text.
_ports(protocol, from, to) := _admin_ports if {
	protocol in {"-1", "all"}
} else := {p |
	some p in _admin_ports
	from <= p
	p <= to
} if {
	protocol in {"tcp", "udp", "6", "17"}
	is_number(from)
	is_number(to)
} else := set()

_open := {c | some c in params.list("iac", "open_cidrs")}

# The sources of a rule that are "the internet": listed in open_cidrs, or together covering every
# IPv4 or IPv6 address (0.0.0.0/1 with 128.0.0.0/1 is the internet too).
_from_anywhere(sources) := found if {
	found := sources & _open
	count(found) > 0
} else := sources if _covers_internet(sources)

# terraform.covers_internet(sources) for sources of the rules below, with the strings that are
# CIDR ranges picked once among every rule's sources rather than once per rule.
_covers_internet(sources) if terraform.covers_space(sources & _v4)

_covers_internet(sources) if terraform.covers_space(sources & _v6)

_all_sources := {s | some rule in _rules; some s in rule.sources}

_v4 := terraform.cidrs(_all_sources, 4)

_v6 := terraform.cidrs(_all_sources, 6)

deny contains v if {
	some rule in _rules
	ports := rule.ports
	count(ports) > 0
	from_anywhere := _from_anywhere(rule.sources)
	v := {
		"msg": sprintf("%s admits %s from %s to administrative port(s) %s (%s)", [rule.where, _range(rule), concat(", ", sort(from_anywhere)), concat(", ", [sprintf("%v", [p]) | some p in sort(ports)]), evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
		"details": {"resource": terraform.address(rule.c.rc), "ports": sort(ports), "sources": sort(from_anywhere)},
	}
}

# Several ingress blocks of one security group whose ranges, none the internet alone, together
# cover it for the same administrative port.
deny contains v if {
	some group in _groups
	c := group.c
	inline := group.inline
	count(inline) > 1
	some port in _admin_ports
	admitting := [rule | some rule in inline; port in rule.ports]
	count(admitting) > 1
	every rule in admitting {
		not _from_anywhere(rule.sources)
	}
	sources := {s | some rule in admitting; some s in rule.sources}
	_covers_internet(sources)
	v := {
		"msg": sprintf("%s admits port %v from %s in %d ingress blocks, which together cover the whole internet (%s)", [terraform.address(c.rc), port, concat(", ", sort(sources)), count(admitting), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
		"details": {"resource": terraform.address(c.rc), "ports": [port], "sources": sort(sources)},
	}
}

_range(rule) := "all traffic" if lower(sprintf("%v", [rule.protocol])) in {"-1", "all"}

else := sprintf("%v %v", [rule.protocol, rule.from]) if rule.from == rule.to

else := sprintf("%v %v-%v", [rule.protocol, rule.from, rule.to])

missing contains v if {
	some rule in _rules
	count(rule.ports) > 0
	some path in rule.paths
	terraform.unknown(rule.c.rc, path)
	v := {
		"msg": sprintf("%s: its source ranges are %s, so whether it opens administrative ports to the internet cannot be judged (%s)", [rule.where, terraform.unknown_why(rule.c.rc, path), evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
	}
}

# A security group whose whole ingress list is only known after apply: nothing can be said of
# what it admits.
missing contains v if {
	some c in _of_type({"aws_security_group"})
	terraform.unknown(c.rc, ["ingress"])
	v := {
		"msg": sprintf("%s: its ingress rules are %s, so whether it opens administrative ports to the internet cannot be judged; write the rules with values known at plan time (%s)", [terraform.address(c.rc), terraform.unknown_why(c.rc, ["ingress"]), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# A rule whose protocol or ports are only known after apply, from a source that is (or may be)
# the internet.
missing contains v if {
	some rule in _rules
	some key, path in rule.port_paths
	terraform.unknown(rule.c.rc, path)
	_maybe_open(rule)
	v := {
		"msg": sprintf("%s: its %s is %s, so whether it opens an administrative port to the internet cannot be judged (%s)", [rule.where, key, terraform.unknown_why(rule.c.rc, path), evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
	}
}

_port_keys("aws_vpc_security_group_ingress_rule") := ["ip_protocol", "from_port", "to_port"]

_port_keys(type) := ["protocol", "from_port", "to_port"] if type != "aws_vpc_security_group_ingress_rule"

_maybe_open(rule) if _from_anywhere(rule.sources)

_maybe_open(rule) if {
	some path in rule.paths
	terraform.unknown(rule.c.rc, path)
}
