"""The quarterly audit export over a store of real gate runs (issue 13's "Done when").

Each test exports the quarter of ``conftest.quarter`` with the real CLI and checks the folder as an
auditor would: with ``affidavit verify``, with the published JSON schema, with ``sha256sum`` and
``openssl`` (no affidavit), and after tampering with the store or with the export.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from affidavit.cli import main
from affidavit.export.source import period_runs
from affidavit.store import open_store
from affidavit.store.record import chain_hash, compress, derive_summary, sha256_hex
from tests.export.conftest import DAYS, WAIVED_AT, Quarter, gate

SCHEMA = Path(__file__).resolve().parents[2] / "src" / "affidavit" / "schemas" / "period.v1.schema.json"


def export(q: Quarter, out: Path, *extra: str, seed: str = "7", sign: bool = True) -> Result:
    """``affidavit export`` of 2026-Q4 (prod) into ``out``."""
    args = ["export", "--framework", "soc2", "--period", "2026-Q4", "--environment", "prod"]
    args += ["--store", q.url, "--sample-seed", seed, "--out", str(out), *extra]
    if sign:
        args += ["--sign-key", str(q.key)]
    return CliRunner().invoke(main, args)


def verify(folder: Path, *extra: str) -> Result:
    """``affidavit verify FOLDER ...``."""
    return CliRunner().invoke(main, ["verify", str(folder), *extra])


def test_an_export_of_a_real_quarter_shows_the_population_controls_ledgers_and_sample(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Every part of issue 13's period bundle, from runs the gate itself recorded."""
    out = tmp_path / "audit"
    result = export(quarter, out)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "period.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    population = [json.loads(line) for line in (out / "population.jsonl").read_text().splitlines()]
    assert doc["population"]["runs"] == len(population) == quarter.runs
    times = [p["time"] for p in population]
    assert times == sorted(times)  # population order is time order
    assert {p["decision"] for p in population} == {"GO", "NO-GO"}
    assert all(len(p["bundle_digest"]) == 64 for p in population)  # every run's bundle manifest digest
    assert doc["population"]["days_with_promotions"] == len(DAYS) + 1
    controls = {c["id"]: c for c in doc["controls"]}
    cc66 = controls["CC6.6"]
    assert cc66["rules"] == ["iac.no_open_admin_ports"]
    assert cc66["counts"]["waived"] == 1
    # Oct 1 .. Nov 19 had no promotion; Nov 20 (GO and NO-GO with an open admin port) failed.
    assert cc66["daily"][:50] == "." * 50 and cc66["daily"][50] == "F"
    assert cc66["days"]["no_promotion"] == 92 - (len(DAYS) + 1)
    # Nov 22: only the waived NO-GO release ran: the waiver made the control's rule pass for the day.
    assert cc66["daily"][52] == "O"
    assert controls["CC1.1"]["days"]["manual"] == len(DAYS) + 1  # no rule tests it: never "operated"
    ledger = doc["waivers"]["ledger"]
    assert len(ledger) == 1 and ledger[0]["waiver"]["approver"] == "ciso@acme.example"
    assert (
        ledger[0]["runs"] == 1 and ledger[0]["findings_hidden"] == 1 and ledger[0]["first_use"] == WAIVED_AT
    )
    applied = json.loads((out / "waivers.jsonl").read_text())
    assert applied["rule"] == "iac.no_open_admin_ports" and "0.0.0.0/0" in applied["findings"][0]["msg"]
    # Every run under one policy set of the ledger (more than one when the rules changed between
    # runs of the fixture: each later set then says what changed).
    policies = doc["policy_changes"]
    assert sum(p["runs"] for p in policies) == quarter.runs and "changes" not in policies[0]
    assert all("changes" in p for p in policies[1:])
    sample = doc["sample"]
    assert sample["frequency"] == "monthly" and sample["size"] == 5  # 92 days / 9 runs: about every 10 days
    assert all(s["bundle"]["path"] for s in sample["runs"])
    report = (out / "AUDIT_PERIOD_EVIDENCE.md").read_text()
    assert re.search(r"(?<!\\)<script>", report) is None and "\\<script>" in report  # escaped
    assert "Sources reconciled: none" in report


def test_the_signed_export_verifies_with_affidavit_and_with_sha256sum_and_openssl(
    quarter: Quarter, tmp_path: Path
) -> None:
    """``affidavit verify DIR --key PUB``, each run's ``--run`` proof, and an auditor's own tools."""
    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    checked = verify(out, "--key", str(quarter.pub))
    assert checked.exit_code == 0 and checked.output.startswith("OK "), checked.output
    for line in (out / "population.jsonl").read_text().splitlines():
        run_id = json.loads(line)["run_id"]
        proof = verify(out, "--run", run_id, "--format", "json")
        assert proof.exit_code == 0 and json.loads(proof.output)["ok"], proof.output
    assert verify(out, "--run", "20990101T000000Z-000000000000").exit_code == 1
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True, capture_output=True)
    subprocess.run(
        ["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out / "proofs", check=True, capture_output=True
    )
    done = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(quarter.pub),
            "-signature",
            "SHA256SUMS.sig",
            "SHA256SUMS",
        ],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Verified OK" in done.stdout


def test_an_unsigned_export_is_not_accepted_without_allow_unsigned(quarter: Quarter, tmp_path: Path) -> None:
    """Integrity without authorship is said, and not accepted by default."""
    out = tmp_path / "audit"
    assert export(quarter, out, sign=False).exit_code == 0
    assert verify(out).exit_code == 1
    assert verify(out, "--allow-unsigned").exit_code == 0
    assert verify(out, "--key", str(quarter.pub)).exit_code == 1  # unsigned, and a key was asked for


def _first_proof(out: Path) -> str:
    return "proofs/000000.jsonl"


def _proof_line(out: Path, run_id: str) -> tuple[Path, int]:
    """The shard holding the run's proof, and its line there (from 0)."""
    shard_size = json.loads((out / "period.json").read_text())["merkle"]["proof_shard_size"]
    for n, line in enumerate((out / "population.jsonl").read_text().splitlines()):
        if json.loads(line)["run_id"] == run_id:
            return out / "proofs" / f"{n // shard_size:06d}.jsonl", n % shard_size
    raise AssertionError(f"{run_id} is not in the population")


@pytest.mark.parametrize(
    "target",
    [
        "period.json",
        "population.jsonl",
        "waivers.jsonl",
        "AUDIT_PERIOD_EVIDENCE.md",
        "attestation.intoto.jsonl",
        "proof",
    ],
)
@pytest.mark.parametrize("resum", [False, True], ids=["bytes", "bytes-and-SHA256SUMS"])
def test_changing_one_file_of_the_export_fails_verify(
    quarter: Quarter, tmp_path: Path, target: str, resum: bool
) -> None:
    """Hostile: one byte of one file changed; then the same with SHA256SUMS recomputed to match
    (``sha256sum`` rewritten by whoever edits the folder): the signature no longer covers it."""
    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    name = _first_proof(out) if target == "proof" else target
    data = bytearray((out / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (out / name).write_bytes(bytes(data))
    if resum:  # both listings rewritten with sha256sum, as whoever edits the folder would
        order = [line.split("  ", 1)[1] for line in (out / "proofs" / "SHA256SUMS").read_text().splitlines()]
        proofs = subprocess.run(["sha256sum", *order], cwd=out / "proofs", capture_output=True, check=True)
        (out / "proofs" / "SHA256SUMS").write_bytes(proofs.stdout)
        top = sorted(
            p.name for p in out.iterdir() if p.is_file() and p.name not in ("SHA256SUMS", "SHA256SUMS.sig")
        )
        sums = subprocess.run(
            ["sha256sum", *top, "proofs/SHA256SUMS"], cwd=out, capture_output=True, check=True
        )
        (out / "SHA256SUMS").write_bytes(sums.stdout)
        assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out).returncode == 0
    result = verify(out, "--key", str(quarter.pub))
    assert result.exit_code == 1, result.output
    assert not result.output.startswith("OK")


@pytest.mark.parametrize("change", ["added", "removed-proof", "link"])
def test_a_file_added_removed_or_linked_fails_verify(quarter: Quarter, tmp_path: Path, change: str) -> None:
    """Hostile: a file slipped in, a proof taken out, a symbolic link in place of a file."""
    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    if change == "added":
        (out / "proofs" / "extra.json").write_text("{}")
    elif change == "removed-proof":
        (out / _first_proof(out)).unlink()
    else:
        (out / "waivers.jsonl").unlink()
        (out / "waivers.jsonl").symlink_to("/etc/hostname")
    result = verify(out, "--key", str(quarter.pub))
    assert result.exit_code == 1, result.output


def _edit_run(db: Path, seq: int, *, rehash: bool) -> str:
    """Hostile, as the database owner: make run ``seq`` a GO (triggers dropped): its payload,
    decision column, summary and payload sha256 all rewritten consistently; with ``rehash`` also
    recompute its chain hash so that the run alone looks intact. Returns its run id."""
    conn = sqlite3.connect(db)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        row = conn.execute("SELECT run_id, payload, prev_hash FROM runs WHERE seq = ?", (seq,)).fetchone()
        import zlib

        payload = json.loads(zlib.decompress(row[1]))
        payload["run"]["decision"] = "GO"
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        summary = derive_summary(payload)
        digest = chain_hash(seq, row[2], sha256_hex(raw), sha256_hex(summary)) if rehash else None
        conn.execute(
            "UPDATE runs SET payload = ?, payload_size = ?, decision = 'GO', payload_sha256 = ?, summary = ?"
            + (", hash = ?" if rehash else "")
            + " WHERE seq = ?",
            (compress(raw), len(raw), sha256_hex(raw), summary.decode(), *([digest] if rehash else []), seq),
        )
        conn.commit()
        return str(row[0])
    finally:
        conn.close()


def test_a_run_edited_in_the_store_is_refused_and_a_consistent_forgery_changes_the_root(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Hostile: a NO-GO run rewritten as GO in the database. Edited in place, the export refuses
    it (its chain hash no longer matches); with its own hash recomputed too, the export differs:
    another population hash and Merkle root, and the run's old inclusion proof fails."""
    before = tmp_path / "before"
    assert export(quarter, before).exit_code == 0
    db = Path(quarter.url.removeprefix("sqlite://"))
    seq = 2  # the first day's NO-GO release
    run_id = _edit_run(db, seq, rehash=False)
    refused = export(quarter, tmp_path / "refused")
    assert refused.exit_code == 3 and "does not match its chain hash" in refused.output
    assert not (tmp_path / "refused").exists()  # nothing half-written
    _edit_run(db, seq, rehash=True)
    after = tmp_path / "after"
    assert export(quarter, after).exit_code == 0
    old, new = (json.loads((d / "period.json").read_text()) for d in (before, after))
    assert old["merkle"]["root"] != new["merkle"]["root"]
    assert old["population"]["sha256"] != new["population"]["sha256"]
    assert verify(after, "--run", run_id).exit_code == 0  # the forged run is in the new period...
    (old_shard, n), (new_shard, m) = _proof_line(before, run_id), _proof_line(after, run_id)
    lines = new_shard.read_bytes().splitlines(keepends=True)
    lines[m] = old_shard.read_bytes().splitlines(keepends=True)[n]
    new_shard.write_bytes(b"".join(lines))
    stale = verify(after, "--run", run_id)  # ...and its proof from before does not prove it
    assert stale.exit_code == 1, stale.output


def test_the_same_seed_redraws_the_same_sample_and_the_export_is_reproducible(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Two exports with one seed: byte-identical period.json (same sample); another seed is recorded."""
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out in (a, b):
        assert export(quarter, out, "--sample-size", "4").exit_code == 0
    assert (a / "period.json").read_bytes() == (b / "period.json").read_bytes()
    assert export(quarter, c, "--sample-size", "4", seed="8").exit_code == 0
    first, other = (json.loads((d / "period.json").read_text())["sample"] for d in (a, c))
    assert first["size"] == other["size"] == 4 and first["size_source"] == "--sample-size"
    assert (first["seed"], other["seed"]) == (7, 8)


def test_a_run_id_that_would_leave_the_proofs_folder_stops_the_export(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Hostile: a store whose run id is a path (``../../x``) cannot make the export write outside
    its folder: the export stops (exit 3) and leaves nothing."""
    db = Path(quarter.url.removeprefix("sqlite://"))
    conn = sqlite3.connect(db)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    row = conn.execute("SELECT payload, prev_hash FROM runs WHERE seq = 1").fetchone()
    import zlib

    payload = json.loads(zlib.decompress(row[0]))
    payload["run"]["run_id"] = "../../escaped"
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    summary = derive_summary(payload)
    conn.execute(
        "UPDATE runs SET run_id = ?, payload = ?, payload_size = ?, payload_sha256 = ?, summary = ?, hash = ? "
        "WHERE seq = 1",
        (
            "../../escaped",
            compress(raw),
            len(raw),
            sha256_hex(raw),
            summary.decode(),
            chain_hash(1, row[1], sha256_hex(raw), sha256_hex(summary)),
        ),
    )
    conn.commit()
    conn.close()
    result = export(quarter, tmp_path / "out" / "audit")
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "escaped.json").exists() and not (tmp_path / "out" / "audit").exists()


def test_export_refuses_an_existing_folder_and_unbuilt_options(quarter: Quarter, tmp_path: Path) -> None:
    """Never written over; a deployment file that is none of the sources is refused (exit 3), not
    silently reconciled as empty; a quarter that does not exist is a usage error."""
    out = tmp_path / "audit"
    out.mkdir()
    assert export(quarter, out).exit_code == 2
    deployments = tmp_path / "d.csv"
    deployments.write_text("when,what\n2026-11-20,shop\n")
    refused = export(quarter, tmp_path / "x", "--deployments", str(deployments))
    assert refused.exit_code == 3 and "d.csv" in refused.output and not (tmp_path / "x").exists()
    assert export(quarter, tmp_path / "y", "--period", "2026-Q5").exit_code == 2


def test_the_export_reads_postgresql_too(pg_url: str, tmp_path: Path, quarter: Quarter) -> None:
    """The same export over the real PostgreSQL back end: two gate runs, streamed and verified."""
    reports = tmp_path / "reports"
    for release in ("go", "no-go"):
        gate(pg_url, reports, release, DAYS[0])
    store = open_store(pg_url)
    try:
        from affidavit.export.period import parse_period

        seen = [r.run_id for r in period_runs(store, parse_period("2026-Q4"), "prod")]
    finally:
        store.close()
    assert len(seen) == 2
    pg = Quarter(pg_url, reports, quarter.key, quarter.pub, 2)
    out = tmp_path / "audit"
    result = export(pg, out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "period.json").read_text())["population"]["runs"] == 2
    assert verify(out, "--key", str(quarter.pub)).exit_code == 0


def _resum(out: Path) -> None:
    """Both listings rewritten with ``sha256sum``, as whoever edits the folder would."""
    order = [line.split("  ", 1)[1] for line in (out / "proofs" / "SHA256SUMS").read_text().splitlines()]
    proofs = subprocess.run(["sha256sum", *order], cwd=out / "proofs", capture_output=True, check=True)
    (out / "proofs" / "SHA256SUMS").write_bytes(proofs.stdout)
    top = sorted(
        p.name for p in out.iterdir() if p.is_file() and p.name not in ("SHA256SUMS", "SHA256SUMS.sig")
    )
    sums = subprocess.run(["sha256sum", *top, "proofs/SHA256SUMS"], cwd=out, capture_output=True, check=True)
    (out / "SHA256SUMS").write_bytes(sums.stdout)


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> int:
    """Exports write 4 proofs per file (1,024 otherwise), so the quarter's runs span shards."""
    import affidavit.export.write

    monkeypatch.setattr(affidavit.export.write, "SHARD_SIZE", 4)
    return 4


def test_proofs_spanning_shards_verify_and_each_run_is_found_in_its_shard(
    quarter: Quarter, tmp_path: Path, small_shards: int
) -> None:
    """Line ``p % size + 1`` of shard ``p // size`` proves the run at position ``p``, whichever shard
    it is in, and ``verify --run`` finds it there by its id."""
    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    doc = json.loads((out / "period.json").read_text())
    assert doc["merkle"]["proof_shard_size"] == small_shards
    shards = -(-quarter.runs // small_shards)
    names = [f"{n:06d}.jsonl" for n in range(shards)]
    assert sorted(p.name for p in (out / "proofs").iterdir()) == [*names, "SHA256SUMS"]
    assert [line.split("  ")[1] for line in (out / "proofs" / "SHA256SUMS").read_text().splitlines()] == names
    assert verify(out, "--key", str(quarter.pub)).exit_code == 0
    for n, line in enumerate((out / "population.jsonl").read_text().splitlines()):
        run_id = json.loads(line)["run_id"]
        shard, at = _proof_line(out, run_id)
        assert (shard.name, at) == (names[n // small_shards], n % small_shards)
        assert json.loads(shard.read_text().splitlines()[at])["entry"]["run_id"] == run_id
        found = json.loads(verify(out, "--run", run_id, "--format", "json").output)
        assert found["ok"] and found["leaf_index"] == n, found


@pytest.mark.parametrize("change", ["swapped", "moved", "dropped-line", "extra-shard", "missing-shard"])
def test_proof_lines_out_of_place_fail_verify_even_with_the_listings_rewritten(
    quarter: Quarter, tmp_path: Path, small_shards: int, change: str
) -> None:
    """Hostile: every line left a valid proof, but two swapped inside a shard, one moved to the next
    shard, one dropped, a shard added or taken away; with both SHA256SUMS rewritten to match, verify
    still refuses, and names the shard."""
    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    first, second = out / "proofs" / "000000.jsonl", out / "proofs" / "000001.jsonl"
    a, b = first.read_bytes().splitlines(keepends=True), second.read_bytes().splitlines(keepends=True)
    if change == "swapped":
        a[0], a[1] = a[1], a[0]
    elif change == "moved":
        b.insert(0, a.pop())
    elif change == "dropped-line":
        b.pop()
    if change == "extra-shard":
        (out / "proofs" / "000099.jsonl").write_bytes(a[0])
    elif change == "missing-shard":
        second.unlink()
    else:
        first.write_bytes(b"".join(a))
        second.write_bytes(b"".join(b))
    if change != "missing-shard":
        _resum(out)
        # sha256sum alone accepts every one of these folders (it checks only the listed files)
        assert (
            subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out / "proofs").returncode == 0
        )
    result = verify(out, "--allow-unsigned", "--format", "json")
    assert result.exit_code == 1, result.output
    problems = json.loads(result.output)["problems"]
    assert any("proofs/0000" in p for p in problems), problems


def test_an_export_without_sharded_proofs_is_refused_with_what_to_do(
    quarter: Quarter, tmp_path: Path
) -> None:
    """An export whose period.json names no proof shard size (one proof file per run, as affidavit
    wrote them before proofs were packed) is not half-checked: verify and verify --run say why."""
    out = tmp_path / "audit"
    assert export(quarter, out, sign=False).exit_code == 0
    doc = json.loads((out / "period.json").read_text())
    del doc["merkle"]["proof_shard_size"]
    (out / "period.json").write_text(json.dumps(doc))
    _resum(out)
    run_id = json.loads((out / "population.jsonl").read_text().splitlines()[0])["run_id"]
    for args in ((), ("--run", run_id)):
        result = verify(out, *args, "--allow-unsigned", "--format", "json")
        assert result.exit_code == 1 and "proof_shard_size" in result.output, result.output


def test_a_population_line_that_is_no_entry_fails_verify_even_when_everything_is_recomputed(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Hostile, without the signing key: one population line replaced by something that is not a
    run's entry, and the rest made consistent with it (Merkle root, population hash, every proof,
    both SHA256SUMS). Only the signature could tell, and the export is unsigned: verify still
    refuses it for what the line is, and does not crash on it."""
    from affidavit.export.merkle import MerkleLevels, leaf_hash
    from affidavit.export.proofs import shards

    out = tmp_path / "audit"
    assert export(quarter, out, sign=False).exit_code == 0
    lines = (out / "population.jsonl").read_bytes().splitlines()
    lines[1] = b'["not", "an", "entry", "\\u001b[31m"]'
    (out / "population.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    tree = MerkleLevels()
    try:
        for line in lines:
            tree.add(leaf_hash(line))
        root = tree.build()
        doc = json.loads((out / "period.json").read_text())
        for name, proof_lines, _ in shards(tree, iter(lines), doc["period"]["name"], root, 1024):
            (out / "proofs" / name).write_bytes(b"".join(proof_lines))
    finally:
        tree.close()
    import hashlib

    doc["merkle"]["root"] = root.hex()
    doc["population"]["sha256"] = hashlib.sha256((out / "population.jsonl").read_bytes()).hexdigest()
    (out / "period.json").write_text(json.dumps(doc))
    _resum(out)
    result = verify(out, "--allow-unsigned", "--format", "json")
    assert result.exit_code == 1, result.output
    problems = json.loads(result.output)["problems"]
    assert problems == ["population.jsonl line(s) 2: not a population entry in its place"], problems


def test_the_interpreters_switch_interval_is_shortened_for_the_export_only(
    quarter: Quarter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export shortens the interval at which threads take the interpreter's lock (its fetching
    and writing threads waited 5 ms for it each time) and gives the caller's back, after a
    success as after a failure."""
    import sys

    import affidavit.export.write as write

    seen: list[float] = []
    real = write._write

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(sys.getswitchinterval())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(write, "_write", spy)
    before = sys.getswitchinterval()
    assert export(quarter, tmp_path / "a").exit_code == 0
    assert sys.getswitchinterval() == before and seen == [min(before, 0.0005)]
    _edit_run(Path(quarter.url.removeprefix("sqlite://")), 2, rehash=False)
    assert export(quarter, tmp_path / "b").exit_code == 3
    assert sys.getswitchinterval() == before and len(seen) == 2
