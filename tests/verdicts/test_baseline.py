"""The suite's starting point: the demo GO release, unchanged, is GO (every scenario changes one thing)."""

from __future__ import annotations

from pathlib import Path

from tests.attacks.support import gate, release


def test_the_unchanged_go_release_is_go(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "go"))
    assert result.exit_code == 0, result.stdout
    assert result.results["decision"] == "GO"
