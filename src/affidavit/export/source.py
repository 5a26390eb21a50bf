"""The runs of a period, read from the store one at a time in time order, each checked against
its own chain hash.

The ``Store`` protocol answers ``history`` queries (newest first, with a limit) and single runs;
an export needs every run of a period, oldest first, without holding them all. Until the protocol
has such a scan, this module reads the SQL back ends' ``runs`` table through their own streaming
cursor (``SqlStore._snapshot`` and ``_stream``: one consistent snapshot, rows fetched in batches),
ordered by the ``runs_time`` index ``(time, seq)``.

Each run's payload is inflated with the store's bound and its chain hash recomputed
(``chain_hash(seq, prev_hash, sha256(payload))``): a run whose payload or indexed columns were
edited in the database after it was recorded is refused (``StoreError``), so the export never
vouches for an edited run. The chain's links between runs are ``affidavit history verify``'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.store.interface import StoreError
from affidavit.store.record import HISTORY_SCHEMA, MAX_PAYLOAD_BYTES, chain_hash, decompress, sha256_hex
from affidavit.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from affidavit.export.period import Period
    from affidavit.store.interface import Store

_COLUMNS = (
    "seq, run_id, time, subject_name, subject_digest, environment, decision, manifest_sha256, "
    "payload, payload_size, prev_hash, hash"
)


@dataclass(frozen=True, slots=True)
class PeriodRun:
    """One run of the period: its indexed columns, chain link and decoded payload."""

    seq: int
    run_id: str
    time: str
    subject_name: str | None
    subject_digest: str | None
    environment: str
    decision: str
    manifest_sha256: str | None
    payload_sha256: str
    chain_hash: str
    payload: dict[str, Any]

    @property
    def run(self) -> dict[str, Any]:
        """The run's ``results.json`` document as recorded."""
        run = self.payload.get("run")
        return run if isinstance(run, dict) else {}


def period_runs(store: Store, period: Period, environment: str | None) -> Iterator[PeriodRun]:
    """Every run evaluated in ``period`` (in ``environment`` when given), oldest first."""
    if not isinstance(store, SqlStore):
        raise StoreError(f"the run history {store.display} cannot be scanned by period")
    where = "time >= ? AND time < ?"
    params: list[Any] = [period.since, period.until]
    if environment is not None:
        where += " AND environment = ?"
        params.append(environment)
    sql = store._q(f"SELECT {_COLUMNS} FROM runs WHERE {where} ORDER BY time, seq")  # noqa: SLF001
    try:
        with store._snapshot():  # noqa: SLF001
            for row in store._stream(sql, params):  # noqa: SLF001
                yield _checked(row)
    except store._driver_errors() as exc:  # noqa: SLF001
        raise store._failure(exc) from None  # noqa: SLF001


def _checked(row: tuple[Any, ...]) -> PeriodRun:
    """A row as a ``PeriodRun``, after checking its payload against its chain hash and columns."""
    seq, run_id = int(row[0]), str(row[1])
    raw = decompress(
        bytes(row[8]), min(max(int(row[9]), 0), MAX_PAYLOAD_BYTES), f"the payload of run {run_id}"
    )
    digest = sha256_hex(raw)
    if chain_hash(seq, str(row[10]), digest) != str(row[11]):
        raise StoreError(
            f"run {run_id} (#{seq}) does not match its chain hash: it was edited in the store",
            hint="run `affidavit history verify`; the export vouches only for runs as recorded",
        )
    try:
        payload = json.loads(raw)
    except ValueError:
        raise StoreError(f"the payload of run {run_id} is not JSON") from None
    run = payload.get("run") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or payload.get("schema") != HISTORY_SCHEMA or not isinstance(run, dict):
        raise StoreError(f"the payload of run {run_id} is not {HISTORY_SCHEMA}")
    bundle = _obj(payload.get("bundle"))
    subject = _obj(run.get("subject"))
    held = (str(row[1]), str(row[2]), row[3], row[4], str(row[5]), str(row[6]), row[7])
    recorded = (
        run.get("run_id"),
        run.get("time"),
        subject.get("name"),
        subject.get("digest"),
        run.get("environment"),
        run.get("decision"),
        bundle.get("manifest_sha256"),
    )
    if held != recorded:
        raise StoreError(
            f"run {run_id} (#{seq}): its indexed columns do not match its recorded content (edited)",
            hint="run `affidavit history verify`",
        )
    return PeriodRun(
        seq=seq,
        run_id=run_id,
        time=str(row[2]),
        subject_name=row[3],
        subject_digest=row[4],
        environment=str(row[5]),
        decision=str(row[6]),
        manifest_sha256=row[7],
        payload_sha256=digest,
        chain_hash=str(row[11]),
        payload=payload,
    )


def _obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}
