"""``jsonwrite.compact_json`` writes exactly what ``json.dumps`` writes: on floats of every
magnitude, every character, keys and integers orjson refuses, and every JSON file of the corpus."""

from __future__ import annotations

import datetime as dt
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from affidavit.artefact import load_json
from affidavit.errors import InputError
from affidavit.jsonwrite import compact_json, finite_json, indented_json
from tests.conftest import CORPUS


def _expected(value: Any, **options: Any) -> str:
    return json.dumps(value, separators=(",", ":"), **options)


def _floats(count: int, seed: int) -> list[float]:
    """Floats of every kind: any bit pattern, every decimal magnitude, round and integral ones."""
    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < count:
        kind = len(out) % 4
        if kind == 0:
            f = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
            if f != f or f in (float("inf"), float("-inf")):
                continue
        elif kind == 1:
            f = rng.random() * 10 ** rng.randint(-12, 25)
        elif kind == 2:
            f = round(rng.random() * 10 ** rng.randint(0, 20), rng.randint(0, 8)) * 10 ** rng.randint(-12, 3)
        else:
            f = float(rng.randint(0, 10 ** rng.randint(1, 22))) * rng.choice([1, -1, 0.5, 0.25, 0.1])
        out.append(f)
    return out


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_floats_of_every_magnitude_are_written_as_json_writes_them(ensure_ascii: bool) -> None:
    # orjson writes 1e-7 and 0.00001 where json writes 1e-07 and 1e-05: each such token is caught
    floats = _floats(200_000, seed=13)
    for start in range(0, len(floats), 1000):
        chunk = floats[start : start + 1000]
        doc = {"values": chunk, "nested": [{"x": f, "y": [f, -f]} for f in chunk[:50]]}
        assert compact_json(doc, ensure_ascii=ensure_ascii) == _expected(doc, ensure_ascii=ensure_ascii)
        indented = json.dumps(doc, indent=2, ensure_ascii=ensure_ascii)
        assert indented_json(doc, ensure_ascii=ensure_ascii) == indented
    edges = [1e-7, 1e-5, 1e-4, 9.999e-5, 1e16, 1e15, 1e22, 5e-324, 1.7976931348623157e308, -0.0, 0.0, 100.0]
    assert compact_json(edges) == _expected(edges)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_every_character_is_escaped_as_json_escapes_it(ensure_ascii: bool) -> None:
    chars = [chr(c) for c in range(0x0, 0xD800)] + [chr(c) for c in range(0xE000, 0x10000, 7)]
    chars += ["\U0001f600", "\U00010000", "\U0010ffff", "é", "\u2028", "\u2029", "\x7f"]
    text = "".join(chars)
    doc = {text[:50]: [text[i : i + 97] for i in range(0, len(text), 97)], "k\u00e9y": "\U0001f600"}
    assert compact_json(doc, ensure_ascii=ensure_ascii, sort_keys=True) == _expected(
        doc, ensure_ascii=ensure_ascii, sort_keys=True
    )


def test_what_orjson_refuses_is_written_by_json() -> None:
    for value in (
        {1: "integer keys", 2: "b"},  # json.dumps writes "1"
        {"big": 2**64, "small": -(2**63) - 1},  # past 64 bits
        {"lone": "\ud800 half of a pair"},
        [10**40, 1.5],
    ):
        assert compact_json(value, sort_keys=True) == _expected(value, sort_keys=True)
        assert compact_json(value) == _expected(value)
        assert indented_json(value) == json.dumps(value, indent=2)


def test_default_is_called_for_dates_and_sets_as_json_calls_it() -> None:
    def default(value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            return f"date:{value.isoformat()}"
        if isinstance(value, set | frozenset):
            return sorted(value)
        raise TypeError(type(value).__name__)

    doc = {
        "when": dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
        "day": dt.date(2026, 1, 2),
        "tags": {"b", "a"},
    }
    assert compact_json(doc, default=default, sort_keys=True) == _expected(
        doc, default=default, sort_keys=True
    )
    assert compact_json(doc, default=default).startswith('{"when":"date:2026-11-20T12:00:00+00:00"')
    with pytest.raises(TypeError):
        compact_json({"x": object()}, default=default)


def test_a_string_that_looks_like_a_number_costs_a_fallback_not_a_wrong_byte() -> None:
    doc = {"a": "x,1e5,y", "b": ",0.00001]", "c": 0.5, "d": [], "e": {}, "f": [{}]}
    assert compact_json(doc) == _expected(doc)
    assert indented_json(doc) == json.dumps(doc, indent=2)


def _corpus_json() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.json") if p.is_file() and p.stat().st_size < 8_000_000)


def test_every_json_file_of_the_corpus_is_written_as_json_writes_it() -> None:
    checked = 0
    for path in _corpus_json():
        try:
            value = load_json(path.read_bytes(), path.name)
        except InputError:
            continue  # a file the corpus keeps to be refused
        for ensure_ascii in (True, False):
            assert compact_json(value, sort_keys=True, ensure_ascii=ensure_ascii) == _expected(
                value, sort_keys=True, ensure_ascii=ensure_ascii
            ), path
            assert indented_json(value, sort_keys=True, ensure_ascii=ensure_ascii) == json.dumps(
                value, indent=2, sort_keys=True, ensure_ascii=ensure_ascii
            ), path
        checked += 1
    assert checked > 100


def test_the_line_of_bytes_is_the_compact_text_encoded_with_a_line_break() -> None:
    """Issue 14: ``compact_json_line`` (the redacted plan's copy, written without a text of it) is
    byte for byte ``compact_json`` plus a line break, encoded: on every JSON file of the corpus,
    and on what takes ``json.dumps``'s own path (a risky float, a key that is not a string, an
    integer past 64 bits, text past ASCII, DEL)."""
    from affidavit.jsonwrite import compact_json_line

    values: list[Any] = []
    for path in _corpus_json():
        try:
            values.append(load_json(path.read_bytes(), path.name))
        except InputError:
            continue  # a file the corpus keeps to be refused
    assert len(values) > 100
    values += [
        {"f": 1e-07, "g": [0.00001, 1e16, 1e22]},
        {1: "a", "b": None},
        {"big": 2**70, "neg": -(2**64)},
        {"text": "é😀\x7f", "z": "\u2028"},
        [],
        "plain",
    ]
    for value in values:
        for sort_keys in (True, False):
            if sort_keys and isinstance(value, dict) and not all(isinstance(k, str) for k in value):
                continue  # json.dumps cannot sort keys of mixed types either
            line = compact_json_line(value, sort_keys=sort_keys)
            assert line == (compact_json(value, sort_keys=sort_keys) + "\n").encode()
            assert line.endswith(b"\n") and line.isascii()


def _line_values() -> list[Any]:
    """Every JSON file of the corpus the reader accepts, and values that take ``json.dumps``'s own
    path in one place only, deep inside (a risky float, an integer past 64 bits, text past ASCII,
    DEL, a line separator), so that one piece falls back and its neighbours do not."""
    values: list[Any] = []
    for path in _corpus_json():
        try:
            values.append(load_json(path.read_bytes(), path.name))
        except InputError:
            continue
    assert len(values) > 100
    plain = [{"address": f"aws_s3_bucket.b{i}", "after": {"acl": "private", "n": i}} for i in range(40)]
    for odd in (1e-07, 2**70, "é😀", "\x7f", "\u2028", 1e22):
        items = [dict(item) for item in plain]
        items[17]["after"] = {"odd": odd, "tags": {"z": 1, "a": [odd, odd]}}
        values.append({"resource_changes": items, "format_version": "1.2", "b": {"x": [1, 2, 3]}})
    return values + [[], {}, {"one": [1]}, "plain", None, list(range(100))]


@pytest.mark.parametrize(("depth", "batch"), [(4, 512), (4, 1), (1, 3), (0, 5), (8, 2)])
def test_the_line_in_pieces_is_the_line(depth: int, batch: int) -> None:
    """Issue 14: the redacted plan's copy is written a piece at a time into its spool file
    (``compact_json_line_pieces``): the pieces joined are byte for byte ``compact_json_line`` with
    sorted keys, on every corpus JSON file and where one piece alone must be written by
    ``json.dumps`` (whatever the depth opened and the items per piece), with and without the
    promise that no float is held."""
    from affidavit.jsonwrite import compact_json_line, compact_json_line_pieces

    split = 0
    for value in _line_values():
        floats_held = [None] if "1e-07" in repr(value) or "1e+22" in repr(value) else [None, False]
        for floats in floats_held:
            pieces = list(compact_json_line_pieces(value, floats=floats, depth=depth, batch=batch))
            assert b"".join(pieces) == compact_json_line(value, sort_keys=True, floats=floats)
            assert all(isinstance(piece, bytes) and piece for piece in pieces)
            split += len(pieces) > 2
    assert split > 50 if depth else split == 0  # the containers were opened, not written whole


def test_a_value_json_cannot_write_fails_the_same_way_in_pieces() -> None:
    """A value neither writer takes (an object that is not JSON) raises the error ``json.dumps``
    raises, whether it is written whole or in pieces; nothing is written for it silently."""
    from affidavit.jsonwrite import compact_json_line, compact_json_line_pieces

    bad = {"a": [1, 2, {"b": object()}], "c": 1}
    with pytest.raises(TypeError):
        compact_json_line(bad, sort_keys=True)
    with pytest.raises(TypeError):
        b"".join(compact_json_line_pieces(bad, depth=4, batch=1))


# ---------------------------------------------------------------------------------------------
# finite_json: the value json.dumps(allow_nan=False) writes, or its error, for the policy engine


def _non_finite() -> list[float]:
    """Every kind of double with all exponent bits set: both infinities, quiet and signalling NaNs,
    with either sign and with payloads in the low, middle and high bits of the mantissa."""
    bits = [
        sign | (0x7FF << 52) | mantissa
        for sign in (0, 1 << 63)
        for mantissa in (1, 0xFF, 0xFF00, 1 << 40, (1 << 51) - 1, 1 << 51, (1 << 52) - 1)
    ]
    return [float("inf"), float("-inf"), float("nan"), -float("nan")] + [
        struct.unpack("<d", struct.pack("<Q", pattern))[0] for pattern in bits
    ]


@pytest.mark.parametrize("bad", _non_finite(), ids=lambda f: struct.pack("<d", f).hex())
def test_finite_json_refuses_every_nan_and_infinity_as_json_does(bad: float) -> None:
    rng = random.Random(struct.pack("<d", bad))
    filler: list[Any] = [-1, 0xFFFF, -(2**40), "g" * 7, "\U0010ffff\x7f", 255.0, 1e308, -0.0, True, None]
    places = [
        bad,
        [bad],
        {"score": bad},
        {"a": [1, {"b": (2, bad)}]},
        {"g": frozenset({1, bad})},
        [bad, bad, {"again": bad}],  # one object written once and then referred to
        [*filler, bad, *filler],
    ]
    for value in places:
        with pytest.raises(ValueError) as expected:
            json.dumps(value, separators=(",", ":"), allow_nan=False, default=sorted)
        with pytest.raises(ValueError) as got:
            finite_json(value, default=sorted)
        assert str(got.value) == str(expected.value)
    # buried in a large record among many finite floats, ints and strings
    big = [
        {"n": rng.random() * 10 ** rng.randint(-8, 300), "i": rng.randint(-(2**62), 2**62)}
        for _ in range(2000)
    ]
    big.insert(rng.randrange(len(big)), {"n": bad})
    with pytest.raises(ValueError, match="not JSON compliant"):
        finite_json({"evidence": big})


def test_finite_json_writes_the_value_json_writes() -> None:
    rng = random.Random(7)
    floats = _floats(4000, 11)

    def tree(depth: int) -> Any:
        kind = rng.randrange(8 if depth else 5)
        if kind == 0:
            return rng.choice(floats)
        if kind == 1:
            return rng.randint(-(2**63), 2**63 - 1)
        if kind == 2:
            return "".join(
                chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x80, 0x2FFFF)))) for _ in range(5)
            )
        if kind == 3:
            return rng.choice((True, False, None))
        if kind == 4:
            return ""
        if kind == 5:
            return [tree(depth - 1) for _ in range(rng.randrange(4))]
        if kind == 6:
            return tuple(tree(depth - 1) for _ in range(rng.randrange(3)))
        return {f"k{rng.randrange(50)}\u00e9": tree(depth - 1) for _ in range(rng.randrange(4))}

    for _ in range(300):
        value = tree(5)
        text = finite_json(value)
        assert text.isascii()
        assert json.loads(text) == json.loads(json.dumps(value, separators=(",", ":"), allow_nan=False))


def test_finite_json_leaves_to_json_what_orjson_writes_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    def default(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, set | frozenset):
            return sorted(value, key=str)
        raise TypeError(f"{type(value).__name__} is not JSON")

    for value in (
        {1: "integer keys"},
        {"big": 2**64},
        {"lone": "\ud800"},
        {"when": dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), "tags": {"b", "a"}},
    ):
        assert finite_json(value, default=default) == _expected(value, default=default, allow_nan=False)
    for refused in ({"x": object()}, {"raw": b"bytes"}):
        with pytest.raises(TypeError):
            finite_json(refused, default=default)
    # a plain value is written by orjson alone: json.dumps is not asked
    plain = {
        "records": [{"id": n, "name": f"pkg-{n}", "score": n / 7, "tags": ["a", "b"]} for n in range(3000)]
    }
    expected = _expected(plain)

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("json.dumps was asked")

    monkeypatch.setattr(json, "dumps", refuse)
    assert json.loads(finite_json(plain)) == json.loads(expected)
