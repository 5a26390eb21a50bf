"""The registry is explicit and complete: every kind is read, every format is tested and pinned.

A new format is one module, one registry line, corpus coverage (or a stated reason why the
corpus has no sample), and a golden record; this test fails until the first three exist, and
the collector contract (``test_corpus_contract.py``) until its golden, its corpus folder and its
redaction, if it has a hook, are in the contract's tables.
"""

from __future__ import annotations

import json
from pathlib import Path

from affidavit.collectors import Artefact, CollectOptions, collect_document, registry
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.conftest import CORPUS, NOW

TESTS = Path(__file__).resolve().parent

# Formats the shared corpus has no real sample of; their tests build documents from the
# published shape instead (say so here, so the gap stays visible).
NOT_IN_CORPUS = {
    "github-graphql-branch-protection": "no GraphQL branch-protection response in the corpus",
    "affidavit-change-record": "affidavit's own format",
    "github-deployment-approvals": "no deployment-approval export in the corpus",
}


def test_every_module_is_listed_once_and_imports() -> None:
    assert len(set(registry._MODULES)) == len(registry._MODULES)
    names = [f.name for f in registry.formats()]
    assert len(names) == len(set(names))


def test_every_evidence_kind_has_a_format() -> None:
    assert registry.kinds_with_formats() == set(EvidenceKind)


def test_every_module_has_its_own_test_file() -> None:
    for module in registry._MODULES:
        short = module.rsplit(".", 1)[1]
        assert (TESTS / f"test_{short}.py").is_file(), f"{module} has no tests/collectors/test_{short}.py"


def test_every_format_is_met_in_the_corpus() -> None:
    seen: set[str] = set()
    options = CollectOptions(now=NOW)
    for index in sorted(CORPUS.glob("*/INDEX.json")):
        for entry in json.loads(index.read_text(encoding="utf-8")):
            try:
                doc = Artefact.from_path(index.parent / entry["file"])
                seen.add(registry.detect(doc, options).name)
                collect_document(doc, options)
            except InputError:
                continue
    missing = {f.name for f in registry.formats()} - seen - set(NOT_IN_CORPUS)
    assert not missing, f"formats no corpus file exercises: {sorted(missing)}"
    assert not (set(NOT_IN_CORPUS) & seen), "a format listed as not in the corpus now is: update the list"
