"""Prove that a bundle is what the gate wrote: every hash recomputed against the manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json
from affidavit.bundle.archive import read_bundle_files
from affidavit.bundle.write import MANIFEST_SCHEMA
from affidavit.errors import BundleError, InputError, ResultsError
from affidavit.model import Run

if TYPE_CHECKING:
    from pathlib import Path


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
        manifest = load_json(files["manifest.json"], f"{path}/manifest.json")
    except InputError as exc:  # not JSON, or a key named twice (a second "files" table could hide one)
        raise BundleError(exc.message) from None
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
    if "results.json" not in listed:
        report.problems.append("results.json: not in the manifest: the bundle holds no decision")
    elif results_raw is not None:
        try:
            run = parse_run(results_raw, f"{path}/results.json")
        except BundleError as exc:
            report.problems.append(exc.message)
        else:
            if run.decision.value != manifest.get("decision") or run.run_id != manifest.get("run_id"):
                report.problems.append(
                    "results.json and manifest.json disagree on the run id or the decision"
                )
    report.ok = not report.problems
    return report


def parse_run(raw: bytes, where: str) -> Run:
    """The ``Run`` in a results.json's bytes; ``BundleError`` naming ``where`` when it is not one."""
    try:
        return Run.from_json(load_json(raw, where))
    except InputError as exc:  # not JSON, or a key named twice
        raise BundleError(exc.message) from None
    except ResultsError as exc:
        raise BundleError(f"{where}: {exc.message}") from None


def load_run(path: Path) -> Run:
    """The ``Run`` of a bundle folder or archive, after checking every hash against its manifest."""
    report = verify_bundle(path)
    if not report.ok:
        raise BundleError(
            f"{path}: does not match its manifest ({report.problems[0]})",
            hint="use only bundles that `affidavit verify` accepts",
        )
    return parse_run(read_bundle_files(path)["results.json"], f"{path}/results.json")
