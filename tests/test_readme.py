"""The README is the manual: its command reference and its set-up commands must be true."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tool() -> object:
    spec = importlib.util.spec_from_file_location("readme_help", REPO / "tools" / "readme_help.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_block_is_current() -> None:
    tool = _tool()
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert tool.render(text) == text, "README.md's --help copy is stale: run python tools/readme_help.py"  # type: ignore[attr-defined]


def test_readme_names_the_two_setup_commands_and_the_makefile_has_them() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_every_exit_code_is_documented() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert code in text
