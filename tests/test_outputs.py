"""``affidavit gate --output FORMAT=PATH`` (issue 11): each rendering of the one run, where asked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.attacks.support import gate, release


def test_outputs_are_written_from_the_same_run(tmp_path: Path) -> None:
    md = tmp_path / "reports" / "summary.md"
    js = tmp_path / "results.json"
    result = gate(
        tmp_path, release(tmp_path, "no-go"), "--output", f"markdown={md}", "--output", f"json={js}"
    )
    assert result.exit_code == 1, result.stderr
    bundle = result.bundles[0]
    assert md.read_bytes() == (bundle / "PRODUCTION_GO_EVIDENCE.md").read_bytes()
    assert json.loads(js.read_text())["run_id"] == bundle.name


def test_an_unknown_format_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "go"), "--output", "pdf=x.pdf")
    assert result.exit_code == 2
    assert "no format called 'pdf'" in result.stderr and "markdown" in result.stderr
    assert not result.bundles  # refused before anything ran


def test_a_value_without_a_path_is_a_usage_error(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "go"), "--output", "sarif")
    assert result.exit_code == 2
    assert "is not FORMAT=PATH" in result.stderr


def test_an_unwritable_output_still_prints_the_decision_and_exits_3(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.mkdir()
    result = gate(tmp_path, release(tmp_path, "go"), "--output", f"markdown={blocker}")
    assert result.exit_code == 3
    assert result.stdout.startswith("GO ")  # the decision was made and shown
    assert f"{blocker}: the markdown output cannot be written there" in result.stderr
    assert result.bundles  # the bundle is still written


def test_on_github_actions_the_gate_annotates_and_appends_the_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = gate(tmp_path, release(tmp_path, "no-go"), env=env)
    assert result.exit_code == 1, result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert errors, result.stdout  # one per blocking rule
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, never replaced
    assert "NO-GO" in text


def test_annotations_leave_json_stdout_parseable(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true"}
    result = gate(tmp_path, release(tmp_path, "no-go"), "--format", "json", env=env)
    assert json.loads(result.stdout)["decision"] == "NO-GO"
    assert "::error" in result.stderr


def test_outside_github_nothing_is_annotated(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "no-go"), env={"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": ""})
    assert "::error" not in result.stdout + result.stderr
