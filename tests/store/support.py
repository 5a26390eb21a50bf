"""What the store tests share: recording real runs, and tampering with a store as an attacker would
(with the database owner's rights: the append-only triggers dropped or disabled first)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from affidavit.store import open_store, sqlite_path
from affidavit.store.record import build_entry
from tests.store.conftest import Judged, variant

if TYPE_CHECKING:
    from affidavit.store.interface import Recorded, Store

TABLES = ("runs", "run_rules", "run_evidence", "run_findings", "run_waivers", "records")


def record(store: Store, judged: Judged, n: int, **changes: object) -> Recorded:
    """Record a variant ``n`` of a judged demo run."""
    run = variant(judged, n, **changes)
    return store.record(build_entry(run, judged.evidence, recorded_at="2026-12-01T00:00:00Z"))


def fill(url: str, judged: Judged, count: int) -> list[str]:
    """A store with ``count`` runs (times a day apart); their run ids in order."""
    store = open_store(url)
    try:
        ids = []
        for n in range(count):
            run_time = f"2026-11-{n + 1:02d}T12:00:00Z"
            record(store, judged, n, time=run_time)
            ids.append(f"{judged.run.run_id}-{n:04d}")
        return ids
    finally:
        store.close()


def tamper(url: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run SQL (``?`` placeholders) on the store behind affidavit's back, triggers out of the way."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        try:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                conn.execute(f"DROP TRIGGER {name}")
            for sql, params in statements:
                conn.execute(sql, tuple(params))
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        for table in TABLES:
            pg.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql, params in statements:
            pg.execute(sql.replace("?", "%s"), tuple(params))


def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query run directly on the store."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return [tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), tuple(params)).fetchall()]
