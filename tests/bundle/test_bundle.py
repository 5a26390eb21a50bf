"""The bundle writer and verifier: deterministic output, and tampering is always found."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.bundle.verify import verify_bundle
from affidavit.bundle.write import write_bundle
from affidavit.cli import main
from affidavit.errors import BundleError
from affidavit.model import Evidence, EvidenceKind, Run, Subject, Tool
from tests.conftest import object_text
from tests.model.runs import sample_run


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


def _results(run_id: str = "20261120T120000Z-0123456789ab") -> Run:
    return sample_run(run_id)


def _write(tmp_path: Path, out: str = "out") -> Path:
    record, path = _evidence(tmp_path, "sbom.json", b'{"bomFormat": "CycloneDX"}')
    bundle = write_bundle(_results(), [record], {record.id: path}, tmp_path / out)
    return bundle.path


def test_bundle_has_every_file_in_its_manifest(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
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
    files = dict(manifest["files"], **{"results.json": hashlib.sha256(forged).hexdigest()})
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
    manifest["files"]["results.json"] = hashlib.sha256(text).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["verify", str(folder)])
    assert result.exit_code == 1, result.output
    assert "TAMPERED" in result.stdout
    assert "results.json: a JSON object names the same key twice" in result.stdout
