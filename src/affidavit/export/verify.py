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
* every run of the population has its proof file, each proof names its own line and holds in the
  tree (``merkle.verify_inclusion``), and no proof is left over;
* with ``key``: ``SHA256SUMS.sig`` is the key's signature over ``SHA256SUMS``, and the DSSE
  envelope's statement, signed by the key, lists exactly the files of ``SHA256SUMS`` (the envelope
  aside) and the root of ``period.json``. Without ``key`` the signature is "not checked".

``verify_run(folder, run_id)`` reads only ``period.json`` and ``proofs/<run-id>.json`` and checks
that the proof's entry, leaf hash and audit path lead to the period's root.
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

from affidavit.artefact import read_regular_file
from affidavit.bundle.sign import ENVELOPE_NAME, PAYLOAD_TYPE, SIGNATURE_NAME, SUMS_NAME, signature_valid
from affidavit.errors import InputError
from affidavit.export.build import canonical
from affidavit.export.merkle import MerkleLevels, leaf_hash, verify_inclusion
from affidavit.export.write import (
    PERIOD_NAME,
    PERIOD_SCHEMA,
    POPULATION_NAME,
    PREDICATE_TYPE,
    PROOF_SCHEMA,
    PROOFS_DIR,
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


def is_period_export(folder: Path) -> bool:
    """Whether ``folder`` is a period export (it holds a regular ``period.json``)."""
    path = folder / PERIOD_NAME
    return folder.is_dir() and path.is_file() and not path.is_symlink()


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
    """One run's membership in the period, from ``period.json`` and its proof file only."""
    doc = _period_doc(folder)
    root = str(doc["merkle"]["root"])
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", run_id):
        return RunProofReport(run_id, doc["period"].get("name"), None, None, root, ("not a run id",))
    name = f"{PROOFS_DIR}/{run_id}.json"
    try:
        proof = _json(folder / PROOFS_DIR / f"{run_id}.json", name)
    except ExportError:
        return RunProofReport(
            run_id,
            doc["period"].get("name"),
            None,
            None,
            root,
            (f"{name}: no proof: the run is not in the period",),
        )
    problems = _proof_problems(proof, run_id, root, int(doc["merkle"]["tree_size"]), None)
    index = proof.get("leaf_index") if isinstance(proof, dict) else None
    return RunProofReport(
        run_id,
        doc["period"].get("name"),
        index if isinstance(index, int) else None,
        int(doc["merkle"]["tree_size"]),
        root,
        tuple(f"{name}: {p}" for p in problems),
    )


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
    size = int(doc["merkle"]["tree_size"])
    report.runs = size
    for name, recorded in (
        (POPULATION_NAME, doc["population"]["sha256"]),
        (WAIVERS_NAME, doc["waivers"]["sha256"]),
    ):
        if (folder / name).is_file() and file_sha256(folder / name) != recorded:
            report.problems.append(f"{name} does not hash to what {PERIOD_NAME} records")
    _check_population(folder, report, size)
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


def _check_population(folder: Path, report: PeriodReport, size: int) -> None:
    """The Merkle root over population.jsonl; every proof against its line and against
    ``proofs/SHA256SUMS`` (read in step with the population: memory does not grow with the runs);
    no file in ``proofs/`` besides them."""
    path = folder / POPULATION_NAME
    if not path.is_file():
        report.problems.append(f"{POPULATION_NAME} is missing")
        return
    tree = MerkleLevels()
    count = 0
    try:
        with path.open("rb") as handle:
            for raw in handle:
                tree.add(leaf_hash(raw.rstrip(b"\n")))
                count += 1
        root = tree.build().hex()
    finally:
        tree.close()
    if count != size:
        report.problems.append(f"{POPULATION_NAME} holds {count} run(s); {PERIOD_NAME} says {size}")
    if root != report.root:
        report.problems.append(f"the Merkle root over {POPULATION_NAME} is not the root in {PERIOD_NAME}")
    proofs = folder / PROOFS_DIR
    sums_name = f"{PROOFS_DIR}/{SUMS_NAME}"
    if not (proofs / SUMS_NAME).is_file():
        report.problems.append(f"{sums_name} is missing")
        return
    with (
        path.open("rb") as handle,
        (proofs / SUMS_NAME).open("r", encoding="utf-8", errors="replace") as sums,
    ):
        listed = _sum_lines(sums, sums_name, report)
        for n, raw in enumerate(handle):
            line = raw.rstrip(b"\n")
            try:
                run_id = str(json.loads(line)["run_id"])
            except (ValueError, KeyError, TypeError):
                report.problems.append(f"{POPULATION_NAME} line {n + 1} is not a population entry")
                continue
            name = f"{PROOFS_DIR}/{run_id}.json"
            digest, listed_name = next(listed, ("", ""))
            if listed_name != f"{run_id}.json":
                report.problems.append(f"{sums_name} line {n + 1} does not name the proof of {run_id}")
            try:
                data = read_regular_file(proofs / f"{run_id}.json", name)
            except InputError as exc:
                report.problems.append(f"{name}: {exc.detail}")
                continue
            report.checked += 1
            if digest_hex(data) != digest:
                report.problems.append(f"{name} does not match its sha256 in {sums_name} (changed)")
            try:
                proof = json.loads(data)
            except ValueError:
                report.problems.append(f"{name} is not JSON")
                continue
            if not isinstance(proof, dict) or proof.get("leaf_index") != n:
                report.problems.append(f"{name}: its leaf index is not the run's place in the population")
            for problem in _proof_problems(proof, run_id, str(report.root), size, line):
                report.problems.append(f"{name}: {problem}")
        if next(listed, None) is not None:
            report.problems.append(f"{sums_name} lists more proofs than the population has runs")
    entries = 0
    with os.scandir(proofs) as found:
        for entry in found:
            entries += 1
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                report.problems.append(f"{PROOFS_DIR}/{entry.name} is not a regular file")
    if entries != count + 1:
        report.problems.append(
            f"{PROOFS_DIR}/ holds {entries - 1} file(s) besides {SUMS_NAME}; the population has {count} run(s)"
        )


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
