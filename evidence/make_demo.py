"""Write the demo release evidence of ``acme/shop`` (``evidence/demo/``).

Everything here is made up by this script, in the shapes the real tools write (Trivy 0.5x JSON,
syft-style CycloneDX 1.5, Gitleaks 8, CodeQL SARIF 2.1.0, ``terraform show -json`` format 1.2,
GitHub's branch-protection REST response, cosign's simple-signing payload and key-pair signature,
an in-toto SLSA v1 provenance statement in a DSSE envelope, and affidavit's own change record).

Two releases of the same image are written:

- ``go/``: a release that passes every production rule;
- ``no-go/``: the same release with several real-world problems (a fixable critical CVE, a
  leaked key, weakened branch protection, an unapproved database replacement, a world-open SSH
  port, a blocking CodeQL finding, a self-approved change).

Beside them, ``params.yaml`` is the demo organisation's rule data: the signer, builder, source
repository and status checks it trusts or requires. The built-in rule data trusts no one, so the
demo gate passes this file with ``--params``.

The signing key is derived from a fixed seed so that the output is byte-identical on every run;
it is a demo key and signs nothing else. Run: ``python evidence/make_demo.py`` (``--check`` only
compares with what is on disk; a test does that).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "demo"
IMAGE = "ghcr.io/acme/shop"
VERSION = "1.4.2"
COMMIT = "3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f"
REPO = "acme/shop"
CREATED = "2026-11-20T09:14:07Z"
BUILD_STARTED = "2026-11-20T09:02:11Z"
IDENTITY = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"
BUILDER = "https://github.com/actions/runner/github-hosted"
FAKE_SECRET = "AKIA" + "DEMO7EXAMPLE0KEY9X2Q"  # not a real key: made up for the NO-GO demo


def dumps(value: Any, indent: int | None = 2) -> bytes:
    """JSON as the tools write it (indent 2, final newline), deterministic."""
    if indent is None:
        return json.dumps(value, separators=(",", ":")).encode()
    return (json.dumps(value, indent=indent) + "\n").encode()


# --------------------------------------------------------------------------------------------
# The image and its manifest digest


def image_manifest() -> bytes:
    """An OCI image manifest for the demo image; its sha256 is the subject digest."""
    layers = [
        ("application/vnd.oci.image.layer.v1.tar+gzip", 3_623_807, "base"),
        ("application/vnd.oci.image.layer.v1.tar+gzip", 28_114_502, "python"),
        ("application/vnd.oci.image.layer.v1.tar+gzip", 1_202_233, "app"),
    ]
    return dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "size": 4211,
                "digest": "sha256:" + hashlib.sha256(b"acme-shop-config-" + VERSION.encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": mt,
                    "size": size,
                    "digest": "sha256:" + hashlib.sha256(name.encode()).hexdigest(),
                }
                for mt, size, name in layers
            ],
        },
        indent=None,
    )


DIGEST = "sha256:" + hashlib.sha256(image_manifest()).hexdigest()


# --------------------------------------------------------------------------------------------
# SBOM (syft-style CycloneDX 1.5)

PACKAGES: list[tuple[str, str, str, str]] = [
    # (ecosystem, name, version, licence)
    ("pypi", "fastapi", "0.115.6", "MIT"),
    ("pypi", "starlette", "0.41.3", "BSD-3-Clause"),
    ("pypi", "pydantic", "2.10.4", "MIT"),
    ("pypi", "pydantic-core", "2.27.2", "MIT"),
    ("pypi", "uvicorn", "0.34.0", "BSD-3-Clause"),
    ("pypi", "sqlalchemy", "2.0.36", "MIT"),
    ("pypi", "psycopg", "3.2.3", "LGPL-3.0-only"),
    ("pypi", "jinja2", "3.1.4", "BSD-3-Clause"),
    ("pypi", "markupsafe", "3.0.2", "BSD-3-Clause"),
    ("pypi", "requests", "2.32.3", "Apache-2.0"),
    ("pypi", "urllib3", "2.2.3", "MIT"),
    ("pypi", "idna", "3.10", "BSD-3-Clause"),
    ("pypi", "certifi", "2024.12.14", "MPL-2.0"),
    ("pypi", "anyio", "4.7.0", "MIT"),
    ("pypi", "sniffio", "1.3.1", "MIT"),
    ("pypi", "h11", "0.14.0", "MIT"),
    ("pypi", "typing-extensions", "4.12.2", "PSF-2.0"),
    ("pypi", "pyjwt", "2.10.1", "MIT"),
    ("pypi", "cryptography", "44.0.0", "Apache-2.0 OR BSD-3-Clause"),
    ("pypi", "cffi", "1.17.1", "MIT"),
    ("deb", "libc6", "2.36-9+deb12u9", "LGPL-2.1-or-later"),
    ("deb", "libssl3", "3.0.15-1~deb12u1", "Apache-2.0"),
    ("deb", "zlib1g", "1:1.2.13.dfsg-1", "Zlib"),
    ("deb", "libsqlite3-0", "3.40.1-2+deb12u1", "blessing"),
    ("deb", "ca-certificates", "20230311", "MPL-2.0"),
    ("deb", "tzdata", "2024b-0+deb12u1", "LicenseRef-Public-Domain"),
    ("deb", "libexpat1", "2.5.0-1+deb12u1", "MIT"),
    ("deb", "libffi8", "3.4.4-1", "MIT"),
]


def purl(eco: str, name: str, version: str) -> str:
    """A package URL as syft writes it."""
    if eco == "deb":
        return f"pkg:deb/debian/{name}@{version.replace(':', '%3A').replace('+', '%2B')}?arch=amd64&distro=debian-12"
    return f"pkg:pypi/{name}@{version}"


def sbom(packages: list[tuple[str, str, str, str]]) -> bytes:
    """A CycloneDX 1.5 JSON SBOM of the image, as syft 1.18 writes it."""
    components = []
    for eco, name, version, lic in packages:
        p = purl(eco, name, version)
        # an SPDX id goes in license.id; a compound or LicenseRef- one is an expression
        lic_entry = (
            {"expression": lic}
            if " OR " in lic or lic.startswith("LicenseRef-")
            else {"license": {"id": lic}}
        )
        components.append(
            {
                "bom-ref": p,
                "type": "library",
                "name": name,
                "version": version,
                "licenses": [lic_entry],
                "purl": p,
                "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(p.encode()).hexdigest()}],
                "properties": [{"name": "syft:package:type", "value": "python" if eco == "pypi" else "deb"}],
            }
        )
    root = f"pkg:oci/shop@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/acme/shop"
    doc = {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:" + _uuid(b"sbom" + DIGEST.encode()),
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-20T09:11:42Z",
            "tools": {
                "components": [
                    {"type": "application", "author": "anchore", "name": "syft", "version": "1.18.1"}
                ]
            },
            "component": {
                "bom-ref": root,
                "type": "container",
                "name": IMAGE,
                "version": DIGEST,
                "purl": root,
                "hashes": [{"alg": "SHA-256", "content": DIGEST.split(":", 1)[1]}],
            },
        },
        "components": components,
        "dependencies": [{"ref": root, "dependsOn": [c["bom-ref"] for c in components]}],
    }
    return dumps(doc)


def _uuid(seed: bytes) -> str:
    h = hashlib.sha256(seed).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# --------------------------------------------------------------------------------------------
# Trivy image scan (SchemaVersion 2)


def _vuln(
    eco: str, vid: str, pkg: str, installed: str, fixed: str | None, severity: str, score: float, title: str
) -> dict[str, Any]:
    v: dict[str, Any] = {
        "VulnerabilityID": vid,
        "PkgID": f"{pkg}@{installed}",
        "PkgName": pkg,
        "PkgIdentifier": {"PURL": purl(eco, pkg, installed)},
        "InstalledVersion": installed,
        "Status": "fixed" if fixed else "affected",
        "SeveritySource": "ghsa" if vid.startswith("GHSA") else "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{vid.lower()}",
        "Title": title,
        "Severity": severity,
        "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": score}},
        "PublishedDate": "2026-10-02T15:15:04Z",
        "LastModifiedDate": "2026-10-30T18:02:11Z",
    }
    if fixed:
        v["FixedVersion"] = fixed
    return v


def trivy(extra_vulns: list[dict[str, Any]]) -> bytes:
    """A Trivy 0.70 image report of the demo image, scanned in client/server mode.

    In that mode the report names the server's vulnerability database (pkg/types report.go
    ``TrivyInfo.Server``, version.go ``VulnerabilityDB``), which is how the gate can tell the
    database was current; a standalone report does not say.
    """
    os_vulns = [
        _vuln(
            "deb",
            "CVE-2026-41021",
            "libexpat1",
            "2.5.0-1+deb12u1",
            None,
            "MEDIUM",
            5.3,
            "expat: excessive memory on crafted input",
        ),
        _vuln(
            "deb",
            "CVE-2025-0167",
            "libc6",
            "2.36-9+deb12u9",
            None,
            "LOW",
            3.4,
            "glibc: minor information leak in iconv",
        ),
    ]
    py_vulns = [
        _vuln(
            "pypi",
            "CVE-2026-30112",
            "urllib3",
            "2.2.3",
            "2.2.4",
            "MEDIUM",
            4.4,
            "urllib3: proxy-authorization header kept on redirect",
        ),
        *extra_vulns,
    ]
    doc = {
        "SchemaVersion": 2,
        "Trivy": {
            "Version": "0.70.0",
            "Server": {
                "Version": "0.70.0",
                "VulnerabilityDB": {
                    "Version": 2,
                    "NextUpdate": "2026-11-21T06:13:10.612345678Z",
                    "UpdatedAt": "2026-11-20T06:13:10.612345678Z",
                    "DownloadedAt": "2026-11-20T07:01:33.501837Z",
                },
            },
        },
        "CreatedAt": "2026-11-20T09:12:55.118271Z",
        "ArtifactName": f"{IMAGE}@{DIGEST}",
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.8"},
            "ImageID": "sha256:" + hashlib.sha256(b"acme-shop-config-" + VERSION.encode()).hexdigest(),
            "RepoTags": [f"{IMAGE}:{VERSION}"],
            "RepoDigests": [f"{IMAGE}@{DIGEST}"],
        },
        "Results": [
            {
                "Target": f"{IMAGE}@{DIGEST} (debian 12.8)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": os_vulns,
            },
            {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": py_vulns},
        ],
    }
    return dumps(doc)


# --------------------------------------------------------------------------------------------
# Gitleaks 8


def gitleaks(leak: bool) -> bytes:
    """A Gitleaks 8.21 report: empty, or one AWS key committed by mistake."""
    if not leak:
        return b"[]\n"
    secret = FAKE_SECRET
    finding = {
        "RuleID": "aws-access-token",
        "Description": "Identified a pattern that may indicate AWS credentials, risking unauthorized cloud resource access and data breaches on AWS platforms.",
        "StartLine": 14,
        "EndLine": 14,
        "StartColumn": 22,
        "EndColumn": 41,
        "Match": f"aws_access_key_id = {secret}",
        "Secret": secret,
        "File": "deploy/settings.py",
        "SymlinkFile": "",
        "Commit": COMMIT,
        "Entropy": 3.8,
        "Author": "Dana Developer",
        "Email": "dana@acme.example",
        "Date": "2026-11-19T16:40:12Z",
        "Message": "wire up S3 uploads",
        "Tags": [],
        "Fingerprint": f"{COMMIT}:deploy/settings.py:aws-access-token:14",
    }
    return dumps([finding])


def gitleaks_sarif(leak: bool) -> bytes:
    """The same Gitleaks 8.21 scan as SARIF (``--report-format sarif --redact``), to which the release
    pipeline adds the run's ``versionControlProvenance`` (SARIF 2.1.0 3.14.28): the commit it scanned.
    A clean Gitleaks JSON report (``[]``) names no commit; this states the one the scan covered."""
    results: list[dict[str, Any]] = []
    if leak:
        results.append(
            {
                "message": {
                    "text": f"aws-access-token has detected secret for file deploy/settings.py at commit {COMMIT}."
                },
                "ruleId": "aws-access-token",
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "deploy/settings.py"},
                            "region": {
                                "startLine": 14,
                                "startColumn": 22,
                                "endLine": 14,
                                "endColumn": 41,
                                "snippet": {"text": "REDACTED"},
                            },
                        }
                    }
                ],
                "partialFingerprints": {
                    "commitSha": COMMIT,
                    "email": "dana@acme.example",
                    "author": "Dana Developer",
                    "date": "2026-11-19T16:40:12Z",
                    "commitMessage": "wire up S3 uploads",
                },
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitleaks",
                        "semanticVersion": "v8.21.2",
                        "informationUri": "https://github.com/gitleaks/gitleaks",
                        "rules": [{"id": "aws-access-token", "shortDescription": {"text": "AWS"}}],
                    }
                },
                "versionControlProvenance": [
                    {
                        "repositoryUri": f"https://github.com/{REPO}",
                        "revisionId": COMMIT,
                        "branch": "refs/heads/main",
                    }
                ],
                "results": results,
            }
        ],
    }
    return dumps(doc)


# --------------------------------------------------------------------------------------------
# CodeQL SARIF 2.1.0


def codeql(blocking: bool) -> bytes:
    """A CodeQL 2.19 SARIF for the Python code: one warning, plus one error in the NO-GO release."""
    rules = [
        {
            "id": "py/clear-text-logging-sensitive-data",
            "name": "py/clear-text-logging-sensitive-data",
            "defaultConfiguration": {"level": "error"},
            "properties": {"security-severity": "7.5", "tags": ["security"]},
        },
        {
            "id": "py/sql-injection",
            "name": "py/sql-injection",
            "defaultConfiguration": {"level": "error"},
            "properties": {"security-severity": "8.8", "tags": ["security"]},
        },
        {"id": "py/unused-import", "name": "py/unused-import", "defaultConfiguration": {"level": "note"}},
    ]
    results: list[dict[str, Any]] = [
        _sarif_result("py/unused-import", 2, "note", "Import of 'os' is not used.", "shop/api/orders.py", 3)
    ]
    if blocking:
        results.append(
            _sarif_result(
                "py/sql-injection",
                1,
                "error",
                "This SQL query depends on a user-provided value.",
                "shop/api/search.py",
                41,
            )
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "CodeQL",
                        "organization": "GitHub",
                        "semanticVersion": "2.19.3",
                        "rules": rules,
                    }
                },
                "versionControlProvenance": [
                    {
                        "repositoryUri": f"https://github.com/{REPO}",
                        "revisionId": COMMIT,
                        "branch": "refs/heads/main",
                    }
                ],
                "results": results,
                "automationDetails": {"id": "/language:python/"},
            }
        ],
    }
    return dumps(doc)


def _sarif_result(rule: str, index: int, level: str, text: str, uri: str, line: int) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "ruleIndex": index,
        "level": level,
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": line, "startColumn": 5, "endColumn": 40},
                }
            }
        ],
        "partialFingerprints": {
            "primaryLocationLineHash": hashlib.sha256(f"{rule}{uri}{line}".encode()).hexdigest()[:16] + ":1"
        },
    }


# --------------------------------------------------------------------------------------------
# Terraform plan (terraform show -json, format 1.2)


def _change(
    address: str,
    rtype: str,
    name: str,
    actions: list[str],
    before: Any,
    after: Any,
    after_unknown: Any | None = None,
    reason: str | None = None,
    replace_paths: list[Any] | None = None,
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": after_unknown or {},
        "before_sensitive": {} if before is not None else False,
        "after_sensitive": {} if after is not None else False,
    }
    if replace_paths:
        change["replace_paths"] = replace_paths
    out: dict[str, Any] = {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": change,
    }
    if reason:
        out["action_reason"] = reason
    return out


def tfplan(risky: bool) -> bytes:
    """The prod plan of the release: a new bucket and a task update, or (NO-GO) worse."""
    bucket = {
        "bucket": "acme-shop-exports-prod",
        "force_destroy": False,
        "tags": {"service": "shop", "env": "prod"},
    }
    sse = {
        "bucket": "acme-shop-exports-prod",
        "rule": [
            {
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key_id": "alias/shop"}
                ],
                "bucket_key_enabled": True,
            }
        ],
    }
    pab = {
        "bucket": "acme-shop-exports-prod",
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    sg_before = {
        "name": "shop-api",
        "ingress": [
            {
                "from_port": 443,
                "to_port": 443,
                "protocol": "tcp",
                "cidr_blocks": ["10.20.0.0/16"],
                "ipv6_cidr_blocks": [],
                "description": "https from the VPC",
            }
        ],
    }
    sg_after = copy.deepcopy(sg_before)
    db = {
        "identifier": "shop-prod",
        "engine": "postgres",
        "engine_version": "16.4",
        "instance_class": "db.t4g.large",
        "storage_encrypted": True,
        "publicly_accessible": False,
        "allocated_storage": 100,
    }
    changes = [
        _change(
            "aws_s3_bucket.exports",
            "aws_s3_bucket",
            "exports",
            ["create"],
            None,
            bucket,
            {"arn": True, "id": True, "tags_all": True},
        ),
        _change(
            "aws_s3_bucket_server_side_encryption_configuration.exports",
            "aws_s3_bucket_server_side_encryption_configuration",
            "exports",
            ["create"],
            None,
            sse,
            {"id": True},
        ),
        _change(
            "aws_s3_bucket_public_access_block.exports",
            "aws_s3_bucket_public_access_block",
            "exports",
            ["create"],
            None,
            pab,
            {"id": True},
        ),
        _change(
            "aws_ecs_task_definition.api",
            "aws_ecs_task_definition",
            "api",
            ["update"],
            {"family": "shop-api", "container_definitions": f'[{{"image":"{IMAGE}@sha256:0000"}}]'},
            {"family": "shop-api", "container_definitions": f'[{{"image":"{IMAGE}@{DIGEST}"}}]'},
        ),
        _change("aws_db_instance.main", "aws_db_instance", "main", ["no-op"], db, db),
    ]
    if risky:
        sg_after["ingress"].append(
            {
                "from_port": 22,
                "to_port": 22,
                "protocol": "tcp",
                "cidr_blocks": ["0.0.0.0/0"],
                "ipv6_cidr_blocks": [],
                "description": "temporary debug access",
            }
        )
        db_after = dict(db, engine_version="17.2", identifier="shop-prod-v17")
        changes[4] = _change(
            "aws_db_instance.main",
            "aws_db_instance",
            "main",
            ["delete", "create"],
            db,
            db_after,
            {"arn": True, "endpoint": True, "id": True},
            "replace_because_cannot_update",
            [["identifier"]],
        )
        changes.append(
            _change("aws_security_group.api", "aws_security_group", "api", ["update"], sg_before, sg_after)
        )
    else:
        changes.append(
            _change("aws_security_group.api", "aws_security_group", "api", ["no-op"], sg_before, sg_after)
        )
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": "registry.terraform.io/hashicorp/aws",
                    "version_constraint": "~> 5.80",
                }
            }
        },
        "timestamp": "2026-11-20T09:13:30Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


MAIN_TF = f"""terraform {{
  required_version = "~> 1.9.0"

  backend "s3" {{
    bucket         = "acme-terraform-state"
    key            = "shop/prod.tfstate"
    region         = "eu-west-1"
    encrypt        = true
    dynamodb_table = "acme-terraform-locks"
  }}

  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }}
  }}
}}

provider "aws" {{
  region = "eu-west-1"
}}

resource "aws_s3_bucket" "exports" {{
  bucket = "acme-shop-exports-prod"
  tags = {{
    service = "shop"
    env     = "prod"
  }}
}}

resource "aws_ecs_task_definition" "api" {{
  family                = "shop-api"
  container_definitions = jsonencode([{{ image = "{IMAGE}@${{var.image_digest}}" }}])
}}

variable "image_digest" {{
  type = string
}}
"""


# --------------------------------------------------------------------------------------------
# GitHub branch protection (GET /repos/acme/shop/branches/main/protection)


def branch_protection(weak: bool) -> bytes:
    """The REST response for main: strict in the GO release, weakened in the NO-GO one."""
    base = f"https://api.github.com/repos/{REPO}/branches/main/protection"
    doc = {
        "url": base,
        "required_status_checks": {
            "url": f"{base}/required_status_checks",
            "strict": True,
            "contexts": ["ci/build", "ci/test", "CodeQL"],
            "contexts_url": f"{base}/required_status_checks/contexts",
            "checks": [
                {"context": "ci/build", "app_id": 15368},
                {"context": "ci/test", "app_id": 15368},
                {"context": "CodeQL", "app_id": 57789},
            ],
        },
        "required_pull_request_reviews": {
            "url": f"{base}/required_pull_request_reviews",
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": not weak,
            "require_last_push_approval": True,
            "required_approving_review_count": 1 if weak else 2,
        },
        "required_signatures": {"url": f"{base}/required_signatures", "enabled": True},
        "enforce_admins": {"url": f"{base}/enforce_admins", "enabled": not weak},
        "required_linear_history": {"enabled": True},
        "allow_force_pushes": {"enabled": weak},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": True},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }
    return dumps(doc)


# --------------------------------------------------------------------------------------------
# Change record (affidavit.change-record/v1)


def change_record(self_approved: bool) -> bytes:
    """The release's change ticket with its approvals."""
    approver = "sam.release-manager" if not self_approved else "dana.developer"
    doc = {
        "schema": "affidavit.change-record/v1",
        "id": "CHG-2026-1142",
        "title": f"Release shop {VERSION} to prod",
        "environment": "prod",
        "subject": {"name": IMAGE, "digest": DIGEST},
        "requested_by": "dana.developer",
        "approvals": [{"approver": approver, "approved_at": "2026-11-20T10:41:00Z", "decision": "approved"}],
        "ticket": "https://acme.atlassian.example/browse/CHG-2026-1142",
        "created_at": "2026-11-20T09:20:00Z",
    }
    return dumps(doc)


# --------------------------------------------------------------------------------------------
# SLSA v1 provenance in a DSSE envelope, signed with the demo cosign key (cosign attest --key)


def _demo_key() -> Any:
    """The demo's ECDSA P-256 key, derived from a fixed seed (deterministic, demo only)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    seed = int.from_bytes(hashlib.sha256(b"affidavit demo signing key, signs nothing real").digest(), "big")
    return ec.derive_private_key(seed % (2**255), ec.SECP256R1())


def public_key_pem() -> bytes:
    """The demo key's public half, as ``cosign generate-key-pair`` writes cosign.pub."""
    from cryptography.hazmat.primitives import serialization

    return (
        _demo_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def provenance(digest: str) -> bytes:
    """An in-toto v1 Statement with a SLSA v1 predicate for the image, in a signed DSSE envelope."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": IMAGE, "digest": {"sha256": digest.split(":", 1)[1]}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": f"https://github.com/{REPO}",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {
                    "github": {
                        "event_name": "push",
                        "repository_id": "771234501",
                        "repository_owner_id": "90211876",
                    }
                },
                "resolvedDependencies": [
                    {"uri": f"git+https://github.com/{REPO}@refs/heads/main", "digest": {"gitCommit": COMMIT}}
                ],
            },
            "runDetails": {
                "builder": {"id": BUILDER},
                "metadata": {
                    "invocationId": f"https://github.com/{REPO}/actions/runs/11932245871/attempts/1",
                    "startedOn": BUILD_STARTED,
                    "finishedOn": "2026-11-20T09:10:58Z",
                },
            },
        },
    }
    payload = json.dumps(statement, separators=(",", ":")).encode()
    payload_type = "application/vnd.in-toto+json"
    signature = _demo_key().sign(
        _pae(payload_type, payload), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    return dumps(envelope)


# --------------------------------------------------------------------------------------------
# The demo organisation's rule data


REQUIRED_CHECKS = ("ci/build", "ci/test")


def key_id() -> str:
    """The demo key's id as affidavit records it: sha256 of its DER SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization

    der = (
        _demo_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def params() -> bytes:
    """``params.yaml``: what Acme trusts and requires, in the shape of affidavit's rule data."""
    checks = "".join(f'      - "{c}"\n' for c in REQUIRED_CHECKS)
    return f"""\
# Rule data of the demo organisation, Acme, for its image {IMAGE} (written by
# evidence/make_demo.py). affidavit's built-in rule data trusts no signer, builder or source
# repository and requires no status check by name: an organisation names its own in a file like
# this one and passes it to the gate with --params. Keys are documented in docs/params.md.
defaults:
  supply_chain:
    # Keyless signer: the release workflow's Fulcio identity and GitHub Actions' OIDC issuer.
    allowed_identities:
      - identity: "{IDENTITY}"
        issuer: "{ISSUER}"
    # The demo's signing key (evidence/demo/cosign.pub), by its key id. The key given to the gate
    # with --key is only what signatures are checked with; in prod it counts because it is here.
    allowed_key_ids:
      - "{key_id()}"
    # The builder that makes the demo's provenance (GitHub-hosted runners), the SLSA build level
    # Acme credits it with, and who may sign provenance for it. A provenance is credited with the
    # builder's level only when one of these signed it; a key-signed provenance is otherwise level 1.
    # Acme credits its release key with level 2 because the key lives in a KMS whose signing
    # permission only the hosted release workflow holds (docs/verdicts/supply-chain.md).
    allowed_builders:
      - id: "{BUILDER}"
        level: 2
        signers:
          - key_id: "{key_id()}"
          - identity: "{IDENTITY}"
            issuer: "{ISSUER}"
    # Refs a release may be built from: main, and release tags v<major>.<minor>.<patch>.
    allowed_refs:
      - "refs/heads/main"
    ref_patterns:
      - 'refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+'
    allowed_source_repos:
      - "github.com/{REPO}"
  source_control:
    # The CI checks that must pass before a change merges to main.
    required_checks:
{checks}""".encode()


# --------------------------------------------------------------------------------------------


def files_for(variant: str) -> dict[str, bytes]:
    """Every file of one release variant, by relative name."""
    nogo = variant == "no-go"
    critical = (
        [
            _vuln(
                "pypi",
                "CVE-2026-28877",
                "pyjwt",
                "2.10.1",
                "2.10.2",
                "CRITICAL",
                9.8,
                "pyjwt: signature check bypass with crafted algorithm header",
            )
        ]
        if nogo
        else []
    )
    files = {
        "sbom.cdx.json": sbom(PACKAGES),
        "trivy-image.json": trivy(critical),
        "gitleaks.json": gitleaks(nogo),
        "gitleaks.sarif": gitleaks_sarif(nogo),
        "codeql.sarif": codeql(nogo),
        "tfplan.json": tfplan(nogo),
        "main.tf": MAIN_TF.encode(),
        "branch-protection.json": branch_protection(nogo),
        "change-record.json": change_record(nogo),
        "provenance.intoto.json": provenance(DIGEST),
    }
    return files


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the demo evidence."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="compare with the files on disk; exit 1 if they differ"
    )
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    expected: dict[Path, bytes] = {
        args.out / "SUBJECT_DIGEST": DIGEST.encode() + b"\n",
        args.out / "COMMIT": COMMIT.encode() + b"\n",
        args.out / "image-manifest.json": image_manifest(),
        args.out / "cosign.pub": public_key_pem(),
        args.out / "params.yaml": params(),
    }
    for variant in ("go", "no-go"):
        for name, data in files_for(variant).items():
            expected[args.out / variant / name] = data
    stale = [p for p, data in expected.items() if not p.is_file() or p.read_bytes() != data]
    if args.check:
        for p in stale:
            print(f"stale: {p}", file=sys.stderr)
        return 1 if stale else 0
    for p, data in expected.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    print(f"wrote {len(expected)} files under {args.out} (subject {IMAGE}@{DIGEST})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
