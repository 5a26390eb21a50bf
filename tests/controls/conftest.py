"""Fixtures of the control-layer tests: the reference data in ../shared and the loaded matrices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from affidavit.controls.loader import load_crosswalk, load_matrices

if TYPE_CHECKING:
    from affidavit.controls.model import ControlMatrix, Crosswalk

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "controls"
CONTROLS = REPO / "controls"


def read_yaml(path: Path) -> Any:
    """A YAML file parsed with the pure-Python safe loader (independent of the loader under test)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference/controls`` (fails, never skips, when it is missing)."""
    assert REFERENCE.is_dir(), f"{REFERENCE} is missing: ../shared must sit beside the repository"
    return REFERENCE


@pytest.fixture(scope="session")
def soc2_reference(reference_dir: Path) -> dict[str, Any]:
    """The SOC 2 reference file."""
    data: dict[str, Any] = read_yaml(reference_dir / "soc2-tsc-2017.yaml")
    return data


@pytest.fixture(scope="session")
def iso_reference(reference_dir: Path) -> dict[str, Any]:
    """The ISO 27001:2022 Annex A reference file."""
    data: dict[str, Any] = read_yaml(reference_dir / "iso27001-2022-annex-a.yaml")
    return data


@pytest.fixture(scope="session")
def crosswalk_reference(reference_dir: Path) -> dict[str, Any]:
    """The SOC 2 / ISO crosswalk reference file."""
    data: dict[str, Any] = read_yaml(reference_dir / "soc2-iso27001-crosswalk.yaml")
    return data


@pytest.fixture(scope="session")
def matrices() -> dict[str, ControlMatrix]:
    """The built-in matrices by framework."""
    return {m.framework: m for m in load_matrices()}


@pytest.fixture(scope="session")
def crosswalk() -> Crosswalk:
    """The built-in crosswalk."""
    return load_crosswalk()
