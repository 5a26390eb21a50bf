"""The code ``dataclasses`` generates for affidavit's classes, compiled once and kept in the user cache.

Python builds each dataclass's methods (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` of a frozen class...) by writing their source and compiling it, every time the
class is defined: for the seventy-odd classes a gate defines, about 380 small functions and 80 ms
of compiling, an eighth of a demo gate, spent again by every command.

``install`` gives ``dataclasses`` an ``exec`` of its own (the module's global, which shadows the
built-in): given source text, it runs the code object compiled from exactly that text, taken from
the cache entry when an earlier process compiled it, else compiled now (and stored when the process
exits). Running ``compile(text)``'s code is what ``exec(text)`` does, so nothing about the classes
changes. The entry (in ``affidavit.cache``'s folder, with its checks and its pruning) is keyed by the exact
Python build and its optimisation level, under which the same text always compiles to the same
code; within it, code objects are found by the sha256 of their source text. The entry is ``marshal`` data,
as Python's own ``__pycache__`` files are: it is read only from the cache folder, which is used only
while it belongs to this user and no one else can write to it, and an entry that cannot be read, or
that holds anything but digests and code, is ignored and written again.
The same holds for regular expressions (about 220 compiled by a demo gate, 40 ms): on Python 3.11,
whose ``re`` this was written against and is tested with, ``re``'s compiler is given a version
that keeps what it computes from a pattern and its flags (the parse turned into the engine's code,
the groups and their names) and gives ``_sre.compile`` exactly what ``re`` itself gives it; the
pattern made is equal to ``re``'s own (``Pattern.__eq__`` compares the code). Patterns with
``re.DEBUG`` (which prints) or ``re.LOCALE`` are compiled as always, and so is everything on other
versions of Python. ``_sre`` checks the code it is given, so a damaged entry cannot crash it: a
refusal means compiling afresh.
``AFFIDAVIT_NO_CACHE=1`` turns both off: everything is compiled as Python always does.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import marshal
import sys
from types import CodeType
from typing import Any

KIND = "dataclass-code"
REGEX_KIND = "regex-code"
MAX_CODES = 4096  # more than affidavit ever defines; an entry past it is not grown further

# By the sha256 of the source text each was compiled from (a fraction of the text's size to read).
_codes: dict[bytes, CodeType] | None = None  # read from the entry on first use
_compiled: dict[bytes, CodeType] = {}  # compiled by this process, stored at exit


def _entry_name(kind: str) -> str:
    """The entry of ``kind`` for this Python build: the code compiled from a text depends on nothing
    else (not on affidavit's own code, so the name is found without reading it)."""
    text = repr((kind, sys.version, sys.flags.optimize, marshal.version))
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()}.json"


def _stored() -> dict[bytes, CodeType]:
    """The code objects of the entry, by the sha256 of their source text; empty when there is none
    or it is unusable."""
    from affidavit.cache import read_entry

    value = read_entry(_entry_name(KIND))
    if not isinstance(value, str):
        return {}
    try:
        codes = marshal.loads(base64.b64decode(value.encode("ascii"), validate=True))
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(codes, dict) or not all(
        type(digest) is bytes and len(digest) == 32 and type(code) is CodeType
        for digest, code in codes.items()
    ):
        return {}
    return codes


def _run(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
    """``exec`` for ``dataclasses``: source text runs as the code compiled from it (see above)."""
    global _codes
    if type(source) is not str:
        builtins.exec(source, globals, locals)
        return
    if _codes is None:
        _codes = _stored()
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
    code = _codes.get(digest)
    if code is None:
        code = _codes[digest] = _compiled[digest] = compile(source, "<string>", "exec")
    builtins.exec(code, globals, locals)


def _save() -> None:
    """Store the entry again when this process compiled code it did not hold (at exit)."""
    if not _compiled or _codes is None or len(_codes) > MAX_CODES:
        return
    from affidavit.cache import write_entry

    write_entry(_entry_name(KIND), base64.b64encode(marshal.dumps(_codes)).decode("ascii"))
    _compiled.clear()


# ---------------------------------------------------------------------------------------------
# Regular expressions (Python 3.11)

# What ``re._compiler.compile`` gives ``_sre.compile`` besides the pattern: its flags, its code, the
# number of groups less one, the group index and the index of group names.
_Compiled = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
_regexes: dict[bytes, _Compiled] | None = None
_regexes_new = False
_real_compile: Any = None
_re_compiler: Any = None  # re._compiler, re._parser and _sre, set by ``install``
_re_parser: Any = None
_engine: Any = None


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


def _stored_regexes() -> dict[bytes, _Compiled]:
    from affidavit.cache import read_entry

    value = read_entry(_entry_name(REGEX_KIND))
    if not isinstance(value, str):
        return {}
    try:
        found = marshal.loads(base64.b64decode(value.encode("ascii"), validate=True))
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(found, dict) or not all(
        type(key) is bytes and len(key) == 32 and _valid_compiled(item) for key, item in found.items()
    ):
        return {}
    return found


_loading = False


def _load_regexes() -> None:
    """Read the entry (once): the modules that read it compile patterns of their own meanwhile."""
    global _regexes, _loading
    _loading = True
    try:
        _regexes = _stored_regexes()
    finally:
        _loading = False


def _compile_regex(pattern: Any, flags: Any = 0) -> Any:
    """``re._compiler.compile`` for ``re``: the same pattern, from the cache when it holds it."""
    global _regexes_new
    import re

    if _regexes is None and not _loading:
        _load_regexes()
    if _regexes is None or type(pattern) not in (str, bytes) or flags & (re.DEBUG | re.LOCALE):
        return _real_compile(pattern, flags)  # while the entry is read (its modules compile some)
    text = pattern.encode("utf-8", "surrogatepass") if type(pattern) is str else pattern
    key = hashlib.sha256(b"%s\0%d\0" % (type(pattern).__name__.encode(), int(flags)) + text).digest()
    found = _regexes.get(key)
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
    _regexes[key] = made
    _regexes_new = True
    return _engine.compile(pattern, *made)


def _save_regexes() -> None:
    global _regexes_new
    if not _regexes_new or _regexes is None or len(_regexes) > MAX_CODES:
        return
    from affidavit.cache import write_entry

    write_entry(_entry_name(REGEX_KIND), base64.b64encode(marshal.dumps(_regexes)).decode("ascii"))
    _regexes_new = False


def install() -> None:
    """Give ``dataclasses`` the cached ``exec``, and on Python 3.11 ``re`` the cached compiler
    (once; nothing when caching is off)."""
    global _real_compile, _re_compiler, _re_parser, _engine
    import os

    if os.environ.get("AFFIDAVIT_NO_CACHE") == "1":
        return
    import atexit
    import dataclasses

    # The entries are read on first use, maybe while some module is being imported: what reads them
    # is imported whole first, before anything is patched, so none of it is ever found half made.
    import affidavit.cache  # noqa: F401

    if getattr(dataclasses, "exec", None) is not _run:
        setattr(dataclasses, "exec", _run)  # noqa: B010  (a module global that shadows the built-in)
        atexit.register(_save)
    if sys.version_info[:2] == (3, 11):
        import importlib

        _re_compiler = importlib.import_module("re._compiler")
        _re_parser = importlib.import_module("re._parser")
        _engine = importlib.import_module("_sre")
        if _re_compiler.compile is not _compile_regex:
            _real_compile = _re_compiler.compile
            _re_compiler.compile = _compile_regex
            atexit.register(_save_regexes)
