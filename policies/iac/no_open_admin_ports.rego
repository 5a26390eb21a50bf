# METADATA
# title: No administrative port open to the internet
# description: No security group rule in the plan admits traffic from 0.0.0.0/0 or ::/0 (rule data open_cidrs) to an administrative or data-store port listed in rule data (SSH, RDP, WinRM, database ports, ...).
# custom:
#   id: iac.no_open_admin_ports
#   severity: critical
#   requires: [terraform-plan]
#   controls:
#     soc2: [CC6.6]
#     iso27001-2022: [A.8.20]
#   remediation: Restrict the rule's source to known ranges (a VPN, a bastion's security group or a prefix list), or remove it and use SSM Session Manager / a private endpoint for administration.
package affidavit.rules.iac.no_open_admin_ports

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.terraform

missing contains terraform.no_plan if count(terraform.plans) == 0

missing contains m if some m in terraform.malformed

missing contains m if some m in params.problems("iac", {"admin_ports": "array", "open_cidrs": "array"})

# Every ingress rule, normalised: where it is, its protocol and port range, its source ranges
# and the path to them (for after_unknown).
_rules := array.concat(array.concat(_inline, _separate), _vpc_rules)

_inline := [{"c": c, "where": sprintf("%s ingress[%d]", [terraform.address(c.rc), i]), "protocol": r.protocol, "from": r.from_port, "to": r.to_port, "sources": _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), "paths": [["ingress", i, "cidr_blocks"], ["ingress", i, "ipv6_cidr_blocks"]]} |
	some c in terraform.of_type({"aws_security_group"})
	some i, r in evidence.array_at(c.rc.after, "ingress")
	is_object(r)
]

_separate := [{"c": c, "where": terraform.address(c.rc), "protocol": r.protocol, "from": r.from_port, "to": r.to_port, "sources": _sources(r, ["cidr_blocks", "ipv6_cidr_blocks"]), "paths": [["cidr_blocks"], ["ipv6_cidr_blocks"]]} |
	some c in terraform.of_type({"aws_security_group_rule"})
	r := c.rc.after
	r.type == "ingress"
]

_vpc_rules := [{"c": c, "where": terraform.address(c.rc), "protocol": r.ip_protocol, "from": object.get(r, "from_port", null), "to": object.get(r, "to_port", null), "sources": {s | some s in [object.get(r, "cidr_ipv4", null), object.get(r, "cidr_ipv6", null)]; is_string(s)}, "paths": [["cidr_ipv4"], ["cidr_ipv6"]]} |
	some c in terraform.of_type({"aws_vpc_security_group_ingress_rule"})
	r := c.rc.after
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

deny contains v if {
	open := {c | some c in params.list("iac", "open_cidrs")}
	some rule in _rules
	from_anywhere := rule.sources & open
	count(from_anywhere) > 0
	ports := _ports(rule)
	count(ports) > 0
	v := {
		"msg": sprintf("%s admits %s from %s to administrative port(s) %s (%s)", [rule.where, _range(rule), concat(", ", sort(from_anywhere)), concat(", ", [sprintf("%v", [p]) | some p in sort(ports)]), evidence.label(rule.c.record)]),
		"evidence_ids": evidence.id_list(rule.c.record),
		"details": {"resource": terraform.address(rule.c.rc), "ports": sort(ports), "sources": sort(from_anywhere)},
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
