"""Write the audit evidence bundle of one run.

Layout of ``<out>/<run-id>/``::

    PRODUCTION_GO_EVIDENCE.md     the human report         } one file per renderer that has a
    results.json                  the decision (v1)         } bundle file name (render.registry)
    evidence/<sha12>-<name>       each raw artefact as read (secret values redacted)
    evidence/<sha12>.record.json  its normalised evidence record
    manifest.json                 sha256 of every file above

and ``<out>/<run-id>.tar.gz`` beside it. Everything is written with sorted keys, fixed file
order and fixed archive metadata, so equal inputs give byte-identical bundles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.bundle.archive import tar_gz
from affidavit.bundle.redact import redacted_copy
from affidavit.errors import BundleError, InputError
from affidavit.render.json import canonical_json as canonical_text
from affidavit.render.registry import bundle_renderers

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from affidavit.model import Evidence, Run

MANIFEST_SCHEMA = "affidavit.manifest/v1"
REPORT_NAME = "PRODUCTION_GO_EVIDENCE.md"


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return canonical_text(value).encode()


@dataclass(slots=True)
class Bundle:
    """A written bundle: its folder, archive and manifest."""

    path: Path
    archive: Path
    manifest: dict[str, Any]


def write_bundle(
    run: Run,
    evidence: Sequence[Evidence],
    sources: Mapping[str, Path],
    out_dir: Path,
) -> Bundle:
    """Write the bundle for one run into ``out_dir/<run-id>/`` and its ``.tar.gz``."""
    run_id = run.run_id
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
            try:
                stored, redacted = redacted_copy(record, raw)
            except InputError as exc:
                # A secret-bearing file that cannot be redacted is never stored as it is.
                raise BundleError(
                    f"{record.source}: cannot be stored in the bundle: {exc.detail}",
                    hint="the file was read but its secret values could not be removed; report it",
                ) from None
            raw_name = f"evidence/{short}-{name}"
            files[raw_name] = stored
            entry.update({"raw": raw_name, "redacted": redacted})
        record_name = f"evidence/{short}.record.json"
        files[record_name] = canonical_json(record.to_json())
        entry["record"] = record_name
        inventory.append(entry)

    for renderer in bundle_renderers():
        assert renderer.filename is not None  # bundle_renderers() gives only those with a file
        files[renderer.filename] = renderer.render(run).encode()
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run_id,
        "decision": run.decision.value,
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
    archive.write_bytes(tar_gz(run_id, files))
    return Bundle(path=target, archive=archive, manifest=manifest)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.lstrip(".") or "artefact"
