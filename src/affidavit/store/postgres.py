"""The shared store: a PostgreSQL database (psycopg 3).

Appends are serialised by a row lock on ``chain_head`` (``SELECT ... FOR UPDATE``) taken first in
the transaction, so two gates never link to the same previous run; migrations by a transaction-
scoped advisory lock, so sixteen gates meeting an empty database create the schema once. Every
statement of a run commits together or not at all. ``verify`` reads one REPEATABLE READ snapshot
through server-side cursors.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from affidavit.store.interface import StoreError
from affidavit.store.migrations import POSTGRES
from affidavit.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Sequence

#: pg_advisory_xact_lock key of affidavit's migrations ("affidavit" in ASCII, truncated to 63 bits).
MIGRATION_LOCK = 0x6166666964617669
CONNECT_TIMEOUT = 10
_HINT = "check the --store URL (or AFFIDAVIT_STORE) and that the server is up, or pass --no-record"
_names = itertools.count()
#: What ``pg_export_snapshot`` returns (``00000003-0000001B-1``): hex groups and a number.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]{8}(-[0-9A-F]{8})*-[0-9]+")


def display_url(url: str) -> str:
    """The URL without its password (``postgresql://user:***@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class PostgresStore(SqlStore):
    """A history in a PostgreSQL database."""

    dialect = POSTGRES
    placeholder = "%s"

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        """Connect to ``url`` (``postgresql://user@host:port/db``) and migrate the schema."""
        store = cls._connected(url)
        try:
            store.migrate()
        except StoreError:
            store.close()
            raise
        store._url = url
        return store

    #: The URL the store was opened with (held in memory only, for ``another_reader``).
    _url: str | None = None
    #: The exported snapshot every ``_snapshot`` of this connection joins (``another_reader``).
    _joined: str | None = None

    def share_snapshot(self) -> str:
        """Inside ``pinned``: the id of its snapshot, for another connection (``another_reader``)
        to read exactly the same state while this one's transaction stays open
        (``pg_export_snapshot``)."""
        if not self._pinned:
            raise RuntimeError("share_snapshot is only for a pinned snapshot")
        row = self._guard(lambda: self._one("SELECT pg_export_snapshot()"))
        assert row is not None
        return str(row[0])

    def reader_url(self) -> str:
        """What ``another_reader`` needs to connect as this store did (the URL, password and all:
        never print it, pass it only to another process of this export)."""
        if self._url is None:
            raise RuntimeError("the store was not opened from a URL")
        return self._url

    @classmethod
    def another_reader(cls, url: str, snapshot: str) -> PostgresStore:
        """A second connection to the store at ``url`` whose every read (``pinned``, ``scan``)
        sees the snapshot another connection shared (``share_snapshot``), not the store as it is
        now. No migration: it only reads."""
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise StoreError("the shared snapshot's id is not one PostgreSQL makes")
        store = cls._connected(url)
        store._joined = snapshot
        return store

    @classmethod
    def _connected(cls, url: str) -> PostgresStore:
        """A store on a new connection to ``url`` (autocommit: transactions are explicit)."""
        import psycopg

        display = display_url(url)
        try:
            conn = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="affidavit"
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"the run history {display} cannot be reached: {_reason(exc)}", hint=_HINT
            ) from None
        store = cls(conn, display)
        return store

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._conn.transaction():
            self._conn.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
            yield

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            yield

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        with self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if self._joined is not None:  # checked against _SNAPSHOT_ID: quoting is not needed
                self._conn.execute(f"SET TRANSACTION SNAPSHOT '{self._joined}'")
            yield

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._conn.cursor(name=f"affidavit_{next(_names)}") as cursor:
            cursor.execute(sql, tuple(params))
            yield from _prefetched(cursor)

    def _failure(self, exc: Exception) -> StoreError:
        return StoreError(f"the run history {self._display} cannot be used: {_reason(exc)}", hint=_HINT)

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.Error,)


def _reason(exc: Exception) -> str:
    """The server's or driver's first line (psycopg never puts the password in it)."""
    return str(exc).strip().split("\n", 1)[0][:300] or type(exc).__name__


#: Rows fetched from a server-side cursor at once, and batches fetched ahead of the reader.
_BATCH, _AHEAD = 2000, 2


def _prefetched(cursor: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of a server-side cursor, fetched ``_BATCH`` at a time by a thread of their own while
    the caller works on the rows before them: the server makes the next batch while this process
    is busy (fetched in step, each batch was waited for; psycopg waits for the server without the
    interpreter's lock). At most ``_AHEAD`` batches wait, so memory stays bounded. A failure of the
    fetch is raised to the reader; a reader that stops early stops the thread before the cursor
    closes. The connection's lock keeps the reader's own queries (``get``) apart from the fetches."""
    import queue
    import threading

    batches: queue.Queue[list[tuple[Any, ...]] | BaseException] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(_BATCH)
                while not stop.is_set():
                    try:
                        batches.put(rows, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not rows:
                    return
        except BaseException as exc:  # noqa: BLE001  (raised again in the reader's thread)
            batches.put(exc)

    thread = threading.Thread(target=fetch, name="affidavit-fetch", daemon=True)
    thread.start()
    try:
        while True:
            batch = batches.get()
            if isinstance(batch, BaseException):
                raise batch
            if not batch:
                return
            yield from batch
    finally:
        stop.set()
        while thread.is_alive():  # the fetch may be waiting to put, or on the server
            try:
                batches.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()
