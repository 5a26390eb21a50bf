"""Shared fixtures: where the real-tool corpus lives, the golden-file switch, JSON with a repeated key."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDENS = os.environ.get("AFFIDAVIT_UPDATE_GOLDENS") == "1"
NOW = "2026-11-20T12:00:00Z"


def corpus_index(folder: str) -> list[dict[str, Any]]:
    """The INDEX.json entries of one corpus folder."""
    entries: list[dict[str, Any]] = json.loads((CORPUS / folder / "INDEX.json").read_text(encoding="utf-8"))
    return entries


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``../shared/corpus`` (the tests fail, never skip, when it is missing)."""
    assert CORPUS.is_dir(), f"{CORPUS} is missing: the corpus must sit beside the repository in ../shared"
    return CORPUS


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The repository root."""
    return REPO


def golden_text(text: str, path: Path) -> str:
    """The stored golden ``path`` (rewritten from ``text`` first when AFFIDAVIT_UPDATE_GOLDENS=1).

    Callers validate the record before calling and compare ``text`` with what this returns.
    """
    if UPDATE_GOLDENS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with AFFIDAVIT_UPDATE_GOLDENS=1 to write it"
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# JSON with a repeated key (which no JSON writer produces, and which readers must refuse)


class Raw(str):
    """JSON text already written (an object with a repeat inside), put into ``object_text`` as it is."""


def object_text(pairs: Sequence[tuple[str, Any]]) -> Raw:
    """A JSON object written from ``pairs`` in order, a key given twice written twice."""
    members = (
        f"{json.dumps(key)}:{value if isinstance(value, Raw) else json.dumps(value)}" for key, value in pairs
    )
    return Raw("{" + ",".join(members) + "}")
