"""Prove that a bundle is what the gate wrote, and, given the key, who wrote it.

``verify_bundle`` reads a bundle folder or ``.tar.gz`` as a stream (``bundle.archive``): the files
that describe the others come first (``SHA256SUMS``, ``SHA256SUMS.sig``,
``attestation.intoto.jsonl``, ``manifest.json``; each read only up to a small limit), then every
other file is checked against the manifest's size *before* it is read and hashed in chunks. So a
file grown to many gigabytes is refused unread, and the memory used does not grow with the bundle.

What it checks (each failure is a problem in the report; a bundle with any problem is not OK):

* every file listed in the manifest is present, has the listed size and sha256; no file is
  present that the manifest does not list (in an archive, such a file, or one of another size,
  stops the reading at once: ``BundleError``);
* ``SHA256SUMS`` is in coreutils format, sorted, and lists exactly the manifest's files, the
  manifest itself and the envelope, each with the right sha256;
* ``results.json`` is a valid results document; its run id and decision are the manifest's; every
  evidence record it judged has an entry in the manifest's inventory (and every entry is a record
  it judged), whose record file (and raw copy, if stored) the manifest lists; a raw copy stored
  unredacted hashes to the record's id; an archive's top folder is the run id;
* signatures: a bundle is signed when it holds ``SHA256SUMS.sig`` and the envelope (one without
  the other is a problem). With ``key``, both signatures must be that key's (``SHA256SUMS.sig``
  over ``SHA256SUMS``; the DSSE signature over the statement), the statement must be an in-toto
  Statement v1 with a SLSA VSA v1 predicate, its subjects exactly the bundle's files with their
  sha256 (and the promoted artefact), and its result, run id and decision those of results.json.
  Since ``SHA256SUMS`` covers the manifest and the envelope, and the manifest every other file, a
  valid signature covers every byte of the bundle. Without ``key`` the signatures are "not
  checked": integrity is proved, authorship is not.

Bounded cost: the describing files are read up to ``LIMITS``, the files the manifest lists may
hold ``MAX_BUNDLE_BYTES`` in all, and with ``key`` nothing past the describing files is read unless
``SHA256SUMS`` is signed by it (the report then says the bundle is not signed by the key, or is
unsigned, and is not OK).

Raises ``BundleError`` only when the bundle cannot be read as one at all (no manifest, an
unreadable archive, a member that is not a regular file, a bundle larger than the bound).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json
from affidavit.bundle.archive import CHUNK, HEAD, MANIFEST_NAME, iter_members
from affidavit.bundle.attest import RUN_FIELD, STATEMENT_TYPE, VSA_TYPE, artefact_subject
from affidavit.bundle.sign import ENVELOPE_NAME, PAYLOAD_TYPE, SIGNATURE_NAME, SUMS_NAME, signature_valid
from affidavit.bundle.write import MANIFEST_SCHEMA
from affidavit.errors import BundleError, InputError, ResultsError
from affidavit.model import Decision, Run
from affidavit.signatures.keys import pae

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.bundle.archive import Member
    from affidavit.signatures.keys import PublicKey

RESULTS_NAME = "results.json"
#: The largest each describing file may be (bytes): far above what a bundle of thousands of
#: artefacts needs, far below what would strain memory when parsed.
LIMITS = {SUMS_NAME: 8 << 20, SIGNATURE_NAME: 4 << 10, ENVELOPE_NAME: 16 << 20, MANIFEST_NAME: 8 << 20}
#: The largest results.json read (it is parsed in memory).
MAX_RESULTS_BYTES = 64 << 20
#: The most file data a bundle may list (bytes): a bound on the time ``verify`` spends, far above
#: the bundle of a release (the issue-14 benchmark's four-fold inputs give well under 1 GiB).
MAX_BUNDLE_BYTES = 8 << 30

UNSIGNED = "unsigned"
NOT_CHECKED = "not checked"
VERIFIED = "verified"
INVALID = "invalid"

_SUMS_LINE = re.compile(r"([0-9a-f]{64})  ([^\n\\]+)\n")
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(slots=True)
class VerifyReport:
    """What ``affidavit verify`` found.

    ``ok``: every hash, listing and cross-reference holds, and any signature that was checked is
    valid. ``signature``: ``unsigned``, ``not checked`` (signed, no key given), ``verified`` or
    ``invalid``. ``key_id``: the key the bundle says signed it (verified or not).
    """

    path: str
    ok: bool
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    decision: str | None = None
    run_id: str | None = None
    signature: str = UNSIGNED
    key_id: str | None = None
    run: Run | None = None

    def accepted(self, allow_unsigned: bool) -> bool:
        """Whether ``verify`` exits 0: OK and signed by the given key, or OK and unsigned (or not
        checked) with ``--allow-unsigned``."""
        return self.ok and (self.signature == VERIFIED or allow_unsigned)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "path": self.path,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "decision": self.decision,
            "run_id": self.run_id,
            "signature": self.signature,
            "key_id": self.key_id,
        }


@dataclass(slots=True)
class _Seen:
    """What the reading found: the describing files' bytes, every other file's size and sha256."""

    head: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    results: bytes | None = None
    top: str | None = None
    extra: list[str] = field(default_factory=list)


def verify_bundle(path: Path, key: PublicKey | None = None) -> VerifyReport:
    """Check the bundle at ``path`` (see the module docstring); with ``key``, its signatures too."""
    where = str(path)
    report = VerifyReport(path=where, ok=True)
    seen = _Seen()
    listed: dict[str, tuple[str, int]] | None = None
    manifest: dict[str, Any] = {}
    for member in iter_members(path):
        seen.top = member.top
        if listed is None and member.name in HEAD:
            seen.head[member.name] = _read_capped(member, where, LIMITS[member.name])
            seen.digests[member.name] = hashlib.sha256(seen.head[member.name]).hexdigest()
            continue
        if listed is None:
            if member.top is not None and MANIFEST_NAME not in seen.head:
                raise BundleError(
                    f"{where}: the archive does not open with SHA256SUMS and manifest.json, as affidavit "
                    "writes it (was it packed again by another tool?)",
                    hint="verify the extracted folder, or the archive the gate wrote",
                )
            manifest, listed = _manifest(seen.head, where)
            if not _may_read(seen, manifest, report, key):
                return report
        if member.name in HEAD:
            raise BundleError(
                f"{where}: {member.name} comes after the bundle's other files; it is not as written"
            )
        _check_member(member, listed, seen, report, where)
    if listed is None:
        manifest, listed = _manifest(seen.head, where)
        if not _may_read(seen, manifest, report, key):
            return report
    for name in sorted(set(listed) - set(seen.digests)):
        report.problems.append(f"{name}: listed in the manifest but missing")
    report.problems.extend(seen.extra)
    sums = _check_sums(seen, listed, report)
    _check_results(seen, manifest, listed, report, where)
    _check_signatures(seen, listed, sums, report, key)
    report.ok = not report.problems
    return report


def _may_read(seen: _Seen, manifest: dict[str, Any], report: VerifyReport, key: PublicKey | None) -> bool:
    """Whether to read the files after the describing ones. With ``key``, only when SHA256SUMS is
    signed by it: a bundle that cannot be accepted is not read further (so a forged manifest cannot
    make ``verify`` read gigabytes first); the report then says why and is not OK."""
    report.run_id = _opt_str(manifest.get("run_id"))
    report.decision = _opt_str(manifest.get("decision"))
    if key is None:
        return True
    signature, sums = seen.head.get(SIGNATURE_NAME), seen.head.get(SUMS_NAME)
    if signature is not None and sums is not None and signature_valid(key, signature, sums):
        return True
    if ENVELOPE_NAME in seen.head:
        _, _, report.key_id = _open_envelope(
            seen.head[ENVELOPE_NAME], VerifyReport(path=report.path, ok=True)
        )
    if report.key_id is not None and report.key_id != key.key_id:
        report.problems.append(
            f"the bundle says it is signed by key {report.key_id}, not by --key ({key.key_id})"
        )
    if signature is None and ENVELOPE_NAME not in seen.head:
        report.signature = UNSIGNED
        report.problems.append("the bundle is unsigned, so --key cannot check it; its files were not read")
    elif signature is None:
        report.signature = INVALID
        report.problems.append(f"{SIGNATURE_NAME}: missing: a signed bundle holds both signatures")
    else:
        report.signature = INVALID
        report.problems.append(
            f"{SIGNATURE_NAME}: is not a valid signature of {SUMS_NAME} by --key; the bundle's files were not read"
        )
    report.ok = False
    return False


def _read_capped(member: Member, where: str, limit: int) -> bytes:
    """A describing file's bytes; ``BundleError`` when it is larger than any affidavit writes."""
    if member.size > limit:
        raise BundleError(
            f"{where}: {member.name} is larger ({member.size:,} bytes) than any affidavit writes"
        )
    return member.data.read(member.size)


def _manifest(head: dict[str, bytes], where: str) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """The manifest and its files table ``{name: (sha256, size)}``; ``BundleError`` when there is
    no usable manifest."""
    raw = head.get(MANIFEST_NAME)
    if raw is None:
        raise BundleError(f"{where}: no manifest.json: this is not an affidavit bundle or it is incomplete")
    try:
        manifest = load_json(raw, f"{where}/manifest.json")
    except InputError as exc:  # not JSON, or a key named twice (a second "files" table could hide one)
        raise BundleError(exc.message) from None
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise BundleError(f"{where}: manifest.json is not an {MANIFEST_SCHEMA} manifest")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{where}: manifest.json has no files table")
    listed: dict[str, tuple[str, int]] = {}
    for name, entry in files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if (
            not isinstance(digest, str)
            or not _HEX.fullmatch(digest)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
        ):
            raise BundleError(f"{where}: manifest.json's entry for a file has no sha256 and size")
        if name in HEAD:
            raise BundleError(
                f"{where}: manifest.json lists {name}, which describes the bundle and is not listed"
            )
        listed[name] = (digest, size)
    total = sum(size for _, size in listed.values())
    if total > MAX_BUNDLE_BYTES:
        raise BundleError(
            f"{where}: manifest.json lists {total:,} bytes of files; affidavit verifies bundles of at most "
            f"{MAX_BUNDLE_BYTES:,} bytes (it never writes a larger one)"
        )
    return manifest, listed


def _check_member(
    member: Member, listed: dict[str, tuple[str, int]], seen: _Seen, report: VerifyReport, where: str
) -> None:
    """Hash one file after checking it is listed with its size (an archive stops at a mismatch)."""
    name = member.name
    in_archive = member.top is not None
    if name not in listed:
        message = f"{name}: present but not in the manifest: added after the bundle was written"
        if in_archive:
            raise BundleError(f"{where}: {message}")
        seen.extra.append(message)
        return
    digest, size = listed[name]
    if member.size != size:
        message = f"{name}: is {member.size:,} bytes, the manifest says {size:,}: the file was changed"
        if in_archive:
            raise BundleError(f"{where}: {message}")
        report.problems.append(message)
        seen.digests[name] = ""
        return
    keep = name == RESULTS_NAME and size <= MAX_RESULTS_BYTES
    hasher = hashlib.sha256()
    kept = bytearray()
    left = size
    while left:
        chunk = member.data.read(min(CHUNK, left))
        if not chunk:
            break
        hasher.update(chunk)
        if keep:
            kept += chunk
        left -= len(chunk)
    actual = hasher.hexdigest()
    seen.digests[name] = actual
    report.checked += 1
    if left:
        report.problems.append(f"{name}: shorter than the manifest says: the file was changed")
    elif actual != digest:
        report.problems.append(
            f"{name}: sha256 is {actual}, the manifest says {digest}: the file was changed"
        )
    if name == RESULTS_NAME:
        if keep:
            seen.results = bytes(kept)
        else:
            report.problems.append(f"{name}: larger than {MAX_RESULTS_BYTES:,} bytes; not read")


def _check_sums(seen: _Seen, listed: dict[str, tuple[str, int]], report: VerifyReport) -> dict[str, str]:
    """``SHA256SUMS``: its format, and that it lists exactly the bundle's files with their sha256."""
    raw = seen.head.get(SUMS_NAME)
    if raw is None:
        report.problems.append(f"{SUMS_NAME}: missing: every bundle lists its files there")
        return {}
    sums: dict[str, str] = {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        report.problems.append(f"{SUMS_NAME}: is not UTF-8 text")
        return {}
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, 1):
        match = _SUMS_LINE.fullmatch(line)
        if match is None:
            report.problems.append(f"{SUMS_NAME}: line {number} is not a '<sha256>  <name>' line")
            return {}
        digest, name = match.groups()
        if name in sums:
            report.problems.append(f"{SUMS_NAME}: lists a file twice (line {number})")
        sums[name] = digest
    if list(sums) != sorted(sums):
        report.problems.append(f"{SUMS_NAME}: its lines are not sorted by name")
    expected = set(listed) | {MANIFEST_NAME} | ({ENVELOPE_NAME} if ENVELOPE_NAME in seen.head else set())
    for name in sorted(expected - set(sums)):
        report.problems.append(f"{name}: not in {SUMS_NAME}")
    for name in sorted(set(sums) - expected):
        report.problems.append(f"{SUMS_NAME}: lists {name}, which the bundle does not hold")
    for name in sorted(expected & set(sums)):
        actual = seen.digests.get(name)
        if actual is not None and actual != sums[name]:
            report.problems.append(f"{name}: sha256 is {actual}, {SUMS_NAME} says {sums[name]}")
    return sums


def _check_results(
    seen: _Seen,
    manifest: dict[str, Any],
    listed: dict[str, tuple[str, int]],
    report: VerifyReport,
    where: str,
) -> None:
    """results.json against the manifest: run id, decision, and the evidence inventory."""
    if RESULTS_NAME not in listed:
        report.problems.append("results.json: not in the manifest: the bundle holds no decision")
        return
    if seen.results is None:
        return
    try:
        run = parse_run(seen.results, f"{where}/results.json")
    except BundleError as exc:
        report.problems.append(exc.message)
        return
    report.run = run
    if run.decision.value != manifest.get("decision") or run.run_id != manifest.get("run_id"):
        report.problems.append("results.json and manifest.json disagree on the run id or the decision")
    if seen.top is not None and seen.top != run.run_id:
        report.problems.append("the archive's top folder is not the run id of its results.json")
    inventory = manifest.get("evidence")
    if not isinstance(inventory, list) or not all(isinstance(e, dict) for e in inventory):
        report.problems.append("manifest.json: the evidence inventory is not a list of entries")
        return
    judged = {ref.id for ref in run.inputs}
    held = {e.get("id") for e in inventory}
    for missing in sorted(judged - {i for i in held if isinstance(i, str)}):
        report.problems.append(f"results.json judged evidence {missing} that the manifest's inventory lacks")
    for entry in inventory:
        ident = entry.get("id")
        if ident not in judged:
            report.problems.append("manifest.json: an inventory entry is evidence results.json did not judge")
            continue
        for role in ("record", "raw"):
            name = entry.get(role)
            if role == "raw" and name is None:
                continue
            if not isinstance(name, str) or name not in listed:
                report.problems.append(
                    f"manifest.json: the {role} file of evidence {ident} is not in the bundle"
                )
            elif (
                role == "raw"
                and entry.get("redacted") is False
                and listed[name][0] != str(ident).split(":")[-1]
            ):
                report.problems.append(
                    f"{name}: stored as read, yet its sha256 is not the id of evidence {ident}"
                )


def _check_signatures(
    seen: _Seen,
    listed: dict[str, tuple[str, int]],
    sums: dict[str, str],
    report: VerifyReport,
    key: PublicKey | None,
) -> None:
    """The signature over SHA256SUMS and the DSSE envelope (see the module docstring)."""
    signature, envelope_raw = seen.head.get(SIGNATURE_NAME), seen.head.get(ENVELOPE_NAME)
    if signature is None and envelope_raw is None:
        report.signature = UNSIGNED
        return
    if signature is None or envelope_raw is None:
        missing = SIGNATURE_NAME if signature is None else ENVELOPE_NAME
        report.problems.append(f"{missing}: missing: a signed bundle holds both signatures")
        report.signature = INVALID
        return
    envelope, statement, claimed = _open_envelope(envelope_raw, report)
    report.key_id = claimed
    if statement is not None:
        _check_statement(statement, listed, seen, sums, report)
    if key is None:
        report.signature = NOT_CHECKED
        return
    valid = True
    if claimed is not None and claimed != key.key_id:
        report.problems.append(f"the bundle says it is signed by key {claimed}, not by --key ({key.key_id})")
        valid = False
    if SUMS_NAME not in seen.head or not signature_valid(key, signature, seen.head[SUMS_NAME]):
        report.problems.append(f"{SIGNATURE_NAME}: is not a valid signature of {SUMS_NAME} by --key")
        valid = False
    if envelope is None or not _envelope_signed(envelope, key):
        report.problems.append(f"{ENVELOPE_NAME}: the envelope is not signed by --key")
        valid = False
    report.signature = VERIFIED if valid else INVALID
    if valid:
        report.key_id = key.key_id


def _open_envelope(
    raw: bytes, report: VerifyReport
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """The envelope, its statement and the key id it names (each ``None`` when unreadable)."""
    try:
        envelope = load_json(raw, ENVELOPE_NAME)
    except InputError:
        report.problems.append(f"{ENVELOPE_NAME}: is not a JSON DSSE envelope")
        return None, None, None
    if not isinstance(envelope, dict) or envelope.get("payloadType") != PAYLOAD_TYPE or raw.count(b"\n") != 1:
        report.problems.append(f"{ENVELOPE_NAME}: is not one DSSE envelope of an in-toto statement")
        return None, None, None
    sigs = envelope.get("signatures")
    keyid = None
    if isinstance(sigs, list) and len(sigs) == 1 and isinstance(sigs[0], dict):
        keyid = _opt_str(sigs[0].get("keyid"))
    else:
        report.problems.append(f"{ENVELOPE_NAME}: does not hold exactly one signature")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
        statement = load_json(payload, f"{ENVELOPE_NAME} payload")
    except (binascii.Error, ValueError, InputError):
        report.problems.append(f"{ENVELOPE_NAME}: its payload is not a base64 JSON statement")
        return envelope, None, keyid
    if not isinstance(statement, dict):
        report.problems.append(f"{ENVELOPE_NAME}: its payload is not a statement")
        return envelope, None, keyid
    return envelope, statement, keyid


def _envelope_signed(envelope: dict[str, Any], key: PublicKey) -> bool:
    """Whether the envelope's one signature is ``key``'s over the PAE of its payload."""
    try:
        payload = base64.b64decode(str(envelope["payload"]), validate=True)
        sig = base64.b64decode(str(envelope["signatures"][0]["sig"]), validate=True)
    except (KeyError, IndexError, TypeError, binascii.Error, ValueError):
        return False
    return signature_valid(key, sig, pae(PAYLOAD_TYPE, payload))


def _check_statement(
    statement: dict[str, Any],
    listed: dict[str, tuple[str, int]],
    seen: _Seen,
    sums: dict[str, str],
    report: VerifyReport,
) -> None:
    """The statement names the bundle's files and says what results.json says."""
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != VSA_TYPE:
        report.problems.append(
            f"{ENVELOPE_NAME}: is not an in-toto Statement v1 with a SLSA VSA v1 predicate"
        )
        return
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        report.problems.append(f"{ENVELOPE_NAME}: the statement has no subjects")
        return
    expected = {name: digest for name, (digest, _) in listed.items()}
    expected[MANIFEST_NAME] = seen.digests.get(MANIFEST_NAME, "")
    named: dict[str, Any] = {}
    for subject in subjects:
        if isinstance(subject, dict) and isinstance(subject.get("name"), str):
            named[subject["name"]] = subject.get("digest")
    run = report.run
    artefact = artefact_subject(run) if run is not None else None
    if artefact is not None:
        if named.pop(artefact["name"], None) != artefact["digest"]:
            report.problems.append(f"{ENVELOPE_NAME}: the statement does not name the promoted artefact")
    if len(named) != len(subjects) - (artefact is not None) or named != {
        n: {"sha256": d} for n, d in expected.items()
    }:
        report.problems.append(
            f"{ENVELOPE_NAME}: the statement's subjects are not exactly the bundle's files"
        )
    predicate = statement.get("predicate")
    facts = predicate.get(RUN_FIELD) if isinstance(predicate, dict) else None
    if run is None or not isinstance(predicate, dict) or not isinstance(facts, dict):
        report.problems.append(
            f"{ENVELOPE_NAME}: the statement's predicate cannot be matched with results.json"
        )
        return
    result = "PASSED" if run.decision is Decision.GO else "FAILED"
    if (
        predicate.get("verificationResult") != result
        or facts.get("run_id") != run.run_id
        or facts.get("decision") != run.decision.value
    ):
        report.problems.append(f"{ENVELOPE_NAME}: the statement's result is not the decision in results.json")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_run(raw: bytes, where: str) -> Run:
    """The ``Run`` in a results.json's bytes; ``BundleError`` naming ``where`` when it is not one."""
    try:
        return Run.from_json(load_json(raw, where))
    except InputError as exc:  # not JSON, or a key named twice
        raise BundleError(exc.message) from None
    except ResultsError as exc:
        raise BundleError(f"{where}: {exc.message}") from None


def load_run(path: Path, key: PublicKey | None = None) -> Run:
    """The ``Run`` of a bundle folder or archive, after checking every hash (and, with ``key``,
    that the bundle is signed by it)."""
    report = verify_bundle(path, key)
    if not report.ok or report.run is None:
        first = report.problems[0] if report.problems else "it holds no readable results.json"
        raise BundleError(
            f"{path}: does not match its manifest ({first})",
            hint="use only bundles that `affidavit verify` accepts",
        )
    if key is not None and report.signature != VERIFIED:
        raise BundleError(f"{path}: is not signed by --key ({report.signature})")
    return report.run
