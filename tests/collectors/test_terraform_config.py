"""Terraform ``.tf`` sources: every corpus file, the terraform block, detection limits, errors.

Expected block lists are found here with regular expressions over the raw text (not with
python-hcl2), so that the test checks the collector rather than repeating it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.formats.terraform_config import FORMATS
from affidavit.collectors.interface import NO, CollectOptions
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.conftest import validate_record

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
FOLDER = CORPUS / "terraform-hcl"
NOW = "2026-11-20T12:00:00Z"
OPTIONS = CollectOptions(now=NOW)
INDEX: list[dict[str, Any]] = json.loads((FOLDER / "INDEX.json").read_text(encoding="utf-8"))
DETECT = FORMATS[0].detect

_OWN_MODULES = (
    "affidavit.collectors.formats.terraform_plan",
    "affidavit.collectors.formats.terraform_config",
    "affidavit.collectors.formats.branch_protection",
    "affidavit.collectors.formats.change_record",
)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file read by python-hcl2 here, never from the user cache: some tests change the
    collector's functions, which the cache's key (the code's files) cannot see.
    tests/test_fixed_costs.py tests the cache."""
    monkeypatch.setenv("AFFIDAVIT_NO_CACHE", "1")


@pytest.fixture(autouse=True)
def _own_formats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run detection over this area's formats only, so that these tests do not depend on others'."""
    monkeypatch.setattr(registry, "_MODULES", _OWN_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def _collect_text(name: str, text: str) -> dict[str, Any]:
    """The record of a .tf text, as JSON."""
    return collect_document(Artefact(name, text.encode("utf-8")), OPTIONS).to_json()


def _collect(name: str) -> dict[str, Any]:
    """The record of a corpus .tf file, as JSON."""
    return collect_document(
        Artefact(f"terraform-hcl/{name}", (FOLDER / name).read_bytes()), OPTIONS
    ).to_json()


def _blocks(text: str, keyword: str, labels: int) -> list[tuple[str, ...]]:
    """Labels of the top-level blocks ``keyword "a" ["b"] {`` found by a regex on the raw text."""
    label = r'"?([^"\s]+)"?'  # HCL also allows bare identifiers as labels
    pattern = rf"^{keyword}\s+" + r"\s+".join([label] * labels) + r"\s*\{"
    return [m.groups() for m in re.finditer(pattern, text, re.MULTILINE)]


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_corpus_tf(entry: dict[str, Any]) -> None:
    """Every corpus .tf file gives the blocks a regex finds in its text."""
    text = (FOLDER / entry["file"]).read_text(encoding="utf-8")
    record = _collect(entry["file"])
    _check_shape(record)
    data = record["data"]
    assert record["kind"] == EvidenceKind.TERRAFORM_CONFIG.value and record["format"] == "terraform-hcl"

    managed = [f"{t}.{n}" for t, n in _blocks(text, "resource", 2)]
    sources = [f"data.{t}.{n}" for t, n in _blocks(text, "data", 2)]
    assert [r["address"] for r in data["resources"] if r["mode"] == "managed"] == managed
    assert [r["address"] for r in data["resources"] if r["mode"] == "data"] == sources
    assert all(r["address"].endswith(f"{r['type']}.{r['name']}") for r in data["resources"])
    assert all("__is_block__" not in json.dumps(r["arguments"]) for r in data["resources"])

    provider_names = {p for (p,) in _blocks(text, "provider", 1)}
    assert {p["name"] for p in data["providers"]} >= provider_names
    assert [p["name"] for p in data["providers"]] == sorted(p["name"] for p in data["providers"])
    assert [m["name"] for m in data["modules"]] == [m for (m,) in _blocks(text, "module", 1)]
    for module in data["modules"]:
        block = text[text.index(f'module "{module["name"]}"') :]
        source = re.search(r'^\s*source\s*=\s*"([^"]+)"', block, re.MULTILINE)
        assert source is not None and module["source"] == source.group(1)
    if not re.search(r"^\s*(backend\s+\"|cloud\s*\{)", text, re.MULTILINE):
        assert data["backend"] is None
    if len(set(managed)) != len(managed):  # checkov-example.tf declares one resource twice
        duplicate = next(a for a in managed if managed.count(a) > 1)
        assert any(duplicate in p and "more than once" in p for p in record["problems"])


def test_provider_block_version_and_arguments() -> None:
    """A pre-0.13 provider version constraint and literal arguments are read."""
    record = _collect("conftest-gke.tf")
    assert record["data"]["providers"] == [{"name": "google", "source": None, "version_constraint": "2.5.0"}]
    assert any("deprecated since Terraform 0.13" in p for p in record["problems"])
    by_address = {r["address"]: r["arguments"] for r in record["data"]["resources"]}
    cluster = by_address["google_container_cluster.primary"]
    assert cluster["name"] == "my-gke-cluster" and cluster["initial_node_count"] == 1
    assert cluster["remove_default_node_pool"] is True
    assert cluster["master_auth"] == [{"username": "", "password": ""}]
    pool = by_address["google_container_node_pool.primary_preemptible_nodes"]
    assert pool["cluster"] == "${google_container_cluster.primary.name}"
    assert pool["node_config"][0]["oauth_scopes"] == [
        "https://www.googleapis.com/auth/logging.write",
        "https://www.googleapis.com/auth/monitoring",
    ]


def _strings(value: Any) -> Iterator[str]:
    """Every string inside ``value``."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_literal_secrets_are_masked_expressions_kept() -> None:
    """Literal secrets are masked; references such as ``var.x`` are kept."""
    text = (FOLDER / "checkov-example.tf").read_text(encoding="utf-8")
    literals = set(re.findall(r'(?:password|secret_key|access_key)\s*=\s*"([^"$]{6,})"', text))
    keys = set(re.findall(r"AKIA[A-Z0-9]{16}", text))
    assert len(literals) >= 3 and keys
    record = _collect("checkov-example.tf")
    values = [v for r in record["data"]["resources"] for v in _strings(r["arguments"])]
    assert [s for s in literals if s in values] == []
    assert [k for k in keys if any(k in v for v in values)] == []
    by_address = {r["address"]: r["arguments"] for r in record["data"]["resources"]}
    assert by_address["azurerm_virtual_machine.main"]["os_profile"][0]["admin_password"] == "(sensitive)"
    assert by_address["aws_instance.compute_host"]["user_data"] == "(sensitive)"
    assert by_address["aws_instance.compute_host"]["instance_type"] == "t2.nano"
    references = [
        v
        for args in by_address.values()
        for k, v in args.items()
        if ("password" in k or "token" in k) and isinstance(v, str) and v.startswith("${")
    ]
    assert references  # `password = var.x` is a reference, not a secret: kept
    assert any("look like secrets" in p for p in record["problems"])


def test_expressions_stay_strings() -> None:
    """Expressions stay ``${...}`` strings."""
    record = _collect("checkov-modules-and-vars-main.tf")
    bucket = next(r for r in record["data"]["resources"] if r["address"] == "aws_s3_bucket.default")
    assert bucket["arguments"]["count"] == "${module.this.enabled ? 1 : 0}"
    assert bucket["arguments"]["bucket"] == "${module.this.id}"
    assert bucket["arguments"]["versioning"] == [{"enabled": "${var.versioning_enabled}"}]


TERRAFORM_BLOCK = """\
terraform {
  required_version = ">= 1.6.0, < 2.0.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    random = "~> 3.6"
  }
  backend "s3" {
    bucket         = "acme-tf-state"
    key            = "payments/prod.tfstate"
    region         = "eu-west-1"
    encrypt        = true
    dynamodb_table = "tf-locks"
  }
}

provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

provider "tls" {}

module "network" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
  cidr    = "10.20.0.0/16"
}

module "local_thing" {
  source = "./modules/thing"
}

data "aws_caller_identity" "me" {}

resource "aws_kms_key" "state" {
  description         = "state key for ${var.env}"
  enable_key_rotation = true
  deletion_window_in_days = 30
}
"""


def test_terraform_block_providers_backend_modules() -> None:
    """The terraform block, providers (both forms), modules and data sources."""
    data = _collect_text("main.tf", TERRAFORM_BLOCK)["data"]
    assert data["required_version"] == ">= 1.6.0, < 2.0.0"
    assert data["backend"] == {
        "type": "s3",
        "config": {
            "bucket": "acme-tf-state",
            "key": "payments/prod.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "dynamodb_table": "tf-locks",
        },
    }
    assert data["providers"] == [
        {"name": "aws", "source": "hashicorp/aws", "version_constraint": "~> 5.40"},
        {"name": "random", "source": None, "version_constraint": "~> 3.6"},
        {"name": "tls", "source": None, "version_constraint": None},
    ]
    assert data["modules"] == [
        {"name": "network", "source": "terraform-aws-modules/vpc/aws", "version": "5.8.1"},
        {"name": "local_thing", "source": "./modules/thing", "version": None},
    ]
    assert [(r["address"], r["mode"]) for r in data["resources"]] == [
        ("aws_kms_key.state", "managed"),
        ("data.aws_caller_identity.me", "data"),
    ]
    assert data["resources"][0]["arguments"] == {
        "description": "state key for ${var.env}",
        "enable_key_rotation": True,
        "deletion_window_in_days": 30,
    }


@pytest.mark.parametrize("encoding", ["crlf", "utf-8-sig", "utf-16"])
def test_windows_line_endings_and_encodings(encoding: str) -> None:
    """CRLF, a UTF-8 BOM and UTF-16 give the same record."""
    text = (FOLDER / "conftest-gke.tf").read_text(encoding="utf-8")
    raw = text.replace("\n", "\r\n").encode() if encoding == "crlf" else text.encode(encoding)
    record = collect_document(Artefact("gke.tf", raw), OPTIONS).to_json()
    assert record["data"] == _collect("conftest-gke.tf")["data"]


def test_cloud_block_reads_as_backend() -> None:
    """``cloud {}`` reads as backend type cloud."""
    text = 'terraform {\n  cloud {\n    organization = "acme"\n    workspaces {\n      name = "prod"\n    }\n  }\n}\n'
    data = _collect_text("cloud.tf", text)["data"]
    assert data["backend"] == {
        "type": "cloud",
        "config": {"organization": "acme", "workspaces": [{"name": "prod"}]},
    }


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('resource "aws_s3_bucket" "b" {\n  bucket = \n}\n', 2),
        ('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n', 3),
        ('variable "v" {\n  default = 1\n}\n\nresource "a" "b" {\n  x = 1 @@\n}\n', 6),
    ],
)
def test_syntax_error_names_file_and_line(text: str, line: int) -> None:
    """A syntax error names the file and the line."""
    with pytest.raises(InputError, match=rf"^broken\.tf: is not valid HCL: .* at line {line}, column \d+"):
        _collect_text("broken.tf", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}', "JSON (.tf.json)"),
        ("---\nresources:\n  - type: aws\n", "YAML"),
        (
            'apiVersion: v1\nkind: ConfigMap\ndata:\n  main.tf: |\n    resource "a" "b" {\n    }\n',
            "YAML with HCL inside",
        ),
        (
            "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nPackageComment: <text>\n"
            'resource "aws_s3_bucket" "b" {\n}\n</text>\n',
            "SPDX tag-value",
        ),
        ("# just a comment\nsome text\n", "plain text"),
    ],
)
def test_does_not_claim_other_formats(text: str, why: str) -> None:
    """JSON, YAML, SPDX tag-value and plain text are not claimed."""
    assert DETECT(Artefact("x", text.encode())) == NO, why


def test_importing_the_collector_does_not_import_hcl2() -> None:
    """python-hcl2 (and lark) load only when a .tf file is parsed."""
    code = "import sys, affidavit.collectors.formats.terraform_config; print('hcl2' in sys.modules, 'lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]


def _check_shape(record: dict[str, Any]) -> None:
    """Validate a record: the public schema, then the terraform-config data keys."""
    validate_record(record)
    assert record["schema"] == "affidavit.evidence/v1" and record["kind"] == "terraform-config"
    assert set(record["data"]) == {"backend", "required_version", "providers", "resources", "modules"}
    for resource in record["data"]["resources"]:
        assert set(resource) == {"address", "mode", "type", "name", "arguments"}
    for provider in record["data"]["providers"]:
        assert set(provider) == {"name", "source", "version_constraint"}


# ---------------------------------------------------------------------------------------------
# Secrets: in the record's backend, and in the raw file a bundle stores


def test_backend_credentials_are_masked_in_the_record() -> None:
    """A backend's keys are masked like a resource's, with a problem that says where."""
    text = (
        "terraform {\n"
        '  backend "s3" {\n'
        '    bucket     = "acme-tf-state"\n'
        '    key        = "prod.tfstate"\n'
        '    access_key = "AKIAIOSFODNN7EXAMPLE"\n'
        '    secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'
        "  }\n"
        "}\n"
    )
    record = _collect_text("backend.tf", text)
    assert record["data"]["backend"] == {
        "type": "s3",
        "config": {
            "bucket": "acme-tf-state",
            "key": "prod.tfstate",
            "access_key": "(sensitive)",
            "secret_key": "(sensitive)",
        },
    }
    assert any('backend "s3"' in p and "2 setting(s)" in p for p in record["problems"])
    dumped = json.dumps(record)
    assert "AKIAIOSFODNN7EXAMPLE" not in dumped and "wJalrXUtnFEMI" not in dumped


def _redact(name: str, raw: bytes) -> bytes:
    """The bytes a bundle stores of a .tf file, through the registry's redactor for its format."""
    hook = registry.redactor("terraform-hcl")
    assert hook is not None
    return hook(raw, name)


# Secrets written in clear in checkov's example .tf (provider keys, passwords, a user_data script)
CHECKOV_EXAMPLE_SECRETS = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Password1234!",
    "thisIsDog11",
    "H@Sh1CoR3!",
)


def _unmark(value: Any) -> Any:
    """``value`` with every redaction marker read back as the record's ``"(sensitive)"``."""
    if isinstance(value, str):
        return "(sensitive)" if value == "REDACTED" else value  # the marker without a key
    if isinstance(value, dict):
        return {k: _unmark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmark(v) for v in value]
    return value


def test_redacted_source_keeps_no_secret_and_still_reads() -> None:
    """Provider keys, passwords and a user_data script with keys are replaced; the rest is kept."""
    raw = (FOLDER / "checkov-example.tf").read_bytes()
    for secret in CHECKOV_EXAMPLE_SECRETS:
        assert secret.encode() in raw
    stored = _redact("checkov-example.tf", raw)
    for secret in CHECKOV_EXAMPLE_SECRETS:
        assert secret.encode() not in stored
    assert b'password = "REDACTED"' in stored
    # still HCL, with the same resources and, apart from the masked values, the same arguments
    before = _collect_text("before.tf", raw.decode())["data"]
    after = _collect_text("after.tf", stored.decode())["data"]
    assert [r["address"] for r in after["resources"]] == [r["address"] for r in before["resources"]]
    assert after["providers"] == before["providers"] and after["modules"] == before["modules"]
    # what differs is only what the record masked anyway: a marker is not a secret-looking value,
    # so the record of the stored file shows the marker where the original's shows "(sensitive)"
    assert after["resources"] != before["resources"]
    assert _unmark(after["resources"]) == before["resources"]
    lines_before, lines_after = raw.decode().splitlines(), stored.decode().splitlines()
    assert len(lines_before) - len(lines_after) == 9  # the 10-line user_data script became one line
    assert 'resource "aws_s3_bucket" "foo-bucket" {' in lines_after


def test_sensitive_variable_default_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable declared sensitive has its default replaced; nothing else changes."""
    raw = (FOLDER / "opentofu-show-json-sensitive-values-main.tf").read_bytes()
    assert b'default = "boop"' in raw
    key = "test-organisation-key-7d1e0c"
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", key)  # a keyed marker (kinds.secrets)
    stored = _redact("main.tf", raw)
    marker = "REDACTED:hmac-sha256:" + hmac.new(key.encode(), b"boop", hashlib.sha256).hexdigest()[:12]
    assert stored == raw.replace(b'"boop"', f'"{marker}"'.encode())


@pytest.mark.parametrize(
    "name",
    [
        e["file"]
        for e in INDEX
        if e["file"] not in ("checkov-example.tf", "opentofu-show-json-sensitive-values-main.tf")
    ],
)
def test_sources_without_secrets_are_stored_as_they_are(name: str) -> None:
    raw = (FOLDER / name).read_bytes()
    assert _redact(name, raw) == raw


def test_a_secret_that_cannot_be_located_withholds_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net: when the text rewrite misses a secret the parse found, nothing is stored but a note."""
    from affidavit.collectors.formats import terraform_config

    monkeypatch.setattr(terraform_config, "_QUOTED", re.compile(r"(?!x)x"))  # a tokenizer that finds nothing
    monkeypatch.setattr(terraform_config, "mask_credentials", lambda text: text)  # nor does the shape pass
    raw = (FOLDER / "checkov-example.tf").read_bytes()
    stored = _redact("checkov-example.tf", raw)
    assert stored.startswith(b"# affidavit withheld this file from the bundle")
    for secret in CHECKOV_EXAMPLE_SECRETS:
        assert secret.encode() not in stored


# ---------------------------------------------------------------------------------------------
# Messages describe the configuration, never quote it (issue 9)


def test_parse_errors_describe_the_token_never_quote_it() -> None:
    """The token or character HCL stumbled on is described by its length, not repeated."""
    token = "planted_identifier_value"
    with pytest.raises(InputError, match=r"an unexpected token of \d+ characters? at line 2") as caught:
        _collect_text("broken.tf", f'resource "a" "b" {{\n  x = 1 {token} 2\n}}\n')
    assert token not in caught.value.diagnostics()
    with pytest.raises(
        InputError, match=r"an unexpected token of 23 characters at line 2, column 7"
    ) as caught:
        _collect_text("broken.tf", 'resource "a" "b" {\n  x = ~planted_character_text\n}\n')
    assert "planted_character_text" not in caught.value.diagnostics()


def test_terraform_block_problems_quote_no_value() -> None:
    """Two required_version values, two backends, a provider's own version and the resources
    whose secrets were masked are described; none of their values or names is repeated."""
    text = (
        'terraform {\n  required_version = ">= 1.6.0-planted-first"\n  backend "s3" {}\n}\n'
        'terraform {\n  required_version = ">= 1.7.0-planted-second"\n  backend "gcs" {}\n}\n'
        'provider "aws" {\n  version = "5.1.0-planted-version"\n}\n'
        'resource "aws_db_instance" "planted_database_name" {\n  password = "hunter2-but-longer"\n}\n'
    )
    record = _collect_text("main.tf", text)
    problems = record["problems"]
    assert any(
        "required_version given twice with different values; the first one is kept" in p for p in problems
    )
    assert any("more than one backend declared; the first one is kept" in p for p in problems)
    assert any(
        p.startswith("main.tf: provider block 1: sets version inside the provider block") for p in problems
    )
    assert any("1 argument value(s) in 1 resource(s) that look like secrets" in p for p in problems)
    for planted in (
        "planted-first",
        "planted-second",
        "planted-version",
        "planted_database_name",
        "gcs",
        "hunter2",
    ):
        assert not any(planted in p for p in problems), planted
