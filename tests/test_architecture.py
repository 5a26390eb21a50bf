"""The import direction of DESIGN.md, checked on the source.

errors <- model <- {artefact, resources, cache} <- signatures <- {collectors (kinds <- formats), policy, controls}
       <- config
       <- {pipeline, explain} <- {render (reads only the model), store} <- bundle <- export <- cli

A module may import its own package and any package of a lower layer, never one of its own layer
or a higher one. Inside collectors, a format never imports another format and kinds never import
formats. Renderers import only the model.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "affidavit"

LAYER = {
    "errors": 0,
    "jsonwrite": 0,  # json.dumps's text, written faster: imports nothing of affidavit
    "spool": 0,  # a large stored copy kept on disk from collection to the bundle: imports nothing of affidavit
    "model": 1,
    "artefact": 2,
    "resources": 2,
    "codecache": 2.5,  # dataclasses' generated code, compiled once, in the user cache (imports cache)
    "cache": 2,  # the user cache of fixed costs by content hash (policy analysis, matrices' YAML, .tf records)
    "signatures": 3,
    "collectors": 4,
    "policy": 4,
    "controls": 4,
    "config": 4.5,  # affidavit.yaml and release profiles: reads policy/params, typed values for the pipeline
    "pipeline": 5,
    "explain": 5,
    "render": 6,
    "store": 6,
    "bundle": 7,
    "export": 8,
    "cli": 9,
    "__main__": 10,
    "__init__": 10,
}

MODULES = sorted(p for p in SRC.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every affidavit module ``path`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "affidavit" or n.startswith("affidavit.")}


def _package(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _id(path: Path) -> str:
    return str(path.relative_to(SRC))


def test_every_package_has_a_layer() -> None:
    assert {_package(p) for p in MODULES} <= set(LAYER)


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_imports_point_down(path: Path) -> None:
    own = _package(path)
    bad = []
    for name in _imports(path):
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in LAYER:
            continue  # ``from affidavit import __version__``, or a name imported from a package
        target = parts[1]
        if target != own and LAYER[target] >= LAYER[own]:
            bad.append(name)
    assert not bad, f"{_id(path)} ({own}, layer {LAYER[own]}) must not import {sorted(bad)}"
    if own != "cli":
        top = {n.split(".")[0] for n in _plain_imports(path)}
        assert "click" not in top, "only the CLI imports click"


def _plain_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


FORMATS = sorted((SRC / "collectors" / "formats").glob("*.py"))
KINDS = sorted((SRC / "collectors" / "kinds").glob("*.py"))


@pytest.mark.parametrize("path", FORMATS, ids=_id)
def test_a_format_never_imports_another_format(path: Path) -> None:
    others = {n for n in _imports(path) if n.startswith("affidavit.collectors.formats")}
    others -= {"affidavit.collectors.formats", f"affidavit.collectors.formats.{path.stem}"}
    assert not others, f"{_id(path)} imports {sorted(others)}: share it through collectors/kinds/"


@pytest.mark.parametrize("path", [*KINDS, SRC / "collectors" / "envelopes.py"], ids=_id)
def test_kinds_and_envelopes_never_import_formats(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{_id(path)} is missing")
    bad = {n for n in _imports(path) if n.startswith("affidavit.collectors.formats")}
    assert not bad, f"{_id(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", sorted((SRC / "render").glob("*.py")), ids=_id)
def test_renderers_import_only_the_model(path: Path) -> None:
    allowed = ("affidavit.model", "affidavit.render", "affidavit.jsonwrite")  # jsonwrite: a leaf
    bad = {n for n in _imports(path) if not n.startswith(allowed)}
    assert not bad, f"{_id(path)} imports {sorted(bad)}: a renderer reads a Run and nothing else"


def test_the_pipeline_knows_no_exit_codes_and_no_argv() -> None:
    text = (SRC / "pipeline.py").read_text()
    assert "sys.exit" not in text and "sys.argv" not in text and "exit_code" not in text


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
