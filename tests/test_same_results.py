"""Speed work changes no result: the same decisions, records and redacted copies as before it.

Issue 14 moves the redaction of a Terraform plan onto the tree the collector already parsed,
evaluates each rule once, hands the engine its input without a JSON round trip and caches fixed
costs. None of that may change a byte anyone can see. ``tests/same_results.json`` was written by
this module from the code as it stood *before* the first of those changes (commit 956f80b); each
entry is a sha256:

- ``gate/<demo>``: the gate on a demo release (``results.json`` with the wall-clock time left out,
  every evidence record, every raw copy as the bundle stores it after redaction);
- ``corpus/<folder>``: every file of a corpus folder collected as the gate collects a folder
  (records, redacted raw copies, the files refused with their diagnostics, the files not read);
- ``generated/<file>``: a small deterministic input of ``../shared/bench/gen_evidence.py`` (the
  benchmark's generator: a plan with sensitive marks, an SBOM, a Trivy report), collected and
  redacted.

The digests change only on purpose: regenerate them with ``AFFIDAVIT_UPDATE_SAME_RESULTS=1`` after
a change that is meant to change results, and say so in its commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from affidavit.bundle.redact import redacted_copy
from affidavit.collectors import CollectOptions, collect_paths
from affidavit.pipeline import GateRequest, run_gate
from affidavit.render.json import canonical_json
from tests.conftest import CORPUS, NOW, REPO, SHARED

DIGESTS = Path(__file__).resolve().parent / "same_results.json"
UPDATE = os.environ.get("AFFIDAVIT_UPDATE_SAME_RESULTS") == "1"
DEMO = REPO / "evidence" / "demo"
GENERATOR = SHARED / "bench" / "gen_evidence.py"
CORPUS_FOLDERS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


def _sha(data: bytes | str) -> str:
    """sha256 hex of ``data`` (text as UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _collected(source_of: dict[str, Path], evidence: list[Any]) -> dict[str, Any]:
    """Digests of records and redacted raw copies, keyed by the record's source."""
    out: dict[str, Any] = {}
    for record in sorted(evidence, key=lambda e: (e.source, e.id)):
        path = source_of.get(record.id)
        stored = "-"
        if path is not None:
            data, _ = redacted_copy(record, path.read_bytes())
            stored = _sha(data)
        out[f"{record.source}#{record.id[7:19]}"] = {
            "record": _sha(canonical_json(record.to_json())),
            "stored": stored,
        }
    return out


def _gate_digests(release: str) -> dict[str, Any]:
    """What the gate decides on ``evidence/demo/<release>`` and what its bundle would hold."""
    request = GateRequest(
        evidence_paths=(DEMO.relative_to(REPO) / release,),
        environment="prod",
        subject_name="ghcr.io/acme/shop",
        subject_digest=(DEMO / "SUBJECT_DIGEST").read_text().strip(),
        now=datetime.fromisoformat(NOW.replace("Z", "+00:00")),
        replay=True,
        commit=(DEMO / "COMMIT").read_text().strip(),
        param_files=(DEMO / "params.yaml",),
        public_key=DEMO / "cosign.pub",
    )
    with contextlib.chdir(REPO):  # sources named as a user in the checkout names them
        judged = run_gate(request)
        evidence = _collected(judged.sources, judged.evidence)
    results = judged.run.to_json()
    results.pop("wall_time", None)
    return {
        "decision": judged.run.decision.value,
        "results": _sha(canonical_json(results)),
        "evidence": evidence,
    }


def _folder_digests(folder: Path) -> dict[str, Any]:
    """What collecting ``folder`` as the gate does gives: records, copies, refusals, files left out."""
    with contextlib.chdir(folder.parent):  # sources named <folder>/<file>, wherever it is
        collection = collect_paths((Path(folder.name),), CollectOptions(now=NOW))
        evidence = _collected(collection.documents, list(collection.evidence))
    return {
        "evidence": evidence,
        "errors": sorted(f"{e.source}: {_sha(e.diagnostics())}" for e in collection.errors),
        "not_read": sorted(f"{s.path}: {s.action.value}" for s in collection.skipped),
    }


def _generated(tmp: Path) -> dict[str, Any]:
    """Digests of a small input of the benchmark's generator (deterministic for its seed)."""
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--out",
            str(tmp / "bench"),
            "--resources",
            "400",
            "--components",
            "300",
        ]
        + ["--vulns", "200"],
        check=True,
        capture_output=True,
    )
    return _folder_digests(tmp / "bench")


def _current(tmp: Path) -> dict[str, Any]:
    """Every digest this module checks, from the code as it is now."""
    current: dict[str, Any] = {f"gate/{r}": _gate_digests(r) for r in ("go", "no-go")}
    for name in CORPUS_FOLDERS:
        current[f"corpus/{name}"] = _folder_digests(CORPUS / name)
    current["generated/bench"] = _generated(tmp)
    return current


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The digests of this run (written to ``same_results.json`` first under the update switch)."""
    found = _current(tmp_path_factory.mktemp("generated"))
    if UPDATE:
        DIGESTS.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return found


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    """The digests recorded before the speed work (``same_results.json``)."""
    assert DIGESTS.is_file(), f"{DIGESTS} is missing: write it with AFFIDAVIT_UPDATE_SAME_RESULTS=1"
    value: dict[str, Any] = json.loads(DIGESTS.read_text(encoding="utf-8"))
    return value


def test_the_recorded_cases_are_the_cases_run(current: dict[str, Any], recorded: dict[str, Any]) -> None:
    """A case added or lost (a corpus folder, a demo release) is a difference too."""
    assert sorted(current) == sorted(recorded)


@pytest.mark.parametrize("release", ["go", "no-go"])
def test_the_gate_decides_the_demo_as_before(
    release: str, current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """Decision, results.json (all but the wall-clock time), records and stored copies are as before."""
    now, then = current[f"gate/{release}"], recorded[f"gate/{release}"]
    assert now["decision"] == then["decision"]
    assert now["evidence"] == then["evidence"]
    assert now["results"] == then["results"]


@pytest.mark.parametrize("folder", CORPUS_FOLDERS)
def test_the_corpus_is_collected_as_before(
    folder: str, current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """Each corpus folder gives the same records, stored copies, refusals and files left out."""
    now, then = current[f"corpus/{folder}"], recorded[f"corpus/{folder}"]
    for part in ("evidence", "errors", "not_read"):
        assert now[part] == then[part], part


def test_generated_inputs_are_collected_and_redacted_as_before(
    current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """The benchmark's plan (sensitive marks, values equal to masked ones), SBOM and Trivy report."""
    assert current["generated/bench"] == recorded["generated/bench"]
