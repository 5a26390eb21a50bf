"""The store contract over SQL, shared by the SQLite and PostgreSQL back ends.

Both back ends speak DB-API with their own placeholder; the statements here are written with ``?``
and ``_q`` rewrites them for the driver. What differs lives in the subclasses: how to connect, how
to start a write transaction that serialises appends (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a
row lock on ``chain_head``), and how to stream rows.

Appending a run is one transaction: the run row, its derived rows, the new records and the moved
chain head commit together or not at all, so a process killed at any moment leaves the whole run
or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from affidavit.model.time import format_utc
from affidavit.store.interface import (
    GENESIS,
    ChainProblem,
    ChainReport,
    Recorded,
    RunKey,
    RunQuery,
    RunSummary,
    ScannedRun,
    StoredRun,
    StoreError,
)
from affidavit.store.migrations import LATEST, MIGRATIONS, Dialect
from affidavit.store.record import (
    MAX_PAYLOAD_BYTES,
    MAX_RECORD_BYTES,
    Columns,
    EvidenceRow,
    FindingRow,
    WaiverRow,
    chain_hash,
    decompress,
    derive_columns,
    derive_rows,
    derive_summary,
    evidence_from_blob,
    sha256_hex,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from affidavit.model import Evidence
    from affidavit.store.record import RunEntry

_RUN_COLUMNS = (
    "seq, run_id, time, wall_time, recorded_at, subject_name, subject_digest, environment, commit_sha, "
    "branch, decision, replay, bundle_path, manifest_sha256"
)
_CHILDREN = {
    "run_rules": "rule_id, outcome",
    "run_evidence": "position, evidence_id, kind, format, format_version, tool_name, tool_version, source, "
    "collected_at, record_hash",
    "run_findings": "position, finding_key, kind, severity, evidence_id, subject_name, time",
    "run_waivers": "position, rule_id, owner, expires, findings, absent_evidence",
}
_CHILD_ORDER = {
    "run_rules": "seq, rule_id",
    "run_evidence": "seq, position",
    "run_findings": "seq, position",
    "run_waivers": "seq, position",
}
_BATCH = 2000
_SCAN_COLUMNS = (
    "seq, run_id, time, environment, subject_name, subject_digest, decision, manifest_sha256, commit_sha, "
    "prev_hash, hash, payload_sha256, summary, payload_size"
)


class SqlStore:
    """The contract over one DB-API connection; subclasses connect and open write transactions."""

    dialect: Dialect
    placeholder = "?"

    def __init__(self, conn: Any, display: str) -> None:
        self._conn = conn
        self._display = display
        self._pinned = False

    # -- what subclasses provide -----------------------------------------------------------

    def _write(self) -> AbstractContextManager[None]:
        """A transaction in which this process alone appends (rolled back on any exception)."""
        raise NotImplementedError

    def _migration_lock(self) -> AbstractContextManager[None]:
        """A transaction in which this process alone migrates the schema."""
        raise NotImplementedError

    def _snapshot(self) -> AbstractContextManager[None]:
        """A read transaction that sees one consistent state while writers go on."""
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a query, fetched in batches (never the whole result in memory); inside
        ``_snapshot`` only."""
        raise NotImplementedError

    def _failure(self, exc: Exception) -> StoreError:
        """The driver's error as a ``StoreError`` naming the store (never a password)."""
        raise NotImplementedError

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        raise NotImplementedError

    # -- shared machinery ------------------------------------------------------------------

    @property
    def display(self) -> str:
        """Where the store is, for messages."""
        return self._display

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._q(sql), tuple(params))

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self._exec(sql, params).fetchone()
        return None if row is None else tuple(row)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._exec(sql, params).fetchall()]

    def migrate(self) -> int:
        """Apply every migration the store lacks; the schema version in force afterwards."""
        try:
            with self._migration_lock():
                self._exec(
                    "CREATE TABLE IF NOT EXISTS affidavit_schema "
                    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, description TEXT NOT NULL)"
                )
                row = self._one("SELECT MAX(version) FROM affidavit_schema")
                current = int(row[0]) if row and row[0] is not None else 0
                if current > LATEST:
                    raise StoreError(
                        f"the run history {self._display} has schema version {current}; this affidavit "
                        f"knows versions up to {LATEST}",
                        hint="upgrade affidavit before recording into this store",
                    )
                for version, description, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements(self.dialect):
                        self._exec(statement)
                    self._exec(
                        "INSERT INTO affidavit_schema (version, applied_at, description) VALUES (?, ?, ?)",
                        (version, _now(), description),
                    )
                return max(current, LATEST)
        except self._driver_errors() as exc:
            raise self._failure(exc) from None

    def schema_version(self) -> int:
        """The newest migration applied."""
        row = self._guard(lambda: self._one("SELECT MAX(version) FROM affidavit_schema"))
        return 0 if row is None or row[0] is None else int(row[0])

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except self._driver_errors() as exc:
            raise self._failure(exc) from None

    # -- the contract ----------------------------------------------------------------------

    def record(self, entry: RunEntry) -> Recorded:
        """Append one run (see ``Store.record``)."""
        from affidavit.store.record import compress

        c = entry.columns
        body = compress(entry.payload)
        try:
            with self._write():
                head = self._one("SELECT seq, hash FROM chain_head WHERE id = 1")
                if head is None:
                    raise StoreError(f"the run history {self._display} has no chain head (damaged)")
                held = self._one("SELECT seq, hash, decision FROM runs WHERE run_id = ?", (c.run_id,))
                if held is not None:
                    if held[2] != c.decision:
                        raise StoreError(
                            f"the run history {self._display} holds run {c.run_id} with another decision",
                            hint="the history is append-only: nothing was written over; run `affidavit "
                            "history verify`",
                        )
                    return Recorded(int(held[0]), str(held[1]), True, len(body), 0)
                seq = int(head[0]) + 1
                digest = chain_hash(seq, str(head[1]), entry.payload_sha256, entry.summary_sha256)
                new_bytes = 0
                for blob in entry.records:
                    cur = self._exec(
                        "INSERT INTO records (hash, size, body) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                        (blob.hash, blob.size, blob.body),
                    )
                    if cur.rowcount == 1:
                        new_bytes += len(blob.body)
                self._exec(
                    f"INSERT INTO runs ({_RUN_COLUMNS}, payload, payload_size, prev_hash, hash, "
                    "payload_sha256, summary) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        *_column_values(c),
                        body,
                        len(entry.payload),
                        str(head[1]),
                        digest,
                        entry.payload_sha256,
                        entry.summary.decode("utf-8"),
                    ),
                )
                self._insert_children(seq, entry)
                self._exec("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))
        except self._driver_errors() as exc:
            raise self._failure(exc) from None
        return Recorded(seq, digest, False, len(body), new_bytes)

    def _insert_children(self, seq: int, entry: RunEntry) -> None:
        rows = entry.rows
        c = entry.columns
        expected = _expected_children(seq, c, rows)
        cursor = self._conn.cursor()
        for table, values in expected.items():
            if not values:
                continue
            marks = ", ".join("?" for _ in range(len(values[0]) + 1))
            sql = self._q(f"INSERT INTO {table} (seq, {_CHILDREN[table]}) VALUES ({marks})")
            cursor.executemany(sql, [(seq, *v) for v in values])

    def runs(self, query: RunQuery) -> list[RunSummary]:
        """The runs that match, newest first (see ``Store.runs``)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("subject_name", query.subject_name),
            ("subject_digest", query.subject_digest),
            ("environment", query.environment),
            ("decision", query.decision),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.since is not None:
            where.append("time >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("time < ?")
            params.append(query.until)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs{clause} ORDER BY time DESC, seq DESC LIMIT ?"
        rows = self._guard(lambda: self._all(sql, (*params, max(0, query.limit))))
        return [_summary(r) for r in rows]

    def count(self, since: str, until: str, environment: str | None = None) -> int:
        """The number of runs of ``[since, until)`` (see ``Store.count``)."""
        where, params = _period_where(since, until, environment)
        row = self._guard(lambda: self._one(self._q(f"SELECT COUNT(*) FROM runs WHERE {where}"), params))
        return int(row[0]) if row else 0

    def scan(
        self,
        since: str,
        until: str,
        environment: str | None = None,
        *,
        start: RunKey | None = None,
        stop: RunKey | None = None,
    ) -> Iterator[ScannedRun]:
        """The runs of ``[since, until)``, oldest first, from one snapshot (see ``Store.scan``).

        Through the ``runs_time`` index ``(time, seq)`` (or ``runs_environment_time``); the payload
        is read only for runs recorded before summaries (chain version 1)."""
        where, params = _period_where(since, until, environment, start, stop)
        sql = self._q(
            f"SELECT {_SCAN_COLUMNS}, CASE WHEN summary IS NULL THEN payload END FROM runs "
            f"WHERE {where} ORDER BY time, seq"
        )
        try:
            with nullcontext() if self._pinned else self._snapshot():
                rows = self._stream(sql, params)
                try:
                    for row in rows:
                        yield self._scanned(row)
                finally:  # a reader that stops early: the cursor is closed, then the snapshot
                    getattr(rows, "close", lambda: None)()
        except self._driver_errors() as exc:
            raise self._failure(exc) from None

    def key_at(self, since: str, until: str, environment: str | None, place: int) -> RunKey | None:
        """The key of the run at ``place`` (from 0) in ``scan``'s order (see ``Store.key_at``)."""
        where, params = _period_where(since, until, environment)
        sql = f"SELECT time, seq FROM runs WHERE {where} ORDER BY time, seq LIMIT 1 OFFSET ?"
        row = self._guard(lambda: self._one(self._q(sql), (*params, max(0, place))))
        return None if row is None else RunKey(str(row[0]), int(row[1]))

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Every read inside sees one snapshot of the store (see ``Store.pinned``)."""
        if self._pinned:
            yield
            return
        try:
            with self._snapshot():
                self._pinned = True
                try:
                    yield
                finally:
                    self._pinned = False
        except self._driver_errors() as exc:
            raise self._failure(exc) from None

    @staticmethod
    def _scanned(row: Sequence[Any]) -> ScannedRun:
        summary = row[12]
        legacy = None
        if summary is None:
            legacy = _canonical_bytes(bytes(row[14]), int(row[13]), str(row[1]))
        return ScannedRun(
            seq=int(row[0]),
            run_id=str(row[1]),
            time=str(row[2]),
            environment=str(row[3]),
            subject_name=row[4],
            subject_digest=row[5],
            decision=str(row[6]),
            manifest_sha256=row[7],
            commit=row[8],
            prev_hash=str(row[9]),
            hash=str(row[10]),
            payload_sha256=row[11],
            summary=None if summary is None else str(summary).encode("utf-8"),
            payload=legacy,
        )

    def get(self, run_id: str) -> StoredRun | None:
        """One run by id or unique prefix (see ``Store.get``)."""
        select = f"SELECT {_RUN_COLUMNS}, payload, payload_size, prev_hash, hash FROM runs"
        rows = self._guard(lambda: self._all(f"{select} WHERE run_id = ?", (run_id,)))
        if not rows and len(run_id) >= 8:
            upper = run_id[:-1] + chr(ord(run_id[-1]) + 1)
            rows = self._guard(
                lambda: self._all(f"{select} WHERE run_id >= ? AND run_id < ? LIMIT 2", (run_id, upper))
            )
            if len(rows) > 1:
                raise StoreError(f"more than one run id starts with {run_id!r}: give more of it")
        if not rows:
            return None
        row = rows[0]
        summary = _summary(row[:14])
        payload = _payload(bytes(row[14]), int(row[15]), summary.run_id)
        return StoredRun(summary, str(row[16]), str(row[17]), payload)

    def evidence(self, stored: StoredRun) -> list[Evidence]:
        """The run's evidence records, rebuilt and checked against their content hashes."""
        out: list[Evidence] = []
        for i, entry in enumerate(stored.payload.get("evidence") or []):
            where = f"run {stored.summary.run_id} evidence[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("record"), str):
                raise StoreError(f"{where}: the entry names no stored record")
            row = self._guard(
                lambda e=entry: self._one("SELECT size, body FROM records WHERE hash = ?", (e["record"],))
            )
            if row is None:
                raise StoreError(f"{where}: its record is missing from the store")
            body = decompress(bytes(row[1]), min(int(row[0]), MAX_RECORD_BYTES), where)
            if sha256_hex(body) != entry["record"]:
                raise StoreError(f"{where}: its stored record does not match its content hash")
            out.append(evidence_from_blob(body, str(entry.get("collected_at")), where))
        return out

    def first_seen(
        self, subject_name: str, finding_keys: Iterable[str], before: str | None = None
    ) -> dict[str, str]:
        """The earliest evaluation time each finding key was recorded for this subject name."""
        keys = list(dict.fromkeys(finding_keys))
        # One index probe per key (subject, key, time: the first row in time order), joined in one
        # statement per chunk: a GROUP BY over MIN(time) would read every sighting of a busy key.
        bound = " AND time < ?" if before else ""
        probe = f"SELECT time FROM run_findings WHERE subject_name = ? AND finding_key = ?{bound} ORDER BY time LIMIT 1"
        found: dict[str, str] = {}
        for start in range(0, len(keys), 200):
            chunk = keys[start : start + 200]
            sql = " UNION ALL ".join(f"SELECT ?, ({probe})" for _ in chunk)
            params: list[Any] = []
            for key in chunk:
                params += [key, subject_name, key, *([before] if before else [])]
            for key, time in self._guard(lambda s=sql, p=params: self._all(s, p)):
                if time is not None:
                    found[str(key)] = str(time)
        return found

    def verify(self) -> ChainReport:
        """Walk the chain (see ``Store.verify``)."""
        try:
            with self._snapshot():
                return self._verify()
        except self._driver_errors() as exc:
            raise self._failure(exc) from None

    def _verify(self) -> ChainReport:
        problems: list[ChainProblem] = []
        children = {
            table: _Grouped(
                self._stream(f"SELECT seq, {columns} FROM {table} ORDER BY {_CHILD_ORDER[table]}")
            )
            for table, columns in _CHILDREN.items()
        }
        checked_records: set[str] = set()
        prev_hash, prev_seq, count = GENESIS, 0, 0
        stream = self._stream(
            f"SELECT {_RUN_COLUMNS}, payload, payload_size, prev_hash, hash, payload_sha256, summary "
            "FROM runs ORDER BY seq"
        )
        for row in stream:
            count += 1
            summary = _summary(row[:14])
            seq, run_id = summary.seq, summary.run_id

            def note(problem: str, seq: int = seq, run_id: str = run_id) -> None:
                problems.append(ChainProblem(seq, run_id, problem))

            if seq != prev_seq + 1:
                note(f"follows run #{prev_seq}: {seq - prev_seq - 1} run(s) before it are missing")
            if str(row[16]) != prev_hash:
                note(
                    "its previous-run hash does not match the run before it (a run was removed or reordered)"
                )
            try:
                payload = _payload(bytes(row[14]), int(row[15]), run_id)
            except StoreError as exc:
                note(exc.message)
                prev_hash, prev_seq = str(row[17]), seq
                for group in children.values():
                    group.take(seq)
                continue
            raw = _canonical_bytes(bytes(row[14]), int(row[15]), run_id)
            for link_problem in _link_problems(seq, row, raw, payload):
                note(link_problem)
            try:
                columns = derive_columns(payload)
                rows = derive_rows(payload)
            except StoreError as exc:
                note(exc.message)
            else:
                for field, stored_value, derived in _column_pairs(summary, columns):
                    if stored_value != derived:
                        note(f"its column '{field}' does not match its recorded content (edited)")
                expected = _expected_children(seq, columns, rows)
                for table, group in children.items():
                    held = group.take(seq)
                    if held != expected[table]:
                        note(
                            f"its rows in {table} do not match its recorded content (edited, added or removed)"
                        )
                for e in rows.evidence:
                    if e.record_hash in checked_records:
                        continue
                    checked_records.add(e.record_hash)
                    problem = self._record_problem(e.record_hash)
                    if problem:
                        note(problem)
            prev_hash, prev_seq = str(row[17]), seq
        for table, group in children.items():
            orphans = group.rest()
            if orphans:
                problems.append(
                    ChainProblem(
                        None, None, f"{table} holds rows of {orphans} run(s) the chain does not hold"
                    )
                )
        head = self._one("SELECT seq, hash FROM chain_head WHERE id = 1")
        if head is None:
            problems.append(ChainProblem(None, None, "the chain head is missing"))
        elif int(head[0]) != prev_seq or str(head[1]) != prev_hash:
            problems.append(
                ChainProblem(
                    None,
                    None,
                    f"the chain head names run #{head[0]} but the last run held is #{prev_seq} "
                    "(runs at the end were removed, or the head was changed)",
                )
            )
        return ChainReport(count, prev_seq, prev_hash, tuple(problems))

    def _record_problem(self, record_hash: str) -> str | None:
        row = self._one("SELECT size, body FROM records WHERE hash = ?", (record_hash,))
        if row is None:
            return f"its evidence record {record_hash[:12]} is missing from the store"
        try:
            body = decompress(bytes(row[1]), min(int(row[0]), MAX_RECORD_BYTES), "record")
        except StoreError:
            return f"its evidence record {record_hash[:12]} is damaged"
        if sha256_hex(body) != record_hash:
            return f"its evidence record {record_hash[:12]} does not match its content hash (edited)"
        return None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def _link_problems(seq: int, row: Sequence[Any], raw: bytes, payload: Mapping[str, Any]) -> list[str]:
    """What is wrong with a run's chain link, payload sha256 and summary (``verify``): the columns
    ``prev_hash, hash, payload_sha256, summary`` are ``row[16:20]``."""
    prev_hash, digest, payload_sha256, summary = row[16], row[17], row[18], row[19]
    actual = sha256_hex(raw)
    if summary is None:  # chain version 1: recorded before summaries
        if payload_sha256 is not None:
            return ["it has a payload sha256 but no summary (a summary was removed)"]
        if chain_hash(seq, str(prev_hash), actual) != str(digest):
            return ["its content does not match its hash (the run was edited)"]
        return []
    problems: list[str] = []
    held = str(summary).encode("utf-8")
    if chain_hash(seq, str(prev_hash), str(payload_sha256), sha256_hex(held)) != str(digest):
        problems.append(
            "its content does not match its hash (the run was edited: its summary or payload sha256)"
        )
    if payload_sha256 != actual:
        problems.append(
            "its content does not match its hash (the run was edited: its payload no longer hashes "
            "to its payload sha256)"
        )
    if held != derive_summary(payload):
        problems.append("its summary does not match its recorded content (edited)")
    return problems


class _Grouped:
    """Rows ordered by ``seq`` (their first column), taken one run at a time."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(rows, None)
        self._skipped: set[int] = set()

    def take(self, seq: int) -> list[tuple[Any, ...]]:
        """The rows of run ``seq`` (rows of runs before it that the chain never asked for are
        remembered as orphans)."""
        out: list[tuple[Any, ...]] = []
        while self._next is not None and int(self._next[0]) <= seq:
            row = self._next
            if int(row[0]) == seq:
                out.append(tuple(row[1:]))
            else:
                self._skipped.add(int(row[0]))
            self._next = next(self._rows, None)
        return out

    def rest(self) -> int:
        """How many runs had rows that no run of the chain claimed."""
        while self._next is not None:
            self._skipped.add(int(self._next[0]))
            self._next = next(self._rows, None)
        return len(self._skipped)


# A row's values in field order. The rows hold only scalars, so a shallow read is enough:
# ``dataclasses.astuple`` deep-copies every value, 0.1 s for the 5,000 findings of the 1x benchmark.
_EVIDENCE_VALUES = attrgetter(*(f.name for f in fields(EvidenceRow)))
_FINDING_VALUES = attrgetter(*(f.name for f in fields(FindingRow)))
_WAIVER_VALUES = attrgetter(*(f.name for f in fields(WaiverRow)))


def _expected_children(seq: int, c: Columns, rows: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "run_rules": sorted(rows.rules),
        "run_evidence": [_EVIDENCE_VALUES(e) for e in rows.evidence],
        "run_findings": [(*_FINDING_VALUES(f), c.subject_name, c.time) for f in rows.findings],
        "run_waivers": [_waiver_tuple(w) for w in rows.waivers],
    }


def _waiver_tuple(w: Any) -> tuple[Any, ...]:
    values = _WAIVER_VALUES(w)
    return (*values[:-1], int(values[-1]))


def _column_values(c: Columns) -> tuple[Any, ...]:
    return (
        c.run_id,
        c.time,
        c.wall_time,
        c.recorded_at,
        c.subject_name,
        c.subject_digest,
        c.environment,
        c.commit,
        c.branch,
        c.decision,
        int(c.replay),
        c.bundle_path,
        c.manifest_sha256,
    )


def _column_pairs(summary: RunSummary, c: Columns) -> list[tuple[str, Any, Any]]:
    held = (
        summary.run_id,
        summary.time,
        summary.wall_time,
        summary.recorded_at,
        summary.subject_name,
        summary.subject_digest,
        summary.environment,
        summary.commit,
        summary.branch,
        summary.decision,
        int(summary.replay),
        summary.bundle_path,
        summary.manifest_sha256,
    )
    names = [n.strip() for n in _RUN_COLUMNS.split(",")][1:]
    return list(zip(names, held, _column_values(c), strict=True))


def _period_where(
    since: str,
    until: str,
    environment: str | None,
    start: RunKey | None = None,
    stop: RunKey | None = None,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause and parameters of a period's runs (one environment's when given; from
    the run keyed ``start`` on and before the run keyed ``stop``, when given)."""
    where = "time >= ? AND time < ?"
    params: list[Any] = [since, until]
    if environment is not None:
        where += " AND environment = ?"
        params.append(environment)
    # ``time >= t`` and ``time <= t`` alone bound the index range; the rest sorts out runs at t
    if start is not None:
        where += " AND time >= ? AND (time > ? OR seq >= ?)"
        params += [start.time, start.time, start.seq]
    if stop is not None:
        where += " AND time <= ? AND (time < ? OR seq < ?)"
        params += [stop.time, stop.time, stop.seq]
    return where, params


def _summary(row: Sequence[Any]) -> RunSummary:
    return RunSummary(
        seq=int(row[0]),
        run_id=str(row[1]),
        time=str(row[2]),
        wall_time=row[3],
        recorded_at=str(row[4]),
        subject_name=row[5],
        subject_digest=row[6],
        environment=str(row[7]),
        commit=row[8],
        branch=row[9],
        decision=str(row[10]),
        replay=bool(row[11]),
        bundle_path=row[12],
        manifest_sha256=row[13],
    )


def _canonical_bytes(body: bytes, size: int, run_id: str) -> bytes:
    return decompress(body, min(max(size, 0), MAX_PAYLOAD_BYTES), f"the payload of run {run_id}")


def _payload(body: bytes, size: int, run_id: str) -> dict[str, Any]:
    raw = _canonical_bytes(body, size, run_id)
    try:
        doc = json.loads(raw)
    except ValueError:
        raise StoreError(f"the payload of run {run_id} is not JSON") from None
    if not isinstance(doc, dict):
        raise StoreError(f"the payload of run {run_id} is not an object")
    return doc


def _now() -> str:
    return format_utc(datetime.now(tz=UTC).replace(microsecond=0))
