"""The embedded store: one SQLite file (stdlib ``sqlite3``), in WAL mode.

Appends are serialised by ``BEGIN IMMEDIATE`` (the write lock is taken before the chain head is
read, so two gates never link to the same previous run) and wait up to ``BUSY_TIMEOUT`` seconds for
one another. ``synchronous=FULL``: a committed run survives a crash of the process and of the
machine; an uncommitted one leaves nothing (SQLite's rollback of the WAL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.store.interface import StoreError
from affidavit.store.migrations import SQLITE
from affidavit.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Sequence

#: How long a writer waits for another to finish (16 gates at once finish well within it).
BUSY_TIMEOUT = 120.0


class SqliteStore(SqlStore):
    """A history in one SQLite file."""

    dialect = SQLITE

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> SqliteStore:
        """Open (creating the file and its folder when absent, unless ``create`` is false) and
        migrate the store at ``path``."""
        display = f"sqlite://{path}" if path.is_absolute() else f"sqlite:{path}"
        if not create and not path.is_file():
            raise StoreError(
                f"there is no run history at {display}",
                hint="record runs with `affidavit gate` first, or name the store with --store or AFFIDAVIT_STORE",
            )
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # new folders: the user's only
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"the run history {display} cannot be opened: {_reason(exc)}",
                hint="pass another --store (or AFFIDAVIT_STORE), or --no-record to skip recording",
            ) from None
        store = cls(conn, display)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise store._failure(exc) from None
        if mode is None or str(mode[0]).lower() != "wal":
            conn.close()
            raise StoreError(f"the run history {display} cannot use write-ahead logging")
        try:
            store.migrate()
        except StoreError:
            conn.close()
            raise
        return store

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    _migration_lock = _write

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self._conn.cursor()
        cursor.execute(sql, tuple(params))
        while True:
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            yield from rows

    def _failure(self, exc: Exception) -> StoreError:
        return StoreError(
            f"the run history {self._display} cannot be used: {_reason(exc)}",
            hint="pass another --store (or AFFIDAVIT_STORE), or --no-record to skip recording",
        )

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error, OSError)


def _reason(exc: Exception) -> str:
    """The driver's reason without any path or SQL it may quote."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc).split("\n", 1)[0][:200] or type(exc).__name__
