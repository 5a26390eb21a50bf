"""An artefact read once: its bytes, their sha256, the decoded text and the parsed JSON.

Every collector works from an ``Artefact``. The bytes are hashed once, decoded once (UTF-8 with or
without a byte-order mark, UTF-16 either byte order) and, when the text is JSON, parsed once with
the cyclic garbage collector paused (a JSON tree has no cycles for it to find, and on a large
Terraform plan the collector's walks cost as much as the parse).

Files are read by ``read_regular_file``: a regular file only, never through a link at its last
component, never blocking on a FIFO or device, and checked again once open so that nothing swapped
in after the check is read. Configuration files the user names (rule data, waivers, control
matrices) are read by ``read_user_file``: a link is followed, but only to a regular file, and no
more than a size limit is ever read (``/dev/zero`` and a FIFO are refused unread).

Messages about an artefact describe what it holds by its shape (``shape_of``: "a string of 12
characters", "an object with 3 keys"), never by quoting it.

A JSON object or YAML mapping that names the same key twice is refused: Python's parsers keep the
last value, so a second ``"Results": []`` would silently hide every finding of the first. The
error gives the line and column of the second key and never the key itself (keys can be data).
``load_json`` and ``load_yaml`` are the one way to parse either, for inner documents and for
configuration files too.
"""

from __future__ import annotations

import ast
import codecs
import errno
import gc
import hashlib
import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from affidavit.errors import InputError

_NOT_PARSED = object()


class Artefact:
    """One artefact's bytes, with lazily computed and cached views (text, JSON)."""

    def __init__(self, source: str, raw: bytes) -> None:
        self.source = source
        self.raw = raw
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self._json: Any = _NOT_PARSED
        self._json_error: InputError | None = None
        # Whether the parsed document holds a number with a fraction or an exponent (a float):
        # ``None`` until ``json()`` has parsed it, and when that is not known.
        self.json_floats: bool | None = None

    @classmethod
    def from_path(cls, path: Path, source: str | None = None, *, dir_fd: int | None = None) -> Artefact:
        """Read a regular file (see ``read_regular_file``); an unreadable or empty file is an
        ``InputError`` naming it. ``path`` is relative to the open folder ``dir_fd`` when given."""
        name = source if source is not None else str(path)
        raw = read_regular_file(path, name, dir_fd=dir_fd)
        if not raw:
            raise InputError(
                name, "is empty (0 bytes): the tool that should have written it produced nothing"
            )
        return cls(name, raw)

    @property
    def id(self) -> str:
        """The evidence id: ``sha256:`` of the raw bytes."""
        return f"sha256:{self.sha256}"

    @cached_property
    def encoding(self) -> str:
        """The text encoding, from the byte-order mark or the NUL pattern of UTF-16 text."""
        raw = self.raw
        if raw.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
            return "utf-16"
        if len(raw) >= 2 and raw[0] == 0 and raw[1] != 0:
            return "utf-16-be"
        if len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
            return "utf-16-le"
        return "utf-8"

    @cached_property
    def text(self) -> str:
        """The artefact decoded as text; undecodable bytes are an ``InputError``."""
        try:
            return self.raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise InputError(
                self.source, f"is not valid {self.encoding} text (byte {exc.start}): not a text artefact"
            ) from None

    @cached_property
    def head(self) -> str:
        """The first non-blank characters of the text (up to 4 KiB), for cheap sniffing."""
        if self.encoding == "utf-8":
            chunk = self.raw[:4096].decode("utf-8", errors="replace")
        else:
            chunk = self.text[:4096]
        return chunk.lstrip("\ufeff \t\r\n")

    @property
    def looks_like_json(self) -> bool:
        """True when the text starts like a JSON document."""
        return self.head[:1] in ("{", "[") or self.head.startswith("null")

    def json(self) -> Any:
        """The parsed JSON document (parsed once). Raises ``InputError`` if it is not JSON."""
        if self._json is _NOT_PARSED and self._json_error is None:
            try:
                self._json, self.json_floats = _load_json(
                    self.raw if self.encoding == "utf-8" else self.text, self.source
                )
            except InputError as exc:
                self._json_error = _detached(exc)
        if self._json_error is not None:
            raise _detached(self._json_error)
        return self._json

    def try_json(self) -> Any:
        """The parsed JSON, or ``None`` when the artefact is not JSON."""
        if not self.looks_like_json:
            return None
        try:
            return self.json()
        except InputError:
            return None

    def release(self) -> None:
        """Drop the cached parse so that memory goes back once the record is built."""
        self._json = _NOT_PARSED
        self.__dict__.pop("text", None)


def _detached(error: InputError) -> InputError:
    """A new ``InputError`` that says what ``error`` says, with no traceback or context.

    The parse error an artefact keeps must not be the one raised: a raised exception's traceback
    holds the frames it passed through, one of them ``Artefact.json`` with the artefact itself, and
    the frames of the parse with the whole text; kept on the artefact, that is a reference cycle
    freed only by the cyclic collector, which the gate pauses. Each raise gets its own copy too, so
    that a caller that notes the kind on the one it caught (``collectors._collect``) changes no
    other. (``load_json`` raises plain ``InputError`` only, and the copy is one.)"""
    return InputError(error.source, error.detail, path=error.path, hint=error.hint, kind=error.kind)


# ---------------------------------------------------------------------------------------------
# Describing a value without quoting it


def json_type(value: Any) -> str:
    """JSON's name for the type of a Python value from ``json.loads``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shape_of(value: Any) -> str:
    """What a JSON value is, in words that quote none of it: its type and its size.

    Messages use it in place of the value itself (issue 9: describe the shape, never the bytes):
    ``a string of 12 characters``, ``an empty string``, ``an object with 3 keys``.
    """
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return f"a string of {len(value)} character{'' if len(value) == 1 else 's'}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}" if value else "an empty array"
    if isinstance(value, dict):
        return (
            f"an object with {len(value)} key{'' if len(value) == 1 else 's'}" if value else "an empty object"
        )
    return json_type(value)


# ---------------------------------------------------------------------------------------------
# Reading a file


def special_file(mode: int) -> str | None:
    """What a file that is not a regular file, a folder or a link is, in words (``None`` otherwise)."""
    for test, words in _SPECIAL_FILES:
        if test(mode):
            return words
    return None


_SPECIAL_FILES: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

# O_NOFOLLOW: a link at the last component is an error (ELOOP), never followed. O_NONBLOCK: a
# FIFO swapped in after the check opens at once instead of waiting for a writer. O_NOCTTY: a
# terminal never becomes the process's controlling terminal.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

_CHANGED = "changed while it was being read (it is no longer the regular file that was checked)"


def read_regular_file(path: Path | str, source: str, *, dir_fd: int | None = None) -> bytes:
    """The bytes of a regular file, read without following a link and without blocking.

    The file is checked before it is opened (``lstat``: a link, FIFO, device or socket is never
    opened) and again once it is open (``fstat`` on the descriptor: the same file, still regular).
    What is swapped in between the two is refused, not read: a link makes the open fail
    (``O_NOFOLLOW``), a FIFO opens without waiting (``O_NONBLOCK``) and fails the second check.
    Only the last component is guarded this way; callers that walk a folder open each folder
    below the one they were given the same way (``dir_fd``). Errors are ``InputError`` naming
    ``source`` and never quoting the file.
    """
    try:
        before = os.lstat(path, dir_fd=dir_fd)
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISLNK(before.st_mode):
        raise InputError(
            source,
            "is a symbolic link, and links are not followed here",
            hint="name the file the link points to",
        )
    if stat.S_ISDIR(before.st_mode):
        raise InputError(source, "is a directory, not a file")
    special = special_file(before.st_mode)
    if special is not None:
        raise InputError(source, f"is {special}, not a regular file")
    try:
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOENT, errno.ENXIO, errno.ENOTDIR, errno.EISDIR):
            raise InputError(source, _CHANGED) from None
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    with open(fd, "rb", closefd=True) as file:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise InputError(source, _CHANGED)
        try:
            return file.read()
        except OSError as exc:
            raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None


#: The largest configuration file affidavit reads (rule data, waivers, a control matrix), in
#: bytes: the limit ``load_yaml`` puts on the text, applied before anything is read.
MAX_USER_FILE_BYTES = 4 * 1024 * 1024

# A file the user names is opened like an artefact, except that a link is followed (the user
# named it; a Kubernetes ConfigMap mounts every file as one): O_NONBLOCK still keeps a FIFO
# swapped in after the check from blocking the open.
_USER_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def read_user_file(path: Path | str, limit: int = MAX_USER_FILE_BYTES) -> bytes:
    """The bytes of a configuration file named by the user, refused unread unless it is a regular
    file of at most ``limit`` bytes.

    A FIFO, device, socket or folder is refused from ``stat`` before it is opened (``/dev/zero``
    is never read, a FIFO never waited on), and again from ``fstat`` once open, so that nothing
    swapped in between is read. At most ``limit + 1`` bytes are read, whatever the file claims
    its size is, so a file that grows while it is read is refused too. Errors are
    ``InputError`` naming ``path``, never quoting the file; callers re-raise them in their own
    family with ``detail``.
    """
    source = str(path)
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise InputError(source, "does not exist") from None
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    _refuse_unless_regular(before.st_mode, before.st_size, source, limit)
    try:
        fd = os.open(path, _USER_FLAGS)
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    with open(fd, "rb", closefd=True) as file:
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise InputError(source, _CHANGED)
        _refuse_unless_regular(after.st_mode, after.st_size, source, limit)
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise InputError(source, f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    if len(data) > limit:
        raise InputError(source, _too_large(limit))
    return data


def _refuse_unless_regular(mode: int, size: int, source: str, limit: int) -> None:
    """Refuse what is not a regular file, or one larger than ``limit`` bytes."""
    if stat.S_ISDIR(mode):
        raise InputError(source, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise InputError(source, f"is {special_file(mode) or 'a special file'}, not a regular file")
    if size > limit:
        raise InputError(source, _too_large(limit))


def _too_large(limit: int) -> str:
    if limit % 2**20 == 0:
        shown = f"{limit // 2**20} MiB ({limit:,} bytes)"
    elif limit % 1024 == 0:
        shown = f"{limit // 1024} KiB ({limit:,} bytes)"
    else:
        shown = f"{limit:,} bytes"
    return f"is larger than the {shown} affidavit reads from such a file"


# ---------------------------------------------------------------------------------------------
# JSON


#: The deepest nesting of arrays and objects a JSON document may have. The policy engine refuses
#: its whole input past 127 nested arrays and objects (regorus reads it with serde_json, whose
#: recursion limit is 128; measured in tests/attacks/test_costs.py), and an evidence record puts an
#: artefact's values some levels further down (up to 10 in the corpus). The deepest artefact in
#: the corpus is 21 levels deep, a 60 MB benchmark plan 18.
MAX_JSON_DEPTH = 64

#: Python reads an integer of any size, the engine none beyond a double (about 1.8e308, 309 digits).
_LONGEST_SAFE_INT = 308


class _RepeatedKey(Exception):
    """Raised inside the parser: one object named a key twice (located afterwards)."""


class _UnreadableNumber(Exception):
    """Raised inside the parser: NaN, Infinity or a number beyond a double (located afterwards)."""


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The strict parse's object hook: the object as a dict, unless two of its keys are equal.

    It stops the parse at the first object with a repeat, so that the refusal names that one; it
    makes a whole-file parse 35-50 % longer, so ``load_json`` only uses it once its key count has
    shown a repeat (``_strict_parse``).
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _RepeatedKey
    return obj


def _refuse_constant(_name: str) -> Any:
    """The parser's hook for ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have."""
    raise _UnreadableNumber


def _finite_float(token: str) -> float:
    """The parser's hook for a number with a fraction or exponent: ``1e400`` is no double."""
    value = float(token)
    if math.isinf(value):
        raise _UnreadableNumber
    return value


def _bounded_int(token: str) -> int:
    """The parser's hook for an integer: one a double cannot approximate is refused (past 4,300
    digits Python itself refuses to convert it)."""
    if len(token) > _LONGEST_SAFE_INT:
        try:
            float(int(token))
        except (OverflowError, ValueError):
            raise _UnreadableNumber from None
    return int(token)


# A JSON string (with an optional colon after it: then it is a key) or an object's brace.
_JSON_TOKEN = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")(\s*:)?|[{}]')


def _repeated_key_offset(text: str) -> int | None:
    """Where the first key that repeats an earlier key of its object starts (a text offset).

    Only called once the parser has found a repeat, so its cost (a few seconds on 100 MB) is paid
    by refused files alone. Keys are compared as the parser compares them, escapes decoded.
    """
    open_objects: list[set[str]] = []
    for match in _JSON_TOKEN.finditer(text):
        token, colon = match.group(1), match.group(2)
        if token is None:
            if match.group() == "{":
                open_objects.append(set())
            elif open_objects:
                open_objects.pop()
            continue
        if colon is None or not open_objects:
            continue
        key = json.loads(token) if "\\" in token else token[1:-1]
        keys = open_objects[-1]
        if key in keys:
            return match.start()
        keys.add(key)
    return None


# A JSON string, or a number or NaN/Infinity outside of one.
_JSON_NUMBER = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(NaN|-?Infinity|-?\d[0-9.eE+-]*)')


def _unreadable_number(text: str) -> tuple[int, str] | None:
    """Where the first NaN, Infinity or number beyond a double starts, and what it is in words.

    Only called once the parser has met one (refused files pay for it). Never the number itself.
    """
    for match in _JSON_NUMBER.finditer(text):
        token = match.group(1)
        if token is None:
            continue
        if token[-1] in "Ny":  # NaN, Infinity, -Infinity
            return match.start(), "NaN or Infinity"
        try:
            if any(c in token for c in ".eE"):
                _finite_float(token)
            else:
                _bounded_int(token)
        except _UnreadableNumber:
            return match.start(), "a number beyond the range of a double (about 1.8e308)"
    return None


# A JSON escape that changes which quotes delimit strings: an escaped backslash or quote.
_QUOTING_ESCAPE = re.compile(rb'\\[\\"]')
# Every byte but the quote and the brackets (``json_depth``), and but the colon too (``load_json``).
_NOT_BRACKET = bytes(b for b in range(256) if b not in b'"[]{}')
_NOT_BRACKET_OR_COLON = bytes(b for b in range(256) if b not in b'"[]{}:')
# Both kinds of bracket as one pair (for a valid document only their nesting matters).
_ONE_PAIR = bytes.maketrans(b"[{]}", b"(())")


#: Bytes of a document that ``_structure`` reduces at a time.
STRUCTURE_CHUNK = 4 << 20
_BACKSLASH = ord("\\")


def _structure(document: bytes, not_kept: bytes) -> bytes:
    """The bytes of ``document`` (UTF-8 JSON) outside its strings that ``not_kept`` does not drop.

    All in C, linear: escaped backslashes and quotes are dropped, then every byte but quotes and
    what is kept (UTF-8 multi-byte characters never hold an ASCII byte), then every pair of
    adjacent quotes (an empty string, or the end of one string and the start of the next: the
    bytes left keep their side of every string), then what strings still hold.

    The first two steps go ``STRUCTURE_CHUNK`` bytes at a time, each chunk ending after a byte
    that is no backslash: a run of backslashes then lies whole in one chunk, and the escapes are
    paired from the start of each run as in one pass over the whole. Done on the whole at once,
    the escapes dropped from a 63 MB plan made a copy of it (0.35 s for that plan, against 0.23 s
    in chunks; 1.3 s against 0.9 s at four times the size, where the copy's first touch dominates).
    """
    size = len(document)
    parts: list[bytes] = []
    start = 0
    while start < size:
        end = min(start + STRUCTURE_CHUNK, size)
        while end < size and document[end - 1] == _BACKSLASH:
            end += 1
        part = document[start:end]  # the document itself when it is one chunk
        if b"\\" in part:
            part = _QUOTING_ESCAPE.sub(b"", part)
        parts.append(part.translate(None, not_kept))
        start = end
    kept = b"".join(parts)
    del parts
    structure = kept.replace(b'""', b"")
    del kept
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    return structure


def _nesting(structure: bytes, limit: int | None = None) -> int:
    """The deepest nesting of the balanced brackets of ``structure`` (other bytes are ignored),
    or ``limit + 1`` once it is known to pass ``limit``.

    Each pass drops every innermost pair (an open bracket next to its close) and so one level
    of every branch: as many passes as levels, each over what the last one left, all in C.
    """
    brackets = structure.translate(_ONE_PAIR, b":")
    depth = 0
    while brackets:
        inner = brackets.replace(b"()", b"")
        if len(inner) == len(brackets):  # unbalanced: not a document the parser accepts
            break
        brackets = inner
        depth += 1
        if limit is not None and depth > limit:
            break
    return depth


def json_depth(document: bytes) -> int:
    """The deepest nesting of arrays and objects in a valid JSON document (UTF-8 bytes).

    Linear and in C (``_structure``, then one pass per level over the brackets left): about
    6 ms per MB of a Terraform plan, a tenth of its parse.
    """
    return _nesting(_structure(document, _NOT_BRACKET))


# A JSON string or a bracket.
_JSON_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _too_deep_offset(text: str, limit: int) -> int | None:
    """Where the first array or object nested deeper than ``limit`` opens (a text offset).

    Reads brackets up to the first one past the limit, so a document the parser gave up on
    (nested past Python's own limit) is located as well; refused files alone pay for it.
    """
    depth = 0
    for match in _JSON_BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif bracket in "]}":
            depth -= 1
    return None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``text[offset]``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _at(text: str, offset: int | None) -> str:
    """`` (line L, column C)`` of an offset, or nothing when it is unknown."""
    return " (line {}, column {})".format(*_line_column(text, offset)) if offset is not None else ""


_REGENERATE = "regenerate the file with the tool that wrote it"


def load_json(data: bytes | str, source: str) -> Any:
    """Parse one JSON document strictly; any problem is an ``InputError`` naming ``source``.

    Refused, each with the line and column and never the value:

    * broken or truncated JSON;
    * an object that names the same key twice (readers keep one, the other could hide findings);
    * ``NaN``, ``Infinity``, ``-Infinity`` (Python reads them, JSON has none) and numbers beyond
      the range of a double (``1e400``, an integer of 309 digits and more): the policy engine
      refuses its whole input for one of them;
    * nesting deeper than ``MAX_JSON_DEPTH`` arrays and objects (the engine's own limit is not
      much more, once the record has placed the value; Python's walks stop near 1,000).

    Bytes are decoded as ``json.loads`` would decode them (UTF-8, -16 or -32).
    """
    return _load_json(data, source)[0]


def _load_json(data: bytes | str, source: str) -> tuple[Any, bool | None]:
    """``load_json``, and whether the document holds a float (``None`` when that is not known):
    a document without one parses to a value ``json.dumps`` and ``orjson`` write alike."""
    utf8: bytes | None = None  # the document as UTF-8 bytes, when it came as such
    try:
        if isinstance(data, str):
            text = data
        else:
            encoding = json.detect_encoding(data)
            text = data.decode(encoding, "surrogatepass")
            utf8 = data if encoding in ("utf-8", "utf-8-sig") else None
    except UnicodeDecodeError as exc:
        raise InputError(
            source, f"is not valid {exc.encoding} text (byte {exc.start}): the file is damaged"
        ) from None
    # Measured before the parse, while no tree is alive (the peak stays the parse's own): the
    # depth and the number of key-value pairs (one colon outside strings each). Both count only
    # for a document the parser then accepts.
    structure = _structure(
        utf8 if utf8 is not None else text.encode("utf-8", "surrogatepass"), _NOT_BRACKET_OR_COLON
    )
    depth = _nesting(structure, MAX_JSON_DEPTH)
    pairs = structure.count(b":")
    del structure
    keys = floats = 0

    def count_keys(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal keys
        keys += len(obj)
        return obj

    def count_float(token: str) -> float:
        nonlocal floats
        floats += 1
        return _finite_float(token)

    # The parser keeps one value of a repeated key, so a repeat shows as fewer keys in the
    # objects than pairs in the text. Any refusal is found again by the strict parse, which
    # stops at the first problem and names it as it always has; only refused files pay for it.
    try:
        with gc_paused():
            value = json.loads(
                text,
                object_hook=count_keys,
                parse_constant=_refuse_constant,
                parse_float=count_float,
                parse_int=_bounded_int,
            )
    except (ValueError, RecursionError, _UnreadableNumber):  # JSONDecodeError is a ValueError
        value, counted = _strict_parse(text, source), False
    else:
        counted = keys == pairs
        if not counted:
            value = _strict_parse(text, source)
    if depth > MAX_JSON_DEPTH:
        raise _too_deep(text, source)
    return value, (floats > 0 if counted else None)


def _strict_parse(text: str, source: str) -> Any:
    """``text`` parsed with every check inside the parser: it stops at the first object that
    names a key twice (``_refuse_repeated_keys``), and each refusal is an ``InputError`` with its
    place. About 1.6 times the plain parse: ``load_json`` calls it only once a document is
    known to hold a problem."""
    try:
        with gc_paused():
            return json.loads(
                text,
                object_pairs_hook=_refuse_repeated_keys,
                parse_constant=_refuse_constant,
                parse_float=_finite_float,
                parse_int=_bounded_int,
            )
    except _RepeatedKey:
        offset = _repeated_key_offset(text)
        raise InputError(
            source,
            f"a JSON object names the same key twice{_at(text, offset)}; readers keep only one of the "
            "two, so the other could hide findings",
            hint=f"{_REGENERATE}; a tool never repeats a key, an edit can",
        ) from None
    except _UnreadableNumber:
        found = _unreadable_number(text)
        offset, what = found if found is not None else (None, "a number JSON cannot carry")
        raise InputError(
            source,
            f"holds {what}{_at(text, offset)}: JSON has no such number and the policy engine "
            "refuses its whole input for one",
            hint=f"{_REGENERATE}; no tool writes such a number in JSON, an edit can",
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(source, _describe_json_error(exc, len(text))) from None
    except RecursionError:
        raise _too_deep(text, source) from None


def _too_deep(text: str, source: str) -> InputError:
    """The refusal of a document nested deeper than ``MAX_JSON_DEPTH``, with the place."""
    return InputError(
        source,
        f"is nested too deeply{_at(text, _too_deep_offset(text, MAX_JSON_DEPTH))}: more than "
        f"{MAX_JSON_DEPTH} levels of arrays and objects, which affidavit and its policy engine do not read",
        hint="no tool's report is this deep; check that the file is the tool's unmodified output",
    )


def _describe_json_error(exc: json.JSONDecodeError, size: int) -> str:
    # The parser stopped at the end of the bytes (or inside a string that never closes, which
    # always runs to the end): the document was cut off, not malformed.
    at_end = exc.pos >= size - 2 or ("Expecting" in exc.msg and exc.pos >= size - 64)
    if at_end or exc.msg.startswith("Unterminated string"):
        return (
            f"JSON ends early at line {exc.lineno} column {exc.colno} ({exc.msg}): "
            "the file looks truncated; re-run the tool that wrote it"
        )
    return f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


# ---------------------------------------------------------------------------------------------
# YAML


#: The longest YAML text affidavit reads, in characters (4 MiB). Rule data, waivers, control
#: matrices and METADATA blocks are a few KB (the largest built-in matrix is 56 KB); the limit
#: keeps a pasted or generated monster from costing minutes.
MAX_YAML_CHARS = 4 * 1024 * 1024

#: The deepest nesting of mappings and lists a YAML text may have (what it holds can become
#: policy input, where the JSON limit applies).
MAX_YAML_DEPTH = MAX_JSON_DEPTH


class YamlError(InputError):
    """A YAML text that could not be loaded: ``problem`` in words, ``line``/``column`` when known.

    Callers that load configuration (matrices, rule data, waivers, METADATA) re-raise it in their
    own error family with these fields; the problem never quotes a key or a value.
    """

    def __init__(self, source: str, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        super().__init__(source, f"is not valid YAML{self.at}: {problem}")

    @property
    def at(self) -> str:
        """`` at line L, column C`` (or `` at line L``), or nothing when the place is unknown."""
        if self.line is None:
            return ""
        return f" at line {self.line}" + (f", column {self.column}" if self.column is not None else "")


class _RepeatedYamlKey(yaml.constructor.ConstructorError):
    """One mapping names a key twice: the first and the second place."""

    def __init__(self, first: yaml.Mark, second: yaml.Mark) -> None:
        super().__init__(None, first, "the same key appears twice in one mapping", second)
        self.first = first
        self.second = second


_MERGE_TAG = "tag:yaml.org,2002:merge"

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's loader when PyYAML was built with it: the same safe types, several times faster
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RefusedNode(Exception):
    """The composed document uses an alias, or nests too deeply (found before any construction)."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


_ALIAS = (
    "uses an alias ('*name' repeating an '&name' anchor); anchors and aliases are not read, since "
    "they can make a small file expand without bound: write each value out"
)


def _check_tree(root: yaml.Node) -> None:
    """Refuse an alias (a node reached twice: every alias is the anchored node itself, so the
    composed document is a graph, not a tree) and nesting past ``MAX_YAML_DEPTH``.

    One walk over the composed nodes, before anything is constructed: an alias bomb is a few
    dozen nodes here, whatever it would expand to.
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise _RefusedNode(_ALIAS, None)
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            continue
        if depth >= MAX_YAML_DEPTH:
            raise _RefusedNode(
                f"is nested too deeply: the depth passes {MAX_YAML_DEPTH} levels of mappings and lists",
                node.start_mark,
            )
        stack.extend((child, depth + 1) for child in children)


def _first_alias(text: str) -> tuple[int, int] | None:
    """The 0-based line and column of the first alias of ``text`` (read again only to place a
    refusal)."""
    for event in yaml.parse(text, Loader=_SafeLoader):
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent) and mark is not None:
            return mark.line, mark.column
    return None


class _StrictLoader(_SafeLoader):
    """Safe loading (plain YAML types only) that refuses what could hide or cost.

    * A mapping naming a key twice. Keys are compared after construction, as the resulting dict
      would compare them (``1`` and ``true`` collide there, so they do here). A merge of an inline
      mapping (``<<: {...}``) followed by an explicit key is an override YAML allows, not a repeat.
    * Anchors and aliases (``_check_tree``): a 1 KB alias bomb expands to billions of values.
    * Nesting deeper than ``MAX_YAML_DEPTH``.
    * Values the policy engine cannot read: ``.nan``, ``.inf``, integers beyond a double; and
      ``!!binary``, which no JSON can carry.
    """

    def get_single_data(self) -> Any:
        """The document, checked as composed nodes before it is constructed."""
        node = self.get_single_node()
        if node is None:
            return None
        _check_tree(node)
        return self.construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)  # cached: the dict below reuses it
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # unhashable: the base class names that problem
                continue
            if first is not key_node.start_mark:
                raise _RepeatedYamlKey(first, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or time, with its line when it does not exist (2026-02-30, hour 25)."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, "a date or time that does not exist in the calendar", node.start_mark
            ) from None

    def construct_checked_float(self, node: yaml.ScalarNode) -> float:
        """A float; NaN, infinity and what overflows a double (``1.0e+400``) are refused."""
        value: float = self.construct_yaml_float(node)
        if not math.isfinite(value):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "holds a value that is not a finite number (.nan, .inf or beyond a double), "
                "which the policy engine cannot read",
                node.start_mark,
            )
        return value

    def construct_checked_int(self, node: yaml.ScalarNode) -> int:
        """An integer; one beyond the range of a double is refused (as JSON integers are)."""
        try:
            value: int = self.construct_yaml_int(node)
            float(value)
        except (OverflowError, ValueError):  # ValueError: past the 4,300 digits Python converts
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "holds an integer too large for the policy engine (beyond a double, about 1.8e308)",
                node.start_mark,
            ) from None
        return value

    def refuse_binary(self, node: yaml.Node) -> Any:
        """``!!binary``: bytes, which neither JSON nor the policy engine can carry."""
        raise yaml.constructor.ConstructorError(
            None, None, "holds a binary value (!!binary), which rule data cannot carry", node.start_mark
        )


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_checked_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_checked_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_checked_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:binary", _StrictLoader.refuse_binary)


def load_yaml(text: str, source: str, *, first_line: int = 1) -> Any:
    """Load one YAML document safely; any problem is a ``YamlError`` naming ``source`` and the line.

    ``first_line`` is the line of ``source`` where ``text`` starts (YAML held in comments, such as
    a Rego METADATA block, starts below line 1). Refused besides broken YAML (see ``_StrictLoader``):
    a text longer than ``MAX_YAML_CHARS``, a key named twice, any alias, nesting deeper than
    ``MAX_YAML_DEPTH``, NaN, infinities, integers beyond a double and binary values.
    """
    if len(text) > MAX_YAML_CHARS:
        raise YamlError(
            source,
            f"too large to read: {len(text):,} characters, over the {MAX_YAML_CHARS // 2**20} MiB "
            f"({MAX_YAML_CHARS:,} characters) affidavit reads as YAML",
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)  # safe: see _StrictLoader
    except _RefusedNode as exc:
        place = (exc.mark.line, exc.mark.column) if exc.mark is not None else _first_alias(text)
        raise YamlError(
            source,
            exc.problem,
            place[0] + first_line if place is not None else None,
            place[1] + 1 if place is not None else None,
        ) from None
    except _RepeatedYamlKey as exc:
        first, second = exc.first, exc.second
        raise YamlError(
            source,
            f"a mapping names the same key twice (lines {first.line + first_line} and "
            f"{second.line + first_line}); only one of the two values would be kept",
            second.line + first_line,
            second.column + 1,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _unquoted(exc.problem or exc.context or "cannot be parsed")
        if problem.startswith("could not determine a constructor for the tag"):
            problem = "uses a tag that safe loading does not read (only plain YAML types are allowed)"
        raise YamlError(
            source,
            problem,
            mark.line + first_line if mark is not None else None,
            mark.column + 1 if mark is not None else None,
        ) from None
    except yaml.reader.ReaderError as exc:
        line = _reader_error_line(text, exc.position) + first_line - 1
        raise YamlError(
            source, "contains a character YAML does not allow (a control character)", line
        ) from None
    except yaml.YAMLError:
        raise YamlError(source, "cannot be parsed") from None
    except RecursionError:
        raise YamlError(source, "is nested too deeply to be read safely") from None


# A value PyYAML quotes in a problem (with ``repr``): an alias or anchor name, a tag, the
# character it stopped at. libyaml's problems quote nothing; PyYAML's own parser (used where
# PyYAML was built without libyaml) quotes these.
_YAML_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
# What may stay quoted: YAML's own punctuation and PyYAML's token names ('<block end>').
_YAML_SYNTAX = re.compile(r"[-,:?\[\]{}|>!&*#%@`'\"]{1,3}|<[a-z ]+>")


def _unquoted(problem: str) -> str:
    """A YAML problem with every quoted value of the text replaced by what it is, so that no
    message repeats the file (YAML syntax and token names stay)."""

    def said(match: re.Match[str]) -> str:
        quoted = match.group()
        try:
            inner = ast.literal_eval(quoted)
        except (SyntaxError, ValueError):
            inner = quoted[1:-1]
        if isinstance(inner, str) and _YAML_SYNTAX.fullmatch(inner):
            return quoted
        return "(a character)" if isinstance(inner, str) and len(inner) == 1 else "(a name or value)"

    return _YAML_QUOTED.sub(said, problem)


def _reader_error_line(text: str, position: int) -> int:
    """The 1-based line of a reader error (libyaml counts UTF-8 bytes, PyYAML characters)."""
    if _SafeLoader is not yaml.SafeLoader:
        return text.encode("utf-8", "surrogatepass")[:position].count(b"\n") + 1
    return text.count("\n", 0, position) + 1


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (JSON trees have no cycles to find)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: From this size of a policy input's text, the C heap's free pages are given back before the engine
#: reads it (``policy.evaluate``) and once the engine has let the text go (``policy.engines.regorus``).
RETURN_MEMORY_FROM = 4 << 20


def return_free_memory() -> bool:
    """Give the C library's free heap pages back to the system (glibc's ``malloc_trim``); ``False``
    where there is no such call (another C library, another system), which changes nothing else.

    Python keeps its larger objects (a document's text, the tables of big dicts and lists) in the
    C library's heap, and once they are freed their pages stay with the process for the heap's
    next use. The policy engine does not take them: regorus allocates from its own allocator
    (mimalloc, built into its extension), so its copy of the input came on top of every page the
    collection ever held. The evaluation calls this before it hands a large input over (at the
    benchmark's 1x: the gate's peak 541 MiB before, 482 after, for under 10 ms).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        linked = ctypes.CDLL(None)  # the interpreter and the C library it is linked with
    except OSError:
        return None
    trim = getattr(linked, "malloc_trim", None)  # glibc's; musl has none
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return cast("Callable[[int], int]", trim)
