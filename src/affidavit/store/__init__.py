"""Run history: every gate's decision kept, append-only, in a hash chain (issue 12).

``open_store(url)`` picks the back end from the URL's scheme through the explicit table
``STORES``: ``sqlite:///abs/path.db``, ``sqlite:rel/path.db`` or a plain file path (the embedded
default), ``postgresql://user@host:port/db`` (shared). Without ``--store`` or ``AFFIDAVIT_STORE``
the history is ``history.db`` in the platform's data folder (``default_store_url``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from affidavit.store.interface import (
    ChainProblem,
    ChainReport,
    Recorded,
    RunKey,
    RunQuery,
    RunSummary,
    ScannedRun,
    Store,
    StoredRun,
    StoreError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "STORES",
    "ChainProblem",
    "ChainReport",
    "Recorded",
    "RunKey",
    "RunQuery",
    "RunSummary",
    "ScannedRun",
    "Store",
    "StoreError",
    "StoredRun",
    "default_store_url",
    "open_store",
]


def _open_sqlite(url: str, create: bool) -> Store:
    from affidavit.store.sqlite import SqliteStore

    return SqliteStore.open(sqlite_path(url), create=create)


def _open_postgres(url: str, create: bool) -> Store:
    from affidavit.store.postgres import PostgresStore

    return PostgresStore.open(url)


#: The back ends, by URL scheme.
STORES: Mapping[str, Callable[[str, bool], Store]] = {
    "sqlite": _open_sqlite,
    "postgresql": _open_postgres,
    "postgres": _open_postgres,
}


def scheme(url: str) -> str:
    """The back end a URL names: its scheme, ``sqlite`` for a plain path."""
    head, sep, _ = url.partition(":")
    if sep and head.isalpha() and len(head) > 1:
        return head.lower()
    return "sqlite"


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL: ``sqlite:///var/x.db`` is ``/var/x.db``, ``sqlite:x.db`` is relative."""
    if scheme(url) != "sqlite" or not url.lower().startswith("sqlite:"):
        return Path(url)
    rest = url[len("sqlite:") :]
    if rest.startswith("//"):
        rest = rest[2:]
        if rest.startswith("//"):  # sqlite:////abs/path (four slashes) names the same file
            rest = "/" + rest.lstrip("/")
    if not rest:
        raise StoreError("the store URL sqlite: names no file", hint="sqlite:///path/to/history.db")
    return Path(rest)


def open_store(url: str, *, create: bool = True) -> Store:
    """Open (and migrate) the store a URL names; ``StoreError`` when it cannot be reached. Without
    ``create`` a SQLite file that does not exist is refused instead of created (the reading commands)."""
    opener = STORES.get(scheme(url))
    if opener is None:
        raise StoreError(
            f"the store URL scheme {scheme(url)!r} is not known",
            hint="use sqlite:///path/to/history.db or postgresql://user@host/db",
        )
    return opener(url, create)


def default_store_url(environ: Mapping[str, str] | None = None) -> str:
    """``AFFIDAVIT_STORE`` when set, else ``history.db`` in the platform's data folder:
    ``$XDG_DATA_HOME/affidavit`` (``~/.local/share/affidavit``) on Linux and other Unix,
    ``~/Library/Application Support/affidavit`` on macOS, ``%LOCALAPPDATA%\\affidavit`` on Windows."""
    env = os.environ if environ is None else environ
    if env.get("AFFIDAVIT_STORE"):
        return env["AFFIDAVIT_STORE"]
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        xdg = env.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return f"sqlite://{base / 'affidavit' / 'history.db'}"
