"""The run history's one interface: what a store keeps, how it is asked, what it answers.

A store is append-only. ``record`` adds one run in one transaction (the whole run or nothing,
whatever happens to the process), after the previous run in the store's hash chain; nothing
updates or deletes a run. Every implementation (``sqlite``, ``postgres``) passes the same contract
suite (``tests/store``). The values here are plain frozen dataclasses; the stored payload of a run
is ``affidavit.history/v1`` JSON (see ``record.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from affidavit.errors import Error

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from contextlib import AbstractContextManager

    from affidavit.model import Evidence
    from affidavit.store.record import RunEntry

#: The chain's first link: the "previous hash" of the first run of every store.
GENESIS = "0" * 64


class StoreError(Error):
    """The run history could not be opened, read or written (exit code 3 for a gate)."""


@dataclass(frozen=True, slots=True)
class RunQuery:
    """The filters of ``affidavit history``; ``None`` means "any". Times are RFC 3339 UTC text
    (``model.time.format_utc``) compared with the run's evaluation time; ``until`` is exclusive."""

    subject_name: str | None = None
    subject_digest: str | None = None
    environment: str | None = None
    decision: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One row of ``affidavit history``: what a run decided, about what, when."""

    seq: int
    run_id: str
    time: str
    wall_time: str | None
    recorded_at: str
    subject_name: str | None
    subject_digest: str | None
    environment: str
    commit: str | None
    branch: str | None
    decision: str
    replay: bool
    bundle_path: str | None
    manifest_sha256: str | None

    def to_json(self) -> dict[str, Any]:
        """The entry of ``history --format json``."""
        return {
            "seq": self.seq,
            "run_id": self.run_id,
            "time": self.time,
            "wall_time": self.wall_time,
            "recorded_at": self.recorded_at,
            "subject": {"name": self.subject_name, "digest": self.subject_digest},
            "environment": self.environment,
            "commit": self.commit,
            "branch": self.branch,
            "decision": self.decision,
            "replay": self.replay,
            "bundle": {"path": self.bundle_path, "manifest_sha256": self.manifest_sha256},
        }


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as the store holds it: its summary, its chain link and its decoded payload."""

    summary: RunSummary
    prev_hash: str
    hash: str
    payload: Mapping[str, Any]


class RunKey(NamedTuple):
    """Where a run sits in ``Store.scan``'s order: its evaluation time, then its place in the chain."""

    time: str
    seq: int


class ScannedRun(NamedTuple):
    """One run as ``Store.scan`` yields it: its indexed columns, its chain link, and either its
    summary and payload sha256 (runs recorded with chain version 2) or, for a run recorded before
    summaries existed, its whole canonical payload (inflated, not decoded). Nothing here is checked:
    the reader recomputes the chain hash (``record.chain_hash``). A named tuple: immutable, and made
    in a third of a frozen dataclass's time (a scan makes one per run, a million for a big quarter)."""

    seq: int
    run_id: str
    time: str
    environment: str
    subject_name: str | None
    subject_digest: str | None
    decision: str
    manifest_sha256: str | None
    commit: str | None
    prev_hash: str
    hash: str
    payload_sha256: str | None
    summary: bytes | None
    payload: bytes | None  # only when ``summary`` is None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What ``record`` did: the run's place in the chain, or that it was already there."""

    seq: int
    hash: str
    already_recorded: bool
    payload_bytes: int  # compressed size of the run's own payload
    new_record_bytes: int  # compressed size of evidence records this run added to the store


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break found by ``verify``: where (the run's place and id, when known) and what."""

    seq: int | None
    run_id: str | None
    problem: str

    def to_json(self) -> dict[str, Any]:
        """``{seq, run_id, problem}``."""
        return {"seq": self.seq, "run_id": self.run_id, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of ``verify``: how many runs were checked, the head, and every problem found."""

    runs: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        """True when no problem was found."""
        return not self.problems


class Store(Protocol):
    """A run history: SQLite (embedded default) or PostgreSQL (shared)."""

    @property
    def display(self) -> str:
        """Where the store is, for messages (never with a password)."""
        ...

    def record(self, entry: RunEntry) -> Recorded:
        """Append one run (one transaction); a run id already held with the same decision is
        reported as ``already_recorded``, with another decision it is refused (``StoreError``)."""
        ...

    def runs(self, query: RunQuery) -> list[RunSummary]:
        """The runs that match, newest evaluation time first, at most ``query.limit``."""
        ...

    def scan(
        self,
        since: str,
        until: str,
        environment: str | None = None,
        *,
        start: RunKey | None = None,
        stop: RunKey | None = None,
    ) -> Iterator[ScannedRun]:
        """Every run evaluated in ``[since, until)`` (in ``environment`` when given), oldest first
        (evaluation time, then place in the chain), from one consistent snapshot of the store and
        fetched in batches: memory does not grow with the number of runs. Stop iterating (or close
        the iterator) to end the snapshot early. With ``start`` and ``stop`` (``key_at``), only the
        runs from the one keyed ``start`` on and before the one keyed ``stop``. Inside ``pinned``
        the scan reads the pinned snapshot and leaves it open."""
        ...

    def key_at(self, since: str, until: str, environment: str | None, place: int) -> RunKey | None:
        """The key of the run at ``place`` (from 0) of what ``scan`` would give, ``None`` past the end."""
        ...

    def pinned(self) -> AbstractContextManager[None]:
        """Every read inside (``count``, ``key_at``, ``scan``, ``get``...) sees one snapshot of the
        store; nested, the outer one holds."""
        ...

    def count(self, since: str, until: str, environment: str | None = None) -> int:
        """How many runs ``scan`` with the same arguments would give now (through the time index;
        runs recorded between this count and a scan make the scan longer: a progress total)."""
        ...

    def get(self, run_id: str) -> StoredRun | None:
        """One run by its id (a unique prefix of at least 8 characters also finds it)."""
        ...

    def evidence(self, stored: StoredRun) -> list[Evidence]:
        """The normalised evidence records a run judged, rebuilt from the content-addressed store."""
        ...

    def verify(self) -> ChainReport:
        """Walk the whole chain: every hash, every link, every derived row against its payload."""
        ...

    def first_seen(
        self, subject_name: str, finding_keys: Iterable[str], before: str | None = None
    ) -> dict[str, str]:
        """For each finding key ever recorded for this subject name, the earliest evaluation time of
        a run that saw it (only runs evaluated before ``before`` when given); unseen keys are absent."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
