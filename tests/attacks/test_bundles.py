"""Attacks on the bundle writer (issue 9, finding 5): links planted in ``--out``, a forged record
waiting under the run id the NO-GO demo will produce, and two gates writing one ``--out`` at once.

What must hold: nothing outside ``--out`` is written through a link, a run folder or archive that is
already there is never written over (the gate says "already recorded" when it holds this very
decision and verifies, and refuses with exit 3 otherwise), and a folder and the archive beside it
never disagree, whoever wins a race.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from affidavit.bundle.archive import read_bundle_files, tar_gz
from affidavit.bundle.verify import verify_bundle
from affidavit.bundle.write import sums_text
from affidavit.model import Evidence, EvidenceKind, Run, Subject, Tool
from tests.attacks.support import GateResult, gate, release
from tests.conftest import REPO

RUN_ID = "20261120T120000Z-0123456789ab"
ARTEFACTS = 160  # enough raw files that one writer's copy takes long enough to overlap the other's


def _recorded(tmp_path: Path, evidence: Path) -> Path:
    """The NO-GO demo's run folder, written once into a folder of its own (``probe``)."""
    probe = gate(tmp_path, evidence, out="probe")
    assert probe.exit_code == 1, probe.stderr
    (folder,) = probe.bundles
    return folder


def _snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under ``root`` (links not followed): its type and its bytes or link target."""
    out: dict[str, tuple[str, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[name] = ("link", os.readlink(path))
        elif path.is_dir():
            out[name] = ("dir", b"")
        else:
            out[name] = ("file", path.read_bytes())
    return out


def _forged_go(folder: Path) -> dict[str, bytes]:
    """The files of an unsigned ``folder`` with results.json turned to GO, and the manifest and
    SHA256SUMS re-hashed to match.

    The forgery's integrity holds: every hash agrees with the manifest and SHA256SUMS, which say GO
    as results.json does. Only a signature can tell it from the honest record.
    """
    files = read_bundle_files(folder)
    results = json.loads(files["results.json"])
    assert results["decision"] == "NO-GO"
    results.update(decision="GO", exit_code=0)
    forged = json.dumps(results, indent=2, sort_keys=True).encode()
    files["results.json"] = forged
    manifest = json.loads(files["manifest.json"])
    manifest["decision"] = "GO"
    manifest["files"]["results.json"] = {"sha256": hashlib.sha256(forged).hexdigest(), "size": len(forged)}
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    digests = {n: hashlib.sha256(d).hexdigest() for n, d in files.items() if not n.startswith("SHA256SUMS")}
    files["SHA256SUMS"] = sums_text(digests)
    return files


def _plant(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def _refused(result: GateResult, where: Path, why: str) -> None:
    """The gate stopped with exit 3, naming ``where`` and saying ``why``: the decision it reached is
    printed (issue 15: an unwritable --out still shows it) but says it was not put on record."""
    assert result.exit_code == 3, (result.exit_code, result.stdout, result.stderr)
    assert str(where) in result.stderr
    assert why in result.stderr
    assert "bundle: NOT written" in result.stdout, result.stdout  # the run is not on record


# --- links planted in --out --------------------------------------------------------------------


def test_link_at_the_archive_path_is_not_written_through(tmp_path: Path) -> None:
    """``<out>/<run-id>.tar.gz`` planted as a link to a file outside: the file is left as it was."""
    evidence = release(tmp_path)
    run_id = _recorded(tmp_path, evidence).name
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{run_id}.tar.gz").symlink_to(victim)

    result = gate(tmp_path, evidence)

    assert victim.read_bytes() == b"precious\n"
    _refused(result, out / f"{run_id}.tar.gz", "symbolic link")
    assert _snapshot(out) == {f"{run_id}.tar.gz": ("link", str(victim))}  # no folder beside it


def test_link_at_the_run_folder_is_not_written_through(tmp_path: Path) -> None:
    """``<out>/<run-id>`` planted as a link to a folder outside: nothing is written into it."""
    evidence = release(tmp_path)
    run_id = _recorded(tmp_path, evidence).name
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / run_id).symlink_to(victim, target_is_directory=True)

    result = gate(tmp_path, evidence)

    assert list(victim.iterdir()) == []
    _refused(result, out / run_id, "symbolic link")
    assert _snapshot(out) == {run_id: ("link", str(victim))}  # no archive beside it


def test_link_inside_an_existing_run_folder_is_not_written_through(tmp_path: Path) -> None:
    """``<out>/<run-id>/evidence`` planted as a link to a folder outside: nothing is written into it."""
    evidence = release(tmp_path)
    run_id = _recorded(tmp_path, evidence).name
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    (out / run_id).mkdir(parents=True)
    (out / run_id / "evidence").symlink_to(victim, target_is_directory=True)
    before = _snapshot(out)

    result = gate(tmp_path, evidence)

    assert list(victim.iterdir()) == []
    _refused(result, out / run_id, "symbolic link")
    assert _snapshot(out) == before


def test_out_may_itself_be_a_link_to_a_folder(tmp_path: Path) -> None:
    """``--out`` naming a link to a folder is the caller's choice: the bundle is written in that folder."""
    evidence = release(tmp_path)
    real = tmp_path / "real-reports"
    real.mkdir()
    (tmp_path / "out").symlink_to(real, target_is_directory=True)

    result = gate(tmp_path, evidence)

    assert result.exit_code == 1, result.stderr
    (folder,) = (p for p in real.iterdir() if p.is_dir())
    assert verify_bundle(folder).ok and verify_bundle(real / f"{folder.name}.tar.gz").ok
    assert sorted(p.name for p in real.iterdir()) == [folder.name, f"{folder.name}.tar.gz"]


# --- a record already under this run id ---------------------------------------------------------


def test_forged_go_folder_under_the_run_id_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A verifying GO record planted where the NO-GO run will go is neither adopted nor completed.

    Before the fix the gate wrote its files over the planted ones and exited 1; now it must not
    touch the folder, must not add an archive beside it (a NO-GO archive beside a GO folder), and
    must say the record under this run id is not this run's.
    """
    evidence = release(tmp_path)
    honest = _recorded(tmp_path, evidence)
    out = tmp_path / "out"
    _plant(out / honest.name, _forged_go(honest))
    forged = verify_bundle(out / honest.name)
    assert forged.ok and forged.decision == "GO"  # the forgery passes `affidavit verify` on its own
    before = _snapshot(out)

    result = gate(tmp_path, evidence)

    _refused(result, out / honest.name, "holds another decision")
    assert _snapshot(out) == before


def test_forged_go_archive_under_the_run_id_is_refused_and_left_alone(tmp_path: Path) -> None:
    """The same forgery as an archive alone: no NO-GO folder appears beside the GO archive."""
    evidence = release(tmp_path)
    honest = _recorded(tmp_path, evidence)
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{honest.name}.tar.gz").write_bytes(tar_gz(honest.name, _forged_go(honest)))
    assert verify_bundle(out / f"{honest.name}.tar.gz").decision == "GO"
    before = _snapshot(out)

    result = gate(tmp_path, evidence)

    _refused(result, out / f"{honest.name}.tar.gz", "holds another decision")
    assert _snapshot(out) == before


def test_tampered_folder_under_the_run_id_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A record under the run id that does not verify (results.json edited, manifest not) is refused."""
    evidence = release(tmp_path)
    honest = _recorded(tmp_path, evidence)
    out = tmp_path / "out"
    shutil.copytree(honest, out / honest.name)
    (out / honest.name / "results.json").write_bytes(_forged_go(honest)["results.json"])
    before = _snapshot(out)

    result = gate(tmp_path, evidence)

    _refused(result, out / honest.name, "does not verify")
    assert _snapshot(out) == before


def test_the_same_run_twice_is_already_recorded(tmp_path: Path) -> None:
    """Re-running the same replay into the same ``--out`` keeps the first record, untouched."""
    evidence = release(tmp_path)
    first = gate(tmp_path, evidence)
    assert first.exit_code == 1, first.stderr
    (folder,) = first.bundles
    before = _snapshot(first.out)
    inodes = {p.name: p.stat().st_ino for p in first.out.iterdir()}

    again = gate(tmp_path, evidence)

    assert again.exit_code == 1, again.stderr
    assert "already recorded" in again.stdout
    assert str(folder) in again.stdout
    assert _snapshot(first.out) == before
    assert {p.name: p.stat().st_ino for p in first.out.iterdir()} == inodes


# --- two writers at once ------------------------------------------------------------------------

# One writer process: builds its Run and records, then writes the bundle each time the test says go.
_WRITER = r"""
import json, sys
from pathlib import Path
from affidavit.bundle.write import write_bundle
from affidavit.errors import BundleError
from affidavit.model import Outcome
from tests.attacks.test_bundles import RUN_ID, judging, records
from tests.model.runs import sample_run

work, outcome, rounds = Path(sys.argv[1]), Outcome(sys.argv[2]), int(sys.argv[3])
evidence, sources = records(work / "in")
run = judging(sample_run(RUN_ID, outcome), evidence)
for n in range(rounds):
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        bundle = write_bundle(run, evidence, sources, work / f"round-{n}")
    except BundleError:
        print(json.dumps({"refused": True}), flush=True)
    else:
        created = getattr(bundle, "created", None)
        names = None if created is None else sorted(p.name for p in created)
        print(json.dumps({"refused": False, "created": names}), flush=True)
"""


def write_artefacts(folder: Path) -> None:
    """``ARTEFACTS`` distinct SBOM files of a few KB each."""
    folder.mkdir(parents=True)
    for n in range(ARTEFACTS):
        components = [{"type": "library", "name": f"pkg-{n}-{i}", "version": f"{i}.{n}"} for i in range(60)]
        doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components}
        (folder / f"sbom-{n:03}.cdx.json").write_text(json.dumps(doc))


def records(folder: Path) -> tuple[list[Evidence], dict[str, Path]]:
    """An evidence record for each file of ``folder`` (ids are the files' sha256)."""
    evidence: list[Evidence] = []
    sources: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        record = Evidence(
            id="sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(),
            kind=EvidenceKind.SBOM,
            format="cyclonedx-json",
            format_version="1.5",
            tool=Tool("syft", "1.18.1"),
            subject=Subject(name="ghcr.io/acme/shop", digest="sha256:" + "a" * 64),
            source=f"in/{path.name}",
            collected_at="2026-11-20T12:00:00Z",
            effective_at=None,
            data={"components": []},
        )
        evidence.append(record)
        sources[record.id] = path
    return evidence, sources


def judging(run: Run, evidence: list[Evidence]) -> Run:
    """``run`` with its inputs replaced by ``evidence`` (verify checks that the two agree)."""
    template = run.inputs[0]
    inputs = tuple(replace(template, id=e.id, source=e.source, kind=e.kind.value) for e in evidence)
    return replace(run, inputs=inputs)


def _race(tmp_path: Path, outcomes: tuple[str, str], rounds: int) -> list[list[dict[str, Any]]]:
    """Two writer processes released together ``rounds`` times; what each said, per round."""
    write_artefacts(tmp_path / "in")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), outcome, str(rounds)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for outcome in outcomes
    ]
    said: list[list[dict[str, Any]]] = []
    try:
        for _ in range(rounds):
            for w in writers:
                assert w.stdout is not None and w.stdout.readline() == "ready\n"
            for w in writers:  # release both, then flush both: they start within microseconds
                assert w.stdin is not None
                w.stdin.write("go\n")
            for w in writers:
                assert w.stdin is not None
                w.stdin.flush()
            said.append([json.loads(w.stdout.readline()) for w in writers if w.stdout is not None])
    finally:
        for w in writers:
            _, err = w.communicate(timeout=120)
            assert w.returncode == 0, err
    return said


def _record_of(out: Path) -> tuple[str, bytes]:
    """The one run id under ``out``: folder and archive both verify and hold the same results."""
    assert sorted(p.name for p in out.iterdir()) == [RUN_ID, f"{RUN_ID}.tar.gz"]  # no temporary left
    folder, archive = verify_bundle(out / RUN_ID), verify_bundle(out / f"{RUN_ID}.tar.gz")
    assert folder.ok, folder.problems
    assert archive.ok, archive.problems
    assert folder.decision == archive.decision
    results = read_bundle_files(out / RUN_ID)["results.json"]
    assert read_bundle_files(out / f"{RUN_ID}.tar.gz")["results.json"] == results
    assert folder.decision is not None
    return folder.decision, results


def test_two_writers_with_different_decisions_never_disagree(tmp_path: Path) -> None:
    """A NO-GO and a GO writer racing on one run id: one record wins whole, the other is refused."""
    rounds = 6
    said = _race(tmp_path, ("fail", "pass"), rounds)
    for n, (nogo, go) in enumerate(said):
        decision, _ = _record_of(tmp_path / f"round-{n}")
        assert [nogo["refused"], go["refused"]] == [decision == "GO", decision == "NO-GO"], (n, said[n])
        winner = go if decision == "GO" else nogo
        assert winner["created"] == [RUN_ID, f"{RUN_ID}.tar.gz"]


def test_two_writers_with_the_same_decision_both_succeed(tmp_path: Path) -> None:
    """Two writers of the same run: neither is refused, and each file of the record is placed once."""
    rounds = 4
    said = _race(tmp_path, ("fail", "fail"), rounds)
    for n, pair in enumerate(said):
        decision, _ = _record_of(tmp_path / f"round-{n}")
        assert decision == "NO-GO"
        assert not any(w["refused"] for w in pair), pair
        created = [name for w in pair for name in w["created"]]
        assert sorted(created) == [RUN_ID, f"{RUN_ID}.tar.gz"], pair
