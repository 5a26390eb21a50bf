"""``backtest`` applies the release profile the recorded run applied (as the gate does, through
``pipeline.settle``), found again by its recorded hash, and says so when it cannot."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import InputError
from affidavit.model import Run
from affidavit.model.results import ConfigInput
from affidavit.store.backtest import recorded_profile
from tests.attacks.support import DEMO, gate
from tests.test_profiles import _library

#: A configuration's own profile, the same kinds as the built-in python-library.
CONFIG = """version: 1
profiles:
  our-library:
    description: Our libraries, as python-library but ours.
    requires: [sbom, vulnerability-scan, secret-scan, sast, signature, provenance]
"""


def _gate(tmp_path: Path, evidence: Path, store: str, *extra: str) -> dict[str, Any]:
    """A gate run recorded into ``store``; GO (the profile leaves out what a library lacks)."""
    result = gate(tmp_path, evidence, "--store", store, *extra, out=f"out{len(list(tmp_path.glob('out*')))}")
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.results


def _backtest(store: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["backtest", "--store", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.fixture(autouse=True)
def _no_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFFIDAVIT_CONFIG", raising=False)
    monkeypatch.delenv("AFFIDAVIT_ENVIRONMENT", raising=False)


def test_a_run_with_a_built_in_profile_is_judged_again_with_it(tmp_path: Path) -> None:
    """The library release is GO under python-library; judged with every rule applying (the strict
    default, what backtest did before) it would not be, and backtest reported a change no rule made."""
    store = f"sqlite:///{tmp_path / 'history.db'}"
    results = _gate(tmp_path, _library(tmp_path), store, "--profile", "python-library")
    assert results["decision"] == "GO"
    assert any(r["outcome"] == "not_applicable" for r in results["rules"])
    backtest = _backtest(store)
    assert backtest["runs"] == 1 and backtest["changed"] == 0, backtest
    (entry,) = backtest["results"]
    assert entry["decision"] == {"before": "GO", "after": "GO"} and entry["error"] is None


def test_a_run_without_a_profile_stays_strict(tmp_path: Path) -> None:
    """No profile recorded: every rule applies, as the gate applied them (the demo GO release)."""
    store = f"sqlite:///{tmp_path / 'history.db'}"
    _gate(tmp_path, DEMO / "go", store)
    backtest = _backtest(store)
    assert backtest["runs"] == 1 and backtest["changed"] == 0, backtest


def test_a_configurations_profile_is_found_again_by_its_hash_or_not_at_all(tmp_path: Path) -> None:
    """A configuration's own profile is read again from the configuration the run recorded, only
    while that file hashes as it did; once it changed, the run is not judged again and the output
    says why (never a decision judged without the profile)."""
    store = f"sqlite:///{tmp_path / 'history.db'}"
    config = tmp_path / "affidavit.yaml"
    config.write_text(CONFIG)
    results = _gate(tmp_path, _library(tmp_path), store, "--config", str(config), "--profile", "our-library")
    roles = {c["role"]: c for c in results["configuration"]["inputs"]}
    assert roles["profile"]["path"] == f"{config}#profiles.our-library"
    backtest = _backtest(store)
    assert backtest["changed"] == 0, backtest
    config.write_text(CONFIG + "# reviewed again\n")
    backtest = _backtest(store)
    assert backtest["changed"] == 1
    (entry,) = backtest["results"]
    assert entry["decision"] == {"before": "GO", "after": None}
    assert "release profile our-library comes from the configuration file" in entry["error"]
    assert "has changed since the run, so the profile cannot be applied again" in entry["error"]
    text = CliRunner().invoke(main, ["backtest", "--store", store])
    assert "! could not judge again:" in text.stdout and "cannot be applied again" in text.stdout
    config.unlink()
    (entry,) = _backtest(store)["results"]
    assert "cannot be read here as a configuration" in entry["error"]


def test_a_built_in_profile_that_changed_is_not_applied(tmp_path: Path) -> None:
    """A built-in profile whose file changed since the run (another sha256) is not taken for it."""
    store = f"sqlite:///{tmp_path / 'history.db'}"
    results = _gate(tmp_path, _library(tmp_path), store, "--profile", "python-library")
    run = Run.from_json(results)
    profile = recorded_profile(run)
    assert profile is not None and profile.name == "python-library"
    changed = tuple(
        dataclasses.replace(c, sha256="0" * 64) if c.role == "profile" else c for c in run.configuration
    )
    with pytest.raises(InputError, match="built-in release profile python-library is not in this affidavit"):
        recorded_profile(dataclasses.replace(run, configuration=changed))
    twice = (*run.configuration, ConfigInput("profile", "builtin:profiles/x.yaml", "0" * 64, "x"))
    with pytest.raises(InputError, match="more than one release profile"):
        recorded_profile(dataclasses.replace(run, configuration=twice))
