"""The bundle writer and verifier: deterministic output, and tampering is always found."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from affidavit.bundle.verify import verify_bundle
from affidavit.bundle.write import Bundle, compact_json, write_bundle
from affidavit.cli import main
from affidavit.errors import BundleError
from affidavit.model import Evidence, EvidenceKind, Outcome, Run, Subject, Tool
from tests.conftest import object_text
from tests.model.runs import sample_run

if TYPE_CHECKING:
    from collections.abc import Iterator


def _evidence(
    tmp_path: Path, name: str, raw: bytes, kind: EvidenceKind = EvidenceKind.SBOM
) -> tuple[Evidence, Path]:
    path = tmp_path / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    record = Evidence(
        id="sha256:" + hashlib.sha256(raw).hexdigest(),
        kind=kind,
        format="cyclonedx-json",
        format_version="1.5",
        tool=Tool("syft", "1.18.1"),
        subject=Subject(name="ghcr.io/acme/shop", digest="sha256:" + "a" * 64),
        source=f"in/{name}",
        collected_at="2026-11-20T12:00:00Z",
        effective_at=None,
        data={"components": []},
    )
    return record, path


SBOM = b'{"bomFormat": "CycloneDX"}'


def _results(run_id: str = "20261120T120000Z-0123456789ab", outcome: Outcome = Outcome.FAIL) -> Run:
    """The sample run, judging the one SBOM record these tests write (verify checks they agree)."""
    run = sample_run(run_id, outcome)
    judged = replace(run.inputs[0], id="sha256:" + hashlib.sha256(SBOM).hexdigest(), source="in/sbom.json")
    return replace(run, inputs=(judged,))


def _write(tmp_path: Path, out: str = "out") -> Path:
    record, path = _evidence(tmp_path, "sbom.json", SBOM)
    bundle = write_bundle(_results(), [record], {record.id: path}, tmp_path / out)
    return bundle.path


def test_bundle_has_every_file_in_its_manifest(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {"manifest.json", "SHA256SUMS"}
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert "PRODUCTION_GO_EVIDENCE.md" in on_disk and "results.json" in on_disk
    assert verify_bundle(folder).ok


def test_two_writes_are_byte_identical(tmp_path: Path) -> None:
    a = _write(tmp_path, "a")
    b = _write(tmp_path, "b")
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    assert files_a == files_b
    assert (a.parent / f"{a.name}.tar.gz").read_bytes() == (b.parent / f"{b.name}.tar.gz").read_bytes()


@pytest.mark.parametrize("target", ["results.json", "PRODUCTION_GO_EVIDENCE.md", "evidence"])
def test_changed_file_is_reported(tmp_path: Path, target: str) -> None:
    folder = _write(tmp_path)
    victim = next(
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix().startswith(target)
    )
    victim.write_bytes(victim.read_bytes() + b" ")
    report = verify_bundle(folder)
    assert not report.ok
    assert any(victim.relative_to(folder).as_posix() in p and "changed" in p for p in report.problems)


def test_added_and_removed_files_are_reported(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    (folder / "evidence" / "extra.json").write_text("{}")
    (folder / "results.json").unlink()
    problems = verify_bundle(folder).problems
    assert any("extra.json" in p and "not in the manifest" in p for p in problems)
    assert any("results.json" in p and "missing" in p for p in problems)


def test_archive_verifies_and_tampered_archive_does_not(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    archive = folder.parent / f"{folder.name}.tar.gz"
    assert verify_bundle(archive).ok
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert all(n.startswith(folder.name + "/") for n in names)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[:-40])
    with pytest.raises(BundleError, match=r"broken\.tar\.gz"):
        verify_bundle(broken)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no manifest.json"):
        verify_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(BundleError, match=r"manifest\.json: JSON ends early .* looks truncated"):
        verify_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text(
        '{"schema": "affidavit.bundle/v1", "files": ' + "{" * 3 + " " * 64 + "]}"
    )
    with pytest.raises(BundleError, match=r"manifest\.json: is not valid JSON"):
        verify_bundle(tmp_path)


def test_artefact_changed_during_run_is_refused(tmp_path: Path) -> None:
    record, path = _evidence(tmp_path, "sbom.json", b"{}")
    path.write_bytes(b"{ }")
    with pytest.raises(BundleError, match="changed while affidavit was running"):
        write_bundle(_results(), [record], {record.id: path}, tmp_path / "out")


def _forged_results(folder: Path) -> bytes:
    """results.json re-written to say GO: a tampered decision."""
    results = json.loads((folder / "results.json").read_bytes())
    assert results["decision"] == "NO-GO"
    results["decision"] = "GO"
    return json.dumps(results).encode()


def test_manifest_naming_files_twice_is_refused(tmp_path: Path) -> None:
    """A manifest whose second ``files`` table covers a forged results.json is refused (exit 3).

    Python's parser keeps the second table (and the second decision), so without the strict
    loader the forged bundle would verify; a reader keeping the first would see the honest one.
    """
    folder = _write(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    forged = _forged_results(folder)
    (folder / "results.json").write_bytes(forged)
    files = dict(
        manifest["files"],
        **{"results.json": {"sha256": hashlib.sha256(forged).hexdigest(), "size": len(forged)}},
    )
    text = object_text([*manifest.items(), ("files", files), ("decision", "GO")])
    assert json.loads(text)["files"] == files  # what the plain parser would have believed
    (folder / "manifest.json").write_text(text)
    result = CliRunner().invoke(main, ["verify", str(folder)])
    assert result.exit_code == 3, result.output
    assert str(folder / "manifest.json") in result.stderr
    assert "names the same key twice" in result.stderr
    assert "OK" not in result.stdout
    with pytest.raises(BundleError, match="manifest.json: a JSON object names the same key twice"):
        verify_bundle(folder)


def test_results_naming_decision_twice_is_reported(tmp_path: Path) -> None:
    """A results.json naming ``decision`` twice (GO, then the manifest's NO-GO) is a problem (exit 1)."""
    folder = _write(tmp_path)
    results = json.loads((folder / "results.json").read_bytes())
    text = object_text([("decision", "GO"), *results.items()]).encode()
    assert json.loads(text)["decision"] == "NO-GO"  # the plain parser keeps the manifest's value
    (folder / "results.json").write_bytes(text)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["files"]["results.json"] = {"sha256": hashlib.sha256(text).hexdigest(), "size": len(text)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["verify", str(folder)])
    assert result.exit_code == 1, result.output
    assert "TAMPERED" in result.stdout
    assert "results.json: a JSON object names the same key twice" in result.stdout


# --- placing a bundle: never over anything, never through a link, nothing left half-done --------

RUN_ID = "20261120T120000Z-0123456789ab"


def _put(tmp_path: Path, run: Run | None = None, out: str = "out") -> Bundle:
    record, path = _evidence(tmp_path, "sbom.json", SBOM)
    return write_bundle(run or _results(), [record], {record.id: path}, tmp_path / out)


def _entries(out: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry under ``out``: inode, mode and bytes (folders: no bytes), links not followed."""
    return {
        p.relative_to(out).as_posix(): (
            p.lstat().st_ino,
            p.lstat().st_mode,
            p.read_bytes() if p.is_file() and not p.is_symlink() else b"",
        )
        for p in sorted(out.rglob("*"))
    }


def test_a_new_bundle_leaves_no_temporary_and_follows_the_umask(tmp_path: Path) -> None:
    bundle = _put(tmp_path)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [RUN_ID, f"{RUN_ID}.tar.gz"]
    assert bundle.created == (out / RUN_ID, out / f"{RUN_ID}.tar.gz")
    assert not bundle.already_recorded
    mask = os.umask(0)
    os.umask(mask)
    assert (out / RUN_ID).stat().st_mode & 0o777 == 0o777 & ~mask  # not the 0700 of a temporary
    assert (out / RUN_ID / "evidence").stat().st_mode & 0o777 == 0o777 & ~mask
    assert (out / RUN_ID / "results.json").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (out / f"{RUN_ID}.tar.gz").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (out / f"{RUN_ID}.tar.gz").stat().st_nlink == 1  # the staging name is gone


def test_the_same_run_again_is_already_recorded_and_untouched(tmp_path: Path) -> None:
    _put(tmp_path)
    before = _entries(tmp_path / "out")
    again = _put(tmp_path)
    assert again.already_recorded and again.created == ()
    assert _entries(tmp_path / "out") == before


def test_the_same_run_recorded_at_another_wall_clock_time_is_already_recorded(tmp_path: Path) -> None:
    """A replay of the same inputs at the same evaluation time is the same decision: the first
    record (and its wall-clock time) stays."""
    _put(tmp_path, replace(_results(), wall_time="2026-12-01T08:00:00Z"))
    before = _entries(tmp_path / "out")
    again = _put(tmp_path, replace(_results(), wall_time="2026-12-02T09:30:00Z"))
    assert again.already_recorded and again.created == ()
    assert _entries(tmp_path / "out") == before


@pytest.mark.parametrize("missing", ["folder", "archive"])
def test_a_missing_half_of_the_same_run_is_added(tmp_path: Path, missing: str) -> None:
    first = _put(tmp_path)
    gone = first.path if missing == "folder" else first.archive
    kept = first.archive if missing == "folder" else first.path
    if missing == "folder":
        shutil.rmtree(gone)
    else:
        gone.unlink()
    kept_before = _entries(tmp_path / "out")
    again = _put(tmp_path)
    assert again.created == (gone,) and again.already_recorded
    assert verify_bundle(gone).ok
    assert {k: v for k, v in _entries(tmp_path / "out").items() if k in kept_before} == kept_before
    assert kept.exists()


def test_another_decision_under_the_run_id_is_refused_and_untouched(tmp_path: Path) -> None:
    _put(tmp_path)  # NO-GO
    before = _entries(tmp_path / "out")
    with pytest.raises(
        BundleError, match=rf"out/{RUN_ID}: already exists and holds another decision"
    ) as caught:
        _put(tmp_path, _results(RUN_ID, Outcome.PASS))  # GO, same run id
    assert "results.json says NO-GO" in caught.value.message
    assert _entries(tmp_path / "out") == before


@pytest.mark.parametrize("where", ["folder", "archive"])
def test_a_link_under_the_run_id_is_refused_and_not_followed(tmp_path: Path, where: str) -> None:
    """A link to this very run's honest record elsewhere is still refused: --out holds no links."""
    honest = _put(tmp_path, out="elsewhere")
    out = tmp_path / "out"
    out.mkdir()
    name = RUN_ID if where == "folder" else f"{RUN_ID}.tar.gz"
    (out / name).symlink_to(honest.path if where == "folder" else honest.archive)
    with pytest.raises(BundleError, match=rf"out/{name}: is a symbolic link"):
        _put(tmp_path)
    assert [p.name for p in out.iterdir()] == [name]


@pytest.mark.parametrize("where", ["folder", "archive", "fifo"])
def test_something_else_in_the_way_is_refused(tmp_path: Path, where: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if where == "folder":
        (out / RUN_ID).write_bytes(b"")  # a file where the folder goes
    elif where == "archive":
        (out / f"{RUN_ID}.tar.gz").mkdir()  # a folder where the archive goes
    else:
        os.mkfifo(out / f"{RUN_ID}.tar.gz")  # must not block the gate
    before = _entries(out)
    with pytest.raises(BundleError, match=r"is in the way and is not a bundle (folder|archive)"):
        _put(tmp_path)
    assert _entries(out) == before


def test_an_empty_folder_under_the_run_id_does_not_verify(tmp_path: Path) -> None:
    (tmp_path / "out" / RUN_ID).mkdir(parents=True)
    with pytest.raises(
        BundleError, match="already exists and does not verify as a bundle .*no manifest.json"
    ):
        _put(tmp_path)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [RUN_ID]


def test_archive_taken_by_another_decision_after_the_folder_was_placed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another decision's archive appearing between the two placements: the folder goes back out,
    so no NO-GO folder is left beside a GO archive."""
    forged = _put(tmp_path, _results(RUN_ID, Outcome.PASS), out="forged").archive.read_bytes()
    out = tmp_path / "out"
    real_rename = os.rename

    def rename_then_plant(src: str, dst: str, **kw: int) -> None:
        real_rename(src, dst, **kw)
        if not (out / f"{RUN_ID}.tar.gz").exists():
            (out / f"{RUN_ID}.tar.gz").write_bytes(forged)

    monkeypatch.setattr(os, "rename", rename_then_plant)
    with pytest.raises(BundleError, match=r"\.tar\.gz: already exists and holds another decision"):
        _put(tmp_path)
    assert sorted(p.name for p in out.iterdir()) == [f"{RUN_ID}.tar.gz"]
    assert (out / f"{RUN_ID}.tar.gz").read_bytes() == forged


def test_a_filesystem_without_hard_links_still_gets_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object, **kw: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    bundle = _put(tmp_path)
    assert bundle.created == (bundle.path, bundle.archive)
    assert verify_bundle(bundle.archive).ok
    assert bundle.archive.read_bytes() == _put(tmp_path, out="with-links").archive.read_bytes()
    assert sorted(p.name for p in bundle.archive.parent.iterdir()) == [RUN_ID, f"{RUN_ID}.tar.gz"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (errno.EIO, r"out/\S+: the bundle cannot be written there \(Input/output error\)"),
        (errno.EEXIST, rf"out/{RUN_ID}: appeared and vanished"),
    ],
)
def test_a_failed_rename_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, message: str
) -> None:
    def failing(*args: object, **kw: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(BundleError, match=message):
        _put(tmp_path)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_failure_while_staging_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("affidavit.bundle.write.write_tar_gz", disk_full)
    with pytest.raises(
        BundleError, match=r"\.affidavit-\w+\.tmp: the bundle cannot be written there \(No space"
    ):
        _put(tmp_path)
    assert list((tmp_path / "out").iterdir()) == []


def test_out_that_is_a_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"")
    with pytest.raises(BundleError, match=r"out: the bundle cannot be written there"):
        _put(tmp_path)


@pytest.mark.parametrize("run_id", ["../escape", ".hidden", "a/b", ""])
def test_a_run_id_that_is_not_a_file_name_is_refused(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(BundleError, match="the run id is not a plain file name"):
        _put(tmp_path, _results(run_id))
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("planted", ["link", "fifo"])
def test_verify_refuses_a_link_or_fifo_inside_a_bundle_folder(tmp_path: Path, planted: str) -> None:
    folder = _write(tmp_path)
    outside = tmp_path / "outside.json"
    outside.write_bytes(b"{}")
    if planted == "link":
        (folder / "evidence" / "extra.json").symlink_to(outside)
        why = "evidence/extra.json is a symbolic link"
    else:
        os.mkfifo(folder / "evidence" / "extra.json")
        why = "evidence/extra.json is not a regular file"
    with pytest.raises(BundleError, match=why):
        verify_bundle(folder)


ODD = 'a\u2028b\x00\x1f"q"\\ </script> Zürich 東京 \U0001f600'  # controls, quotes, non-ASCII
PIECEWISE = [
    {},
    [],
    "text",
    None,
    {"only": {"one": [1, 2, 3]}},
    {"b": 1, "a": {"z": [1.5, float("nan"), float("-inf"), None, True, -0.0, 1e16, 10**30]}},
    {"a": {2: "int keys", 1: "are coerced after ordering"}},
    {"a": {1.5: "float key"}, "b": {None: "null key"}, "c": {True: "bool key", False: 0}},
    list(range(2000)),
    tuple(range(7)),
    {ODD: [ODD] * 9, "k": {str(i): i for i in range(1500)}, "": ""},
    {"x": [{"k": i, "s": ODD, "t": (i, [i])} for i in range(1100)], "y": [[[], {}]] * 3},
]


@pytest.mark.parametrize("value", PIECEWISE, ids=range(len(PIECEWISE)))
@pytest.mark.parametrize("batch", [1, 2, 3, 512])
def test_a_record_written_in_pieces_is_the_compact_text(value: object, batch: int) -> None:
    """Issue 14: a record is written a batch of items at a time (never its whole text in memory),
    and the pieces joined are exactly the compact JSON of the record: sorted keys, the same
    separators, escapes and numbers, at every batch size (a batch of one opens every container),
    non-string keys left to ``json.dumps`` as a whole."""
    from affidavit.bundle.write import compact_json, record_pieces

    pieces = list(record_pieces(value, batch))
    assert b"".join(pieces) == compact_json(value)
    assert (
        compact_json(value)
        == (json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    )
    if batch == 2 and isinstance(value, dict) and "x" in value:
        assert max(len(p) for p in pieces) < len(compact_json(value)) // 100  # really in pieces


def test_a_record_that_json_cannot_write_fails_the_same_way_in_pieces() -> None:
    """Keys of mixed types cannot be ordered, a cycle cannot be written: the same error either way."""
    from affidavit.bundle.write import compact_json, record_pieces

    cyclic: dict[str, object] = {"a": 1}
    cyclic["b"] = cyclic
    for bad, error in (({"a": {1: 2, "b": 3}}, TypeError), (cyclic, ValueError), ({"s": {1, 2}}, TypeError)):
        with pytest.raises(error):
            compact_json(bad)
        with pytest.raises(error):
            b"".join(record_pieces(bad, 1))


def test_a_copy_made_by_the_collector_is_checked_without_reading_its_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: with a collector-made copy the artefact is only hashed, in chunks (never read whole
    beside its copy); the manifest says the copy is redacted exactly when its bytes differ."""
    import affidavit.bundle.write as writer

    def whole(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the file was read whole")

    record, path = _evidence(tmp_path, "sbom.json", SBOM)
    monkeypatch.setattr(writer, "read_regular_file", whole)
    monkeypatch.setattr(writer, "_HASH_CHUNK", 5)
    redacted = write_bundle(
        _results(), [record], {record.id: path}, tmp_path / "a", stored={record.id: b"{}"}
    )
    same = write_bundle(_results(), [record], {record.id: path}, tmp_path / "b", stored={record.id: SBOM})
    for bundle, stored, flag in ((redacted, b"{}", True), (same, SBOM, False)):
        (entry,) = bundle.manifest["evidence"]
        assert entry["redacted"] is flag
        assert (bundle.path / entry["raw"]).read_bytes() == stored
        assert verify_bundle(bundle.path).ok and verify_bundle(bundle.archive).ok
    path.write_bytes(SBOM.replace(b"C", b"c"))  # same size, other bytes
    with pytest.raises(BundleError, match="changed while affidavit was running"):
        write_bundle(_results(), [record], {record.id: path}, tmp_path / "c", stored={record.id: b"{}"})


@pytest.mark.parametrize("swapped", ["link", "fifo", "folder", "gone"])
def test_an_artefact_swapped_after_collection_is_not_hashed_through(tmp_path: Path, swapped: str) -> None:
    """A collector-made copy is stored only while its file is still the regular file it was: a link,
    a FIFO (never waited on), a folder or nothing in its place is refused, naming the source."""
    record, path = _evidence(tmp_path, "sbom.json", SBOM)
    real = tmp_path / "real.json"
    real.write_bytes(SBOM)
    path.unlink()
    if swapped == "link":
        path.symlink_to(real)
    elif swapped == "fifo":
        os.mkfifo(path)
    elif swapped == "folder":
        path.mkdir()
    why = {
        "link": "symbolic link",
        "fifo": "FIFO|not a regular file",
        "folder": "directory",
        "gone": "no such file",
    }
    with pytest.raises(
        BundleError, match=rf"in/sbom.json: cannot be copied into the bundle: .*({why[swapped]})"
    ):
        write_bundle(_results(), [record], {record.id: path}, tmp_path / "out", stored={record.id: b"{}"})
    assert list((tmp_path / "out").iterdir()) == []


def test_an_artefact_needing_no_masking_is_copied_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: an artefact its collector proved to need no masking (``AS_IS``) is copied from its
    file a chunk at a time (never read whole) and stored exactly as it is, not redacted; a file that
    changed since is refused and nothing is placed; one swapped for a link is not read through."""
    import affidavit.bundle.write as writer
    from affidavit.bundle.redact import AS_IS

    def whole(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the file was read whole")

    raw = b'{"bomFormat": "CycloneDX", "components": [' + b'{"name": "x"},' * 1000 + b"{}]}"
    record, path = _evidence(tmp_path, "sbom.json", raw)
    monkeypatch.setattr(writer, "read_regular_file", whole)
    monkeypatch.setattr(writer, "_HASH_CHUNK", 4096)
    run = replace(_results(), inputs=(replace(_results().inputs[0], id=record.id),))
    bundle = write_bundle(run, [record], {record.id: path}, tmp_path / "a", stored={record.id: AS_IS})
    (entry,) = bundle.manifest["evidence"]
    assert entry["redacted"] is False
    assert (bundle.path / entry["raw"]).read_bytes() == raw
    assert bundle.manifest["files"][entry["raw"]] == {"sha256": record.id[7:], "size": len(raw)}
    assert verify_bundle(bundle.path).ok and verify_bundle(bundle.archive).ok
    path.write_bytes(raw[:-2] + b"] ")  # the same size, other bytes (found after the last chunk)
    with pytest.raises(BundleError, match="in/sbom.json changed while affidavit was running"):
        write_bundle(run, [record], {record.id: path}, tmp_path / "b", stored={record.id: AS_IS})
    assert list((tmp_path / "b").iterdir()) == []
    path.unlink()
    path.symlink_to(tmp_path / "a" / bundle.path.name / entry["raw"])
    with pytest.raises(BundleError, match="in/sbom.json: cannot be copied into the bundle: .*symbolic link"):
        write_bundle(run, [record], {record.id: path}, tmp_path / "c", stored={record.id: AS_IS})


def test_a_spooled_copy_is_streamed_in_as_the_collector_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: a large collector-made copy waits in an unnamed temporary file (``SpooledCopy``),
    not in memory, while the evidence is judged; the bundle stores exactly its bytes, the artefact
    is still only hashed in chunks, a changed artefact or a copy that cannot be read back is
    refused naming the source, and nothing is placed."""
    import affidavit.bundle.write as writer
    from affidavit.spool import SpooledCopy

    def whole(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the file was read whole")

    record, path = _evidence(tmp_path, "sbom.json", SBOM)
    monkeypatch.setattr(writer, "read_regular_file", whole)
    monkeypatch.setattr(writer, "_HASH_CHUNK", 5)
    made = b'{"bomFormat":"(sensitive)"}\n' * 3000  # several read chunks
    monkeypatch.setattr("affidavit.spool.CHUNK", 4096)
    copy = SpooledCopy(made)
    assert len(copy) == len(made) and copy.read() == made and copy.read() == made
    bundle = write_bundle(_results(), [record], {record.id: path}, tmp_path / "a", stored={record.id: copy})
    (entry,) = bundle.manifest["evidence"]
    assert entry["redacted"] is True
    assert (bundle.path / entry["raw"]).read_bytes() == made
    assert bundle.manifest["files"][entry["raw"]]["sha256"] == hashlib.sha256(made).hexdigest()
    assert verify_bundle(bundle.path).ok and verify_bundle(bundle.archive).ok

    copy._file.truncate(100)  # the temporary file lost its end behind affidavit's back
    with pytest.raises(BundleError, match=r"in/sbom.json: its redacted copy could not be read back"):
        write_bundle(_results(), [record], {record.id: path}, tmp_path / "b", stored={record.id: copy})
    assert list((tmp_path / "b").iterdir()) == []
    path.write_bytes(SBOM.replace(b"C", b"c"))
    with pytest.raises(BundleError, match="in/sbom.json changed while affidavit was running"):
        write_bundle(
            _results(), [record], {record.id: path}, tmp_path / "c", stored={record.id: SpooledCopy(made)}
        )
    assert list((tmp_path / "c").iterdir()) == []
    copy.close()
    copy.close()  # twice is harmless


def test_a_large_plan_copy_waits_on_disk_not_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: from ``SPOOL_FROM`` bytes the plan's redacted copy is kept in a ``SpooledCopy``
    (an unnamed file: nothing named appears in the temporary folder), below it as bytes; the bundle
    stores the same bytes either way, and they are ``redact_plan``'s."""
    from affidavit.collectors import CollectOptions, collect_paths
    from affidavit.collectors.formats.terraform_plan import redact_plan
    from affidavit.spool import SpooledCopy
    from tests.conftest import CORPUS

    plan = CORPUS / "terraform-plan" / "opentofu-show-json-sensitive-values.json"  # values marked sensitive
    options = CollectOptions(now="2026-11-20T12:00:00Z", stored_copies=True)
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool_dir))
    monkeypatch.setattr("tempfile.tempdir", None)
    held = collect_paths([plan], options)
    (record,) = held.evidence
    assert isinstance(held.stored[record.id], bytes)
    monkeypatch.setattr("affidavit.spool.SPOOL_FROM", 1)
    spooled = collect_paths([plan], options)
    copy = spooled.stored[record.id]
    assert isinstance(copy, SpooledCopy)
    assert list(spool_dir.iterdir()) == []
    assert copy.read() == held.stored[record.id] == redact_plan(plan.read_bytes(), str(plan))


def test_a_copy_the_temporary_folder_cannot_take_stays_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: with no usable temporary folder (gone, here) a large copy is kept as bytes rather
    than failing the run, and the gate's bundle holds the same copy."""
    from affidavit.collectors import CollectOptions, collect_paths
    from affidavit.collectors.formats.terraform_plan import redact_plan
    from affidavit.spool import spooled
    from tests.conftest import CORPUS

    plan = CORPUS / "terraform-plan" / "opentofu-show-json-sensitive-values.json"
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "gone"))
    monkeypatch.setattr("affidavit.spool.SPOOL_FROM", 1)
    assert spooled(b"x" * 10) == b"x" * 10
    collection = collect_paths([plan], CollectOptions(now="2026-11-20T12:00:00Z", stored_copies=True))
    (record,) = collection.evidence
    assert collection.stored[record.id] == redact_plan(plan.read_bytes(), str(plan))


def test_a_copy_made_in_pieces_goes_to_disk_as_they_come(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the plan's redacted copy is made a piece at a time (``spool.spooled_pieces``):
    below ``SPOOL_FROM`` bytes it is joined in memory; past it, the pieces gathered so far go to
    the unnamed file and every later piece is written as it is made (never all held at once), and
    the bytes read back are the pieces joined. A temporary folder that fails part way (full) loses
    nothing: the pieces are made again and kept in memory."""
    import tempfile

    from affidavit.spool import SpooledCopy, spooled_pieces

    monkeypatch.setattr("affidavit.spool.SPOOL_FROM", 64)
    made: list[int] = []
    held_at_write: list[int] = []

    def make(count: int) -> Iterator[bytes]:
        made.clear()
        for i in range(count):
            made.append(i)
            yield b"%06d," % i

    assert spooled_pieces(lambda: make(5)) == b"".join(make(5))  # 35 bytes: in memory
    real = tempfile.TemporaryFile

    class Watched:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.inner = real(*args, **kwargs)

        def write(self, data: bytes) -> int:
            held_at_write.append(len(made))
            return self.inner.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    monkeypatch.setattr("affidavit.spool.tempfile.TemporaryFile", Watched)
    copy = spooled_pieces(lambda: make(1000))
    assert isinstance(copy, SpooledCopy)
    assert copy.read() == b"".join(make(1000)) and len(copy) == 7000
    assert held_at_write[:12] == [10] * 10 + [11, 12]  # 10 pieces make 64 bytes; then one by one
    copy.close()

    class Full(Watched):
        def write(self, data: bytes) -> int:
            if len(held_at_write) > 20:
                raise OSError(28, "No space left on device")
            return super().write(data)

    calls: list[int] = []

    def counted() -> Iterator[bytes]:
        calls.append(1)
        return make(1000)

    held_at_write.clear()
    monkeypatch.setattr("affidavit.spool.tempfile.TemporaryFile", Full)
    assert spooled_pieces(counted) == b"".join(make(1000))
    assert len(calls) == 2


def test_the_bundle_makes_the_history_blob_of_each_record_from_the_file_it_writes(tmp_path: Path) -> None:
    """Issue 14: a record is written as JSON once. The bundle's record file is the record as it
    always was, and the blob the history keeps of it, made from the same pieces, is
    ``record_blob``'s: the same hash and size, and the same canonical bytes once inflated."""
    import zlib

    from affidavit.collectors import CollectOptions, collect_paths
    from affidavit.store.record import record_blob
    from tests.conftest import CORPUS

    plans = sorted((CORPUS / "terraform-plan").glob("*.json"))[:6]
    sboms = (
        sorted((CORPUS / "sbom-cyclonedx").glob("*.json"))[:4]
        + sorted((CORPUS / "scan-trivy").glob("*.json"))[:3]
    )
    collection = collect_paths([*plans, *sboms], CollectOptions(now="2026-11-20T12:00:00Z"))
    assert len(collection.evidence) >= 8
    bundle = write_bundle(_results(), collection.evidence, collection.documents, tmp_path / "out")
    assert set(bundle.record_blobs) == {record.id for record in collection.evidence}
    for record in collection.evidence:
        made, expected = bundle.record_blobs[record.id], record_blob(record)
        assert (made.hash, made.size) == (expected.hash, expected.size)
        assert zlib.decompress(made.body) == zlib.decompress(expected.body)
        name = f"evidence/{record.id.split(':', 1)[1][:12]}.record.json"
        written = (bundle.path / name).read_bytes()
        assert written == compact_json(record.to_json())
        assert json.loads(written)["collected_at"] == "2026-11-20T12:00:00Z"


def test_a_blob_made_in_pieces_is_the_blob_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the bundle writer hands a record's canonical bytes over in pieces
    (``BlobWriter``); past ``BLOB_BATCH`` bytes they are compressed on a worker thread, batch
    after batch, with at most ``BLOB_QUEUE`` batches waiting. The blob is the one of the whole
    bytes (same hash and size, the same bytes once inflated), small or large, and a writer given
    up half way (the record's file could not be written) stops its worker."""
    import random
    import threading
    import zlib

    import affidavit.store.record as record

    monkeypatch.setattr(record, "BLOB_BATCH", 1000)
    monkeypatch.setattr(record, "BLOB_QUEUE", 2)
    rng = random.Random(14)
    for size in (0, 10, 999, 1000, 50_000):
        body = bytes(rng.choice(b'{}[]",:abc0123') for _ in range(size))
        writer = record.BlobWriter()
        at = 0
        while at < size:
            step = rng.randint(1, 700)
            writer.update(body[at : at + step])
            at += step
        blob = writer.blob()
        assert (blob.hash, blob.size) == (hashlib.sha256(body).hexdigest(), size)
        assert zlib.decompress(blob.body) == body
    workers = {t.name for t in threading.enumerate() if t.name.startswith("affidavit-blob")}
    assert not workers  # every worker stopped with its blob
    given_up = record.BlobWriter()
    given_up.update(b"x" * 5000)
    assert any(t.name.startswith("affidavit-blob") for t in threading.enumerate())
    given_up.close()
    given_up.close()
    assert not any(t.name.startswith("affidavit-blob") for t in threading.enumerate())
