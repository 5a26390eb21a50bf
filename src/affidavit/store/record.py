"""What a run leaves in the history: one canonical payload, the rows derived from it, the records.

A run's **payload** (``affidavit.history/v1``, canonical JSON: sorted keys, no spaces, UTF-8) holds
the whole ``results.json`` of the run (``run``: rule outcomes and messages, control statuses,
configuration hashes, waivers and what they hid, clock, subject, commit, branch), when and where it
was recorded (``recorded_at``, the CI context when present, the bundle's path and the sha256 of its
manifest and signature files), the evidence it judged (id, kind, format, tool, source, collection
time and the content hash of the normalised record) and the keys of the findings in that evidence
with their severity. The chain hash covers the uncompressed payload; the store keeps it
zlib-compressed.

Every **row** the store indexes (rule outcomes, evidence, findings, waivers) is
derived from the payload by ``derive_rows``: the recording and ``verify`` call the same function, so
an edited row is a row that no longer matches its payload.

A run's **summary** (``derive_summary``, ``affidavit.run-summary/v1``, canonical JSON of about a
kilobyte) is what a period export reads of it: decision, subject, environment, time, commit, bundle
manifest digest, policy-set and matrix digests, one letter per control outcome per framework and the
waivers it applied with what they hid. It is stored beside the payload with the payload's sha256,
and the chain hash of a run recorded with it (chain version 2) covers both
(``chain_hash(seq, prev, payload_sha256, summary_sha256)``); runs recorded before keep version 1.
What the letters refer to (per framework the controls, their titles, coverage and rules; the
policy files; the rule ids), the same for every run judged with the same policies and matrices, is
the run's **catalogue** (``derive_catalogue``), named in the summary by its sha256.

The normalised evidence **records** are stored once per content: the record without its
``collected_at`` (which the run's evidence entry keeps), canonical JSON, keyed by its sha256 and
compressed. A backtest rebuilds the records from there and re-runs the rules over them.

**Finding keys** are canonical JSON arrays, so no name can forge another key:
``["vulnerability", id, package, version]``, ``["secret", fingerprint]``,
``["sast", rule_id, file, line]``. ``first_seen`` answers by these keys.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.artefact import read_regular_file
from affidavit.errors import InputError
from affidavit.jsonwrite import compact_json
from affidavit.model import Evidence, EvidenceKind, Subject, Tool
from affidavit.model.findings import finding_key as finding_key  # re-exported: where the store's readers look
from affidavit.model.findings import key_of
from affidavit.store.interface import StoreError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.model import Run

HISTORY_SCHEMA = "affidavit.history/v1"
#: The most a stored payload or record may inflate to when read back (a bound on memory).
MAX_PAYLOAD_BYTES = 256 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024 * 1024
#: Files of a bundle whose digest the history keeps besides the manifest: the signature material.
SIGNATURE_FILES = ("SHA256SUMS", "SHA256SUMS.sig", "attestation.intoto.jsonl", "bundle.dsse.json")


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8; NaN and infinities refused."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise StoreError(f"a value of the run cannot be stored as JSON ({type(exc).__name__})") from None


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes, level: int = 6) -> bytes:
    """zlib at ``level``: 6 by default (the stdlib's: most of the gain for a fraction of level 9's
    time); record blobs take ``RECORD_LEVEL``."""
    return zlib.compress(data, level)


#: The zlib level of record blobs. A large run's records are tens of MB (a 63 MB plan gives a 28 MB
#: record) and the gate pays for compressing them: measured on that record, level 6 took 0.48 s for
#: 2.2 MB, level 1 0.19 s for 3.3 MB (levels 2 and 3 cost as much as 1). The blob's key is the sha256
#: of the uncompressed bytes, so the level changes neither a key nor what is read back.
RECORD_LEVEL = 1


def decompress(data: bytes, limit: int, what: str) -> bytes:
    """Inflate ``data``, refusing anything that is not zlib or would grow past ``limit`` bytes."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        raise StoreError(f"{what} is not readable (its compressed bytes are damaged)") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise StoreError(f"{what} is damaged or larger than {limit} bytes when inflated")
    return out


def chain_hash(seq: int, prev_hash: str, payload_sha256: str, summary_sha256: str | None = None) -> str:
    """The hash of one link. Chain version 2 (runs recorded with a summary, schema 2 on): the run's
    place, the previous run's hash, its payload's sha256 and its summary's sha256. Version 1 (runs
    recorded before, ``summary_sha256`` None): the same without the summary."""
    if summary_sha256 is None:
        return sha256_hex(f"{HISTORY_SCHEMA}\n{seq}\n{prev_hash}\n{payload_sha256}".encode())
    return sha256_hex(f"{CHAIN_V2}\n{seq}\n{prev_hash}\n{payload_sha256}\n{summary_sha256}".encode())


# ---------------------------------------------------------------------------------------------
# The run's summary: what a period export reads of it, a few hundred bytes


#: The first line of a version-2 chain link, and the schema of a run's summary.
CHAIN_V2 = "affidavit.history/v2"
SUMMARY_SCHEMA = "affidavit.run-summary/v1"
#: One letter per control outcome in a summary's ``controls`` strings ("-": no outcome, "?": an
#: outcome affidavit does not know, counted as failing as every non-passing outcome is).
OUTCOME_LETTERS = {
    "pass": "P",
    "warn": "W",
    "waived": "V",
    "not_applicable": "N",
    "fail": "F",
    "insufficient_evidence": "I",
    "error": "E",
    None: "-",
}
LETTER_OUTCOMES = {letter: outcome for outcome, letter in OUTCOME_LETTERS.items()}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _letter(outcome: Any) -> str:
    """The letter of a control outcome (``?`` for one affidavit does not know)."""
    return OUTCOME_LETTERS.get(outcome, "?") if outcome is None or isinstance(outcome, str) else "?"


def _control_items(listed: Any) -> list[dict[str, Any]]:
    """The items of one framework's control list that name a control (as the export counts them)."""
    return [item for item in _list(listed) if isinstance(item, dict) and isinstance(item.get("id"), str)]


def derive_catalogue(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's summary refers to by digest and does not repeat (the same for every run judged
    with the same policies and matrices): per framework its controls in the run's order (id, title,
    coverage, the rules testing it), the policy files and the rule ids."""
    run = _obj(payload.get("run"))
    controls = _obj(run.get("controls"))
    policies = _obj(run.get("policies"))
    return {
        "controls": {
            str(framework): [
                [
                    item["id"],
                    str(item["title"]) if item.get("title") else None,
                    str(item.get("coverage") or "manual"),
                    [r for r in _list(item.get("rules")) if isinstance(r, str)],
                ]
                for item in _control_items(listed)
            ]
            for framework, listed in controls.items()
            if isinstance(listed, list)
        },
        "files": {
            str(f.get("path")): str(f.get("sha256"))
            for f in _list(policies.get("files"))
            if isinstance(f, dict)
        },
        "rules": sorted({str(r.get("id")) for r in _list(run.get("rules")) if isinstance(r, dict)}),
    }


def derive_summary(payload: Mapping[str, Any]) -> bytes:
    """A run's summary, canonical JSON (``affidavit.run-summary/v1``), derived from its payload:
    what it decided, about what, when and where; its bundle's manifest digest and commit; the
    policy-set and matrix digests; per framework one letter per control outcome (``OUTCOME_LETTERS``,
    in the order of ``derive_catalogue``, whose sha256 it records); and each waiver it applied with
    what it hid. The recording, ``history verify`` and the export of runs recorded before summaries
    all call this one function."""
    run = _obj(payload.get("run"))
    subject = _obj(run.get("subject"))
    bundle = _obj(payload.get("bundle"))
    policies = _obj(run.get("policies"))
    controls = _obj(run.get("controls"))
    waived: list[dict[str, Any]] = []
    for rule in _list(run.get("rules")):
        if not isinstance(rule, dict):
            continue
        for applied in _list(rule.get("waived")):
            waiver = applied.get("waiver") if isinstance(applied, dict) else None
            if not isinstance(waiver, dict):
                continue
            waived.append(
                {
                    "rule": str(rule.get("id")),
                    "waiver": waiver,
                    "findings": [
                        {"msg": f.get("msg"), "evidence_ids": f.get("evidence_ids") or []}
                        for f in _list(applied.get("findings"))
                        if isinstance(f, dict)
                    ],
                    "absent_evidence": bool(applied.get("absent_evidence")),
                }
            )
    digest = policies.get("digest")
    return canonical(
        {
            "schema": SUMMARY_SCHEMA,
            "run_id": run.get("run_id"),
            "time": run.get("time"),
            "subject": {"name": subject.get("name"), "digest": subject.get("digest")},
            "environment": run.get("environment"),
            "decision": run.get("decision"),
            "commit": run.get("commit"),
            "manifest_sha256": bundle.get("manifest_sha256"),
            "policy_sha256": digest if isinstance(digest, str) else None,
            "matrices": [
                {
                    "framework": m.get("framework"),
                    "version": m.get("version"),
                    "sha256": m.get("sha256"),
                    "label": m.get("label"),
                }
                for m in _list(run.get("matrices"))
                if isinstance(m, dict)
            ],
            "catalogue_sha256": sha256_hex(canonical(derive_catalogue(payload))),
            "controls": {
                str(framework): "".join(_letter(item.get("outcome")) for item in _control_items(listed))
                for framework, listed in controls.items()
                if isinstance(listed, list)
            },
            "waived": waived,
        }
    )


# ---------------------------------------------------------------------------------------------
# Rows derived from a payload


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One evidence record a run judged, as the ``run_evidence`` table holds it."""

    position: int
    evidence_id: str
    kind: str
    format: str
    format_version: str | None
    tool_name: str | None
    tool_version: str | None
    source: str
    collected_at: str
    record_hash: str


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One finding of a run's evidence: its canonical key, kind and severity (``None``: the tool
    gives none, as for secrets)."""

    position: int
    finding_key: str
    kind: str
    severity: str | None
    evidence_id: str


@dataclass(frozen=True, slots=True)
class WaiverRow:
    """One waiver applied in a run and what it hid."""

    position: int
    rule_id: str
    owner: str
    expires: str
    findings: int
    absent_evidence: bool


@dataclass(frozen=True, slots=True)
class DerivedRows:
    """Everything a store indexes about a run besides the ``runs`` row itself."""

    rules: tuple[tuple[str, str], ...]  # (rule id, outcome)
    evidence: tuple[EvidenceRow, ...]
    findings: tuple[FindingRow, ...]
    waivers: tuple[WaiverRow, ...]


@dataclass(frozen=True, slots=True)
class Columns:
    """The ``runs`` row's indexed columns, all derived from the payload."""

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


@dataclass(frozen=True, slots=True)
class RecordBlob:
    """One normalised evidence record, stored by content: sha256 and size of the canonical JSON."""

    hash: str
    size: int
    body: bytes  # compressed


@dataclass(frozen=True, slots=True)
class RunEntry:
    """A run ready to be appended: its payload (canonical, uncompressed), the columns and rows
    derived from it, and the evidence records it references."""

    payload: bytes
    columns: Columns
    rows: DerivedRows
    records: tuple[RecordBlob, ...]
    summary: bytes  # derive_summary of the payload

    @property
    def summary_sha256(self) -> str:
        """The sha256 of the summary (chain version 2 covers it)."""
        return sha256_hex(self.summary)

    @property
    def payload_sha256(self) -> str:
        """The sha256 of the uncompressed payload (what the chain covers)."""
        return sha256_hex(self.payload)


def _get(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind):
        raise StoreError(f"stored run payload: field '{where}.{key}' has the wrong type")
    return value


def _opt(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise StoreError(f"stored run payload: field '{where}.{key}' has the wrong type")
    return value


def derive_columns(payload: Mapping[str, Any]) -> Columns:
    """The ``runs`` columns of a payload (refused with ``StoreError`` when it has the wrong shape)."""
    if payload.get("schema") != HISTORY_SCHEMA:
        raise StoreError(f"stored run payload is not {HISTORY_SCHEMA}")
    run = _get(payload, "run", dict, "payload")
    subject = _get(run, "subject", dict, "run")
    clock = run.get("clock") if isinstance(run.get("clock"), dict) else {}
    bundle = _get(payload, "bundle", dict, "payload")
    replay = clock.get("replay", False)
    return Columns(
        run_id=_get(run, "run_id", str, "run"),
        time=_get(run, "time", str, "run"),
        wall_time=_opt(clock, "wall_clock", "run.clock"),
        recorded_at=_get(payload, "recorded_at", str, "payload"),
        subject_name=_opt(subject, "name", "run.subject"),
        subject_digest=_opt(subject, "digest", "run.subject"),
        environment=_get(run, "environment", str, "run"),
        commit=_opt(run, "commit", "run"),
        branch=_opt(run, "branch", "run"),
        decision=_get(run, "decision", str, "run"),
        replay=replay if isinstance(replay, bool) else False,
        bundle_path=_opt(bundle, "path", "bundle"),
        manifest_sha256=_opt(bundle, "manifest_sha256", "bundle"),
    )


def derive_rows(payload: Mapping[str, Any]) -> DerivedRows:
    """The indexed rows of a payload, in a fixed order (see the module docstring)."""
    run = _get(payload, "run", dict, "payload")
    rules = tuple(
        (_get(r, "id", str, "run.rules[]"), _get(r, "outcome", str, "run.rules[]"))
        for r in _get(run, "rules", list, "run")
    )
    evidence = tuple(
        EvidenceRow(
            position=i,
            evidence_id=_get(e, "id", str, "evidence[]"),
            kind=_get(e, "kind", str, "evidence[]"),
            format=_get(e, "format", str, "evidence[]"),
            format_version=_opt(e, "format_version", "evidence[]"),
            tool_name=_opt(e.get("tool") or {}, "name", "evidence[].tool"),
            tool_version=_opt(e.get("tool") or {}, "version", "evidence[].tool"),
            source=_get(e, "source", str, "evidence[]"),
            collected_at=_get(e, "collected_at", str, "evidence[]"),
            record_hash=_get(e, "record", str, "evidence[]"),
        )
        for i, e in enumerate(_get(payload, "evidence", list, "payload"))
    )
    findings = tuple(
        FindingRow(
            position=i,
            finding_key=_get(f, "key", str, "findings[]"),
            kind=_get(f, "kind", str, "findings[]"),
            severity=_opt(f, "severity", "findings[]"),
            evidence_id=_get(f, "evidence_id", str, "findings[]"),
        )
        for i, f in enumerate(_get(payload, "findings", list, "payload"))
    )
    waivers: list[WaiverRow] = []
    for r in _get(run, "rules", list, "run"):
        for applied in r.get("waived") or []:
            waiver = _get(applied, "waiver", dict, "run.rules[].waived[]")
            waivers.append(
                WaiverRow(
                    position=len(waivers),
                    rule_id=_get(r, "id", str, "run.rules[]"),
                    owner=_get(waiver, "owner", str, "waiver"),
                    expires=str(waiver.get("expires")),
                    findings=len(_get(applied, "findings", list, "run.rules[].waived[]")),
                    absent_evidence=bool(applied.get("absent_evidence")),
                )
            )
    return DerivedRows(rules, evidence, findings, tuple(waivers))


# ---------------------------------------------------------------------------------------------
# Building an entry from a finished run


def findings_of(record: Evidence) -> list[dict[str, Any]]:
    """The keyed findings of one record (vulnerabilities, secrets, SAST results); others have none."""
    raw = record.data.get("findings")
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for f in raw:
        if not isinstance(f, Mapping):
            continue
        key = key_of(record.kind, f)  # the one key rule, shared with the pipeline's first-seen dating
        if key is None:
            return []
        severity = None if record.kind is EvidenceKind.SECRET_SCAN else f.get("severity")
        out.append(
            {
                "key": key,
                "kind": record.kind.value,
                "severity": severity if isinstance(severity, str) else None,
                "evidence_id": record.id,
            }
        )
    return out


#: Bytes of a record ``BlobWriter`` gathers before they are compressed as one call; past the first
#: such batch, compression runs on a worker thread (zlib lets go of the GIL), beside the encoding
#: of the pieces that follow: at the benchmark's 1x, 0.23 s of level-1 compression of 41 MB of
#: records no longer adds to the bundle's writing.
BLOB_BATCH = 1 << 20
#: Batches waiting for the worker at most (the bytes held beside the one being compressed).
BLOB_QUEUE = 4


class BlobWriter:
    """A ``RecordBlob`` made from its canonical bytes given in pieces (``update``), hashed and
    compressed as they come: the bundle writer makes a record's blob from the very pieces it
    writes the record's file with, so the record is written as JSON once, not twice. A record of
    ``BLOB_BATCH`` bytes or more is compressed on a worker thread, batch after batch in order (the
    bytes are the same: one compressor, fed the same bytes in the same order). ``close`` stops
    the worker when the blob is not finished (``blob`` stops it itself)."""

    __slots__ = ("_batch", "_batched", "_compressor", "_digest", "_out", "_pool", "_queued", "_size")

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._compressor = zlib.compressobj(RECORD_LEVEL)
        self._out: list[bytes] = []
        self._size = 0
        self._batch: list[bytes] = []
        self._batched = 0
        self._pool: ThreadPoolExecutor | None = None
        self._queued: deque[Future[bytes]] = deque()

    def update(self, piece: bytes) -> None:
        """The next piece of the canonical bytes."""
        self._digest.update(piece)
        self._size += len(piece)
        self._batch.append(piece)
        self._batched += len(piece)
        if self._batched >= BLOB_BATCH:
            self._send()

    def _send(self) -> None:
        data = b"".join(self._batch)
        self._batch.clear()
        self._batched = 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="affidavit-blob")
        while len(self._queued) >= BLOB_QUEUE:
            self._out.append(self._queued.popleft().result())
        self._queued.append(self._pool.submit(self._compressor.compress, data))

    def blob(self) -> RecordBlob:
        """The blob of every piece given (once: the writer is finished by it)."""
        try:
            while self._queued:
                self._out.append(self._queued.popleft().result())
            self._out.append(self._compressor.compress(b"".join(self._batch)))
            self._out.append(self._compressor.flush())
        finally:
            self.close()
        return RecordBlob(self._digest.hexdigest(), self._size, b"".join(self._out))

    def close(self) -> None:
        """Stop the worker, if one was started (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def record_blob(record: Evidence) -> RecordBlob:
    """The record without its collection time, canonical and compressed, keyed by its sha256.

    ``canonical``'s bytes, written by ``jsonwrite.compact_json`` (a plan's record is tens of MB): a
    record that reaches the history was judged, so the policy input, which refuses NaN and the
    infinities, held it; nothing else ``canonical`` refuses can be in it."""
    doc = record.to_json()
    doc.pop("collected_at", None)
    try:
        body = compact_json(doc, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        body = canonical(doc)  # raises the StoreError that names what cannot be stored
    return RecordBlob(sha256_hex(body), len(body), compress(body, RECORD_LEVEL))


def evidence_from_blob(body: bytes, collected_at: str, where: str) -> Evidence:
    """A stored record (``record_blob``'s canonical JSON) back as an ``Evidence``."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise StoreError(f"{where}: the stored evidence record is not JSON") from None
    if not isinstance(doc, dict):
        raise StoreError(f"{where}: the stored evidence record is not an object")
    try:
        kind = EvidenceKind(str(doc.get("kind")))
    except ValueError:
        raise StoreError(f"{where}: the stored evidence record has an unknown kind") from None
    tool = doc.get("tool")
    held = doc.get("subject")
    subject: dict[str, Any] = held if isinstance(held, dict) else {}
    problems = doc.get("problems")
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(problems, list):
        raise StoreError(f"{where}: the stored evidence record lacks its data or problems")
    return Evidence(
        id=_get(doc, "id", str, where),
        kind=kind,
        format=_get(doc, "format", str, where),
        format_version=_opt(doc, "format_version", where),
        tool=Tool(_get(tool, "name", str, where), _opt(tool, "version", where))
        if isinstance(tool, dict)
        else None,
        subject=Subject(
            _opt(subject, "name", where), _opt(subject, "version", where), _opt(subject, "digest", where)
        ),
        source=_get(doc, "source", str, where),
        collected_at=collected_at,
        effective_at=_opt(doc, "effective_at", where),
        data=data,
        problems=tuple(str(p) for p in problems),
    )


def ci_context(environ: Mapping[str, str]) -> dict[str, str | None] | None:
    """The CI system a gate runs in, from its documented environment variables; ``None`` outside CI.

    GitHub Actions ("Default environment variables": ``GITHUB_ACTIONS=true``, ``GITHUB_SERVER_URL``,
    ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``, ``GITHUB_ACTOR``); GitLab CI/CD ("Predefined CI/CD
    variables": ``GITLAB_CI=true``, ``CI_PIPELINE_URL``, ``GITLAB_USER_LOGIN``).
    """
    if environ.get("GITHUB_ACTIONS") == "true":
        server, repo, run_id = (
            environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
        )
        url = f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
        return {"provider": "github-actions", "run_url": url, "actor": environ.get("GITHUB_ACTOR")}
    if environ.get("GITLAB_CI") == "true":
        return {
            "provider": "gitlab-ci",
            "run_url": environ.get("CI_PIPELINE_URL"),
            "actor": environ.get("GITLAB_USER_LOGIN"),
        }
    return None


def bundle_digests(bundle_path: Path) -> tuple[str | None, dict[str, str]]:
    """The sha256 of the bundle's ``manifest.json`` and of each signature file it holds, read as
    regular files only (a link in its place is not followed)."""
    manifest: str | None = None
    others: dict[str, str] = {}
    for name in ("manifest.json", *SIGNATURE_FILES):
        try:
            data = read_regular_file(bundle_path / name, name)
        except InputError:
            continue
        if name == "manifest.json":
            manifest = sha256_hex(data)
        else:
            others[name] = sha256_hex(data)
    return manifest, others


def build_entry(
    run: Run,
    evidence: Sequence[Evidence],
    *,
    recorded_at: str,
    bundle_path: str | None = None,
    archive_path: str | None = None,
    manifest_sha256: str | None = None,
    signature_files: Mapping[str, str] | None = None,
    ci: Mapping[str, str | None] | None = None,
    made: Mapping[str, RecordBlob] | None = None,
) -> RunEntry:
    """The entry ``Store.record`` appends for a finished run and the evidence it judged (``made``:
    blobs already made of some records, by record id: the bundle writer's)."""
    blobs: dict[str, RecordBlob] = {}
    entries: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for record in evidence:
        blob = made.get(record.id) if made else None
        if blob is None:
            blob = record_blob(record)
        blobs.setdefault(blob.hash, blob)
        entries.append(
            {
                "id": record.id,
                "kind": record.kind.value,
                "format": record.format,
                "format_version": record.format_version,
                "tool": None
                if record.tool is None
                else {"name": record.tool.name, "version": record.tool.version},
                "source": record.source,
                "collected_at": record.collected_at,
                "effective_at": record.effective_at,
                "record": blob.hash,
            }
        )
        findings.extend(findings_of(record))
    payload_doc = {
        "schema": HISTORY_SCHEMA,
        "run": run.to_json(),
        "recorded_at": recorded_at,
        "ci": None if ci is None else dict(ci),
        "bundle": {
            "path": bundle_path,
            "archive": archive_path,
            "manifest_sha256": manifest_sha256,
            "files": dict(sorted((signature_files or {}).items())),
        },
        "evidence": entries,
        "findings": findings,
    }
    payload = canonical(payload_doc)
    # Derived from the canonical bytes as read back, exactly as verify will derive them.
    decoded = json.loads(payload)
    return RunEntry(
        payload=payload,
        columns=derive_columns(decoded),
        rows=derive_rows(decoded),
        records=tuple(blobs[h] for h in sorted(blobs)),
        summary=derive_summary(decoded),
    )
