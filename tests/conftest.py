"""Shared fixtures: where the real-tool corpus lives, the golden-file switch, the schema validators."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import pytest

if TYPE_CHECKING:
    from affidavit.model import Evidence

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
GOLDEN = Path(__file__).resolve().parent / "golden"
SCHEMAS = REPO / "src" / "affidavit" / "schemas"
UPDATE_GOLDENS = os.environ.get("AFFIDAVIT_UPDATE_GOLDENS") == "1"
NOW = "2026-11-20T12:00:00Z"


# The corpus of real tool outputs sits beside the repository (../shared/corpus). In CI it must be
# there (.ci/run checks, and these tests fail without it). Elsewhere, a newcomer without it still
# runs every other test: the modules that read the corpus are left out, and the session header and
# summary say so.
CORPUS_REQUIRED = bool(os.environ.get("CI"))
_READS_CORPUS = ("CORPUS", "corpus_index", "corpus_dir", "SHARED", "/shared/", '"shared"')
_left_out: list[str] = []


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Leave out a test module that reads the corpus when the corpus is absent (never in CI)."""
    if CORPUS.is_dir() or CORPUS_REQUIRED or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    text = collection_path.read_text(encoding="utf-8")
    if any(marker in text for marker in _READS_CORPUS):
        _left_out.append(collection_path.relative_to(REPO).as_posix())
        return True
    return None


def pytest_report_header() -> str | None:
    """Say at the top of the run when the corpus tests are left out."""
    if CORPUS.is_dir() or CORPUS_REQUIRED:
        return None
    return (
        f"corpus: {CORPUS} is absent: the tests that read real tool outputs are left out (CI requires them)"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the modules left out for want of the corpus."""
    if _left_out:
        terminalreporter.write_line(
            f"left out for want of ../shared/corpus ({len(_left_out)} modules): {', '.join(sorted(_left_out))}"
        )


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
# The published JSON Schemas: one validator each, built once for the whole session


@cache
def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of ``src/affidavit/schemas/<name>.schema.json`` (the schema itself checked first)."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def record_validator() -> jsonschema.Draft202012Validator:
    """The validator of evidence records (``affidavit.evidence/v1``)."""
    return schema_validator("evidence.v1")


def results_validator() -> jsonschema.Draft202012Validator:
    """The validator of results documents (``affidavit.results/v1``)."""
    return schema_validator("results.v1")


def schema_errors(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    """Every error of ``document``, as ``path: message``, in document order (empty when valid)."""
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def validate_record(record: Evidence | Mapping[str, Any]) -> dict[str, Any]:
    """Assert that a record is valid against the evidence schema; return its JSON (as a reader sees it).

    ``record`` is an ``Evidence`` or its ``to_json()``; either is written and read back as JSON
    first, so that tuples and the like are checked as the bytes would carry them.
    """
    value = record if isinstance(record, Mapping) else record.to_json()
    document: dict[str, Any] = json.loads(json.dumps(value))
    errors = schema_errors(record_validator(), document)
    assert not errors, "; ".join(e[:300] for e in errors[:5])
    return document


# ---------------------------------------------------------------------------------------------
# JSON with a repeated key (which no JSON writer produces, and which readers must refuse)


class Raw(str):
    """JSON text already written (an object with a repeat inside), put into ``object_text`` as it is."""


def cache_env(cache_home: Path | None, *, off: bool = False) -> dict[str, str]:
    """This process's environment for a child whose user cache is ``cache_home`` (off when ``None``
    or ``off``)."""
    env = {**os.environ}
    env.pop("AFFIDAVIT_NO_CACHE", None)
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    if cache_home is None or off:
        env["AFFIDAVIT_NO_CACHE"] = "1"
    return env


def process_json(code: str, env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """What ``python -c code args`` prints as one JSON object (it must exit 0)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=dict(env), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def object_text(pairs: Sequence[tuple[str, Any]]) -> Raw:
    """A JSON object written from ``pairs`` in order, a key given twice written twice."""
    members = (
        f"{json.dumps(key)}:{value if isinstance(value, Raw) else json.dumps(value)}" for key, value in pairs
    )
    return Raw("{" + ",".join(members) + "}")


@pytest.fixture(autouse=True)
def _no_secret_key_from_the_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the developer's AFFIDAVIT_SECRET_KEY: goldens and bundles must not
    depend on it (tests that need a key set their own)."""
    monkeypatch.delenv("AFFIDAVIT_SECRET_KEY", raising=False)


@pytest.fixture(autouse=True)
def _no_configuration_from_the_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the developer's (or the CI runner's) affidavit configuration, default
    environment, colour choice or CI-system variables: tests that need one set it themselves."""
    for name in (
        "AFFIDAVIT_CONFIG",
        "AFFIDAVIT_ENVIRONMENT",
        "NO_COLOR",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _history_in_a_temporary_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every gate a test runs records into a throw-away SQLite store, never the user's data folder
    (tests of the store itself pass their own --store)."""
    store = tmp_path_factory.mktemp("history") / "history.db"
    monkeypatch.setenv("AFFIDAVIT_STORE", f"sqlite:///{store}")
