"""Write a period's export folder, once, staged and then renamed into place.

Layout of ``--out DIR``::

    period.json                  affidavit.period/v1 (schema: schemas/period.v1.schema.json): the
                                 period, framework, population hash and Merkle root, per-control
                                 status, the waiver and policy change ledgers, the sample
    population.jsonl             one canonical JSON line per run, oldest first (build.py)
    waivers.jsonl                one line per waiver applied in a run: what it hid, where
    proofs/NNNNNN.jsonl          the runs' inclusion proofs in the Merkle tree, one line each, 1,024
                                 runs per file, in population order (proofs.py, merkle.py)
    AUDIT_PERIOD_EVIDENCE.md     the report for people (markdown.py)
    audit-period.html            the same as one self-contained page with weekly trends (html.py)
    assessment-results.json      the period as OSCAL 1.1.3 assessment results (oscal.py)
    attestation.intoto.jsonl     signed exports: a DSSE envelope over an in-toto Statement whose
                                 subjects are every file above
    proofs/SHA256SUMS            every proof file, in order, coreutils format
    SHA256SUMS                   every file above at the top, proofs/SHA256SUMS and the envelope
    SHA256SUMS.sig               signed exports: a signature over SHA256SUMS (as for a gate bundle,
                                 ``bundle.sign``: ``openssl`` checks it)

The folder is written into a private temporary folder beside ``DIR`` and renamed to ``DIR`` at
the end: a failed export leaves nothing, and an existing ``DIR`` is never written into.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from affidavit import __version__
from affidavit.bundle.sign import ENVELOPE_NAME, SIGNATURE_NAME, SUMS_NAME
from affidavit.errors import Error, UsageError
from affidavit.export import PERIOD_NAME, split
from affidavit.export.build import PeriodBuilder, canonical
from affidavit.export.deployments import Reconciler
from affidavit.export.merkle import MerkleLevels
from affidavit.export.proofs import MERKLE_ALGORITHM, SHARD_SIZE, layout, shards
from affidavit.export.sample import SamplePlan, draw, plan
from affidavit.export.source import period_runs
from affidavit.jsonwrite import indented_json
from affidavit.store.interface import RunQuery

if TYPE_CHECKING:
    from collections.abc import Iterator

    from affidavit.bundle.sign import Signer
    from affidavit.export.deployments import CommitTimes, Deployment
    from affidavit.export.period import Period
    from affidavit.export.source import PeriodRun
    from affidavit.store.interface import Store

PERIOD_SCHEMA = "affidavit.period/v1"
POPULATION_NAME = "population.jsonl"
WAIVERS_NAME = "waivers.jsonl"
REPORT_NAME = "AUDIT_PERIOD_EVIDENCE.md"
HTML_NAME = "audit-period.html"
OSCAL_NAME = "assessment-results.json"
PROOFS_DIR = "proofs"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "urn:affidavit:audit-period:v1"
#: The frameworks ``--framework`` names, to the matrix framework ids of controls/.
FRAMEWORKS = {"soc2": "soc2", "iso27001": "iso27001-2022", "iso27001-2022": "iso27001-2022", "ssdf": "ssdf"}
#: What a run id must look like to be exported (found in a proof line by its text; the gate's ids are
#: far narrower): the export refuses another, verify reads no other.
SAFE_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class ExportError(Error):
    """The period could not be exported (exit 3)."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export: the period, framework, environment, sample and where to."""

    period: Period
    framework: str
    environment: str | None
    out: Path
    sample_seed: int
    sample_size: int | None = None
    signer: Signer | None = None
    deployments: tuple[tuple[str, list[Deployment]], ...] = ()
    commits: CommitTimes | None = None


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was written: the folder and its period document."""

    out: Path
    period: dict[str, Any]


def framework_id(name: str) -> str:
    """The matrix framework id of a ``--framework`` name; ``UsageError`` for another."""
    found = FRAMEWORKS.get(name.strip().lower())
    if found is None:
        raise UsageError(
            "--framework is not one affidavit exports", hint=f"use one of: {', '.join(sorted(FRAMEWORKS))}"
        )
    return found


class ExportProgress(Protocol):
    """What the export tells of its progress: items done (``progress(done)``), and when it turns
    from reading the runs to writing their proofs (``phase``). ``cli.progress.Progress`` is one."""

    def __call__(self, done: int) -> None:
        """``done`` items of the current phase are done."""

    def phase(self, what: str, total: int | None) -> None:
        """From now on, ``what`` is counted, out of ``total``."""


def export_period(
    store: Store, request: ExportRequest, progress: ExportProgress | None = None
) -> ExportResult:
    """Write the export of ``request.period`` from ``store`` (see the module docstring)."""
    out = request.out
    if out.exists() or out.is_symlink():
        raise UsageError(
            f"{out}: --out already exists; an export is never written over", hint="name a new folder"
        )
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    # The threads that fetch the next rows and write the proof files each give up the interpreter's
    # lock many times a batch (for the database, the disk, the hash) and wait for it back while this
    # thread computes: at the default 5 ms a wait, a million runs' proofs took 15 to 19 s instead of
    # 9 to 11 s (measured). A shorter interval for the export only.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        period_doc = _write(store, request, stage, progress)
        os.rename(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        sys.setswitchinterval(interval)
    return ExportResult(out, period_doc)


#: Seconds a thread runs before another waiting for the interpreter's lock gets it, while exporting.
SWITCH_INTERVAL = 0.0005


def _write(
    store: Store, request: ExportRequest, stage: Path, progress: ExportProgress | None
) -> dict[str, Any]:
    """Everything of the export into ``stage``; period.json's document."""
    (stage / PROOFS_DIR).mkdir()
    with contextlib.ExitStack() as held:
        population = held.enter_context((stage / POPULATION_NAME).open("wb"))
        waivers = held.enter_context((stage / WAIVERS_NAME).open("wb"))
        builder = PeriodBuilder(request.period, request.framework, population, waivers)
        held.callback(lambda: builder.tree.close())
        reconciler = Reconciler(list(request.deployments), request.period.since, request.period.until)
        half = _read_runs(store, request, stage.parent, builder, reconciler, progress)
        if half is not None:
            held.callback(half.close)
        population.close()
        waivers.close()
        sample_plan = plan(
            request.sample_seed,
            builder.population_sha256,
            builder.runs,
            request.period.days,
            request.sample_size,
        )
        if progress is not None:
            progress.phase("proofs written", builder.runs)
        root = builder.tree.build()
        picked = dict(
            draw(sample_plan, _write_proofs(stage, request, builder, root, progress, half, sample_plan))
        )
    sampled = [
        _sampled(store, json.loads(line))
        for i, line in enumerate(_lines(stage / POPULATION_NAME))
        if i in picked
    ]
    controls = builder.controls_json()
    matrix = None
    if not controls:  # no run judged the framework: the installed matrix's controls, unassessed
        from affidavit.controls.loader import load_matrices

        matrix = {m.framework: m for m in load_matrices()}.get(request.framework)
    if not controls and matrix is not None:
        controls = [
            {
                "id": c.id,
                "title": c.title,
                "coverage": c.coverage.value,
                "rules": sorted(c.rules),
                "counts": {
                    "gated_promotions": 0,
                    "passed": 0,
                    "failed": 0,
                    "waived": 0,
                    "not_assessed": builder.runs,
                },
                "days": {
                    "operated": 0,
                    "failed": 0,
                    "manual": 0,
                    "not_assessed": len(builder.day_runs),
                    "no_promotion": request.period.days - len(builder.day_runs),
                },
                "daily": "",
                "weekly_pass_rate": [],
            }
            for c in matrix.controls
        ]
    doc: dict[str, Any] = {
        "schema": PERIOD_SCHEMA,
        "affidavit": __version__,
        "period": request.period.to_json(),
        "framework": {
            "id": request.framework,
            "label": builder.framework_label or (matrix.label if matrix else request.framework),
            "version": builder.framework_version or (matrix.version if matrix else None),
        },
        "environment": request.environment,
        "store": store.display,
        "population": {
            "file": POPULATION_NAME,
            "runs": builder.runs,
            "sha256": builder.population_sha256,
            "first_run": builder.first_time,
            "last_run": builder.last_time,
            "decisions": dict(sorted(builder.decisions.items())),
            "environments": sorted(builder.environments),
            "days_with_promotions": len(builder.day_runs),
        },
        "merkle": {
            "algorithm": MERKLE_ALGORITHM,
            "leaf": "sha256(0x00 || one line of population.jsonl without its newline)",
            "tree_size": builder.runs,
            "root": root.hex(),
            "proofs": layout(SHARD_SIZE),
            "proof_shard_size": SHARD_SIZE,
        },
        "controls": controls,
        "waivers": {
            "file": WAIVERS_NAME,
            "sha256": builder.waivers_sha256,
            "applied": builder.waivers_applied,
            "ledger": builder.waiver_ledger(),
        },
        "policy_changes": builder.policy_ledger(),
        "sample": {**sample_plan.to_json(), "runs": sampled},
        "dora": reconciler.dora(request.period, request.environment, request.commits),
        "deployments": reconciler.result(
            lambda digest, environment, before: bool(
                store.runs(
                    RunQuery(
                        subject_digest=digest, environment=environment, decision="GO", until=before, limit=1
                    )
                )
            )
        ),
    }
    (stage / PERIOD_NAME).write_bytes(_pretty(doc))
    from affidavit.export.markdown import render_markdown

    (stage / REPORT_NAME).write_text(render_markdown(doc), encoding="utf-8")
    from affidavit.export.html import render_period_html

    (stage / HTML_NAME).write_text(render_period_html(doc), encoding="utf-8")
    from affidavit.export.oscal import render_period_oscal

    (stage / OSCAL_NAME).write_text(render_period_oscal(doc), encoding="utf-8")
    _seal(stage, doc, request.signer)
    return doc


def _read_runs(
    store: Store,
    request: ExportRequest,
    near: Path,
    builder: PeriodBuilder,
    reconciler: Reconciler,
    progress: ExportProgress | None,
) -> split.SecondHalf | None:
    """Every run of the period into ``builder`` and ``reconciler``, oldest first: by this process
    alone, or for a large PostgreSQL period with its later half read by a second process at the
    same time (``split.py``; the result is the same). ``near``: where the second process may keep
    its files. The second process, when there is one, is returned running (it can write the later
    half's proofs: ``_write_proofs``); the caller closes it."""
    period, environment = request.period, request.environment
    with store.pinned():
        half = key = None
        total = store.count(period.since, period.until, environment)
        place = split.middle(total, SHARD_SIZE)
        if split.splittable(store, total):
            key = store.key_at(period.since, period.until, environment, place)
        if key is not None:
            half = split.SecondHalf(
                store, period, request.framework, environment, key, place, request.deployments, near
            )
        try:
            if half is not None:  # its tree in a file the second process can read for the proofs
                builder.tree.close()
                builder.tree = MerkleLevels(half.tree_path)
            other = half.done if half is not None else int
            for run in period_runs(store, period, environment, stop=key):
                check_run_id(run, store)
                builder.add(run)
                split.observe(reconciler, run)
                if progress is not None:  # every run: the callback decides when to redraw
                    progress(builder.runs + other())
            if half is not None:
                if builder.runs != place:  # one snapshot: cannot happen unless the store lies
                    raise ExportError(
                        f"{store.display} gave another count of the period's runs than its scan"
                    )
                half.finish(builder, reconciler)
        except BaseException:
            if half is not None:
                half.close()
            raise
    return half


def check_run_id(run: PeriodRun, store: Store) -> None:
    """Refuse a run whose id could not name a file (``SAFE_RUN_ID``)."""
    if not SAFE_RUN_ID.fullmatch(run.run_id):
        raise ExportError(
            f"run #{run.seq} of {store.display} has an id that cannot name a file; the export stops"
        )


def _write_proofs(
    stage: Path,
    request: ExportRequest,
    builder: PeriodBuilder,
    root: bytes,
    progress: ExportProgress | None,
    half: split.SecondHalf | None,
    sample_plan: SamplePlan,
) -> Iterator[tuple[int, str]]:
    """Write the runs' inclusion proofs in shards (``proofs.py``) and ``proofs/SHA256SUMS``,
    yielding ``(position, run id)`` of each run as it goes (the sample is drawn in the same pass).
    The shard files are written and hashed by a second thread while this one formats the next.
    With a second process that read the later half of the runs from a shard's first run on, that
    process writes the later half's shards meanwhile, and of its runs only the sample's candidates
    are yielded (``SecondHalf.proofs``)."""
    position = 0
    folder = stage / PROOFS_DIR
    later = half if half is not None and half.position % SHARD_SIZE == 0 else None
    if later is not None:
        later.proofs(folder, root, builder.tree.size, request.period.name, sample_plan, SHARD_SIZE)
    with ShardWriter(folder) as writer:
        for name, lines, entries in shards(
            builder.tree,
            _lines(stage / POPULATION_NAME),
            request.period.name,
            root,
            SHARD_SIZE,
            stop=None if later is None else later.position,
        ):
            writer.write(name, lines)
            for entry in entries:
                yield position, _run_id(entry)
                position += 1
            if progress is not None:
                progress(position + (later.done() if later is not None else 0))
        if later is not None:
            sums, candidates = later.result()
            writer.listed(sums)
            yield from candidates


def _run_id(line: bytes) -> str:
    """The run id of a population line as ``PeriodBuilder`` wrote it (canonical JSON, the id checked
    against ``SAFE_RUN_ID``: in such a line ``"run_id":"`` can only be the key itself)."""
    at = line.index(b'"run_id":"') + 10
    return line[at : line.index(b'"', at)].decode("ascii")


class ShardWriter:
    """Proof shards written, hashed and listed in ``SHA256SUMS`` (or ``sums``) by a thread of their own, in order
    (writing and hashing release the interpreter's lock: they run while the caller formats the next
    shard). Creation refuses an existing name or a link; the first failure is raised by ``close``."""

    def __init__(self, folder: Path, sums: Path | None = None) -> None:
        import queue
        import threading

        self._folder = folder
        self._sums = folder / SUMS_NAME if sums is None else sums
        self._queue: queue.Queue[tuple[str, list[bytes]] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="affidavit-proofs", daemon=True)
        self._thread.start()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.close()

    def write(self, name: str, lines: list[bytes]) -> None:
        """Queue the shard ``name`` holding ``lines``."""
        if self._error is not None:
            raise self._error
        self._queue.put((name, lines))

    def listed(self, sums: str) -> None:
        """Queue lines of ``SHA256SUMS`` for shards written by another writer (after those queued)."""
        if self._error is not None:
            raise self._error
        self._queue.put(("", [sums.encode("utf-8")]))

    def _run(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with self._sums.open("x", encoding="utf-8") as sums:
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # drain: the caller learns of the failure from close()
                name, lines = item
                if not name:  # lines of SHA256SUMS for shards another writer wrote
                    sums.write(lines[0].decode("utf-8"))
                    continue
                try:
                    data = b"".join(lines)
                    fd = os.open(self._folder / name, flags, 0o644)
                    try:
                        view = memoryview(data)
                        while view:
                            view = view[os.write(fd, view) :]
                    finally:
                        os.close(fd)
                    sums.write(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
                except OSError as exc:
                    self._error = exc

    def close(self) -> None:
        """Write what is queued, stop the thread, raise its first failure."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


def _sampled(store: Store, entry: dict[str, Any]) -> dict[str, Any]:
    """A sampled run's population entry and where its bundle is (from the store)."""
    stored = store.get(entry["run_id"])
    bundle = stored.payload.get("bundle") if stored is not None else None
    bundle = bundle if isinstance(bundle, dict) else {}
    return {
        **entry,
        "bundle": {
            "path": bundle.get("path"),
            "archive": bundle.get("archive"),
            "manifest_sha256": bundle.get("manifest_sha256"),
        },
    }


def _lines(path: Path) -> Iterator[bytes]:
    """The lines of a file, without their newlines, read one at a time."""
    with path.open("rb") as handle:
        for line in handle:
            yield line.rstrip(b"\n")


def _pretty(value: Any) -> bytes:
    """Indented JSON with sorted keys and a final newline (deterministic)."""
    return (indented_json(value, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def listed_files(folder: Path) -> list[str]:
    """The files ``SHA256SUMS`` lists, sorted: every regular file at the top of ``folder`` but the
    seal files (``SHA256SUMS`` and its signature), and ``proofs/SHA256SUMS``, which lists every
    proof in population order (so neither list, nor the statement, grows in memory with the runs)."""
    names = [
        p.name
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and p.name not in (SUMS_NAME, SIGNATURE_NAME)
    ]
    if (folder / PROOFS_DIR / SUMS_NAME).is_file():
        names.append(f"{PROOFS_DIR}/{SUMS_NAME}")
    return sorted(names)


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def statement(doc: dict[str, Any], files: list[tuple[str, str]]) -> bytes:
    """The in-toto statement over the export's files (canonical JSON)."""
    return canonical(
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in files],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "period": doc["period"],
                "framework": doc["framework"],
                "environment": doc["environment"],
                "population_sha256": doc["population"]["sha256"],
                "merkle": {
                    "algorithm": MERKLE_ALGORITHM,
                    "tree_size": doc["merkle"]["tree_size"],
                    "root": doc["merkle"]["root"],
                },
            },
        }
    )


def _seal(stage: Path, doc: dict[str, Any], signer: Signer | None) -> None:
    """The envelope (signed exports), SHA256SUMS over every file, and its signature."""
    files = [(name, file_sha256(stage / name)) for name in listed_files(stage)]
    if signer is not None:
        (stage / ENVELOPE_NAME).write_bytes(signer.sign_envelope(statement(doc, files)))
        files = [(name, file_sha256(stage / name)) for name in listed_files(stage)]
    sums = "".join(f"{digest}  {name}\n" for name, digest in files).encode("utf-8")
    (stage / SUMS_NAME).write_bytes(sums)
    if signer is not None:
        (stage / SIGNATURE_NAME).write_bytes(signer.sign(sums))
