"""The wheel carries the policy library, rule data, matrices, templates and schemas, and uses them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline with the locked build backend (requirements/build.txt, which
    ``make venv`` installs): no unpinned build tool is fetched."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
        + ["-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("affidavit-*.whl")
    return built


def test_wheel_members(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    rego = {p.relative_to(REPO).as_posix() for p in (REPO / "policies").rglob("*.rego")}
    assert {f"affidavit/_data/{p}" for p in rego} <= names
    for member in (
        "affidavit/_data/policies/params.yaml",
        "affidavit/_data/controls/soc2-2017.yaml",
        "affidavit/_data/controls/iso27001-2022.yaml",
        "affidavit/_data/controls/crosswalk.yaml",
        "affidavit/render/templates/PRODUCTION_GO_EVIDENCE.md.j2",
        "affidavit/schemas/evidence.v1.schema.json",
        "affidavit/py.typed",
    ):
        assert member in names
    assert not any(n.startswith(("tests/", "evidence/")) for n in names)
    (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert zipfile.ZipFile(wheel).read(licence) == (REPO / "LICENSE").read_bytes()


def test_installed_wheel_finds_its_own_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "from affidavit.resources import builtin_policies_dir, builtin_controls_dir\n"
        "from affidavit.policy.loader import load_policy_set\n"
        "from affidavit.controls.loader import load_matrices\n"
        "from affidavit.policy.params import load_params\n"
        "print(builtin_policies_dir()); print(builtin_controls_dir())\n"
        "print(len(load_policy_set().rules), len(load_matrices()), sorted(load_params('prod')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr
    policies, controls, counts = result.stdout.splitlines()
    assert policies.startswith(str(site)) and controls.startswith(str(site))
    rules = [
        p
        for p in (REPO / "policies").rglob("*.rego")
        if not p.name.endswith("_test.rego") and "lib" not in p.parts
    ]
    matrices = [
        p for p in (REPO / "controls").glob("*.yaml") if "control-matrix" in p.read_text(encoding="utf-8")
    ]
    assert counts.startswith(f"{len(rules)} {len(matrices)} ")
