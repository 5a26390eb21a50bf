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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    from affidavit.store.interface import ScannedRun, Store

_EDITED = "run `affidavit history verify`; the export vouches only for runs as recorded"


@dataclass(frozen=True, slots=True)
class PeriodRun:
    """One run of the period: what the export reads of it, checked against its chain hash.

    ``summary`` is the run's decoded ``affidavit.run-summary/v1`` (``record.derive_summary``);
    ``catalogue`` the decoded catalogue its ``catalogue_sha256`` names (shared between runs)."""

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
    summary: dict[str, Any]
    catalogue: Mapping[str, Any]
    catalogue_sha256: str


def period_runs(store: Store, period: Period, environment: str | None) -> Iterator[PeriodRun]:
    """Every run evaluated in ``period`` (in ``environment`` when given), oldest first."""
    catalogues: dict[str, dict[str, Any]] = {}
    for scanned in store.scan(period.since, period.until, environment):
        if scanned.summary is None:
            yield _legacy(scanned, catalogues)
        else:
            yield _summarised(store, scanned, catalogues)


def _summarised(store: Store, row: ScannedRun, catalogues: dict[str, dict[str, Any]]) -> PeriodRun:
    """A chain-version-2 run, checked from its summary and payload sha256 alone."""
    assert row.summary is not None
    where = f"run {row.run_id} (#{row.seq})"
    if (
        row.payload_sha256 is None
        or chain_hash(row.seq, row.prev_hash, row.payload_sha256, sha256_hex(row.summary)) != row.hash
    ):
        raise StoreError(f"{where} does not match its chain hash: it was edited in the store", hint=_EDITED)
    try:
        summary = json.loads(row.summary)
    except ValueError:
        raise StoreError(f"the summary of {where} is not JSON") from None
    if not isinstance(summary, dict) or summary.get("schema") != SUMMARY_SCHEMA:
        raise StoreError(f"the summary of {where} is not {SUMMARY_SCHEMA}")
    digest = summary.get("catalogue_sha256")
    catalogue = catalogues.get(digest) if isinstance(digest, str) else None
    if catalogue is None:
        catalogue = _catalogue_of(store, row, str(digest))
        catalogues[str(digest)] = catalogue
    return _period_run(row, row.payload_sha256, summary, catalogue, str(digest))


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


def _legacy(row: ScannedRun, catalogues: dict[str, dict[str, Any]]) -> PeriodRun:
    """A chain-version-1 run (recorded before summaries): its whole payload checked and read."""
    where = f"run {row.run_id} (#{row.seq})"
    raw = row.payload or b""
    digest = sha256_hex(raw)
    if row.payload_sha256 is not None or chain_hash(row.seq, row.prev_hash, digest) != row.hash:
        raise StoreError(f"{where} does not match its chain hash: it was edited in the store", hint=_EDITED)
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
    catalogue = catalogues.get(key)
    if catalogue is None:
        catalogue = catalogues[key] = derive_catalogue(payload)
    return _period_run(row, digest, summary, catalogue, key)


def _period_run(
    row: ScannedRun, payload_sha256: str, summary: dict[str, Any], catalogue: Mapping[str, Any], key: str
) -> PeriodRun:
    """The run, once its indexed columns are found to agree with its (checked) summary."""
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
    controls = summary.get("controls")
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
            f"run {row.run_id} (#{row.seq}): its summary's control outcomes do not match its catalogue",
            hint="run `affidavit history verify`",
        )
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
        summary=summary,
        catalogue=catalogue,
        catalogue_sha256=key,
    )
