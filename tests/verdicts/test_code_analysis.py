"""False-verdict scenarios, area "code analysis (SARIF)" (issue 10).

Each scenario is the demo GO release with its CodeQL SARIF changed in one realistic way, or another
tool's SARIF added, in the SARIF 2.1.0 shape (OASIS SARIF 2.1.0: result.level and the rule's
defaultConfiguration.level 3.27.10/3.50; invocation.executionSuccessful and
toolExecutionNotifications 3.20.14/3.20.21; run.versionControlProvenance[].revisionId 3.14.28/3.23.5;
suppressions 3.27.23; baselineState 3.27.24) and GitHub's conventions for it (docs.github.com
"SARIF support for code scanning": ``properties.security-severity`` on rules, a CVSS-like score:
>= 9.0 critical, >= 7.0 high, >= 4.0 medium; "About code scanning alerts": checks fail on security
alerts of high or higher severity by default). CodeQL 2.x writes its query rules in
``tool.extensions`` (the query pack) and points results at them with ``rule.toolComponent.index``.

The shipped prod rule data requires CodeQL, blocks SARIF level ``error`` and security severities
high and critical.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.attacks.support import COMMIT
from tests.verdicts.support import Change, Scenario, both, check, edit_json, ids, remove_file, write_file

AREA = "code analysis"
BLOCKING = "code_analysis.no_blocking_findings"
RAN = "code_analysis.required_tools_ran"
SARIF = "codeql.sarif"
GH_SEV = "docs.github.com SARIF support for code scanning: rule properties.security-severity (>= 9.0 critical, >= 7.0 high)"
SARIF_LEVEL = "OASIS SARIF 2.1.0 3.27.10 result.level, 3.50 defaultConfiguration.level"
SARIF_INV = "OASIS SARIF 2.1.0 3.20.14 executionSuccessful, 3.20.21 toolExecutionNotifications"
SARIF_VCP = "OASIS SARIF 2.1.0 3.14.28 run.versionControlProvenance, 3.23.5 revisionId"
SEMGREP = "semgrep/semgrep cli/src/semgrep/formatter/sarif.py: invocations[0] executionSuccessful true, errors as toolExecutionNotifications"
SPOTBUGS = "spotbugs/spotbugs#2740 (4.8.3): SarifBugReporter wrote executionSuccessful false whenever bugs were found"
CODEQL_EXT = (
    "github/codeql SARIF output: rules in tool.extensions (query pack), result.rule.toolComponent.index"
)
OTHER = "9" * 40


def _result(rule: str, index: int, level: str | None, **extra: Any) -> dict[str, Any]:
    """A CodeQL result as the demo writes them (with a location and partial fingerprints)."""
    res: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": index,
        "message": {"text": "This SQL query depends on a user-provided value."},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "shop/api/search.py", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 41, "startColumn": 5, "endColumn": 40},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": "a1b2c3d4e5f60718:1"},
    }
    if level is not None:
        res["level"] = level
    res.update(extra)
    return res


def _run(doc: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = doc["runs"][0]
    return run


def _add_result(res: dict[str, Any]) -> Change:
    """Add one result to the CodeQL run."""
    return edit_json(SARIF, lambda d: _run(d)["results"].append(res))


def _rule_level(rule_id: str, level: str | None, severity: str | None = None) -> Change:
    """Change a CodeQL rule's default level / security-severity."""

    def edit(doc: dict[str, Any]) -> None:
        for rule in _run(doc)["tool"]["driver"]["rules"]:
            if rule["id"] == rule_id:
                if level is None:
                    rule.pop("defaultConfiguration", None)
                else:
                    rule["defaultConfiguration"] = {"level": level}
                if severity is not None:
                    rule.setdefault("properties", {})["security-severity"] = severity

    return edit_json(SARIF, edit)


def _invocation(**inv: Any) -> Change:
    """Give the CodeQL run an invocation."""
    return edit_json(SARIF, lambda d: _run(d).__setitem__("invocations", [inv]))


def _revision(revision: str) -> Change:
    """Say the CodeQL run analysed ``revision``."""
    return edit_json(
        SARIF, lambda d: _run(d)["versionControlProvenance"][0].__setitem__("revisionId", revision)
    )


def _second_run(revision: str | None = None, results: list[Any] | None = None, **run: Any) -> Change:
    """A second CodeQL run (another language) in the same log, as codeql database analyze writes per language."""

    def edit(doc: dict[str, Any]) -> None:
        second = copy.deepcopy(_run(doc))
        second["automationDetails"] = {"id": "/language:javascript/"}
        second["results"] = results or []
        if revision is not None:
            second["versionControlProvenance"][0]["revisionId"] = revision
        second.update(run)
        doc["runs"].append(second)

    return edit_json(SARIF, edit)


def _log(name: str, version: str, results: list[Any], **run: Any) -> str:
    """A whole SARIF log of one run by another tool."""
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": name, "semanticVersion": version, "rules": []}},
                "results": results,
                **run,
            }
        ],
    }
    return json.dumps(doc, indent=2)


def _semgrep(errors: int, results: list[Any] | None = None) -> str:
    notes = [
        {
            "descriptor": {"id": "Syntax error"},
            "level": "error",
            "message": {"text": f"Syntax error at line shop/api/legacy{i}.py:12"},
        }
        for i in range(errors)
    ]
    return _log(
        "Semgrep OSS",
        "1.96.0",
        results or [],
        invocations=[{"executionSuccessful": True, "toolExecutionNotifications": notes}],
    )


def _spotbugs(version: str, exit_code: int) -> str:
    result = {
        "ruleId": "NP_NULL_ON_SOME_PATH",
        "level": "warning",
        "message": {"text": "Possible null pointer dereference"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "src/main/java/shop/Cart.java"},
                    "region": {"startLine": 7},
                }
            }
        ],
    }
    return _log(
        "SpotBugs",
        version,
        [result],
        invocations=[{"executionSuccessful": False, "exitCode": exit_code, "exitSignalName": "BUGS FOUND"}],
    )


_REQUIRE_SEMGREP = {"defaults": {"code_analysis": {"required_tools": ["CodeQL", "Semgrep OSS"]}}}
_REQUIRE_SPOTBUGS = {"defaults": {"code_analysis": {"required_tools": ["CodeQL", "SpotBugs"]}}}


def _s(sid: str, rule: str, change: Change, outcome: str, cite: str, why: str, **kw: Any) -> Scenario:
    if outcome == "pass":
        kw.setdefault("decision", "GO")
    return Scenario(sid, AREA, rule, change, outcome, cite, why, **kw)


def _extension_rules(doc: dict[str, Any]) -> None:
    """Move the rules into a query-pack extension, as CodeQL 2.x writes them, with one critical result."""
    run = _run(doc)
    rules = run["tool"]["driver"].pop("rules")
    rules[1]["properties"]["security-severity"] = "9.8"
    rules[1]["defaultConfiguration"] = {"level": "warning"}
    run["tool"]["extensions"] = [
        {"name": "codeql/python-queries", "semanticVersion": "1.3.3", "rules": rules}
    ]
    for res in run["results"]:
        res.pop("ruleIndex", None)
        res["rule"] = {"id": res["ruleId"], "index": 2, "toolComponent": {"index": 0}}
    res = _result("py/sql-injection", 1, None)
    res.pop("ruleIndex")
    res["rule"] = {"id": "py/sql-injection", "index": 1, "toolComponent": {"index": 0}}
    run["results"].append(res)


SCENARIOS: list[Scenario] = [
    # -- security-severity blocks whatever the level --------------------------------------------
    _s(
        "warning-with-rule-severity-9-8",
        BLOCKING,
        both(
            _rule_level("py/sql-injection", "warning", "9.8"),
            _add_result(_result("py/sql-injection", 1, None)),
        ),
        "fail",
        GH_SEV,
        "the issue's own case: a CodeQL warning of security-severity 9.8 is critical",
    ),
    _s(
        "warning-level-on-result-rule-high",
        BLOCKING,
        _add_result(_result("py/sql-injection", 1, "warning")),
        "fail",
        GH_SEV,
        "result level warning, the rule states security-severity 8.8 (high)",
    ),
    _s(
        "note-with-high-severity",
        BLOCKING,
        _add_result(_result("py/clear-text-logging-sensitive-data", 0, "note")),
        "fail",
        GH_SEV,
        "level note, security-severity 7.5: high",
    ),
    _s(
        "result-property-security-severity",
        BLOCKING,
        _add_result(_result("py/unused-import", 2, "warning", properties={"security-severity": "9.1"})),
        "fail",
        GH_SEV,
        "the result's own security-severity wins over its rule's",
    ),
    _s(
        "numeric-security-severity",
        BLOCKING,
        _add_result(_result("py/unused-import", 2, "note", properties={"security-severity": 9.0})),
        "fail",
        GH_SEV,
        "a number instead of a numeric string",
    ),
    _s(
        "extension-rules-critical",
        BLOCKING,
        edit_json(SARIF, _extension_rules),
        "fail",
        CODEQL_EXT,
        "rules in the query pack extension, result pointing at them by toolComponent",
    ),
    _s(
        "error-level-result",
        BLOCKING,
        _add_result(_result("py/sql-injection", 1, "error")),
        "fail",
        SARIF_LEVEL,
        "error blocks",
    ),
    _s(
        "inherited-error-level",
        BLOCKING,
        _add_result(_result("py/sql-injection", 1, None)),
        "fail",
        SARIF_LEVEL,
        "no level on the result: the rule's default (error)",
    ),
    _s(
        "error-in-second-language-run",
        BLOCKING,
        _second_run(results=[_result("py/sql-injection", 1, "error")]),
        "fail",
        SARIF_LEVEL,
        "a finding in the second run of the log",
    ),
    _s(
        "medium-warning-passes",
        BLOCKING,
        _add_result(_result("py/unused-import", 2, "warning", properties={"security-severity": "5.3"})),
        "pass",
        GH_SEV,
        "medium is not blocking by default",
    ),
    _s(
        "suppressed-critical-passes",
        BLOCKING,
        _add_result(
            _result(
                "py/sql-injection",
                1,
                "error",
                suppressions=[{"kind": "external", "status": "accepted", "justification": "false positive"}],
            )
        ),
        "pass",
        "OASIS SARIF 2.1.0 3.27.23 suppressions (accepted)",
        "dismissed in the tool with a recorded reason",
    ),
    _s(
        "absent-baseline-passes",
        BLOCKING,
        _add_result(_result("py/sql-injection", 1, "error", baselineState="absent")),
        "pass",
        "OASIS SARIF 2.1.0 3.27.24 baselineState absent",
        "gone since the baseline",
    ),
    _s(
        "kind-pass-passes",
        BLOCKING,
        _add_result(_result("py/sql-injection", 1, None, kind="pass")),
        "pass",
        "OASIS SARIF 2.1.0 3.27.9 kind",
        "a result of kind pass is no finding (level none)",
    ),
    # -- the scan must be complete -----------------------------------------------------------------
    _s(
        "execution-failed",
        RAN,
        _invocation(
            executionSuccessful=False,
            toolExecutionNotifications=[{"level": "error", "message": {"text": "Out of memory"}}],
        ),
        "insufficient_evidence",
        SARIF_INV,
        "a failed run is not a clean scan",
    ),
    _s(
        "extraction-error-notification",
        RAN,
        _invocation(
            executionSuccessful=True,
            toolExecutionNotifications=[
                {
                    "descriptor": {"id": "py/diagnostics/extraction-error"},
                    "level": "error",
                    "message": {"text": "A parse error occurred while processing shop/api/search.py"},
                }
            ],
        ),
        "insufficient_evidence",
        SARIF_INV,
        "a file the tool could not read: its findings are unknown",
    ),
    _s(
        "warning-notification-passes",
        RAN,
        _invocation(
            executionSuccessful=True,
            toolExecutionNotifications=[{"level": "warning", "message": {"text": "Slow query"}}],
        ),
        "pass",
        SARIF_INV,
        "a warning notification does not make the run partial",
    ),
    _s(
        "semgrep-required-with-errors",
        RAN,
        write_file("semgrep.sarif", _semgrep(2)),
        "insufficient_evidence",
        SEMGREP,
        "Semgrep reports files it could not parse as error notifications of a successful run",
        params=_REQUIRE_SEMGREP,
    ),
    _s(
        "semgrep-required-clean",
        RAN,
        write_file("semgrep.sarif", _semgrep(0)),
        "pass",
        SEMGREP,
        "a complete Semgrep run",
        params=_REQUIRE_SEMGREP,
    ),
    _s(
        "semgrep-not-required-with-errors",
        RAN,
        write_file("semgrep.sarif", _semgrep(1)),
        "pass",
        SEMGREP,
        "debatable: a tool rule data does not require is not judged (its findings are not either)",
    ),
    _s(
        "old-spotbugs-bugs-found",
        RAN,
        write_file("spotbugs.sarif", _spotbugs("4.7.3", 1)),
        "pass",
        SPOTBUGS,
        "exit code 1 only means bugs were found: the run is complete",
        params=_REQUIRE_SPOTBUGS,
    ),
    _s(
        "old-spotbugs-warning-not-blocking",
        BLOCKING,
        write_file("spotbugs.sarif", _spotbugs("4.8.2", 1)),
        "pass",
        SPOTBUGS,
        "its warning is not a blocking level",
        params=_REQUIRE_SPOTBUGS,
    ),
    _s(
        "old-spotbugs-missing-classes",
        RAN,
        write_file("spotbugs.sarif", _spotbugs("4.7.3", 3)),
        "insufficient_evidence",
        SPOTBUGS,
        "exit code bit 2: classes missing from the analysis",
        params=_REQUIRE_SPOTBUGS,
    ),
    _s(
        "new-spotbugs-false-means-failed",
        RAN,
        write_file("spotbugs.sarif", _spotbugs("4.8.3", 1)),
        "insufficient_evidence",
        SPOTBUGS,
        "from 4.8.3 executionSuccessful false means the run failed",
        params=_REQUIRE_SPOTBUGS,
    ),
    # -- bound to the release commit -------------------------------------------------------------
    _s(
        "another-commit",
        RAN,
        _revision(OTHER),
        "insufficient_evidence",
        SARIF_VCP,
        "a SARIF of another commit",
    ),
    _s(
        "another-commit-abbreviated",
        RAN,
        _revision("0badc0de1"),
        "insufficient_evidence",
        SARIF_VCP,
        "an abbreviated id of another commit",
    ),
    _s(
        "second-run-of-another-commit",
        RAN,
        _second_run(revision=OTHER),
        "insufficient_evidence",
        SARIF_VCP,
        "one language analysed at an older commit",
    ),
    _s(
        "abbreviated-release-commit",
        RAN,
        _revision(COMMIT[:12]),
        "pass",
        SARIF_VCP,
        "an abbreviated id of the commit",
    ),
    _s(
        "upper-case-release-commit",
        RAN,
        _revision(COMMIT.upper()),
        "pass",
        SARIF_VCP,
        "hex ids compare case-insensitively",
    ),
    _s(
        "no-provenance-stated",
        RAN,
        edit_json(SARIF, lambda d: _run(d).__delitem__("versionControlProvenance")),
        "pass",
        SARIF_VCP,
        "debatable: the log states no commit; the issue binds SARIF to the commit where it says "
        "(codeql-action uploads name the commit outside the file)",
    ),
    # -- the required tool ran at all ------------------------------------------------------------
    _s(
        "zero-runs",
        RAN,
        edit_json(SARIF, lambda d: d.__setitem__("runs", [])),
        "fail",
        "OASIS SARIF 2.1.0 3.13.4 runs (empty array: no analysis)",
        "a log with no run is no scan",
    ),
    _s(
        "replaced-by-semgrep",
        RAN,
        both(remove_file(SARIF), write_file("semgrep.sarif", _semgrep(0))),
        "fail",
        SEMGREP,
        "results from another tool only",
    ),
    _s(
        "no-codeql-sarif",
        RAN,
        remove_file(SARIF),
        "fail",
        SARIF_LEVEL,
        "only the secret scanner's SARIF is left: the required tool did not run",
    ),
    _s(
        "no-sarif-at-all",
        RAN,
        both(remove_file(SARIF), remove_file("gitleaks.sarif")),
        "insufficient_evidence",
        SARIF_LEVEL,
        "no static analysis at all",
    ),
    _s(
        "no-codeql-sarif-blocking-rule",
        BLOCKING,
        remove_file(SARIF),
        "insufficient_evidence",
        SARIF_LEVEL,
        "the required tool's findings are unknown",
    ),
    _s(
        "failed-run-blocking-rule-still-judges",
        BLOCKING,
        both(
            _invocation(executionSuccessful=False),
            _add_result(_result("py/sql-injection", 1, "warning")),
        ),
        "fail",
        SARIF_INV,
        "the findings a partial run did report still block",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_code_analysis_verdict(tmp_path: Any, scenario: Scenario) -> None:
    """The code analysis rules say what the world says about the changed release (and no false GO)."""
    check(tmp_path, scenario)
