"""A user cache of a run's fixed costs, by content hash, so a gate does not compute them again.

Loading the policy library parses every module with regorus, reads each METADATA block as YAML and
probes regorus for the built-ins the modules call: about a fifth of a demo gate, and the same work
every run. The outcome depends only on the modules' paths, texts and origins, on affidavit's own
code and on the regorus version, so it is kept under ``$XDG_CACHE_HOME/affidavit`` (``~/.cache``
without it) in a file named by the sha256 of all of those, and read back instead of being computed
when the same modules are loaded again.

It never changes a result: the key covers every input of the analysis, including the source of
every affidavit module (a changed checkout is another key); an entry is JSON with a schema of its
own, and one that cannot be read, is not valid or does not rebuild is ignored and written again;
an analysis that fails (a syntax error, an unknown function, a misused namespace) is never stored,
so its error is raised every time. The folder is created ``0700`` and is used only while it belongs
to this user and no one else can write to it; entries are written whole (a temporary file renamed
into place) and at most ``MAX_ENTRY`` bytes are read; the folder keeps the ``MAX_ENTRIES`` entries
used most recently. ``AFFIDAVIT_NO_CACHE=1`` turns it off.

The other fixed costs of a run use the same folder through ``cached``: the control matrices' YAML
(``controls.loader``) and what python-hcl2 makes of a ``.tf`` file (``formats.terraform_config``);
and through ``read_entry`` and ``write_entry``, the licence entries ``license-expression`` read
(``kinds.licenses._Remembered``, one entry that grows as new ones are read), and the code Python
compiles for dataclasses and regular expressions (``codecache``, two entries, by the Python build).
A value is stored only when JSON gives it back exactly (``json_exact``), and one read back is used
only once its reader has checked its shape; anything else is computed again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

MAX_ENTRY = 16 * 1024 * 1024
MAX_ENTRIES = 512
TOUCH_AFTER = 86400  # seconds: a read marks its entry as in use at most once a day
FORMAT = "affidavit.cache/v1"
_PACKAGE = Path(__file__).resolve().parent

T = TypeVar("T")


def cache_dir() -> Path | None:
    """The cache folder (created ``0700``), or ``None`` when caching is off or the folder is unsafe."""
    if os.environ.get("AFFIDAVIT_NO_CACHE") == "1":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    if not os.path.isabs(base):
        return None  # the XDG rule: a relative path is invalid and ignored
    folder = Path(base) / "affidavit"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = os.stat(folder, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o022:
        return None  # a link, someone else's folder, or one that others can write to
    return folder


@cache
def code_digest() -> str:
    """sha256 of the source of every affidavit module: the code that computes what is cached."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def entry_key(kind: str, parts: Any) -> str:
    """The name of the entry of ``kind`` for the JSON-able ``parts`` (with the code and Python)."""
    text = json.dumps([FORMAT, kind, sys.version, code_digest(), parts], sort_keys=True)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()}.json"


def read_entry(name: str) -> Any:
    """The JSON value stored under ``name``; ``None`` when there is none or it cannot be read."""
    folder = cache_dir()
    if folder is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(folder / name, flags)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            found = os.fstat(handle.fileno())
            if not stat.S_ISREG(found.st_mode):
                return None
            raw = handle.read(MAX_ENTRY + 1)
            if time.time() - found.st_mtime > TOUCH_AFTER:
                _touch(handle.fileno())
        if len(raw) > MAX_ENTRY:
            return None
        document = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("name") != name:
        return None
    return document.get("value")


def _touch(fd: int) -> None:
    """Mark an entry as in use (the last to be removed by ``_prune``); a failure is ignored."""
    try:
        os.utime(fd)
    except OSError:
        pass


def write_entry(name: str, value: Any) -> None:
    """Store ``value`` (JSON) under ``name``: written whole, then renamed into place; any failure is
    ignored (the cache only saves time)."""
    folder = cache_dir()
    if folder is None:
        return
    # keys in their order: a value read back is the value stored, mappings' order included
    data = json.dumps({"format": FORMAT, "name": name, "value": value}).encode()
    try:
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, folder / name)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return
    _prune(folder)


def _prune(folder: Path) -> None:
    """Keep at most ``MAX_ENTRIES`` entries: those unused longest are removed first (an entry's
    modification time is when it was written, or last read a day or more after that). Every change
    of affidavit's code or a library is a new key, so without this the folder would only grow."""
    try:
        with os.scandir(folder) as found:
            entries = [
                (entry.stat(follow_symlinks=False).st_mtime_ns, entry.name)
                for entry in found
                if entry.name.endswith(".json") and not entry.name.startswith(".")
                if entry.is_file(follow_symlinks=False)
            ]
    except OSError:
        return
    entries.sort()
    for _, name in entries[: max(0, len(entries) - MAX_ENTRIES)]:
        try:
            os.unlink(folder / name)
        except OSError:
            pass


def cached(
    kind: str, parts: Any, compute: Callable[[], T], dump: Callable[[T], Any], load: Callable[[Any], T | None]
) -> T:
    """``compute()``, or the value stored under ``entry_key(kind, parts)`` by an earlier run.

    ``parts`` must name every input of ``compute`` (the code and Python are added). ``dump`` gives
    the JSON to store, or ``None`` when the value must not be stored; it is stored only when JSON
    gives it back exactly (``json_exact``). ``load`` rebuilds a value from what was read, or gives
    ``None`` (or raises ``KeyError``, ``TypeError``, ``ValueError``) for an entry of the wrong shape,
    which is then ignored and written again. An error raised by ``compute`` is never stored.
    """
    if cache_dir() is None:
        return compute()
    name = entry_key(kind, parts)
    stored = read_entry(name)
    if stored is not None:
        try:
            value = load(stored)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            value = None
        if value is not None:
            return value
    value = compute()
    document = dump(value)
    if document is not None and json_exact(document):
        write_entry(name, document)
    return value


def json_exact(value: Any) -> bool:
    """True when JSON gives ``value`` back exactly: mappings with string keys, lists, strings,
    booleans, ``None``, integers and finite floats, and nothing else (no tuple, date or subclass)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(k) is str for k in item):
                return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
        elif kind not in (str, int, bool, type(None)):
            return False
    return True


def package_folders(name: str) -> list[str] | None:
    """The folders of the installed package ``name``, found without importing it; ``None`` when it
    is not a package that can be found."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)


@cache
def package_digest(name: str) -> str | None:
    """sha256 of the files of the installed package ``name`` (names and bytes; compiled caches and
    hidden files left out), found without importing it: a library's identity in a cache key.
    ``None`` when it cannot be found or read (nothing is then cached)."""
    folders = package_folders(name)
    if folders is None:
        return None
    h = hashlib.sha256()
    try:
        for location in sorted(folders):
            for folder, dirs, files in os.walk(location):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
                for file in sorted(f for f in files if not f.startswith(".") and not f.endswith(".pyc")):
                    path = os.path.join(folder, file)
                    h.update(os.path.relpath(path, location).encode())
                    h.update(b"\0")
                    with open(path, "rb") as handle:
                        h.update(handle.read())
                    h.update(b"\0")
    except OSError:
        return None
    return h.hexdigest()
