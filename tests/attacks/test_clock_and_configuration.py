"""Attacks on what is not evidence: the clock and the rule data (issue 9, findings 3 and 4).

Each test runs the NO-GO demo release the way an insider would try to talk it into GO.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.attacks.support import COMMIT, DEMO, SUBJECT, gate, release

RELAXED = """\
environments:
  prod:
    vulnerabilities: {remediation_days: {critical: 400, high: 400}}
    source_control: {min_approvals: 1}
"""


def _live(tmp_path: Path, evidence: Path, *extra: str, env: dict[str, str] | None = None) -> object:
    return gate(tmp_path, evidence, *extra, now=None, env=env)


def test_a_backdated_now_without_replay_is_refused(tmp_path: Path) -> None:
    # Finding 3: --now in the past made a critical CVE's remediation window pass.
    evidence = release(tmp_path)
    result = _live(tmp_path, evidence, "--now", "2026-10-03T00:00:00Z")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--replay" in result.stderr  # type: ignore[attr-defined]
    assert not result.bundles  # type: ignore[attr-defined]


def test_a_replay_says_so_in_the_record(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path))  # support adds --replay to the demo's --now
    assert result.exit_code == 1
    clock = result.results["clock"]
    assert clock["replay"] is True and clock["evaluated_at"] == "2026-11-20T12:00:00Z"
    assert clock["wall_clock"] != clock["evaluated_at"]


def test_source_date_epoch_never_moves_the_evaluation_time(tmp_path: Path) -> None:
    # Finding 3: reproducible-build pipelines set SOURCE_DATE_EPOCH to the commit time; it used to
    # become the evaluation time silently and revive expired waivers.
    past = int(datetime(2026, 10, 3, tzinfo=UTC).timestamp())
    result = _live(tmp_path, release(tmp_path), env={"SOURCE_DATE_EPOCH": str(past)})
    assert result.exit_code == 1  # type: ignore[attr-defined]
    clock = result.results["clock"]  # type: ignore[attr-defined]
    evaluated = datetime.fromisoformat(clock["evaluated_at"].replace("Z", "+00:00"))
    assert abs(evaluated - datetime.now(tz=UTC)) < timedelta(minutes=5)
    assert clock["replay"] is False
    assert clock["wall_clock"] == "2026-10-03T00:00:00Z"  # recorded (for reproducible bundles) only


def test_now_near_the_clock_is_live(tmp_path: Path) -> None:
    near = (datetime.now(tz=UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = _live(tmp_path, release(tmp_path), "--now", near)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.results["clock"]["replay"] is False  # type: ignore[attr-defined]


def test_relaxed_rule_data_is_recorded_and_changes_the_run_id(tmp_path: Path) -> None:
    # Finding 4: --params that relaxed thresholds left no trace, kept the run id, and so
    # overwrote the strict run's bundle.
    evidence = release(tmp_path)
    strict = gate(tmp_path, evidence, out="strict")
    relaxed_file = tmp_path / "relaxed.yaml"
    relaxed_file.write_text(RELAXED)
    relaxed = gate(tmp_path, evidence, "--params", str(relaxed_file), out="relaxed")
    assert strict.exit_code == 1
    assert relaxed.results["run_id"] != strict.results["run_id"]
    inputs = relaxed.results["configuration"]["inputs"]
    assert {
        "role": "params",
        "path": str(relaxed_file),
        "sha256": _sha256(relaxed_file),
        "value": None,
    } in inputs
    changes = {
        c["key"]: (c["default"], c["value"]) for c in relaxed.results["configuration"]["rule_data_changes"]
    }
    assert changes["vulnerabilities.remediation_days.critical"][1] == 400
    assert changes["source_control.min_approvals"][1] == 1
    strict_keys = {c["key"] for c in strict.results["configuration"]["rule_data_changes"]}
    assert "vulnerabilities.remediation_days.critical" not in strict_keys
    assert "relaxed.yaml" not in json.dumps(strict.results["configuration"])


def test_every_file_that_can_change_the_verdict_is_recorded_with_its_hash(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("[]\n")
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    roles = {(i["role"], i["path"]) for i in result.results["configuration"]["inputs"]}
    assert ("waivers", str(waivers)) in roles
    assert ("key", str(DEMO / "cosign.pub")) in roles
    assert all(
        len(i["sha256"]) == 64 for i in result.results["configuration"]["inputs"] if i["path"] is not None
    )


@pytest.mark.parametrize("name", ["production2", "qa", "prod-eu"])
def test_params_cannot_invent_an_environment(tmp_path: Path, name: str) -> None:
    # Finding 4: a params file defining `production` made the prod-only change-approval rule
    # not applicable when the gate ran with --environment production.
    invented = tmp_path / "env.yaml"
    invented.write_text(f"environments:\n  {name}:\n    change_management: {{}}\n")
    result = gate(tmp_path, release(tmp_path), "--params", str(invented))
    assert result.exit_code == 2
    assert "env.yaml" in result.stderr and name in result.stderr


def test_an_alias_of_prod_is_judged_as_prod(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path), "--environment", "production")
    assert result.exit_code == 1
    assert result.results["environment"] == "prod"
    assert result.outcome("change_management.approval_recorded") == "fail"


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_commit_and_subject_are_the_demo_ones() -> None:
    # A guard for the suite itself: the attacks run against the real NO-GO release.
    assert SUBJECT.endswith((DEMO / "SUBJECT_DIGEST").read_text().strip()) and len(COMMIT) == 40
    assert json.loads((DEMO / "no-go" / "change-record.json").read_text())


def test_evidence_dated_after_the_evaluation_time_is_insufficient(tmp_path: Path) -> None:
    # Finding 3: the only trace of a backdated clock used to be a warning that the SBOM is dated
    # after the run. Replaying the GO release at 09:00, before its SBOM (09:11:42), scan and plan
    # existed, must not be GO: evidence from the future cannot be judged at that time.
    evidence = release(tmp_path, "go")
    result = gate(tmp_path, evidence, now="2026-11-20T09:00:00Z")
    assert result.exit_code == 1
    assert result.outcome("supply_chain.sbom_present") == "insufficient_evidence"
    rule = next(r for r in result.results["rules"] if r["id"] == "supply_chain.sbom_present")
    assert any("dated after the evaluation time" in m["msg"] for m in rule["missing"])
    # The same release replayed after its artefacts were written is GO again.
    assert gate(tmp_path, evidence, out="later").exit_code == 0
