"""The audit evidence bundle: write it, and prove later that nothing in it changed.

Layout of ``<out>/<run-id>/``::

    PRODUCTION_GO_EVIDENCE.md     the human report
    results.json                  the decision (affidavit.results/v1)
    evidence/<sha12>-<name>       each raw artefact as read (secret values redacted)
    evidence/<sha12>.record.json  its normalised evidence record
    manifest.json                 sha256 of every file above

and ``<out>/<run-id>.tar.gz`` beside it. Everything is written with sorted keys, fixed file
order and fixed archive metadata, so equal inputs give byte-identical bundles.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.bundle.redact import redacted_copy
from affidavit.errors import BundleError

if TYPE_CHECKING:
    from affidavit.model import Evidence

MANIFEST_SCHEMA = "affidavit.manifest/v1"
REPORT_NAME = "PRODUCTION_GO_EVIDENCE.md"


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass(slots=True)
class Bundle:
    """A written bundle: its folder, archive and manifest."""

    path: Path
    archive: Path
    manifest: dict[str, Any]


def write_bundle(
    results: Mapping[str, Any],
    evidence: Sequence[Evidence],
    sources: Mapping[str, Path],
    out_dir: Path,
    report_markdown: str,
) -> Bundle:
    """Write the bundle for one run into ``out_dir/<run-id>/`` and its ``.tar.gz``."""
    run_id = str(results["run_id"])
    files: dict[str, bytes] = {}
    inventory: list[dict[str, Any]] = []
    for record in evidence:
        short = record.id.split(":", 1)[1][:12]
        source_path = sources.get(record.id)
        name = _safe_name(source_path.name if source_path else "artefact")
        entry: dict[str, Any] = {"id": record.id, "kind": record.kind.value, "source": record.source}
        if source_path is not None:
            raw = source_path.read_bytes()
            if hashlib.sha256(raw).hexdigest() != record.id.split(":", 1)[1]:
                raise BundleError(
                    f"{record.source} changed while affidavit was running (its hash no longer matches)",
                    hint="re-run the gate on artefacts that are not being written to",
                )
            stored, redacted = redacted_copy(record, raw)
            raw_name = f"evidence/{short}-{name}"
            files[raw_name] = stored
            entry.update({"raw": raw_name, "redacted": redacted})
        record_name = f"evidence/{short}.record.json"
        files[record_name] = canonical_json(record.to_json())
        entry["record"] = record_name
        inventory.append(entry)

    files["results.json"] = canonical_json(results)
    files[REPORT_NAME] = report_markdown.encode()
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run_id,
        "decision": results["decision"],
        "evidence": sorted(inventory, key=lambda e: (e["kind"], e["source"], e["id"])),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["manifest.json"] = canonical_json(manifest)

    target = out_dir / run_id
    target.mkdir(parents=True, exist_ok=True)
    (target / "evidence").mkdir(exist_ok=True)
    for name, data in sorted(files.items()):
        (target / name).write_bytes(data)
    archive = out_dir / f"{run_id}.tar.gz"
    archive.write_bytes(_tar_gz(run_id, files))
    return Bundle(path=target, archive=archive, manifest=manifest)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.lstrip(".") or "artefact"


def _tar_gz(run_id: str, files: Mapping[str, bytes]) -> bytes:
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


@dataclass(slots=True)
class VerifyReport:
    """What ``affidavit verify`` found."""

    path: str
    ok: bool
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    decision: str | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "path": self.path,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "decision": self.decision,
            "run_id": self.run_id,
        }


def verify_bundle(path: Path) -> VerifyReport:
    """Recompute every hash of a bundle folder (or ``.tar.gz``) against its manifest.

    Any file changed, missing or added, and any manifest entry that disagrees with results.json,
    is a problem. Raises ``BundleError`` only when there is no readable manifest at all.
    """
    files = read_bundle_files(path)
    if "manifest.json" not in files:
        raise BundleError(f"{path}: no manifest.json: this is not an affidavit bundle or it is incomplete")
    try:
        manifest = json.loads(files["manifest.json"])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise BundleError(f"{path}: manifest.json is not an {MANIFEST_SCHEMA} manifest")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BundleError(f"{path}: manifest.json has no files table")
    report = VerifyReport(
        path=str(path), ok=True, run_id=manifest.get("run_id"), decision=manifest.get("decision")
    )
    for name in sorted(listed):
        expected = listed[name]
        data = files.get(name)
        if data is None:
            report.problems.append(f"{name}: listed in the manifest but missing")
            continue
        actual = hashlib.sha256(data).hexdigest()
        report.checked += 1
        if actual != expected:
            report.problems.append(
                f"{name}: sha256 is {actual}, the manifest says {expected}: the file was changed"
            )
    for name in sorted(set(files) - set(listed) - {"manifest.json"}):
        report.problems.append(f"{name}: present but not in the manifest: added after the bundle was written")
    results_raw = files.get("results.json")
    if results_raw is not None:
        try:
            results = json.loads(results_raw)
            if results.get("decision") != manifest.get("decision") or results.get("run_id") != manifest.get(
                "run_id"
            ):
                report.problems.append(
                    "results.json and manifest.json disagree on the run id or the decision"
                )
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            report.problems.append("results.json is not valid JSON")
    report.ok = not report.problems
    return report


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of a bundle folder or .tar.gz, by its name inside the bundle."""
    if path.is_dir():
        return {
            p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
        }
    if path.is_file():
        try:
            out: dict[str, bytes] = {}
            with tarfile.open(path, mode="r:gz") as tar:
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
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(f"{path}: not a readable .tar.gz bundle ({exc})") from None
    raise BundleError(f"{path}: no such bundle folder or archive")
