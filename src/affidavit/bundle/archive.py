"""A bundle's ``.tar.gz``: written from the files on disk, read back as a stream.

**Writing.** The archive holds one folder, ``<run-id>/``, with every file of the bundle as a
regular-file member (no folder members: extraction makes them), in a fixed order: the files that
describe the others first (``SHA256SUMS``, then ``SHA256SUMS.sig`` and ``attestation.intoto.jsonl``
when the bundle is signed, then ``manifest.json``), then every other file by name. Members carry
fixed metadata (mode 0644, owner 0/0 with no names, time 0), the tar is POSIX pax (plain ustar
headers for the ASCII names the writer makes) and the gzip header has time 0 and no file name, so
equal bundles give byte-identical archives. Each member is copied from its file in chunks
(``write_tar_gz``): nothing is held in memory whole. The gzip level is ``GZIP_LEVEL``, chosen by
measurement (see its comment).

The one deflate stream is compressed in parallel (``_ParallelGzip``, pigz's scheme): the tar
stream is cut into blocks of ``DEFLATE_BLOCK`` bytes, each deflated by a worker thread (zlib
releases the GIL) with the 32 KiB before it as its preset dictionary, and ended on a byte boundary
by a sync flush (an empty stored block), the last one by the end of the stream. RFC 1951 allows
exactly this: the blocks joined are one valid deflate stream, read by any inflater as one, with
the CRC-32 and length of the whole in the trailer (RFC 1952). The bytes depend only on the tar
stream, the level and the block size, never on the number of threads or their timing.

**Reading** (``iter_members``, ``read_bundle_files``) is a stream with bounded memory, whatever the
archive claims: the gzip stream is inflated in chunks of at most ``CHUNK`` bytes (never one call
that may expand a small input a thousandfold), and the tar headers are parsed here, strictly,
rather than by ``tarfile``, which takes an unreadable header after the first member as the end
of the archive. Refused, with the archive's path and what is wrong (``BundleError``):

* a member that is not a regular file or a folder (links, devices, FIFOs, GNU long names and
  sparse files, global pax headers); a name that is absolute, has an empty, ``.`` or ``..`` part,
  a backslash or a control character, is outside the one top folder, or comes twice;
* a header whose checksum or number fields are wrong;
* a gzip stream cut short, a tar stream cut short (a member's data, or no end-of-archive
  blocks), a failed CRC or length check, anything but zero bytes after the end-of-archive blocks
  (at most ``MAX_TRAILING_ZEROS`` of them), and any byte after the gzip stream (a second gzip
  member included: the writer makes one).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import IO, TYPE_CHECKING

from affidavit.bundle.sign import ENVELOPE_NAME, SIGNATURE_NAME, SUMS_NAME
from affidavit.errors import BundleError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

MANIFEST_NAME = "manifest.json"
#: The files that describe the others, in the order they open an archive.
HEAD = (SUMS_NAME, SIGNATURE_NAME, ENVELOPE_NAME, MANIFEST_NAME)
#: gzip level of the archive, chosen by measurement: on the bundle of the default-size generated
#: inputs (``../shared/bench/gen_evidence.py``: 14 files, 166.3 MB), CPU seconds to write the
#: archive and its size were: level 1 0.73 s, 22.9 MB; level 3 0.80 s, 20.5 MB; level 6 1.74 s,
#: 16.5 MB; level 9 3.71 s, 16.1 MB. Level 3 is the knee: almost the time of level 1, while 6 and 9
#: cost two and five times as much for 19-21 % less (and the folder beside it is 166 MB anyway).
#: Measured again for issue 14 on the 1x gate's bundle (14 files, 146.3 MB; the least CPU time of
#: three interleaved runs each, members copied 1 MiB at a time): level 0 (tar and CRC only, no
#: compression) 0.25 s, 146.3 MB; level 1 1.04 s, 21.3 MB; level 3 1.06 s, 19.2 MB; level 6
#: 2.21 s, 15.7 MB; level 9 4.26 s, 15.4 MB. Level 3 stays: level 1 saves no measurable time and is
#: 11 % larger; level 6 doubles the cost for 18 % less.
GZIP_LEVEL = 3
#: Bytes of the tar stream deflated as one block (``_ParallelGzip``). Measured on the 1x gate's
#: bundle (146 MB): one stream 1.32 to 1.48 s, blocks of 1 MiB on two threads 0.77 s, and 0.2 %
#: smaller (each block starts from the 32 KiB before it, so little is lost at the seams).
DEFLATE_BLOCK = 1 << 20
#: Bytes read, inflated or copied at a time.
CHUNK = 1 << 20
#: How deep the folders of a bundle folder may be nested (the writer makes ``evidence/``).
MAX_DEPTH = 8
#: Zero bytes accepted after the two end-of-archive blocks (tar pads to its record size, 10 KiB).
MAX_TRAILING_ZEROS = 1 << 20

_BLOCK = 512
_REGULAR = (b"0", b"\0")
_FOLDER = b"5"
_PAX = b"x"


def archive_order(names: Iterable[str]) -> list[str]:
    """The order members are written in (see the module docstring)."""
    present = set(names)
    return [n for n in HEAD if n in present] + sorted(present - set(HEAD))


def write_tar_gz(
    out: IO[bytes], run_id: str, members: Iterable[tuple[str, int]], open_member: Callable[[str], IO[bytes]]
) -> None:
    """Write the archive of ``members`` (name, size; in ``archive_order``) to ``out``: each file is
    opened with ``open_member`` and copied in chunks. A file whose size is not the one given is a
    ``BundleError`` (the archive would not match the folder)."""
    with (
        _ParallelGzip(out, GZIP_LEVEL) as gz,
        # Members are copied CHUNK bytes at a time (tarfile's default is 16 KiB: ten thousand
        # calls into gzip for a large bundle); the output does not depend on the chunking.
        tarfile.TarFile(
            fileobj=gz,  # type: ignore[arg-type]  # write-only: tarfile's "w" mode only writes and tells
            mode="w",
            format=tarfile.PAX_FORMAT,
            copybufsize=CHUNK,
        ) as tar,
    ):
        for name, size in members:
            info = tarfile.TarInfo(f"{run_id}/{name}")
            info.size = size
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open_member(name) as handle:
                tar.addfile(info, _Exactly(handle, size, name))


# The gzip header of every archive (RFC 1952): deflate, no flags, MTIME 0, no extra flags (as
# Python's gzip module writes for a level other than 1 and 9), operating system unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00" + struct.pack("<L", 0) + b"\x00\xff"
_WINDOW = 1 << 15  # deflate's window: the most of the past a block can refer to


def _deflate(block: bytes, dictionary: bytes, level: int, last: bool) -> bytes:
    """``block`` as raw deflate data that may refer to ``dictionary`` (the bytes just before it),
    ended by a sync flush, or by the end of the stream when it is the ``last``."""
    if dictionary:
        compressor = zlib.compressobj(
            level, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, zlib.Z_DEFAULT_STRATEGY, dictionary
        )
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(block) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _ParallelGzip:
    """A write-only file that writes one gzip member to ``out``, its blocks deflated in parallel
    (see the module docstring). ``close`` (or leaving the ``with`` block without an error) writes
    the last block and the trailer; after an error nothing more is written (the caller discards
    what it staged). At most ``2 x threads`` blocks are in flight, so memory stays a few MiB."""

    def __init__(self, out: IO[bytes], level: int) -> None:
        self._out, self._level = out, level
        threads = max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="affidavit-gzip")
        self._limit = 2 * threads
        self._pending: deque[Future[bytes]] = deque()
        self._buffer = bytearray()
        self._before = b""  # the last _WINDOW bytes submitted: the next block's dictionary
        self._crc = 0
        self._size = 0
        self._closed = False
        out.write(_GZIP_HEADER)

    def write(self, data: bytes) -> int:
        """Take ``data``; every full block but the last is handed to a worker."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buffer += data
        while len(self._buffer) > DEFLATE_BLOCK:  # a full block is kept back: it may be the last
            block = bytes(self._buffer[:DEFLATE_BLOCK])
            del self._buffer[:DEFLATE_BLOCK]
            self._submit(block, last=False)
        return len(data)

    def tell(self) -> int:
        """Bytes taken so far (``tarfile`` asks where it is)."""
        return self._size

    def _submit(self, block: bytes, *, last: bool) -> None:
        self._pending.append(self._pool.submit(_deflate, block, self._before, self._level, last))
        self._before = (self._before + block)[-_WINDOW:]
        while len(self._pending) > (0 if last else self._limit):
            self._out.write(self._pending.popleft().result())

    def close(self) -> None:
        """Deflate what is left as the last block, write every block in order, then the trailer."""
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(bytes(self._buffer), last=True)
            self._out.write(struct.pack("<LL", self._crc, self._size & 0xFFFFFFFF))
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> _ParallelGzip:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._closed = True
            self._pool.shutdown(wait=True, cancel_futures=True)


def tar_gz(run_id: str, files: Mapping[str, bytes]) -> bytes:
    """The archive of ``files`` held in memory (small bundles and tests; the writer streams)."""
    out = io.BytesIO()
    order = archive_order(files)
    write_tar_gz(out, run_id, [(n, len(files[n])) for n in order], lambda n: io.BytesIO(files[n]))
    return out.getvalue()


class _Exactly:
    """A file read as ``tarfile.addfile`` reads it, refusing one that is not ``size`` bytes long."""

    def __init__(self, handle: IO[bytes], size: int, name: str) -> None:
        self._handle, self._left, self._name = handle, size, name

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes; ``BundleError`` if the file ends early or goes on past its size."""
        data = self._handle.read(min(n, self._left) if n >= 0 else self._left)
        self._left -= len(data)
        if (not data and n != 0 and self._left > 0) or (self._left == 0 and self._handle.read(1)):
            raise BundleError(f"{self._name}: changed size while the archive was being written")
        return data

    def readinto(self, buffer: memoryview) -> int:  # pragma: no cover - tarfile uses read()
        """``read`` into ``buffer``."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# ----------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True, slots=True)
class Member:
    """One file of a bundle as it is read: its name inside the bundle, its size, and its data
    (a stream that gives exactly ``size`` bytes, valid until the next member is asked for)."""

    name: str
    size: int
    data: IO[bytes] | _MemberData
    top: str | None = None  # an archive's top folder (the run id it claims); None in a folder


class _Inflate:
    """The inflated bytes of a gzip file, read in bounded chunks; refuses a cut-off stream,
    a failed check, and anything after the end of the first gzip member."""

    def __init__(self, handle: IO[bytes], where: str) -> None:
        self._handle, self._where = handle, where
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""  # input not yet given to zlib
        self._ready = bytearray()  # inflated, not yet read
        self.done = False

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or fewer only at the end of the gzip stream."""
        while len(self._ready) < n and not self.done:
            self._inflate(n - len(self._ready))
        out = bytes(self._ready[:n])
        del self._ready[:n]
        return out

    def _inflate(self, want: int) -> None:
        if not self._pending:
            self._pending = self._z.unconsumed_tail or self._handle.read(CHUNK)
            if not self._pending:
                raise BundleError(f"{self._where}: the gzip stream is cut short (truncated archive)")
        try:
            piece = self._z.decompress(self._pending, max(min(want, CHUNK), 1))
        except zlib.error:
            raise BundleError(
                f"{self._where}: the gzip stream is corrupt (a failed check or bad data)"
            ) from None
        self._pending = self._z.unconsumed_tail
        self._ready += piece
        if self._z.eof:
            self.done = True
            if self._z.unused_data or self._pending or self._handle.read(1):
                raise BundleError(
                    f"{self._where}: data follows the end of the gzip stream; an affidavit archive has none"
                )


def iter_members(path: Path) -> Iterator[Member]:
    """Every regular file of a bundle folder or ``.tar.gz``, one at a time, with bounded memory.

    Names are inside the bundle (``evidence/...``), without the archive's top folder. A folder is
    walked without following links; inside it, anything but a regular file or folder is refused
    (a link would let the bundle depend on, and a FIFO block on, something outside it). ``path``
    itself may be a link (the caller named it). Files of a folder come in name order; members of
    an archive in the archive's order.
    """
    if path.is_dir():
        yield from _iter_folder(path)
    elif path.is_file():
        yield from _iter_archive(path)
    else:
        raise BundleError(f"{path}: no such bundle folder or archive")


def _iter_folder(root: Path) -> Iterator[Member]:
    """The regular files under ``root`` in archive order, each opened without following a link."""
    names: list[str] = []
    _walk(root, "", names)
    for name in archive_order(names):
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(root / name, flags)
        except OSError as exc:
            raise BundleError(
                f"{root}: {name} cannot be read ({exc.strerror or type(exc).__name__})"
            ) from None
        with os.fdopen(fd, "rb") as handle:
            found = os.fstat(handle.fileno())
            if not stat.S_ISREG(found.st_mode):
                raise BundleError(f"{root}: {name} is not a regular file; a bundle holds only regular files")
            yield Member(name, found.st_size, handle)


def _walk(root: Path, prefix: str, names: list[str]) -> None:
    """Collect the names of the regular files under ``root/prefix``; refuse anything else (and
    folders nested deeper than ``MAX_DEPTH``: the writer makes two levels)."""
    if prefix.count("/") > MAX_DEPTH:
        raise BundleError(f"{root}: folders are nested deeper than any affidavit bundle's")
    with os.scandir(root / prefix if prefix else root) as entries:
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if entry.is_symlink():
                raise BundleError(f"{root}: {name} is a symbolic link; a bundle holds only regular files")
            if entry.is_dir(follow_symlinks=False):
                _walk(root, f"{name}/", names)
            elif entry.is_file(follow_symlinks=False):
                names.append(name)
            else:
                raise BundleError(f"{root}: {name} is not a regular file; a bundle holds only regular files")


def _iter_archive(path: Path) -> Iterator[Member]:
    """The regular-file members of a bundle ``.tar.gz`` (see the module docstring)."""
    where = str(path)
    with open(path, "rb") as handle:
        stream = _Inflate(handle, where)
        seen: set[str] = set()
        top: str | None = None
        pax: dict[str, str] = {}
        while True:
            header = _block(stream, where, "a member header")
            if header == bytes(_BLOCK):
                _end(stream, where)
                return
            kind, name, size = _header(header, where, pax)
            if kind == _PAX:
                pax = _pax_records(_exact(stream, size, where, "a pax header"), where)
                _skip(stream, _padding(size), where)
                continue
            pax = {}
            first, _, rest = name.rstrip("/").partition("/")
            if top is None:
                top = first
            if first != top:
                raise BundleError(f"{where}: archive member outside the bundle's one top folder")
            if kind == _FOLDER:
                if size:
                    raise BundleError(f"{where}: a folder member has data")
                continue
            if not rest:
                raise BundleError(f"{where}: a file member lies beside the bundle's top folder, not in it")
            if rest in seen:
                raise BundleError(f"{where}: the archive holds {rest} twice")
            seen.add(rest)
            data = _MemberData(stream, size, where)
            yield Member(rest, size, data, top)
            _skip(stream, data.left + _padding(size), where)


def _header(block: bytes, where: str, pax: dict[str, str]) -> tuple[bytes, str, int]:
    """A ustar header's type, name and size, checked (pax ``path``/``size`` records applied)."""
    stored = _octal(block[148:156], where)
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
    if stored != computed:
        raise BundleError(f"{where}: an archive header fails its checksum (corrupt or not a tar)")
    kind = block[156:157]
    if block[257:263] not in (b"ustar\x0000", b"ustar\x00"):
        raise BundleError(f"{where}: an archive header is not POSIX ustar/pax")
    if kind not in (*_REGULAR, _FOLDER, _PAX):
        what = {
            b"1": "a hard link",
            b"2": "a symbolic link",
            b"3": "a device",
            b"4": "a device",
            b"6": "a FIFO",
        }
        raise BundleError(
            f"{where}: archive member is {what.get(kind, 'not a regular file or folder')}; "
            "a bundle holds only regular files and folders"
        )
    size = _octal(block[124:136], where)
    if kind == _PAX:
        if size > 1 << 20:
            raise BundleError(f"{where}: a pax header is larger than any affidavit writes")
        return kind, "", size
    prefix = _text(block[345:500], where)
    name = _text(block[0:100], where)
    name = f"{prefix}/{name}" if prefix else name
    name = pax.get("path", name)
    if "size" in pax:
        if not pax["size"].isdigit():
            raise BundleError(f"{where}: a pax size record is not a number")
        size = int(pax["size"])
    _check_name(name.rstrip("/") if kind == _FOLDER else name, where)
    return kind, name, size


def _check_name(name: str, where: str) -> None:
    """Refuse a member name that could leave the bundle folder or confuse a reader."""
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or "\\" in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise BundleError(f"{where}: an archive member's name is outside the bundle folder or unsafe")


def _pax_records(data: bytes, where: str) -> dict[str, str]:
    """The ``length key=value\\n`` records of a pax extended header."""
    records: dict[str, str] = {}
    at = 0
    try:
        while at < len(data):
            space = data.index(b" ", at)
            length = int(data[at:space])
            record = data[space + 1 : at + length]
            if length <= 0 or not record.endswith(b"\n"):
                raise ValueError
            key, _, value = record[:-1].partition(b"=")
            records[key.decode("utf-8")] = value.decode("utf-8")
            at += length
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{where}: a pax header is malformed") from None
    unknown = set(records) - {"path", "size", "mtime", "uid", "gid", "uname", "gname", "atime", "ctime"}
    if unknown:
        raise BundleError(f"{where}: a pax header carries records affidavit never writes")
    return records


def _octal(field: bytes, where: str) -> int:
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text:
        return 0
    if not all(48 <= c <= 55 for c in text):
        raise BundleError(f"{where}: an archive header has a malformed number field")
    return int(text, 8)


def _text(field: bytes, where: str) -> str:
    try:
        return field.split(b"\0", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{where}: an archive member's name is not UTF-8") from None


def _padding(size: int) -> int:
    return -size % _BLOCK


def _block(stream: _Inflate, where: str, what: str) -> bytes:
    return _exact(stream, _BLOCK, where, what)


def _exact(stream: _Inflate, n: int, where: str, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise BundleError(f"{where}: the archive ends inside {what} (truncated archive)")
    return data


def _skip(stream: _Inflate, n: int, where: str) -> None:
    while n > 0:
        step = min(n, CHUNK)
        _exact(stream, step, where, "a member's data")
        n -= step


def _end(stream: _Inflate, where: str) -> None:
    """After the first zero block: a second one, then only zeros up to the end of the stream."""
    if stream.read(_BLOCK) != bytes(_BLOCK):
        raise BundleError(f"{where}: the archive has no proper end (two zero blocks)")
    seen = 0
    while True:
        rest = stream.read(min(CHUNK, MAX_TRAILING_ZEROS + 1 - seen))
        if not rest:
            break
        seen += len(rest)
        if rest.count(0) != len(rest) or seen > MAX_TRAILING_ZEROS:
            raise BundleError(f"{where}: data follows the end of the tar archive")
    if not stream.done:
        raise BundleError(f"{where}: the gzip stream is cut short (truncated archive)")


class _MemberData(io.RawIOBase):
    """The data of one archive member: at most ``size`` bytes of the stream."""

    def __init__(self, stream: _Inflate, size: int, where: str) -> None:
        super().__init__()
        self._stream, self.left, self._where = stream, size, where

    def readable(self) -> bool:
        """Always: a stream to read."""
        return True

    def read(self, n: int | None = -1) -> bytes:
        """Up to ``n`` bytes of the member (all that is left when ``n`` is negative)."""
        want = self.left if n is None or n < 0 else min(n, self.left)
        data = _exact(self._stream, want, self._where, "a member's data") if want else b""
        self.left -= len(data)
        return data


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of a bundle folder or archive, in memory (small bundles and tests: ``verify``
    streams)."""
    return {m.name: m.data.read() for m in iter_members(path)}
