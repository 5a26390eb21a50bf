"""The attack suite's one way to run the gate: the demo release, changed the way an attacker would.

Each attack test copies the NO-GO demo release (or the GO one), changes one thing (a file in the
evidence folder, an option, an environment variable) and asserts what the gate must say: the
NO-GO release stays NO-GO (exit 1) or the attempt is refused (exit 2), and nothing it planted
reaches an output.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from affidavit.cli import main
from tests.conftest import REPO

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
COMMIT = (DEMO / "COMMIT").read_text().strip()
SUBJECT = f"ghcr.io/acme/shop@{DIGEST}"
NOW = "2026-11-20T12:00:00Z"
DEMO_PARAMS = DEMO / "params.yaml"  # the demo organisation's rule data


@dataclass
class GateResult:
    """What one gate run left behind."""

    exit_code: int
    stdout: str
    stderr: str
    out: Path

    @property
    def bundles(self) -> list[Path]:
        """Every run folder written under ``--out``."""
        return sorted(p for p in self.out.glob("*") if p.is_dir()) if self.out.exists() else []

    @property
    def results(self) -> dict[str, Any]:
        """results.json of the one bundle written."""
        assert len(self.bundles) == 1, self.bundles
        loaded: dict[str, Any] = json.loads((self.bundles[0] / "results.json").read_text())
        return loaded

    def outcome(self, rule_id: str) -> str:
        """The outcome of one rule in this run."""
        return next(r["outcome"] for r in self.results["rules"] if r["id"] == rule_id)

    def every_output(self) -> str:
        """stdout, stderr and every file of every bundle (and archive), as text."""
        parts = [self.stdout, self.stderr]
        if self.out.exists():
            parts.extend(
                p.read_bytes().decode("utf-8", "replace") for p in self.out.rglob("*") if p.is_file()
            )
        return "\n".join(parts)


def release(tmp_path: Path, which: str = "no-go") -> Path:
    """A private copy of a demo release's evidence folder to change."""
    target = tmp_path / f"evidence-{which}"
    shutil.copytree(DEMO / which, target, symlinks=True)
    return target


def gate(
    tmp_path: Path,
    evidence: Path,
    *extra: str,
    out: str = "out",
    env: dict[str, str] | None = None,
    now: str | None = NOW,
    key: bool = True,
    demo_params: bool = True,
) -> GateResult:
    """``affidavit gate`` on ``evidence`` as the demo runs it, plus ``extra`` options.

    ``demo_params``: pass the demo organisation's rule data (its trusted signer, builder, source
    repository and required checks, ``evidence/demo/params.yaml``) as the demo does; without it
    only the built-in rule data applies, which trusts no one.
    """
    args = ["gate", "--evidence", str(evidence), "--environment", "prod", "--subject", SUBJECT]
    args += ["--commit", COMMIT, "--out", str(tmp_path / out)]
    if demo_params:
        args += ["--params", str(DEMO_PARAMS)]
    if now is not None:
        args += ["--now", now, "--replay"]  # the demo's moment, re-evaluated
    if key:
        args += ["--key", str(DEMO / "cosign.pub")]
    result = CliRunner().invoke(main, [*args, *extra], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return GateResult(result.exit_code, result.stdout, result.stderr, tmp_path / out)
