"""JSON text, compact or indented, byte for byte what ``json.dumps`` writes, at ``orjson``'s speed.

``json.dumps`` costs about 25 ms per MB in its C encoder: on a large Terraform plan the bundle's
redacted copy alone took 1.7 s to write, more than the plan took to parse. ``orjson`` writes the
same document in a seventh of that, but not always with the same bytes, and the bytes matter: a
stored copy's sha256 is in the bundle and in ``tests/same_results.json``. So ``compact_json`` and
``indented_json`` ask ``orjson`` first and keep its text only where it is provably
``json.dumps``'s own:

* ``orjson`` refuses what ``json.dumps`` writes some other way (a key that is not a string, an
  integer past 64 bits, a lone surrogate in a string): then ``json.dumps`` writes it;
* a float may be written another way (``1e-07`` against ``1e-7``, ``1e-05`` against ``0.00001``;
  every float from 1e-4 to 1e16 is written alike): a text holding a number token in exponent form
  or starting ``0.0000`` is written by ``json.dumps`` again (a string that only looks like such a
  token costs the same, never a wrong byte; ``tests/test_jsonwrite.py`` compares both on millions
  of floats);
* ``ensure_ascii``: ``orjson`` writes text as UTF-8; each character past ASCII is then escaped as
  ``json.dumps`` escapes it (``\\u00e9``, a surrogate pair past U+FFFF), and so is DEL.

Only for values of JSON types (dict with string keys, list, tuple, str, int, float, bool, None, and
what ``default`` turns into them). NaN and the infinities are not checked: ``json.dumps`` writes
``NaN``, ``orjson`` ``null``; no caller passes one (every reader refuses them: ``artefact.load_json``,
the YAML loader, the collectors' score readers).

``finite_json`` is for a reader that takes the value, not the bytes (the policy engine's input), and
must refuse NaN and the infinities as ``json.dumps(allow_nan=False)`` does: a ``null`` where a score
was NaN would be judged as no score. ``orjson`` writes a value ``_all_finite`` proves to hold none,
and ``json.dumps`` refuses the others with its own error.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

# A number token that ``orjson`` may write otherwise than ``json.dumps`` (after ``:``, ``,``, ``[``
# or the space or line break of indented text, up to ``,``, ``]``, ``}`` or a line break): in
# exponent form, or below 1e-4 written out.
_RISKY_NUMBER = re.compile(rb"[:,\[ \n]-?(?:0\.0000[0-9]*|[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+)[,\]}\n]")
# Found by clues first: the pattern above, searched over a whole text, costs 10 ms per MB (it is tried
# at every colon and comma); each clue is a literal that ``bytes`` finds at memory speed, then a
# search from it, and the pattern is tried only in the few places a clue leads to (orjson writes an
# exponent with its sign, in lower case, after a mantissa of 20 characters at most).
_CLUES = (
    (b"e-", re.compile(rb"e-[0-9]+[,\]}\n]")),
    (b"e+", re.compile(rb"e\+[0-9]+[,\]}\n]")),
    (b"0.0000", re.compile(rb"0\.0000[0-9]*[,\]}\n]")),
)
_MANTISSA = 32
_NOT_ASCII = re.compile(r"[^\x00-\x7e]")  # json.dumps escapes DEL too
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _may_differ(written: bytes) -> bool:
    """Whether ``written`` holds a number token ``json.dumps`` may write otherwise."""
    for literal, clue in _CLUES:
        if literal in written:
            for found in clue.finditer(written):
                if _RISKY_NUMBER.search(written, max(0, found.start() - _MANTISSA), found.end()) is not None:
                    return True
    return False


def compact_json(
    value: Any,
    *,
    sort_keys: bool = False,
    ensure_ascii: bool = True,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """``json.dumps(value, separators=(",", ":"), sort_keys=..., ensure_ascii=..., default=...)``,
    the same text (see the module docstring for the values this holds for)."""
    return _text(value, sort_keys, ensure_ascii, default, indent=False)


def finite_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """JSON text, compact and ASCII, of the value ``json.dumps(value, separators=(",", ":"),
    default=default, allow_nan=False)`` writes, and the same error for a NaN or an infinity
    (``ValueError``) or a value it cannot write (``TypeError``).

    Not always the same bytes: a float may be written in another form of the same number
    (``1e-07`` for ``1e-7``), and ``orjson`` is asked first whatever the value, so this is for a
    reader of the value only. Written by ``orjson`` when ``_all_finite`` holds and it can write the
    value (about a third of ``json.dumps``'s time on a large input, checks included); by
    ``json.dumps`` otherwise."""
    if _all_finite(value):
        try:
            written = orjson.dumps(value, default=default, option=_OPTIONS)
        except TypeError:  # a key, an integer or a string it will not write: json.dumps decides
            pass
        else:
            if not written.isascii():
                written = _NOT_ASCII_UTF8.sub(_escaped_utf8, written)
            return written.decode("ascii")
    return json.dumps(value, separators=(",", ":"), default=default, allow_nan=False)


_NOT_ASCII_UTF8 = re.compile(rb"[\x80-\xff]+")


def _escaped_utf8(match: re.Match[bytes]) -> bytes:
    """A run of UTF-8 characters (of a JSON string ``orjson`` wrote) as ``\\u`` escapes."""
    return _NOT_ASCII.sub(_escape, match.group().decode("utf-8")).encode("ascii")


# A float in what ``marshal`` writes (version 4; ``_all_finite``): its type byte, ``g`` (``\xe7``
# when marked for a later reference), then the IEEE 754 double, little-endian on every machine. It
# is NaN or an infinity exactly when its 11 exponent bits are all set: the high half of its seventh
# byte and all but the sign bit of its eighth.
_NON_FINITE_FLOATS = tuple(
    re.compile(kind + rb"[\x00-\xff]{6}[\xf0-\xff][\x7f\xff]") for kind in (b"g", b"\xe7")
)
_MARSHAL_VERSION = 4


def _all_finite(value: Any) -> bool:
    """True when ``value`` is made of ``marshal``'s types alone (exact ``dict``, ``list``,
    ``tuple``, sets, ``str``, ``int``, ``float``, ``bool``, ``None``, ``bytes``: no subclass, no
    enum, no date) and holds no NaN or infinity; False when it holds one, or may, or holds another
    type (then ``json.dumps`` is asked).

    ``marshal`` writes such a value in C, in about the time ``orjson`` takes. In what it writes, a
    non-finite float's last two bytes cannot come from text: no UTF-8 sequence holds a byte from
    0xF0 up followed by 0x7F or 0xFF, and none ends on such a byte. A float written once and
    referred to again is looked at where it is written. A match that is no float (an integer's
    bytes after a ``g``) costs a call of ``json.dumps``, never a wrong answer."""
    try:
        written = marshal.dumps(value, _MARSHAL_VERSION)
    except ValueError:  # a type marshal does not write, or nested past its limit
        return False
    return not any(pattern.search(written) for pattern in _NON_FINITE_FLOATS)


def indented_json(
    value: Any,
    *,
    sort_keys: bool = False,
    ensure_ascii: bool = True,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """``json.dumps(value, indent=2, sort_keys=..., ensure_ascii=..., default=...)``, the same text
    (two spaces a level, ``","`` and ``": "``; see the module docstring)."""
    return _text(value, sort_keys, ensure_ascii, default, indent=True)


def compact_json_line(value: Any, *, sort_keys: bool = False, floats: bool | None = None) -> bytes:
    """``(compact_json(value, sort_keys=...) + "\n").encode()``, the same bytes, without the text.

    For a large document (a redacted Terraform plan): ``orjson`` writes the line break itself, and
    its bytes are returned as they are when they are ASCII, so no text of the document and no
    further copy of it is ever made (three copies at once were the gate's peak of memory).
    ``floats=False``: the caller knows ``value`` holds no float (the parse it came from met none:
    ``Artefact.json_floats``), the only values the two write otherwise, so the search of the text
    for a number written otherwise is skipped (a third of a second on a 63 MB plan).
    """
    return _compact_bytes(value, sort_keys, floats, newline=True)


def compact_json_line_pieces(
    value: Any, *, floats: bool | None = None, depth: int = 4, batch: int = 512
) -> Iterator[bytes]:
    """``compact_json_line(value, sort_keys=True, floats=...)`` in pieces whose concatenation is
    exactly its bytes (``json_pieces``): a document of tens of MB is written out a piece at a
    time and never held whole. Each piece is checked on its own, and one that ``orjson`` would
    write otherwise is written by ``json.dumps``, as the whole document would have been."""
    yield from json_pieces(
        value, lambda item: _compact_bytes(item, True, floats, newline=False), depth, batch
    )
    yield b"\n"


def json_pieces(value: Any, encode: Callable[[Any], bytes], depth: int, batch: int) -> Iterator[bytes]:
    """``encode(value)`` in pieces whose concatenation is exactly its bytes, for an ``encode`` that
    writes compact JSON with sorted keys (``","`` and ``":"``, no whitespace), as ``json.dumps``
    does.

    The outer ``depth`` levels of containers are opened here and their items given to ``encode``
    ``batch`` at a time: the same separators and sorted keys, so the same bytes. A dict is opened
    only when every key is a ``str`` (``json.dumps`` orders other keys by their own type and then
    turns them into text, so such a dict is encoded whole), and only plain dicts, lists and tuples
    are opened (anything else is encoded whole, as ``json.dumps`` treats it).
    """
    kind = type(value)
    if depth and kind is dict and len(value) > 1 and all(type(k) is str for k in value):
        keys = sorted(value)
        if len(keys) <= batch:
            opening = b"{"
            for key in keys:
                yield opening + encode(key) + b":"
                yield from json_pieces(value[key], encode, depth - 1, batch)
                opening = b","
        else:
            for start in range(0, len(keys), batch):
                text = encode({key: value[key] for key in keys[start : start + batch]})
                yield (b"," if start else b"{") + text[1:-1]
        yield b"}"
    elif depth and kind in (list, tuple) and len(value) > batch:
        for start in range(0, len(value), batch):
            text = encode(value[start : start + batch])
            yield (b"," if start else b"[") + text[1:-1]
        yield b"]"
    else:
        yield encode(value)


def _compact_bytes(value: Any, sort_keys: bool, floats: bool | None, *, newline: bool) -> bytes:
    """``compact_json(value, sort_keys=...)`` as bytes, with a line break when ``newline``."""
    option = (
        _OPTIONS | (orjson.OPT_APPEND_NEWLINE if newline else 0) | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    )
    try:
        written = orjson.dumps(value, option=option)
    except TypeError:
        written = None
    if (
        written is not None
        and written.isascii()
        and b"\x7f" not in written
        and (floats is False or not _may_differ(written))
    ):
        return written
    del written
    return (compact_json(value, sort_keys=sort_keys) + ("\n" if newline else "")).encode()


def _text(
    value: Any, sort_keys: bool, ensure_ascii: bool, default: Callable[[Any], Any] | None, *, indent: bool
) -> str:
    option = _OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0) | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        written = orjson.dumps(value, default=default, option=option)
    except TypeError:  # orjson.JSONEncodeError is one: a key, an integer or a string it will not write
        written = None
    if written is None or _may_differ(written):
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(
            value,
            indent=2 if indent else None,
            separators=separators,
            sort_keys=sort_keys,
            ensure_ascii=ensure_ascii,
            default=default,
        )
    text = written.decode("utf-8")
    if ensure_ascii and (not written.isascii() or b"\x7f" in written):
        text = _NOT_ASCII.sub(_escape, text)
    return text
