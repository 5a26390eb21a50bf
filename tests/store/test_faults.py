"""Concurrent gates and killed gates (issue 12: "16 gates recording at once into one SQLite file,
and into one PostgreSQL database, lose no run; a gate killed with SIGKILL at any moment leaves
either the whole run or none of it").

Each writer is a real process running the store's recording step (``tests/store/writer.py``) on a
real demo run; the store starts empty, so the writers also race to create the schema.
``verify`` then checks every hash, link and derived row: a half-written run would show as a run
whose rows do not match its payload, a missing record, or a broken link.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from affidavit.store import RunQuery, open_store
from affidavit.store.record import build_entry
from tests.store.conftest import REPO, Judged, variant

if TYPE_CHECKING:
    from pathlib import Path


def _writers(
    url: str, tmp_path: Path, batches: list[list[object]]
) -> tuple[list[subprocess.Popen[str]], Path]:
    start = tmp_path / "start"
    start.unlink(missing_ok=True)
    procs = []
    for i, batch in enumerate(batches):
        entries = tmp_path / f"entries-{i}.pickle"
        entries.write_bytes(pickle.dumps(batch))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.store.writer", url, str(entries), str(start)],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
        )
    return procs, start


def _entries(judged: Judged, first: int, count: int) -> list[object]:
    return [
        build_entry(variant(judged, n), judged.evidence, recorded_at="2026-12-01T00:00:00Z")
        for n in range(first, first + count)
    ]


def test_sixteen_concurrent_writers_lose_no_run(
    store_url: str, demo_runs: dict[str, Judged], tmp_path: Path
) -> None:
    judged = demo_runs["no-go"]
    procs, start = _writers(store_url, tmp_path, [_entries(judged, n, 1) for n in range(16)])
    time.sleep(0.5)  # every process imported and waiting
    start.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, [err[-500:] for _, err in outputs]
    store = open_store(store_url)
    try:
        report = store.verify()
        assert report.intact, report.problems
        assert report.runs == 16 and report.head_seq == 16
        held = {r.run_id for r in store.runs(RunQuery(limit=100))}
        assert held == {f"{judged.run.run_id}-{n:04d}" for n in range(16)}
    finally:
        store.close()


def test_writers_killed_at_random_moments_leave_whole_runs_or_none(
    store_url: str, demo_runs: dict[str, Judged], tmp_path: Path
) -> None:
    """Rounds of four writers, each killed with SIGKILL at a random moment while it records; every
    run a writer reported committed is there, and the chain verifies after every round."""
    judged = demo_runs["no-go"]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    acknowledged: set[str] = set()
    killed_mid_way = 0
    n = 0
    for _round in range(6):
        batches = []
        for _ in range(4):
            batches.append(_entries(judged, n, 25))
            n += 25
        procs, start = _writers(store_url, tmp_path, batches)
        time.sleep(0.4)
        start.touch()
        for p in procs:
            time.sleep(rng.uniform(0.0, 0.25))
            p.send_signal(signal.SIGKILL)
        for p in procs:
            out, _err = p.communicate(timeout=120)
            done = [line.split()[1] for line in out.splitlines() if line.startswith("ok ")]
            acknowledged.update(done)
            killed_mid_way += p.returncode == -signal.SIGKILL and len(done) < 25
        store = open_store(store_url)
        try:
            report = store.verify()
            assert report.intact, (seed, report.problems)
            held = {r.run_id for r in store.runs(RunQuery(limit=100000))}
        finally:
            store.close()
        assert acknowledged <= held, seed
        assert report.runs == len(held)
    assert killed_mid_way > 0, f"no writer was killed while recording (seed {seed})"
