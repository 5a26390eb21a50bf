"""The runs of a period, read from the store one at a time in time order, each checked against
its own chain hash.

``period_runs`` reads ``Store.scan`` (one consistent snapshot, oldest first, fetched in batches)
and checks each run before the export counts it:

* a run recorded with a summary (chain version 2, schema 2 on): its chain hash is recomputed from
  its place, previous-run hash, ``payload_sha256`` column and the sha256 of its ``summary``
  (``record.chain_hash``); the summary must be ``affidavit.run-summary/v1`` and agree with the
  run's indexed columns (id, time, subject, environment, decision, bundle digest, commit). The
  payload is not inflated: whether it still hashes to ``payload_sha256``, and whether the summary
  is the one derived from it, is ``affidavit history verify``'s check.
* a run recorded before summaries (chain version 1): its payload is inflated and hashed against
  its chain hash as before, and its summary derived from it (``record.derive_summary``, the
  function the recording uses) so that both kinds are counted by the same code.

A summary names its run's **catalogue** (per framework the controls, titles, coverage and rules;
the policy files and rule ids: the same for every run judged with the same policies and matrices)
by sha256. The first run of each catalogue has its payload read (``Store.get``), checked against
its ``payload_sha256`` and the catalogue derived from it checked against that digest; later runs
reuse it. Any mismatch refuses the export (``StoreError``): it never vouches for an edited run.
The chain's links between runs are ``history verify``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from affidavit.store.interface import StoreError
from affidavit.store.record import (
    HISTORY_SCHEMA,
    SUMMARY_SCHEMA,
    canonical,
    chain_hash,
    derive_catalogue,
    derive_summary,
    sha256_hex,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from affidavit.export.period import Period
    from affidavit.store.interface import RunKey, ScannedRun, Store

_EDITED = "run `affidavit history verify`; the export vouches only for runs as recorded"


class PeriodRun(NamedTuple):
    """One run of the period: what the export reads of it, checked against its chain hash.

    ``controls``, ``waived``, ``policy_sha256`` and ``matrices`` are those of the run's decoded
    ``affidavit.run-summary/v1`` (``record.derive_summary``); ``policy_key`` is the canonical text
    of its matrices and policy-set digest (equal for runs judged with the same ones);
    ``catalogue`` the decoded catalogue its ``catalogue_sha256`` names. These values are shared
    between runs: never change them. A named tuple (made once per run: a frozen dataclass took three
    times as long)."""

    seq: int
    run_id: str
    time: str
    subject_name: str | None
    subject_digest: str | None
    environment: str
    decision: str
    manifest_sha256: str | None
    commit: str | None
    payload_sha256: str
    chain_hash: str
    controls: Mapping[str, str]
    waived: Sequence[Mapping[str, Any]]
    policy_sha256: str | None
    matrices: Sequence[Mapping[str, Any]]
    policy_key: bytes
    catalogue: Mapping[str, Any]
    catalogue_sha256: str


def period_runs(
    store: Store,
    period: Period,
    environment: str | None,
    *,
    start: RunKey | None = None,
    stop: RunKey | None = None,
) -> Iterator[PeriodRun]:
    """Every run evaluated in ``period`` (in ``environment`` when given), oldest first (only those
    from the run keyed ``start`` on and before the one keyed ``stop`` when given: ``Store.scan``)."""
    reader = _Reader(store)
    rows = store.scan(period.since, period.until, environment, start=start, stop=stop)
    try:
        for scanned in rows:
            if scanned.summary is None:
                yield reader.legacy(scanned)
            else:
                yield reader.summarised(scanned)
    finally:
        getattr(rows, "close", lambda: None)()  # the scan's snapshot ends now, not when collected


#: The parts of a summary in canonical JSON (sorted keys) around and between the run's own values
#: (``_Reader._cut``); ``derive_summary`` writes exactly these keys.
_HEAD = b'{"catalogue_sha256":'
_OWN = (
    b',"run_id":%b,"schema":"'
    + SUMMARY_SCHEMA.encode()
    + b'","subject":{"digest":%b,"name":%b},"time":%b,"waived":'
)
#: Shared parts decoded and kept at most this many at once (each kind): runs of one policy set and
#: of similar outcomes share them, so a period reads few; a cache that fills is emptied.
_KEPT = 4096
_quote = json.encoder.encode_basestring


def _text(value: str | None) -> bytes:
    """A column's value as canonical JSON writes it (``null``, or the string, ensure_ascii off)."""
    return b"null" if value is None else _quote(value).encode("utf-8")


class _Reader:
    """Checks and decodes the runs of one export, keeping what runs share (catalogues, and the
    decoded parts of summaries that are not the run's own) so that each is decoded once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._catalogues: dict[str, dict[str, Any]] = {}
        self._parts: dict[tuple[bytes, bytes, bytes], tuple[Any, ...]] = {}
        self._waived: dict[bytes, list[dict[str, Any]]] = {}
        self._fits: set[tuple[bytes, str]] = set()

    def summarised(self, row: ScannedRun) -> PeriodRun:
        """A chain-version-2 run, checked from its summary and payload sha256 alone."""
        assert row.summary is not None
        if (
            row.payload_sha256 is None
            or chain_hash(row.seq, row.prev_hash, row.payload_sha256, sha256_hex(row.summary)) != row.hash
        ):
            raise StoreError(
                f"run {row.run_id} (#{row.seq}) does not match its chain hash: it was edited in the store",
                hint=_EDITED,
            )
        return self._fast(row) or self._decoded(row, row.payload_sha256, _decode(row, row.summary))

    def _fast(self, row: ScannedRun) -> PeriodRun | None:
        """The run from its summary without decoding the summary whole, when the summary is, byte for
        byte, ``derive_summary``'s text around the run's own columns (``_cut``) and its other parts
        are as ``derive_summary`` writes them; ``None`` otherwise (the summary is then decoded whole,
        which says what is wrong). Each distinct part is decoded and checked once."""
        pieces = self._cut(row)
        if pieces is None:
            return None
        head, controls_text, policy_text, waived_text = pieces
        key = (head, controls_text, policy_text)
        shared = self._parts.get(key)
        if shared is None:
            shared = _shared(head, controls_text, policy_text)
            if shared is None:
                return None
            if len(self._parts) >= _KEPT:
                self._parts.clear()
            self._parts[key] = shared
        waived = self._waived.get(waived_text)
        if waived is None:
            try:
                waived = json.loads(waived_text)
            except ValueError:
                return None
            if not _waived_ok(waived):
                return None
            if len(self._waived) >= _KEPT:
                self._waived.clear()
            self._waived[waived_text] = waived
        return self._run(row, row.payload_sha256 or "", shared, waived, policy_text, controls_text)

    @staticmethod
    def _cut(row: ScannedRun) -> tuple[bytes, bytes, bytes, bytes] | None:
        """The summary's catalogue digest, controls, matrices-and-policy and waived texts, when the
        summary is ``{"catalogue_sha256":A,"commit":..,"controls":B,"decision":..,"environment":..,
        "manifest_sha256":..,"matrices":M,"policy_sha256":P,"run_id":..,"schema":..,"subject":..,
        "time":..,"waived":W}`` with the run's own columns, as canonical JSON writes them, in the
        places of the dots; ``None`` when it is not.

        Sound because each piece must then decode on its own as one complete JSON value (and
        ``M,"policy_sha256":P`` as exactly those two members): the summary is then that object,
        and decoding it whole gives the same values."""
        summary = row.summary
        assert summary is not None
        if not summary.startswith(_HEAD) or not summary.endswith(b"}"):
            return None
        try:
            return _Reader._pieces(row, summary)
        except TypeError:  # a column that is not text (SQLite keeps what it is given)
            return None

    @staticmethod
    def _pieces(row: ScannedRun, summary: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
        """``_cut``'s work, the columns' types aside."""
        commit = b',"commit":%b,"controls":' % _text(row.commit)
        a = summary.find(commit, len(_HEAD))
        if a < 0:
            return None
        between = b',"decision":%b,"environment":%b,"manifest_sha256":%b,"matrices":' % (
            _text(row.decision),
            _text(row.environment),
            _text(row.manifest_sha256),
        )
        b = summary.find(between, a + len(commit))
        if b < 0:
            return None
        own = _OWN % (_text(row.run_id), _text(row.subject_digest), _text(row.subject_name), _text(row.time))
        c = summary.find(own, b + len(between))
        if c < 0:
            return None
        return (
            summary[len(_HEAD) : a],
            summary[a + len(commit) : b],
            summary[b + len(between) : c],
            summary[c + len(own) : -1],
        )

    def _decoded(self, row: ScannedRun, payload_sha256: str, summary: dict[str, Any]) -> PeriodRun:
        """The run from its decoded summary, once its indexed columns are found to agree with it."""
        subject = summary.get("subject")
        subject = subject if isinstance(subject, dict) else {}
        held = (
            row.run_id,
            row.time,
            row.subject_name,
            row.subject_digest,
            row.environment,
            row.decision,
            row.manifest_sha256,
            row.commit,
        )
        recorded = (
            summary.get("run_id"),
            summary.get("time"),
            subject.get("name"),
            subject.get("digest"),
            summary.get("environment"),
            summary.get("decision"),
            summary.get("manifest_sha256"),
            summary.get("commit"),
        )
        if held != recorded:
            raise StoreError(
                f"run {row.run_id} (#{row.seq}): its indexed columns do not match its recorded content (edited)",
                hint="run `affidavit history verify`",
            )
        matrices, policy_sha256, controls = (
            summary.get("matrices"),
            summary.get("policy_sha256"),
            summary.get("controls"),
        )
        try:
            policy_text = canonical(matrices) + b',"policy_sha256":' + canonical(policy_sha256)
            controls_text = canonical(controls)
        except (TypeError, ValueError):
            policy_text = controls_text = b""
        digest, waived = summary.get("catalogue_sha256"), summary.get("waived")
        if not (
            controls_text and _shapes_ok(digest, controls, policy_sha256, matrices) and _waived_ok(waived)
        ):
            raise StoreError(
                f"the summary of run {row.run_id} (#{row.seq}) is not {SUMMARY_SCHEMA}",
                hint="run `affidavit history verify`",
            )
        shared = (digest, controls, policy_sha256, matrices)
        return self._run(row, payload_sha256, shared, waived, policy_text, controls_text)

    def _run(
        self,
        row: ScannedRun,
        payload_sha256: str,
        shared: tuple[Any, ...],
        waived: Any,
        policy_text: bytes,
        controls_text: bytes,
    ) -> PeriodRun:
        """The run, once its summary's parts were found of the shape ``derive_summary`` writes: its
        catalogue read (``_catalogue_of``, once per catalogue) and its outcome letters found to fit
        it (once per letters and catalogue). ``shared``: the catalogue digest, controls, policy digest
        and matrices."""
        digest, controls, policy_sha256, matrices = shared
        where = f"run {row.run_id} (#{row.seq})"
        catalogue = self._catalogues.get(digest)
        if catalogue is None:
            catalogue = self._catalogues[digest] = _catalogue_of(self._store, row, digest)
        key = (controls_text, digest)
        if not controls_text or key not in self._fits:
            listed = catalogue.get("controls")
            if (
                not isinstance(controls, dict)
                or not isinstance(listed, dict)
                or any(
                    not isinstance(letters, str) or len(letters) != len(listed.get(framework) or ())
                    for framework, letters in controls.items()
                )
            ):
                raise StoreError(
                    f"{where}: its summary's control outcomes do not match its catalogue",
                    hint="run `affidavit history verify`",
                )
            if len(self._fits) >= _KEPT:
                self._fits.clear()
            self._fits.add(key)
        return PeriodRun(
            seq=row.seq,
            run_id=row.run_id,
            time=row.time,
            subject_name=row.subject_name,
            subject_digest=row.subject_digest,
            environment=row.environment,
            decision=row.decision,
            manifest_sha256=row.manifest_sha256,
            commit=row.commit,
            payload_sha256=payload_sha256,
            chain_hash=row.hash,
            controls=controls,
            waived=waived,
            policy_sha256=policy_sha256,
            matrices=matrices,
            policy_key=policy_text,
            catalogue=catalogue,
            catalogue_sha256=digest,
        )

    def legacy(self, row: ScannedRun) -> PeriodRun:
        """A chain-version-1 run (recorded before summaries): its whole payload checked and read."""
        where = f"run {row.run_id} (#{row.seq})"
        raw = row.payload or b""
        digest = sha256_hex(raw)
        if row.payload_sha256 is not None or chain_hash(row.seq, row.prev_hash, digest) != row.hash:
            raise StoreError(
                f"{where} does not match its chain hash: it was edited in the store", hint=_EDITED
            )
        try:
            payload = json.loads(raw)
        except ValueError:
            raise StoreError(f"the payload of {where} is not JSON") from None
        if (
            not isinstance(payload, dict)
            or payload.get("schema") != HISTORY_SCHEMA
            or not isinstance(payload.get("run"), dict)
        ):
            raise StoreError(f"the payload of {where} is not {HISTORY_SCHEMA}")
        summary = json.loads(derive_summary(payload))
        key = str(summary["catalogue_sha256"])
        if key not in self._catalogues:
            self._catalogues[key] = derive_catalogue(payload)
        return self._decoded(row, digest, summary)


_MATRIX_KEYS = frozenset({"framework", "version", "sha256", "label"})
_WAIVED_KEYS = frozenset({"rule", "waiver", "findings", "absent_evidence"})


def _shapes_ok(digest: Any, controls: Any, policy_sha256: Any, matrices: Any) -> bool:
    """Whether a summary's catalogue digest, controls, policy digest and matrices are of the types
    ``derive_summary`` writes (what the period's counters read of them)."""
    return (
        isinstance(digest, str)
        and isinstance(controls, dict)
        and all(isinstance(letters, str) for letters in controls.values())
        and (policy_sha256 is None or isinstance(policy_sha256, str))
        and isinstance(matrices, list)
        and all(isinstance(m, dict) and _MATRIX_KEYS <= m.keys() for m in matrices)
    )


def _waived_ok(waived: Any) -> bool:
    """Whether a summary's waivers are of the shape ``derive_summary`` writes."""
    return isinstance(waived, list) and all(
        isinstance(w, dict) and _WAIVED_KEYS <= w.keys() and isinstance(w["findings"], list) for w in waived
    )


def _shared(head: bytes, controls_text: bytes, policy_text: bytes) -> tuple[Any, ...] | None:
    """The catalogue digest, controls, policy digest and matrices of ``_cut``'s pieces, decoded and
    checked: ``None`` when a piece is not one complete JSON value, not of ``derive_summary``'s
    shape, or not written as canonical JSON writes it (the pieces are keys of the reader's caches
    and of the policy ledger: equal content must be equal text)."""
    try:
        digest = json.loads(head)
        controls = json.loads(controls_text)
        policy = json.loads(b'{"matrices":' + policy_text + b"}")
        if not isinstance(policy, dict) or set(policy) != {"matrices", "policy_sha256"}:
            return None
        policy_sha256, matrices = policy["policy_sha256"], policy["matrices"]
        if canonical(controls) != controls_text or (
            canonical(matrices) + b',"policy_sha256":' + canonical(policy_sha256) != policy_text
        ):
            return None
    except ValueError:  # not JSON, or a lone surrogate canonical JSON cannot write
        return None
    if not _shapes_ok(digest, controls, policy_sha256, matrices):
        return None
    return digest, controls, policy_sha256, matrices


def _decode(row: ScannedRun, raw: bytes) -> dict[str, Any]:
    """A summary decoded whole (``affidavit.run-summary/v1``)."""
    where = f"run {row.run_id} (#{row.seq})"
    try:
        summary = json.loads(raw)
    except ValueError:
        raise StoreError(f"the summary of {where} is not JSON") from None
    if not isinstance(summary, dict) or summary.get("schema") != SUMMARY_SCHEMA:
        raise StoreError(f"the summary of {where} is not {SUMMARY_SCHEMA}")
    return summary


def _catalogue_of(store: Store, row: ScannedRun, digest: str) -> dict[str, Any]:
    """The catalogue of a run, from its payload (checked against its ``payload_sha256``)."""
    where = f"run {row.run_id} (#{row.seq})"
    stored = store.get(row.run_id)
    if stored is None or stored.summary.seq != row.seq:
        raise StoreError(f"{where} cannot be read back from the store", hint=_EDITED)
    if sha256_hex(canonical(dict(stored.payload))) != row.payload_sha256:
        raise StoreError(
            f"{where}: its payload does not match its payload sha256: it was edited in the store",
            hint=_EDITED,
        )
    catalogue = derive_catalogue(stored.payload)
    if sha256_hex(canonical(catalogue)) != digest:
        raise StoreError(f"{where}: its summary does not match its recorded content (edited)", hint=_EDITED)
    return catalogue
