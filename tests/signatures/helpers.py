"""Helpers shared by the signature, provenance and cosign tests: collecting a corpus file.

Their golden records are checked by the collector contract (``tests/collectors/test_corpus_contract.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from tests.conftest import CORPUS, NOW

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.model import Evidence


def collect(path: Path, **options: Any) -> Evidence:
    """Collect a corpus file through the public entry point (source named relative to the corpus)."""
    values: dict[str, Any] = {"now": NOW}
    values.update(options)
    doc = Artefact.from_path(path, source=str(path.relative_to(CORPUS)))
    return collect_document(doc, CollectOptions(**values))
