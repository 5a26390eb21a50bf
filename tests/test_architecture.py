"""The import direction of DESIGN.md, checked on the source: errors <- model <- stages <- report <- cli."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "affidavit"

# For each package (or module), the affidavit packages it must never import.
FORBIDDEN = {
    "errors": {"model", "collectors", "policy", "controls", "report", "gate", "cli", "verify"},
    "model": {"collectors", "policy", "controls", "report", "gate", "cli", "verify"},
    "collectors": {"policy", "controls", "report", "gate", "cli"},
    "verify": {"policy", "controls", "report", "gate", "cli"},
    "policy": {"collectors", "controls", "report", "gate", "cli"},
    "controls": {"collectors", "policy", "report", "gate", "cli"},
    "report": {"gate", "cli", "policy"},
    "gate": {"cli"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _stage(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_one_way(path: Path) -> None:
    stage = _stage(path)
    forbidden = FORBIDDEN.get(stage, set())
    bad = sorted(
        name for name in _imports(path) if name.startswith("affidavit.") and name.split(".")[1] in forbidden
    )
    assert not bad, f"{path.relative_to(SRC)} ({stage}) must not import {bad}"
    if stage != "cli":
        assert "click" not in {n.split(".")[0] for n in _imports(path)}, "only the CLI imports click"


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from affidavit.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('sigstore', 'cyclonedx', 'hcl2', 'jinja2', 'regorus', 'cryptography') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
