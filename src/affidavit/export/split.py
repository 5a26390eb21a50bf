"""A large period read by two processes at once: the later half of its runs checked and counted by
a second process while this one takes the earlier half (PostgreSQL only).

Reading a run costs this process far more than it costs the database (the chain hash, the summary,
the population line, the counters: tens of microseconds against the driver's few), so a million
runs kept one core busy for a minute while the other waited. The period is cut at its middle run
(``Store.key_at``), both halves are read from **one snapshot** (``PostgresStore.share_snapshot``:
the second process's connection joins the first's transaction, so a run recorded meanwhile is in
neither half, as for one scan), and each half goes through the same code (``source.period_runs``,
``build.PeriodBuilder``, ``deployments.Reconciler``). The second process writes its population and
waiver lines to files of its own and hands back what its builder and reconciler hold
(``BuilderPart``); this process appends the lines to its own files, hashing them on the way, and
takes the counters in (``PeriodBuilder.absorb``), which leaves it exactly as if it had read every
run itself: every file of the export is the same byte for byte (``tests/export/test_split.py``).

An error in either half stops the export: this process's own at once, the second's when its half
is done (the same message a single reader gives). The second process is started with ``spawn``
(a fresh interpreter: nothing of this one's connection or threads is shared); the store's URL
reaches it through spawn's pipe, never its command line or environment.

SQLite does not need this (a hundred thousand runs take a few seconds) and cannot give two
connections one snapshot; neither does a small period (the second interpreter costs a few tenths
of a second): ``SPLIT_FROM``.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.errors import Error
from affidavit.export.build import PeriodBuilder
from affidavit.export.deployments import Reconciler
from affidavit.export.source import period_runs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.connection import Connection

    from affidavit.export.build import BuilderPart
    from affidavit.export.deployments import Deployment
    from affidavit.export.period import Period
    from affidavit.export.source import PeriodRun
    from affidavit.store.interface import RunKey, Store

#: The fewest runs a period must have to be read by two processes.
SPLIT_FROM = 50_000
_POPULATION, _WAIVERS = "population.part", "waivers.part"
#: How often (in runs) the second process says how far it got.
_TELL_EVERY = 1024


@dataclass(frozen=True)
class _Job:
    """What the second process needs: where to read, which runs, where to write."""

    url: str
    snapshot: str
    period: Period
    framework: str
    environment: str | None
    start: RunKey
    position: int
    deployments: tuple[tuple[str, list[Deployment]], ...]
    folder: str


def splittable(store: Store, runs: int) -> bool:
    """Whether a period of ``runs`` runs in ``store`` is worth reading with two processes."""
    from affidavit.store.postgres import PostgresStore

    return isinstance(store, PostgresStore) and runs >= SPLIT_FROM and _cpus() >= 2


def middle(runs: int) -> int:
    """The population position at which the second process takes over."""
    return runs // 2


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class SecondHalf:
    """The second process, started on the runs from the one keyed ``start`` (at population
    position ``position``) to the end of the period; ``finish`` waits for it and takes its runs
    into a builder and reconciler."""

    def __init__(
        self,
        store: Store,
        period: Period,
        framework: str,
        environment: str | None,
        start: RunKey,
        position: int,
        deployments: tuple[tuple[str, list[Deployment]], ...],
        near: Path,
    ) -> None:
        from affidavit.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        self._folder = Path(tempfile.mkdtemp(prefix=".affidavit-second-half-", dir=near))
        job = _Job(
            store.reader_url(),
            store.share_snapshot(),
            period,
            framework,
            environment,
            start,
            position,
            deployments,
            str(self._folder),
        )
        context = multiprocessing.get_context("spawn")
        self._done = context.Value("q", 0, lock=False)
        self._pipe, theirs = context.Pipe(duplex=False)
        # the job, the URL in it, reaches the new interpreter pickled through spawn's own pipe
        self._process = context.Process(
            target=_second_half, args=(job, theirs, self._done), name="affidavit-export-half", daemon=True
        )
        self._process.start()
        theirs.close()

    def done(self) -> int:
        """How many runs the second process has read so far (for progress)."""
        return int(self._done.value)

    def finish(self, builder: PeriodBuilder, reconciler: Reconciler) -> None:
        """Wait for the second process and take its runs into ``builder`` and ``reconciler``; its
        error, if it stopped on one, raised here."""
        try:
            message = self._pipe.recv()
        except EOFError:
            self._process.join()
            raise Error(
                f"the second reader of the period stopped without an answer (exit code {self._process.exitcode})"
            ) from None
        self._process.join()
        if message[0] == "error":
            _, cls, text, hint = message
            raise _error_class(cls)(text, hint=hint)
        part: BuilderPart = message[1]
        with (
            (self._folder / _POPULATION).open("rb") as population,
            (self._folder / _WAIVERS).open("rb") as waivers,
        ):
            builder.absorb(part, population, waivers)
        reconciler.absorb(message[2])

    def close(self) -> None:
        """Stop the second process if it still runs; remove its files."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._pipe.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _error_class(name: str) -> Callable[..., Error]:
    """The class of an error the second process raised, by name (affidavit's own only)."""
    from affidavit.export.write import ExportError
    from affidavit.store.interface import StoreError

    return {"StoreError": StoreError, "ExportError": ExportError}.get(name, Error)


def _second_half(job: _Job, pipe: Connection, done: Any) -> None:
    """The second process: read its half of the period, write its lines, send back its part."""
    try:
        part = _read(job, done)
    except Error as exc:
        pipe.send(("error", type(exc).__name__, exc.message, exc.hint))
    except OSError as exc:  # its part files
        pipe.send(
            ("error", "ExportError", f"the second reader of the period could not write: {exc.strerror}", None)
        )
    else:
        pipe.send(part)
    finally:
        pipe.close()


def _read(job: _Job, done: Any) -> tuple[str, BuilderPart, Any]:
    from affidavit.export.write import check_run_id
    from affidavit.store.postgres import PostgresStore

    store = PostgresStore.another_reader(job.url, job.snapshot)
    folder = Path(job.folder)
    try:
        with (
            store.pinned(),
            (folder / _POPULATION).open("xb") as population,
            (folder / _WAIVERS).open("xb") as waivers,
        ):
            builder = PeriodBuilder(job.period, job.framework, population, waivers, start=job.position)
            reconciler = Reconciler(list(job.deployments), job.period.since, job.period.until)
            try:
                for n, run in enumerate(_runs(store, job), 1):
                    check_run_id(run, store)
                    builder.add(run)
                    observe(reconciler, run)
                    if not n % _TELL_EVERY:
                        done.value = n
                return "ok", builder.part(), reconciler.part()
            finally:
                builder.tree.close()
    finally:
        store.close()


def _runs(store: Store, job: _Job) -> Iterator[PeriodRun]:
    return period_runs(store, job.period, job.environment, start=job.start)


def observe(reconciler: Reconciler, run: PeriodRun) -> None:
    """Note one run of the period in the reconciler."""
    reconciler.observe(run.environment, run.subject_digest, run.commit, run.decision, run.time, run.run_id)
