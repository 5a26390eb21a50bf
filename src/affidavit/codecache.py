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
``AFFIDAVIT_NO_CACHE=1`` turns it off: everything is compiled as ``dataclasses`` always did.
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
MAX_CODES = 4096  # more than affidavit ever defines; an entry past it is not grown further

# By the sha256 of the source text each was compiled from (a fraction of the text's size to read).
_codes: dict[bytes, CodeType] | None = None  # read from the entry on first use
_compiled: dict[bytes, CodeType] = {}  # compiled by this process, stored at exit


def _entry_name() -> str:
    from affidavit.cache import entry_key

    return entry_key(KIND, [sys.version, sys.flags.optimize, marshal.version])


def _stored() -> dict[bytes, CodeType]:
    """The code objects of the entry, by the sha256 of their source text; empty when there is none
    or it is unusable."""
    from affidavit.cache import read_entry

    value = read_entry(_entry_name())
    if not isinstance(value, str):
        return {}
    try:
        codes = marshal.loads(base64.b64decode(value.encode("ascii"), validate=True))
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(codes, dict) or not all(
        type(digest) is bytes and len(digest) == 32 and type(code) is CodeType for digest, code in codes.items()
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

    write_entry(_entry_name(), base64.b64encode(marshal.dumps(_codes)).decode("ascii"))
    _compiled.clear()


def install() -> None:
    """Give ``dataclasses`` the cached ``exec`` (once; nothing when caching is off)."""
    import os

    if os.environ.get("AFFIDAVIT_NO_CACHE") == "1":
        return
    import atexit
    import dataclasses

    if getattr(dataclasses, "exec", None) is _run:
        return
    setattr(dataclasses, "exec", _run)  # noqa: B010  (a module global that shadows the built-in)
    atexit.register(_save)
