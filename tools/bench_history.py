"""Benchmark of the run history: `history` filters over a million runs, on SQLite and PostgreSQL.

    python tools/bench_history.py [--runs 1000000] [--backend sqlite|postgresql|both] [--pg URL]

The generator starts from real runs: the demo release (GO and NO-GO) judged by the pipeline and
turned into store entries by ``build_entry``, in 64 variants (subjects, environments, decisions),
so every payload body, rule row and finding row has the size and shape a real gate leaves. It
then writes N runs spread over two years: 300 subjects (a few busy, most quiet: Zipf-like),
environments prod/staging/dev, decisions GO 60 % / NO-GO 35 % / INCOMPLETE 5 %, a commit each,
hash-chained in order. Runs are bulk-loaded in large transactions (what ``record`` does once per
gate, done a million times) into ``runs``, ``run_rules`` and ``run_findings``; ``run_evidence`` is
left empty (no filter reads it). The payload bodies repeat the 64 variants, so the columns of a
bench run do not match its payload: the bench store is for timing, and ``verify`` would say so.

Then each `history` filter runs through ``Store.runs`` (the command's code path), 5 times, and the
median is printed, with the first (coldest) time; ``first_seen`` for 50 finding keys of a busy
subject; and ``record`` of 20 more real runs onto the loaded store. Without ``--pg`` a private
PostgreSQL cluster is started in a temporary folder (as the tests do) and removed afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from affidavit.model import Decision, RunSubject  # noqa: E402
from affidavit.store import RunQuery, open_store  # noqa: E402
from affidavit.store.record import build_entry, chain_hash, sha256_hex  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
SUBJECTS = [f"ghcr.io/acme/service-{i:03d}" for i in range(300)]
ENVIRONMENTS = (("prod", 0.4), ("staging", 0.3), ("dev", 0.3))
DECISIONS = (("GO", 0.60), ("NO-GO", 0.35), ("INCOMPLETE", 0.05))


def templates() -> list[Any]:
    """64 real store entries: the demo's two releases in varied subjects, environments, decisions."""
    sys.path.insert(0, str(REPO))
    from tests.store.conftest import judge

    judged = [judge("go"), judge("no-go")]
    rng = random.Random(7)
    out = []
    for n in range(64):
        j = judged[n % 2]
        run = replace(
            j.run,
            run_id=f"{j.run.run_id}-{n}",
            subject=RunSubject(rng.choice(SUBJECTS), j.run.subject.digest),
            environment=ENVIRONMENTS[n % 3][0],
            decision=[Decision.GO, Decision.NO_GO, Decision.INCOMPLETE][n % 3],
        )
        out.append(build_entry(run, j.evidence, recorded_at="2026-12-01T00:00:00Z"))
    return out


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x, acc = rng.random(), 0.0
    for value, weight in table:
        acc += weight
        if x < acc:
            return value
    return table[-1][0]


def generate(
    count: int, entries: list[Any], stand_in: bool = False
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(runs row, run_rules rows, run_findings rows) for each generated run, in chain order."""
    from affidavit.store.record import compress

    rng = random.Random(12)
    weights = [1 / (i + 1) for i in range(len(SUBJECTS))]
    subjects = rng.choices(SUBJECTS, weights=weights, k=count)
    bodies = [compress(e.payload) for e in entries]
    if stand_in:  # 512 incompressible bytes in place of each payload (see --payload)
        bodies = [rng.randbytes(512) for _ in entries]
    shas = [e.payload_sha256 for e in entries]
    step = SPAN / count
    prev = "0" * 64
    outcomes = ("pass", "fail", "warn", "insufficient_evidence")
    for seq in range(1, count + 1):
        k = seq % len(entries)
        e = entries[k]
        moment = (START + step * seq).replace(microsecond=0)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        run_id = f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{hashlib.sha256(str(seq).encode()).hexdigest()[:12]}"
        subject = subjects[seq - 1]
        digest = chain_hash(seq, prev, shas[k])
        row = (
            seq, run_id, stamp, stamp, stamp, subject, "sha256:" + hashlib.sha256(run_id.encode()).hexdigest(),
            _pick(rng, ENVIRONMENTS), f"{rng.getrandbits(160):040x}", "main", _pick(rng, DECISIONS), 0,
            f"reports/{run_id}", sha256_hex(run_id.encode()), bodies[k], len(e.payload), prev, digest,
        )  # fmt: skip
        prev = digest
        rules = [
            (seq, rid, outcomes[(seq + i) % 4] if i % 7 == 0 else out)
            for i, (rid, out) in enumerate(e.rows.rules)
            if RULE_ROWS
        ]
        findings = [(seq, *astuple(f), subject, stamp) for f in e.rows.findings]
        yield row, rules, findings


RUN_COLUMNS = (
    "seq, run_id, time, wall_time, recorded_at, subject_name, subject_digest, environment, commit_sha, branch, "
    "decision, replay, bundle_path, manifest_sha256, payload, payload_size, prev_hash, hash"
)
RULE_ROWS = True
FINDING_COLUMNS = "seq, position, finding_key, kind, severity, evidence_id, subject_name, time"


def load_sqlite(path: Path, count: int, entries: list[Any], stand_in: bool) -> None:
    """Bulk-load ``count`` runs into a new SQLite store (schema made by affidavit's migrations)."""
    import sqlite3

    open_store(f"sqlite://{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")  # the bench loads in bulk; the store itself never updates
    batch: tuple[list[Any], list[Any], list[Any]] = ([], [], [])

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})", batch[0])
        conn.executemany("INSERT INTO run_rules (seq, rule_id, outcome) VALUES (?, ?, ?)", batch[1])
        conn.executemany(
            f"INSERT INTO run_findings ({FINDING_COLUMNS}) VALUES ({', '.join('?' * 8)})", batch[2]
        )
        conn.execute("COMMIT")
        for b in batch:
            b.clear()

    last = None
    for row, rules, findings in generate(count, entries, stand_in):
        batch[0].append(row)
        batch[1].extend(rules)
        batch[2].extend(findings)
        last = row
        if len(batch[0]) >= 20000:
            flush()
    if batch[0]:
        flush()
    assert last is not None
    conn.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (last[0], last[-1]))
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, count: int, entries: list[Any], stand_in: bool) -> None:
    """Bulk-load ``count`` runs into a PostgreSQL store with COPY (schema made by affidavit)."""
    import psycopg

    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("runs", "run_rules", "run_findings"):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        conn.execute("SET synchronous_commit = off")
        rows = generate(count, entries, stand_in)
        done = False
        last = None
        while not done:
            runs: list[Any] = []
            rules: list[Any] = []
            findings: list[Any] = []
            for row, r, f in rows:
                runs.append(row)
                rules.extend(r)
                findings.extend(f)
                if len(runs) >= 50000:
                    break
            else:
                done = True
            if not runs:
                break
            last = runs[-1]
            with conn.transaction(), conn.cursor() as cur:
                for table, columns, values in (
                    ("runs", RUN_COLUMNS, runs),
                    ("run_rules", "seq, rule_id, outcome", rules),
                    ("run_findings", FINDING_COLUMNS, findings),
                ):
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for v in values:
                            copy.write_row(v)
        assert last is not None
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", (last[0], last[-1]))
        for table in ("runs", "run_rules", "run_findings"):
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE")


def timed(call: Callable[[], Any], repeat: int = 5) -> tuple[float, float, Any]:
    """(first, median of ``repeat``) seconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t)
    return times[0], statistics.median(times), result


def queries(url: str, count: int, entries: list[Any]) -> None:
    """Time each filter through ``Store.runs``, ``first_seen`` and ``record`` on the loaded store."""
    store = open_store(url)
    busy, quiet = SUBJECTS[0], SUBJECTS[-1]
    quarter = ("2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z")
    cases = [
        ("history (no filter, newest 100)", RunQuery()),
        (f"--subject {busy} (busiest)", RunQuery(subject_name=busy)),
        (f"--subject {quiet} (quietest)", RunQuery(subject_name=quiet)),
        ("--subject busiest --environment prod --since 2026-07-01", RunQuery(subject_name=busy, environment="prod", since=quarter[0])),
        ("--environment prod --since 2026-07-01 --until 2026-09-30", RunQuery(environment="prod", since=quarter[0], until=quarter[1])),
        ("--decision INCOMPLETE --since 2026-07-01 --until 2026-09-30", RunQuery(decision="INCOMPLETE", since=quarter[0], until=quarter[1])),
        ("--subject quietest --decision NO-GO --until 2025-06-01", RunQuery(subject_name=quiet, decision="NO-GO", until="2025-06-01T00:00:00Z")),
        ("--since 2027-01-02 (nothing matches)", RunQuery(since="2027-01-02T00:00:00Z")),
        ("--limit 10000 --environment staging", RunQuery(environment="staging", limit=10000)),
    ]  # fmt: skip
    print(f"  {'filter':62} {'rows':>6} {'first':>9} {'median':>9}")
    for label, q in cases:
        first, median, rows = timed(lambda q=q: store.runs(q))
        print(f"  {label:62} {len(rows):>6} {first * 1000:8.1f}ms {median * 1000:8.1f}ms")
    keys = [f.finding_key for e in entries[:16] for f in e.rows.findings][:50]
    first, median, found = timed(lambda: store.first_seen(busy, keys))
    print(
        f"  {'first_seen(busiest, ' + str(len(keys)) + ' keys)':62} {len(found):>6} {first * 1000:8.1f}ms {median * 1000:8.1f}ms"
    )
    times = []
    for n in range(20):
        e = entries[n]
        run = _fresh(e, count + n)
        t = time.perf_counter()
        store.record(run)
        times.append(time.perf_counter() - t)
    print(
        f"  record() of a real run onto the loaded store: median {statistics.median(times) * 1000:.1f} ms (20 runs)"
    )
    store.close()


def _fresh(entry: Any, n: int) -> Any:
    """A real entry with a new run id (the bench's own runs never collide with a template's)."""
    import json

    doc = json.loads(entry.payload)
    doc["run"]["run_id"] = f"bench-{n}"
    from affidavit.store.record import canonical, derive_columns, derive_rows

    payload = canonical(doc)
    return replace(entry, payload=payload, columns=derive_columns(doc), rows=derive_rows(doc))


@contextmanager
def private_cluster() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free port of 127.0.0.1 (as tests/store/conftest.py)."""
    binaries = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1]).parent
    owner = None
    if os.geteuid() == 0:
        owner = "affidavit-pg"
        try:
            pwd.getpwnam(owner)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", owner], check=True)
    folder = Path(tempfile.mkdtemp(prefix="affidavit-bench-pg-"))
    (folder / "sock").mkdir()
    if owner:
        info = pwd.getpwnam(owner)
        for p in (folder, folder / "sock"):
            os.chown(p, info.pw_uid, info.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_owner(argv: list[str]) -> list[str]:
        return argv if owner is None else ["runuser", "-u", owner, "--", *argv]

    data = folder / "data"
    subprocess.run(as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "affidavit", "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True)  # fmt: skip
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder / 'sock'} -c shared_buffers=512MB -c max_wal_size=4GB -c wal_level=minimal -c max_wal_senders=0"
    subprocess.run(as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"]), check=True, capture_output=True)  # fmt: skip
    try:
        import psycopg

        with psycopg.connect(f"postgresql://affidavit@127.0.0.1:{port}/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE bench")
        yield f"postgresql://affidavit@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Parse the options, generate, load and time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database (default: a private cluster)")
    parser.add_argument("--dir", type=Path, help="folder for the SQLite file (default: a temporary one)")
    parser.add_argument(
        "--payload",
        choices=("real", "stand-in"),
        default="real",
        help="real: each run stores a real compressed payload (about 16 KiB); stand-in: 512 random bytes "
        "instead, so that a million runs fit a small machine (the filters read only indexed columns)",
    )
    parser.add_argument(
        "--rule-rows",
        choices=("yes", "no"),
        default="yes",
        help="load the 30 run_rules rows of each run (no filter reads them; 'no' loads a million runs "
        "several times faster)",
    )
    args = parser.parse_args()
    global RULE_ROWS
    RULE_ROWS = args.rule_rows == "yes"
    entries = templates()
    payload = statistics.median(len(e.payload) for e in entries)
    packed = statistics.median(len(zlib.compress(e.payload, 6)) for e in entries)
    print(
        f"{args.runs:,} runs; real payload {payload / 1024:.1f} KiB canonical JSON, {packed / 1024:.1f} KiB "
        f"compressed; stored payloads: {args.payload}; run_rules rows: {args.rule_rows}"
    )
    if args.backend in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="affidavit-bench-", dir=args.dir))
        path = folder / "history.db"
        t = time.perf_counter()
        load_sqlite(path, args.runs, entries, args.payload == "stand-in")
        print(
            f"SQLite {sqlite3_version()}: loaded in {time.perf_counter() - t:.0f} s, file {path.stat().st_size / 2**30:.2f} GiB"
        )
        queries(f"sqlite://{path}", args.runs, entries)
        shutil.rmtree(folder, ignore_errors=True)
    if args.backend in ("postgresql", "both"):
        with _pg(args.pg) as url:
            t = time.perf_counter()
            load_postgres(url, args.runs, entries, args.payload == "stand-in")
            import psycopg

            with psycopg.connect(url) as c:
                size, version = c.execute("SELECT pg_database_size(current_database()), version()").fetchone()  # type: ignore[misc]
            print(
                f"PostgreSQL {version.split(',')[0]}: loaded in {time.perf_counter() - t:.0f} s, database {size / 2**30:.2f} GiB"
            )
            queries(url, args.runs, entries)


def sqlite3_version() -> str:
    """The SQLite library's version."""
    import sqlite3

    return sqlite3.sqlite_version


@contextmanager
def _pg(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with private_cluster() as started:
        yield started


if __name__ == "__main__":
    main()
