"""Throw mutated corpus files at the collectors: every result must be a record or an InputError.

Two kinds of mutation, seeded so that a run can be repeated:

- *shape*: one value somewhere in a JSON document replaced by a value of another type
  (``null``, a string, a number, a boolean, an empty list or object, ...);
- *bytes*: the file cut short, a few bytes overwritten, or a fragment inserted (a quote, a
  brace, a NUL, a DOCTYPE with an entity, a UTF-16 byte-order mark).

Any other exception is a crash site, printed with the file and mutation that found it.
``python tools/mutate_corpus.py [--seed N] [--per-file K]``; ``tests/collectors/test_mutations.py``
runs a small fixed sample of it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from affidavit.collectors import Artefact, CollectOptions, collect_document
from affidavit.errors import InputError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
REPLACEMENTS: tuple[Any, ...] = (None, "x", "", 7, -1, 1e308, True, [], {}, [None], {"a": None}, "sha256:zz")
FRAGMENTS = (b'"', b"{", b"]", b"\x00", b'<!DOCTYPE x [<!ENTITY a "aaaa">]>', b"\xff\xfe")


def corpus_files(max_size: int = 300_000) -> list[Path]:
    """Every file the corpus indexes, small enough to mutate many times."""
    files = [
        index.parent / entry["file"]
        for index in sorted(CORPUS.glob("*/INDEX.json"))
        for entry in json.loads(index.read_text(encoding="utf-8"))
    ]
    return [f for f in files if f.stat().st_size < max_size]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:5]):
            yield from _paths(item, (*prefix, i))


def shape_mutations(raw: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    """``count`` copies of a JSON document, each with one value replaced by another type."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return
    paths = list(_paths(doc))
    for _ in range(count):
        copy = json.loads(raw)
        path = rng.choice(paths)
        new = rng.choice(REPLACEMENTS)
        if not path:
            copy = new
        else:
            cursor = copy
            for key in path[:-1]:
                cursor = cursor[key]
            cursor[path[-1]] = new
        yield json.dumps(copy).encode()


def byte_mutations(raw: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    """``count`` damaged copies of a file: cut, overwritten or with a fragment inserted."""
    for _ in range(count):
        data = bytearray(raw)
        roll = rng.random()
        if roll < 0.4 and len(data) > 2:
            data = data[: rng.randrange(1, len(data))]
        elif roll < 0.8:
            for _ in range(rng.randint(1, 5)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data) or 1)
            data[at:at] = rng.choice(FRAGMENTS)
        yield bytes(data)


def crashes(
    seed: int, per_file: int, files: list[Path] | None = None
) -> tuple[int, dict[tuple[str, str, int], str]]:
    """Run the mutations; return how many ran and the distinct crash sites found."""
    rng = random.Random(seed)
    found: dict[tuple[str, str, int], str] = {}
    runs = 0
    options = CollectOptions(now="2026-11-20T12:00:00Z")
    for path in files if files is not None else corpus_files():
        raw = path.read_bytes()
        for data in (*shape_mutations(raw, rng, per_file), *byte_mutations(raw, rng, per_file)):
            runs += 1
            try:
                collect_document(Artefact(f"mutated/{path.name}", data), options)
            except InputError:
                continue
            except Exception as exc:  # noqa: BLE001 - finding these is the point
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = (type(exc).__name__, Path(frame.filename).name, frame.lineno or 0)
                found.setdefault(key, f"{path.name}: {str(exc)[:120]}")
    return runs, found


def main(argv: list[str] | None = None) -> int:
    """Print the crash sites; exit 1 when there is any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-file", type=int, default=20)
    args = parser.parse_args(argv)
    runs, found = crashes(args.seed, args.per_file)
    print(f"{runs} mutations, {len(found)} crash site(s)")
    for (kind, where, line), example in sorted(found.items()):
        print(f"  {kind} at {where}:{line}  e.g. {example}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
