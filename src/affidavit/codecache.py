"""The code ``dataclasses`` generates for affidavit's classes, compiled once and kept in the user cache.

Python builds each dataclass's methods (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` of a frozen class...) by writing their source and compiling it, every time the
class is defined: for the seventy-odd classes a gate defines, about 380 small functions and 80 ms
of compiling, an eighth of a demo gate, spent again by every command.

``install`` gives ``dataclasses`` an ``exec`` of its own (the module's global, which shadows the
built-in): given source text, it runs the code object compiled from exactly that text, taken from
the cache entry when an earlier process compiled it, else compiled now (and stored when the process
exits). Running ``compile(text)``'s code is what ``exec(text)`` does, so nothing about the classes
changes. The entry (in ``affidavit.cache``'s folder, with its checks and its pruning) is keyed by
the exact Python build and its optimisation level, under which the same text always compiles to
the same code; within it, each code object is ``marshal`` data (as in Python's own ``__pycache__``
files) found by the sha256 of its source text, and read only when it is first asked for (a command
that defines few classes does not read them all). It is read only from the cache folder, which is
used only while it belongs to this user and no one else can write to it; an entry that cannot be
read is ignored and written again, and an item that is not what it should be is compiled afresh.
The same holds for regular expressions (about 220 compiled by a demo gate, 40 ms): on Python 3.11,
whose ``re`` this was written against and is tested with, ``re``'s compiler is given a version
that keeps what it computes from a pattern and its flags (the parse turned into the engine's code,
the groups and their names) and gives ``_sre.compile`` exactly what ``re`` itself gives it; the
pattern made is equal to ``re``'s own (``Pattern.__eq__`` compares the code). Only the patterns
written in code are kept (asked for by the body of a module or a class, or a comprehension in one,
or a constant of the function that asks); one made while running, perhaps from what affidavit reads, is compiled as
always and never stored. Patterns with ``re.DEBUG`` (which prints) or ``re.LOCALE`` are compiled as always,
and so is everything on other versions of Python. ``_sre`` checks the code it is given, so a damaged entry cannot crash it: a
refusal means compiling afresh.
``AFFIDAVIT_NO_CACHE=1`` turns both off: everything is compiled as Python always does.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import marshal
import sys
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

KIND = "dataclass-code"
REGEX_KIND = "regex-code"
MAX_ITEMS = 4096  # more than a process of affidavit ever compiles; an entry past it is not grown


def _entry_name(kind: str) -> str:
    """The entry of ``kind`` for this Python build: the code compiled from a text depends on nothing
    else (not on affidavit's own code, so the name is found without reading it)."""
    text = repr((kind, sys.version, sys.flags.optimize, marshal.version))
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()}.json"


class _Entry:
    """One cache entry: items by the sha256 of what they were compiled from, each kept as its
    ``marshal`` bytes and read only when first asked for (``get``, which checks it with ``valid``).
    Read on first use; stored again at exit when this process added an item (``save``)."""

    def __init__(self, kind: str, valid: Callable[[Any], bool]) -> None:
        self.kind = kind
        self.valid = valid
        self.blobs: dict[bytes, bytes] | None = None
        self.items: dict[bytes, Any] = {}
        self.added = False
        self.loading = False

    def ready(self) -> bool:
        """Read the entry if it is not read yet; ``False`` while it is being read (the modules that
        read it may compile code of their own meanwhile: that is compiled as usual)."""
        if self.blobs is None and not self.loading:
            self.loading = True
            try:
                self.blobs = self._read()
            finally:
                self.loading = False
        return self.blobs is not None

    def _read(self) -> dict[bytes, bytes]:
        from affidavit.cache import read_entry

        value = read_entry(_entry_name(self.kind))
        if not isinstance(value, str):
            return {}
        try:
            blobs = marshal.loads(base64.b64decode(value.encode("ascii"), validate=True))
        except (ValueError, EOFError, TypeError):
            return {}
        if not isinstance(blobs, dict) or not all(
            type(k) is bytes and len(k) == 32 and type(v) is bytes for k, v in blobs.items()
        ):
            return {}
        return blobs

    def get(self, digest: bytes) -> Any:
        """The item stored for ``digest``, or ``None`` (none, or not what it should be)."""
        item = self.items.get(digest)
        if item is None and self.blobs is not None and digest in self.blobs:
            try:
                found = marshal.loads(self.blobs[digest])
            except (ValueError, EOFError, TypeError):
                found = None
            if found is not None and self.valid(found):
                item = self.items[digest] = found
            else:
                del self.blobs[digest]  # written again when it is compiled afresh
        return item

    def put(self, digest: bytes, item: Any) -> None:
        self.items[digest] = item
        if self.blobs is not None:
            self.blobs[digest] = marshal.dumps(item)
            self.added = True

    def save(self) -> None:
        if not self.added or self.blobs is None or len(self.blobs) > MAX_ITEMS:
            return
        from affidavit.cache import write_entry

        write_entry(_entry_name(self.kind), base64.b64encode(marshal.dumps(self.blobs)).decode("ascii"))
        self.added = False


# ---------------------------------------------------------------------------------------------
# Dataclasses

_codes = _Entry(KIND, lambda found: type(found) is CodeType)


def _run(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
    """``exec`` for ``dataclasses``: source text runs as the code compiled from it (see above)."""
    if type(source) is not str or not _codes.ready():
        builtins.exec(source, globals, locals)
        return
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
    code = _codes.get(digest)
    if code is None:
        code = compile(source, "<string>", "exec")
        _codes.put(digest, code)
    builtins.exec(code, globals, locals)


# ---------------------------------------------------------------------------------------------
# Regular expressions (Python 3.11)

# What ``re._compiler.compile`` gives ``_sre.compile`` besides the pattern: its flags, its code, the
# number of groups less one, the group index and the index of group names.
_Compiled = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]


def _valid_compiled(value: Any) -> bool:
    return (
        type(value) is tuple
        and len(value) == 5
        and type(value[0]) is int
        and type(value[1]) is list
        and all(type(c) is int for c in value[1])
        and type(value[2]) is int
        and type(value[3]) is dict
        and all(type(k) is str and type(v) is int for k, v in value[3].items())
        and type(value[4]) is tuple
        and all(n is None or type(n) is str for n in value[4])
    )


_regexes = _Entry(REGEX_KIND, _valid_compiled)
_real_compile: Any = None
_re_compiler: Any = None  # re._compiler, re._parser and _sre, set by ``install``
_re_parser: Any = None
_engine: Any = None
_UNCACHED_FLAGS = 0  # re.DEBUG | re.LOCALE, set by ``install``


# A code object's flag for a function's own locals: set for every function, clear for the body of
# a module or a class, where the patterns written in the code are compiled.
_NEWLOCALS = 0x0002
# The frames between ``_compile_regex`` and the code that asked for a pattern: ``re._compile``,
# then ``re.compile``, ``re.match``, ``re.sub``... (any other path is simply not cached).
_CALLER_DEPTH = 3
_COMPREHENSIONS = frozenset({"<genexpr>", "<listcomp>", "<setcomp>", "<dictcomp>"})


def _written_in_code(pattern: str | bytes) -> bool:
    """Whether the pattern being compiled is written in the code that asks for it: asked for by the
    body of a module or a class (or a comprehension in one), or a constant of the function that
    asks. One made while running
    (from rule data, an ``--exclude`` glob, a ruleset's branch pattern in the evidence) is compiled
    as always and never kept, so nothing of what affidavit reads reaches the cache, and the entry
    cannot be grown by an input."""
    try:
        frame = sys._getframe(_CALLER_DEPTH + 1)  # + this function's own frame
    except ValueError:
        return False
    if any(c is pattern for c in frame.f_code.co_consts):
        return True
    # A comprehension in a module's or a class's body (``tuple(re.compile(p) for p in (...))``)
    # runs as a function of its own: the body it belongs to is what decides.
    body: FrameType | None = frame
    while body is not None and body.f_code.co_name in _COMPREHENSIONS:
        body = body.f_back
    return body is not None and not body.f_code.co_flags & _NEWLOCALS


def regex_digest(pattern: str | bytes, flags: int) -> bytes:
    """The key of a pattern and its flags in the entry."""
    text = pattern.encode("utf-8", "surrogatepass") if isinstance(pattern, str) else pattern
    return hashlib.sha256(b"%s\0%d\0" % (type(pattern).__name__.encode(), int(flags)) + text).digest()


def _compile_regex(pattern: Any, flags: Any = 0) -> Any:
    """``re._compiler.compile`` for ``re``: the same pattern, from the cache when it holds it."""
    if (
        type(pattern) not in (str, bytes)
        or flags & _UNCACHED_FLAGS
        or not _written_in_code(pattern)
        or not _regexes.ready()
    ):
        return _real_compile(pattern, flags)
    digest = regex_digest(pattern, flags)
    found = _regexes.get(digest)
    if found is not None:
        try:
            return _engine.compile(pattern, *found)
        except (RuntimeError, TypeError, ValueError, OverflowError):  # code _sre refuses
            pass
    parsed = _re_parser.parse(pattern, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    made: _Compiled = (
        int(flags | parsed.state.flags),
        [int(c) for c in _re_compiler._code(parsed, flags)],
        parsed.state.groups - 1,
        groupindex,
        tuple(indexgroup),
    )
    _regexes.put(digest, made)
    return _engine.compile(pattern, *made)


def install() -> None:
    """Give ``dataclasses`` the cached ``exec``, and on Python 3.11 ``re`` the cached compiler
    (once; nothing when caching is off)."""
    global _real_compile, _re_compiler, _re_parser, _engine, _UNCACHED_FLAGS
    import os

    if os.environ.get("AFFIDAVIT_NO_CACHE") == "1":
        return
    import atexit
    import dataclasses
    import re

    # The entries are read on first use, maybe while some module is being imported: what reads them
    # is imported whole first, before anything is patched, so none of it is ever found half made.
    import affidavit.cache  # noqa: F401

    if getattr(dataclasses, "exec", None) is not _run:
        setattr(dataclasses, "exec", _run)  # noqa: B010  (a module global that shadows the built-in)
        atexit.register(_codes.save)
    if sys.version_info[:2] == (3, 11):
        import importlib

        _re_compiler = importlib.import_module("re._compiler")
        _re_parser = importlib.import_module("re._parser")
        _engine = importlib.import_module("_sre")
        _UNCACHED_FLAGS = int(re.DEBUG | re.LOCALE)
        if _re_compiler.compile is not _compile_regex:
            _real_compile = _re_compiler.compile
            _re_compiler.compile = _compile_regex
            atexit.register(_regexes.save)
