"""A Merkle tree over the period's population, hashed as RFC 6962 / RFC 9162 (Certificate
Transparency) hashes it, and the inclusion proof of one leaf.

* leaf hash ``MTH({d}) = SHA-256(0x00 || d)``; node hash ``SHA-256(0x01 || left || right)``;
  the empty tree's hash is ``SHA-256()`` (RFC 6962 section 2.1);
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``. Built
  level by level, this is the tree in which an odd node at the end of a level is carried up
  unchanged, which is how ``MerkleLevels`` builds it;
* an inclusion proof is the audit path of RFC 6962 section 2.1.1, checked with the algorithm of
  RFC 9162 section 2.1.3.2 (``verify_inclusion``), which needs only the leaf, its index, the tree
  size, the path and the root.

The levels are kept in a temporary file, not in memory: 32 bytes per leaf and as much again for
the levels above, so a million runs use 64 MB of disk and a bounded amount of memory.
"""

from __future__ import annotations

import binascii
import hashlib
import mmap
import os
import tempfile
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleLevels:
    """Leaf hashes appended one at a time, then the whole tree built into a temporary file."""

    def __init__(self, path: Path | None = None) -> None:
        """An empty tree backed by an anonymous temporary file, or by a new file at ``path`` (which
        another process may then read: ``built``)."""
        if path is None:
            self._file: BinaryIO = tempfile.TemporaryFile(prefix="affidavit-merkle-")  # noqa: SIM115
        else:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            self._file = os.fdopen(os.open(path, flags, 0o600), "w+b")
        self._size = 0
        self._levels: list[tuple[int, int]] = []  # (offset of the level in the file, node count)
        self._map: mmap.mmap | None = None

    @classmethod
    def built(cls, path: Path, size: int) -> MerkleLevels:
        """The tree of ``size`` leaves another ``MerkleLevels`` built into the file at ``path``, for
        reading (``block_paths``, ``proof``)."""
        tree = cls.__new__(cls)
        tree._file = path.open("rb")
        tree._size = size
        tree._levels = [(0, size)]
        offset, count = 0, size
        while count > 1:
            offset, count = offset + count * HASH_SIZE, (count + 1) // 2
            tree._levels.append((offset, count))
        if os.fstat(tree._file.fileno()).st_size != offset + count * HASH_SIZE:
            tree._file.close()
            raise ValueError("the file is not a built tree of that many leaves")
        tree._map = mmap.mmap(tree._file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        return tree

    @property
    def size(self) -> int:
        """How many leaves were added."""
        return self._size

    def add(self, leaf: bytes) -> None:
        """Append the leaf hash of the next entry (``leaf_hash(data)``)."""
        if self._levels:
            raise ValueError("the tree is already built")
        self._file.write(leaf)
        self._size += 1

    def extend(self, leaves: bytes) -> None:
        """Append many leaf hashes at once (``leaves``: their bytes, one after another)."""
        if self._levels:
            raise ValueError("the tree is already built")
        if len(leaves) % HASH_SIZE:
            raise ValueError("not a whole number of leaf hashes")
        self._file.write(leaves)
        self._size += len(leaves) // HASH_SIZE

    def leaves(self) -> bytes:
        """Every leaf hash added so far, one after another (before ``build``)."""
        if self._levels:
            raise ValueError("the tree is already built")
        self._file.flush()
        return os.pread(self._file.fileno(), self._size * HASH_SIZE, 0)

    def build(self) -> bytes:
        """Hash every level into the file after the leaves; the root (``EMPTY_ROOT`` for none)."""
        self._file.flush()
        fd = self._file.fileno()
        self._levels = [(0, self._size)]
        offset, count = 0, self._size
        end = count * HASH_SIZE
        chunk = 1 << 15  # nodes read at once (an even number: pairs never straddle two reads)
        while count > 1:
            level_start = end
            for first in range(0, count, chunk):
                n = min(chunk, count - first)
                data = os.pread(fd, n * HASH_SIZE, offset + first * HASH_SIZE)
                out = bytearray()
                for i in range(0, n - 1, 2):
                    a = i * HASH_SIZE
                    out += node_hash(data[a : a + HASH_SIZE], data[a + HASH_SIZE : a + 2 * HASH_SIZE])
                if n % 2:  # the level's odd last node is carried up unchanged
                    out += data[(n - 1) * HASH_SIZE : n * HASH_SIZE]
                os.pwrite(fd, bytes(out), end)
                end += len(out)
            offset, count = level_start, (count + 1) // 2
            self._levels.append((offset, count))
        if self._size == 0:
            return EMPTY_ROOT
        self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        return self._node(len(self._levels) - 1, 0)

    def _node(self, level: int, index: int) -> bytes:
        """The hash at ``index`` of ``level``."""
        assert self._map is not None
        offset = self._levels[level][0] + index * HASH_SIZE
        return bytes(self._map[offset : offset + HASH_SIZE])

    def proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index``: sibling hashes from the leaf's level upwards."""
        if not self._levels or not 0 <= index < self._size:
            raise IndexError("no such leaf")
        path: list[bytes] = []
        for level, (_, count) in enumerate(self._levels[:-1]):
            sibling = index ^ 1
            if sibling < count:
                path.append(self._node(level, sibling))
            index >>= 1
        return path

    def block_paths(self, start: int, block: int) -> tuple[list[bytes], list[bytes]]:
        """The leaves ``start`` to ``start + block - 1`` (fewer at the end of the tree): each one's
        leaf hash in hex, and its audit path (``proof``) as the inside of a JSON array of hex
        strings (``"h1","h2"``; empty for none), in bytes.

        ``block`` is a power of two and ``start`` a multiple of it, so the block is one subtree:
        above it every leaf of the block shares its path, read once; inside it each level's nodes
        are read in one ``pread`` and turned to hex once, and the path text of a node is built from
        its parent's (the text from a level up is shared by every leaf below it)."""
        if block <= 0 or block & (block - 1) or start % block or not self._levels or start >= self._size:
            raise IndexError("not a block of the tree's leaves")
        fd = self._file.fileno()
        top = len(self._levels) - 1
        depth = min(block.bit_length() - 1, top)
        shared: list[bytes] = []
        index = start >> depth
        for offset, count in self._levels[depth:top]:
            if index ^ 1 < count:
                shared.append(
                    b'"' + binascii.hexlify(os.pread(fd, HASH_SIZE, offset + (index ^ 1) * HASH_SIZE)) + b'"'
                )
            index >>= 1
        texts = [b",".join(shared)]
        hexed = b""
        for level in range(depth - 1, -1, -1):
            offset, count = self._levels[level]
            base = start >> level
            nodes = min(count - base, block >> level)
            hexed = binascii.hexlify(os.pread(fd, nodes * HASH_SIZE, offset + base * HASH_SIZE))
            below: list[bytes] = []
            for k in range(nodes):
                above = texts[k >> 1]
                s = k ^ 1
                if s >= nodes:  # no sibling: the node was carried up unchanged
                    below.append(above)
                elif above:
                    below.append(b'"' + hexed[s * 64 : s * 64 + 64] + b'",' + above)
                else:
                    below.append(b'"' + hexed[s * 64 : s * 64 + 64] + b'"')
            texts = below
        if depth == 0:  # a block of one leaf, or a tree of one
            hexed = binascii.hexlify(os.pread(fd, HASH_SIZE, start * HASH_SIZE))
        return [hexed[k * 64 : k * 64 + 64] for k in range(len(texts))], texts

    def close(self) -> None:
        """Remove the temporary file."""
        if self._map is not None:
            self._map.close()
        self._file.close()


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 root of ``leaves`` (leaf hashes), by the recursive definition (for tests)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: whether ``path`` proves leaf hash ``leaf`` at ``index`` in a tree
    of ``size`` leaves whose root is ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if len(p) != HASH_SIZE or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
