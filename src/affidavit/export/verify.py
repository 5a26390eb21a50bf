"""Check a period export offline: every file, the population, the Merkle root, every proof and
the signature; or one run's membership from its proof alone.

``verify_period(folder, key)`` reports each problem it finds (an export with any problem is not
OK):

* ``SHA256SUMS`` is in coreutils format and lists exactly the folder's top regular files (not
  itself or its signature) and ``proofs/SHA256SUMS``, each with its sha256; ``proofs/SHA256SUMS``
  lists every proof in population order with its sha256; nothing else is in the folder (no link,
  no other file or folder);
* ``period.json`` is ``affidavit.period/v1``; ``population.jsonl`` and ``waivers.jsonl`` hash to
  what it records; the RFC 6962 root over the population lines is its root and tree size;
* the proof shards (``proofs.py``) are listed in ``proofs/SHA256SUMS`` in order, each with its
  sha256, and are byte for byte the proofs made again from the population's tree (a line that
  differs is checked on its own with ``merkle.verify_inclusion`` to say why); no other file is in
  ``proofs/``;
* with ``key``: ``SHA256SUMS.sig`` is the key's signature over ``SHA256SUMS``, and the DSSE
  envelope's statement, signed by the key, lists exactly the files of ``SHA256SUMS`` (the envelope
  aside) and the root of ``period.json``. Without ``key`` the signature is "not checked".

``verify_run(folder, run_id)`` reads only ``period.json`` and the proof shards (to find the run's
line) and checks that the line's entry, leaf hash and audit path lead to the period's root with
RFC 9162's algorithm.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from affidavit.artefact import read_regular_file
from affidavit.bundle.sign import ENVELOPE_NAME, PAYLOAD_TYPE, SIGNATURE_NAME, SUMS_NAME, signature_valid
from affidavit.errors import InputError
from affidavit.export import PERIOD_NAME, is_period_export
from affidavit.export.build import canonical
from affidavit.export.merkle import MerkleLevels, leaf_hash, verify_inclusion
from affidavit.export.proofs import PROOF_SCHEMA, shard_name, shards
from affidavit.export.write import (
    PERIOD_SCHEMA,
    POPULATION_NAME,
    PREDICATE_TYPE,
    PROOFS_DIR,
    SAFE_RUN_ID,
    STATEMENT_TYPE,
    WAIVERS_NAME,
    ExportError,
    file_sha256,
)
from affidavit.signatures.keys import pae

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from affidavit.signatures.keys import PublicKey

VERIFIED, UNSIGNED, NOT_CHECKED, INVALID = "verified", "unsigned", "not-checked", "invalid"
_SUM_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)")
_SMALL = 64 * 1024 * 1024  # period.json, a proof, the envelope: read whole up to this


@dataclass
class PeriodReport:
    """What ``verify_period`` found."""

    folder: str
    period: str | None = None
    runs: int = 0
    root: str | None = None
    checked: int = 0
    signature: str = UNSIGNED
    key_id: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found (the signature aside)."""
        return not self.problems and self.signature != INVALID

    def accepted(self, allow_unsigned: bool) -> bool:
        """OK and signed by the key, or OK and ``allow_unsigned``."""
        return self.ok and (self.signature == VERIFIED or allow_unsigned)

    def to_json(self) -> dict[str, Any]:
        """The report for ``verify --format json``."""
        return {
            "kind": "period",
            "folder": self.folder,
            "period": self.period,
            "runs": self.runs,
            "merkle_root": self.root,
            "files_checked": self.checked,
            "signature": self.signature,
            "key_id": self.key_id,
            "ok": self.ok,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class RunProofReport:
    """What ``verify_run`` found: whether the run is in the period, and why not."""

    run_id: str
    period: str | None
    leaf_index: int | None
    tree_size: int | None
    root: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """The proof holds."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The report for ``verify --run --format json``."""
        return {
            "kind": "inclusion",
            "run_id": self.run_id,
            "period": self.period,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "merkle_root": self.root,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def _json(path: Path, name: str) -> Any:
    """A small JSON file of the export (regular files only, bounded)."""
    try:
        raw = read_regular_file(path, name)
    except InputError as exc:
        raise ExportError(f"{name}: {exc.detail}") from None
    if len(raw) > _SMALL:
        raise ExportError(f"{name} is larger than any file affidavit writes")
    try:
        return json.loads(raw)
    except ValueError:
        raise ExportError(f"{name} is not JSON") from None


def _period_doc(folder: Path) -> dict[str, Any]:
    """period.json, checked for its schema and the fields verification reads."""
    doc = _json(folder / PERIOD_NAME, PERIOD_NAME)
    try:
        if doc["schema"] != PERIOD_SCHEMA:
            raise ExportError(f"{PERIOD_NAME} is not {PERIOD_SCHEMA}")
        merkle, population = doc["merkle"], doc["population"]
        if not (
            isinstance(merkle["root"], str)
            and isinstance(merkle["tree_size"], int)
            and isinstance(population["sha256"], str)
            and isinstance(doc["waivers"]["sha256"], str)
        ):
            raise ExportError(f"{PERIOD_NAME} lacks its Merkle root, tree size or file hashes")
    except (KeyError, TypeError):
        raise ExportError(f"{PERIOD_NAME} lacks its Merkle root, tree size or file hashes") from None
    return dict(doc)


def verify_run(folder: Path, run_id: str) -> RunProofReport:
    """One run's membership in the period, from ``period.json`` and its proof line only (found by
    its run id in the shards; nothing else of the export is read)."""
    doc = _period_doc(folder)
    name, root, size = doc["period"].get("name"), str(doc["merkle"]["root"]), int(doc["merkle"]["tree_size"])

    def report(index: int | None, *problems: str) -> RunProofReport:
        return RunProofReport(run_id, name, index, size, root, problems)

    if not SAFE_RUN_ID.fullmatch(run_id):
        return report(None, "not a run id")
    shard_size = _shard_size(doc)
    if shard_size is None:
        return report(None, _LAYOUT_PROBLEM)
    needle = b'"run_id":"' + run_id.encode("ascii") + b'"'
    for shard in range((size + shard_size - 1) // shard_size):
        where = f"{PROOFS_DIR}/{shard_name(shard)}"
        try:
            data = _shard_bytes(folder / PROOFS_DIR / shard_name(shard), where, shard_size)
        except ExportError as exc:
            return report(None, exc.message)
        at = data.find(needle)
        while at >= 0:
            first = data.rfind(b"\n", 0, at) + 1
            last = data.find(b"\n", at)
            last = len(data) if last < 0 else last
            line_no = data.count(b"\n", 0, first)
            try:
                proof = json.loads(data[first:last])
            except ValueError:
                proof = None
            if isinstance(proof, dict) and isinstance(proof.get("entry"), dict):
                if proof["entry"].get("run_id") == run_id:
                    index = proof.get("leaf_index")
                    problems = _proof_problems(proof, run_id, root, size, None)
                    if index != shard * shard_size + line_no:
                        problems.append("its leaf index is not its place among the proofs")
                    return report(
                        index if isinstance(index, int) and not isinstance(index, bool) else None,
                        *(f"{where} line {line_no + 1}: {p}" for p in problems),
                    )
            at = data.find(needle, last)
    return report(None, f"no proof of the run in {PROOFS_DIR}/: the run is not in the period")


#: What ``verify`` says of an export whose ``period.json`` names no sharded proofs.
_LAYOUT_PROBLEM = (
    f"{PERIOD_NAME} does not say how its proofs are sharded (proof_shard_size, a power of two): "
    "an export written before proofs were packed, one file per run, is checked by the affidavit "
    "that wrote it, or by hand with sha256sum and openssl"
)
#: The longest proof line read (an audit path of 64 hashes and a population line fit many times).
_MAX_PROOF_LINE = 64 * 1024


def _shard_size(doc: dict[str, Any]) -> int | None:
    """The proofs per shard ``period.json`` records, or ``None`` when it names no usable one."""
    size = doc["merkle"].get("proof_shard_size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1 << 20 or size & (size - 1):
        return None
    return size


def _shard_bytes(path: Path, name: str, shard_size: int) -> bytes:
    """A proof shard's bytes (a regular file no longer than ``shard_size`` of the longest lines)."""
    try:
        if os.lstat(path).st_size > shard_size * _MAX_PROOF_LINE:
            raise ExportError(f"{name} is larger than any proof file affidavit writes")
        return read_regular_file(path, name)
    except FileNotFoundError:
        raise ExportError(f"{name} is missing") from None
    except InputError as exc:
        raise ExportError(f"{name}: {exc.detail}") from None


def _proof_problems(proof: Any, run_id: str, root: str, size: int, line: bytes | None) -> list[str]:
    """Why ``proof`` does not prove ``run_id`` under ``root`` (``line``: its population line)."""
    if not isinstance(proof, dict) or proof.get("schema") != PROOF_SCHEMA:
        return [f"not an {PROOF_SCHEMA} document"]
    entry, index, path = proof.get("entry"), proof.get("leaf_index"), proof.get("audit_path")
    if not isinstance(entry, dict) or entry.get("run_id") != run_id:
        return ["its entry is not this run's"]
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(path, list):
        return ["it lacks its leaf index or audit path"]
    problems: list[str] = []
    data = canonical(entry)
    if line is not None and data != line:
        problems.append("its entry differs from the run's line in population.jsonl")
    if proof.get("tree_size") != size:
        problems.append("its tree size is not the period's")
    if proof.get("root") != root:
        problems.append("its root is not the period's Merkle root")
    try:
        hashes = [bytes.fromhex(h) for h in path]
        expected = bytes.fromhex(root)
    except (TypeError, ValueError):
        return [*problems, "its audit path is not hex"]
    if not verify_inclusion(leaf_hash(data), index, size, hashes, expected):
        problems.append("its audit path does not lead from the run's entry to the period's Merkle root")
    return problems


def verify_period(folder: Path, key: PublicKey | None = None) -> PeriodReport:
    """Check the whole export (see the module docstring)."""
    report = PeriodReport(str(folder))
    if not is_period_export(folder):
        raise ExportError(f"{folder}: not a period export (no period.json)")
    sums = _check_sums(folder, report)
    try:
        doc = _period_doc(folder)
    except ExportError as exc:  # a damaged period.json is a tampered export, not an unreadable one
        report.problems.append(exc.message)
        _check_signature(folder, report, key, sums)
        return report
    report.period = str(doc["period"].get("name"))
    report.root = str(doc["merkle"]["root"])
    report.runs = int(doc["merkle"]["tree_size"])
    for name, recorded in (
        (POPULATION_NAME, doc["population"]["sha256"]),
        (WAIVERS_NAME, doc["waivers"]["sha256"]),
    ):
        if (folder / name).is_file() and file_sha256(folder / name) != recorded:
            report.problems.append(f"{name} does not hash to what {PERIOD_NAME} records")
    _check_population(folder, report, doc)
    _check_signature(folder, report, key, sums)
    return report


def _sum_lines(raw: Iterable[str], name: str, report: PeriodReport) -> Iterator[tuple[str, str]]:
    """``(digest, file name)`` of each coreutils line; a line that is none is a problem."""
    for n, line in enumerate(raw, 1):
        match = _SUM_LINE.fullmatch(line.rstrip("\n"))
        if not match:
            report.problems.append(f"{name} line {n} is not a coreutils sha256sum line")
            continue
        yield match.group(1), match.group(2)


def _check_sums(folder: Path, report: PeriodReport) -> dict[str, str]:
    """The top ``SHA256SUMS`` against the folder's top files; the listed names and digests."""
    try:
        raw = read_regular_file(folder / SUMS_NAME, SUMS_NAME)
    except InputError as exc:
        report.problems.append(f"{SUMS_NAME}: {exc.detail}")
        return {}
    listed: dict[str, str] = {}
    for digest, name in _sum_lines(raw.decode("utf-8", "replace").splitlines(), SUMS_NAME, report):
        if name in listed:
            report.problems.append(f"{SUMS_NAME} lists {name} twice")
        listed[name] = digest
    present: set[str] = set()
    for path in folder.iterdir():
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            report.problems.append(f"{path.name} is not a regular file or folder")
        elif path.is_dir() and path.name != PROOFS_DIR:
            report.problems.append(f"{path.name}/ is a folder an export does not have (added)")
        elif path.is_file() and path.name not in (SUMS_NAME, SIGNATURE_NAME):
            present.add(path.name)
    proof_sums = folder / PROOFS_DIR / SUMS_NAME
    if proof_sums.is_file() and not proof_sums.is_symlink():
        present.add(f"{PROOFS_DIR}/{SUMS_NAME}")
    for name in sorted(present - set(listed)):
        report.problems.append(f"{name} is not listed in {SUMS_NAME} (added)")
    for name in sorted(set(listed) - present):
        report.problems.append(f"{name} is listed in {SUMS_NAME} but missing")
    for name in sorted(present & set(listed)):
        report.checked += 1
        if file_sha256(folder / name) != listed[name]:
            report.problems.append(f"{name} does not match its sha256 in {SUMS_NAME} (changed)")
    return listed


def _check_population(folder: Path, report: PeriodReport, doc: dict[str, Any]) -> None:
    """The Merkle root over population.jsonl and its size, then the proofs (``_check_proofs``)."""
    path = folder / POPULATION_NAME
    if not path.is_file() or path.is_symlink():
        report.problems.append(f"{POPULATION_NAME} is missing")
        return
    size = report.runs
    tree = MerkleLevels()
    try:
        odd: list[int] = []
        with path.open("rb") as handle:
            for n, raw in enumerate(handle):
                line = raw.rstrip(b"\n")
                tree.add(leaf_hash(line))
                if not _is_entry(line, n):
                    odd.append(n + 1)
        if odd:
            shown = ", ".join(map(str, odd[:10])) + (f" and {len(odd) - 10} more" if len(odd) > 10 else "")
            report.problems.append(f"{POPULATION_NAME} line(s) {shown}: not a population entry in its place")
        root = tree.build()
        if tree.size != size:
            report.problems.append(f"{POPULATION_NAME} holds {tree.size} run(s); {PERIOD_NAME} says {size}")
        if root.hex() != report.root:
            report.problems.append(f"the Merkle root over {POPULATION_NAME} is not the root in {PERIOD_NAME}")
        if root.hex() == report.root and tree.size == size:
            _check_proofs(folder, report, doc, tree, root)
        else:
            report.problems.append(
                f"the proofs in {PROOFS_DIR}/ were not checked: the population is not the period's"
            )
    finally:
        tree.close()


def _is_entry(line: bytes, position: int) -> bool:
    """Whether a population line is an entry (``build.population_entry``) at ``position``."""
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            entry = json.loads(line)
        except ValueError:
            return False
    return (
        isinstance(entry, dict)
        and entry.get("position") == position
        and isinstance(entry.get("run_id"), str)
        and SAFE_RUN_ID.fullmatch(entry["run_id"]) is not None
        and isinstance(entry.get("subject"), dict)
    )


def _check_proofs(
    folder: Path, report: PeriodReport, doc: dict[str, Any], tree: MerkleLevels, root: bytes
) -> None:
    """Every proof shard against ``proofs/SHA256SUMS`` and against the proofs made again from the
    population (``proofs.shards`` over ``tree``, built from it and found to have the period's root),
    byte for byte: a line that differs is parsed and checked with RFC 9162's algorithm to say why.
    No file in ``proofs/`` besides them. One shard in memory at a time."""
    proofs, sums_name = folder / PROOFS_DIR, f"{PROOFS_DIR}/{SUMS_NAME}"
    shard_size = _shard_size(doc)
    if shard_size is None:
        report.problems.append(_LAYOUT_PROBLEM)
        return
    if not (proofs / SUMS_NAME).is_file() or (proofs / SUMS_NAME).is_symlink():
        report.problems.append(f"{sums_name} is missing")
        return
    expected_names = {SUMS_NAME}
    with (
        (folder / POPULATION_NAME).open("rb") as handle,
        (proofs / SUMS_NAME).open("r", encoding="utf-8", errors="replace") as sums,
    ):
        listed = _sum_lines(sums, sums_name, report)
        lines = (raw.rstrip(b"\n") for raw in handle)
        for name, expected, entries in shards(tree, lines, str(doc["period"].get("name")), root, shard_size):
            expected_names.add(name)
            where = f"{PROOFS_DIR}/{name}"
            digest, listed_name = next(listed, ("", ""))
            if listed_name != name:
                report.problems.append(f"{sums_name} does not list {where} in its place")
            try:
                data = _shard_bytes(proofs / name, where, shard_size)
            except ExportError as exc:
                report.problems.append(exc.message)
                continue
            report.checked += 1
            if digest_hex(data) != digest:
                report.problems.append(f"{where} does not match its sha256 in {sums_name} (changed)")
            if data != b"".join(expected):
                report.problems.append(_shard_difference(where, data, expected, entries, report))
        if next(listed, None) is not None:
            report.problems.append(f"{sums_name} lists more files than the population has proof shards")
    with os.scandir(proofs) as found:
        for entry in found:
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                report.problems.append(f"{PROOFS_DIR}/{entry.name} is not a regular file")
            elif entry.name not in expected_names:
                report.problems.append(
                    f"{PROOFS_DIR}/{entry.name} is not one of the export's proof files (added)"
                )


def _shard_difference(
    where: str, data: bytes, expected: list[bytes], entries: list[bytes], report: PeriodReport
) -> str:
    """Why a shard is not the proofs of its runs: its first line that differs, checked on its own."""
    found = data.split(b"\n")
    if found and found[-1] == b"":
        found.pop()
    for n, want in enumerate(expected):
        if n >= len(found):
            return f"{where} holds {len(found)} proof(s); its runs are {len(expected)}"
        if found[n] + b"\n" == want:
            continue
        try:
            run_id = json.loads(entries[n])["run_id"]
        except (ValueError, TypeError, KeyError):
            run_id = None
        if not isinstance(run_id, str) or not SAFE_RUN_ID.fullmatch(run_id):  # said of the population
            return f"{where} line {n + 1} is not the proof of the population's line at its place"
        try:
            proof = json.loads(found[n])
        except ValueError:
            return f"{where} line {n + 1} (the proof of {run_id}) is not JSON"
        problems = _proof_problems(proof, run_id, str(report.root), report.runs, entries[n])
        reason = problems[0] if problems else "it is not the canonical proof the export writes"
        return f"{where} line {n + 1} (the proof of {run_id}): {reason}"
    return f"{where} holds {len(found)} proof(s); its runs are {len(expected)}"


def _check_signature(
    folder: Path, report: PeriodReport, key: PublicKey | None, listed: dict[str, str]
) -> None:
    """SHA256SUMS.sig and the envelope, with ``key`` when given."""
    has_sig = (folder / SIGNATURE_NAME).is_file()
    has_env = (folder / ENVELOPE_NAME).is_file()
    if not has_sig and not has_env:
        report.signature = UNSIGNED
        return
    if has_sig != has_env:
        report.problems.append(
            f"a signed export holds both {SIGNATURE_NAME} and {ENVELOPE_NAME}; one is missing"
        )
    if key is None:
        report.signature = NOT_CHECKED
        return
    report.key_id = key.key_id
    try:
        sums = read_regular_file(folder / SUMS_NAME, SUMS_NAME)
        signature = read_regular_file(folder / SIGNATURE_NAME, SIGNATURE_NAME)
    except InputError:
        report.signature = INVALID
        return
    if not signature_valid(key, signature, sums):
        report.signature = INVALID
        report.problems.append(f"{SIGNATURE_NAME} is not the key's signature over {SUMS_NAME}")
        return
    envelope = _json(folder / ENVELOPE_NAME, ENVELOPE_NAME) if has_env else None
    problem = _envelope_problem(envelope, key, listed, report.root)
    if problem:
        report.signature = INVALID
        report.problems.append(f"{ENVELOPE_NAME}: {problem}")
        return
    report.signature = VERIFIED


def _envelope_problem(envelope: Any, key: PublicKey, listed: dict[str, str], root: str | None) -> str | None:
    """Why the envelope is not the key's statement over the export, or ``None``."""
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        sigs = envelope["signatures"]
        if envelope["payloadType"] != PAYLOAD_TYPE or not isinstance(sigs, list):
            return "not a DSSE envelope over an in-toto statement"
        signed = any(
            signature_valid(key, base64.b64decode(s["sig"], validate=True), pae(PAYLOAD_TYPE, payload))
            for s in sigs
        )
        stmt = json.loads(payload)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return "not a DSSE envelope over an in-toto statement"
    if not signed:
        return "not signed by the key"
    if stmt.get("_type") != STATEMENT_TYPE or stmt.get("predicateType") != PREDICATE_TYPE:
        return "not an affidavit audit-period statement"
    subjects = {
        s.get("name"): (s.get("digest") or {}).get("sha256")
        for s in stmt.get("subject") or []
        if isinstance(s, dict)
    }
    expected = {n: d for n, d in listed.items() if n != ENVELOPE_NAME}
    if subjects != expected:
        return f"its subjects are not the files of {SUMS_NAME}"
    if ((stmt.get("predicate") or {}).get("merkle") or {}).get("root") != root:
        return f"its Merkle root is not the one in {PERIOD_NAME}"
    return None


def digest_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
