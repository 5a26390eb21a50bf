"""False-verdict scenarios, area "secrets" (issue 10).

Each scenario is the demo GO release with its secret evidence changed in one realistic way. The GO
release carries Gitleaks 8's JSON report (``gitleaks detect --report-format json``: a bare array,
``[]`` when clean; v8 fields from gitleaks/gitleaks report/finding.go, v7 fields ``rule``,
``offender``, ``commit`` ...) and the same scan as SARIF (``--report-format sarif``, as in
gitleaks testdata/expected/report/sarif_simple.sarif) whose run the release pipeline gave
``versionControlProvenance`` (OASIS SARIF 2.1.0 3.14.28: the commit scanned). Trivy's secret
scanner (on by default for ``trivy image``) writes ``Results[].Secrets[]`` with ``RuleID``,
``Category``, ``Severity``, ``StartLine``, ``Match`` (masked) and ``Layer`` (aquasecurity/trivy
pkg/fanal/types/secret.go; integration/testdata/secrets.json.golden).

Verdict chosen (docs/verdicts/secrets.md): in prod a secret scan must state the commit it covered;
a clean Gitleaks JSON report (``[]`` or ``null``) names no commit, range or tool version, so it
proves nothing by itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.attacks.support import COMMIT
from tests.verdicts.support import Change, Scenario, both, check, edit_json, ids, remove_file, write_file

AREA = "secrets"
NO_SECRETS = "secrets.no_secrets"
COVERS = "secrets.scan_covers_commit"
JSON = "gitleaks.json"
SARIF = "gitleaks.sarif"
TRIVY = "trivy-image.json"
GL8 = "gitleaks/gitleaks report/finding.go (v8 JSON: RuleID, File, StartLine, Commit, Fingerprint ...)"
GL7 = "gitleaks v7 JSON report (rule, offender, commit, file, lineNumber), as in DefectDojo's gitleaks 7.5.0 sample"
GL_SARIF = (
    "gitleaks testdata/expected/report/sarif_simple.sarif; OASIS SARIF 2.1.0 3.14.28 versionControlProvenance"
)
TRIVY_SECRET = "aquasecurity/trivy pkg/fanal/types/secret.go, integration/testdata/secrets.json.golden"
OLD = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
FAKE = "AKIA" + "Q3EGRIJ7Y5EXAMPLE"  # the AWS documentation's example key shape, not a real key


def _v8(commit: str = COMMIT, **extra: Any) -> dict[str, Any]:
    finding = {
        "RuleID": "aws-access-token",
        "Description": "Identified a pattern that may indicate AWS credentials.",
        "StartLine": 9,
        "EndLine": 9,
        "StartColumn": 18,
        "EndColumn": 37,
        "Match": f"AWS_ACCESS_KEY_ID={FAKE}",
        "Secret": FAKE,
        "File": "deploy/.env.production",
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": 3.7,
        "Author": "Dana Developer",
        "Email": "dana@acme.example",
        "Date": "2026-11-19T16:40:12Z",
        "Message": "configure uploads",
        "Tags": [],
        "Fingerprint": f"{commit}:deploy/.env.production:aws-access-token:9",
    }
    finding.update(extra)
    return finding


def _v7() -> dict[str, Any]:
    return {
        "line": f"AWS_ACCESS_KEY_ID={FAKE}",
        "lineNumber": 9,
        "offender": FAKE,
        "commit": COMMIT,
        "repo": "shop",
        "rule": "AWS Access Key",
        "commitMessage": "configure uploads",
        "author": "Dana Developer",
        "email": "dana@acme.example",
        "file": "deploy/.env.production",
        "date": "2026-11-19T16:40:12Z",
        "tags": "key, AWS",
    }


def _sarif_run(doc: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = doc["runs"][0]
    return run


def _sarif_revision(revision: str) -> Change:
    return edit_json(
        SARIF, lambda d: _sarif_run(d)["versionControlProvenance"][0].__setitem__("revisionId", revision)
    )


def _sarif_leak(doc: dict[str, Any]) -> None:
    _sarif_run(doc)["results"].append(
        {
            "message": {"text": "aws-access-token has detected secret for file deploy/.env.production."},
            "ruleId": "aws-access-token",
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "deploy/.env.production"},
                        "region": {"startLine": 9, "snippet": {"text": "REDACTED"}},
                    }
                }
            ],
            "partialFingerprints": {"commitSha": COMMIT, "author": "Dana Developer"},
        }
    )


def _trivy_secret(target: str, rule: str = "aws-access-key-id", line: int = 3, layer: bool = False) -> Change:
    """Add a Trivy secret result (class secret) to the image report."""
    secret: dict[str, Any] = {
        "RuleID": rule,
        "Category": "AWS",
        "Severity": "CRITICAL",
        "Title": "AWS Access Key ID",
        "StartLine": line,
        "EndLine": line,
        "Code": {
            "Lines": [{"Number": line, "Content": "AWS_ACCESS_KEY_ID=********************", "IsCause": True}]
        },
        "Match": "AWS_ACCESS_KEY_ID=********************",
    }
    if layer:
        secret["Layer"] = {
            "Digest": "sha256:" + "5" * 64,
            "DiffID": "sha256:" + "6" * 64,
            "CreatedBy": "COPY . /app # buildkit",
        }

    def edit(doc: dict[str, Any]) -> None:
        doc["Results"].append({"Target": target, "Class": "secret", "Secrets": [secret]})

    return edit_json(TRIVY, edit)


GGSHIELD = (
    "GitGuardian/ggshield ggshield/verticals/secret/output/secret_sarif_output_handler.py (--format sarif)"
)


def _ggshield(leak: bool) -> str:
    """A ggshield ``secret scan ... --format sarif`` log, to which the pipeline added the commit."""
    results: list[dict[str, Any]] = []
    if leak:
        results.append(
            {
                "ruleId": "AWS Keys",
                "level": "error",
                "message": {"text": "AWS Keys detected in deploy/.env.production"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "deploy/.env.production"},
                            "region": {"startLine": 9, "snippet": {"text": "***"}},
                        }
                    }
                ],
            }
        )
    return json.dumps(
        {
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "ggshield", "version": "1.33.0", "rules": []}},
                    "versionControlProvenance": [
                        {"repositoryUri": "https://github.com/acme/shop", "revisionId": COMMIT}
                    ],
                    "results": results,
                }
            ],
        }
    )


def _second_gitleaks_run(revision: str) -> Change:
    def edit(doc: dict[str, Any]) -> None:
        run = json.loads(json.dumps(_sarif_run(doc)))
        run["versionControlProvenance"][0]["revisionId"] = revision
        doc["runs"].append(run)

    return edit_json(SARIF, edit)


def _params(**secrets: Any) -> dict[str, Any]:
    return {"defaults": {"secrets": secrets}}


def _s(
    sid: str, rule: str, change: Change, outcome: str | tuple[str, ...], cite: str, why: str, **kw: Any
) -> Scenario:
    if outcome == "pass" or (isinstance(outcome, tuple) and "pass" in outcome):
        kw.setdefault("decision", "GO")
    return Scenario(sid, AREA, rule, change, outcome, cite, why, **kw)


SCENARIOS: list[Scenario] = [
    # -- an empty report proves nothing by itself -------------------------------------------------
    _s(
        "empty-json-only",
        COVERS,
        remove_file(SARIF),
        "insufficient_evidence",
        GL8,
        "the issue's case: a clean [] names no commit, range or version",
    ),
    _s(
        "null-json-only",
        COVERS,
        both(remove_file(SARIF), write_file(JSON, "null\n")),
        "insufficient_evidence",
        GL7,
        "gitleaks 7 wrote null for a clean scan (and so did legacy Trivy): no proof either",
    ),
    _s(
        "empty-json-only-no-secrets-rule",
        NO_SECRETS,
        remove_file(SARIF),
        ("pass", "insufficient_evidence"),
        GL8,
        "debatable: the report is clean; scan_covers_commit says its coverage is unproven",
        decision="NO-GO",
    ),
    _s(
        "no-secret-scan",
        NO_SECRETS,
        both(remove_file(SARIF), remove_file(JSON)),
        "insufficient_evidence",
        GL8,
        "no secret scan at all",
    ),
    _s(
        "no-secret-scan-coverage-rule",
        COVERS,
        both(remove_file(SARIF), remove_file(JSON)),
        "insufficient_evidence",
        GL8,
        "no secret scan at all",
    ),
    _s(
        "sarif-of-another-commit",
        COVERS,
        _sarif_revision(OLD),
        "fail",
        GL_SARIF,
        "the scan was of an older commit",
    ),
    _s(
        "sarif-without-provenance",
        COVERS,
        edit_json(SARIF, lambda d: _sarif_run(d).__delitem__("versionControlProvenance")),
        "insufficient_evidence",
        GL_SARIF,
        "gitleaks' own SARIF names no commit",
    ),
    _s(
        "sarif-run-failed",
        COVERS,
        edit_json(
            SARIF, lambda d: _sarif_run(d).__setitem__("invocations", [{"executionSuccessful": False}])
        ),
        "insufficient_evidence",
        "OASIS SARIF 2.1.0 3.20.14 executionSuccessful",
        "a failed scan covered nothing for certain",
    ),
    _s(
        "sarif-run-failed-no-secrets-rule",
        NO_SECRETS,
        edit_json(
            SARIF, lambda d: _sarif_run(d).__setitem__("invocations", [{"executionSuccessful": False}])
        ),
        "insufficient_evidence",
        "OASIS SARIF 2.1.0 3.20.14 executionSuccessful",
        "secrets in what it did not scan are unknown",
    ),
    _s(
        "sarif-run-error-notification",
        COVERS,
        edit_json(
            SARIF,
            lambda d: _sarif_run(d).__setitem__(
                "invocations",
                [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [{"level": "error", "message": {"text": "x"}}],
                    }
                ],
            ),
        ),
        "insufficient_evidence",
        "OASIS SARIF 2.1.0 3.20.21 toolExecutionNotifications",
        "an error during the scan",
    ),
    _s(
        "sarif-revision-not-a-commit",
        COVERS,
        _sarif_revision("main"),
        "insufficient_evidence",
        GL_SARIF,
        "a branch name is not a commit id",
    ),
    # -- findings ---------------------------------------------------------------------------------
    _s("v8-finding", NO_SECRETS, write_file(JSON, json.dumps([_v8()])), "fail", GL8, "a leaked key"),
    _s(
        "v8-finding-redacted",
        NO_SECRETS,
        write_file(JSON, json.dumps([_v8(Secret="REDACTED", Match="REDACTED")])),
        "fail",
        GL8,
        "gitleaks --redact still reports the finding",
    ),
    _s(
        "v8-finding-in-old-history",
        NO_SECRETS,
        write_file(JSON, json.dumps([_v8(commit=OLD)])),
        "fail",
        GL8,
        "a key in an older commit is in the history the release ships",
    ),
    _s("v7-finding", NO_SECRETS, write_file(JSON, json.dumps([_v7()])), "fail", GL7, "gitleaks 7 shape"),
    _s("sarif-finding", NO_SECRETS, edit_json(SARIF, _sarif_leak), "fail", GL_SARIF, "a leak in the SARIF"),
    _s(
        "sarif-finding-only",
        NO_SECRETS,
        both(remove_file(JSON), edit_json(SARIF, _sarif_leak)),
        "fail",
        GL_SARIF,
        "the SARIF is the only secret scan",
    ),
    _s(
        "trivy-secret-in-image",
        NO_SECRETS,
        _trivy_secret("app/.env"),
        "fail",
        TRIVY_SECRET,
        "Trivy found a key in the image",
    ),
    _s(
        "trivy-secret-in-layer",
        NO_SECRETS,
        _trivy_secret("/root/.aws/credentials", layer=True),
        "fail",
        TRIVY_SECRET,
        "a key left in an image layer",
    ),
    _s(
        "trivy-secret-github-pat",
        NO_SECRETS,
        _trivy_secret("app/deploy.sh", rule="github-pat", line=5),
        "fail",
        TRIVY_SECRET,
        "another rule",
    ),
    _s(
        "trivy-secret-other-fingerprint-allowed",
        NO_SECRETS,
        _trivy_secret("app/.env"),
        "fail",
        TRIVY_SECRET,
        "an allow-listed fingerprint of another finding does not hide this one",
        params=_params(allowed_fingerprints=["trivy:app/other.env:aws-access-key-id:3"]),
    ),
    _s(
        "v8-finding-names-the-commit",
        COVERS,
        both(remove_file(SARIF), write_file(JSON, json.dumps([_v8()]))),
        "pass",
        GL8,
        "a finding names the scanned commit (the release is NO-GO for the finding itself)",
        decision="NO-GO",
    ),
    _s(
        "one-allowed-one-not",
        NO_SECRETS,
        write_file(
            JSON,
            json.dumps(
                [_v8(), _v8(StartLine=20, Fingerprint=f"{COMMIT}:deploy/.env.production:aws-access-token:20")]
            ),
        ),
        "fail",
        GL8,
        "triaging one finding does not hide the other",
        params=_params(allowed_fingerprints=[f"{COMMIT}:deploy/.env.production:aws-access-token:9"]),
    ),
    _s(
        "ggshield-sarif-finding",
        NO_SECRETS,
        write_file("ggshield.sarif", _ggshield(True)),
        "fail",
        GGSHIELD,
        "another secret scanner's SARIF",
    ),
    _s(
        "trivy-fs-secret",
        NO_SECRETS,
        write_file(
            "trivy-fs.json",
            json.dumps(
                {
                    "SchemaVersion": 2,
                    "Trivy": {"Version": "0.70.0"},
                    "CreatedAt": "2026-11-20T09:10:02Z",
                    "ArtifactName": ".",
                    "ArtifactType": "repository",
                    "Metadata": {"RepoURL": "https://github.com/acme/shop", "Commit": COMMIT},
                    "Results": [
                        {
                            "Target": "deploy/.env.production",
                            "Class": "secret",
                            "Secrets": [
                                {
                                    "RuleID": "aws-access-key-id",
                                    "Category": "AWS",
                                    "Severity": "CRITICAL",
                                    "Title": "AWS Access Key ID",
                                    "StartLine": 9,
                                    "EndLine": 9,
                                    "Match": "AWS_ACCESS_KEY_ID=********************",
                                }
                            ],
                        }
                    ],
                }
            ),
        ),
        "fail",
        TRIVY_SECRET + "; trivy repo JSON Metadata RepoURL/Commit (0.70)",
        "trivy repo/fs on the source finds a key",
    ),
    _s(
        "codeql-is-not-a-secret-scan",
        COVERS,
        both(remove_file(SARIF), remove_file(JSON)),
        "insufficient_evidence",
        GL_SARIF,
        "the CodeQL SARIF names the commit but is no secret scan",
    ),
    # -- correct releases: no false NO-GO ---------------------------------------------------------
    _s(
        "ggshield-sarif-covers",
        COVERS,
        both(remove_file(SARIF), write_file("ggshield.sarif", _ggshield(False))),
        "pass",
        GGSHIELD,
        "another secret scanner stating the commit",
    ),
    _s(
        "suppressed-sarif-result",
        NO_SECRETS,
        edit_json(
            SARIF,
            lambda d: (
                (
                    _sarif_leak(d),
                    _sarif_run(d)["results"][-1].__setitem__(
                        "suppressions",
                        [{"kind": "external", "status": "accepted", "justification": "test fixture"}],
                    ),
                )
                and None
            ),
        ),
        "pass",
        "OASIS SARIF 2.1.0 3.27.23 suppressions",
        "a finding suppressed in the tool with a recorded reason",
    ),
    _s(
        "capitalised-tool-name",
        COVERS,
        edit_json(SARIF, lambda d: _sarif_run(d)["tool"]["driver"].__setitem__("name", "Gitleaks")),
        "pass",
        GL_SARIF,
        "tool names compare case-insensitively",
    ),
    _s(
        "two-runs-one-covering",
        COVERS,
        _second_gitleaks_run(OLD),
        "pass",
        GL_SARIF,
        "a log with the release commit's run and an older one covers the release",
    ),
    _s(
        "allowed-fingerprint",
        NO_SECRETS,
        write_file(JSON, json.dumps([_v8()])),
        ("warn", "pass"),
        GL8,
        "a triaged false positive (secrets.allowed_fingerprints) warns",
        params=_params(allowed_fingerprints=[f"{COMMIT}:deploy/.env.production:aws-access-token:9"]),
    ),
    _s(
        "trivy-allowed-fingerprint",
        NO_SECRETS,
        _trivy_secret("app/tests/fixtures/fake.env"),
        ("warn", "pass"),
        TRIVY_SECRET,
        "a test fixture triaged by its fingerprint",
        params=_params(allowed_fingerprints=["trivy:app/tests/fixtures/fake.env:aws-access-key-id:3"]),
    ),
    _s(
        "sarif-only",
        COVERS,
        remove_file(JSON),
        "pass",
        GL_SARIF,
        "the SARIF alone is a secret scan of the commit",
    ),
    _s("sarif-only-no-secrets", NO_SECRETS, remove_file(JSON), "pass", GL_SARIF, "clean"),
    _s(
        "sarif-abbreviated-commit",
        COVERS,
        _sarif_revision(COMMIT[:12]),
        "pass",
        GL_SARIF,
        "an abbreviated id",
    ),
    _s(
        "sarif-upper-case-commit",
        COVERS,
        _sarif_revision(COMMIT.upper()),
        "pass",
        GL_SARIF,
        "hex ids compare case-insensitively",
    ),
    _s(
        "trivy-misconfig-is-not-a-secret",
        NO_SECRETS,
        edit_json(
            TRIVY,
            lambda d: d["Results"].append(
                {
                    "Target": "Dockerfile",
                    "Class": "config",
                    "Type": "dockerfile",
                    "Misconfigurations": [
                        {
                            "ID": "DS002",
                            "AVDID": "AVD-DS-0002",
                            "Title": "Image user should not be 'root'",
                            "Severity": "HIGH",
                            "Status": "FAIL",
                        }
                    ],
                }
            ),
        ),
        "pass",
        "aquasecurity/trivy integration/testdata/dockerfile.json.golden",
        "a misconfiguration is the IaC rules' business: no secret, but iac.no_failed_misconfigurations blocks",
        decision="NO-GO",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_secret_verdict(tmp_path: Any, scenario: Scenario) -> None:
    """The secret rules say what the world says about the changed release (and no false GO)."""
    check(tmp_path, scenario)
