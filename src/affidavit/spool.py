"""A large stored copy kept on disk between collection and the bundle, not in memory.

A collector makes the bundle's redacted copy of a large artefact while it parses it (a Terraform
plan's copy is as large as the plan). Held as bytes, that copy sat in memory through the
evaluation, the gate's peak of memory (the engine's own copy of the input is built then). From
``SPOOL_FROM`` bytes, ``Collection`` keeps it in a ``SpooledCopy`` instead: an unnamed temporary
file (created already unlinked, so nothing is left behind however the process ends, and no other
process can open it by name), which the bundle writer streams into the bundle in chunks. The bytes
are those the collector made, so the bundle is the same.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

#: A stored copy of at least this many bytes waits on disk (smaller ones stay in memory: a file
#: costs more than it saves).
SPOOL_FROM = 4 << 20
CHUNK = 1 << 20


class SpooledCopy:
    """Bytes written once to an unnamed temporary file, read back in chunks (``chunks``) or whole
    (``read``). ``len()`` is their size. Closed, and the disk space freed, with ``close``, or when
    the object is collected."""

    __slots__ = ("_file", "_size")

    def __init__(self, data: bytes | Iterable[bytes]) -> None:
        """``data``: the bytes, or pieces of them written one after the other as they come."""
        self._file = tempfile.TemporaryFile(prefix="affidavit-copy-")
        size = 0
        try:
            for piece in (data,) if isinstance(data, bytes) else data:
                self._file.write(piece)
                size += len(piece)
            self._file.flush()
        except BaseException:
            self._file.close()
            raise
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"SpooledCopy({self._size} bytes)"

    def chunks(self) -> Iterator[bytes]:
        """The bytes from the start, ``CHUNK`` at a time; an ``OSError`` if fewer can be read than
        were written (the file was truncated behind affidavit's back)."""
        self._file.seek(0)
        left = self._size
        while left:
            chunk = self._file.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"a spooled copy of {self._size} bytes ended {left} bytes early")
            left -= len(chunk)
            yield chunk

    def read(self) -> bytes:
        """All the bytes at once."""
        return b"".join(self.chunks())

    def close(self) -> None:
        """Free the file (idempotent)."""
        self._file.close()

    def __del__(self) -> None:
        file = getattr(self, "_file", None)  # none when the temporary file could not be made
        if file is not None:
            file.close()  # closed, not left to the file object's own finaliser (which warns)


def spooled(data: bytes | SpooledCopy) -> bytes | SpooledCopy:
    """``data`` in a ``SpooledCopy`` from ``SPOOL_FROM`` bytes; kept as it is when smaller, or when
    the temporary folder cannot take it (full, read-only, missing: memory only costs more), or
    when it waits on disk already."""
    if isinstance(data, SpooledCopy) or len(data) < SPOOL_FROM:
        return data
    try:
        return SpooledCopy(data)
    except OSError:
        return data


def spooled_pieces(make: Callable[[], Iterable[bytes]]) -> bytes | SpooledCopy:
    """The concatenation of the pieces ``make()`` gives, as ``spooled`` keeps it, never held whole on
    the way to disk: the first ``SPOOL_FROM`` bytes are gathered in memory, and only once they are
    reached is a ``SpooledCopy`` made of them and of every piece still to come. When the temporary
    folder cannot take them, ``make()`` is asked again and its pieces are joined in memory."""
    pieces = iter(make())
    head: list[bytes] = []
    size = 0
    for piece in pieces:
        head.append(piece)
        size += len(piece)
        if size >= SPOOL_FROM:
            break
    else:
        return b"".join(head)
    try:
        return SpooledCopy(chain(head, pieces))
    except OSError:
        del head, pieces
    return b"".join(make())
