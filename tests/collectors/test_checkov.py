"""Checkov JSON reports: every corpus file, several frameworks, bare summaries, redaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.formats.checkov import detect
from affidavit.collectors.interface import NO, CollectOptions
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind
from tests.conftest import CORPUS, NOW, corpus_index, validate_record

FOLDER = "scan-checkov"
ENTRIES = corpus_index(FOLDER)


def _collect(raw: bytes, source: str = "checkov.json") -> Evidence:
    return collect_document(Artefact(source, raw), CollectOptions(now=NOW))


def _raw(name: str) -> bytes:
    return (CORPUS / FOLDER / name).read_bytes()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    value = json.loads(raw)
    reports = value if isinstance(value, list) else [value]
    evidence = _collect(raw, f"{FOLDER}/{entry['file']}")
    data = evidence.data
    validate_record(evidence)

    assert evidence.kind is EvidenceKind.SAST and evidence.format == "checkov-json"
    assert data["runs"] == len(reports) and data["tools"] == ["checkov"]
    failed = [c for r in reports for c in (r.get("results") or {}).get("failed_checks") or []]
    expected = [
        {
            "rule_id": c["check_id"],
            "level": "error",
            "severity": (c.get("severity") or "unknown").lower(),
            "file": c["file_path"],
            "line": c["file_line_range"][0],
            "tool": "checkov",
        }
        for c in failed
    ]
    assert [{k: v for k, v in f.items() if k != "message"} for f in data["findings"]] == expected
    for check, finding in zip(failed, data["findings"], strict=True):
        assert finding["message"].startswith(check["check_name"])
        assert check["resource"] in finding["message"]

    def listed(key: str) -> int:
        return sum(len((r.get("results") or {}).get(key) or []) for r in reports)

    passed = listed("passed_checks") + sum(r.get("passed", 0) for r in reports if "results" not in r)
    assert data["summary"] == {
        "error": len(failed),
        "warning": 0,
        "note": 0,
        "none": 0,
        "total": len(failed),
        "passed": passed,
        "suppressed": listed("skipped_checks"),
        "parsing_errors": listed("parsing_errors"),
    }
    versions = {(r.get("summary") or r).get("checkov_version") for r in reports}
    assert evidence.tool is not None and evidence.tool.name == "checkov"
    assert evidence.tool.version == versions.pop()


def test_summary_that_disagrees_with_the_listed_checks_is_a_problem() -> None:
    evidence = _collect(_raw("defectdojo-checkov-report-many-vuln.json"))
    assert evidence.data["summary"]["total"] == 3
    assert any("$.summary.failed: says 2 but the report lists 3" in p for p in evidence.problems)


def test_parsing_errors_are_problems() -> None:
    evidence = _collect(_raw("mitre-saf-checkov_with_skips.json"))
    assert evidence.data["summary"]["parsing_errors"] == 1
    assert any(
        "could not parse 1 file(s), which were therefore not checked (the report lists their names there)"
        in p
        for p in evidence.problems
    )
    assert not any("/sample/broken.tf" in p for p in evidence.problems)


def test_several_frameworks_in_one_report(tmp_path: Path) -> None:
    first = json.loads(_raw("defectdojo-checkov-report-severity.json"))
    second = json.loads(_raw("mitre-saf-checkov_with_skips.json"))
    second["check_type"] = "cloudformation"
    path = tmp_path / "multi.json"
    path.write_text(json.dumps([first, second]), encoding="utf-8")
    evidence = collect_document(Artefact.from_path(path), CollectOptions(now=NOW))
    assert evidence.data["runs"] == 2
    ids = [c["check_id"] for r in (first, second) for c in r["results"]["failed_checks"]]
    assert [f["rule_id"] for f in evidence.data["findings"]] == ids
    assert evidence.tool is not None and evidence.tool.version is None  # 2.2.34 and 3.2.506
    assert any("different Checkov versions" in p for p in evidence.problems)


def test_bare_summary_counting_failures_is_rejected() -> None:
    raw = json.dumps(
        {"passed": 3, "failed": 2, "skipped": 0, "parsing_errors": 0, "checkov_version": "3.0.0"}
    ).encode()
    with pytest.raises(
        InputError, match=r"\$\.failed: is a Checkov summary that counts 2 failed check\(s\) but lists none"
    ) as caught:
        _collect(raw)
    assert caught.value.hint is not None and "-o json" in caught.value.hint


def test_failed_check_without_id_or_severity(tmp_path: Path) -> None:
    report = {
        "check_type": "kubernetes",
        "results": {
            "failed_checks": [
                {
                    "check_name": "Do the thing",
                    "file_path": "/k.yaml",
                    "file_line_range": [0, 0],
                    "severity": "CRITICAL",
                }
            ]
        },
        "summary": {"failed": 1, "checkov_version": "3.2.0"},
    }
    evidence = _collect(json.dumps(report).encode())
    finding = evidence.data["findings"][0]
    assert (finding["rule_id"], finding["severity"], finding["line"], finding["message"]) == (
        "unknown",
        "critical",
        None,
        "Do the thing",
    )
    assert any("has no check_id" in p for p in evidence.problems)


def test_results_not_an_object_is_rejected() -> None:
    raw = json.dumps({"check_type": "terraform", "results": [], "summary": {}}).encode()
    with pytest.raises(InputError, match=r"\$\.results: expected a results object, found an array"):
        collect_document(Artefact("c.json", raw), CollectOptions(now=NOW, format="checkov-json"))


def test_console_output_instead_of_json_is_rejected() -> None:
    console = (
        "\n       _               _\n   ___| |__   ___  ___| | _______   __\n\nBy Prisma Cloud | version: 3.2.506\n\n"
        "terraform scan results:\n\nPassed checks: 8, Failed checks: 12, Skipped checks: 2\n\n"
        'Check: CKV_AWS_18: "Ensure the S3 bucket has access logging enabled"\n'
        "\tFAILED for resource: aws_s3_bucket.example\n"
    )
    doc = Artefact("checkov.txt", console.encode())
    assert detect(doc) > NO
    with pytest.raises(InputError, match="is Checkov's console output, not its JSON report") as caught:
        collect_document(doc, CollectOptions(now=NOW))
    assert caught.value.hint is not None and "-o json" in caught.value.hint


def test_crash_traceback_is_rejected_with_its_last_line() -> None:
    crash = (
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/checkov", line 8, in <module>\n'
        "    sys.exit(run())\n"
        "ValueError: could not parse the plan file\n"
    )
    with pytest.raises(
        InputError,
        match=r"is a Checkov crash \(a Python traceback\), not a report: "
        r"the error Checkov met is on its last line \(line 4\)",
    ) as caught:
        collect_document(Artefact("checkov.json", crash.encode()), CollectOptions(now=NOW))
    assert "ValueError" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# What a bundle stores of a report: the quoted code without its secrets


def _provider_check(access_key: str, secret_key: str) -> dict[str, Any]:
    """CKV_AWS_41 failing on a provider block with hard-coded keys, as Checkov 3 reports it."""
    return {
        "check_id": "CKV_AWS_41",
        "bc_check_id": "BC_AWS_SECRETS_5",
        "check_name": "Ensure no hard coded AWS access key and secret key exists in provider",
        "check_result": {
            "result": "FAILED",
            "entity": {
                "aws": {
                    "__end_line__": 5,
                    "__start_line__": 1,
                    "region": ["us-west-2"],
                    "access_key": [access_key],
                    "secret_key": [secret_key],
                    "__address__": "aws.default",
                }
            },
            "evaluated_keys": ["access_key", "secret_key"],
        },
        "code_block": [
            [1, 'provider "aws" {\n'],
            [2, '  region     = "us-west-2"\n'],
            [3, f'  access_key = "{access_key}"\n'],
            [4, f'  secret_key = "{secret_key}"\n'],
            [5, "}\n"],
        ],
        "file_path": "/main.tf",
        "file_abs_path": "/src/main.tf",
        "repo_file_path": "/main.tf",
        "file_line_range": [1, 5],
        "resource": "aws.default",
        "severity": None,
        "guideline": "https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/secrets-policies/bc-aws-secrets-5",
    }


def test_redactor_replaces_quoted_credentials_and_keeps_the_rest() -> None:
    access, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    report = {
        "check_type": "terraform",
        "results": {
            "passed_checks": [],
            "failed_checks": [_provider_check(access, secret)],
            "skipped_checks": [],
        },
        "summary": {"passed": 0, "failed": 1, "skipped": 0, "parsing_errors": 0, "checkov_version": "3.2.0"},
    }
    raw = json.dumps(report, indent=4).encode()
    hook = registry.redactor("checkov-json")
    assert hook is not None
    stored = hook(raw, "checkov.json")
    assert access.encode() not in stored and secret.encode() not in stored
    after = json.loads(stored)["results"]["failed_checks"][0]
    assert [line for _, line in after["code_block"]][:2] == [
        'provider "aws" {\n',
        '  region     = "us-west-2"\n',
    ]
    assert all(line.startswith("REDACTED") for _, line in after["code_block"][2:4])
    assert after["check_result"]["entity"]["aws"]["region"] == ["us-west-2"]
    assert after["check_result"]["entity"]["aws"]["access_key"][0].startswith("REDACTED")
    # the record of the stored report is the record of the raw one: no finding is lost
    assert _collect(stored).data == _collect(raw).data


def test_redactor_replaces_every_line_of_the_secrets_framework() -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    check = {
        "check_id": "CKV_SECRET_43",
        "check_name": "GitHub Token",
        "check_result": {"result": "FAILED"},
        "code_block": [[12, f"deploy_key: {token[:6]}**********\n"]],
        "file_path": "/ci/deploy.yml",
        "file_line_range": [12, 13],
        "resource": "c00f1a3c9ad17d5e4a2e9b71bca8d8e4a43c1f9c",
        "severity": "HIGH",
    }
    report = {
        "check_type": "secrets",
        "results": {"failed_checks": [check], "passed_checks": [], "skipped_checks": []},
        "summary": {"passed": 0, "failed": 1, "skipped": 0, "parsing_errors": 0, "checkov_version": "3.2.0"},
    }
    raw = json.dumps(report).encode()
    hook = registry.redactor("checkov-json")
    assert hook is not None
    stored = json.loads(hook(raw, "secrets.json"))
    line = stored["results"]["failed_checks"][0]["code_block"][0][1]
    assert line == "REDACTED\n"  # the marker without AFFIDAVIT_SECRET_KEY (kinds.secrets)
    assert token[:6].encode() not in json.dumps(stored).encode()


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_reports_quoting_no_credential_are_stored_as_they_are(entry: dict[str, Any]) -> None:
    raw = (CORPUS / FOLDER / entry["file"]).read_bytes()
    hook = registry.redactor("checkov-json")
    assert hook is not None
    assert hook(raw, entry["file"]) == raw
