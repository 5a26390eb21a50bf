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
- **``.affidavitignore``** at the top of an evidence folder lists more files to leave out
  (*excluded*, listed with the line that matched, never the line's text), in a subset of the
  gitignore syntax: one pattern a line; blank lines and lines starting with ``#`` are nothing;
  trailing spaces are dropped; a backslash before a first ``#`` or ``!`` makes it literal; a trailing
  ``/`` matches folders only; otherwise a pattern is read like an ``--exclude`` pattern (so ``**``
  is ``*``, and ``*`` also matches ``/``). Negation (``!pattern``) and any other backslash are
  refused, as is a file that is not a regular file, not UTF-8, or over 64 KiB: the file is an
  error (the run is incomplete) and only ``--exclude`` applies. Only the file at the top of the
  folder is read (not one in a sub-folder), and it is itself never read as evidence. It is read
  once: the walk yields an ``IgnoreList`` with the sha256 of the very bytes whose patterns it
  applies, and that is what the run's configuration records (``pipeline``), so a file swapped in
  between a hash and a read cannot make the record and the walk disagree.
- Files that are *ignored* (clearly not evidence) are decided by ``collect_paths`` once read.

A path named by the caller is taken as given: a link named on the command line is followed
(whoever runs the command chose it), and a file named there is read even when hidden. Exclusions
and ignoring apply to what is found inside folders.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from affidavit.artefact import read_regular_file, special_file
from affidavit.errors import InputError, UsageError

#: Folders deeper than this below an evidence folder are refused rather than walked (one open
#: descriptor per level).
MAX_DEPTH = 32

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOWHERE = "a link that leads nowhere (a loop, or a missing target)"

#: The ignore list at the top of an evidence folder, and the most of it that is read.
IGNORE_FILE = ".affidavitignore"
MAX_IGNORE_BYTES = 64 * 1024


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
class IgnoreList:
    """The ``.affidavitignore`` the walk read at the top of an evidence folder: its path as shown
    and the sha256 of the bytes it read (yielded once those bytes are read, before they are
    parsed: a file refused for its content was still read, and is on the record)."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern that leaves files out: ``glob`` matched against the name (``anchored`` false)
    or the path inside the folder; ``folders_only`` for a pattern that ended in ``/``; ``label``
    says where it came from (``--exclude *.png``, ``line 3 of .affidavitignore``)."""

    glob: str
    anchored: bool
    folders_only: bool
    label: str


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


def _exclude_patterns(exclude: Sequence[str]) -> tuple[Pattern, ...]:
    """The ``--exclude`` patterns as ``Pattern`` values."""
    return tuple(
        Pattern(p.strip("/"), "/" in p.strip("/"), False, f"--exclude {p}") for p in check_patterns(exclude)
    )


def parse_ignore_file(text: str, source: str) -> tuple[Pattern, ...]:
    """The patterns of an ``.affidavitignore`` (the subset described above); an unsupported line is
    an ``InputError`` naming ``source`` and the line number, never quoting the line."""
    out: list[Pattern] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip(" ")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise InputError(
                source,
                f"line {number} negates a pattern ('!'), which affidavit does not support",
                hint="list only what to leave out; a file to read must not match any line",
            )
        if line.startswith(("\\#", "\\!")):
            line = line[1:]
        if "\\" in line:
            raise InputError(source, f"line {number} has a backslash, which affidavit does not support")
        folders_only = line.endswith("/")
        glob = line.strip("/")
        if not glob:
            raise InputError(source, f"line {number} has no pattern, only '/'")
        out.append(Pattern(glob, "/" in glob, folders_only, f"line {number} of {IGNORE_FILE}"))
    return tuple(out)


#: What ``walk`` yields.
Found = FoundFile | Skipped | InputError | IgnoreList


def walk(paths: Iterable[Path], exclude: Sequence[str] = ()) -> Iterator[Found]:
    """Everything under ``paths`` in a stable order (sorted by path), as described above; an
    evidence folder's ``IgnoreList`` comes before anything found in it.

    A ``FoundFile`` of a folder is only valid until the next item: its folder is closed then.
    """
    patterns = _exclude_patterns(exclude)
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


def _walk_root(root: Path, patterns: tuple[Pattern, ...]) -> Iterator[Found]:
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        yield InputError(str(root), f"cannot be read: {exc.strerror or type(exc).__name__}")
        return
    try:
        source = str(root / IGNORE_FILE)
        try:
            raw = _read_ignore_file(fd, source)
            if raw is not None:
                yield IgnoreList(source, hashlib.sha256(raw).hexdigest())
                patterns = patterns + _ignore_patterns(raw, source)
        except InputError as exc:
            yield exc  # the run is incomplete; the folder is still walked with --exclude alone
        yield from _walk_folder(fd, root, PurePosixPath(), os.path.realpath(root), patterns, 0)
    finally:
        os.close(fd)


def _read_ignore_file(dir_fd: int, source: str) -> bytes | None:
    """The bytes of the ``.affidavitignore`` in the open folder ``dir_fd`` (``None`` when absent),
    read once."""
    try:
        status = os.lstat(IGNORE_FILE, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISREG(status.st_mode) and status.st_size > MAX_IGNORE_BYTES:
        raise InputError(source, f"is larger than the {MAX_IGNORE_BYTES // 1024} KiB an ignore list may be")
    raw = read_regular_file(IGNORE_FILE, source, dir_fd=dir_fd)  # a link or a FIFO is refused unread
    if len(raw) > MAX_IGNORE_BYTES:
        raise InputError(source, f"is larger than the {MAX_IGNORE_BYTES // 1024} KiB an ignore list may be")
    return raw


def _ignore_patterns(raw: bytes, source: str) -> tuple[Pattern, ...]:
    """The patterns of an ``.affidavitignore`` read as ``raw``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(source, "is not UTF-8 text") from None
    return parse_ignore_file(text, source)


def _walk_folder(
    dir_fd: int, shown: Path, inside: PurePosixPath, root: str, patterns: tuple[Pattern, ...], depth: int
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
        pattern = _matching(rel, patterns, is_dir)
        if pattern is not None:
            what = "a folder that matches" if is_dir else "matches"
            yield Skipped(str(path), Action.EXCLUDED, f"{what} {pattern}")
        elif depth == 0 and name == IGNORE_FILE and stat.S_ISREG(mode):
            yield Skipped(
                str(path),
                Action.SKIPPED,
                "the evidence folder's ignore list: its patterns are applied, it is not evidence",
            )
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
    dir_fd: int,
    name: str,
    path: Path,
    rel: PurePosixPath,
    root: str,
    patterns: tuple[Pattern, ...],
    depth: int,
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


def _matching(rel: PurePosixPath, patterns: tuple[Pattern, ...], is_dir: bool) -> str | None:
    """The label of the first pattern that ``rel`` (a path inside the evidence folder) matches."""
    for pattern in patterns:
        if pattern.folders_only and not is_dir:
            continue
        if fnmatch.fnmatchcase(rel.as_posix() if pattern.anchored else rel.name, pattern.glob):
            return pattern.label
    return None
