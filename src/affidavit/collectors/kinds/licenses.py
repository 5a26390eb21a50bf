"""Normal forms shared by the SBOM collectors: licence identifiers and hash algorithm names.

Licences
    A licence is recorded as an SPDX licence identifier (``MIT``), an SPDX expression
    (``MIT OR Apache-2.0``, ``LicenseRef-foo``) or, when the document only gives a free-text name
    that is not an SPDX identifier, that name (``BSD License``). Identifiers are put in the
    SPDX list's own spelling (``apache-2.0`` -> ``Apache-2.0``); a name that *is* an identifier
    (``<license><name>MIT</name>``) becomes the identifier. Expressions are kept as written (only
    trimmed), except that a one-word expression is spelled like an identifier too. The words
    ``NOASSERTION``, ``NONE`` and ``UNKNOWN`` mean "no licence given" and are dropped.

    The SPDX identifier list is the one cyclonedx-python-lib ships as a JSON schema file
    (``spdx.SNAPSHOT.schema.json``); it is read once, on first use, without importing the
    library's models.

    What a component's licences allow (``reading``): the licences of one component are all in force
    together (AND), and an ``OR`` inside an expression is the licensee's choice. ``reading`` turns them
    into ``choices``: every set of licence ids the licensee can end up under (the expression's
    disjunctive normal form), so a policy forbids a component only when every choice holds a
    forbidden id (``MIT OR GPL-3.0-only`` is allowed when MIT is). Expressions are parsed by
    ``license-expression`` with its SPDX licensing (loaded on first need, about 0.1 s, only for an
    entry that is not a plain current id): deprecated ids become their current ones (``GPL-2.0`` ->
    ``GPL-2.0-only``, ``GPL-3.0+`` and ``AGPL-3.0+`` -> ``...-or-later``, ``GPL-2.0-with-...-exception``
    -> ``GPL-2.0-only``); an exception (``WITH Classpath-exception-2.0``) leaves its licence's id.
    ``LicenseRef-`` ids are kept as written. An entry that is not an SPDX id or expression (a
    free-text name such as ``Apache License 2.0``, or an expression naming an unknown id) is
    ``unidentified``: it is reported, never read as allowed. More than ``MAX_CHOICES`` choices
    collapse into one choice holding every id (a forbidden id anywhere then forbids). Hostile input
    is bounded: an entry longer than ``MAX_EXPRESSION`` characters or nested deeper than
    ``MAX_DEPTH`` parentheses is unidentified without being parsed, and so is text that does not
    alternate ids and operators (a name), so the parser only sees what can be an expression.

Hash algorithms
    The one normal form is the CycloneDX algorithm name in lower case: ``md5``, ``sha-1``,
    ``sha-256``, ``sha-384``, ``sha-512``, ``sha3-256``, ``blake2b-256``, ``blake3``,
    ``streebog-256`` ... SPDX names map onto it (``SHA256`` -> ``sha-256``, ``SHA3-256`` ->
    ``sha3-256``, ``BLAKE2b-384`` -> ``blake2b-384``); the SPDX-only ones keep their name in lower
    case (``md2``, ``md4``, ``md6``, ``sha-224``, ``adler32``). Hash values are lower-case hex.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from itertools import product
from typing import Any

# Words that SBOM tools write where they have no licence to give.
NO_LICENSE = frozenset({"NOASSERTION", "NONE", "UNKNOWN", ""})

_ONE_WORD = re.compile(r"^[A-Za-z0-9.+:-]+$")
_SHA_DIGITS = re.compile(r"^sha(\d+)$")


@cache
def _spdx_list() -> bytes:
    """The SPDX licence id list cyclonedx-python-lib ships (a JSON schema file), as its bytes."""
    from cyclonedx.schema._res import SPDX_JSON  # a path constant; the module imports nothing heavy

    with open(SPDX_JSON, "rb") as handle:
        return handle.read()


def _spdx_list_digest() -> str:
    """The sha256 of ``_spdx_list``."""
    import hashlib

    return hashlib.sha256(_spdx_list()).hexdigest()


@cache
def _spdx_ids() -> dict[str, str]:
    """Lower-cased SPDX licence id -> its canonical spelling (read once from the shipped list)."""
    ids: list[str] = json.loads(_spdx_list()).get("enum", [])
    return {i.lower(): i for i in ids}


def canonical_id(value: str) -> str | None:
    """The SPDX list's spelling of ``value`` if it is a known licence id, else ``None``."""
    return _spdx_ids().get(value.lower())


@cache
def from_id(value: str) -> str | None:
    """Normalise a licence given as an SPDX id (unknown ids are kept as written)."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    return canonical_id(value) or value


@cache
def from_name(value: str) -> str | None:
    """Normalise a licence given as a free-text name: an SPDX id if it is one, else the name."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    return canonical_id(value) or value


@cache
def from_expression(value: str) -> str | None:
    """Normalise an SPDX licence expression (kept as written; a single id is spelled canonically)."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    if _ONE_WORD.match(value):
        return canonical_id(value) or value
    return value


#: The most choices one component's licences are expanded into (see the module docstring).
MAX_CHOICES = 64

# Deprecated SPDX ids that name a licence family without saying "only" or "or later", and the
# "-with-...-exception" ids retired in SPDX 2.0: they go through the library's mapping.
_DEPRECATED = re.compile(r"^(?:a|l)?gpl-|^gfdl-|\+$|-with-.*-exception$", re.IGNORECASE)
_WITH_EXCEPTION_ID = re.compile(r"^(.+?)-with-.+-exception$", re.IGNORECASE)
_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")


@cache
def _spdx_licensing() -> Any:
    """The ``license-expression`` SPDX licensing (deprecated ids and ``+`` mapped), built once."""
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped]

    return get_spdx_licensing()


def _fast_id(value: str) -> str | None:
    """The id of an entry that is one current SPDX id or a LicenseRef (no parsing needed), else None."""
    if _LICENSE_REF.match(value):
        return value
    if _ONE_WORD.match(value) and not _DEPRECATED.search(value):
        return canonical_id(value)
    return None


def _dnf(node: Any) -> list[frozenset[str]] | None:
    """The choices of a parsed expression (None when they exceed ``MAX_CHOICES``)."""
    from license_expression import (
        AND,
        OR,
        LicenseSymbol,
        LicenseWithExceptionSymbol,
    )

    if isinstance(node, LicenseWithExceptionSymbol):
        return [frozenset({_symbol_id(node.license_symbol.key)})]
    if isinstance(node, LicenseSymbol):
        return [frozenset({_symbol_id(node.key)})]
    parts = [_dnf(arg) for arg in node.args]
    if any(p is None for p in parts):
        return None
    if isinstance(node, OR):
        out = list(dict.fromkeys(c for p in parts if p is not None for c in p))
        return out if len(out) <= MAX_CHOICES else None
    if isinstance(node, AND):
        return _and([p for p in parts if p is not None])
    return None  # pragma: no cover - the parser yields only these node types


def _and(parts: list[list[frozenset[str]]]) -> list[frozenset[str]] | None:
    """The choices of several groups all in force (None beyond ``MAX_CHOICES``)."""
    size = 1
    for p in parts:
        size *= max(len(p), 1)
        if size > MAX_CHOICES:
            return None
    return list(dict.fromkeys(frozenset().union(*combo) for combo in product(*parts)))


def _symbol_id(key: str) -> str:
    """A parsed symbol's id: a retired ``-with-...-exception`` id becomes its licence's current id."""
    match = _WITH_EXCEPTION_ID.match(key)
    if match:
        base = match.group(1)
        try:
            return str(_spdx_licensing().parse(base))
        except Exception:  # noqa: BLE001 - the library raises several types; the base is then kept
            return base
    return key


#: The longest licence entry parsed, and the deepest nesting of parentheses: a longer or deeper one
#: is unidentified (real expressions are a few dozen characters; the parser's cost grows with length).
MAX_EXPRESSION = 1_000
MAX_DEPTH = 32


def _depth(value: str) -> int:
    """The deepest nesting of parentheses in ``value``."""
    depth = deepest = 0
    for char in value:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


_OPERATORS = frozenset({"and", "or", "with"})


def _shaped_like_expression(value: str) -> bool:
    """True when ``value`` alternates ids and operators (ids have no spaces): a free-text name such
    as ``Apache License 2.0`` is then told apart without the parser."""
    tokens = value.replace("(", " ").replace(")", " ").split()
    return bool(tokens) and all(
        (token.lower() in _OPERATORS) == (i % 2 == 1) for i, token in enumerate(tokens)
    )


@lru_cache(maxsize=8192)
def _entry_choices(value: str) -> tuple[tuple[frozenset[str], ...], frozenset[str]] | None:
    """``(choices, ids)`` of one licence entry; ``None`` when it is not an SPDX id or expression.

    ``choices`` is empty when the entry's choices exceed ``MAX_CHOICES`` (``ids`` then stands for
    them: every id the entry names).
    """
    fast = _fast_id(value)
    if fast is not None:
        return (frozenset({fast}),), frozenset({fast})
    if len(value) > MAX_EXPRESSION or _depth(value) > MAX_DEPTH or not _shaped_like_expression(value):
        return None
    remembered = _remembered()
    if value in remembered.entries:
        return remembered.entries[value]
    found = _parsed_entry(value)
    remembered.add(value, found)
    return found


def _parsed_entry(value: str) -> tuple[tuple[frozenset[str], ...], frozenset[str]] | None:
    """``_entry_choices`` of an entry ``license-expression`` must read."""
    licensing = _spdx_licensing()
    try:
        info = licensing.validate(value)
        unknown = [s for s in info.invalid_symbols if not _LICENSE_REF.match(s) and canonical_id(s) is None]
        if unknown or info.original_expression is None:
            return None
        parsed = licensing.parse(value, validate=False)
    except Exception:  # noqa: BLE001 - the library raises several types: the entry is unidentified
        return None
    if parsed is None:
        return None
    ids = frozenset(
        _symbol_id(getattr(sym, "key", "")) for sym in licensing.license_symbols(parsed, decompose=True)
    )
    choices = _dnf(parsed)
    return (() if choices is None else tuple(choices)), ids


#: The most entries ``_Remembered`` keeps (each at most ``MAX_EXPRESSION`` characters).
MAX_REMEMBERED = 4096
_Entry = tuple[tuple[frozenset[str], ...], frozenset[str]] | None


class _Remembered:
    """What ``license-expression`` made of the entries it read, kept in the user cache
    (``affidavit.cache``) from one run to the next, so that a later run reads them without
    importing and building the library (about 70 ms of a gate whose SBOM holds an expression or a
    GPL-family id).

    The entry's key names the library (``license-expression`` and ``boolean.py``, by the sha256 of
    their files), the SPDX id list ``canonical_id`` reads, and affidavit's own code: the reading of
    an entry is a function of these and of its text alone, so a value read back is the value
    computed afresh (``tests/collectors/test_licence_cache.py`` compares them). Entries are added
    as they are computed and stored when the process exits; at most ``MAX_REMEMBERED``; a cache
    entry of another shape is ignored and written again. With the cache off nothing is kept."""

    def __init__(self) -> None:
        from affidavit import cache

        self.entries: dict[str, _Entry] = {}
        self._name: str | None = None
        self._added = False
        self._folder = cache.cache_dir()
        if self._folder is None:
            return
        parts = [
            cache.package_digest("license_expression"),
            cache.package_digest("boolean"),
            _spdx_list_digest(),
        ]
        if None in parts:
            return
        self._name = cache.entry_key("licence-entries", parts)
        stored = cache.read_entry(self._name)
        if isinstance(stored, dict) and len(stored) <= MAX_REMEMBERED:
            try:
                self.entries = {value: _loaded(item) for value, item in stored.items()}
            except (TypeError, ValueError):
                self.entries = {}

    def add(self, value: str, found: _Entry) -> None:
        """Keep ``found`` as the reading of ``value`` (stored when the process exits)."""
        if self._name is None or len(self.entries) >= MAX_REMEMBERED:
            return
        self.entries[value] = found
        if not self._added:
            self._added = True
            import atexit

            atexit.register(self.save)

    def save(self) -> None:
        """Store every entry kept (a failure is ignored: the cache only saves time)."""
        from affidavit import cache

        if self._name is not None and cache.cache_dir() == self._folder:  # the cache it was read from
            document = {value: _dumped(item) for value, item in self.entries.items()}
            if cache.json_exact(document):
                cache.write_entry(self._name, document)


def _dumped(found: _Entry) -> Any:
    """An entry's reading as JSON: ``null`` (unidentified) or its choices and ids, sorted."""
    if found is None:
        return None
    choices, ids = found
    return {"choices": [sorted(choice) for choice in choices], "ids": sorted(ids)}


def _loaded(item: Any) -> _Entry:
    """``_dumped``'s value read back; ``ValueError`` for anything else."""
    if item is None:
        return None
    if not isinstance(item, dict) or set(item) != {"choices", "ids"}:
        raise ValueError("not a licence entry")
    choices, ids = item["choices"], item["ids"]
    if not (
        isinstance(choices, list)
        and isinstance(ids, list)
        and all(isinstance(i, str) for i in ids)
        and all(isinstance(c, list) and all(isinstance(i, str) for i in c) for c in choices)
    ):
        raise ValueError("not a licence entry")
    return tuple(frozenset(c) for c in choices), frozenset(ids)


@cache
def _remembered() -> _Remembered:
    return _Remembered()


def reading(licenses: list[str]) -> tuple[list[list[str]], list[str]]:
    """``(choices, unidentified)`` of one component's licences (see the module docstring).

    ``choices`` is sorted (each choice a sorted list of ids); ``[]`` when no entry is identified.
    Fresh lists each time, from a reading kept per distinct list of licences (an SBOM of 20,000
    components has a few dozen).
    """
    choices, unidentified = _reading(tuple(licenses))
    return [list(choice) for choice in choices], list(unidentified)


@lru_cache(maxsize=4096)
def _reading(licenses: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """``reading`` of ``licenses``, as tuples (a cached value is never handed out to be changed)."""
    found, unidentified = _read(licenses)
    return tuple(tuple(choice) for choice in found), tuple(unidentified)


def _read(licenses: tuple[str, ...]) -> tuple[list[list[str]], list[str]]:
    """``reading``, computed."""
    groups: list[list[frozenset[str]]] = []
    unidentified: list[str] = []
    everything: set[str] = set()
    overflow = False
    for value in licenses:
        entry = _entry_choices(value)
        if entry is None:
            unidentified.append(value)
            continue
        choices, ids = entry
        everything.update(ids)
        if choices:
            groups.append(list(choices))
        else:
            overflow = True
    combined = None if overflow else _and(groups)
    if combined is None:
        return [sorted(everything)], unidentified
    if not groups:
        return [], unidentified
    return sorted(sorted(c) for c in combined), unidentified


def add_unique(out: list[str], value: str | None) -> None:
    """Append ``value`` to ``out`` unless it is ``None`` or already there (order is kept)."""
    if value is not None and value not in out:
        out.append(value)


# CycloneDX hash algorithms allowed by each version of the specification (from its JSON schemas;
# XML 1.0/1.1 are read with the 1.2 list, which includes theirs).
_CDX_ALGS_1_2 = (
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
)
_CDX_ALGS_1_7 = (*_CDX_ALGS_1_2, "Streebog-256", "Streebog-512")


def cyclonedx_hash_algorithms(spec_version: str) -> frozenset[str]:
    """The hash algorithm names a CycloneDX version allows, as the specification spells them."""
    if spec_version in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"):
        return frozenset(_CDX_ALGS_1_2)
    return frozenset(_CDX_ALGS_1_7)


# SPDX 2.x checksum algorithms (2.3 adds SHA3-*, BLAKE2b-*, BLAKE3, ADLER32; 2.2 documents are
# read with the 2.3 list: a newer name in an older document is a harmless anachronism).
SPDX_HASH_ALGORITHMS = frozenset(
    {
        "SHA1",
        "SHA224",
        "SHA256",
        "SHA384",
        "SHA512",
        "SHA3-256",
        "SHA3-384",
        "SHA3-512",
        "BLAKE2b-256",
        "BLAKE2b-384",
        "BLAKE2b-512",
        "BLAKE3",
        "MD2",
        "MD4",
        "MD5",
        "MD6",
        "ADLER32",
    }
)


@cache
def hash_name(algorithm: str) -> str:
    """The normal form of a hash algorithm name from either specification (see module doc)."""
    low = algorithm.strip().lower()
    match = _SHA_DIGITS.match(low)
    if match:
        return f"sha-{match.group(1)}"
    return low


def is_hex(value: str) -> bool:
    """True when ``value`` is a non-empty string of hexadecimal digits (and nothing else)."""
    try:
        return 0 < len(bytes.fromhex(value)) * 2 == len(value)
    except ValueError:
        return False
