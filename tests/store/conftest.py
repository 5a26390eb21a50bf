"""Fixtures of the store contract: a private PostgreSQL cluster, a fresh store per test on each back
end, and real runs (the demo release judged by the pipeline) to record.

The PostgreSQL server is real: ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package; ``.ci/run`` installs it) make a cluster in a temporary folder, owned by an
unprivileged user when the tests run as root (the server refuses to run as root), listening on a
free port of 127.0.0.1 only, with trust authentication for that address; it is stopped and removed
at the end of the session. Without the binaries the fixture fails: the contract must run on both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from affidavit.model import Evidence, Run

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "evidence" / "demo"
PG_USER = "affidavit-pg"


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL server binaries are missing: apt-get install postgresql (as .ci/run does)"
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    """``argv`` run as the unprivileged cluster owner when we are root."""
    return argv if owner is None else ["runuser", "-u", owner, "--", *argv]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A private PostgreSQL cluster; yields its base URL (database ``postgres``)."""
    binaries = _pg_bin()
    owner = None
    if os.geteuid() == 0:
        owner = PG_USER
        try:
            pwd.getpwnam(owner)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", owner], check=True)
    folder = Path(tempfile.mkdtemp(prefix="affidavit-pg-"))
    data, sockets = folder / "data", folder / "sock"
    sockets.mkdir()
    if owner is not None:
        info = pwd.getpwnam(owner)
        for path in (folder, sockets):
            os.chown(path, info.pw_uid, info.pw_gid)
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        _as_owner(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "affidavit",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            owner,
        ),
        **run,  # type: ignore[call-overload]
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=60"
    subprocess.run(
        _as_owner(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ],
            owner,
        ),
        **run,  # type: ignore[call-overload]
    )
    try:
        yield f"postgresql://affidavit@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database of the private cluster for one test."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[-50:]
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return str(request.getfixturevalue("pg_url"))


@dataclasses.dataclass(frozen=True)
class Judged:
    """A run the pipeline decided and the evidence it judged."""

    run: Run
    evidence: list[Evidence]


def judge(release: str, now: datetime | None = None) -> Judged:
    """The demo release ``go`` or ``no-go`` judged by the real pipeline (a replay of ``now``)."""
    from affidavit.pipeline import GateRequest, run_gate, split_subject

    name, digest = split_subject(f"ghcr.io/acme/shop@{(DEMO / 'SUBJECT_DIGEST').read_text().strip()}")
    request = GateRequest(
        evidence_paths=(DEMO / release,),
        environment="prod",
        subject_name=name,
        subject_digest=digest,
        now=now or datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        replay=True,
        commit=(DEMO / "COMMIT").read_text().strip(),
        param_files=(DEMO / "params.yaml",),
        public_key=DEMO / "cosign.pub",
    )
    judged = run_gate(request)
    return Judged(judged.run, judged.evidence)


@pytest.fixture(scope="session")
def demo_runs() -> dict[str, Judged]:
    """The demo's two releases, judged once for the session."""
    return {release: judge(release) for release in ("go", "no-go")}


def variant(judged: Judged, n: int, **changes: object) -> Run:
    """``judged.run`` as another run: its own id (``-<n>``) and any field changed."""
    return dataclasses.replace(judged.run, run_id=f"{judged.run.run_id}-{n:04d}", **changes)  # type: ignore[arg-type]


@contextlib.contextmanager
def opened(url: str) -> Iterator[object]:
    """A store, closed afterwards."""
    from affidavit.store import open_store

    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
