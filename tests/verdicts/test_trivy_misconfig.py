"""False-verdict scenarios, area "iac": Trivy's misconfiguration results judged (issue 10).

Before, a Trivy report's failed misconfiguration checks were counted and never judged: a release
whose image report failed HIGH checks on its Dockerfile or Helm chart was GO. Now
``iac.no_failed_misconfigurations`` fails a failed check of a severity in
``iac.blocking_misconfiguration_severities`` (prod: critical and high).

Shapes: Trivy's JSON report, ``Results[]`` with ``Class: config`` and ``Misconfigurations[]`` of
``DetectedMisconfiguration`` (aquasecurity/trivy pkg/types/misconfiguration.go: Type, ID, AVDID,
Title, Severity, Status PASS/FAIL/EXCEPTION, CauseMetadata {Resource, StartLine}); the summary
``MisconfSummary {Successes, Failures}``; real reports from aquasecurity/trivy's integration test
data (../shared/samples/scan-trivy-sections, SOURCES.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.verdicts.support import Change, Scenario, both, check, ids, shared_sample, trivy_results

AREA = "iac"
RULE = "iac.no_failed_misconfigurations"
TRIVY_TYPES = (
    "aquasecurity/trivy pkg/types/misconfiguration.go (DetectedMisconfiguration, Status FAIL/PASS/EXCEPTION)"
)
DOCKERFILE_GOLDEN = "aquasecurity/trivy integration/testdata/dockerfile.json.golden (DS-0002, HIGH, FAIL)"
HELM_GOLDEN = "aquasecurity/trivy integration/testdata/helm.json.golden (18 KSV checks, 3 HIGH, FAIL)"
CUSTOM_GOLDEN = (
    "aquasecurity/trivy integration/testdata/dockerfile-custom-policies.json.golden (custom checks)"
)
SAMPLES = "scan-trivy-sections"


def _check(
    check_id: str, severity: str, status: str | None = "FAIL", *, title: str = "", **cause: Any
) -> dict[str, Any]:
    """One ``Misconfigurations[]`` entry as Trivy writes it."""
    entry: dict[str, Any] = {
        "Type": "Dockerfile Security Check",
        "ID": check_id,
        "AVDID": f"AVD-{check_id}",
        "Title": title or f"check {check_id}",
        "Severity": severity,
        "PrimaryURL": f"https://avd.aquasec.com/misconfig/{check_id.lower()}",
        "CauseMetadata": {"Provider": "Dockerfile", "Service": "general", **cause},
    }
    if status is not None:
        entry["Status"] = status
    return entry


def _config(
    target: str, *checks: dict[str, Any], kind: str = "dockerfile", passed: int = 20
) -> dict[str, Any]:
    """One ``Results[]`` entry of class ``config`` (trivy image/fs with the misconfig scanner on)."""
    failures = sum(1 for c in checks if c.get("Status") not in ("PASS", "EXCEPTION"))
    return {
        "Target": target,
        "Class": "config",
        "Type": kind,
        "MisconfSummary": {"Successes": passed, "Failures": failures},
        "Misconfigurations": list(checks),
    }


def _image(*results: dict[str, Any]) -> Change:
    """The release's image report (``trivy image --scanners vuln,misconfig``) with ``results`` added."""
    return trivy_results(*results)


ROOT_USER = _check("DS-0002", "HIGH", title="Image user should not be 'root'")

SCENARIOS: list[Scenario] = [
    Scenario(
        "misconfig-dockerfile-root-user-high",
        AREA,
        RULE,
        _image(_config("Dockerfile", ROOT_USER)),
        "fail",
        DOCKERFILE_GOLDEN,
        "before: counted in data.other and never judged, a prod GO",
    ),
    Scenario(
        "misconfig-critical-kubernetes",
        AREA,
        RULE,
        _image(
            _config(
                "deploy/deployment.yaml",
                _check(
                    "KSV-0017",
                    "CRITICAL",
                    title="Privileged container",
                    Resource="Deployment/shop",
                    StartLine=21,
                ),
                kind="kubernetes",
            )
        ),
        "fail",
        TRIVY_TYPES,
    ),
    Scenario(
        "misconfig-high-lower-case-severity",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0002", "high"))),
        "fail",
        TRIVY_TYPES,
        "a severity word in another case is the same severity",
    ),
    Scenario(
        "misconfig-no-status-counts-as-failed",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0002", "HIGH", status=None))),
        "fail",
        TRIVY_TYPES,
        "an entry that does not say it passed is not a pass",
    ),
    Scenario(
        "misconfig-high-among-passes",
        AREA,
        RULE,
        _image(
            _config(
                "Dockerfile",
                _check("DS-0001", "MEDIUM", "PASS"),
                _check("DS-0005", "LOW", "PASS"),
                ROOT_USER,
            )
        ),
        "fail",
        TRIVY_TYPES + " (--include-non-failures lists the passes too)",
    ),
    Scenario(
        "misconfig-only-passes",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0001", "HIGH", "PASS"), _check("DS-0002", "HIGH", "PASS"))),
        "pass",
        TRIVY_TYPES + " (--include-non-failures)",
        decision="GO",
    ),
    Scenario(
        "misconfig-summary-without-failures",
        AREA,
        RULE,
        _image(
            {
                "Target": "Dockerfile",
                "Class": "config",
                "Type": "dockerfile",
                "MisconfSummary": {"Successes": 27, "Failures": 0},
            }
        ),
        "pass",
        "aquasecurity/trivy integration/testdata/terraform-exclude-misconfs-remote-module.json.golden (clean summary)",
        decision="GO",
    ),
    Scenario(
        "misconfig-exception-is-the-organisations",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0002", "HIGH", "EXCEPTION"))),
        "pass",
        TRIVY_TYPES + " (EXCEPTION: a check the repository's own Rego exception turned off)",
        "debatable: an exception is written in the scanned repository, reviewed with its code; a check "
        "left out with --skip-policy-update or a narrower --severity is as invisible",
        decision="GO",
    ),
    Scenario(
        "misconfig-medium-warns-without-blocking",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0026", "MEDIUM", title="No HEALTHCHECK defined"))),
        "warn",
        TRIVY_TYPES,
        "medium and low are shown, not blocking, in prod",
        decision="GO",
    ),
    Scenario(
        "misconfig-low-warns-without-blocking",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("DS-0013", "LOW"))),
        "warn",
        TRIVY_TYPES,
        decision="GO",
    ),
    Scenario(
        "misconfig-unknown-severity-prod",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("FOO-0001", "UNKNOWN"))),
        "insufficient_evidence",
        CUSTOM_GOLDEN + " (a custom check's severity is the author's; UNKNOWN when unset)",
        "unknown is never a pass in prod",
    ),
    Scenario(
        "misconfig-unknown-word-severity-prod",
        AREA,
        RULE,
        _image(_config("Dockerfile", _check("FOO-0002", "SEVERE"))),
        "insufficient_evidence",
        CUSTOM_GOLDEN,
        "a severity word Trivy does not write is unknown",
    ),
    Scenario(
        "misconfig-high-in-second-of-two-reports",
        AREA,
        RULE,
        both(
            _image(_config("Dockerfile", _check("DS-0026", "MEDIUM"))),
            shared_sample(SAMPLES, "trivy-helm.json"),
        ),
        "fail",
        HELM_GOLDEN + "; a trivy config report of the chart beside the image report",
    ),
    Scenario(
        "misconfig-real-dockerfile-report",
        AREA,
        RULE,
        shared_sample(SAMPLES, "trivy-dockerfile.json"),
        "fail",
        DOCKERFILE_GOLDEN,
        "the real report, added as a second file beside the image report",
    ),
    Scenario(
        "misconfig-real-custom-checks-low",
        AREA,
        RULE,
        shared_sample(SAMPLES, "trivy-dockerfile-custom-policies.json"),
        "warn",
        CUSTOM_GOLDEN + " (AVD-FOO-0001, AVD-BAR-0001, both LOW)",
        "the rule warns; the decision is not GO because a misconfig-only report is no vulnerability "
        "scan (vulnerabilities.fixable_within_window is insufficient evidence)",
    ),
    Scenario(
        "misconfig-list-cut-at-a-thousand",
        AREA,
        RULE,
        _image(
            _config(
                "charts/", *[_check(f"KSV-{n:04d}", "LOW", StartLine=n) for n in range(1, 1002)], kind="helm"
            )
        ),
        "insufficient_evidence",
        TRIVY_TYPES + "; the collector keeps the first 1,000 failed checks and counts all",
        "the severities of the checks past the list are unknown",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_trivy_misconfig_verdict(tmp_path: Path, scenario: Scenario) -> None:
    """The gate says what the scenario requires, and never GO on a failed blocking check."""
    result = check(tmp_path, scenario)
    if scenario.outcome == "fail":
        rule = next(r for r in result.results["rules"] if r["id"] == RULE)
        assert all("failed misconfiguration check" in v["msg"] for v in rule["violations"])
