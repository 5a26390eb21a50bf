"""Byte-reproducible archives of a bundle, and reading a bundle back from a folder or archive."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from typing import TYPE_CHECKING

from affidavit.errors import BundleError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def tar_gz(run_id: str, files: Mapping[str, bytes]) -> bytes:
    """A reproducible tar.gz: sorted members, fixed owner and times, gzip header time 0."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(f"{run_id}/{name}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9, filename="") as gz:
        gz.write(buffer.getvalue())
    return out.getvalue()


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of a bundle folder or .tar.gz, by its name inside the bundle.

    ``path`` itself may be a link (the caller named it); inside a folder, a link or anything but a
    regular file or folder is refused: the writer never makes one, and a link would let the bundle's
    content depend on (and a FIFO block on) something outside it.
    """
    if path.is_dir():
        found: dict[str, bytes] = {}
        for p in sorted(path.rglob("*")):
            name = p.relative_to(path).as_posix()
            if p.is_symlink():
                raise BundleError(f"{path}: {name} is a symbolic link; a bundle holds only regular files")
            if p.is_file():
                found[name] = p.read_bytes()
            elif not p.is_dir():
                raise BundleError(f"{path}: {name} is not a regular file; a bundle holds only regular files")
        return found
    if path.is_file():
        try:
            out: dict[str, bytes] = {}
            # Decompress the whole stream first: a cut-off archive must fail here even when every
            # member it lists was read before the cut (tarfile alone stops at the last member).
            data = gzip.decompress(path.read_bytes())
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                for member in tar.getmembers():
                    if not member.isfile():
                        continue
                    parts = member.name.split("/", 1)
                    if len(parts) != 2 or ".." in member.name.split("/"):
                        raise BundleError(
                            f"{path}: archive member {member.name!r} is outside the bundle folder"
                        )
                    handle = tar.extractfile(member)
                    if handle is not None:
                        out[parts[1]] = handle.read()
            return out
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BundleError(f"{path}: not a readable .tar.gz bundle ({exc})") from None
    raise BundleError(f"{path}: no such bundle folder or archive")
