"""Helpers shared by the signature, provenance and cosign tests: collecting and golden files."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from tests.conftest import CORPUS, GOLDEN, NOW, UPDATE_GOLDENS, validate_record

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.model import Evidence

CORPUS_MARK = "<corpus>"


def collect(path: Path, **options: Any) -> Evidence:
    """Collect a corpus file through the public entry point (source named relative to the corpus)."""
    values: dict[str, Any] = {"now": NOW}
    values.update(options)
    doc = Artefact.from_path(path, source=str(path.relative_to(CORPUS)))
    return collect_document(doc, CollectOptions(**values))


def portable(record: Evidence) -> dict[str, Any]:
    """The record as JSON with the corpus location replaced by ``<corpus>`` (machine independent)."""
    text = json.dumps(record.to_json(), sort_keys=True)
    text = text.replace(str(CORPUS), CORPUS_MARK)
    value: dict[str, Any] = json.loads(text)
    return value


def check_golden(record: Evidence, folder: str, name: str) -> None:
    """Validate ``record`` against the evidence schema, then compare it with its golden file.

    ``AFFIDAVIT_UPDATE_GOLDENS=1`` rewrites the golden instead (after validation).
    """
    validate_record(record)
    path = GOLDEN / folder / f"{name}.json"
    current = portable(record)
    if UPDATE_GOLDENS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with AFFIDAVIT_UPDATE_GOLDENS=1 to create it"
    assert current == json.loads(path.read_text(encoding="utf-8"))
