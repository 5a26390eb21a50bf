"""Walking an evidence folder safely: what is read, and what is left out and why.

The folder is whatever a build left behind, so it is read as hostile:

- **Links are never followed.** A link (to a file or a folder) whose target is outside the folder
  is *refused*: not read, reported as "a link to outside the evidence folder" (never where it
  points), and the run is incomplete. A link that leads nowhere (missing target, a loop) is
  refused the same way. A link to somewhere inside the folder is *skipped*: what it points to is
  read where it is, under its own name, so nothing is read twice and no loop is walked.
- **Only regular files are opened.** FIFOs, devices and sockets are *refused* from their
  ``lstat`` without being opened; every folder below the one named is opened relative to its
  parent with ``O_NOFOLLOW``, and every file with ``O_NOFOLLOW | O_NONBLOCK``
  (``artefact.read_regular_file``), so a link or FIFO swapped in after the check is not followed
  and does not block.
- **Hidden files and folders** (a name starting with a dot) are *skipped*, and listed.
- **``--exclude GLOB``** leaves matching files and folders out (*excluded*, listed). A pattern
  without ``/`` is matched against the name at any depth (``*.png``, ``README.md``); one with
  ``/`` against the path from the evidence folder (``vendor/*``, ``reports/2026/*.json``); a
  leading ``/`` is allowed and changes nothing. ``*`` also matches ``/``.
- Files that are *ignored* (clearly not evidence) are decided by ``collect_paths`` once read.

A path named by the caller is taken as given: a link named on the command line is followed
(whoever runs the command chose it), and a file named there is read even when hidden. Exclusions
and ignoring apply to what is found inside folders.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from affidavit.artefact import special_file
from affidavit.errors import InputError, UsageError

#: Folders deeper than this below an evidence folder are refused rather than walked (one open
#: descriptor per level).
MAX_DEPTH = 32

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOWHERE = "a link that leads nowhere (a loop, or a missing target)"


class Action(StrEnum):
    """What happened to a file that was not read as evidence."""

    SKIPPED = "skipped"  # hidden, or a link to somewhere inside the evidence folder
    IGNORED = "ignored"  # read, and clearly not evidence (an image, a README): no effect
    EXCLUDED = "excluded"  # matched an --exclude pattern
    REFUSED = "refused"  # cannot be read safely; also an error, so the run is incomplete


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or folder that was not read as evidence: its path as shown (the evidence folder as
    named, then the path inside it), what happened and why, in words that never quote it."""

    path: str
    action: Action
    reason: str

    def to_json(self) -> dict[str, str]:
        """``{"path", "action", "reason"}``."""
        return {"path": self.path, "action": self.action.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A regular file to read: ``name`` relative to the open folder ``dir_fd``, or (``dir_fd``
    ``None``) the path to open of a file the caller named, a link already resolved. ``path`` is
    the path as shown; ``named`` says the caller named it (then it is never ignored)."""

    path: Path
    name: str
    dir_fd: int | None
    named: bool

    @property
    def source(self) -> str:
        """The path as evidence records name it."""
        return str(self.path)

    @property
    def location(self) -> Path:
        """Where the file can be opened again without following a link at its last component."""
        return Path(self.name) if self.dir_fd is None else self.path


def check_patterns(patterns: Sequence[str]) -> tuple[str, ...]:
    """The ``--exclude`` patterns, checked: an empty pattern is a usage error."""
    for pattern in patterns:
        if not pattern.strip("/"):
            raise UsageError("--exclude needs a pattern such as '*.png' or 'vendor/*'")
    return tuple(patterns)


def walk(paths: Iterable[Path], exclude: Sequence[str] = ()) -> Iterator[FoundFile | Skipped | InputError]:
    """Everything under ``paths`` in a stable order (sorted by path), as described above.

    A ``FoundFile`` of a folder is only valid until the next item: its folder is closed then.
    """
    patterns = check_patterns(exclude)
    for path in paths:
        try:
            status = os.stat(path)
        except OSError:
            if os.path.islink(path):
                yield InputError(str(path), f"is {_NOWHERE}")
            else:
                yield FoundFile(path, str(path), None, named=True)  # reading it names the problem
            continue
        if stat.S_ISDIR(status.st_mode):
            yield from _walk_root(path, patterns)
        elif stat.S_ISREG(status.st_mode):
            # A link named by the caller is resolved here, once; the read never follows a link.
            target = os.path.realpath(path) if os.path.islink(path) else str(path)
            yield FoundFile(path, target, None, named=True)
        else:
            yield Skipped(str(path), Action.REFUSED, _not_regular(status.st_mode))


def _walk_root(root: Path, patterns: tuple[str, ...]) -> Iterator[FoundFile | Skipped | InputError]:
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        yield InputError(str(root), f"cannot be read: {exc.strerror or type(exc).__name__}")
        return
    try:
        yield from _walk_folder(fd, root, PurePosixPath(), os.path.realpath(root), patterns, 0)
    finally:
        os.close(fd)


def _walk_folder(
    dir_fd: int, shown: Path, inside: PurePosixPath, root: str, patterns: tuple[str, ...], depth: int
) -> Iterator[FoundFile | Skipped | InputError]:
    with os.scandir(dir_fd) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        path, rel = shown / name, inside / name
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            continue  # removed since the folder was listed: nothing to read, nothing to say
        except OSError as exc:
            yield InputError(str(path), f"cannot be read: {exc.strerror or type(exc).__name__}")
            continue
        is_dir = stat.S_ISDIR(mode)
        pattern = _matching(rel, patterns)
        if pattern is not None:
            what = "a folder that matches" if is_dir else "matches"
            yield Skipped(str(path), Action.EXCLUDED, f"{what} --exclude {pattern}")
        elif name.startswith("."):
            what = "a hidden folder (its name" if is_dir else "hidden (its name"
            yield Skipped(str(path), Action.SKIPPED, f"{what} starts with a dot): not read")
        elif stat.S_ISLNK(mode):
            yield _link(path, root)
        elif is_dir:
            yield from _descend(dir_fd, name, path, rel, root, patterns, depth + 1)
        elif stat.S_ISREG(mode):
            yield FoundFile(path, name, dir_fd, named=False)
        else:
            yield Skipped(str(path), Action.REFUSED, _not_regular(mode))


def _descend(
    dir_fd: int, name: str, path: Path, rel: PurePosixPath, root: str, patterns: tuple[str, ...], depth: int
) -> Iterator[FoundFile | Skipped | InputError]:
    if depth > MAX_DEPTH:
        yield Skipped(str(path), Action.REFUSED, f"a folder nested more than {MAX_DEPTH} levels deep")
        return
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        # ELOOP or ENOTDIR: a link or a file swapped in for the folder since it was checked.
        reason = exc.strerror or type(exc).__name__
        yield InputError(str(path), f"changed while it was being read ({reason})")
        return
    try:
        yield from _walk_folder(fd, path, rel, root, patterns, depth)
    finally:
        os.close(fd)


def _link(path: Path, root: str) -> Skipped:
    """A link found in the folder, never followed: where it leads decides only the words."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError:
        return Skipped(str(path), Action.REFUSED, _NOWHERE)
    if target != root and os.path.commonpath([root, target]) != root:
        return Skipped(str(path), Action.REFUSED, "a link to outside the evidence folder")
    what = "folder" if os.path.isdir(target) else "file"
    return Skipped(
        str(path),
        Action.SKIPPED,
        f"a link to a {what} inside the evidence folder: not followed (what it points to is read "
        "where it is, under its own name)",
    )


def _not_regular(mode: int) -> str:
    return f"{special_file(mode) or 'a special file'}, not a regular file"


def _matching(rel: PurePosixPath, patterns: tuple[str, ...]) -> str | None:
    """The first pattern that ``rel`` (a path inside the evidence folder) matches."""
    for pattern in patterns:
        anchored = pattern.strip("/")
        if "/" in anchored:
            if fnmatch.fnmatchcase(rel.as_posix(), anchored):
                return pattern
        elif fnmatch.fnmatchcase(rel.name, anchored):
            return pattern
    return None
