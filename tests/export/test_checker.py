"""The runs of a large period checked by a helper process (``export/checker.py``): the same runs,
the same refusals, and nothing lost when the helper cannot start or stops half way.

The store is ``conftest.quarter``'s (real gate runs); the helper is taken for every period here by
asking for it (``expected``), and its batches made small so that the quarter's runs span several.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import affidavit.export.checker as checker
from affidavit.export.period import parse_period
from affidavit.export.source import _Reader, period_runs
from affidavit.store import open_store
from affidavit.store.interface import StoreError
from tests.export.test_export import _edit_run, export

if TYPE_CHECKING:
    from affidavit.export.source import PeriodRun
    from tests.export.conftest import Quarter

PERIOD = parse_period("2026-Q4")


def _runs(q: Quarter, aside: bool) -> tuple[list[PeriodRun], int]:
    """The quarter's runs as the export reads them, with or without the helper; how many the helper
    checked."""
    store = open_store(q.url)
    try:
        reader = _Reader(store)
        runs = list(period_runs(store, PERIOD, "prod", expected=10**9 if aside else 0, reader=reader))
        return runs, reader.aside
    finally:
        store.close()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checker, "BATCH", 2)


def test_the_helper_checks_every_run_and_the_runs_are_the_same(quarter: Quarter, small_batches: None) -> None:
    alone, none_aside = _runs(quarter, aside=False)
    helped, aside = _runs(quarter, aside=True)
    assert helped == alone and len(alone) == quarter.runs
    assert (none_aside, aside) == (0, quarter.runs)  # the helper answered for every run


def test_an_export_with_the_helper_writes_the_same_folder(
    quarter: Quarter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    """The whole export, the helper taken from the first run on: byte-identical files."""
    import affidavit.export.source as source

    assert export(quarter, tmp_path / "alone").exit_code == 0
    monkeypatch.setattr(source, "ASIDE_FROM", 0)
    assert export(quarter, tmp_path / "helped").exit_code == 0
    names = sorted(p.relative_to(tmp_path / "alone") for p in (tmp_path / "alone").rglob("*") if p.is_file())
    assert names and names == sorted(
        p.relative_to(tmp_path / "helped") for p in (tmp_path / "helped").rglob("*") if p.is_file()
    )
    for name in names:
        if name.name != "SHA256SUMS.sig":  # ECDSA signatures differ each time; what they sign does not
            assert (tmp_path / "alone" / name).read_bytes() == (tmp_path / "helped" / name).read_bytes(), name


def test_a_run_edited_in_the_store_is_refused_the_same_way_with_the_helper(
    quarter: Quarter, small_batches: None
) -> None:
    """Hostile: the helper finds the edited run's chain hash broken and leaves the run to this
    process, which refuses it with the usual message."""
    _edit_run(Path(quarter.url.removeprefix("sqlite://")), 4, rehash=False)
    messages = []
    for aside in (False, True):
        with pytest.raises(StoreError) as refused:
            _runs(quarter, aside)
        messages.append(refused.value.message)
    assert messages[0] == messages[1] and "does not match its chain hash" in messages[0]


@pytest.mark.parametrize("helper", ["cannot-start", "stops-after-one-batch", "answers-garbage"])
def test_without_a_working_helper_every_run_is_checked_here(
    quarter: Quarter, monkeypatch: pytest.MonkeyPatch, small_batches: None, helper: str
) -> None:
    """A helper that cannot be started, that stops half way or that answers nonsense: the runs it
    did not answer are checked in this process; the same runs come out."""
    alone, _ = _runs(quarter, aside=False)
    commands = {
        "cannot-start": ["/nonexistent/python"],
        "stops-after-one-batch": [
            sys.executable,
            "-c",
            "from affidavit.export.checker import serve; serve(batches=1)",
        ],
        "answers-garbage": [sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'not a pickle')"],
    }
    monkeypatch.setattr(checker, "_command", lambda: commands[helper])
    helped, aside = _runs(quarter, aside=True)
    assert helped == alone
    assert aside == {"cannot-start": 0, "stops-after-one-batch": 2, "answers-garbage": 0}[helper]


def test_the_helper_answers_each_batch_with_part_ids_defined_once(quarter: Quarter) -> None:
    """``serve`` in this process, on two batches: every run of real gates gets the ids of its parts;
    each part is sent once, as text, the first time it is met; a run whose chain hash is broken
    gets ``None`` (the parent checks it)."""
    import io
    import pickle

    store = open_store(quarter.url)
    try:
        rows = [tuple(row) for row in store.scan(PERIOD.since, PERIOD.until, "prod")]
    finally:
        store.close()
    broken = (*rows[0][:10], "0" * 64, *rows[0][11:])  # its chain hash replaced
    requests = io.BytesIO()
    pickle.dump(rows, requests)
    pickle.dump([*rows, broken], requests)
    requests.seek(0)
    answers = io.BytesIO()
    checker.serve(requests, answers)
    answers.seek(0)
    first, second = pickle.load(answers), pickle.load(answers)
    assert all(r is not None for r in first[0]) and first[0] == second[0][: len(rows)]
    assert second[0][-1] is None
    defined = [key for key, *_ in first[2]] + [key for key, _ in first[3]]
    assert defined and len(defined) == len(set(defined))
    assert {r[0] for r in first[0]} | {r[1] for r in first[0]} <= set(defined)
    assert second[2] == [] and second[3] == []  # nothing new the second time
