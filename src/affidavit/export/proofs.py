"""The runs' inclusion proofs, packed: one JSON line per run, ``SHARD_SIZE`` runs per file.

The proof of the run at population position ``p`` is line ``p % SHARD_SIZE + 1`` of
``proofs/{p // SHARD_SIZE:06d}.jsonl``. Each line is one canonical JSON object (sorted keys, no
spaces, UTF-8), complete on its own, so one run's line can be handed over and checked without
the rest (``verify.verify_run``, or RFC 9162's algorithm by hand)::

    {"algorithm":"rfc6962-sha256","audit_path":["<hex>",...],"entry":{...the run's population
     line...},"leaf_hash":"<hex>","leaf_index":p,"period":"2026-Q3","root":"<hex>",
     "schema":"affidavit.inclusion-proof/v1","tree_size":n}

A file per run cost more than everything else the export does: creating a file is tens to
hundreds of microseconds of the system's time here, a hundred seconds or more for a million runs.
``SHARD_SIZE`` is a power of two, so a shard's runs are one subtree of the Merkle tree and their
audit paths are read and formatted together (``MerkleLevels.block_paths``).

``shards`` makes the lines from the built tree and the population lines; the export writes them
and ``verify`` makes them again from the population it re-hashed and compares, byte for byte.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from affidavit.export.merkle import MerkleLevels

PROOF_SCHEMA = "affidavit.inclusion-proof/v1"
MERKLE_ALGORITHM = "rfc6962-sha256"
#: Proofs per file (a power of two: a shard is one subtree).
SHARD_SIZE = 1024


def shard_name(index: int) -> str:
    """The file name of shard ``index`` (``000000.jsonl``)."""
    return f"{index:06d}.jsonl"


def layout(shard_size: int) -> str:
    """How ``period.json`` says where a run's proof is, for shards of ``shard_size``."""
    return f"proofs/NNNNNN.jsonl: the proof of the run at position p is line p % {shard_size} + 1 of file p // {shard_size}"


def shard_of(position: int, shard_size: int) -> tuple[str, int]:
    """The shard file holding the proof of the run at ``position``, and its line there (from 0)."""
    return shard_name(position // shard_size), position % shard_size


def shards(
    tree: MerkleLevels,
    lines: Iterator[bytes],
    period: str,
    root: bytes,
    shard_size: int = SHARD_SIZE,
    *,
    first: int = 0,
    stop: int | None = None,
) -> Iterator[tuple[str, list[bytes], list[bytes]]]:
    """Every shard in order: its file name, its proof lines (each ending in a newline) and the
    population lines they prove (``lines``: the population in order, without newlines; ``tree``
    built over them; ``shard_size`` a power of two). With ``first`` and ``stop`` (multiples of
    ``shard_size``), only the shards of the runs at those positions on and before (``lines``
    then starting at position ``first``)."""
    size = tree.size
    head = b'{"algorithm":"' + MERKLE_ALGORITHM.encode() + b'","audit_path":['
    tail = (
        ',"period":'
        + json.dumps(period, ensure_ascii=False)
        + f',"root":"{root.hex()}","schema":"{PROOF_SCHEMA}","tree_size":{size}}}\n'
    ).encode("utf-8")
    for start in range(first, size if stop is None else min(stop, size), shard_size):
        leaves, paths = tree.block_paths(start, shard_size)
        entries = [next(lines) for _ in leaves]
        out = [
            b'%s%s],"entry":%s,"leaf_hash":"%s","leaf_index":%d%s'
            % (head, path, entry, leaf, start + k, tail)
            for k, (leaf, path, entry) in enumerate(zip(leaves, paths, entries, strict=True))
        ]
        yield shard_name(start // shard_size), out, entries
