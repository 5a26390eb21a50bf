"""A large period read by two processes at once: the later half of its runs checked, counted and
proved by a second process while this one takes the earlier half (PostgreSQL only).

Reading a run costs this process far more than it costs the database (the chain hash, the summary,
the population line, the counters: tens of microseconds against the driver's few), so a million
runs kept one core busy for a minute while the other waited. The period is cut at its middle run,
rounded down to the first run of a proof shard (``middle``, ``Store.key_at``); both halves are read from **one snapshot** (``PostgresStore.share_snapshot``:
the second process's connection joins the first's transaction, so a run recorded meanwhile is in
neither half, as for one scan), and each half goes through the same code (``source.period_runs``,
``build.PeriodBuilder``, ``deployments.Reconciler``). The second process writes its population and
waiver lines to files of its own and hands back what its builder and reconciler hold
(``BuilderPart``); this process appends the lines to its own files, hashing them on the way, and
takes the counters in (``PeriodBuilder.absorb``), which leaves it exactly as if it had read every
run itself. Once this process has built the Merkle tree (into a file the second one reads), the
second writes the proof shards of its runs while this one writes the earlier ones, and hands back
their ``SHA256SUMS`` lines and the runs of its half that may be drawn for the sample. Every file
of the export is the same byte for byte as one process's (``tests/export/test_split.py``).

An error in either half stops the export: this process's own at once, the second's when its half
is done (the same message a single reader gives). The second process is a fresh interpreter
(``SecondHalf``: nothing of this one's connection or threads is shared); the store's URL reaches
it through a pipe, never its command line or environment.

SQLite does not need this (a hundred thousand runs take a few seconds) and cannot give two
connections one snapshot; neither does a small period (the second interpreter costs a few tenths
of a second): ``SPLIT_FROM``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.errors import Error
from affidavit.export.build import PeriodBuilder
from affidavit.export.deployments import Reconciler
from affidavit.export.sample import draw
from affidavit.export.source import period_runs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from affidavit.export.build import BuilderPart
    from affidavit.export.deployments import Deployment
    from affidavit.export.period import Period
    from affidavit.export.sample import SamplePlan
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

    url: str = field(repr=False)  # the password in it is never shown
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


def middle(runs: int, shard_size: int) -> int:
    """The population position at which the second process takes over: half way, on the first run
    of a proof shard when there are more than two shards' runs (it can then write the later
    shards too)."""
    half = runs // 2
    return half - half % shard_size if half >= shard_size else half


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class SecondHalf:
    """The second process, started on the runs from the one keyed ``start`` (at population
    position ``position``) to the end of the period; ``finish`` waits for it and takes its runs
    into a builder and reconciler.

    A new interpreter (``sys.executable``) that imports only this module, with this process's
    ``sys.path``: never the caller's main module, so a script that exports needs no
    ``if __name__ == "__main__"`` guard (as ``multiprocessing``'s spawn would). The job, the URL in
    it, goes pickled down its standard input; its messages (how far it got, then its part or its
    error) come pickled up its standard output, read by a thread of this process."""

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
        import threading

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
        self.position = position
        self.tree_path = self._folder / "merkle"
        self._done = 0
        self._settled = False  # it answered all it was asked: it only waits to be let go
        self._answers: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._log = (self._folder / "stderr").open("w+b")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            close_fds=True,
        )
        self._reader = threading.Thread(target=self._listen, name="affidavit-second-half", daemon=True)
        self._reader.start()
        self._send(list(sys.path))
        self._send(job)

    def _send(self, message: Any) -> None:
        """One pickled message down the second process's input (lost if it stopped: ``finish`` and
        ``result`` say so)."""
        assert self._process.stdin is not None
        try:
            pickle.dump(message, self._process.stdin)
            self._process.stdin.flush()
        except (OSError, ValueError):
            pass

    def _listen(self) -> None:
        """Read the second process's messages until it closes its output (then ``None``)."""
        assert self._process.stdout is not None
        try:
            while True:
                try:
                    message = pickle.load(self._process.stdout)
                except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                    return
                if message[0] == "done":
                    self._done = int(message[1])
                else:
                    self._answers.put(message)
        finally:
            self._answers.put(None)

    def done(self) -> int:
        """How many runs (then proofs) the second process has done so far (for progress)."""
        return self._done

    def _answer(self, *kinds: str) -> tuple[Any, ...]:
        """The second process's next answer, of one of ``kinds`` or an error (raised)."""
        message = self._answers.get()
        self._settled = True
        if message is None or message[0] not in (*kinds, "error"):
            code = self._process.wait()
            raise Error(
                f"the second reader of the period stopped without an answer (exit code {code}"
                f"{_last_error(self._log)})"
            )
        if message[0] == "error":
            _, cls, text, hint = message
            raise _error_class(cls)(text, hint=hint)
        return message

    def finish(self, builder: PeriodBuilder, reconciler: Reconciler) -> None:
        """Wait for the second process's runs and take them into ``builder`` and ``reconciler``; its
        error, if it stopped on one, raised here."""
        message = self._answer("ok")
        part: BuilderPart = message[1]
        with (
            (self._folder / _POPULATION).open("rb") as population,
            (self._folder / _WAIVERS).open("rb") as waivers,
        ):
            builder.absorb(part, population, waivers)
        reconciler.absorb(message[2])

    def proofs(
        self, folder: Path, root: bytes, size: int, period: str, sample: SamplePlan, shard_size: int
    ) -> None:
        """Have the second process write the proof shards of its runs into ``folder`` (the tree
        built into ``tree_path``; its first run the first of a shard); ``result`` waits for them."""
        if self.position % shard_size:
            raise ValueError("the second half does not start a shard")
        self._done = 0
        self._settled = False
        self._send(("proofs", str(folder), root, size, period, sample, shard_size))

    def result(self) -> tuple[str, list[tuple[int, str]]]:
        """The lines of ``SHA256SUMS`` for the shards the second process wrote, in order, and its
        runs that may be drawn for the sample (``sample.draw`` over its runs alone)."""
        message = self._answer("proofs")
        return message[1], message[2]

    def close(self) -> None:
        """Let the second process end once it answered all it was asked, else stop it (this process
        failed, or was interrupted); remove its files."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5 if self._settled else 0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()
        shutil.rmtree(self._folder, ignore_errors=True)


#: What the second interpreter runs: this process's sys.path, then ``_child``.
_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from affidavit.export.split import _child; _child()"
)


def _last_error(log: Any) -> str:
    """The class of the exception the second process died of, from the last line of its stderr
    (never the message: it could quote a value)."""
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else ""
    name = last.split(":", 1)[0].strip()
    return f": {name}" if name.replace(".", "").replace("_", "").isalnum() and name else ""


def _error_class(name: str) -> Callable[..., Error]:
    """The class of an error the second process raised, by name (affidavit's own only)."""
    from affidavit.export.write import ExportError
    from affidavit.store.interface import StoreError

    return {"StoreError": StoreError, "ExportError": ExportError}.get(name, Error)


def _child() -> None:
    """The second process: read the job from stdin, its half of the period, write its lines, send
    back its part; then, when asked, write its runs' proofs. Its own output is kept for the
    messages (anything printed goes to stderr)."""
    from affidavit.export.write import SWITCH_INTERVAL

    sys.setswitchinterval(SWITCH_INTERVAL)  # its fetching and writing threads, as in the first
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    job: _Job = pickle.load(sys.stdin.buffer)

    def tell(n: int) -> None:
        pickle.dump(("done", n), out)
        out.flush()

    answer: tuple[Any, ...]
    try:
        answer = _read(job, tell)
    except Error as exc:
        answer = ("error", type(exc).__name__, exc.message, exc.hint)
    except OSError as exc:  # its part files
        answer = (
            "error",
            "ExportError",
            f"the second reader of the period could not write: {exc.strerror}",
            None,
        )
    pickle.dump(answer, out)
    out.flush()
    if answer[0] == "ok":
        try:
            asked = pickle.load(sys.stdin.buffer)
        except EOFError:
            asked = None
        if asked is not None and asked[0] == "proofs":
            try:
                answer = _proofs(job, *asked[1:], tell=tell)
            except (Error, OSError, ValueError) as exc:
                answer = (
                    "error",
                    "ExportError",
                    f"the second writer of the proofs failed: {type(exc).__name__}",
                    None,
                )
            pickle.dump(answer, out)
    out.close()


def _proofs(
    job: _Job,
    folder: str,
    root: bytes,
    size: int,
    period: str,
    sample: SamplePlan,
    shard_size: int,
    *,
    tell: Callable[[int], None],
) -> tuple[str, str, list[tuple[int, str]]]:
    """The proof shards of the runs from ``job.position`` on, written into ``folder`` from the tree
    the first process built and the population lines this process wrote."""
    from affidavit.export.merkle import MerkleLevels
    from affidavit.export.proofs import shards
    from affidavit.export.write import ShardWriter, _lines, _run_id

    mine = Path(job.folder)
    tree = MerkleLevels.built(mine / "merkle", size)
    position = job.position

    def runs() -> Iterator[tuple[int, str]]:
        nonlocal position
        with ShardWriter(Path(folder), mine / "proofs.sums") as writer:
            for name, lines, entries in shards(
                tree, _lines(mine / _POPULATION), period, root, shard_size, first=job.position
            ):
                writer.write(name, lines)
                for entry in entries:
                    yield position, _run_id(entry)
                    position += 1
                tell(position - job.position)

    try:
        ids = draw(sample, runs())
    finally:
        tree.close()
    if position != size:
        raise ValueError("the population part does not end the tree")
    return "proofs", (mine / "proofs.sums").read_text(encoding="utf-8"), ids


def _read(job: _Job, tell: Callable[[int], None]) -> tuple[str, BuilderPart, Any]:
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
                        tell(n)
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
