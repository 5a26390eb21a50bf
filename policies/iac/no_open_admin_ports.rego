# METADATA
# title: No administrative port open to the internet
# description: No security group rule in the plan admits traffic from the whole internet (0.0.0.0/0 or ::/0 from rule data open_cidrs, or ranges that together cover every IPv4 or IPv6 address) to an administrative or data-store port listed in rule data (SSH, SMB, RDP, WinRM, database and cache ports, ...); ingress lists, ports or sources known only after apply, and errored, partial or deferring plans, are insufficient evidence.
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

# Every ingress rule, normalised: where it is, its protocol and port range, its source ranges
# and the path to them (for after_unknown).
_rules := array.concat(array.concat(_inline, _separate), _vpc_rules)

_inline := [rule |
	some c in terraform.of_type({"aws_security_group"})
	some rule in _inline_of(c)
]

# The ingress rules of one security group (linear: never a search of every group's rules).
_inline_of(c) := [{"c": c, "where": sprintf("%s ingress[%d]", [terraform.address(c.rc), i]), "protocol": object.get(r, "protocol", null), "from": object.get(r, "from_port", null), "to": object.get(r, "to_port", null), "sources": _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), "paths": [["ingress", i, "cidr_blocks"], ["ingress", i, "ipv6_cidr_blocks"]]} |
	some i, r in evidence.array_at(c.rc.after, "ingress")
	is_object(r)
]

_separate := [{"c": c, "where": terraform.address(c.rc), "protocol": object.get(r, "protocol", null), "from": object.get(r, "from_port", null), "to": object.get(r, "to_port", null), "sources": _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), "paths": [["cidr_blocks"], ["ipv6_cidr_blocks"]]} |
	some c in terraform.of_type({"aws_security_group_rule"})
	r := c.rc.after
	is_object(r)
	_ingress_rule(c.rc, r)
]

# A rule is an ingress rule when it says so, or when its type is only known after apply.
_ingress_rule(_, r) if r.type == "ingress"

_ingress_rule(rc, _) if terraform.unknown(rc, ["type"])

_vpc_rules := [{"c": c, "where": terraform.address(c.rc), "protocol": object.get(r, "ip_protocol", null), "from": object.get(r, "from_port", null), "to": object.get(r, "to_port", null), "sources": {s | some s in [object.get(r, "cidr_ipv4", null), object.get(r, "cidr_ipv6", null)]; is_string(s)}, "paths": [["cidr_ipv4"], ["cidr_ipv6"]]} |
	some c in terraform.of_type({"aws_vpc_security_group_ingress_rule"})
	r := c.rc.after
	is_object(r)
]

_sources(r, keys) := {s |
	some k in keys
	some s in evidence.array_at(r, k)
	is_string(s)
}

# The admin ports a rule admits.
_ports(rule) := {p |
	some p in params.list("iac", "admin_ports")
	is_number(p)
	_admits(rule, p)
}

_admits(rule, _) if lower(sprintf("%v", [rule.protocol])) in {"-1", "all"}

_admits(rule, port) if {
	lower(sprintf("%v", [rule.protocol])) in {"tcp", "udp", "6", "17"}
	is_number(rule.from)
	is_number(rule.to)
	rule.from <= port
	port <= rule.to
}

_open := {c | some c in params.list("iac", "open_cidrs")}

# The sources of a rule that are "the internet": listed in open_cidrs, or together covering every
# IPv4 or IPv6 address (0.0.0.0/1 with 128.0.0.0/1 is the internet too).
_from_anywhere(sources) := found if {
	found := sources & _open
	count(found) > 0
} else := sources if terraform.covers_internet(sources)

deny contains v if {
	some rule in _rules
	from_anywhere := _from_anywhere(rule.sources)
	ports := _ports(rule)
	count(ports) > 0
	v := {
		"msg": sprintf("%s admits %s from %s to administrative port(s) %s (%s)", [rule.where, _range(rule), concat(", ", sort(from_anywhere)), concat(", ", [sprintf("%v", [p]) | some p in sort(ports)]), evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
		"details": {"resource": terraform.address(rule.c.rc), "ports": sort(ports), "sources": sort(from_anywhere)},
	}
}

# Several ingress blocks of one security group whose ranges, none the internet alone, together
# cover it for the same administrative port.
deny contains v if {
	some c in terraform.of_type({"aws_security_group"})
	inline := _inline_of(c) # once per group, not once per port
	count(inline) > 1
	some port in params.list("iac", "admin_ports")
	is_number(port)
	admitting := [rule | some rule in inline; _admits(rule, port)]
	count(admitting) > 1
	every rule in admitting {
		not _from_anywhere(rule.sources)
	}
	sources := {s | some rule in admitting; some s in rule.sources}
	terraform.covers_internet(sources)
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
	some path in rule.paths
	terraform.unknown(rule.c.rc, path)
	count(_ports(rule)) > 0
	v := {
		"msg": sprintf("%s: its source ranges are only known after apply, so whether it opens administrative ports to the internet cannot be judged (%s)", [rule.where, evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
	}
}

# A security group whose whole ingress list is only known after apply: nothing can be said of
# what it admits.
missing contains v if {
	some c in terraform.of_type({"aws_security_group"})
	terraform.unknown(c.rc, ["ingress"])
	v := {
		"msg": sprintf("%s: its ingress rules are only known after apply, so whether it opens administrative ports to the internet cannot be judged; write the rules with values known at plan time (%s)", [terraform.address(c.rc), evidence.label(c.record)]),
		"evidence_ids": evidence.id_list(c.record),
	}
}

# A rule whose protocol or ports are only known after apply, from a source that is (or may be)
# the internet.
missing contains v if {
	some rule in _rules
	some key in _port_keys(rule)
	terraform.unknown(rule.c.rc, array.concat(_base(rule), [key]))
	_maybe_open(rule)
	v := {
		"msg": sprintf("%s: its %s is only known after apply, so whether it opens an administrative port to the internet cannot be judged (%s)", [rule.where, key, evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
	}
}

_port_keys(rule) := ["ip_protocol", "from_port", "to_port"] if rule.c.rc.type == "aws_vpc_security_group_ingress_rule"

else := ["protocol", "from_port", "to_port"]

_base(rule) := [rule.paths[0][0], rule.paths[0][1]] if rule.c.rc.type == "aws_security_group"

else := []

_maybe_open(rule) if _from_anywhere(rule.sources)

_maybe_open(rule) if {
	some path in rule.paths
	terraform.unknown(rule.c.rc, path)
}
