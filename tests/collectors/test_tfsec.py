"""tfsec JSON reports: every corpus file, passed/ignored results, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.formats.tfsec import detect
from affidavit.collectors.interface import NO, CollectOptions
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind
from tests.conftest import CORPUS, NOW, corpus_index, validate_record

FOLDER = "scan-tfsec"
ENTRIES = corpus_index(FOLDER)


# tfsec's own SARIF output maps its severities onto levels this way (legacy words included)
LEVEL = {
    "CRITICAL": "error",
    "HIGH": "error",
    "ERROR": "error",
    "MEDIUM": "warning",
    "WARNING": "warning",
    "LOW": "note",
    "INFO": "note",
}
SEVERITY = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "ERROR": "high",
    "MEDIUM": "medium",
    "WARNING": "medium",
    "LOW": "low",
    "INFO": "low",
}


def _collect(raw: bytes, source: str = "tfsec.json") -> Evidence:
    return collect_document(Artefact(source, raw), CollectOptions(now=NOW))


def _raw(name: str) -> bytes:
    return (CORPUS / FOLDER / name).read_bytes()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    results = json.loads(raw)["results"] or []
    evidence = _collect(raw, f"{FOLDER}/{entry['file']}")
    data = evidence.data
    validate_record(evidence)

    assert evidence.kind is EvidenceKind.SAST and evidence.format == "tfsec-json"
    assert evidence.tool is not None and evidence.tool.name == "tfsec"
    assert data["runs"] == 1 and data["tools"] == ["tfsec"]
    failing = [r for r in results if r.get("status", "failed") == "failed" and r.get("passed") is not True]
    expected = [
        {
            "rule_id": r["rule_id"],
            "level": LEVEL[r["severity"]],
            "severity": SEVERITY[r["severity"]],
            "file": r["location"]["filename"],
            "line": r["location"]["start_line"],
            "message": r["description"],
            "tool": "tfsec",
        }
        for r in failing
    ]
    assert data["findings"] == expected
    levels = [e["level"] for e in expected]
    assert data["summary"] == {
        "error": levels.count("error"),
        "warning": levels.count("warning"),
        "note": levels.count("note"),
        "none": 0,
        "total": len(expected),
        "passed": len(results) - len(failing),
        "suppressed": 0,
    }


def test_legacy_passed_result_is_counted_not_reported() -> None:
    raw = _raw("defectdojo-tfsec-many_findings_legacy.json")
    passed_ids = [r["rule_id"] for r in json.loads(raw)["results"] if r.get("passed") is True]
    evidence = _collect(raw)
    assert passed_ids == ["GCP008"]
    assert evidence.data["summary"]["passed"] == 1
    assert "GCP008" not in {f["rule_id"] for f in evidence.data["findings"]}


def test_current_statuses_ids_and_warning_flag() -> None:
    report = {
        "results": [
            {
                "rule_id": "AVD-AWS-0107",
                "long_id": "aws-ec2-no-public-ingress-sgr",
                "severity": "CRITICAL",
                "status": 0,
                "description": "open",
                "location": {"filename": "a.tf", "start_line": 3},
            },
            {
                "long_id": "aws-s3-enable-versioning",
                "severity": "MEDIUM",
                "status": 1,
                "location": {"filename": "b.tf", "start_line": 1},
            },
            {
                "rule_id": "AVD-AWS-0086",
                "severity": "HIGH",
                "status": "ignored",
                "location": {"filename": "c.tf", "start_line": 9},
            },
            {
                "long_id": "aws-s3-encryption",
                "severity": "HIGH",
                "warning": True,
                "rule_description": "no encryption",
                "location": {"filename": "d.tf", "start_line": "12"},
            },
            {"rule_id": "CUSTOM-1", "severity": "SEVERE", "location": {"filename": "e.tf", "start_line": 0}},
        ]
    }
    evidence = _collect(json.dumps(report).encode())
    got = [
        (f["rule_id"], f["level"], f["severity"], f["file"], f["line"], f["message"])
        for f in evidence.data["findings"]
    ]
    assert got == [
        ("AVD-AWS-0107", "error", "critical", "a.tf", 3, "open"),
        ("aws-s3-encryption", "warning", "high", "d.tf", 12, "no encryption"),
        ("CUSTOM-1", "warning", "unknown", "e.tf", None, "CUSTOM-1"),
    ]
    assert (evidence.data["summary"]["passed"], evidence.data["summary"]["suppressed"]) == (1, 1)


def test_null_provider_and_missing_location() -> None:
    report = {
        "results": [
            {
                "rule_id": "custom-rule-001",
                "rule_provider": None,
                "severity": "HIGH",
                "status": "failed",
                "description": "d",
                "location": {"filename": "main.tf", "start_line": 10},
            },
        ]
    }
    evidence = _collect(json.dumps(report).encode())
    assert evidence.data["findings"][0]["file"] == "main.tf"
    hostile = {
        "results": [
            {"rule_id": "X", "severity": "LOW", "location": {"filename": "f.tf"}},
            {"rule_id": "Y", "severity": "LOW", "location": None},
        ]
    }
    evidence = collect_document(
        Artefact("t.json", json.dumps(hostile).encode()), CollectOptions(now=NOW, format="tfsec-json")
    )
    assert [(f["file"], f["line"]) for f in evidence.data["findings"]] == [("f.tf", None), (None, None)]
    assert any("$.results[1]: has no location" in p for p in evidence.problems)


def test_results_of_the_wrong_type_are_rejected() -> None:
    with pytest.raises(InputError, match=r"\$\.results: expected an array of results, found a string"):
        collect_document(
            Artefact("t.json", b'{"results": "none"}'), CollectOptions(now=NOW, format="tfsec-json")
        )
    with pytest.raises(InputError, match=r"\$\.results\[0\]: expected a result object, found a number"):
        collect_document(
            Artefact("t.json", b'{"results": [1]}'), CollectOptions(now=NOW, format="tfsec-json")
        )


def test_empty_results_are_a_clean_scan() -> None:
    evidence = _collect(_raw("defectdojo-tfsec-no_findings.json"))
    assert evidence.data["findings"] == [] and evidence.data["summary"]["total"] == 0


def test_console_output_instead_of_json_is_rejected() -> None:
    console = (
        "\nResult #1 HIGH Security group rule allows egress to multiple public internet addresses.\n"
        "\u2500" * 40 + "\n  main.tf:5\n\n  timings\n  \u2500\u2500\u2500\u2500\n  disk i/o   18.04\u00b5s\n"
        "  total      4.450ms\n\n  1 potential problem(s) detected.\n"
    )
    doc = Artefact("tfsec.out", console.encode())
    assert detect(doc) > NO
    with pytest.raises(InputError, match="is tfsec's console output, not its JSON report") as caught:
        collect_document(doc, CollectOptions(now=NOW))
    assert caught.value.hint is not None and "--format json" in caught.value.hint
