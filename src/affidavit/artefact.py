"""An artefact read once: its bytes, their sha256, the decoded text and the parsed JSON.

Every collector works from an ``Artefact``. The bytes are hashed once, decoded once (UTF-8 with or
without a byte-order mark, UTF-16 either byte order) and, when the text is JSON, parsed once with
the cyclic garbage collector paused (a JSON tree has no cycles for it to find, and on a large
Terraform plan the collector's walks cost as much as the parse).

Files are read by ``read_regular_file``: a regular file only, never through a link at its last
component, never blocking on a FIFO or device, and checked again once open so that nothing swapped
in after the check is read.

A JSON object or YAML mapping that names the same key twice is refused: Python's parsers keep the
last value, so a second ``"Results": []`` would silently hide every finding of the first. The
error gives the line and column of the second key and never the key itself (keys can be data).
``load_json`` and ``load_yaml`` are the one way to parse either, for inner documents and for
configuration files too.
"""

from __future__ import annotations

import codecs
import errno
import gc
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
                self._json = load_json(self.raw if self.encoding == "utf-8" else self.text, self.source)
            except InputError as exc:
                self._json_error = exc
        if self._json_error is not None:
            raise self._json_error
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


# ---------------------------------------------------------------------------------------------
# JSON


class _RepeatedKey(Exception):
    """Raised inside the parser: one object named a key twice (located afterwards)."""


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The parser's object hook: the object as a dict, unless two of its keys are equal.

    Building the dict and comparing sizes is the cheapest check the standard parser allows: a
    whole-file parse of a 100 MB plan, SBOM or Trivy report takes 35-50 % longer than without it.
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _RepeatedKey
    return obj


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


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``text[offset]``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def load_json(data: bytes | str, source: str) -> Any:
    """Parse one JSON document strictly; any problem is an ``InputError`` naming ``source``.

    Refused: broken or truncated JSON, nesting too deep to walk safely, and an object that names
    the same key twice (the message gives the second key's line and column, never the key).
    Bytes are decoded as ``json.loads`` would decode them (UTF-8, -16 or -32).
    """
    try:
        text = data if isinstance(data, str) else data.decode(json.detect_encoding(data), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise InputError(
            source, f"is not valid {exc.encoding} text (byte {exc.start}): the file is damaged"
        ) from None
    try:
        with gc_paused():
            return json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except _RepeatedKey:
        pass
    except json.JSONDecodeError as exc:
        raise InputError(source, _describe_json_error(exc, len(text))) from None
    except RecursionError:
        raise InputError(source, "JSON is nested too deeply to be read safely") from None
    offset = _repeated_key_offset(text)
    where = " (line {}, column {})".format(*_line_column(text, offset)) if offset is not None else ""
    raise InputError(
        source,
        f"a JSON object names the same key twice{where}; readers keep only one of the two, "
        "so the other could hide findings",
        hint="regenerate the file with the tool that wrote it; a tool never repeats a key, an edit can",
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


class _StrictLoader(_SafeLoader):
    """Safe loading (plain YAML types only) that refuses a mapping naming a key twice.

    Keys are compared after construction, as the resulting dict would compare them (``1`` and
    ``true`` collide there, so they do here). A merge (``<<: *base``) followed by an explicit key is
    an override YAML allows, not a repeat.
    """

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


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_checked_timestamp)


def load_yaml(text: str, source: str, *, first_line: int = 1) -> Any:
    """Load one YAML document safely; any problem is a ``YamlError`` naming ``source`` and the line.

    ``first_line`` is the line of ``source`` where ``text`` starts (YAML held in comments, such as
    a Rego METADATA block, starts below line 1).
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # safe: see _StrictLoader
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
        problem = exc.problem or exc.context or "cannot be parsed"
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
