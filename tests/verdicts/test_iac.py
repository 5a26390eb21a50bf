"""False-verdict scenarios, area "infrastructure as code" (issue 10).

Each scenario is the demo GO release with its Terraform plan (``tfplan.json``, ``terraform show
-json`` output) changed in one realistic way. The plan shapes follow Terraform's JSON output format
(https://developer.hashicorp.com/terraform/internals/json-format) and its source: the plan's
``applyable``/``complete``/``errored`` and ``deferred_changes`` fields are written by
``internal/command/jsonplan/plan.go``; ``complete`` is false for a ``-target`` plan or one with
deferrals (``internal/terraform/context_plan.go``, "Our final rulings on whether the plan is
complete and applyable"). Resource attributes follow the AWS provider's documentation of each
resource type (registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/<type>).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.verdicts.support import Change, Scenario, both, check, edit_json, ids, remove_file

AREA = "iac"
PLAN = "tfplan.json"
TF_JSON = "Terraform JSON output format (developer.hashicorp.com/terraform/internals/json-format)"
JSONPLAN = (
    "hashicorp/terraform internal/command/jsonplan/plan.go (applyable, complete, errored, deferred_changes)"
)
CONTEXT_PLAN = (
    "hashicorp/terraform internal/terraform/context_plan.go: complete only without -target or deferrals"
)
S3_PUBLIC = (
    "AWS S3 User Guide, 'Blocking public access to your Amazon S3 storage', 'The meaning of public' "
    "(fixed aws:SourceIp/SourceArn/SourceVpc/SourceVpce/SourceOwner/SourceAccount/userid values)"
)
SG_DOC = "AWS provider docs: aws_security_group (ingress blocks: from_port, to_port, protocol, cidr_blocks, ipv6_cidr_blocks)"
SG_RULE_DOC = "AWS provider docs: aws_security_group_rule / aws_vpc_security_group_ingress_rule (cidr_ipv4, ip_protocol)"
SENSITIVE_DOC = (
    "Terraform JSON output format, change representation: after_sensitive mirrors after with true "
    "where a value is sensitive; Terraform docs, input variables, 'Suppressing values in CLI "
    "output': a value derived from a sensitive variable is sensitive too"
)
IAM_COND = (
    "IAM User Guide, condition operators: ...IfExists and ForAllValues pass a request that lacks the key"
)


def _rc(address: str, actions: list[str], before: Any, after: Any, unknown: Any = None) -> dict[str, Any]:
    """One resource change as ``terraform show -json`` writes it (provider aws)."""
    rtype, name = address.split(".")[-2:]
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": unknown if unknown is not None else {},
            "before_sensitive": False if before is None else {},
            "after_sensitive": False if after is None else {},
        },
    }


_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _acl_to_all_users() -> dict[str, Any]:
    """An ``aws_s3_bucket_acl`` on the exports bucket whose access_control_policy grants READ to
    every user (the ``AllUsers`` group)."""
    grantee = {"type": "Group", "uri": _ALL_USERS, "id": None, "email_address": None}
    policy = {
        "grant": [{"grantee": [grantee], "permission": "READ"}],
        "owner": [{"id": "79a59df900b949e55d96a1e698fbaced", "display_name": None}],
    }
    after = {"bucket": "acme-shop-exports-prod", "access_control_policy": [policy]}
    return _rc("aws_s3_bucket_acl.exports", ["create"], None, after, {"id": True})


def _v3_bucket(**after: Any) -> dict[str, Any]:
    """A new ``aws_s3_bucket.exports_v3`` as AWS provider v3 plans it (ACL and grants on the bucket)."""
    values = {"bucket": "acme-shop-exports-v3", **after}
    return _rc("aws_s3_bucket.exports_v3", ["create"], None, values, {"id": True, "arn": True})


def _ssh_rule(unknown: dict[str, Any], **after: Any) -> dict[str, Any]:
    """A new ``aws_security_group_rule.ssh``: ingress on TCP 22 to a security group, with ``after``
    added to (or, as ``None``, taken from) its planned values."""
    values: dict[str, Any] = {
        "type": "ingress",
        "from_port": 22,
        "to_port": 22,
        "protocol": "tcp",
        "security_group_id": "sg-0a1b2c3d4e5f60718",
    }
    values.update(after)
    planned = {key: value for key, value in values.items() if value is not None}
    return _rc("aws_security_group_rule.ssh", ["create"], None, planned, unknown)


def _sensitive(rc: dict[str, Any], marks: Any) -> dict[str, Any]:
    """``rc`` with its planned values marked sensitive where ``marks`` (``after_sensitive``) says."""
    rc["change"]["after_sensitive"] = marks
    return rc


def _add(*changes: dict[str, Any]) -> Change:
    """A change to the plan: these resource changes added."""

    def edit(plan: dict[str, Any]) -> None:
        plan["resource_changes"].extend(changes)

    return edit_json(PLAN, edit)


def _top(**fields: Any) -> Change:
    """A change to the plan's top-level fields."""

    def edit(plan: dict[str, Any]) -> None:
        plan.update(fields)

    return edit_json(PLAN, edit)


def _sg(ingress: list[dict[str, Any]], unknown: Any = None) -> dict[str, Any]:
    """A new security group ``aws_security_group.admin`` with these ingress blocks."""
    after = {"name": "shop-admin", "description": "shop admin access", "ingress": ingress, "egress": []}
    return _rc("aws_security_group.admin", ["create"], None, after, unknown or {"id": True, "arn": True})


def _ingress(
    port: int, v4: list[str], v6: list[str] | None = None, protocol: str = "tcp", to: int | None = None
) -> dict[str, Any]:
    """One inline ingress block."""
    return {
        "from_port": port,
        "to_port": port if to is None else to,
        "protocol": protocol,
        "cidr_blocks": v4,
        "ipv6_cidr_blocks": v6 or [],
        "description": "",
        "prefix_list_ids": [],
        "security_groups": [],
        "self": False,
    }


def _policy(statement: dict[str, Any]) -> dict[str, Any]:
    """An ``aws_s3_bucket_policy`` on the demo's exports bucket with one statement."""
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    after = {"bucket": "acme-shop-exports-prod", "policy": json.dumps(doc)}
    return _rc("aws_s3_bucket_policy.exports", ["create"], None, after, {"id": True})


def _anyone_get(condition: dict[str, Any] | None = None, principal: Any = "*") -> dict[str, Any]:
    """A statement allowing ``principal`` to read objects, under ``condition``."""
    st: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-shop-exports-prod/*",
    }
    if condition is not None:
        st["Condition"] = condition
    return st


def _destroy(address: str, before: dict[str, Any], actions: list[str] | None = None) -> dict[str, Any]:
    """A delete (or a replacement, with ``actions``) of an existing resource."""
    acts = actions or ["delete"]
    after = None if acts == ["delete"] else before
    return _rc(address, acts, before, after, {} if after is not None else None)


_DOCDB = {"cluster_identifier": "shop-catalog", "engine": "docdb", "storage_encrypted": True}
_NEPTUNE = {"cluster_identifier": "shop-graph", "engine": "neptune", "storage_encrypted": True}
_REDSHIFT = {"cluster_identifier": "shop-dw", "node_type": "ra3.xlplus", "encrypted": True}
_DB = {"identifier": "shop-prod", "engine": "postgres", "storage_encrypted": True}

_PLAN_RULES = (
    "iac.no_public_buckets",
    "iac.no_open_admin_ports",
    "iac.encryption_at_rest",
    "iac.protected_resource_changes",
)


def _incomplete(name: str, change: Change, cite: str, why: str) -> list[Scenario]:
    """The same incomplete plan judged by every plan-based rule."""
    return [
        Scenario(f"iac-{name}-{rule.split('.')[1]}", AREA, rule, change, "insufficient_evidence", cite, why)
        for rule in _PLAN_RULES
    ]


SCENARIOS: list[Scenario] = [
    # --- plans that do not show everything the apply will do ------------------------------
    *_incomplete(
        "errored-plan",
        _top(errored=True, applyable=False, complete=False),
        JSONPLAN,
        "a plan whose planning failed part way lists only what Terraform got to",
    ),
    *_incomplete(
        "targeted-plan",
        _top(complete=False),
        CONTEXT_PLAN,
        "terraform plan -target=aws_ecs_task_definition.api: complete is false",
    ),
    Scenario(
        "iac-deferred-db-replacement",
        AREA,
        "iac.protected_resource_changes",
        both(
            _top(complete=False),
            edit_json(
                PLAN,
                lambda p: p.update(
                    deferred_changes=[
                        {
                            "reason": "provider_config_unknown",
                            "resource_change": _destroy("aws_db_instance.main", _DB, ["delete", "create"]),
                        }
                    ]
                ),
            ),
        ),
        "insufficient_evidence",
        JSONPLAN + " (DeferredResourceChange: reason, resource_change)",
        "a replacement of the database deferred to the next plan is not in resource_changes",
    ),
    Scenario(
        "iac-deferred-without-complete-flag",
        AREA,
        "iac.no_open_admin_ports",
        edit_json(
            PLAN,
            lambda p: p.update(
                deferred_changes=[
                    {
                        "reason": "instance_count_unknown",
                        "resource_change": _sg([_ingress(22, ["0.0.0.0/0"])]),
                    }
                ]
            ),
        ),
        "insufficient_evidence",
        JSONPLAN,
        "deferred_changes present even where a tool dropped `complete`: still incomplete",
    ),
    Scenario(
        "iac-partial-plan-older-terraform",
        AREA,
        "iac.encryption_at_rest",
        both(
            edit_json(PLAN, lambda p: [p.pop(k) for k in ("complete", "applyable")] and None),
            edit_json(
                PLAN,
                lambda p: p.update(
                    prior_state={
                        "format_version": "1.0",
                        "values": {
                            "root_module": {
                                "resources": [
                                    {
                                        "address": a,
                                        "mode": "managed",
                                        "type": a.split(".")[0],
                                        "name": a.split(".")[1],
                                    }
                                    for a in (
                                        "aws_db_instance.main",
                                        "aws_ebs_volume.data",
                                        "aws_security_group.api",
                                    )
                                ]
                            }
                        },
                    }
                ),
            ),
        ),
        "insufficient_evidence",
        TF_JSON + " (prior_state; Terraform before 1.8 writes no `complete`)",
        "prior state holds aws_ebs_volume.data, which the plan does not list: a -target plan",
    ),
    Scenario(
        "iac-no-changes-plan-passes",
        AREA,
        "iac.no_open_admin_ports",
        _top(applyable=False),
        "pass",
        JSONPLAN + ": applyable false without errored means nothing to change",
        decision="GO",
    ),
    # --- public buckets -----------------------------------------------------------------
    Scenario(
        "iac-bucket-policy-known-after-apply",
        AREA,
        "iac.no_public_buckets",
        _add(
            _rc(
                "aws_s3_bucket_policy.exports",
                ["create"],
                None,
                {"bucket": "acme-shop-exports-prod"},
                {"id": True, "policy": True},
            )
        ),
        "insufficient_evidence",
        TF_JSON + " (after_unknown)",
        "policy = data.aws_iam_policy_document.x.json built from values known only after apply",
    ),
    Scenario(
        "iac-anyone-with-tls-condition",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"Bool": {"aws:SecureTransport": "true"}}))),
        "fail",
        S3_PUBLIC,
        "requiring TLS does not limit who may read",
    ),
    Scenario(
        "iac-anyone-with-referer-condition",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"StringLike": {"aws:Referer": ["https://shop.acme.example/*"]}}))),
        "fail",
        S3_PUBLIC,
        "the Referer header is set by the client",
    ),
    Scenario(
        "iac-anyone-with-ifexists-vpce",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}))),
        "fail",
        S3_PUBLIC + "; " + IAM_COND,
        "a request from the internet has no SourceVpce, so IfExists lets it through",
    ),
    Scenario(
        "iac-anyone-with-wildcard-org",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"StringLike": {"aws:PrincipalOrgID": "o-*"}}))),
        "fail",
        S3_PUBLIC,
        "any organisation is no fixed value",
    ),
    Scenario(
        "iac-anyone-from-any-ip",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}}))),
        "fail",
        S3_PUBLIC,
    ),
    Scenario(
        "iac-aws-star-principal-without-condition",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get(principal={"AWS": ["*"]}))),
        "fail",
        S3_PUBLIC,
    ),
    Scenario(
        "iac-anyone-in-our-org-passes",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}))),
        "pass",
        S3_PUBLIC + " (aws:PrincipalOrgID as IAM Access Analyzer reads it)",
        decision="GO",
    ),
    Scenario(
        "iac-anyone-through-our-endpoint-passes",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f60718"]}}))),
        "pass",
        S3_PUBLIC,
        decision="GO",
    ),
    Scenario(
        "iac-anyone-from-office-range-passes",
        AREA,
        "iac.no_public_buckets",
        _add(_policy(_anyone_get({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}))),
        "pass",
        S3_PUBLIC,
        decision="GO",
    ),
    Scenario(
        "iac-cloudfront-oac-passes",
        AREA,
        "iac.no_public_buckets",
        _add(
            _policy(
                _anyone_get(
                    {
                        "StringEquals": {
                            "AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"
                        }
                    },
                    principal={"Service": "cloudfront.amazonaws.com"},
                )
            )
        ),
        "pass",
        "Amazon CloudFront Developer Guide, 'Restrict access to an Amazon S3 origin' (origin access control policy)",
        decision="GO",
    ),
    Scenario(
        "iac-deny-insecure-transport-passes",
        AREA,
        "iac.no_public_buckets",
        _add(
            _policy(
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [
                        "arn:aws:s3:::acme-shop-exports-prod",
                        "arn:aws:s3:::acme-shop-exports-prod/*",
                    ],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            )
        ),
        "pass",
        "AWS S3 User Guide, bucket policy examples: 'Managing access based on HTTP or HTTPS requests'",
        decision="GO",
    ),
    Scenario(
        "iac-public-access-block-off",
        AREA,
        "iac.no_public_buckets",
        edit_json(
            PLAN,
            lambda p: next(
                rc for rc in p["resource_changes"] if rc["type"] == "aws_s3_bucket_public_access_block"
            )["change"]["after"].update(restrict_public_buckets=False),
        ),
        "fail",
        "AWS provider docs: aws_s3_bucket_public_access_block",
    ),
    Scenario(
        "iac-public-read-acl",
        AREA,
        "iac.no_public_buckets",
        _add(
            _rc(
                "aws_s3_bucket_acl.exports",
                ["create"],
                None,
                {"bucket": "acme-shop-exports-prod", "acl": "public-read", "expected_bucket_owner": None},
                {"id": True, "access_control_policy": True},
            )
        ),
        "fail",
        "AWS provider docs: aws_s3_bucket_acl; S3 canned ACLs",
    ),
    Scenario(
        "iac-allow-with-not-principal",
        AREA,
        "iac.no_public_buckets",
        _add(
            _policy(
                {
                    "Effect": "Allow",
                    "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/shop-admin"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::acme-shop-exports-prod/*",
                }
            )
        ),
        "fail",
        "IAM User Guide, 'AWS JSON policy elements: NotPrincipal' (Allow with NotPrincipal grants everyone else)",
    ),
    Scenario(
        "iac-acl-grant-to-all-users",
        AREA,
        "iac.no_public_buckets",
        _add(
            _rc(
                "aws_s3_bucket_acl.exports",
                ["create"],
                None,
                {
                    "bucket": "acme-shop-exports-prod",
                    "access_control_policy": [
                        {
                            "grant": [
                                {
                                    "grantee": [
                                        {
                                            "type": "Group",
                                            "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
                                            "id": None,
                                            "email_address": None,
                                        }
                                    ],
                                    "permission": "READ",
                                }
                            ],
                            "owner": [{"id": "79a59df900b949e55d96a1e698fbaced", "display_name": None}],
                        }
                    ],
                },
                {"id": True},
            )
        ),
        "fail",
        "AWS provider docs: aws_s3_bucket_acl access_control_policy; S3 ACL grantee groups (AllUsers)",
    ),
    Scenario(
        "iac-rule-of-unknown-type-open",
        AREA,
        "iac.no_open_admin_ports",
        _add(
            _ssh_rule(
                {"id": True, "type": True}, type=None, security_group_id=None, cidr_blocks=["0.0.0.0/0"]
            )
        ),
        "fail",
        SG_RULE_DOC + "; " + TF_JSON + " (after_unknown)",
        "type = var.direction known only at apply: judged as the ingress rule it may be",
    ),
    # --- administrative ports -------------------------------------------------------------
    Scenario(
        "iac-ssh-from-two-halves",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(22, ["0.0.0.0/1", "128.0.0.0/1"])])),
        "fail",
        SG_DOC + "; RFC 4632 (CIDR)",
        "0.0.0.0/1 and 128.0.0.0/1 are every IPv4 address",
    ),
    Scenario(
        "iac-rdp-from-ipv6-halves",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(3389, [], ["::/1", "8000::/1"])])),
        "fail",
        SG_DOC + "; RFC 4291 (IPv6 prefixes)",
    ),
    Scenario(
        "iac-ssh-halves-in-two-blocks",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(22, ["0.0.0.0/1"]), _ingress(0, ["128.0.0.0/1"], to=1024)])),
        "fail",
        SG_DOC,
        "one block admits 22 from one half, another 0-1024 from the other",
    ),
    Scenario(
        "iac-ssh-from-four-quarters",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(22, ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"])])),
        "fail",
        SG_DOC,
    ),
    Scenario(
        "iac-smb-open",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(445, ["0.0.0.0/0"])])),
        "fail",
        SG_DOC + "; CISA alert TA17-132A (SMB exposed to the internet)",
    ),
    Scenario(
        "iac-memcached-udp-open",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(11211, ["0.0.0.0/0"], protocol="udp")])),
        "fail",
        SG_DOC + "; US-CERT alert TA18-060A (memcached UDP amplification)",
    ),
    Scenario(
        "iac-ingress-list-unknown",
        AREA,
        "iac.no_open_admin_ports",
        _add(
            _rc(
                "aws_security_group.admin",
                ["create"],
                None,
                {"name": "shop-admin", "egress": []},
                {"id": True, "ingress": True},
            )
        ),
        "insufficient_evidence",
        SG_DOC + "; " + TF_JSON + " (after_unknown)",
        "ingress built with dynamic blocks from a data source read at apply",
    ),
    Scenario(
        "iac-rule-cidr-unknown",
        AREA,
        "iac.no_open_admin_ports",
        _add(_ssh_rule({"id": True, "cidr_blocks": True})),
        "insufficient_evidence",
        SG_RULE_DOC,
    ),
    Scenario(
        "iac-rule-ports-unknown-from-anywhere",
        AREA,
        "iac.no_open_admin_ports",
        _add(
            _rc(
                "aws_vpc_security_group_ingress_rule.admin",
                ["create"],
                None,
                {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "tcp", "security_group_id": "sg-0a1b"},
                {"id": True, "from_port": True, "to_port": True},
            )
        ),
        "insufficient_evidence",
        SG_RULE_DOC,
    ),
    Scenario(
        "iac-vpc-rule-ssh-open",
        AREA,
        "iac.no_open_admin_ports",
        _add(
            _rc(
                "aws_vpc_security_group_ingress_rule.ssh",
                ["create"],
                None,
                {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "tcp", "from_port": 22, "to_port": 22},
                {"id": True},
            )
        ),
        "fail",
        SG_RULE_DOC,
    ),
    Scenario(
        "iac-https-open-passes",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(443, ["0.0.0.0/0"], ["::/0"])])),
        "pass",
        SG_DOC,
        decision="GO",
    ),
    Scenario(
        "iac-ssh-from-private-ranges-passes",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(22, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])])),
        "pass",
        SG_DOC + "; RFC 1918",
        decision="GO",
    ),
    Scenario(
        "iac-ssh-from-half-the-internet-passes",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sg([_ingress(22, ["0.0.0.0/1", "128.0.0.0/2"])])),
        "pass",
        SG_DOC,
        "a quarter of the IPv4 space is left out: not the whole internet (debatable, see docs/verdicts/iac.md)",
        decision="GO",
    ),
    # --- protected resources --------------------------------------------------------------
    Scenario(
        "iac-docdb-replaced-without-approval",
        AREA,
        "iac.protected_resource_changes",
        both(
            remove_file("change-record.json"),
            _add(_destroy("aws_docdb_cluster.catalog", _DOCDB, ["delete", "create"])),
        ),
        "fail",
        "AWS provider docs: aws_docdb_cluster",
    ),
    Scenario(
        "iac-neptune-deleted-without-approval",
        AREA,
        "iac.protected_resource_changes",
        both(remove_file("change-record.json"), _add(_destroy("aws_neptune_cluster.graph", _NEPTUNE))),
        "fail",
        "AWS provider docs: aws_neptune_cluster",
    ),
    Scenario(
        "iac-redshift-replaced-without-approval",
        AREA,
        "iac.protected_resource_changes",
        both(
            remove_file("change-record.json"),
            _add(_destroy("aws_redshift_cluster.dw", _REDSHIFT, ["create", "delete"])),
        ),
        "fail",
        "AWS provider docs: aws_redshift_cluster (create_before_destroy replacement)",
    ),
    Scenario(
        "iac-docdb-replaced-with-approval-warns",
        AREA,
        "iac.protected_resource_changes",
        _add(_destroy("aws_docdb_cluster.catalog", _DOCDB, ["delete", "create"])),
        "warn",
        "AWS provider docs: aws_docdb_cluster",
        "the demo's approved change record covers the promotion: shown, not blocking",
        decision="GO",
    ),
    # --- values the plan masks: the evidence holds "(sensitive)", never the value ------------
    Scenario(
        "iac-sg-ingress-from-sensitive-variable",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sensitive(_sg([_ingress(22, ["0.0.0.0/0"])]), {"ingress": True})),
        "insufficient_evidence",
        SENSITIVE_DOC + "; " + SG_DOC + " (ingress is a set: a mark inside it marks the whole set)",
        "SSH open to the internet, its ranges from a variable declared sensitive: the gate sees a mask",
    ),
    Scenario(
        "iac-sg-rule-cidr-from-sensitive-variable",
        AREA,
        "iac.no_open_admin_ports",
        _add(_sensitive(_ssh_rule({"id": True}, cidr_blocks=["0.0.0.0/0"]), {"cidr_blocks": [True]})),
        "insufficient_evidence",
        SENSITIVE_DOC + "; " + SG_RULE_DOC,
        "cidr_blocks = [var.admin_cidr], declared sensitive: one masked range hides the list",
    ),
    Scenario(
        "iac-vpc-ingress-rule-port-from-sensitive-variable",
        AREA,
        "iac.no_open_admin_ports",
        _add(
            _sensitive(
                _rc(
                    "aws_vpc_security_group_ingress_rule.db",
                    ["create"],
                    None,
                    {
                        "security_group_id": "sg-0a1b2c3d4e5f60718",
                        "ip_protocol": "tcp",
                        "from_port": 5432,
                        "to_port": 5432,
                        "cidr_ipv4": "0.0.0.0/0",
                    },
                    {"id": True, "arn": True},
                ),
                {"from_port": True, "to_port": True},
            )
        ),
        "insufficient_evidence",
        SENSITIVE_DOC + "; " + SG_RULE_DOC,
        "the port of a rule open to the internet comes from a sensitive variable",
    ),
    Scenario(
        "iac-db-encryption-flag-from-sensitive-variable",
        AREA,
        "iac.encryption_at_rest",
        _add(
            _sensitive(
                _rc(
                    "aws_db_instance.reports",
                    ["create"],
                    None,
                    dict(_DB, storage_encrypted=False),
                    {"id": True},
                ),
                {"storage_encrypted": True},
            )
        ),
        "insufficient_evidence",
        SENSITIVE_DOC + "; AWS provider docs: aws_db_instance storage_encrypted",
        "the gate cannot see whether the database is encrypted: it must not judge the mask",
    ),
    Scenario(
        "iac-public-access-block-flag-from-sensitive-variable",
        AREA,
        "iac.no_public_buckets",
        _add(
            _sensitive(
                _rc(
                    "aws_s3_bucket_public_access_block.exports",
                    ["create"],
                    None,
                    {
                        "bucket": "acme-shop-exports-prod",
                        "block_public_acls": False,
                        "block_public_policy": True,
                        "ignore_public_acls": True,
                        "restrict_public_buckets": True,
                    },
                    {"id": True},
                ),
                {"block_public_acls": True},
            )
        ),
        "insufficient_evidence",
        SENSITIVE_DOC + "; AWS provider docs: aws_s3_bucket_public_access_block",
        "block_public_acls is masked: whether public ACLs are blocked cannot be told",
    ),
    Scenario(
        "iac-bucket-acl-from-sensitive-variable",
        AREA,
        "iac.no_public_buckets",
        _add(_sensitive(_v3_bucket(acl="public-read", force_destroy=False), {"acl": True})),
        "insufficient_evidence",
        SENSITIVE_DOC + "; AWS provider v3 docs: aws_s3_bucket acl (canned ACL)",
        "acl = var.acl, declared sensitive, on a provider-v3 bucket",
    ),
    Scenario(
        "iac-acl-grants-from-sensitive-variable",
        AREA,
        "iac.no_public_buckets",
        _add(_sensitive(_acl_to_all_users(), {"access_control_policy": [{"grant": True}]})),
        "insufficient_evidence",
        SENSITIVE_DOC + "; AWS provider docs: aws_s3_bucket_acl access_control_policy (grant is a set)",
        "a grant to AllUsers whose grantee comes from a sensitive variable: the set is masked whole",
    ),
    Scenario(
        "iac-bucket-grants-from-sensitive-variable",
        AREA,
        "iac.no_public_buckets",
        _add(
            _sensitive(
                _v3_bucket(grant=[{"type": "Group", "uri": _ALL_USERS, "permissions": ["READ"], "id": ""}]),
                {"grant": True},
            )
        ),
        "insufficient_evidence",
        SENSITIVE_DOC + "; AWS provider v3 docs: aws_s3_bucket grant blocks",
        "inline grants of a provider-v3 bucket, masked as sensitive",
    ),
    Scenario(
        "iac-docdb-unencrypted",
        AREA,
        "iac.encryption_at_rest",
        _add(
            _rc(
                "aws_docdb_cluster.catalog",
                ["create"],
                None,
                dict(_DOCDB, storage_encrypted=False),
                {"id": True},
            )
        ),
        "fail",
        "AWS provider docs: aws_docdb_cluster storage_encrypted (default false)",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_iac_verdict(tmp_path: Path, scenario: Scenario) -> None:
    """The gate says what the scenario requires, and never GO on a real defect."""
    check(tmp_path, scenario)
