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
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

import bench_history  # noqa: E402

from affidavit.store import open_store  # noqa: E402
from affidavit.store.record import chain_hash, compress, sha256_hex  # noqa: E402

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


def generate(count: int, bodies: list[bytes]) -> Iterator[tuple[Any, ...]]:
    """``runs`` rows in chain order, each with its own consistent payload."""
    import random

    rng = random.Random(13)
    step = SPAN / count
    prev = "0" * 64
    for seq in range(1, count + 1):
        moment = (START + step * (seq - 1)).replace(microsecond=0)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        run_id = f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{hashlib.sha256(str(seq).encode()).hexdigest()[:12]}"
        subject = bench_history.SUBJECTS[min(int(rng.paretovariate(1.2)) - 1, 299)]
        env = bench_history._pick(rng, bench_history.ENVIRONMENTS)
        decision = bench_history._pick(rng, bench_history.DECISIONS)
        manifest = sha256_hex(run_id.encode())
        payload = (
            bodies[seq % len(bodies)]
            .replace(b"@@RUN_ID@@", run_id.encode())
            .replace(b"@@TIME@@", stamp.encode())
            .replace(b"@@SUBJECT@@", subject.encode())
            .replace(b"@@ENV@@", env.encode())
            .replace(b"@@DECISION@@", decision.encode())
            .replace(b"@@MANIFEST@@", manifest.encode())
        )
        doc = json.loads(payload)
        digest = doc["run"]["subject"].get("digest")
        run_hash = chain_hash(seq, prev, sha256_hex(payload))
        yield (
            seq, run_id, stamp, None, "2026-10-01T00:00:00Z", subject, digest, env, doc["run"].get("commit"),
            doc["run"].get("branch"), decision, 0, None, manifest, compress(payload), len(payload), prev, run_hash,
        )  # fmt: skip
        prev = run_hash


def load_sqlite(path: Path, count: int, bodies: list[bytes]) -> None:
    """A new SQLite store (affidavit's schema) holding ``count`` generated runs."""
    import sqlite3

    open_store(f"sqlite://{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    batch: list[tuple[Any, ...]] = []
    last = None
    for row in generate(count, bodies):
        batch.append(row)
        last = row
        if len(batch) >= 20000:
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO runs ({bench_history.RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})", batch
            )
            conn.execute("COMMIT")
            batch.clear()
    if batch:
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO runs ({bench_history.RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})", batch
        )
        conn.execute("COMMIT")
    assert last is not None
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")  # chain_head is moved once, as record() moves it per run
    conn.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (last[0], last[-1]))
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, count: int, bodies: list[bytes]) -> None:
    """A PostgreSQL store (affidavit's schema) holding ``count`` generated runs, loaded with COPY."""
    import psycopg

    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE runs DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head DISABLE TRIGGER USER")
        conn.execute("SET synchronous_commit = off")
        last = None
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY runs ({bench_history.RUN_COLUMNS}) FROM STDIN") as copy,
        ):
            for row in generate(count, bodies):
                copy.write_row(row)
                last = row
        assert last is not None
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", (last[0], last[-1]))
        conn.execute("ALTER TABLE runs ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE runs")


def _measured(argv: list[str]) -> tuple[float, float, int, str]:
    """Seconds, peak RSS (MiB), exit code and stdout of one command, run under GNU time (``%M``:
    the command's own maximum resident set; a child forked from this process would count this
    process's memory from before its exec)."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "@@%M", *argv], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    peak = int(done.stderr.rsplit("@@", 1)[-1].strip() or 0) / 1024
    return seconds, peak, done.returncode, done.stdout


def timed_export(url: str, out: Path) -> tuple[float, float, dict[str, Any]]:
    """Seconds and peak RSS (MiB) of one ``affidavit export`` process, and its JSON answer."""
    seconds, peak, code, stdout = _measured(
        [sys.executable, "-m", "affidavit", "export", "--framework", "soc2", "--period", "2026-Q3",
         "--store", url, "--sample-seed", "1", "--out", str(out), "--format", "json"]
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"export failed ({code})")
    return seconds, peak, json.loads(stdout)


def timed_verify(out: Path) -> tuple[float, float, bool]:
    """Seconds and peak RSS (MiB) of ``affidavit verify OUT --allow-unsigned`` in its own process."""
    seconds, peak, code, stdout = _measured(
        [sys.executable, "-m", "affidavit", "verify", str(out), "--allow-unsigned", "--format", "json"]
    )
    return seconds, peak, code == 0 and bool(json.loads(stdout or "{}").get("accepted"))


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
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    bodies = templates(args.templates_store)
    median = sorted(map(len, bodies))[len(bodies) // 2]
    print(f"payload templates: {len(bodies)}, median {median / 1024:.1f} KiB canonical JSON")
    folder = Path(tempfile.mkdtemp(prefix="affidavit-bench-export-", dir=args.dir))
    try:
        for count in sizes:
            if args.backend in ("sqlite", "both"):
                path = folder / f"history-{count}.db"
                t = time.perf_counter()
                load_sqlite(path, count, bodies)
                loaded = time.perf_counter() - t
                seconds, rss, answer = timed_export(f"sqlite://{path}", folder / f"out-sqlite-{count}")
                print(
                    f"SQLite     {count:>9,} runs: loaded in {loaded:6.1f} s; export {seconds:6.1f} s "
                    f"({count / seconds:,.0f} runs/s), peak RSS {rss:6.0f} MiB, root {answer['merkle']['root'][:16]}"
                )
                vsec, vrss, ok = timed_verify(folder / f"out-sqlite-{count}")
                print(f"           verify {vsec:6.1f} s, peak RSS {vrss:6.0f} MiB, accepted={ok}")
                shutil.rmtree(folder / f"out-sqlite-{count}")
                path.unlink()
            if args.backend in ("postgresql", "both"):
                with bench_history._pg(args.pg) as url:
                    t = time.perf_counter()
                    load_postgres(url, count, bodies)
                    loaded = time.perf_counter() - t
                    seconds, rss, answer = timed_export(url, folder / f"out-pg-{count}")
                    print(
                        f"PostgreSQL {count:>9,} runs: loaded in {loaded:6.1f} s; export {seconds:6.1f} s "
                        f"({count / seconds:,.0f} runs/s), peak RSS {rss:6.0f} MiB, root {answer['merkle']['root'][:16]}"
                    )
                    vsec, vrss, ok = timed_verify(folder / f"out-pg-{count}")
                    print(f"           verify {vsec:6.1f} s, peak RSS {vrss:6.0f} MiB, accepted={ok}")
                    shutil.rmtree(folder / f"out-pg-{count}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
