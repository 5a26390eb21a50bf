"""Write the audit evidence bundle of one run, once, and never over anything.

Layout of ``<out>/<run-id>/``::

    PRODUCTION_GO_EVIDENCE.md     the human report         } one file per renderer that has a
    results.json                  the decision (v1)         } bundle file name (render.registry)
    evidence/<sha12>-<name>       each raw artefact as read (secret values redacted)
    evidence/<sha12>.record.json  its normalised evidence record (compact JSON, sorted keys)
    manifest.json                 the run id and decision, the evidence inventory (each record's
                                  id, kind, source and files) and the sha256 and size of every
                                  file above (affidavit.manifest/v2)
    attestation.intoto.jsonl      signed bundles: a DSSE envelope over an in-toto statement whose
                                  subjects are every file above and manifest.json, with the
                                  decision as a SLSA VSA (bundle.attest, bundle.sign)
    SHA256SUMS                    every file above, coreutils format (``sha256sum -c SHA256SUMS``)
    SHA256SUMS.sig                signed bundles: a signature over SHA256SUMS (``openssl`` checks it)

and ``<out>/<run-id>.tar.gz`` beside it (bundle.archive). Everything is written with sorted keys,
fixed file order and fixed archive metadata, and signatures are deterministic, so equal inputs
(and an equal key) give byte-identical bundles. Signing happens after the decision: the key is
not part of the run id, and a bundle signed or not holds the same results.json.

Memory and time (issue 14): the files are written to disk one at a time as they are made, their
sha256 and size computed on the way; the archive is then written from those files in chunks.
Nothing holds a whole artefact or record twice: a record is encoded by the C encoder a batch of
items at a time and each piece written as it comes (``record_pieces``), an artefact whose
redacted copy the collector already made is hashed from its file in chunks (never read whole
beside its copy), one the collector proved to need no masking (``AS_IS``) is copied from its
file in chunks, and whether a stored copy was redacted is read from its digest. The cyclic
garbage collector is paused while the files are made (the trees written have no cycles; with a
large run's records alive, each full collection walks them all).

The archive is written after the folder, not while the rules are evaluated: its first members
(``SHA256SUMS``, ``manifest.json``) describe all the others and exist only at the end, and
compressing the artefacts ahead of time would need a staging folder alive while evaluation may
still fail. Its one deflate stream is compressed in blocks on worker threads instead
(``archive._ParallelGzip``): on the 1x benchmark 0.77 s where one stream took 1.3 to 1.5 s.

How a record is put in place (issue 9: bundles never collide or race):

* **Nothing is written over.** The run id is derived from every input and the evaluation time, so
  a folder or archive already under this run id should hold this very decision. If it is a real
  folder (or regular file) that ``verify_bundle`` accepts and whose results.json holds the same run
  as this one, the run is *already recorded*: it is left exactly as it is (a missing half, folder
  or archive, is added). When this run is signed, the record found must carry a valid signature
  by the same key. Anything else under the name (another decision, a record that does not
  verify, a symbolic link, a file where the folder goes) is refused with ``BundleError`` (exit 3)
  and left untouched. "The same run" means equal results.json documents apart from the recorded
  wall-clock time (``Run.wall_time``): a replay of the same inputs at the same evaluation time is
  the same decision recorded at another moment, and the record keeps the moment it was first made.
* **Staged, then renamed.** Folder and archive are written in full into a private temporary folder
  made by ``tempfile.mkdtemp`` inside ``--out`` (same filesystem), then placed: the folder first,
  by ``rename`` (atomic, and it fails rather than replace a non-empty folder), then the archive,
  by a hard link (atomic, and it fails rather than replace anything). A reader therefore sees a
  whole folder or none, a whole archive or none, and an archive only where the folder beside it
  holds the same run: a writer places the archive only after it placed the folder or found the
  same run in it. Two gates racing on one run id with different decisions cannot both place the
  folder; the loser finds the other's decision there and is refused before it touches the
  archive. If the archive's name is taken by another decision after this writer placed its
  folder (something outside this protocol put it there), the folder is taken back out and the
  writer is refused. On a filesystem without hard links the archive is created exclusively in
  place instead (never over anything, but a reader may then see it while it is being written).
* **Links are not followed.** Everything is created relative to an open descriptor of ``--out``
  with ``O_CREAT | O_EXCL | O_NOFOLLOW``; a link at ``<out>/<run-id>``, ``<out>/<run-id>.tar.gz``
  or inside an existing run folder is refused, never written through. ``--out`` itself may be a
  link to a folder: naming it is the caller's choice, like naming any other path; it is resolved
  once, when it is opened, and everything after goes to that folder.

Files are not fsync'd: a killed process leaves only its temporary folder (``.affidavit-*.tmp``,
never a half record under a run id); after a power loss a record may be cut short, which
``affidavit verify`` reports and a re-run then refuses to write over.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from affidavit.artefact import gc_paused, read_regular_file, special_file
from affidavit.bundle.archive import MANIFEST_NAME, archive_order, write_tar_gz
from affidavit.bundle.attest import statement
from affidavit.bundle.redact import AS_IS, redacted_copy
from affidavit.bundle.sign import ENVELOPE_NAME, SIGNATURE_NAME, SUMS_NAME
from affidavit.errors import BundleError, InputError
from affidavit.jsonwrite import compact_json as compact_text
from affidavit.jsonwrite import json_pieces
from affidavit.render.json import canonical_json as canonical_text
from affidavit.render.registry import bundle_renderers
from affidavit.spool import SpooledCopy
from affidavit.store.record import BlobWriter, RecordBlob

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from affidavit.bundle.sign import Signer
    from affidavit.model import Evidence, Run

MANIFEST_SCHEMA = "affidavit.manifest/v2"
REPORT_NAME = "PRODUCTION_GO_EVIDENCE.md"


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return canonical_text(value).encode()


def compact_json(value: Any) -> bytes:
    """Deterministic JSON bytes without indentation: sorted keys, UTF-8, final newline.

    For the evidence records, which machines read: ``indent`` makes ``json.dumps`` fall back from
    its C encoder to the Python one (several times slower on the tens of MB a large plan's record
    holds). results.json and the manifest, which people read, stay indented. The writer streams
    the same bytes (``record_pieces``).
    """
    return (_compact(value) + "\n").encode()


#: Items of a large list, or keys of a large dict, that ``record_pieces`` encodes at a time: a
#: piece is then at most about a MB for the plan records of the 1x benchmark (15,000 resource
#: changes, 28 MB of record) and the encoder is called a few dozen times, not once per item.
PIECE_ITEMS = 512
#: How many levels of containers ``record_pieces`` opens itself (a record, its data, their lists).
PIECE_DEPTH = 4


def record_pieces(value: Any, batch: int = PIECE_ITEMS) -> Iterator[bytes]:
    """``compact_json(value)`` in pieces whose concatenation is exactly its bytes, for writing a
    large record without holding its text whole (and its text again as bytes, and again with the
    newline: three copies of 28 MB for the 1x plan's record): ``jsonwrite.json_pieces``, the
    items of its outer containers encoded ``batch`` at a time by the C encoder."""
    yield from json_pieces(value, _compact_utf8, PIECE_DEPTH, max(batch, 1))
    yield b"\n"


def _record_file(record: Evidence, blobs: dict[str, RecordBlob]) -> Iterator[bytes]:
    """The pieces of the record's file (``record_pieces`` of the record), and on the way the
    history's blob of the record (``store.record.record_blob``: the same canonical JSON without
    the collection time) made from them, into ``blobs``.

    The collection time is the record's first key in sorted order, so the file is its member
    followed by the blob's text without its opening brace: the record is written as JSON once."""
    doc = record.to_json()
    collected = doc.pop("collected_at")
    if len(doc) < 2 or min(doc) < "collected_at":  # not a record's shape: written whole, no blob
        yield from record_pieces(record.to_json())
        return
    writer = BlobWriter()
    try:
        opening = b'{"collected_at":' + _compact_utf8(collected) + b","
        for piece in json_pieces(doc, _compact_utf8, PIECE_DEPTH, PIECE_ITEMS):
            writer.update(piece)
            if opening:
                piece, opening = opening + piece[1:], b""
            yield piece
        yield b"\n"
        blobs[record.id] = writer.blob()
    finally:
        writer.close()


def _compact(value: Any) -> str:
    return compact_text(value, sort_keys=True, ensure_ascii=False)


def _compact_utf8(value: Any) -> bytes:
    return _compact(value).encode()


@dataclass(slots=True)
class Bundle:
    """A run's bundle: its folder, archive and manifest, and which of the two this call placed.

    ``manifest`` is the manifest this call wrote (or would have written, when the run was already
    recorded); ``signed_by`` the id of the key it was signed with, when it was.
    """

    path: Path
    archive: Path
    manifest: dict[str, Any]
    created: tuple[Path, ...] = ()
    signed_by: str | None = None
    # The history's blob of each record whose file this call wrote, made from the same pieces
    # (``store.record.BlobWriter``), by record id: ``gate`` hands them to the run history.
    record_blobs: dict[str, RecordBlob] = field(default_factory=dict)

    @property
    def already_recorded(self) -> bool:
        """True when the run was (at least in part) on record before this call, and verified."""
        return len(self.created) < 2


def write_bundle(
    run: Run,
    evidence: Sequence[Evidence],
    sources: Mapping[str, Path],
    out_dir: Path,
    signer: Signer | None = None,
    *,
    stored: Mapping[str, bytes | SpooledCopy] | None = None,
) -> Bundle:
    """Write the bundle for one run into ``out_dir/<run-id>/`` and its ``.tar.gz`` (see the module
    docstring: never over anything, never through a link, staged and renamed into place), signed
    with ``signer`` when one is given.

    ``stored``: redacted raw copies the collectors already made, by record id (``GateRun.stored``);
    a record's copy is used only once the file it was read from still hashes to the record's id.
    Any other record's copy is made here by its format's ``redact`` hook.
    """
    made: Mapping[str, bytes | SpooledCopy] = stored or {}
    run_id = run.run_id
    _check_run_id(run_id)
    bundle = Bundle(
        path=out_dir / run_id,
        archive=out_dir / f"{run_id}.tar.gz",
        manifest={},
        signed_by=signer.key_id if signer else None,
    )

    def produce(folder: _Folder) -> None:
        with gc_paused():
            bundle.record_blobs = {}
            bundle.manifest = _write_files(folder, run, evidence, sources, signer, made, bundle.record_blobs)

    bundle.created = _place(run, produce, out_dir, signer)
    return bundle


class _Folder:
    """A new folder being filled: each file created exclusively, its sha256 and size recorded."""

    def __init__(self, fd: int, shown: Path) -> None:
        self.fd, self.shown = fd, shown
        self.digests: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self._folders: dict[str, int] = {"": fd}

    def add(self, name: str, data: bytes) -> None:
        """Create ``name`` (``/`` separates subfolders) holding ``data``."""
        self.write(name, (data,))

    def write(self, name: str, pieces: Iterable[bytes]) -> None:
        """Create ``name`` (``/`` separates subfolders) holding the ``pieces`` one after another,
        each written and hashed as it comes."""
        *parts, leaf = name.split("/")
        where = ""
        for part in parts:
            inner = f"{where}/{part}" if where else part
            if inner not in self._folders:
                os.mkdir(part, 0o777, dir_fd=self._folders[where])
                self._folders[inner] = _open_dir(part, self._folders[where], self.shown / inner)
            where = inner
        digest, size = hashlib.sha256(), 0
        with _create_new(self._folders[where], leaf) as handle:
            for piece in pieces:
                handle.write(piece)
                digest.update(piece)
                size += len(piece)
        self.digests[name] = digest.hexdigest()
        self.sizes[name] = size

    def open(self, name: str) -> IO[bytes]:
        """A file written here, opened for reading (never through a link)."""
        *parts, leaf = name.split("/")
        where = "/".join(parts)
        fd = os.open(leaf, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=self._folders[where])
        return os.fdopen(fd, "rb")

    def close(self) -> None:
        """Close the subfolders opened here (not the folder itself)."""
        for name, fd in self._folders.items():
            if name:
                os.close(fd)


def _write_files(
    folder: _Folder,
    run: Run,
    evidence: Sequence[Evidence],
    sources: Mapping[str, Path],
    signer: Signer | None,
    made: Mapping[str, bytes | SpooledCopy],
    blobs: dict[str, RecordBlob],
) -> dict[str, Any]:
    """Every file of the bundle into ``folder``, one at a time; the manifest written (``made``:
    copies already redacted, by record id; ``blobs`` receives the history's blob of each record
    written)."""
    inventory: list[dict[str, Any]] = []
    for record in evidence:
        short = record.id.split(":", 1)[1][:12]
        source_path = sources.get(record.id)
        name = _safe_name(source_path.name if source_path else "artefact")
        entry: dict[str, Any] = {"id": record.id, "kind": record.kind.value, "source": record.source}
        if source_path is not None:
            raw_name = f"evidence/{short}-{name}"
            copy = made.get(record.id)
            if raw_name in folder.digests:
                pass  # the same artefact named twice: stored once
            elif copy == AS_IS:  # proven to need no masking (kinds.secrets): copied as is, in chunks
                folder.write(raw_name, _copied(record, source_path))
                _same_bytes(record, folder.digests[raw_name])
            elif isinstance(copy, SpooledCopy):  # a large copy, waiting on disk: streamed in
                _check_unchanged(record, source_path)
                folder.write(raw_name, _spooled(record, copy))
            else:
                folder.add(raw_name, _stored_copy(record, source_path, copy))
            # The stored bytes are the raw artefact's exactly when they hash to the record's id.
            redacted = folder.digests[raw_name] != record.id.split(":", 1)[1]
            entry.update({"raw": raw_name, "redacted": redacted})
        record_name = f"evidence/{short}.record.json"
        if record_name not in folder.digests:
            folder.write(record_name, _record_file(record, blobs))
        entry["record"] = record_name
        inventory.append(entry)

    for renderer in bundle_renderers():
        assert renderer.filename is not None  # bundle_renderers() gives only those with a file
        folder.add(renderer.filename, renderer.render(run).encode())
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run.run_id,
        "decision": run.decision.value,
        "evidence": sorted(inventory, key=lambda e: (e["kind"], e["source"], e["id"])),
        "files": {
            name: {"sha256": folder.digests[name], "size": folder.sizes[name]}
            for name in sorted(folder.digests)
        },
    }
    folder.add(MANIFEST_NAME, canonical_json(manifest))
    if signer is not None:
        subjects = sorted(folder.digests.items())
        folder.add(ENVELOPE_NAME, signer.sign_envelope(statement(run, subjects)))
    sums = sums_text(folder.digests)
    folder.add(SUMS_NAME, sums)
    if signer is not None:
        folder.add(SIGNATURE_NAME, signer.sign(sums))
    return manifest


def sums_text(digests: Mapping[str, str]) -> bytes:
    """``SHA256SUMS`` in the format ``sha256sum`` writes and ``sha256sum -c`` reads: one
    ``<hex>  <name>`` line per file, sorted by name (the names the writer makes need no escaping)."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode("utf-8")


def _check_unchanged(record: Evidence, source_path: Path, raw: bytes | None = None) -> None:
    """``BundleError`` unless the file ``record`` was read from still hashes to its id: ``raw``,
    its bytes read whole, or else read in chunks (as the collectors read it: never through a link,
    never blocking on a FIFO swapped in after collection)."""
    try:
        found = (
            hashlib.sha256(raw).hexdigest() if raw is not None else _file_sha256(source_path, record.source)
        )
    except InputError as exc:
        raise BundleError(f"{record.source}: cannot be copied into the bundle: {exc.detail}") from None
    _same_bytes(record, found)


def _same_bytes(record: Evidence, found: str) -> None:
    """``BundleError`` unless ``found`` (a sha256 in hex) is the hash of the bytes ``record`` was
    made from (its id)."""
    if found != record.id.split(":", 1)[1]:
        raise BundleError(
            f"{record.source} changed while affidavit was running (its hash no longer matches)",
            hint="re-run the gate on artefacts that are not being written to",
        )


def _spooled(record: Evidence, copy: SpooledCopy) -> Iterator[bytes]:
    """The chunks of a spooled copy; ``BundleError`` naming the record's source if they cannot
    be read back."""
    try:
        yield from copy.chunks()
    except OSError:
        raise BundleError(
            f"{record.source}: its redacted copy could not be read back from the temporary folder",
            hint="check the space and health of the temporary folder (TMPDIR) and re-run the gate",
        ) from None


def _stored_copy(record: Evidence, source_path: Path, made: bytes | None) -> bytes:
    """The bytes of ``record``'s artefact to store (secrets redacted); ``made``: the copy its
    collector made from these bytes, if it made one (then the file is only hashed, in chunks, to
    show it still holds those bytes: never read whole beside its copy)."""
    if made is not None and made != AS_IS:  # AS_IS: the raw bytes are stored (kinds.secrets)
        _check_unchanged(record, source_path)
        return made
    try:
        raw = read_regular_file(source_path, record.source)
    except InputError as exc:
        raise BundleError(f"{record.source}: cannot be copied into the bundle: {exc.detail}") from None
    _check_unchanged(record, source_path, raw)
    try:
        return redacted_copy(record, raw, made)[0]
    except InputError as exc:
        # A secret-bearing file that cannot be redacted is never stored as it is.
        raise BundleError(
            f"{record.source}: cannot be stored in the bundle: {exc.detail}",
            hint="the file was read but its secret values could not be removed; report it",
        ) from None


# What a rename or link into --out says when the name is already taken (by anything, link included).
_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}
# What a hard link says on a filesystem that has none.
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Fields of a Run that record when it was made, not what was decided (see the module docstring).
_RECORDING_ONLY = frozenset({"wall_time"})


def _check_run_id(run_id: str) -> None:
    """A run id names one entry of ``--out``: never a path, never hidden, never empty."""
    if not run_id or run_id.startswith(".") or any(c in run_id for c in "/\\\0"):
        raise BundleError(
            "the run id is not a plain file name, so no bundle can be named after it",
            hint="this is a bug in affidavit: report it",
        )


def _place(
    run: Run, produce: Callable[[_Folder], None], out_dir: Path, signer: Signer | None
) -> tuple[Path, ...]:
    """Stage the folder and archive inside ``out_dir``, then put each in place unless it is there;
    what this call placed."""
    folder_name, archive_name = run.run_id, f"{run.run_id}.tar.gz"
    out_fd = _open_out(out_dir)
    try:
        in_place = [_recorded(out_fd, out_dir, name, run, signer) for name in (folder_name, archive_name)]
        if all(in_place):
            return ()
        staging = _stage(out_dir, out_fd, run.run_id, produce)
        try:
            stage_fd = _open_dir(staging, out_fd, out_dir / staging)
            try:
                return _put(out_fd, stage_fd, out_dir, run, in_place, signer)
            finally:
                os.close(stage_fd)
        finally:
            shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
    finally:
        os.close(out_fd)


def _put(
    out_fd: int, stage_fd: int, out_dir: Path, run: Run, in_place: list[bool], signer: Signer | None
) -> tuple[Path, ...]:
    """Place the staged folder, then the staged archive; what this call placed.

    A name taken meanwhile is checked like one found at the start; if the archive's name turns out
    to hold another run, the folder placed here is taken back before the refusal is raised.
    """
    folder_name, archive_name = run.run_id, f"{run.run_id}.tar.gz"
    created: list[Path] = []
    if not in_place[0]:
        staged = os.stat(folder_name, dir_fd=stage_fd, follow_symlinks=False)
        try:
            os.rename(folder_name, folder_name, src_dir_fd=stage_fd, dst_dir_fd=out_fd)
        except OSError as exc:
            if exc.errno not in _TAKEN:
                raise _cannot(out_dir / folder_name, exc) from None
            _recorded(out_fd, out_dir, folder_name, run, signer, required=True)
        else:
            created.append(out_dir / folder_name)
    if not in_place[1]:
        try:
            _link_or_copy(stage_fd, out_fd, archive_name)
        except OSError as exc:
            if exc.errno not in _TAKEN:
                raise _cannot(out_dir / archive_name, exc) from None
            try:
                _recorded(out_fd, out_dir, archive_name, run, signer, required=True)
            except BundleError:
                if created:
                    _take_back(out_fd, stage_fd, folder_name, staged)
                raise
        else:
            created.append(out_dir / archive_name)
    return tuple(created)


def _link_or_copy(stage_fd: int, out_fd: int, name: str) -> None:
    """Hard-link the staged archive into ``--out``; where there are no hard links, create it there
    exclusively and copy the bytes (in chunks). Either way an existing name raises ``EEXIST``."""
    try:
        os.link(name, name, src_dir_fd=stage_fd, dst_dir_fd=out_fd)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        with (
            os.fdopen(os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=stage_fd), "rb") as staged,
            os.fdopen(os.open(name, flags, 0o666, dir_fd=out_fd), "wb") as placed,
        ):
            shutil.copyfileobj(staged, placed, 1 << 20)


def _take_back(out_fd: int, stage_fd: int, name: str, staged: os.stat_result) -> None:
    """Move the folder this call placed back into the staging folder (only if it is still ours)."""
    now = os.stat(name, dir_fd=out_fd, follow_symlinks=False)
    if (now.st_dev, now.st_ino) == (staged.st_dev, staged.st_ino):
        os.rename(name, name, src_dir_fd=out_fd, dst_dir_fd=stage_fd)


def _recorded(
    out_fd: int, out_dir: Path, name: str, run: Run, signer: Signer | None, *, required: bool = False
) -> bool:
    """Whether ``out_dir/name`` holds this run already (``False``: nothing is there).

    Raises ``BundleError`` when something else is there: a link, the wrong type of entry, a record
    that does not verify, or another run. ``required``: the name was just found taken, so an entry
    gone again is also refused (the writer does not retry against a moving target).
    """
    path = out_dir / name
    try:
        found = os.stat(name, dir_fd=out_fd, follow_symlinks=False)
    except FileNotFoundError:
        if required:
            raise BundleError(
                f"{path}: appeared and vanished while this run was being recorded",
                hint="something else is writing this --out; re-run when it is done",
            ) from None
        return False
    if stat.S_ISLNK(found.st_mode):
        raise BundleError(
            f"{path}: is a symbolic link; affidavit never writes a bundle through a link",
            hint="remove the link, or choose another --out",
        )
    is_folder = name == run.run_id
    if not (stat.S_ISDIR(found.st_mode) if is_folder else stat.S_ISREG(found.st_mode)):
        kind = "folder" if is_folder else "archive (a regular file)"
        raise BundleError(
            f"{path}: is in the way and is not a bundle {kind}; it was left as it is",
            hint="move it away, or choose another --out",
        )
    _same_run(path, run, signer)
    return True


def _same_run(path: Path, run: Run, signer: Signer | None = None) -> None:
    """``BundleError`` unless the bundle at ``path`` verifies and holds ``run`` (see the docstring);
    with ``signer``, unless it also carries a valid signature by that key."""
    from affidavit.bundle.verify import verify_bundle

    hint = "a run is never written over: move the existing record away, or choose another --out"
    try:
        report = verify_bundle(path, key=signer.public if signer else None)
    except BundleError as exc:
        raise BundleError(
            f"{path}: already exists and does not verify as a bundle ({exc.message}); it was left as it is",
            hint=hint,
        ) from None
    if signer is not None and report.signature != "verified":
        why = report.problems[0] if report.problems else report.signature
        raise BundleError(
            f"{path}: already exists and is not signed by the --sign-key of this run ({why}); "
            "it was left as it is",
            hint=hint,
        )
    if not report.ok or report.run is None:
        first = report.problems[0] if report.problems else "it holds no readable results.json"
        raise BundleError(
            f"{path}: already exists and does not verify ({len(report.problems)} problem(s), the first: "
            f"{first}); it was left as it is",
            hint=hint,
        )
    recorded = report.run
    if _decided(recorded) != _decided(run):
        raise BundleError(
            f"{path}: already exists and holds another decision for run id {run.run_id} "
            f"(its results.json says {recorded.decision.value} and differs from this run's); "
            "it was left as it is and this run was not recorded",
            hint=hint,
        )


def _decided(run: Run) -> bytes:
    """The results document of ``run`` without the fields that only say when it was recorded."""
    names = {f.name for f in fields(run)} & _RECORDING_ONLY
    blank: dict[str, Any] = dict.fromkeys(names)
    cleared = replace(run, **blank) if names else run
    return canonical_json(cleared.to_json())


def _open_out(out_dir: Path) -> int:
    """``out_dir`` (created if missing), open as a directory: every later step is relative to it."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return os.open(out_dir, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError as exc:
        raise _cannot(out_dir, exc) from None


def _stage(out_dir: Path, out_fd: int, run_id: str, produce: Callable[[_Folder], None]) -> str:
    """A new private folder in ``out_dir`` holding ``<run-id>/`` (filled by ``produce``) and
    ``<run-id>.tar.gz`` (written from the files of that folder); its name."""
    try:
        staging = os.path.basename(tempfile.mkdtemp(prefix=".affidavit-", suffix=".tmp", dir=out_dir))
    except OSError as exc:
        raise _cannot(out_dir, exc) from None
    try:
        stage_fd = _open_dir(staging, out_fd, out_dir / staging)
        try:
            os.mkdir(run_id, 0o777, dir_fd=stage_fd)
            shown = out_dir / staging / run_id
            folder = _Folder(_open_dir(run_id, stage_fd, shown), shown)
            try:
                produce(folder)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
                archive_fd = os.open(f"{run_id}.tar.gz", flags, 0o666, dir_fd=stage_fd)
                with os.fdopen(archive_fd, "wb") as archive:
                    order = archive_order(folder.digests)
                    write_tar_gz(archive, run_id, [(n, folder.sizes[n]) for n in order], folder.open)
            finally:
                folder.close()
                os.close(folder.fd)
        finally:
            os.close(stage_fd)
    except OSError as exc:
        shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
        raise _cannot(out_dir / staging, exc) from None
    except BaseException:
        shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
        raise
    return staging


def _open_dir(name: str, dir_fd: int, shown: Path) -> int:
    """Open the folder ``name`` under ``dir_fd``, refusing a link (``shown`` names it in errors)."""
    try:
        return os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise _cannot(shown, exc) from None


def _create_new(dir_fd: int, name: str) -> IO[bytes]:
    """``name`` created under ``dir_fd`` (never an existing name, never through a link), open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    return os.fdopen(os.open(name, flags, 0o666, dir_fd=dir_fd), "wb")


# How an artefact is opened to be hashed: as artefact.read_regular_file opens it.
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | _CLOEXEC
_CHANGED = "changed while it was being read (it is no longer the regular file that was checked)"
_HASH_CHUNK = 1 << 20


def _copied(record: Evidence, source_path: Path) -> Iterator[bytes]:
    """The bytes of ``record``'s artefact, read in chunks as ``_stored_copy`` reads it, for an
    artefact stored as it is. The caller checks that they are the bytes the record was made from
    by the hash the folder takes of them as they are written (``_same_bytes``: one hash, not two);
    a failed check fails the whole bundle, whose staging folder is then removed."""
    try:
        yield from _file_chunks(source_path, record.source)
    except InputError as exc:
        raise BundleError(f"{record.source}: cannot be copied into the bundle: {exc.detail}") from None


def _file_sha256(path: Path, source: str) -> str:
    """The sha256 of a regular file, read in chunks (``_file_chunks``)."""
    digest = hashlib.sha256()
    for chunk in _file_chunks(path, source):
        digest.update(chunk)
    return digest.hexdigest()


def _file_chunks(path: Path, source: str) -> Iterator[bytes]:
    """A regular file's bytes in chunks, read with the checks of ``read_regular_file``: not
    through a link, not blocking on a FIFO, and the file opened the one that was checked.
    Errors are ``InputError`` naming ``source``, never quoting the file."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISLNK(before.st_mode):
        raise InputError(source, "is a symbolic link, and links are not followed here")
    if stat.S_ISDIR(before.st_mode):
        raise InputError(source, "is a directory, not a file")
    special = special_file(before.st_mode)
    if special is not None:
        raise InputError(source, f"is {special}, not a regular file")
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOENT, errno.ENXIO, errno.ENOTDIR, errno.EISDIR):
            raise InputError(source, _CHANGED) from None
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    with open(fd, "rb", closefd=True) as file:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise InputError(source, _CHANGED)
        while True:
            try:
                chunk = file.read(_HASH_CHUNK)
            except OSError as exc:
                raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
            if not chunk:
                return
            yield chunk


def _cannot(path: Path, exc: OSError) -> BundleError:
    reason = exc.strerror or type(exc).__name__
    return BundleError(
        f"{path}: the bundle cannot be written there ({reason})",
        hint="--out must name a folder affidavit can create files in",
    )


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.lstrip(".") or "artefact"
