"""Attacks with secrets in artefacts that are not secret scans (issue 9, finding 8).

A credential lands where no secret scanner looks: a key in a Terraform plan's tags, a token in a
vulnerability title, a password in a change record's URL, a private key quoted by a SAST message,
an access key in a ``.tf`` provider block. Each test plants one such value in a copy of the NO-GO
demo release, in the place the tool's documented output puts that field, runs the real gate and
``affidavit collect --format json``, and asserts: the release stays NO-GO (exit 1); the value
appears in no output (stdout, stderr, every bundle file, every member of the archive, the
records); the raw copy is still stored, with a redaction marker where the value was; and the
settings that only look like secrets (``http_tokens = "required"``, ``token_endpoint``,
``secret_name``, ``kms_key_id``) come through unchanged.

The second half is the commitment to a secret: a gitleaks finding once carried the unsalted sha256
of its secret, and every redaction marker a sha256 prefix, so anyone holding a bundle could
confirm a short secret by hashing guesses. Commitments are now an HMAC-SHA256 keyed by
``AFFIDAVIT_SECRET_KEY``; without a key there is no commitment at all.

The planted values are built from pieces so that this file is not itself a finding for a scanner.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from tests.attacks.support import NOW, GateResult, gate, release

KEY_ENV = "AFFIDAVIT_SECRET_KEY"
NO_KEY: dict[str, str | None] = {KEY_ENV: None}

# AWS access key id: AKIA + 16 upper-case letters and digits
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
AWS_KEY_ID = "AKIA" + "Q4N7X2BRZ5KD9WMT"
# GitHub classic personal access token: ghp_ + 36 characters
# (https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats).
GITHUB_TOKEN = "ghp_" + "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUi"
# A password in a URL's userinfo (RFC 3986 section 3.2.1 deprecates it; tools still write it).
URL_PASSWORD = "Vq7rT2zLm9xWk4" + "Pn"
# An RSA private key in PEM (RFC 7468 section 10); the body is what must not leak.
KEY_BODY = (
    "MIIEowIBAAKCAQEA7v0c9Yq2Lr3mZ8xP4nK1jT6wQ5bH3sD9fG2hJ7kL0pR4tV8y",
    "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUiWq3Xr6Ty1Uo9Pa2Sd5Fg8Hj0Kl4",
)
PRIVATE_KEY = "\n".join(
    ["-----BEGIN RSA " + "PRIVATE KEY-----", *KEY_BODY, "-----END RSA " + "PRIVATE KEY-----"]
)
# Other documented shapes, planted in the plan's tags (see test_plan_tags_of_every_shape).
OTHER_SHAPES = {
    # https://docs.gitlab.com/ee/security/tokens/#token-prefixes
    "gitlab": "glpat-" + "x7Kq2LmN9pR4sT6vW8yZ",
    # https://api.slack.com/authentication/token-types
    "slack": "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
    # https://cloud.google.com/docs/authentication/api-keys (AIza + 35)
    "google": "AIza" + "SyD3x7Kq2LmN9pR4sT6vW8yZ1aB3cD5eF7g",
    # https://docs.stripe.com/keys
    "stripe": "sk_live_" + "51H8xKq2LmN9pR4sT6vW8yZ1aB3cD5eF7g",
    # RFC 7519 compact JWS: base64url(header).base64url(payload).signature
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiJkZXBsb3kiLCJpYXQiOjE3NjQ1NjAwMDB9"
    + ".Hq3x7Kq2LmN9pR4sT6vW8yZ1aB3cD5eF7gH9iJ0kL2m",
    # fine-grained personal access token, same GitHub page as GITHUB_TOKEN above
    "github-fine-grained": "github_pat_"
    + "11ABCDEFG0"
    + "x7Kq2LmN9pR4sT6vW8yZ1a_"
    + "B3cD5eF7gH9iJ0kL2mN4oP6qR8sT0uV2wX4yZ6aB8cD0eF2gH4iJ6kL8mN0",
}
# AWS's own documented example secret access key, 40 characters
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html).
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYPLANTEDKEY"

# Settings that look like secrets by name and are not (AWS IMDSv2, OAuth, Secrets Manager, KMS).
LOOK_ALIKES = {
    "http_tokens": "required",
    "token_endpoint": "https://login.acme.example/oauth2/token",
    "secret_name": "prod/shop/db",
    "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "password_policy": "strict",
}


# ---------------------------------------------------------------------------------------------
# What every attack asserts


def _archive_members(result: GateResult) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    for archive in result.out.rglob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    members[f"{archive.name}:{member.name}"] = handle.read()
    return members


def _outputs(result: GateResult, collected: str) -> dict[str, bytes]:
    """Every place a secret could reach: terminal, bundle files, archive members, records."""
    outputs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    outputs["collect --format json"] = collected.encode()
    for path in result.out.rglob("*"):
        if path.is_file():
            outputs[str(path.relative_to(result.out))] = path.read_bytes()
    outputs.update(_archive_members(result))
    return outputs


def _assert_nowhere(outputs: dict[str, bytes], *secrets: str) -> None:
    for secret in secrets:
        needles = {secret.encode(), json.dumps(secret)[1:-1].encode()}
        leaked = sorted(name for name, data in outputs.items() if any(n in data for n in needles))
        assert not leaked, f"{secret[:6]}... leaked into {leaked}"


def _collect_json(folder: Path, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["collect", "--format", "json", "--now", NOW, str(folder)], env=env or NO_KEY
    )
    return result.exit_code, result.stdout + result.stderr


def _raw_copy(result: GateResult, name: str) -> bytes:
    """The bundle's stored copy of the artefact ``name`` (``evidence/<sha12>-<name>``)."""
    (bundle,) = result.bundles
    (path,) = list((bundle / "evidence").glob(f"*-{name}"))
    return path.read_bytes()


def _record(collected: str, source_name: str) -> dict[str, Any]:
    records: list[dict[str, Any]] = json.loads(collected[: collected.rindex("]") + 1])
    return next(r for r in records if r["source"].endswith(source_name))


def _attack(
    tmp_path: Path, plant: Callable[[Path], None], env: dict[str, str | None] | None = None
) -> tuple[GateResult, str, dict[str, bytes]]:
    evidence = release(tmp_path)
    plant(evidence)
    result = gate(tmp_path, evidence, env=env or NO_KEY)
    code, collected = _collect_json(evidence, env)
    assert result.exit_code == 1, result.stdout + result.stderr  # NO-GO stays NO-GO
    assert code == 0, collected
    return result, collected, _outputs(result, collected)


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# One planted secret each


def _plant_in_plan_tags(value: str) -> Callable[[Path], None]:
    """A value in a resource's tags, in the change, the planned values and the configuration's
    constant (https://developer.hashicorp.com/terraform/internals/json-format), beside the
    IMDSv2 setting that only looks like a secret."""

    def plant(evidence: Path) -> None:
        def change(plan: dict[str, Any]) -> None:
            rc = plan["resource_changes"][0]
            rc["change"]["after"]["tags"]["deploy_note"] = value
            rc["change"]["after"]["tags"]["secret_name"] = LOOK_ALIKES["secret_name"]
            rc["change"]["after"]["metadata_options"] = [
                {"http_tokens": "required", "http_endpoint": "enabled"}
            ]
            config = plan["configuration"].setdefault("root_module", {})
            config.setdefault("resources", []).append(
                {
                    "address": rc["address"],
                    "mode": "managed",
                    "type": rc["type"],
                    "name": rc["name"],
                    "expressions": {"tags": {"constant_value": {"deploy_note": value}}},
                }
            )

        _edit_json(evidence / "tfplan.json", change)

    return plant


def test_aws_key_in_plan_tags(tmp_path: Path) -> None:
    result, collected, outputs = _attack(tmp_path, _plant_in_plan_tags(AWS_KEY_ID))
    _assert_nowhere(outputs, AWS_KEY_ID)
    after = _record(collected, "tfplan.json")["data"]["resource_changes"][0]["after"]
    assert after["tags"]["deploy_note"] == "(sensitive)"
    # the look-alikes are settings, not secrets: kept in the record and the raw copy
    assert after["metadata_options"] == [{"http_tokens": "required", "http_endpoint": "enabled"}]
    assert after["tags"]["secret_name"] == LOOK_ALIKES["secret_name"]
    stored = json.loads(_raw_copy(result, "tfplan.json"))
    stored_after = stored["resource_changes"][0]["change"]["after"]
    assert stored_after["metadata_options"][0]["http_tokens"] == "required"
    assert stored_after["tags"]["secret_name"] == LOOK_ALIKES["secret_name"]


@pytest.mark.parametrize("shape", sorted(OTHER_SHAPES))
def test_plan_tags_of_every_shape(tmp_path: Path, shape: str) -> None:
    secret = OTHER_SHAPES[shape]
    _, collected, outputs = _attack(tmp_path, _plant_in_plan_tags(secret))
    _assert_nowhere(outputs, secret)
    after = _record(collected, "tfplan.json")["data"]["resource_changes"][0]["after"]
    assert after["tags"]["deploy_note"] == "(sensitive)"
    assert after["tags"]["service"] == "shop"


def test_github_token_in_a_trivy_title(tmp_path: Path) -> None:
    # Trivy JSON: Results[].Vulnerabilities[].Title
    # (https://trivy.dev/latest/docs/configuration/reporting/#json)
    def plant(evidence: Path) -> None:
        def change(report: dict[str, Any]) -> None:
            vulnerability = report["Results"][0]["Vulnerabilities"][0]
            vulnerability["Title"] = f"expat: debug log prints token {GITHUB_TOKEN} on crafted input"
            vulnerability["Description"] = f"The token {GITHUB_TOKEN} is logged."

        _edit_json(evidence / "trivy-image.json", change)

    result, collected, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, GITHUB_TOKEN)
    stored = json.loads(_raw_copy(result, "trivy-image.json"))
    title = stored["Results"][0]["Vulnerabilities"][0]["Title"]
    assert title.startswith("expat: debug log prints token REDACTED") and title.endswith(" on crafted input")
    record = _record(collected, "trivy-image.json")
    assert any(
        f.get("title", "").startswith("expat: debug log prints token REDACTED")
        for f in record["data"]["findings"]
    )


def test_password_url_in_the_change_record(tmp_path: Path) -> None:
    # affidavit.change-record/v1 (docs/change-record.md): ticket is a URL
    def plant(evidence: Path) -> None:
        def change(record: dict[str, Any]) -> None:
            record["ticket"] = f"https://deploy:{URL_PASSWORD}@acme.atlassian.example/browse/CHG-2026-1142"

        _edit_json(evidence / "change-record.json", change)

    result, collected, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, URL_PASSWORD)
    ticket = _record(collected, "change-record.json")["data"]["ticket"]
    assert re.fullmatch(
        r"https://deploy:REDACTED(:hmac-sha256:[0-9a-f]{12})?@acme\.atlassian\.example/browse/CHG-2026-1142",
        ticket,
    )
    stored = json.loads(_raw_copy(result, "change-record.json"))
    assert stored["ticket"] == ticket
    assert stored["id"] == "CHG-2026-1142"


def test_private_key_in_a_sarif_message(tmp_path: Path) -> None:
    # SARIF 2.1.0 result.message.text (https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/sarif-v2.1.0-os.html#_Toc34317459)
    def plant(evidence: Path) -> None:
        def change(log: dict[str, Any]) -> None:
            log["runs"][0]["results"][0]["message"]["text"] = f"Hard-coded key:\n{PRIVATE_KEY}\nin settings."

        _edit_json(evidence / "codeql.sarif", change)

    result, collected, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, *KEY_BODY)
    stored = json.loads(_raw_copy(result, "codeql.sarif"))
    message = stored["runs"][0]["results"][0]["message"]["text"]
    assert message.startswith("Hard-coded key:\nREDACTED") and message.endswith("\nin settings.")


def test_access_key_in_a_tf_provider_block(tmp_path: Path) -> None:
    # https://registry.terraform.io/providers/hashicorp/aws/latest/docs#provider-configuration
    def plant(evidence: Path) -> None:
        path = evidence / "main.tf"
        text = path.read_text()
        text = text.replace(
            'provider "aws" {\n  region = "eu-west-1"\n',
            'provider "aws" {\n  region = "eu-west-1"\n'
            f'  access_key = "{AWS_KEY_ID}"\n'
            f'  secret_key = "{AWS_SECRET}"\n',
        )
        text += (
            '\nresource "aws_instance" "api" {\n'
            '  ami           = "ami-0123456789abcdef0"\n'
            '  instance_type = "t3.micro"\n'
            "  metadata_options {\n"
            '    http_endpoint = "enabled"\n'
            '    http_tokens   = "required"\n'
            "  }\n"
            "}\n"
            '\nresource "aws_secretsmanager_secret" "db" {\n'
            f'  name       = "{LOOK_ALIKES["secret_name"]}"\n'
            f'  kms_key_id = "{LOOK_ALIKES["kms_key_id"]}"\n'
            "}\n"
        )
        path.write_text(text)

    result, collected, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, AWS_KEY_ID, AWS_SECRET)
    stored = _raw_copy(result, "main.tf").decode()
    assert 'access_key = "REDACTED' in stored
    assert 'http_tokens   = "required"' in stored  # a setting, not a secret
    assert LOOK_ALIKES["kms_key_id"] in stored
    resources = {r["address"]: r for r in _record(collected, "main.tf")["data"]["resources"]}
    assert resources["aws_instance.api"]["arguments"]["metadata_options"] == [
        {"http_endpoint": "enabled", "http_tokens": "required"}
    ]


def test_password_url_in_a_tf_backend(tmp_path: Path) -> None:
    # the http backend takes its address as a URL
    # (https://developer.hashicorp.com/terraform/language/backend/http)
    def plant(evidence: Path) -> None:
        path = evidence / "main.tf"
        text = path.read_text().replace(
            'provider "aws" {',
            'resource "terraform_data" "state_mirror" {\n'
            f'  input = "https://ci:{URL_PASSWORD}@state.acme.example/shop"\n'
            "}\n\n"
            'provider "aws" {',
        )
        path.write_text(text)

    _, _, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, URL_PASSWORD)


# ---------------------------------------------------------------------------------------------
# Keyed commitments

DEMO_SECRET = "AKIADEMO7EXAMPLE0KEY9X2Q"  # the demo gitleaks report's Secret
KEY_ONE = "org-key-one-" + "7f3a9c2e5b8d1f4a"
KEY_TWO = "org-key-two-" + "0b6e4d2c8a1f3e5d"


def _hmac(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _gitleaks_record(tmp_path: Path, key: str | None) -> dict[str, Any]:
    code, collected = _collect_json(release(tmp_path) / "gitleaks.json", {KEY_ENV: key})
    assert code == 0, collected
    assert DEMO_SECRET not in collected
    return _record(collected, "gitleaks.json")


def test_commitment_is_keyed(tmp_path: Path) -> None:
    one = _gitleaks_record(tmp_path / "a", KEY_ONE)
    again = _gitleaks_record(tmp_path / "b", KEY_ONE)
    two = _gitleaks_record(tmp_path / "c", KEY_TWO)
    (finding,) = one["data"]["findings"]
    assert "secret_sha256" not in finding
    assert finding["secret_hmac"] == _hmac(KEY_ONE, DEMO_SECRET)
    assert one["data"]["secret_key_id"] == hashlib.sha256(KEY_ONE.encode()).hexdigest()[:8]
    assert again["data"]["findings"] == one["data"]["findings"]  # same key, same commitment
    assert two["data"]["findings"][0]["secret_hmac"] == _hmac(KEY_TWO, DEMO_SECRET)
    assert two["data"]["findings"][0]["secret_hmac"] != finding["secret_hmac"]
    assert two["data"]["secret_key_id"] != one["data"]["secret_key_id"]
    for record in (one, two):
        text = json.dumps(record)
        assert KEY_ONE not in text and KEY_TWO not in text


def test_no_key_no_commitment(tmp_path: Path) -> None:
    record = _gitleaks_record(tmp_path, None)
    assert [f["secret_hmac"] for f in record["data"]["findings"]] == [None]
    assert record["data"]["secret_key_id"] is None
    said = [p for p in record["problems"] if KEY_ENV in p]
    assert len(said) == 1, record["problems"]
    assert hashlib.sha256(DEMO_SECRET.encode()).hexdigest() not in json.dumps(record)


def _unkeyed_hashes(value: str) -> list[bytes]:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return [digest.encode(), digest[:12].encode()]


@pytest.mark.parametrize("key", [None, KEY_ONE])
def test_bundles_carry_no_unkeyed_hash_of_a_secret(tmp_path: Path, key: str | None) -> None:
    evidence = release(tmp_path)
    result = gate(tmp_path, evidence, env={KEY_ENV: key})
    assert result.exit_code == 1
    outputs = _outputs(result, "")
    _assert_nowhere(outputs, DEMO_SECRET)
    match = "aws_access_key_id = " + DEMO_SECRET  # the demo report's Match
    for value in (DEMO_SECRET, match):
        for needle in _unkeyed_hashes(value):
            assert not [name for name, data in outputs.items() if needle in data], value
    stored = json.loads(_raw_copy(result, "gitleaks.json"))
    if key is None:
        assert stored[0]["Secret"] == "REDACTED"
    else:
        assert stored[0]["Secret"] == "REDACTED:hmac-sha256:" + _hmac(key, DEMO_SECRET)[:12]
    assert key is None or not [name for name, data in outputs.items() if key.encode() in data]


def test_keyed_bundles_are_byte_identical_for_one_key(tmp_path: Path) -> None:
    def stored(folder: str, key: str) -> bytes:
        evidence = release(tmp_path / folder)
        result = gate(tmp_path / folder, evidence, env={KEY_ENV: key})
        assert result.exit_code == 1
        return _raw_copy(result, "gitleaks.json")

    first = stored("a", KEY_ONE)
    assert stored("b", KEY_ONE) == first
    assert stored("c", KEY_TWO) != first


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    evidence = release(tmp_path)
    short = "Qz7" + "kw9"
    result = gate(tmp_path, evidence, env={KEY_ENV: short})
    assert result.exit_code == 2, result.stdout + result.stderr
    assert KEY_ENV in result.stderr and short not in result.stderr
    assert not result.bundles


def test_raw_archive_reader_sees_members(tmp_path: Path) -> None:
    """The archive check above reads real members (a guard against a vacuous pass)."""
    evidence = release(tmp_path)
    result = gate(tmp_path, evidence, env=NO_KEY)
    members = _archive_members(result)
    assert any(name.endswith("results.json") for name in members)
    assert any(b"CHG-2026-1142" in data for data in members.values())


def test_the_secret_key_is_on_the_record_by_its_id_and_changes_the_run_id(tmp_path: Path) -> None:
    from tests.attacks.support import gate as run_gate
    from tests.attacks.support import release as demo_release

    evidence = demo_release(tmp_path)
    plain = run_gate(tmp_path, evidence, out="plain")
    keyed = run_gate(tmp_path, evidence, out="keyed", env={"AFFIDAVIT_SECRET_KEY": "k" * 32})
    assert keyed.results["run_id"] != plain.results["run_id"]
    inputs = keyed.results["configuration"]["inputs"]
    secret = [i for i in inputs if i["role"] == "secret-key"]
    assert len(secret) == 1 and len(secret[0]["value"]) == 8 and "k" * 16 not in keyed.every_output()
    short = run_gate(tmp_path, evidence, out="short", env={"AFFIDAVIT_SECRET_KEY": "short"})
    assert short.exit_code == 2 and not short.bundles


def test_a_marked_value_the_provider_echoes_unmarked_is_masked_everywhere(tmp_path: Path) -> None:
    """A tag set from a sensitive variable is marked in ``after_sensitive``, but the AWS provider
    computes ``tags_all`` (the tags merged with the provider's ``default_tags``) and Terraform
    marks only the paths the configuration's sensitive values reach, so the same plaintext stands
    unmarked in ``tags_all`` (Terraform JSON output format, change representation; AWS provider
    docs, "default_tags" and the ``tags_all`` attribute). It is masked there too, in the record
    as in the stored copy, and the place is listed as masked, so no rule reads the mask as a value."""
    secret = "correct-horse-battery-staple-42"

    def plant(evidence: Path) -> None:
        def change(plan: dict[str, Any]) -> None:
            rc = plan["resource_changes"][0]["change"]
            rc["after"]["tags"]["db_note"] = secret
            rc["after"]["tags_all"] = {**rc["after"]["tags"], "team": "shop"}
            rc["after_sensitive"] = {"tags": {"db_note": True}}

        _edit_json(evidence / "tfplan.json", change)

    _, collected, outputs = _attack(tmp_path, plant)
    _assert_nowhere(outputs, secret)
    change = _record(collected, "tfplan.json")["data"]["resource_changes"][0]
    assert change["after"]["tags"]["db_note"] == change["after"]["tags_all"]["db_note"] == "(sensitive)"
    assert change["after"]["tags_all"]["team"] == "shop"
    assert ["after", "tags_all", "db_note"] in change["sensitive_paths"]
    assert ["after", "tags", "db_note"] in change["sensitive_paths"]
