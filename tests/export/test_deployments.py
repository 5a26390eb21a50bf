"""Deployment records: read from the real shapes of GitHub and Argo CD (the shared corpus), and
reconciled against a quarter of real gate runs: each deployment not preceded by a GO for its
digest (or commit) and environment is an exception listed on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import Error
from affidavit.export.deployments import read_deployments
from tests.conftest import CORPUS
from tests.export.test_export import SCHEMA
from tests.store.conftest import DEMO

if TYPE_CHECKING:
    from tests.export.conftest import Quarter


@pytest.mark.parametrize(
    ("name", "count", "environment", "commit", "state"),
    [
        # GitHub's documented GET /repos/{o}/{r}/deployments example: environment "production".
        ("deployments-github/github-openapi-deployment-items.json", 1, "prod", "a84d88e7", None),
        # A real deployment_status webhook: the deployment and its 'success' status together.
        (
            "deployments-github/octokit-webhooks-deployment_status-payload.json",
            1,
            "prod",
            "f95f852b",
            "success",
        ),
        # A real list of two deployments of one sha, to 'test' and 'production'.
        ("deployments-github/pygithub-list-deployments-2020.json", 2, "test", "743f5a58", None),
        # A real Argo CD Application: 10 status.history entries (revision, deployedAt).
        ("deployments-argocd/argo-cd-diff-cache.yaml", 10, "prod", None, None),
    ],
)
def test_deployment_records_are_read_in_their_tools_real_shapes(
    name: str, count: int, environment: str, commit: str | None, state: str | None
) -> None:
    """GitHub REST deployments and webhooks, Argo CD Application history (corpus SOURCES.md)."""
    kind, found = read_deployments(CORPUS / name, "prod")
    assert len(found) == count and kind == name.split("-")[1].split("/")[0]
    assert found[0].environment == environment and found[0].time.endswith("Z")
    if commit:
        assert (found[0].commit or "").startswith(commit)
    assert found[0].state == state
    assert all(d.commit for d in found)  # every record names what it deployed


@pytest.mark.parametrize(
    "name",
    [
        "deployments-github/github-openapi-deployment-status-items.json",  # statuses, not deployments
        "deployments-github/pygithub-list-deployment-statuses-2020.json",
        "deployments-github/octokit-rb-create-deployment-status-2018.json",
        "deployments-github/devlake-github_graphql-cicd_deployments.csv",  # another CSV than the documented one
    ],
)
def test_records_that_are_not_deployments_are_refused_by_name(name: str) -> None:
    """Hostile/sloppy: a list of statuses passed as deployments would reconcile nothing and look
    clean; it is refused with the file named and nothing of its content quoted."""
    with pytest.raises(Error) as caught:
        read_deployments(CORPUS / name, "prod")
    assert str(CORPUS / name) in caught.value.diagnostics()
    assert "octocat" not in caught.value.diagnostics()


def test_an_argo_cd_history_needs_an_environment() -> None:
    """An Application names no environment of affidavit's: refused without --environment."""
    with pytest.raises(Error, match="names no environment"):
        read_deployments(CORPUS / "deployments-argocd/gitops-backend-application.yaml", None)


def test_unreconciled_deployments_are_listed_as_exceptions(quarter: Quarter, tmp_path: Path) -> None:
    """A CSV and a GitHub deployments list against the real quarter: a deployment after the first
    GO is reconciled; one before any GO, one of an image never gated, and one (GitHub, by commit)
    of a commit never gated are exceptions; a deployment outside the period is not counted."""
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    commit = (DEMO / "COMMIT").read_text().strip()
    csv = tmp_path / "deployments.csv"
    csv.write_text(
        "digest,environment,time\n"
        f"{digest},production,2026-11-20T13:00:00Z\n"
        f"{digest},prod,2026-11-20T11:00:00Z\n"
        f"sha256:{'0' * 64},prod,2026-11-21T10:00:00Z\n"
        f"{digest},prod,2026-09-30T23:59:59Z\n"
    )
    github = tmp_path / "github.json"
    github.write_text(
        json.dumps(
            [
                {
                    "id": 7,
                    "sha": commit,
                    "environment": "production",
                    "created_at": "2026-11-21T10:00:00Z",
                    "payload": {},
                    "statuses": [{"state": "success", "created_at": "2026-11-21T10:01:00Z"}],
                },
                {
                    "id": 8,
                    "sha": "f" * 40,
                    "environment": "production",
                    "created_at": "2026-11-21T11:00:00Z",
                    "payload": {},
                },
                {
                    "id": 9,
                    "sha": commit,
                    "environment": "production",
                    "created_at": "2026-11-22T10:00:00Z",
                    "statuses": [{"state": "failure", "created_at": "2026-11-22T10:05:00Z"}],
                },
                {
                    "id": 10,
                    "sha": commit,
                    "environment": "production",
                    "created_at": "2026-11-22T12:00:00Z",
                    "statuses": [
                        {"state": "in_progress", "created_at": "2026-11-22T12:00:30Z"},
                        {"state": "success", "created_at": "2026-11-22T12:01:00Z"},
                    ],
                },
            ]
        )
    )
    out = tmp_path / "audit"
    args = [
        "export",
        "--framework",
        "soc2",
        "--period",
        "2026-Q4",
        "--environment",
        "prod",
        "--store",
        quarter.url,
    ]
    args += ["--sample-seed", "1", "--out", str(out), "--deployments", str(csv), "--deployments", str(github)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "period.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    found = doc["deployments"]
    assert found["reconciled"] == ["csv", "github"] and found["not_given"] == ["argocd"]
    assert found["checked"] == 7 and found["reconciled_count"] == 4
    reasons = {(e["source"], e["ref"]): e["reason"] for e in found["exceptions"]}
    assert set(reasons) == {("csv", "line 3"), ("csv", "line 4"), ("github", "8")}
    assert "after the deployment" in reasons[("csv", "line 3")]
    assert "no run" in reasons[("github", "8")]
    report = (out / "AUDIT_PERIOD_EVIDENCE.md").read_text()
    assert report.count("- exception:") == 3
    # DORA, from the GitHub statuses: 1 of 3 finished deployments failed, restored 2 hours later;
    # lead time needs commit times nobody gave: said, not guessed.
    dora = doc["dora"]
    assert dora["deployment_frequency"]["value"] == round(7 / 92, 4)
    assert dora["change_failure_rate"]["value"] == round(1 / 3, 4)
    assert dora["time_to_restore"]["value"] == 2.0
    assert dora["lead_time_for_changes"]["value"] is None and dora["lead_time_for_changes"]["why_not"]
