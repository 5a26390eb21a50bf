"""``Store.scan``, on both back ends: a period's runs oldest first, filtered, from one snapshot, each
with the summary and payload sha256 its version-2 chain link covers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from affidavit.store import open_store
from affidavit.store.record import chain_hash, derive_summary, sha256_hex
from tests.store.support import record

if TYPE_CHECKING:
    from tests.store.conftest import Judged


def test_scan_gives_a_periods_runs_oldest_first_with_their_summaries(
    store_url: str, demo_runs: dict[str, Judged]
) -> None:
    """Recorded out of time order, scanned in time order (then chain order); ``until`` exclusive,
    ``since`` inclusive; the environment filter; each run's summary is the one derived from its
    payload and its chain hash is recomputed from the scan's values alone."""
    judged = demo_runs["go"]
    times = [
        ("2026-11-03T00:00:00Z", "prod"),
        ("2026-11-01T00:00:00Z", "prod"),
        ("2026-11-02T00:00:00Z", "staging"),
        ("2026-11-01T00:00:00Z", "staging"),
        ("2026-12-01T00:00:00Z", "prod"),  # the period's end: outside
        ("2026-10-31T23:59:59Z", "prod"),  # before it: outside
    ]
    store = open_store(store_url)
    try:
        for n, (when, environment) in enumerate(times):
            record(store, judged, n, time=when, environment=environment)
        every = list(store.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"))
        assert [(r.time, r.seq) for r in every] == [
            ("2026-11-01T00:00:00Z", 2),
            ("2026-11-01T00:00:00Z", 4),
            ("2026-11-02T00:00:00Z", 3),
            ("2026-11-03T00:00:00Z", 1),
        ]
        prod = [r.seq for r in store.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "prod")]
        assert prod == [2, 1]
        # count: what a scan with the same bounds gives (the export's progress total)
        assert store.count("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z") == 4
        assert store.count("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "prod") == 2
        assert store.count("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", "staging") == 0
        assert store.count("2026-10-31T23:59:59Z", "2026-12-01T00:00:01Z", "prod") == 4
        for run in every:
            held = store.get(run.run_id)
            assert held is not None and run.summary is not None and run.payload is None
            assert run.summary == derive_summary(held.payload)
            assert json.loads(run.summary)["run_id"] == run.run_id
            assert run.payload_sha256 == sha256_hex(json.dumps(held.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())  # fmt: skip
            assert chain_hash(run.seq, run.prev_hash, run.payload_sha256, sha256_hex(run.summary)) == run.hash
            assert (run.environment, run.decision, run.commit) == (
                held.summary.environment,
                held.summary.decision,
                held.summary.commit,
            )
    finally:
        store.close()


def test_scan_reads_one_snapshot_while_gates_go_on_recording(
    store_url: str, demo_runs: dict[str, Judged]
) -> None:
    """A run recorded (by another connection) while a scan is under way is not in that scan, and
    is in the next one. (Three runs fit in the first batch fetched; what keeps a scan longer than
    a batch consistent is its read transaction, SQLite's WAL snapshot or PostgreSQL's REPEATABLE
    READ, which ``history verify`` shares.)"""
    judged = demo_runs["no-go"]
    reader, writer = open_store(store_url), open_store(store_url)
    try:
        for n in range(3):
            record(writer, judged, n, time=f"2026-11-0{n + 1}T00:00:00Z")
        scan = reader.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
        first = next(scan)
        record(writer, judged, 9, time="2026-11-20T00:00:00Z")
        rest = list(scan)
        assert [first.seq, *(r.seq for r in rest)] == [1, 2, 3]
        assert [r.seq for r in reader.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")] == [1, 2, 3, 4]
    finally:
        reader.close()
        writer.close()


def test_a_scan_stopped_early_leaves_the_store_usable(store_url: str, demo_runs: dict[str, Judged]) -> None:
    """A reader that takes one run and closes the scan (as an export that stops on a bad run
    does) ends the snapshot: the same connection records and scans again."""
    judged = demo_runs["go"]
    store = open_store(store_url)
    try:
        for n in range(3):
            record(store, judged, n, time=f"2026-11-0{n + 1}T00:00:00Z")
        scan = store.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
        assert next(scan).seq == 1
        scan.close()  # type: ignore[attr-defined]
        record(store, judged, 7, time="2026-11-09T00:00:00Z")
        assert [r.seq for r in store.scan("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")] == [1, 2, 3, 4]
    finally:
        store.close()
