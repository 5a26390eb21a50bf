"""Redaction of secret-bearing reports (Gitleaks JSON, Trivy secrets, secret-scanner SARIF, quoted code)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from affidavit.collectors.kinds.secrets import (
    REDACTED_PREFIX,
    is_secret_scanner,
    quotes_secret,
    redact_secret_scan,
    redaction_marker,
    secret_values,
)
from affidavit.errors import InputError
from tests.conftest import CORPUS, SHARED, corpus_index

SAMPLES = SHARED / "samples"


def _marker(value: str) -> str:
    """The expected marker, computed here from its definition."""
    return "REDACTED:sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


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


def test_marker_is_a_short_sha256_prefix() -> None:
    assert redaction_marker("hunter2") == _marker("hunter2")
    assert len(redaction_marker("x")) == len(REDACTED_PREFIX) + 12


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
        ('  password = "REDACTED:sha256:5e884898da28"', False),
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
