"""The shared store: a PostgreSQL database (psycopg 3).

Appends are serialised by a row lock on ``chain_head`` (``SELECT ... FOR UPDATE``) taken first in
the transaction, so two gates never link to the same previous run; migrations by a transaction-
scoped advisory lock, so sixteen gates meeting an empty database create the schema once. Every
statement of a run commits together or not at all. ``verify`` reads one REPEATABLE READ snapshot
through server-side cursors.
"""

from __future__ import annotations

import itertools
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
        try:
            store.migrate()
        except StoreError:
            conn.close()
            raise
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
            yield

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._conn.cursor(name=f"affidavit_{next(_names)}") as cursor:
            cursor.itersize = 2000
            cursor.execute(sql, tuple(params))
            yield from cursor

    def _failure(self, exc: Exception) -> StoreError:
        return StoreError(f"the run history {self._display} cannot be used: {_reason(exc)}", hint=_HINT)

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.Error,)


def _reason(exc: Exception) -> str:
    """The server's or driver's first line (psycopg never puts the password in it)."""
    return str(exc).strip().split("\n", 1)[0][:300] or type(exc).__name__
