"""Write the audit evidence bundle of one run, once, and never over anything.

Layout of ``<out>/<run-id>/``::

    PRODUCTION_GO_EVIDENCE.md     the human report         } one file per renderer that has a
    results.json                  the decision (v1)         } bundle file name (render.registry)
    evidence/<sha12>-<name>       each raw artefact as read (secret values redacted)
    evidence/<sha12>.record.json  its normalised evidence record
    manifest.json                 sha256 of every file above

and ``<out>/<run-id>.tar.gz`` beside it. Everything is written with sorted keys, fixed file
order and fixed archive metadata, so equal inputs give byte-identical bundles.

How a record is put in place (issue 9: bundles never collide or race):

* **Nothing is written over.** The run id is derived from every input and the evaluation time, so
  a folder or archive already under this run id should hold this very decision. If it is a real
  folder (or regular file) that ``verify_bundle`` accepts and whose results.json holds the same run
  as this one, the run is *already recorded*: it is left exactly as it is (a missing half, folder
  or archive, is added). Anything else under the name (another decision, a record that does not
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
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.artefact import read_regular_file
from affidavit.bundle.archive import tar_gz
from affidavit.bundle.redact import redacted_copy
from affidavit.errors import BundleError, InputError
from affidavit.render.json import canonical_json as canonical_text
from affidavit.render.registry import bundle_renderers

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from affidavit.model import Evidence, Run

MANIFEST_SCHEMA = "affidavit.manifest/v1"
REPORT_NAME = "PRODUCTION_GO_EVIDENCE.md"


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return canonical_text(value).encode()


@dataclass(slots=True)
class Bundle:
    """A run's bundle: its folder, archive and manifest, and which of the two this call placed."""

    path: Path
    archive: Path
    manifest: dict[str, Any]
    created: tuple[Path, ...] = ()

    @property
    def already_recorded(self) -> bool:
        """True when the run was (at least in part) on record before this call, and verified."""
        return len(self.created) < 2


def write_bundle(
    run: Run,
    evidence: Sequence[Evidence],
    sources: Mapping[str, Path],
    out_dir: Path,
) -> Bundle:
    """Write the bundle for one run into ``out_dir/<run-id>/`` and its ``.tar.gz`` (see the module
    docstring: never over anything, never through a link, staged and renamed into place)."""
    run_id = run.run_id
    _check_run_id(run_id)
    files: dict[str, bytes] = {}
    inventory: list[dict[str, Any]] = []
    for record in evidence:
        short = record.id.split(":", 1)[1][:12]
        source_path = sources.get(record.id)
        name = _safe_name(source_path.name if source_path else "artefact")
        entry: dict[str, Any] = {"id": record.id, "kind": record.kind.value, "source": record.source}
        if source_path is not None:
            try:
                # Read as the collectors read it: never through a link, never blocking on a FIFO
                # swapped in after collection.
                raw = read_regular_file(source_path, record.source)
            except InputError as exc:
                raise BundleError(
                    f"{record.source}: cannot be copied into the bundle: {exc.detail}"
                ) from None
            if hashlib.sha256(raw).hexdigest() != record.id.split(":", 1)[1]:
                raise BundleError(
                    f"{record.source} changed while affidavit was running (its hash no longer matches)",
                    hint="re-run the gate on artefacts that are not being written to",
                )
            try:
                stored, redacted = redacted_copy(record, raw)
            except InputError as exc:
                # A secret-bearing file that cannot be redacted is never stored as it is.
                raise BundleError(
                    f"{record.source}: cannot be stored in the bundle: {exc.detail}",
                    hint="the file was read but its secret values could not be removed; report it",
                ) from None
            raw_name = f"evidence/{short}-{name}"
            files[raw_name] = stored
            entry.update({"raw": raw_name, "redacted": redacted})
        record_name = f"evidence/{short}.record.json"
        files[record_name] = canonical_json(record.to_json())
        entry["record"] = record_name
        inventory.append(entry)

    for renderer in bundle_renderers():
        assert renderer.filename is not None  # bundle_renderers() gives only those with a file
        files[renderer.filename] = renderer.render(run).encode()
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run_id,
        "decision": run.decision.value,
        "evidence": sorted(inventory, key=lambda e: (e["kind"], e["source"], e["id"])),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["manifest.json"] = canonical_json(manifest)

    return _place(run, files, manifest, out_dir)


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


def _place(run: Run, files: Mapping[str, bytes], manifest: dict[str, Any], out_dir: Path) -> Bundle:
    """Stage the folder and archive inside ``out_dir``, then put each in place unless it is there."""
    folder_name, archive_name = run.run_id, f"{run.run_id}.tar.gz"
    bundle = Bundle(path=out_dir / folder_name, archive=out_dir / archive_name, manifest=manifest)
    out_fd = _open_out(out_dir)
    try:
        in_place = [_recorded(out_fd, out_dir, name, run) for name in (folder_name, archive_name)]
        if all(in_place):
            return bundle
        staging = _stage(out_dir, out_fd, run.run_id, files)
        try:
            stage_fd = _open_dir(staging, out_fd, out_dir / staging)
            try:
                created = _put(out_fd, stage_fd, out_dir, run, in_place)
            finally:
                os.close(stage_fd)
        finally:
            shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
    finally:
        os.close(out_fd)
    bundle.created = created
    return bundle


def _put(out_fd: int, stage_fd: int, out_dir: Path, run: Run, in_place: list[bool]) -> tuple[Path, ...]:
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
            _recorded(out_fd, out_dir, folder_name, run, required=True)
        else:
            created.append(out_dir / folder_name)
    if not in_place[1]:
        try:
            _link_or_copy(stage_fd, out_fd, archive_name)
        except OSError as exc:
            if exc.errno not in _TAKEN:
                raise _cannot(out_dir / archive_name, exc) from None
            try:
                _recorded(out_fd, out_dir, archive_name, run, required=True)
            except BundleError:
                if created:
                    _take_back(out_fd, stage_fd, folder_name, staged)
                raise
        else:
            created.append(out_dir / archive_name)
    return tuple(created)


def _link_or_copy(stage_fd: int, out_fd: int, name: str) -> None:
    """Hard-link the staged archive into ``--out``; where there are no hard links, create it there
    exclusively and copy the bytes. Either way an existing name raises ``EEXIST``."""
    try:
        os.link(name, name, src_dir_fd=stage_fd, dst_dir_fd=out_fd)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        with os.fdopen(os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=stage_fd), "rb") as staged:
            _write_new(out_fd, name, staged.read())


def _take_back(out_fd: int, stage_fd: int, name: str, staged: os.stat_result) -> None:
    """Move the folder this call placed back into the staging folder (only if it is still ours)."""
    now = os.stat(name, dir_fd=out_fd, follow_symlinks=False)
    if (now.st_dev, now.st_ino) == (staged.st_dev, staged.st_ino):
        os.rename(name, name, src_dir_fd=out_fd, dst_dir_fd=stage_fd)


def _recorded(out_fd: int, out_dir: Path, name: str, run: Run, *, required: bool = False) -> bool:
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
    _same_run(path, run)
    return True


def _same_run(path: Path, run: Run) -> None:
    """``BundleError`` unless the bundle at ``path`` verifies and holds ``run`` (see the docstring)."""
    from affidavit.bundle.archive import read_bundle_files
    from affidavit.bundle.verify import parse_run, verify_bundle

    hint = "a run is never written over: move the existing record away, or choose another --out"
    try:
        report = verify_bundle(path)
    except BundleError as exc:
        raise BundleError(
            f"{path}: already exists and does not verify as a bundle ({exc.message}); it was left as it is",
            hint=hint,
        ) from None
    if not report.ok:
        raise BundleError(
            f"{path}: already exists and does not verify ({len(report.problems)} problem(s), the first: "
            f"{report.problems[0]}); it was left as it is",
            hint=hint,
        )
    recorded = parse_run(read_bundle_files(path)["results.json"], f"{path}/results.json")
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


def _stage(out_dir: Path, out_fd: int, run_id: str, files: Mapping[str, bytes]) -> str:
    """A new private folder in ``out_dir`` holding ``<run-id>/`` and ``<run-id>.tar.gz``; its name."""
    try:
        staging = os.path.basename(tempfile.mkdtemp(prefix=".affidavit-", suffix=".tmp", dir=out_dir))
    except OSError as exc:
        raise _cannot(out_dir, exc) from None
    try:
        stage_fd = _open_dir(staging, out_fd, out_dir / staging)
        try:
            _write_folder(stage_fd, run_id, files)
            _write_new(stage_fd, f"{run_id}.tar.gz", tar_gz(run_id, files))
        finally:
            os.close(stage_fd)
    except OSError as exc:
        shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
        raise _cannot(out_dir / staging, exc) from None
    except BaseException:
        shutil.rmtree(staging, dir_fd=out_fd, ignore_errors=True)
        raise
    return staging


def _write_folder(parent_fd: int, top: str, files: Mapping[str, bytes]) -> None:
    """``top/`` under ``parent_fd`` with every file of ``files`` (names use ``/`` for subfolders)."""
    os.mkdir(top, 0o777, dir_fd=parent_fd)
    folders = {"": _open_dir(top, parent_fd, Path(top))}
    try:
        for name in sorted(files):
            *parts, leaf = name.split("/")
            where = ""
            for part in parts:
                inner = f"{where}/{part}" if where else part
                if inner not in folders:
                    os.mkdir(part, 0o777, dir_fd=folders[where])
                    folders[inner] = _open_dir(part, folders[where], Path(top, inner))
                where = inner
            _write_new(folders[where], leaf, files[name])
    finally:
        for fd in folders.values():
            os.close(fd)


def _open_dir(name: str, dir_fd: int, shown: Path) -> int:
    """Open the folder ``name`` under ``dir_fd``, refusing a link (``shown`` names it in errors)."""
    try:
        return os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise _cannot(shown, exc) from None


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    """Create ``name`` under ``dir_fd`` (never an existing name, never through a link) with ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    with os.fdopen(os.open(name, flags, 0o666, dir_fd=dir_fd), "wb") as handle:
        handle.write(data)


def _cannot(path: Path, exc: OSError) -> BundleError:
    reason = exc.strerror or type(exc).__name__
    return BundleError(
        f"{path}: the bundle cannot be written there ({reason})",
        hint="--out must name a folder affidavit can create files in",
    )


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.lstrip(".") or "artefact"
