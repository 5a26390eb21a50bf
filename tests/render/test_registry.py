"""The renderer registry is explicit and complete, and every renderer reads only a Run."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from affidavit.model import Outcome, Run
from affidavit.render import registry
from tests.model.runs import sample_run

if TYPE_CHECKING:
    from affidavit.render.interface import Renderer

PACKAGE = Path(registry.__file__).parent
SUPPORT = {"__init__", "interface", "registry"}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in SUPPORT)


def test_every_renderer_class_of_the_package_is_registered() -> None:
    registered = {type(r) for r in registry.RENDERERS}
    defined = set()
    for name in _modules():
        module = importlib.import_module(f"affidavit.render.{name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == module.__name__ and callable(getattr(obj, "render", None)):
                defined.add(obj)
    assert defined == registered


def test_names_and_bundle_files_are_unique() -> None:
    names = [r.name for r in registry.RENDERERS]
    files = [r.filename for r in registry.RENDERERS if r.filename is not None]
    assert len(names) == len(set(names))
    assert len(files) == len(set(files))
    assert {"PRODUCTION_GO_EVIDENCE.md", "results.json"} <= set(files)
    with pytest.raises(KeyError):
        registry.renderer("pdf")


@pytest.mark.parametrize("name", registry.names())
def test_each_renderer_is_deterministic_and_shows_the_verdict(name: str) -> None:
    renderer: Renderer = registry.renderer(name)
    run = sample_run()
    first = renderer.render(run)
    assert first == renderer.render(sample_run())
    if name == "codequality":  # GitLab's format is a bare list of issues: it has no place for a verdict
        assert json.loads(first) and json.loads(renderer.render(sample_run(outcome=Outcome.PASS))) == []
        return
    assert "NO-GO" in first and run.run_id in first
    passing = renderer.render(sample_run(outcome=Outcome.PASS))
    assert "NO-GO" not in passing and "GO" in passing


@pytest.mark.parametrize("name", registry.names())
def test_every_framework_of_the_run_is_shown_by_its_label(name: str) -> None:
    out = registry.renderer(name).render(sample_run())
    if name == "json":
        assert [m["label"] for m in json.loads(out)["matrices"]] == ["SOC 2", "ISO 27001:2022"]
    elif name == "text":
        assert "CC7.1 / A.8.8" in out
    else:
        assert "SOC 2" in out and "ISO 27001:2022" in out and "CC7.1" in out and "A.8.8" in out


def test_json_renderer_reads_back_to_the_same_run() -> None:
    run = sample_run()
    assert Run.from_json(json.loads(registry.renderer("json").render(run))) == run


def test_text_renderer_neutralises_terminal_escapes() -> None:
    hostile = "CVE-1 in pkg\x1b]8;;https://evil.example\x07click\x1b[2J\rGO"
    out = registry.renderer("text").render(sample_run(message=hostile))
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert "\\x1b" in out


@pytest.mark.parametrize("module", _modules())
def test_renderers_import_only_the_model(module: str) -> None:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("affidavit")
    }
    # findings: what the CI renderers (sarif, codequality, github) count as a finding, read from the Run
    allowed = {
        "affidavit.model",
        "affidavit.render.interface",
        "affidavit.render.escape",
        "affidavit.render.findings",
        "affidavit.jsonwrite",  # json.dumps's text, faster: a leaf that imports nothing of affidavit
    }
    if module == "registry":
        allowed |= {f"affidavit.render.{m}" for m in _modules()}
    assert imported <= allowed, f"render/{module}.py imports {sorted(imported - allowed)}"
