"""Redaction of secret-bearing reports (Gitleaks JSON, Trivy secrets, secret-scanner SARIF, quoted code),
the masking of well-known credentials in any text, record and raw copy, and the keyed markers.

Most tests run with an organisation key (``ORG_KEY`` in ``AFFIDAVIT_SECRET_KEY``), so that a
marker names which value it replaced; the tests of the unkeyed marker unset it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.kinds.secrets import (
    REDACTED_PREFIX,
    SECRET_KEY_ENV,
    commitment_key,
    is_secret_scanner,
    key_id,
    looks_secret,
    mask_credentials,
    mask_document,
    mask_parsed,
    mask_tree,
    quotes_secret,
    redact_secret_scan,
    redaction_marker,
    secret_name,
    secret_values,
)
from affidavit.collectors.registry import detect, redactor
from affidavit.errors import InputError, UsageError
from tests.conftest import CORPUS, SHARED, corpus_index

SAMPLES = SHARED / "samples"
ORG_KEY = "test-organisation-key-0b6e4d"


@pytest.fixture(autouse=True)
def _organisation_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_KEY_ENV, ORG_KEY)
    yield


def _marker(value: str) -> str:
    """The expected keyed marker, computed here from its definition (HMAC-SHA256 under the key)."""
    digest = hmac.new(ORG_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
    return "REDACTED:hmac-sha256:" + digest[:12]


def _corpus(folder: str, name: str) -> bytes:
    return (CORPUS / folder / name).read_bytes()


def _shape(value: Any) -> Any:
    """The structure of a JSON value with every string replaced by a placeholder."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "s" if isinstance(value, str) else value


def _snippet_texts(value: Any) -> list[str]:
    """Every ``snippet.text`` anywhere in a SARIF log, in document order."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "snippet" and isinstance(child, dict) and isinstance(child.get("text"), str):
                out.append(child["text"])
            else:
                out.extend(_snippet_texts(child))
    elif isinstance(value, list):
        for child in value:
            out.extend(_snippet_texts(child))
    return out


def test_marker_is_a_short_keyed_commitment() -> None:
    assert redaction_marker("hunter2") == _marker("hunter2")
    assert hashlib.sha256(b"hunter2").hexdigest()[:12] not in redaction_marker("hunter2")
    assert redaction_marker("hunter2") != redaction_marker("hunter3")


def test_without_a_key_the_marker_carries_no_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV)
    assert commitment_key() is None
    assert redaction_marker("hunter2") == REDACTED_PREFIX == "REDACTED"
    monkeypatch.setenv(SECRET_KEY_ENV, "")  # set but empty: no key either
    assert redaction_marker("hunter2") == "REDACTED"


def test_another_key_gives_other_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    first = redaction_marker("hunter2")
    monkeypatch.setenv(SECRET_KEY_ENV, ORG_KEY + "-rotated")
    assert redaction_marker("hunter2") != first
    assert redaction_marker("hunter2").startswith("REDACTED:hmac-sha256:")


def test_a_short_key_is_a_usage_error_that_does_not_quote_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, "k3y-short")
    with pytest.raises(UsageError) as caught:
        redaction_marker("hunter2")
    assert SECRET_KEY_ENV in str(caught.value) and "k3y-short" not in caught.value.diagnostics()


def test_key_id_names_the_key_without_giving_it() -> None:
    key = commitment_key()
    assert key == ORG_KEY.encode()
    assert key_id(key) == hashlib.sha256(ORG_KEY.encode()).hexdigest()[:8]


@pytest.mark.parametrize("entry", corpus_index("scan-gitleaks"), ids=lambda e: e["file"])
def test_gitleaks_reports_keep_structure_and_lose_secrets(entry: dict[str, Any]) -> None:
    raw = _corpus("scan-gitleaks", entry["file"])
    original = json.loads(raw)
    out = redact_secret_scan(raw)
    assert redact_secret_scan(raw) == out  # deterministic
    redacted = json.loads(out)
    assert _shape(redacted) == _shape(original)
    for before, after in zip(original or [], redacted or [], strict=True):
        for key in ("Secret", "Match", "offender", "line"):
            if before.get(key):
                assert after[key] == _marker(before[key])
        for key in ("RuleID", "rule", "File", "file", "Commit", "commit", "StartLine", "lineNumber"):
            if key in before:
                assert after[key] == before[key]
    text = out.decode()
    for secret in secret_values(raw):
        if len(secret) >= 4:
            assert secret not in text and json.dumps(secret)[1:-1] not in text


def test_redacting_twice_changes_nothing_more() -> None:
    for folder, name in (
        ("scan-gitleaks", "defectdojo-gitleaks8_many.json"),
        ("scan-trivy", "trivy-secrets.json"),
        ("scan-sarif", "gitleaks-sarif_simple.sarif"),
    ):
        once = redact_secret_scan(_corpus(folder, name))
        assert redact_secret_scan(once) == once, name


def test_empty_reports_come_back_unchanged() -> None:
    for raw in (b"[]", b"null\n"):
        assert redact_secret_scan(raw) == raw
        assert secret_values(raw) == set()


def test_secret_quoted_in_another_field_is_scrubbed() -> None:
    report = [
        {
            "rule": "Generic",
            "offender": "s3cr3t-value-123",
            "line": "key=s3cr3t-value-123",
            "commitMessage": "oops, committed s3cr3t-value-123 by mistake",
            "file": "a.env",
            "commit": "c1",
        }
    ]
    out = json.loads(redact_secret_scan(json.dumps(report).encode()))
    assert out[0]["commitMessage"] == f"oops, committed {_marker('s3cr3t-value-123')} by mistake"
    assert out[0]["offender"] == _marker("s3cr3t-value-123")
    assert out[0]["line"] == _marker("key=s3cr3t-value-123")
    assert out[0]["file"] == "a.env"


def test_short_secret_is_replaced_but_not_searched_for() -> None:
    report = [{"RuleID": "r", "Secret": "ab", "Match": "x=ab", "File": "about.txt"}]
    out = json.loads(redact_secret_scan(json.dumps(report).encode()))
    assert out[0]["Secret"] == _marker("ab")
    assert out[0]["File"] == "about.txt"  # "ab" is not cut out of other text


@pytest.mark.parametrize(
    "name", ["trivy-secrets.json", "defectdojo-trivy-misconfigurations_and_secrets.json"]
)
def test_trivy_secret_sections(name: str) -> None:
    raw = _corpus("scan-trivy", name)
    original = json.loads(raw)
    redacted = json.loads(redact_secret_scan(raw))
    assert _shape(redacted) == _shape(original)
    checked = 0
    for before, after in zip(original["Results"], redacted["Results"], strict=True):
        assert after.get("Vulnerabilities") == before.get("Vulnerabilities")
        for s_before, s_after in zip(before.get("Secrets") or [], after.get("Secrets") or [], strict=True):
            assert s_after["Match"] == _marker(s_before["Match"])
            assert s_after["RuleID"] == s_before["RuleID"] and s_after["Title"] == s_before["Title"]
            lines_before = (s_before.get("Code") or {}).get("Lines") or []
            lines_after = (s_after.get("Code") or {}).get("Lines") or []
            for lb, la in zip(lines_before, lines_after, strict=True):
                assert la["Content"] == (_marker(lb["Content"]) if lb["Content"] else "")
                assert la["Number"] == lb["Number"]
            checked += 1
    assert checked == sum(len(r.get("Secrets") or []) for r in original["Results"]) > 0


def test_trivy_report_without_secrets_is_returned_as_is() -> None:
    raw = _corpus("scan-trivy", "trivy-alpine-310.json")
    assert redact_secret_scan(raw) == raw


def test_trivy_k8s_report_secrets() -> None:
    report = {
        "ClusterName": "c",
        "Vulnerabilities": [
            {
                "Namespace": "n",
                "Kind": "Pod",
                "Name": "p",
                "Results": [{"Target": "t", "Secrets": [{"RuleID": "x", "Match": "PASSWORD=*****1"}]}],
            }
        ],
    }
    out = json.loads(redact_secret_scan(json.dumps(report).encode()))
    assert out["Vulnerabilities"][0]["Results"][0]["Secrets"][0]["Match"] == _marker("PASSWORD=*****1")


@pytest.mark.parametrize("name", ["gitleaks-sarif_simple.sarif", "defectdojo-gitleaks_7.5.0.sarif"])
def test_gitleaks_sarif(name: str) -> None:
    raw = _corpus("scan-sarif", name)
    original = json.loads(raw)
    redacted = json.loads(redact_secret_scan(raw))
    assert _shape(redacted) == _shape(original)
    snippets: set[str] = set()
    for before, after in zip(original["runs"][0]["results"], redacted["runs"][0]["results"], strict=True):
        region_b = before["locations"][0]["physicalLocation"]["region"]
        region_a = after["locations"][0]["physicalLocation"]["region"]
        snippet = region_b["snippet"]["text"]
        snippets.add(snippet)
        assert region_a["snippet"]["text"] == _marker(snippet)
        assert region_a["startLine"] == region_b["startLine"]
        offender = before.get("properties", {}).get("offender")
        if offender:
            snippets.add(offender)
            assert after["properties"]["offender"] == _marker(offender)
    assert snippets == secret_values(raw)
    text = json.dumps(redacted)
    assert [s for s in snippets if s in text or json.dumps(s)[1:-1] in text] == []


@pytest.mark.parametrize(
    "name",
    [
        "trivy-alpine-310.sarif",
        "grype-TestSarifPresenter_image.sarif",
        "defectdojo-dockle_0_3_15.sarif",
        "defectdojo-dependency_check.sarif",
        "checkov-openapi-results.sarif",
        "defectdojo-sarif-semgrep-issue_10191.sarif.json",  # quotes `{ password: newPassword }`: code
    ],
)
def test_sarif_of_other_tools_quoting_no_credential_is_untouched(name: str) -> None:
    raw = _corpus("scan-sarif", name)
    assert redact_secret_scan(raw) == raw
    assert secret_values(raw) == set()


def test_other_tools_snippet_lines_that_quote_a_credential_are_replaced() -> None:
    # CodeQL (not a secret scanner) flags a hard-coded secret key and quotes its line as a snippet
    raw = _corpus("scan-sarif", "defectdojo-codeQL-output.sarif")
    line = "secret = 'MYSUPERSECRETKEY'"
    assert line.encode() in raw
    out = redact_secret_scan(raw)
    assert b"MYSUPERSECRETKEY" not in out
    assert _marker(line).encode() in out
    before, after = json.loads(raw), json.loads(out)
    assert _shape(after) == _shape(before)  # the log keeps its structure: only that line changed
    snippets = _snippet_texts(after)
    masked = [text for text in snippets if REDACTED_PREFIX in text]
    assert masked == ["from time import time\n\nfrom pathlib import Path\n\n" + _marker(line) + "\n"]
    assert any(REDACTED_PREFIX not in s for s in snippets)  # other code is kept


@pytest.mark.parametrize(
    ("line", "quotes"),
    [
        ('  password = "hunter2-horse"', True),
        ("db_password: s3cr3t-value", True),
        ('"client_secret": "0f9e8d7c6b5a"', True),
        ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG", True),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", True),
        ("-----BEGIN RSA PRIVATE KEY-----", True),
        ("  password = var.db_password", False),
        ('  password = "${var.db_password}"', False),
        ("token: ${{ secrets.GITHUB_TOKEN }}", False),
        ("user?.update({ password: newPassword })", False),
        ("  minimum_password_length = 14", False),
        ('  kms_key_id = "alias/aws/s3"', False),
        ("  token = null", False),
        ("ENV GITHUB_PAT=*****", False),
        ('  password = "REDACTED:sha256:5e884898da28"', False),  # a marker of an earlier version
        ('  password = "REDACTED:hmac-sha256:5e884898da28"', False),
        ('  password = "REDACTED"', False),
        ('  password = "REDACTEDhunter2-horse"', True),  # not a marker, though it starts like one
        ('  http_tokens = "required"', False),  # AWS IMDSv2 setting
        ('  token_endpoint = "https://login.acme.example/oauth2/token"', False),
        ('  secret_name = "prod/shop/db"', False),
        ('  url = "postgres://shop:Pl4nted-pa55@db.internal:5432/shop"', True),
        ('  name = "password-reset-service"', False),
    ],
)
def test_which_quoted_code_lines_hold_a_credential(line: str, quotes: bool) -> None:
    assert quotes_secret(line) is quotes


def test_trivy_misconfiguration_code_lines_that_quote_a_credential_are_replaced() -> None:
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "infra",
        "ArtifactType": "filesystem",
        "Results": [
            {
                "Target": "db.tf",
                "Class": "config",
                "Type": "terraform",
                "Misconfigurations": [
                    {
                        "ID": "AVD-AWS-0080",
                        "Status": "FAIL",
                        "CauseMetadata": {
                            "Resource": "aws_db_instance.main",
                            "StartLine": 1,
                            "EndLine": 4,
                            "Code": {
                                "Lines": [
                                    {"Number": 1, "Content": 'resource "aws_db_instance" "main" {'},
                                    {"Number": 2, "Content": '  password = "Tr0ub4dor-and-3"'},
                                    {
                                        "Number": 3,
                                        "Content": "  storage_encrypted = false",
                                        "Highlighted": "  storage_encrypted = false",
                                    },
                                    {"Number": 4, "Content": "}"},
                                ]
                            },
                        },
                    }
                ],
            }
        ],
    }
    out = redact_secret_scan(json.dumps(report).encode())
    assert b"Tr0ub4dor-and-3" not in out
    lines = json.loads(out)["Results"][0]["Misconfigurations"][0]["CauseMetadata"]["Code"]["Lines"]
    assert lines[1]["Content"] == _marker('  password = "Tr0ub4dor-and-3"')
    assert [line["Content"] for line in (lines[0], lines[2], lines[3])] == [
        'resource "aws_db_instance" "main" {',
        "  storage_encrypted = false",
        "}",
    ]


@pytest.mark.parametrize(
    "name", ["trivy-dockerfile.json", "trivy-helm.json", "trivy-dockerfile-custom-policies.json"]
)
def test_trivy_misconfiguration_reports_without_credentials_are_untouched(name: str) -> None:
    raw = (SAMPLES / "scan-trivy-sections" / name).read_bytes()
    assert redact_secret_scan(raw) == raw


def test_deeply_nested_snippets_are_found() -> None:
    node: dict[str, Any] = {"snippet": {"text": "AKIA-deep-secret-0001"}}
    for _ in range(50):  # deep, yet within the 64 levels a JSON artefact may have (issue 9)
        node = {"location": node}
    log = {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "gitleaks"}}, "results": [{"ruleId": "aws", "codeFlows": [node]}]}
        ],
    }
    out = redact_secret_scan(json.dumps(log).encode())
    assert b"AKIA-deep-secret-0001" not in out
    assert _marker("AKIA-deep-secret-0001").encode() in out


def test_not_json_cannot_be_redacted() -> None:
    with pytest.raises(InputError, match=r"^leaks\.json: cannot be redacted: .*JSON"):
        redact_secret_scan(b"{not json at all, but long enough to not look truncated}", source="leaks.json")


def test_secret_scanner_names() -> None:
    assert is_secret_scanner("Gitleaks")
    assert is_secret_scanner("TruffleHog OSS")
    assert not is_secret_scanner("CodeQL")
    assert not is_secret_scanner(None)


# ---------------------------------------------------------------------------------------------
# Well-known credentials in any text (kinds.secrets.mask_credentials); each value is in the shape
# its provider documents, built from pieces so that this file is no finding for a scanner.

SHAPES: list[tuple[str, str, str]] = [
    # (what, the text, the secret in it that must go)
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
    ("AWS access key id", "key AKIA" + "IOSFODNN7EXAMPLE in use", "AKIA" + "IOSFODNN7EXAMPLE"),
    ("AWS temporary key id", "ASIA" + "Q4N7X2BRZ5KD9WMT", "ASIA" + "Q4N7X2BRZ5KD9WMT"),
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
    (
        "AWS secret access key beside its name",
        "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    ),
    (
        "AWS secret access key in JSON",
        '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY"}',
        "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    ),
    # https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats
    (
        "GitHub classic token",
        "token ghp_" + "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUi.",
        "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUi",
    ),
    (
        "GitHub OAuth token",
        "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a",
        "16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    (
        "GitHub app token",
        "ghs_" + "16C7e42F292c6912E7710c838347Ae178B4a",
        "16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    (
        "GitHub fine-grained token",
        "github_pat_"
        + "11ABCDEFG0x7Kq2LmN9pR4_sT6vW8yZ1aB3cD5eF7gH9iJ0kL2mN4oP6qR8sT0uV2wX4yZ6aB8cD0eF2gH4i",
        "11ABCDEFG0x7Kq2LmN9pR4_sT6vW8yZ1aB3cD5eF7gH9iJ0kL2mN4oP6qR8sT0uV2wX4yZ6aB8cD0eF2gH4i",
    ),
    # https://docs.gitlab.com/ee/security/tokens/#token-prefixes
    ("GitLab token", "PRIVATE-TOKEN: glpat-" + "x7Kq2LmN9pR4sT6vW8yZ", "x7Kq2LmN9pR4sT6vW8yZ"),
    # https://api.slack.com/authentication/token-types
    ("Slack bot token", "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOp", "AbCdEfGhIjKlMnOp"),
    # https://api.slack.com/messaging/webhooks
    (
        "Slack webhook",
        "post to https://hooks.slack.com/services/T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    # https://cloud.google.com/docs/authentication/api-keys
    (
        "Google API key",
        "key=AIza" + "SyD3x7Kq2LmN9pR4sT6vW8yZ1aB3cD5eF7g",
        "SyD3x7Kq2LmN9pR4sT6vW8yZ1aB3cD5eF7g",
    ),
    # https://docs.stripe.com/keys
    ("Stripe live key", "sk_live_" + "51H8xKq2LmN9pR4sT6vW8yZ1a", "51H8xKq2LmN9pR4sT6vW8yZ1a"),
    # RFC 7468 section 10 (PEM), and an OpenSSH key
    (
        "PEM private key",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v0c9Yq2Lr3mZ8xP\n-----END RSA PRIVATE KEY-----\nend",
        "MIIEowIBAAKCAQEA7v0c9Yq2Lr3mZ8xP",
    ),
    (
        "private key cut short",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    ),
    # RFC 7519 section 3
    (
        "JSON Web Token",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXBsb3kifQ.Hq3x7Kq2LmN9pR4sT6vW8yZ1aB3cD5e",
        "eyJzdWIiOiJkZXBsb3kifQ",
    ),
    # RFC 3986 section 3.2.1; https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
    ("URL password", "postgres://shop:Pl4nted-DB-pa55word@db.internal:5432/shop", "Pl4nted-DB-pa55word"),
    ("URL password, empty user", "redis://:Pl4nted-redis-pa55@cache:6379/0", "Pl4nted-redis-pa55"),
    ("password assignment", "DB_PASSWORD=Tr0ub4dor-and-3 ./run", "Tr0ub4dor-and-3"),
    (
        "secret assignment in a query",
        "https://api.acme.example/v1?client_secret=0f9e8d7c6b5a&x=1",
        "0f9e8d7c6b5a",
    ),
    ("quoted secret", 'settings: "api_key": "k-0f9e8d7c6b5a4"', "k-0f9e8d7c6b5a4"),
]


@pytest.mark.parametrize(("what", "text", "secret"), SHAPES, ids=[s[0] for s in SHAPES])
def test_each_documented_shape_is_masked(what: str, text: str, secret: str) -> None:
    assert secret in text
    masked = mask_credentials(text)
    assert secret not in masked, what
    assert "REDACTED:hmac-sha256:" in masked
    assert looks_secret(text) and not looks_secret(masked)
    assert mask_credentials(masked) == masked  # masking twice changes nothing more


@pytest.mark.parametrize(("what", "text", "secret"), SHAPES, ids=[s[0] for s in SHAPES])
def test_a_document_is_masked_as_each_of_its_strings(what: str, text: str, secret: str) -> None:
    """The document path (one scan over all strings) finds what the per-string path finds."""
    document = {"title": text, text: "as a key", "list": ["x", text], "nested": {"deep": [{"v": text}]}}
    masked = mask_tree(document)
    assert secret not in json.dumps(masked), what
    assert masked["title"] == masked["list"][1] == masked["nested"]["deep"][0]["v"] == mask_credentials(text)
    assert mask_credentials(text) in masked


def test_only_the_secret_part_is_replaced() -> None:
    url = "postgres://shop:Pl4nted-DB-pa55word@db.internal:5432/shop"
    assert mask_credentials(url) == f"postgres://shop:{_marker('Pl4nted-DB-pa55word')}@db.internal:5432/shop"
    assert (
        mask_credentials("x DB_PASSWORD='Tr0ub4dor-and-3' y")
        == f"x DB_PASSWORD='{_marker('Tr0ub4dor-and-3')}' y"
    )
    title = "expat: token ghp_" + "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUi leaks"
    token = title.split()[2]
    assert mask_credentials(title) == f"expat: token {_marker(token)} leaks"


# Text that only looks like it might hold a secret: settings named after one, identifiers that
# share a prefix with a token, and references to a secret held elsewhere.
LOOK_ALIKES = [
    'http_tokens = "required"',
    "metadata_options.http_tokens=optional",
    "token_endpoint=https://login.acme.example/oauth2/token",
    "password_policy=strict",
    "secret_name=prod/shop/db",
    "kms_key_id=arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:iam::111122223333:role/AKIA-deployer",
    "sha256:9fb89a6bc1f4bb23e4ee47b72cd86aa152679a65166834b1f94b873096b4e5d8",
    "123e4567-e89b-12d3-a456-426614174000",
    "pkg:npm/%40acme/ghp_tools@1.2.3",
    "pkg:deb/debian/libexpat1@2.5.0-1%2Bdeb12u1?arch=amd64&distro=debian-12",
    "ghcr.io/acme/shop@sha256:9fb89a6bc1f4bb23e4ee47b72cd86aa152679a65166834b1f94b873096b4e5d8",
    "git@github.com:acme/shop.git",
    "https://github.com/acme/shop/blob/main/deploy/settings.py#L14",
    "https://user@acme.example/path",  # a user, no password
    "http://[::1]:8080/health",
    "password = var.db_password",
    "password: ${{ secrets.DB_PASSWORD }}",
    "password=$DB_PASSWORD",
    "password = request.form.get('password')",
    "token = null",
    "secret: none found",
    "AWS_ACCESS_KEY_ID=********************",
    "minimum_password_length=14",
    "This expression logs sensitive data (password) as clear text.",
    "Hard-coded credential comparison: if password == 'admin'",
    "AIDA" + "JQABLZS4A3QDU576Q",  # an IAM user's unique id, not a key
    "eyJhbGciOiJIUzI1NiJ9",  # a JOSE header alone is no token
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_credentials(text) == text
    assert not looks_secret(text)


@pytest.mark.parametrize(
    ("name", "says_secret"),
    [
        ("password", True),
        ("db_password", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("clientSecret", True),
        ("api_key", True),
        ("auth_tokens", True),
        ("disk_encryption_key_raw", True),
        ("http_tokens", False),
        ("token_endpoint", False),
        ("password_policy", False),
        ("secret_name", False),
        ("kms_key_id", False),
        ("secretKeyRef", False),
        ("minimum_password_length", False),
        ("secret_hmac", False),
        ("secret_key_id", False),
        ("secrets", False),  # GitHub Actions' `secrets: inherit`
    ],
)
def test_which_names_say_secret(name: str, says_secret: bool) -> None:
    assert secret_name(name) is says_secret


def test_tree_masks_strings_keys_and_named_values_copy_on_write() -> None:
    token = "ghp_" + "Zq8vT3mK9pL2xW7nR4cY6bH1jD5fG0sA8eUi"
    clean = {"name": "shop", "tags": ["a", "b"]}
    tree: dict[str, Any] = {
        "clean": clean,
        "title": f"leaks {token}",
        "tags": {token: "v", "db_password": "Tr0ub4dor-and-3", "http_tokens": "required"},
        "list": [1, None, True, f"{token}"],
    }
    before = json.dumps(tree)
    masked = mask_tree(tree)
    assert json.dumps(tree) == before  # the input is not changed
    assert masked["clean"] is clean  # an untouched branch is the same object
    assert token not in json.dumps(masked) and "Tr0ub4dor" not in json.dumps(masked)
    assert masked["tags"]["http_tokens"] == "required"
    assert masked["tags"]["db_password"] == _marker("Tr0ub4dor-and-3")
    assert list(masked["tags"]) == [_marker(token), "db_password", "http_tokens"]
    assert masked["list"][:3] == [1, None, True]
    assert mask_tree(clean) is clean


def test_tree_masking_is_iterative() -> None:
    node: Any = "AKIA" + "IOSFODNN7EXAMPLE"
    for _ in range(5000):
        node = [{"n": node}]
    masked = mask_tree(node)
    for _ in range(5000):
        masked = masked[0]["n"]
    assert masked == _marker("AKIA" + "IOSFODNN7EXAMPLE")


def test_a_json_escape_hides_no_token_from_the_raw_copy() -> None:
    raw = b'{"Title": "leaks \\u0041KIAIOSFODNN7EXAMPLE here", "n": 1}'
    stored = mask_document(raw, "t.json")
    assert b"IOSFODNN7EXAMPLE" not in stored
    assert json.loads(stored) == {"Title": f"leaks {_marker('AKIA' + 'IOSFODNN7EXAMPLE')} here", "n": 1}


def test_raw_copy_without_a_credential_is_kept_byte_for_byte() -> None:
    raw = b'{ "a" : "http_tokens = required",\n  "b": [1,2] }'
    assert mask_document(raw, "t.json") is raw
    text = b'provider "aws" {\n  region = "eu-west-1"\n}\n'
    assert mask_document(text, "main.tf") is text
    binary = b"\x30\x82\x01\x0a\xff\xfe\x00AKIA"
    assert mask_document(binary, "sig.der") is binary  # not text: nothing to read a token from


def test_text_raw_copy_is_masked_as_text() -> None:
    text = '# deploy with AKIA{k}\nprovider "aws" {{\n  region = "eu-west-1"\n}}\n'.format(
        k="IOSFODNN7EXAMPLE"
    )
    stored = mask_document(text.encode(), "main.tf").decode()
    assert stored == text.replace("AKIA" + "IOSFODNN7EXAMPLE", _marker("AKIA" + "IOSFODNN7EXAMPLE"))


# ---------------------------------------------------------------------------------------------
# The corpus, both directions: no real file's record or raw copy is changed by the generic
# masking (no look-alike in 300 real tool outputs is taken for a secret), and the credentials the
# corpus really holds are all found.

OPTIONS = CollectOptions(now="2026-11-20T12:00:00Z")


def _corpus_files() -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file())


def test_generic_masking_changes_no_corpus_record_or_unhooked_raw_copy() -> None:
    changed: list[str] = []
    read = 0
    for rel in _corpus_files():
        raw = (CORPUS / rel).read_bytes()
        doc = Artefact(rel, raw)
        try:
            fmt = detect(doc, OPTIONS)
            parsed = fmt.parse(doc, OPTIONS)
        except InputError:
            continue
        read += 1
        before = json.dumps(
            [parsed.data, parsed.problems, repr(parsed.tool), repr(parsed.subject)], default=str
        )
        after_parsed = mask_parsed(parsed)
        after = json.dumps(
            [after_parsed.data, after_parsed.problems, repr(after_parsed.tool), repr(after_parsed.subject)],
            default=str,
        )
        if after != before:
            changed.append(f"record of {rel}")
        if redactor(fmt.name) is None and mask_document(raw, rel) != raw:
            changed.append(f"raw copy of {rel}")
    assert read > 150
    # The formats' own masking already handles every credential the corpus holds; the generic
    # masking is the net under it, and it must not catch a single setting of a real file.
    assert changed == []


# Secrets and matches of the corpus's gitleaks reports that are not a credential in any
# documented shape (a rule's own test value, a bare random string without its name).
NOT_A_SHAPE = {"secretAWSsecret", "a secret", "dfjksdjfs3294dfjlsdaf213"}


def test_every_credential_a_corpus_scanner_found_is_a_known_shape() -> None:
    checked = 0
    for path in sorted((CORPUS / "scan-gitleaks").glob("*.json")):
        if path.name == "INDEX.json":
            continue
        for item in json.loads(path.read_text(encoding="utf-8")) or []:
            secret = item.get("Secret") or item.get("offender") or ""
            match = item.get("Match") or secret
            if not secret or secret in NOT_A_SHAPE:
                continue
            checked += 1
            assert looks_secret(match), f"{path.name}: {item.get('RuleID') or item.get('rule')}"
            assert secret not in mask_credentials(match) or len(secret) < 8
    assert checked >= 10
