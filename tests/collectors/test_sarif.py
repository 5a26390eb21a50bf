"""SARIF logs: every corpus file, older versions, hostile logs made in tmp_path."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.kinds.sast import severity_from_level, severity_from_score, severity_from_word
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind, Severity
from tests.conftest import CORPUS, NOW, corpus_index, validate_record

FOLDER = "scan-sarif"
ENTRIES = corpus_index(FOLDER)


def _collect_path(path: Path, source: str | None = None) -> Evidence:
    return collect_document(Artefact.from_path(path, source), CollectOptions(now=NOW))


def _collect_log(tmp_path: Path, log: Any, name: str = "log.sarif") -> Evidence:
    path = tmp_path / name
    path.write_text(json.dumps(log), encoding="utf-8")
    return _collect_path(path, name)


def _log(results: list[Any], rules: list[Any] | None = None, **run: Any) -> dict[str, Any]:
    driver: dict[str, Any] = {"name": "TestScanner", "version": "1.0"}
    if rules is not None:
        driver["rules"] = rules
    return {"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results, **run}]}


# -- the corpus -------------------------------------------------------------------------------


def _expected(run: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Rule id, level, file, line and tool of one corpus result, read straight from the raw log."""
    driver = (run.get("tool") or {}).get("driver") or {}
    rules = driver.get("rules") or []
    index = result.get("ruleIndex")
    by_index = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else None
    rule_id = result.get("ruleId") or (by_index or {}).get("id")
    if rule_id is None:  # Gitleaks 7 names the rule only in its message
        match = re.match(r"^(.*) secret detected$", result["message"]["text"])
        rule_id = match.group(1) if match else "unknown"
    rule = next((r for r in rules if r.get("id") == rule_id), None)
    level = result.get("level") or ((rule or {}).get("defaultConfiguration") or {}).get("level") or "warning"
    physical = (result.get("locations") or [{}])[0].get("physicalLocation") or {}
    return {
        "rule_id": rule_id,
        "level": level,
        "file": (physical.get("artifactLocation") or {}).get("uri"),
        "line": (physical.get("region") or {}).get("startLine"),
        "tool": driver.get("name", "unknown"),
    }


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    path = CORPUS / FOLDER / entry["file"]
    raw = json.loads(path.read_bytes())
    evidence = _collect_path(path, f"{FOLDER}/{entry['file']}")
    data = evidence.data
    validate_record(evidence)

    assert evidence.kind is EvidenceKind.SAST
    assert evidence.format == "sarif"
    assert set(data) == {"findings", "summary", "tools", "runs", "run_info"}
    assert evidence.format_version == raw["version"]
    assert evidence.id == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["runs"] == len(raw["runs"])
    expected = [_expected(run, result) for run in raw["runs"] for result in run.get("results") or []]
    got = [{k: f[k] for k in ("rule_id", "level", "file", "line", "tool")} for f in data["findings"]]
    assert got == expected
    assert data["tools"] == sorted(
        {((r.get("tool") or {}).get("driver") or {}).get("name", "unknown") for r in raw["runs"]}
    )
    levels = [e["level"] for e in expected]
    assert data["summary"] == {
        "error": levels.count("error"),
        "warning": levels.count("warning"),
        "note": levels.count("note"),
        "none": levels.count("none"),
        "total": len(levels),
        "suppressed": 0,
    }
    results = [r for run in raw["runs"] for r in run.get("results") or []]
    for result, finding in zip(results, data["findings"], strict=True):
        assert finding["severity"] in {s.value for s in Severity}
        text = result["message"]["text"]
        if len(text) <= 1000:
            assert finding["message"] == text
        else:
            assert len(finding["message"]) == 1000 and finding["message"].startswith(text[:999])
    for run in raw["runs"]:
        if "tool" not in run:
            assert any("has no 'tool' object" in p for p in evidence.problems)


def test_zero_runs_is_not_a_clean_scan() -> None:
    evidence = _collect_path(CORPUS / FOLDER / "defectdojo-no_runs.sarif")
    assert evidence.data["runs"] == 0
    assert evidence.data["tools"] == []
    assert evidence.data["findings"] == []
    assert evidence.tool is None


def test_severity_from_security_severity_scores_and_words() -> None:
    grype = _collect_path(CORPUS / FOLDER / "grype-TestSarifPresenter_image.sarif")
    # rule properties say 8.2 and 8.5 (CVSS), whatever the result level says
    assert [(f["level"], f["severity"]) for f in grype.data["findings"]] == [
        ("note", "high"),
        ("error", "high"),
    ]
    trivy = _collect_path(CORPUS / FOLDER / "trivy-alpine-310.sarif")
    assert {f["severity"] for f in trivy.data["findings"]} == {"medium"}  # "5.3"
    semgrep_path = CORPUS / FOLDER / "defectdojo-sarif-semgrep-issue_10191.sarif.json"
    raw = json.loads(semgrep_path.read_bytes())
    words = {
        r["id"]: r["properties"]["security-severity"].lower()
        for r in raw["runs"][0]["tool"]["driver"]["rules"]
    }
    semgrep = _collect_path(semgrep_path)
    assert [f["severity"] for f in semgrep.data["findings"]] == [
        words[f["rule_id"]] for f in semgrep.data["findings"]
    ]
    codeql = _collect_path(CORPUS / FOLDER / "defectdojo-codeQL-output.sarif")  # no security-severity
    assert all(f["severity"] == severity_from_level(f["level"]).value for f in codeql.data["findings"])


def test_semgrep_log_named_json_is_detected_by_content() -> None:
    path = CORPUS / FOLDER / "defectdojo-sarif-semgrep-issue_10191.sarif.json"
    evidence = _collect_path(path, "results.json")
    assert evidence.format == "sarif" and evidence.tool is not None and evidence.tool.name == "Semgrep OSS"
    assert any("31 warning notification(s) of 2 kind(s)" in p for p in evidence.problems)
    assert not any("Syntax error" in p for p in evidence.problems)
    assert any("longer than 1,000 characters" in p for p in evidence.problems)


def test_gitleaks_sarif_never_keeps_the_snippet() -> None:
    for name in ("gitleaks-sarif_simple.sarif", "defectdojo-gitleaks_7.5.0.sarif"):
        raw = json.loads((CORPUS / FOLDER / name).read_bytes())
        evidence = _collect_path(CORPUS / FOLDER / name)
        record = json.dumps(evidence.to_json())
        for result in raw["runs"][0]["results"]:
            snippet = result["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
            assert snippet not in record and json.dumps(snippet)[1:-1] not in record
            offender = result.get("properties", {}).get("offender")
            if offender:
                assert offender not in record


# -- hostile logs -----------------------------------------------------------------------------


def test_enormous_message_is_cut_with_a_problem(tmp_path: Path) -> None:
    evidence = _collect_log(tmp_path, _log([{"ruleId": "R1", "message": {"text": "A" * 200_000}}]))
    message = evidence.data["findings"][0]["message"]
    assert len(message) == 1000 and message.endswith("\u2026") and message.startswith("A" * 999)
    assert any("1 result message(s) were longer than 1,000 characters" in p for p in evidence.problems)


def test_deep_and_huge_properties_are_ignored(tmp_path: Path) -> None:
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(50):  # deep, yet within the 64 levels a JSON artefact may have (issue 9)
        deep = {"nested": deep}
    huge = {f"key{i}": "x" * 50 for i in range(20_000)}
    props = {"deep": deep, **huge, "security-severity": "9.8"}
    evidence = _collect_log(tmp_path, _log([{"ruleId": "R1", "message": {"text": "m"}, "properties": props}]))
    finding = evidence.data["findings"][0]
    assert finding["severity"] == "critical"
    assert set(finding) == {
        "rule_id",
        "level",
        "severity",
        "file",
        "line",
        "message",
        "tool",
        "security_severity",
    }
    assert finding["security_severity"] == "critical"
    assert evidence.problems == ()


def test_nesting_beyond_what_json_can_read_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.sarif"
    body = '{"p":' * 200_000 + "1" + "}" * 200_000
    path.write_text(
        '{"version":"2.1.0","runs":[{"results":[{"properties":' + body + "}]}]}", encoding="utf-8"
    )
    with pytest.raises(InputError, match="nested too deeply"):
        _collect_path(path)


def test_rule_index_out_of_range_falls_back_to_the_rule_id(tmp_path: Path) -> None:
    rules = [{"id": "R1", "defaultConfiguration": {"level": "error"}}]
    evidence = _collect_log(
        tmp_path, _log([{"ruleId": "R1", "ruleIndex": 7, "message": {"text": "m"}}], rules)
    )
    finding = evidence.data["findings"][0]
    assert (finding["rule_id"], finding["level"], finding["severity"]) == ("R1", "error", "high")
    assert any(
        "ruleIndex outside the rule table" in p and "$.runs[0].results[0]" in p for p in evidence.problems
    )


def test_rule_index_alone_names_the_rule(tmp_path: Path) -> None:
    rules = [{"id": "R0"}, {"id": "R1", "defaultConfiguration": {"level": "note"}}]
    evidence = _collect_log(tmp_path, _log([{"ruleIndex": 1, "message": {"text": "m"}}], rules))
    assert (evidence.data["findings"][0]["rule_id"], evidence.data["findings"][0]["level"]) == ("R1", "note")


def test_missing_or_malformed_locations(tmp_path: Path) -> None:
    results = [
        {"ruleId": "R1", "message": {"text": "no locations"}},
        {"ruleId": "R1", "message": {"text": "locations is an object"}, "locations": {"uri": "x"}},
        {"ruleId": "R1", "message": {"text": "empty"}, "locations": []},
        {
            "ruleId": "R1",
            "message": {"text": "logical only"},
            "locations": [{"logicalLocations": [{"name": "f"}]}],
        },
        {
            "ruleId": "R1",
            "message": {"text": "by index"},
            "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}],
        },
        {"ruleId": "R1", "message": {"text": "target"}, "analysisTarget": {"uri": "t.c"}},
    ]
    evidence = _collect_log(tmp_path, _log(results, artifacts=[{"location": {"uri": "from/artifacts.c"}}]))
    assert [(f["file"], f["line"]) for f in evidence.data["findings"]] == [
        (None, None),
        (None, None),
        (None, None),
        (None, None),
        ("from/artifacts.c", None),
        ("t.c", None),
    ]


def test_placeholders_are_filled_from_arguments(tmp_path: Path) -> None:
    results = [
        {
            "ruleId": "R1",
            "message": {"text": "Variable '{0}' used at {1}; {{literal}} and {5}", "arguments": ["ptr", 15]},
        },
        {"ruleId": "R1", "message": {"text": "no arguments keep {0} and {{"}},
    ]
    evidence = _collect_log(tmp_path, _log(results))
    assert [f["message"] for f in evidence.data["findings"]] == [
        "Variable 'ptr' used at 15; {literal} and {5}",
        "no arguments keep {0} and {{",
    ]


def test_message_by_id_from_rule_and_global_strings(tmp_path: Path) -> None:
    rules = [
        {
            "id": "C2001",
            "shortDescription": {"text": "A variable was used without being initialized."},
            "messageStrings": {"default": {"text": 'Variable "{0}" was used without being initialized.'}},
        }
    ]
    log = _log(
        [
            {"ruleId": "C2001", "ruleIndex": 0, "message": {"id": "default", "arguments": ["ptr"]}},
            {"ruleId": "C2001", "message": {"id": "declared", "arguments": ["x"]}},
            {"ruleId": "C2001", "message": {"id": "nowhere"}},
        ],
        rules,
    )
    log["runs"][0]["tool"]["driver"]["globalMessageStrings"] = {
        "declared": {"text": 'Variable "{0}" was declared here.'}
    }
    evidence = _collect_log(tmp_path, log)
    assert [f["message"] for f in evidence.data["findings"]] == [
        'Variable "ptr" was used without being initialized.',
        'Variable "x" was declared here.',
        "A variable was used without being initialized.",
    ]
    assert any("name a message string" in p for p in evidence.problems)
    assert any("have no message text" in p for p in evidence.problems)


def test_levels_follow_sarif_semantics(tmp_path: Path) -> None:
    rules = [{"id": "E", "defaultConfiguration": {"level": "error"}}, {"id": "N"}]
    results = [
        {"ruleId": "E", "message": {"text": "rule default"}},
        {"ruleId": "N", "message": {"text": "no level anywhere"}},
        {"ruleId": "E", "kind": "pass", "message": {"text": "a pass"}},
        {"ruleId": "E", "level": "note", "message": {"text": "explicit"}},
        {"ruleId": "E", "level": "critical", "message": {"text": "bogus level"}},
    ]
    evidence = _collect_log(tmp_path, _log(results, rules))
    assert [f["level"] for f in evidence.data["findings"]] == ["error", "warning", "none", "note", "error"]
    assert evidence.data["summary"] == {
        "error": 2,
        "warning": 1,
        "note": 1,
        "none": 1,
        "total": 5,
        "suppressed": 0,
    }
    assert any("level that is not error, warning, note or none" in p for p in evidence.problems)


def test_suppressed_and_absent_results_are_not_findings(tmp_path: Path) -> None:
    results = [
        {"ruleId": "R1", "message": {"text": "external"}, "suppressions": [{"kind": "external"}]},
        {
            "ruleId": "R1",
            "message": {"text": "accepted"},
            "suppressions": [{"kind": "inSource", "status": "accepted"}],
        },
        {
            "ruleId": "R1",
            "message": {"text": "rejected"},
            "suppressions": [{"kind": "external", "status": "rejected"}],
        },
        {"ruleId": "R1", "message": {"text": "none"}, "suppressions": []},
        {"ruleId": "R1", "message": {"text": "fixed"}, "baselineState": "absent"},
    ]
    evidence = _collect_log(tmp_path, _log(results))
    assert [f["message"] for f in evidence.data["findings"]] == ["rejected", "none"]
    assert evidence.data["summary"]["suppressed"] == 2
    assert evidence.data["summary"]["total"] == 2
    assert any("baselineState 'absent'" in p for p in evidence.problems)


def test_run_without_tool_is_attributed_to_unknown(tmp_path: Path) -> None:
    log = {
        "version": "2.1.0",
        "runs": [{"results": [{"ruleId": "X", "message": {"text": "m"}}]}, _log([])["runs"][0]],
    }
    evidence = _collect_log(tmp_path, log)
    assert evidence.data["tools"] == ["TestScanner", "unknown"]
    assert evidence.data["findings"][0]["tool"] == "unknown"
    assert evidence.data["runs"] == 2
    assert evidence.tool is None  # two different tools: the envelope names neither
    assert any("$.runs[0]: has no 'tool' object" in p for p in evidence.problems)


def test_result_without_any_rule_is_unknown(tmp_path: Path) -> None:
    evidence = _collect_log(tmp_path, _log([{"message": {"text": "m"}}]))
    assert evidence.data["findings"][0]["rule_id"] == "unknown"
    assert any("name no rule" in p for p in evidence.problems)


def test_secret_scanner_message_quoting_its_snippet_is_scrubbed(tmp_path: Path) -> None:
    result = {
        "ruleId": "aws",
        "message": {"text": "found AKIAIOSFODNN7EXAMPLE in config (offender AKIAIOSFODNN7EXAMPLE)"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "c.env"},
                    "region": {"startLine": 2, "snippet": {"text": "AKIAIOSFODNN7EXAMPLE"}},
                }
            }
        ],
    }
    log = _log([result])
    log["runs"][0]["tool"]["driver"]["name"] = "gitleaks"
    evidence = _collect_log(tmp_path, log)
    record = json.dumps(evidence.to_json())
    assert "AKIAIOSFODNN7EXAMPLE" not in record
    assert evidence.data["findings"][0]["message"] == "found REDACTED in config (offender REDACTED)"


def test_failed_run_is_read_as_incomplete(tmp_path: Path) -> None:
    """A run whose invocation says ``executionSuccessful: false`` is no clean scan: the record says
    the run is incomplete and where the tool said why, never what it said (SARIF 2.1.0 §3.20.14)."""
    log = _log(
        [],
        invocations=[
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": "could not load the database"}}
                ],
            }
        ],
    )
    evidence = _collect_log(tmp_path, log)
    (info,) = evidence.data["run_info"]
    assert info["complete"] is False
    assert info["reason"] == (
        "the tool reports that its run failed (executionSuccessful: false) "
        "($.runs[0].invocations[0].toolExecutionNotifications[0] says why)"
    )
    assert not any("could not load the database" in p for p in evidence.problems)
    assert any("the run is incomplete" in p for p in evidence.problems)


def test_error_notification_makes_a_successful_run_incomplete(tmp_path: Path) -> None:
    """Semgrep reports the files it could not parse as error notifications of a run that says it
    succeeded (semgrep/semgrep#2954 added executionSuccessful: true): the analysis is partial."""
    log = _log(
        [],
        invocations=[
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "error", "descriptor": {"id": "Syntax error"}, "message": {"text": "x"}}
                ],
            }
        ],
    )
    (info,) = _collect_log(tmp_path, log).data["run_info"]
    assert info["complete"] is False
    assert info["reason"].startswith("the tool reported 1 error notification(s) during the run")


def _spotbugs(version: str, exit_code: int) -> dict[str, Any]:
    """An old SpotBugs SARIF run (SarifBugReporter before spotbugs/spotbugs#2740: executionSuccessful
    is ``exitCode == 0``, and exit code bit 1 means "bugs found", 2 missing classes, 4 errors)."""
    log = _log([{"ruleId": "NP_NULL_ON_SOME_PATH", "level": "warning", "message": {"text": "m"}}])
    run = log["runs"][0]
    run["tool"] = {"driver": {"name": "SpotBugs", "version": version, "rules": []}}
    run["invocations"] = [
        {"executionSuccessful": False, "exitCode": exit_code, "exitSignalName": "BUGS FOUND"}
    ]
    return log


@pytest.mark.parametrize(
    ("version", "exit_code", "complete"),
    [("4.7.3", 1, True), ("4.8.2", 1, True), ("4.7.3", 3, False), ("4.7.3", 4, False), ("4.8.3", 1, False)],
)
def test_old_spotbugs_bugs_found_is_a_complete_run(
    tmp_path: Path, version: str, exit_code: int, complete: bool
) -> None:
    (info,) = _collect_log(tmp_path, _spotbugs(version, exit_code)).data["run_info"]
    assert info["complete"] is complete
    assert info["tool"] == "SpotBugs"


def test_run_info_names_the_revision_analysed(tmp_path: Path) -> None:
    log = _log([])
    log["runs"][0]["versionControlProvenance"] = [
        {
            "repositoryUri": "https://github.com/acme/shop",
            "revisionId": "0123abc",
            "branch": "refs/heads/main",
        }
    ]
    (info,) = _collect_log(tmp_path, log).data["run_info"]
    assert info["revision"] == "0123abc"
    assert info["complete"] is True


def test_error_notifications_of_a_successful_run_are_problems(tmp_path: Path) -> None:
    log = _log(
        [],
        invocations=[
            {
                "executionSuccessful": True,
                "endTimeUtc": "2024-05-01T10:00:00Z",
                "toolExecutionNotifications": [
                    {"level": "error", "descriptor": {"id": "CTN9999"}, "message": {"text": "x"}}
                ],
            }
        ],
    )
    evidence = _collect_log(tmp_path, log)
    assert any("1 error notification(s) of 1 kind(s) (by descriptor id)" in p for p in evidence.problems)
    assert not any("CTN9999" in p for p in evidence.problems)
    assert evidence.effective_at == "2024-05-01T10:00:00Z"


def test_run_end_time_is_written_by_the_one_timestamp_rule(tmp_path: Path) -> None:
    # SARIF's endTimeUtc may carry a fraction (CodeQL writes milliseconds) or, wrongly, an offset
    log = _log([], invocations=[{"executionSuccessful": True, "endTimeUtc": "2024-05-01T12:00:00.734+02:00"}])
    assert _collect_log(tmp_path, log).effective_at == "2024-05-01T10:00:00Z"
    log = _log([], invocations=[{"executionSuccessful": True, "endTimeUtc": "when it finished"}])
    assert _collect_log(tmp_path, log).effective_at is None


def test_runs_null_is_a_tool_failure(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\$\.runs: 'runs' is null"):
        _collect_log(
            tmp_path,
            {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": None},
        )


def test_results_not_an_array_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"\$\.runs\[0\]\.results: expected an array of results, found an object"
    ):
        _collect_log(
            tmp_path, {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": {}}]}
        )


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.5.json", "2.1.0"),
        (
            "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "2.1.0",
        ),
        ("http://json.schemastore.org/sarif-2.0.0-csd.2.beta.2018-10-10", "2.0.0-csd.2.beta.2018-10-10"),
        ("http://json.schemastore.org/sarif-1.0.0", "1.0.0"),
    ],
)
def test_version_inferred_from_schema(schema: str, expected: str, tmp_path: Path) -> None:
    evidence = _collect_log(tmp_path, {"$schema": schema, "runs": []})
    assert evidence.format_version == expected
    assert any(f"SARIF {expected} was inferred from $schema" in p for p in evidence.problems)


def test_no_version_anywhere_is_rejected(tmp_path: Path) -> None:
    log = {"runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    with pytest.raises(InputError, match=r"\$\.version: is a SARIF log with no version"):
        _collect_log(tmp_path, log)


def test_sarif_1_0_0_is_normalised(tmp_path: Path) -> None:
    log = {
        "$schema": "http://json.schemastore.org/sarif-1.0.0",
        "version": "1.0.0",
        "runs": [
            {
                "tool": {"name": "CodeScanner", "semanticVersion": "1.1.2"},
                "invocation": {"startTime": "2016-07-16T14:18:25Z", "endTime": "2016-07-16T14:19:01Z"},
                "rules": {
                    "C2001": {
                        "id": "C2001",
                        "shortDescription": "A variable was used without being initialized.",
                        "messageFormats": {"default": 'Variable "{0}" was used without being initialized.'},
                        "defaultLevel": "error",
                    }
                },
                "results": [
                    {
                        "ruleId": "C2001",
                        "formattedRuleMessage": {"formatId": "default", "arguments": ["count"]},
                        "locations": [
                            {"resultFile": {"uri": "file:///src/list.h", "region": {"startLine": 15}}}
                        ],
                    },
                    {
                        "ruleId": "C2002",
                        "level": "pass",
                        "message": "No issue.",
                        "locations": [{"analysisTarget": {"uri": "file:///src/a.c"}}],
                    },
                    {"ruleId": "C2001", "message": "suppressed", "suppressionStates": ["suppressedInSource"]},
                ],
            }
        ],
    }
    evidence = _collect_log(tmp_path, log)
    assert evidence.format_version == "1.0.0"
    assert evidence.tool is not None and (evidence.tool.name, evidence.tool.version) == (
        "CodeScanner",
        "1.1.2",
    )
    assert [
        (f["rule_id"], f["level"], f["file"], f["line"], f["message"]) for f in evidence.data["findings"]
    ] == [
        ("C2001", "error", "file:///src/list.h", 15, 'Variable "count" was used without being initialized.'),
        ("C2002", "none", "file:///src/a.c", None, "No issue."),
    ]
    assert evidence.data["summary"]["suppressed"] == 1
    assert evidence.effective_at == "2016-07-16T14:19:01Z"
    assert any("older version" in p for p in evidence.problems)


def test_sarif_2_0_0_draft_is_normalised(tmp_path: Path) -> None:
    log = {
        "$schema": "http://json.schemastore.org/sarif-2.0.0-csd.2.beta.2018-10-10",
        "version": "2.0.0-csd.2.beta.2018-10-10",
        "runs": [
            {
                "tool": {"name": "OldScanner", "version": "0.9"},
                "resources": {
                    "rules": {
                        "R1": {
                            "id": "R1",
                            "messageStrings": {"default": "Weak hash '{0}'."},
                            "configuration": {"defaultLevel": "warning"},
                        }
                    }
                },
                "results": [
                    {
                        "ruleId": "R1",
                        "message": {"messageId": "default", "arguments": ["md5"]},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "fileLocation": {"uri": "src/h.c"},
                                    "region": {"startLine": 7},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    evidence = _collect_log(tmp_path, log)
    assert evidence.format_version == "2.0.0-csd.2.beta.2018-10-10"
    finding = evidence.data["findings"][0]
    assert (
        finding["rule_id"],
        finding["level"],
        finding["file"],
        finding["line"],
        finding["message"],
        finding["tool"],
    ) == (
        "R1",
        "warning",
        "src/h.c",
        7,
        "Weak hash 'md5'.",
        "OldScanner",
    )


def test_sarif_1_beta_with_run_logs_is_not_supported(tmp_path: Path) -> None:
    log = {"version": "1.0.0-beta.4", "runLogs": [{"toolInfo": {"name": "x"}, "results": []}]}
    with pytest.raises(InputError, match="SARIF version 1.0.0-beta.4 is not supported") as caught:
        _collect_log(tmp_path, log)
    assert caught.value.hint is not None and "2.1.0" in caught.value.hint


def test_unknown_future_version_is_not_supported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\$\.version: SARIF version 3\.0\.0 is not supported"):
        _collect_log(tmp_path, {"version": "3.0.0", "runs": []})


def test_trivy_run_properties_name_the_subject() -> None:
    evidence = _collect_path(CORPUS / FOLDER / "trivy-alpine-310.sarif")
    assert evidence.subject.name == "testdata/fixtures/images/alpine-310.tar.gz"
    assert evidence.subject.digest is None  # repoDigests is null; the image ID is not a manifest digest


# -- the severity vocabulary ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (9.0, "critical"),
        ("9.8", "critical"),
        (8.9, "high"),
        (7, "high"),
        ("4.0", "medium"),
        (0.1, "low"),
        (0, "negligible"),
    ],
)
def test_severity_from_score(score: Any, expected: str) -> None:
    assert severity_from_score(score) == Severity(expected)


@pytest.mark.parametrize("score", [None, True, "HIGH", 11, -1, "nan", "1" * 40])
def test_not_a_score(score: Any) -> None:
    assert severity_from_score(score) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", "critical"),
        ("High", "high"),
        ("ERROR", "high"),
        ("moderate", "medium"),
        ("WARNING", "medium"),
        ("INFO", "negligible"),  # informational, as npm's info: one table for every kind
        ("informational", "negligible"),
        ("note", "low"),
        ("LOW", "low"),
        ("Important", "high"),
    ],
)
def test_severity_from_word(word: str, expected: str) -> None:
    assert severity_from_word(word) == Severity(expected)


def test_unrecognised_word_is_none() -> None:
    assert severity_from_word("unknown") is None  # says nothing: the level decides
    assert severity_from_word("urgent") is None
    assert severity_from_word(5) is None
