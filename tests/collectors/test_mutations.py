"""A fixed sample of tools/mutate_corpus.py: damaged and mistyped artefacts never crash a collector."""

from __future__ import annotations

import importlib.util

from tests.conftest import REPO


def test_mutated_corpus_files_are_records_or_input_errors() -> None:
    spec = importlib.util.spec_from_file_location("mutate_corpus", REPO / "tools" / "mutate_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # this sample finds two crash sites when collect_document's safety net is removed (checked
    # by hand when it was chosen), in about 3 s
    files = module.corpus_files(max_size=100_000)[::2]
    runs, found = module.crashes(seed=20261122, per_file=10, files=files)
    assert runs > 1500
    assert not found, found
