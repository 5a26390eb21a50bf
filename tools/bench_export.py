"""Benchmark of ``affidavit export``: a quarter of N runs on SQLite and PostgreSQL, time and memory.

    python tools/bench_export.py [--runs 100000] [--backend sqlite|postgresql|both] [--pg URL] [--sizes 10000,100000]

The store is generated from real runs: ``tools/bench_history.py``'s 64 templates (the demo's GO and
NO-GO releases judged by the pipeline, in varied subjects, environments and decisions). Unlike that
bench, each generated run's payload is its own: run id, evaluation time, subject, environment,
decision and bundle digest are written into the template's canonical payload (and its columns
derived from the same values) and the run hash-chained on it, so the export's per-run checks
(chain hash, columns against content) hold as for runs a gate recorded. Runs are spread evenly
over 2026-Q3. Only the ``runs`` table is loaded (the export reads nothing else).

Each export and verify runs as its own process under GNU time, so its peak resident memory
(``%M``) is measured alone; running it for several sizes shows whether memory
grows with the number of runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

import bench_history  # noqa: E402

from affidavit.store import open_store  # noqa: E402
from affidavit.store.record import chain_hash, derive_summary, sha256_hex  # noqa: E402

START = datetime(2026, 7, 1, tzinfo=UTC)
SPAN = timedelta(days=92)
MARK = {
    "run_id": "@@RUN_ID@@",
    "time": "@@TIME@@",
    "name": "@@SUBJECT@@",
    "env": "@@ENV@@",
    "dec": "@@DECISION@@",
}


def templates(store_url: str | None = None) -> list[bytes]:
    """Real payloads with placeholders where each generated run puts its own values: the 64 of
    ``bench_history.templates`` (judged now), or every run of a store real gates filled."""
    if store_url:
        from affidavit.store import RunQuery

        held = open_store(store_url, create=False)
        try:
            payloads = [
                json.dumps(held.get(r.run_id).payload).encode()  # type: ignore[union-attr]
                for r in held.runs(RunQuery(limit=64))
            ]
        finally:
            held.close()
    else:
        payloads = [entry.payload for entry in bench_history.templates()]
    out = []
    for payload in payloads:
        doc = json.loads(payload)
        run = doc["run"]
        run["run_id"], run["time"] = MARK["run_id"], MARK["time"]
        run["subject"]["name"] = MARK["name"]
        run["environment"], run["decision"] = MARK["env"], MARK["dec"]
        run.setdefault("clock", {})["evaluated_at"] = MARK["time"]
        doc["bundle"] = {"path": None, "archive": None, "manifest_sha256": "@@MANIFEST@@", "files": {}}
        out.append(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    return out


#: The ``runs`` columns the bench loads: schema 1's and schema 2's summary and payload sha256.
COLUMNS = f"{bench_history.RUN_COLUMNS}, payload_sha256, summary"
_HEADER = b"\x78\x9c"  # zlib, deflate with a 32 KiB window, default level
_FINAL = b"\x01\x00\x00\xff\xff"  # an empty final stored block


class Template:
    """One real payload split at its placeholders, each constant part deflated once.

    Deflating 75 KiB per run costs ~5 ms (a million runs: over an hour on one core). Each constant
    part is deflated once on its own, ending byte-aligned (``Z_SYNC_FLUSH``), and a run's zlib
    stream is those parts with its own values in between as stored blocks, an empty final block and
    the Adler-32 of the run's payload: a valid zlib stream (RFC 1950/1951) that inflates to exactly
    the run's canonical payload, a few percent larger than deflating it whole. Its summary is
    ``record.derive_summary`` of the template, placeholders and all, with the same values put in
    (``check`` derives it again from a generated payload)."""

    def __init__(self, body: bytes) -> None:
        import re

        from affidavit.store.record import derive_summary

        pattern = re.compile(b"(@@[A-Z_]+@@)")
        self.parts = pattern.split(body)
        self.deflated = [_deflate(part) if i % 2 == 0 else b"" for i, part in enumerate(self.parts)]
        self.adlers = [zlib.adler32(part) for part in self.parts]
        self.summary_parts = pattern.split(derive_summary(json.loads(body)))
        doc = json.loads(body)
        self.digest = doc["run"]["subject"].get("digest")
        self.commit = doc["run"].get("commit")
        self.branch = doc["run"].get("branch")

    def payload(self, values: dict[bytes, bytes]) -> tuple[bytes, bytes, bytes]:
        """The run's canonical payload, its zlib stream and its summary."""
        raw: list[bytes] = []
        stream = [_HEADER]
        for i, part in enumerate(self.parts):
            if i % 2 == 0:
                raw.append(part)
                stream.append(self.deflated[i])
            else:
                value = values[part]
                raw.append(value)
                stream.append(b"\x00" + struct.pack("<HH", len(value), 0xFFFF ^ len(value)) + value)
        payload = b"".join(raw)
        check = 1
        for i, part in enumerate(self.parts):
            if i % 2 == 0:
                check = _adler_combine(check, self.adlers[i], len(part))
            else:
                check = zlib.adler32(values[part], check)
        stream += [_FINAL, struct.pack(">I", check)]
        summary = b"".join(values[part] if i % 2 else part for i, part in enumerate(self.summary_parts))
        return payload, b"".join(stream), summary


def _adler_combine(first: int, second: int, length: int) -> int:
    """Adler-32 of ``A + B`` from those of ``A`` and ``B`` and the length of ``B`` (zlib's
    ``adler32_combine``, not exposed by Python's ``zlib``)."""
    base = 65521
    rem = length % base
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (second & 0xFFFF) + base - 1
    sum2 += ((first >> 16) & 0xFFFF) + ((second >> 16) & 0xFFFF) + base - rem
    sum1 = sum1 - base if sum1 >= base else sum1
    sum1 = sum1 - base if sum1 >= base else sum1
    sum2 = sum2 - (base << 1) if sum2 >= (base << 1) else sum2
    sum2 = sum2 - base if sum2 >= base else sum2
    return sum1 | (sum2 << 16)


def _deflate(data: bytes) -> bytes:
    """Raw deflate of ``data`` ending on a byte boundary, with no final block."""
    engine = zlib.compressobj(6, zlib.DEFLATED, -15)
    return engine.compress(data) + engine.flush(zlib.Z_SYNC_FLUSH)


_SHAPES: list[Template] = []
_CHUNK = 4000


def _start_worker(bodies: list[bytes]) -> None:
    _SHAPES[:] = [Template(body) for body in bodies]


def _runs(job: tuple[int, int, int]) -> list[tuple[Any, ...]]:
    """Runs ``first..last`` of ``count``: everything but the chain link (seeded by place, so any
    worker makes the same run)."""
    import random

    first, last, count = job
    step = SPAN / count
    out = []
    for seq in range(first, last + 1):
        rng = random.Random(seq)
        moment = (START + step * (seq - 1)).replace(microsecond=0)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        run_id = f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{hashlib.sha256(str(seq).encode()).hexdigest()[:12]}"
        subject = bench_history.SUBJECTS[min(int(rng.paretovariate(1.2)) - 1, 299)]
        env = bench_history._pick(rng, bench_history.ENVIRONMENTS)
        decision = bench_history._pick(rng, bench_history.DECISIONS)
        manifest = sha256_hex(run_id.encode())
        shape = _SHAPES[seq % len(_SHAPES)]
        values = {
            b"@@RUN_ID@@": run_id.encode(),
            b"@@TIME@@": stamp.encode(),
            b"@@SUBJECT@@": subject.encode(),
            b"@@ENV@@": env.encode(),
            b"@@DECISION@@": decision.encode(),
            b"@@MANIFEST@@": manifest.encode(),
        }
        payload, body, summary = shape.payload(values)
        if seq % 10007 == 1:  # the shortcuts checked now and then against the gate's own code
            assert zlib.decompress(body) == payload
            assert derive_summary(json.loads(payload)) == summary
        out.append(
            (
                seq, run_id, stamp, None, "2026-10-01T00:00:00Z", subject, shape.digest, env, shape.commit,
                shape.branch, decision, 0, None, manifest, body, len(payload), sha256_hex(payload),
                summary.decode(), sha256_hex(summary),
            )
        )  # fmt: skip
    return out


def generate(count: int, bodies: list[bytes], workers: int = 2) -> Iterator[tuple[Any, ...]]:
    """``runs`` rows in chain order, each with its own consistent payload, summary and chain link
    (version 2: ``chain_hash(seq, prev, sha256(payload), sha256(summary))``); made by ``workers``
    processes in chunks, linked here in order."""
    import multiprocessing

    jobs = [(a, min(a + _CHUNK - 1, count), count) for a in range(1, count + 1, _CHUNK)]
    prev = "0" * 64
    with multiprocessing.get_context("fork").Pool(workers, _start_worker, (bodies,)) as pool:
        for chunk in pool.imap(_runs, jobs):
            for *head, payload_sha, summary, summary_sha in chunk:
                run_hash = chain_hash(head[0], prev, payload_sha, summary_sha)
                yield (*head, prev, run_hash, payload_sha, summary)
                prev = run_hash


def load_sqlite(path: Path, count: int, bodies: list[bytes], workers: int = 2) -> None:
    """A new SQLite store (affidavit's schema) holding ``count`` generated runs."""
    import sqlite3

    open_store(f"sqlite://{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    batch: list[tuple[Any, ...]] = []
    last = None
    for row in generate(count, bodies, workers):
        batch.append(row)
        last = row
        if len(batch) >= 20000:
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO runs ({COLUMNS}) VALUES ({', '.join('?' * 20)})", batch)
            conn.execute("COMMIT")
            batch.clear()
    if batch:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO runs ({COLUMNS}) VALUES ({', '.join('?' * 20)})", batch)
        conn.execute("COMMIT")
    assert last is not None
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")  # chain_head is moved once, as record() moves it per run
    conn.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (last[0], last[17]))
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, count: int, bodies: list[bytes], workers: int = 2) -> None:
    """A PostgreSQL store (affidavit's schema) holding ``count`` generated runs, loaded with COPY."""
    import psycopg

    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE runs DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head DISABLE TRIGGER USER")
        conn.execute("SET synchronous_commit = off")
        last = None
        with conn.transaction(), conn.cursor() as cur:
            # TRUNCATE in the COPY's transaction: with wal_level=minimal (the private cluster) the
            # rows are written once, not also to the WAL
            cur.execute("TRUNCATE runs CASCADE")
            with cur.copy(f"COPY runs ({COLUMNS}) FROM STDIN") as copy:
                for row in generate(count, bodies, workers):
                    copy.write_row(row)
                    last = row
        assert last is not None
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", (last[0], last[17]))
        conn.execute("ALTER TABLE runs ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE runs")


#: CPU seconds (user + system) of the last command ``_measured`` ran: on a shared machine the
#: wall-clock time also counts the time other processes held the cores.
LAST_CPU = [0.0]


def _measured(argv: list[str]) -> tuple[float, float, int, str]:
    """Seconds, peak RSS (MiB), exit code and stdout of one command, run under GNU time (``%M``:
    the command's own maximum resident set; a child forked from this process would count this
    process's memory from before its exec; ``%U %S``: its CPU seconds, kept in ``LAST_CPU``)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "@@%M %U %S", *argv], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    peak, user, system = (done.stderr.rsplit("@@", 1)[-1].split() + ["0", "0", "0"])[:3]
    LAST_CPU[0] = float(user) + float(system)
    return seconds, int(peak) / 1024, done.returncode, done.stdout


def timed_export(url: str, out: Path) -> tuple[float, float, dict[str, Any]]:
    """Seconds and peak RSS (MiB) of one ``affidavit export`` process, and its JSON answer."""
    seconds, peak, code, stdout = _measured(
        [sys.executable, "-m", "affidavit", "export", "--framework", "soc2", "--period", "2026-Q3",
         "--store", url, "--sample-seed", "1", "--out", str(out), "--format", "json"]
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"export failed ({code})")
    return seconds, peak, json.loads(stdout)


#: The floor: the period's rows read with the bare driver, as ``Store.scan`` asks for them (same
#: columns, same order, batches of 2,000; PostgreSQL through a server-side cursor), nothing done
#: with them. Run as its own process, like the export.
_READ_FLOOR = """
import sys
url = sys.argv[1]
sql = ("SELECT seq, run_id, time, environment, subject_name, subject_digest, decision, manifest_sha256, "
       "commit_sha, prev_hash, hash, payload_sha256, summary, payload_size, "
       "CASE WHEN summary IS NULL THEN payload END FROM runs WHERE time >= {p} AND time < {p} ORDER BY time, seq")
period = ("2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z")
n = 0
if url.startswith("sqlite://"):
    import sqlite3
    conn = sqlite3.connect(url.removeprefix("sqlite://"))
    cur = conn.execute(sql.format(p="?"), period)
    while rows := cur.fetchmany(2000):
        n += len(rows)
else:
    import psycopg
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with conn.cursor(name="floor") as cur:
            cur.itersize = 2000
            cur.execute(sql.format(p="%s"), period)
            for _ in cur:
                n += 1
print(n)
"""


def read_floor(url: str, count: int) -> tuple[float, float]:
    """Seconds and CPU seconds of the floor (the period's rows read with the bare driver), run just
    before the export so that both find the store's pages as warm."""
    floor, _peak, code, stdout = _measured([sys.executable, "-c", _READ_FLOOR, url])
    if code != 0 or int(stdout) != count:
        raise SystemExit(f"the read floor failed ({code}): {stdout.strip()}")
    return floor, LAST_CPU[0]


def print_floor(count: int, floor: tuple[float, float], seconds: float) -> None:
    """The floor and the export's ratio to it."""
    print(
        f"           floor: the period's {count:,} rows read with the bare driver {floor[0]:6.1f} s "
        f"(cpu {floor[1]:6.1f} s); export / floor {seconds / floor[0]:.2f}x",
        flush=True,
    )


def timed_verify(out: Path) -> tuple[float, float, bool]:
    """Seconds and peak RSS (MiB) of ``affidavit verify OUT --allow-unsigned`` in its own process."""
    seconds, peak, code, stdout = _measured(
        [sys.executable, "-m", "affidavit", "verify", str(out), "--allow-unsigned", "--format", "json"]
    )
    return seconds, peak, code == 0 and bool(json.loads(stdout or "{}").get("accepted"))


def _count(url: str) -> int:
    """The runs of 2026-Q3 in a store (``--existing``), counted by the store."""
    from affidavit.export.period import parse_period

    held = open_store(url, create=False)
    try:
        period = parse_period("2026-Q3")
        return held.count(period.since, period.until, None)
    finally:
        held.close()


def existing(url: str, where: Path | None, check: bool) -> None:
    """Export, floor and verify an already filled store (``--existing``)."""
    folder = Path(tempfile.mkdtemp(prefix="affidavit-bench-export-", dir=where))
    try:
        count = _count(url)
        floor = read_floor(url, count)
        seconds, rss, answer = timed_export(url, folder / "out")
        print(
            f"existing   {count:>9,} runs: export {seconds:6.1f} s (cpu {LAST_CPU[0]:6.1f} s, "
            f"{count / LAST_CPU[0]:,.0f} runs per cpu-s), peak RSS {rss:6.0f} MiB, root {answer['merkle']['root'][:16]}",
            flush=True,
        )
        print_floor(count, floor, seconds)
        if check:
            vsec, vrss, ok = timed_verify(folder / "out")
            print(
                f"           verify {vsec:6.1f} s (cpu {LAST_CPU[0]:6.1f} s), peak RSS {vrss:6.0f} MiB, accepted={ok}",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Generate, load, export, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="run counts to export, comma-separated")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database (default: a private cluster)")
    parser.add_argument("--dir", type=Path, help="folder for the stores and exports (default: temporary)")
    parser.add_argument(
        "--templates-store", help="take the template payloads from the runs of this store (real gate runs)"
    )
    parser.add_argument(
        "--templates-file", type=Path, help="JSON list of template payloads (written by --save-templates)"
    )
    parser.add_argument("--save-templates", type=Path, help="write the template payloads here and go on")
    parser.add_argument("--workers", type=int, default=2, help="processes generating runs (default 2)")
    parser.add_argument("--no-verify", action="store_true", help="time the export only")
    parser.add_argument(
        "--existing",
        metavar="URL",
        help="export this store as it is (filled by an earlier load; nothing is loaded)",
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.existing:
        existing(args.existing, args.dir, not args.no_verify)
        return
    if args.templates_file:
        bodies = [x.encode() for x in json.loads(args.templates_file.read_text())]
    else:
        bodies = templates(args.templates_store)
    if args.save_templates:
        args.save_templates.write_text(json.dumps([x.decode() for x in bodies]))
    median = sorted(map(len, bodies))[len(bodies) // 2]
    print(f"payload templates: {len(bodies)}, median {median / 1024:.1f} KiB canonical JSON", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="affidavit-bench-export-", dir=args.dir))
    try:
        for count in sizes:
            if args.backend in ("sqlite", "both"):
                path = folder / f"history-{count}.db"
                t = time.perf_counter()
                load_sqlite(path, count, bodies, args.workers)
                loaded = time.perf_counter() - t
                floor = read_floor(f"sqlite://{path}", count)
                seconds, rss, answer = timed_export(f"sqlite://{path}", folder / f"out-sqlite-{count}")
                print(
                    f"SQLite     {count:>9,} runs: loaded in {loaded:6.1f} s; export {seconds:6.1f} s "
                    f"(cpu {LAST_CPU[0]:6.1f} s, {count / LAST_CPU[0]:,.0f} runs per cpu-s), "
                    f"peak RSS {rss:6.0f} MiB, root {answer['merkle']['root'][:16]}",
                    flush=True,
                )
                print_floor(count, floor, seconds)
                vsec, vrss, ok = (
                    (0.0, 0.0, None) if args.no_verify else timed_verify(folder / f"out-sqlite-{count}")
                )
                print(
                    f"           verify {vsec:6.1f} s (cpu {LAST_CPU[0]:6.1f} s), peak RSS {vrss:6.0f} MiB, "
                    f"accepted={ok}",
                    flush=True,
                )
                shutil.rmtree(folder / f"out-sqlite-{count}")
                path.unlink()
            if args.backend in ("postgresql", "both"):
                with bench_history._pg(args.pg) as url:
                    t = time.perf_counter()
                    load_postgres(url, count, bodies, args.workers)
                    loaded = time.perf_counter() - t
                    floor = read_floor(url, count)
                    seconds, rss, answer = timed_export(url, folder / f"out-pg-{count}")
                    print(
                        f"PostgreSQL {count:>9,} runs: loaded in {loaded:6.1f} s; export {seconds:6.1f} s "
                        f"(cpu {LAST_CPU[0]:6.1f} s, {count / LAST_CPU[0]:,.0f} runs per cpu-s), "
                        f"peak RSS {rss:6.0f} MiB, root {answer['merkle']['root'][:16]}",
                        flush=True,
                    )
                    print_floor(count, floor, seconds)
                    vsec, vrss, ok = (
                        (0.0, 0.0, None) if args.no_verify else timed_verify(folder / f"out-pg-{count}")
                    )
                    print(
                        f"           verify {vsec:6.1f} s (cpu {LAST_CPU[0]:6.1f} s), peak RSS {vrss:6.0f} MiB, "
                        f"accepted={ok}",
                        flush=True,
                    )
                    shutil.rmtree(folder / f"out-pg-{count}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
