"""The bundle archive: read as a stream in bounded memory, and refused unless it is a plain tree of
regular files in one gzip stream, whole, with nothing after it.

Formats: gzip (RFC 1952: one member; CRC-32 and ISIZE trailer), POSIX ustar/pax tar (POSIX.1-2008
``pax``; the end of an archive is two 512-byte zero blocks, padded to the record size), as
Python's ``tarfile`` and GNU tar write them. Hostile archives are built with the same ``tarfile``
an attacker would use (symbolic and hard links, devices, FIFOs, ``..`` names, GNU headers) or
block by block for what ``tarfile`` would not write (a cut stream, trailing data, a bomb).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from affidavit.bundle.archive import read_bundle_files, tar_gz
from affidavit.bundle.verify import verify_bundle
from affidavit.errors import BundleError
from tests.bundle.support import RUN_ID, write
from tests.conftest import REPO

ZEROS = bytes(1 << 20)


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512)


def _bomb(path: Path, size: int, *, tar: bool = True) -> None:
    """A gzip file that inflates to ``size`` zero bytes (plus, with ``tar``, a bundle manifest and
    one member header declaring those bytes), written in a fraction of a second.

    The zeros are compressed one MiB at a time with a full flush, so each MiB compresses to the
    same bytes (deflate keeps no history across a full flush, RFC 1951 / zlib's Z_FULL_FLUSH),
    and that block is repeated. The trailer's CRC covers only what zlib saw, so the stream is
    refused at its very end if the reader gets that far.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b""
    if tar:
        manifest = {
            "schema": "affidavit.manifest/v2",
            "run_id": RUN_ID,
            "decision": "GO",
            "evidence": [],
            "files": {"evidence/bomb.json": {"sha256": "0" * 64, "size": size}},
        }
        head = _member(f"{RUN_ID}/manifest.json", json.dumps(manifest).encode())
        info = tarfile.TarInfo(f"{RUN_ID}/evidence/bomb.json")
        info.size = size
        head += info.tobuf(tarfile.PAX_FORMAT)
    with path.open("wb") as out:
        out.write(compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH))
        block = compressor.compress(ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
        again = compressor.compress(ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
        assert block == again
        for _ in range(size // len(ZEROS)):
            out.write(block)
        out.write(compressor.compress(bytes(1024)) + compressor.flush())


# Peak memory of the verifying process alone: VmHWM of /proc/self/status belongs to this process
# image (getrusage's ru_maxrss would carry the forking test runner's peak across exec).
_MEASURE = """
import sys
from pathlib import Path
from affidavit.bundle.verify import verify_bundle
from affidavit.errors import BundleError
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
before = peak()
try:
    report = verify_bundle(Path(sys.argv[1]))
    said = "report: " + "; ".join(report.problems)
except BundleError as exc:
    said = "refused: " + exc.message
after = peak()
print(before, after)
print(said)
"""


def _measured(path: Path) -> tuple[int, int, str]:
    """Verify ``path`` in a fresh process: peak RSS (KiB) before and after, and what it said."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    sizes, said = done.stdout.splitlines()
    before, after = (int(n) for n in sizes.split())
    return before, after, said


def test_a_10_gib_gzip_bomb_is_refused_in_constant_memory(tmp_path: Path) -> None:
    """10 GiB of zeros declared as one bundle file (a 10 MB .tar.gz): refused at its header,
    before a byte of it is inflated, since no affidavit bundle lists that much."""
    bomb = tmp_path / "bomb.tar.gz"
    _bomb(bomb, 10 << 30)
    assert bomb.stat().st_size < 16 << 20
    before, after, said = _measured(bomb)
    assert said.startswith("refused: ") and "affidavit verifies bundles of at most" in said
    assert after < 64 * 1024, after  # KiB: a few tens of MiB in all
    assert after - before < 8 * 1024


def test_a_10_gib_gzip_of_zeros_is_refused_after_a_mebibyte(tmp_path: Path) -> None:
    """The same 10 GiB with no tar structure: the first block is the end-of-archive mark, and
    zeros after it are accepted only up to the padding a tar writer adds."""
    bomb = tmp_path / "zeros.tar.gz"
    _bomb(bomb, 10 << 30, tar=False)
    before, after, said = _measured(bomb)
    assert said.startswith("refused: ") and "data follows the end of the tar archive" in said
    assert after < 64 * 1024 and after - before < 8 * 1024


@pytest.mark.slow
def test_a_bomb_within_the_bound_is_streamed_in_flat_memory(tmp_path: Path) -> None:
    """1 GiB of zeros a manifest lists as a file (the most a forged, unsigned bundle can make
    verify read is the bound, 8 GiB): inflated and hashed in chunks, peak memory flat."""
    bomb = tmp_path / "bomb.tar.gz"
    _bomb(bomb, 1 << 30)
    before, after, said = _measured(bomb)
    assert said.startswith("refused: ")  # the trailer's CRC, at the very end: every byte was read
    assert "gzip stream is corrupt" in said
    assert after - before < 16 * 1024, (before, after)


# --- structure -----------------------------------------------------------------------------------


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def _tar(add: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in add:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _file(name: str, data: bytes = b"{}") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (_special(f"{RUN_ID}/results.json", tarfile.SYMTYPE, "/etc/passwd"), "a symbolic link"),
        (_special(f"{RUN_ID}/results.json", tarfile.LNKTYPE, f"{RUN_ID}/manifest.json"), "a hard link"),
        (_special(f"{RUN_ID}/dev", tarfile.CHRTYPE), "a device"),
        (_special(f"{RUN_ID}/pipe", tarfile.FIFOTYPE), "a FIFO"),
        (_file(f"{RUN_ID}/../escape.json"), "outside the bundle folder or unsafe"),
        (_file("/abs/results.json"), "outside the bundle folder or unsafe"),
        (_file("other-run/results.json"), "outside the bundle's one top folder"),
        (_file(f"{RUN_ID}/ev\\il.json"), "outside the bundle folder or unsafe"),
    ],
)
def test_only_regular_files_and_folders_inside_one_folder_are_read(
    tmp_path: Path, entry: tuple[tarfile.TarInfo, bytes | None], why: str
) -> None:
    path = tmp_path / "hostile.tar.gz"
    path.write_bytes(_gz(_tar([_file(f"{RUN_ID}/manifest.json"), entry])))
    with pytest.raises(BundleError, match=why):
        read_bundle_files(path)


def test_a_member_twice_and_gnu_headers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.tar.gz"
    path.write_bytes(_gz(_tar([_file(f"{RUN_ID}/results.json"), _file(f"{RUN_ID}/results.json", b"[]")])))
    with pytest.raises(BundleError, match="holds results.json twice"):
        read_bundle_files(path)
    path.write_bytes(_gz(_tar([_file(f"{RUN_ID}/results.json")], fmt=tarfile.GNU_FORMAT)))
    with pytest.raises(BundleError, match="not POSIX ustar/pax"):
        read_bundle_files(path)


def test_a_header_with_a_wrong_checksum_is_refused(tmp_path: Path) -> None:
    raw = bytearray(_tar([_file(f"{RUN_ID}/results.json")]))
    raw[0] ^= 0x20  # the name changes, the stored checksum does not
    path = tmp_path / "sum.tar.gz"
    path.write_bytes(_gz(bytes(raw)))
    with pytest.raises(BundleError, match="fails its checksum"):
        read_bundle_files(path)


@pytest.fixture
def archive(tmp_path: Path) -> bytes:
    """The archive of an honest bundle, as written."""
    return write(tmp_path).archive.read_bytes()


@pytest.mark.parametrize("cut", [1, 9, 100, 2000])
def test_a_truncated_archive_is_refused(tmp_path: Path, archive: bytes, cut: int) -> None:
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(archive[:-cut])
    with pytest.raises(BundleError, match=r"cut short|corrupt|ends inside"):
        verify_bundle(path)


@pytest.mark.parametrize(
    "tail",
    [b"\0", b"garbage after the stream", gzip.compress(b"a second gzip member", mtime=0)],
)
def test_anything_after_the_gzip_stream_is_refused(tmp_path: Path, archive: bytes, tail: bytes) -> None:
    path = tmp_path / "tail.tar.gz"
    path.write_bytes(archive + tail)
    with pytest.raises(BundleError, match="data follows the end of the gzip stream"):
        verify_bundle(path)


def test_data_after_the_end_of_the_tar_inside_the_gzip_is_refused(tmp_path: Path, archive: bytes) -> None:
    """A member hidden after the end-of-archive blocks (``tarfile`` and GNU tar stop reading there,
    so a second reader could see a file the first did not)."""
    raw = gzip.decompress(archive)
    path = tmp_path / "hidden.tar.gz"
    path.write_bytes(_gz(raw + _member(f"{RUN_ID}/results.json", b"{}")))
    with pytest.raises(BundleError, match="data follows the end of the tar archive"):
        verify_bundle(path)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        last = tar.getmembers()[-1]
    end = last.offset_data + last.size + (-last.size % 512)
    assert raw[end:] == bytes(len(raw) - end)
    # a block that is not a header where the end-of-archive mark should be: tarfile reads it as
    # the end of the archive; here it is refused
    path.write_bytes(_gz(raw[:end] + b"x" * 512 + bytes(1024)))
    with pytest.raises(BundleError, match="fails its checksum|malformed number field"):
        verify_bundle(path)


def test_an_unlisted_or_resized_member_stops_the_reading(tmp_path: Path) -> None:
    bundle = write(tmp_path)
    files = read_bundle_files(bundle.path)
    path = tmp_path / "extra.tar.gz"
    path.write_bytes(tar_gz(RUN_ID, {**files, "evidence/zzz.json": b"{}"}))
    with pytest.raises(BundleError, match="zzz.json: present but not in the manifest"):
        verify_bundle(path)
    path.write_bytes(tar_gz(RUN_ID, {**files, "results.json": files["results.json"] + b" "}))
    with pytest.raises(BundleError, match="results.json: is .* bytes, the manifest says"):
        verify_bundle(path)


def test_the_archive_is_what_gnu_tar_reads_and_opens_with_the_describing_files(tmp_path: Path) -> None:
    bundle = write(tmp_path)
    listing = subprocess.run(["tar", "tzf", str(bundle.archive)], capture_output=True, text=True, check=True)
    names = listing.stdout.split()
    assert names[:2] == [f"{RUN_ID}/SHA256SUMS", f"{RUN_ID}/manifest.json"]
    assert sorted(names[2:]) == names[2:]
    extracted = tmp_path / "x"
    extracted.mkdir()
    subprocess.run(["tar", "xzf", str(bundle.archive), "-C", str(extracted)], check=True)
    assert read_bundle_files(extracted / RUN_ID) == read_bundle_files(bundle.path)
    with gzip.open(bundle.archive) as gz:
        assert gz.read(1)  # a valid gzip stream
    header = bundle.archive.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # MTIME 0: reproducible


def test_a_folder_nested_past_any_bundle_is_refused(tmp_path: Path) -> None:
    bundle = write(tmp_path)
    deep = bundle.path.joinpath(*["d"] * 12)
    deep.mkdir(parents=True)
    with pytest.raises(BundleError, match="nested deeper than any affidavit bundle"):
        verify_bundle(bundle.path)


def test_a_bundle_packed_again_by_another_tool_is_refused_with_the_reason(tmp_path: Path) -> None:
    """GNU tar packs in directory order: the manifest is not first, so the archive cannot be read
    with bounded cost; the folder it came from still verifies."""
    bundle = write(tmp_path)
    repacked = tmp_path / "repacked.tar.gz"
    names = sorted(
        p.relative_to(bundle.path.parent).as_posix() for p in bundle.path.rglob("*") if p.is_file()
    )
    pax = ["tar", "--format=pax", "-czf", str(repacked), "-C", str(bundle.path.parent)]
    subprocess.run([*pax, *names], check=True)
    with pytest.raises(BundleError, match="does not open with SHA256SUMS and manifest.json"):
        verify_bundle(repacked)
    assert verify_bundle(bundle.path).ok


def test_the_archive_does_not_depend_on_the_copy_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members are copied ``CHUNK`` bytes at a time; the archive's bytes are the same for any chunk
    (so the chunk can be tuned without changing a byte-reproducible bundle)."""
    import random

    import affidavit.bundle.archive as archive

    rng = random.Random(14)
    files = {
        "manifest.json": b"{}\n",
        "evidence/a.json": bytes(rng.getrandbits(8) for _ in range(300_000)),
        "evidence/b.json": b'{"k": "v"}' * 100_000,
    }
    default = tar_gz(RUN_ID, files)
    for chunk in (1, 4096, 1 << 16):
        monkeypatch.setattr(archive, "CHUNK", chunk)
        assert tar_gz(RUN_ID, files) == default
    assert read_bundle_files_from(default) == files


def read_bundle_files_from(data: bytes) -> dict[str, bytes]:
    """The member files of an archive held in memory."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name.split("/", 1)[1]] = handle.read()
        return out


def _deflate_files() -> dict[str, bytes]:
    import random

    rng = random.Random(1952)
    return {
        "manifest.json": b"{}\n",
        "evidence/random.bin": bytes(rng.getrandbits(8) for _ in range(200_000)),
        "evidence/repetitive.json": b'{"k": "v", "n": 1}' * 40_000,
        "evidence/empty.json": b"",
    }


def test_the_parallel_deflate_is_one_gzip_member_any_reader_takes(tmp_path: Path) -> None:
    """RFC 1952: one member whose trailer holds the CRC-32 and length of the whole; gzip(1) tests
    it, Python's gzip checks both, and a raw inflater ends exactly at the trailer."""
    files = _deflate_files()
    archive = tar_gz(RUN_ID, files)
    assert read_bundle_files_from(archive) == files
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    stream = inflater.decompress(archive)
    assert inflater.eof and inflater.unused_data == b""
    assert stream == gzip.decompress(archive)
    path = tmp_path / "a.tar.gz"
    path.write_bytes(archive)
    subprocess.run(["gzip", "-t", str(path)], check=True)
    assert archive[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # MTIME 0, no name


@pytest.mark.parametrize("block", [512, 1000, 4096, 65536])
def test_the_deflate_blocks_change_no_byte_of_the_tar_stream(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Blocks of any size, including a size every tar record is a multiple of (the last block is
    then empty), inflate to the very same tar stream as one block does."""
    import affidavit.bundle.archive as archive

    files = _deflate_files()
    monkeypatch.setattr(archive, "DEFLATE_BLOCK", 1 << 30)  # one block: a plain deflate stream
    whole = gzip.decompress(tar_gz(RUN_ID, files))
    monkeypatch.setattr(archive, "DEFLATE_BLOCK", block)
    split = tar_gz(RUN_ID, files)
    assert gzip.decompress(split) == whole
    assert read_bundle_files_from(split) == files


def test_the_archive_does_not_depend_on_the_number_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import affidavit.bundle.archive as archive

    files = _deflate_files()
    monkeypatch.setattr(archive, "DEFLATE_BLOCK", 4096)
    made = set()
    for cpus in (1, 2, 4, 16):
        monkeypatch.setattr(archive.os, "cpu_count", lambda cpus=cpus: cpus)
        made.add(tar_gz(RUN_ID, files))
    assert len(made) == 1


def test_a_failed_member_leaves_no_trailer(monkeypatch: pytest.MonkeyPatch) -> None:
    """After an error the writer writes nothing more: what it staged is not a whole gzip file."""
    import affidavit.bundle.archive as archive

    monkeypatch.setattr(archive, "DEFLATE_BLOCK", 4096)
    out = io.BytesIO()
    files = _deflate_files()
    with pytest.raises(BundleError, match="changed size"):
        archive.write_tar_gz(
            out,
            RUN_ID,
            [("evidence/random.bin", len(files["evidence/random.bin"]) - 1)],
            lambda n: io.BytesIO(files[n]),
        )
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(out.getvalue())
