"""Each run's summary (chain version 2) against the export and ``history verify``, and runs recorded
before summaries (chain version 1, a schema-1 store migrated) still exported as before.

The store is ``conftest.quarter``'s: real gate runs. A forger here is the database owner (the
append-only triggers dropped) who edits the ``runs`` table directly.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

from affidavit.store import open_store
from affidavit.store.record import chain_hash, derive_summary, sha256_hex
from tests.export.conftest import Quarter, gate
from tests.export.test_export import export, verify


def _db(q: Quarter) -> Path:
    return Path(q.url.removeprefix("sqlite://"))


def _connect(db: Path) -> sqlite3.Connection:
    """The store as its owner, the append-only triggers dropped."""
    conn = sqlite3.connect(db, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    return conn


def _problems(q: Quarter) -> list[str]:
    store = open_store(q.url)
    try:
        return [f"#{p.seq} {p.problem}" for p in store.verify().problems]
    finally:
        store.close()


def _summary(db: Path, seq: int) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        return dict(json.loads(conn.execute("SELECT summary FROM runs WHERE seq = ?", (seq,)).fetchone()[0]))
    finally:
        conn.close()


def _set_summary(db: Path, seq: int, summary: dict[str, Any], *, rehash: bool) -> None:
    """Write ``summary`` (canonical) for run ``seq``; with ``rehash`` its chain hash recomputed too
    (and the next run's link and the head moved along, so the chain itself looks intact)."""
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    conn = _connect(db)
    try:
        conn.execute("UPDATE runs SET summary = ? WHERE seq = ?", (text, seq))
        if rehash:
            _relink(conn, seq)
    finally:
        conn.close()


def _relink(conn: sqlite3.Connection, start: int) -> None:
    """Recompute every chain hash from run ``start`` on (each run's own formula: version 2 when it
    has a summary, 1 without) and the chain head."""
    prev = conn.execute("SELECT hash FROM runs WHERE seq = ?", (start - 1,)).fetchone()
    prev_hash = prev[0] if prev else "0" * 64
    rows = conn.execute(
        "SELECT seq, payload, payload_sha256, summary FROM runs WHERE seq >= ? ORDER BY seq", (start,)
    ).fetchall()
    for seq, payload, payload_sha, summary in rows:
        if summary is None:
            digest = chain_hash(seq, prev_hash, sha256_hex(zlib.decompress(payload)))
        else:
            digest = chain_hash(seq, prev_hash, payload_sha, sha256_hex(summary.encode()))
        conn.execute("UPDATE runs SET prev_hash = ?, hash = ? WHERE seq = ?", (prev_hash, digest, seq))
        prev_hash = digest
    conn.execute("UPDATE chain_head SET hash = ? WHERE id = 1", (prev_hash,))


def test_every_run_the_gate_records_has_a_summary_derived_from_its_payload(quarter: Quarter) -> None:
    """New runs: payload sha256 and summary columns set, the summary small and what derive_summary
    makes of the payload, the chain hash version 2; history verify finds the store intact."""
    conn = sqlite3.connect(_db(quarter))
    rows = conn.execute("SELECT seq, payload, payload_sha256, summary, prev_hash, hash FROM runs").fetchall()
    conn.close()
    assert len(rows) == quarter.runs
    for seq, payload, payload_sha, summary, prev_hash, digest in rows:
        raw = zlib.decompress(payload)
        assert payload_sha == sha256_hex(raw)
        assert summary.encode() == derive_summary(json.loads(raw))
        assert len(summary) < 2500 < 20 * 2500 < len(raw)
        assert digest == chain_hash(seq, prev_hash, payload_sha, sha256_hex(summary.encode()))
        assert digest != chain_hash(seq, prev_hash, payload_sha)  # not the version-1 formula
    waived = [json.loads(r[3]) for r in rows if json.loads(r[3])["waived"]]
    assert len(waived) == 1 and waived[0]["waived"][0]["waiver"]["owner"] == "platform-team"
    assert _problems(quarter) == []


def test_an_edited_summary_is_refused_by_the_export(quarter: Quarter, tmp_path: Path) -> None:
    """Hostile: a NO-GO run's summary (its decision and its control outcomes) rewritten to pass,
    its chain hash left: the export refuses the run (exit 3) and leaves nothing."""
    db = _db(quarter)
    summary = _summary(db, 2)
    assert summary["decision"] == "NO-GO" and "F" in summary["controls"]["soc2"]
    summary["decision"] = "GO"
    summary["controls"]["soc2"] = summary["controls"]["soc2"].replace("F", "P")
    _set_summary(db, 2, summary, rehash=False)
    refused = export(quarter, tmp_path / "audit")
    assert refused.exit_code == 3, refused.output
    assert "does not match its chain hash" in refused.output and not (tmp_path / "audit").exists()


def test_an_edited_payload_sha256_column_is_refused_by_the_export(quarter: Quarter, tmp_path: Path) -> None:
    """Hostile: the payload sha256 column changed (to cover an edited payload): the export refuses."""
    conn = _connect(_db(quarter))
    conn.execute("UPDATE runs SET payload_sha256 = ? WHERE seq = 3", ("0" * 64,))
    conn.close()
    refused = export(quarter, tmp_path / "audit")
    assert refused.exit_code == 3 and "does not match its chain hash" in refused.output


def test_a_rehashed_summary_that_disagrees_with_the_payload_is_caught_by_history_verify(
    quarter: Quarter, tmp_path: Path
) -> None:
    """Hostile, thorough: the summary forged and the whole chain re-hashed over it. The export's
    per-run check holds (the summary is what the chain covers), so the forgery shows in what the
    export says of the run; ``history verify`` (the payload against the summary) names the run."""
    db = _db(quarter)
    summary = _summary(db, 2)
    summary["controls"]["soc2"] = summary["controls"]["soc2"].replace("F", "P")
    _set_summary(db, 2, summary, rehash=True)
    assert _problems(quarter) == ["#2 its summary does not match its recorded content (edited)"]
    # the column copy of what a summary holds must agree with it: an edited column is refused
    conn = _connect(db)
    conn.execute("UPDATE runs SET decision = 'GO' WHERE seq = 2")
    conn.close()
    refused = export(quarter, tmp_path / "audit")
    assert refused.exit_code == 3 and "indexed columns do not match" in refused.output
    problems = _problems(quarter)
    assert "#2 its column 'decision' does not match its recorded content (edited)" in problems


def test_an_edited_payload_is_caught_by_history_verify_only(quarter: Quarter, tmp_path: Path) -> None:
    """Hostile: the payload rewritten, its summary, sha256 column and hash left: the export, which
    reads the summary, is unchanged; ``history verify`` finds the payload no longer hashes to its
    payload sha256 and disagrees with its summary."""
    before = tmp_path / "before"
    assert export(quarter, before).exit_code == 0
    db = _db(quarter)
    conn = _connect(db)
    payload = json.loads(
        zlib.decompress(conn.execute("SELECT payload FROM runs WHERE seq = 4").fetchone()[0])
    )
    payload["run"]["decision"] = "GO" if payload["run"]["decision"] != "GO" else "NO-GO"
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    conn.execute(
        "UPDATE runs SET payload = ?, payload_size = ? WHERE seq = 4", (zlib.compress(raw), len(raw))
    )
    conn.close()
    problems = _problems(quarter)
    assert any(p.startswith("#4 its content does not match its hash") for p in problems), problems
    assert "#4 its summary does not match its recorded content (edited)" in problems


def test_proof_lines_are_canonical_json_and_each_proves_its_run(quarter: Quarter, tmp_path: Path) -> None:
    """The proofs are formatted by hand for speed: each line is byte for byte the canonical JSON of
    itself, names its run's population line and place, and holds by RFC 9162's algorithm alone."""
    from affidavit.export.build import canonical
    from affidavit.export.merkle import leaf_hash, verify_inclusion

    out = tmp_path / "audit"
    assert export(quarter, out).exit_code == 0
    doc = json.loads((out / "period.json").read_text())
    assert doc["merkle"]["proof_shard_size"] == 1024
    assert sorted(p.name for p in (out / "proofs").iterdir()) == ["000000.jsonl", "SHA256SUMS"]
    population = (out / "population.jsonl").read_bytes().splitlines()
    lines = (out / "proofs" / "000000.jsonl").read_bytes().splitlines()
    assert len(lines) == len(population) == quarter.runs
    root = bytes.fromhex(doc["merkle"]["root"])
    for n, (line, entry) in enumerate(zip(lines, population, strict=True)):
        proof = json.loads(line)
        assert canonical(proof) == line
        assert canonical(proof["entry"]) == entry and proof["leaf_index"] == n
        assert proof["leaf_hash"] == leaf_hash(entry).hex()
        assert (proof["tree_size"], proof["root"], proof["period"]) == (
            len(population),
            root.hex(),
            doc["period"]["name"],
        )
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert verify_inclusion(leaf_hash(entry), n, len(population), path, root)


def _to_schema_1(db: Path) -> None:
    """The store as affidavit before schema 2 would have recorded the same runs: no summary, no
    payload sha256 column, version-1 chain links; schema version 1."""
    conn = _connect(db)
    try:
        conn.execute("UPDATE runs SET summary = NULL, payload_sha256 = NULL")
        _relink(conn, 1)
        conn.execute("ALTER TABLE runs DROP COLUMN summary")
        conn.execute("ALTER TABLE runs DROP COLUMN payload_sha256")
        conn.execute("DELETE FROM affidavit_schema WHERE version > 1")
    finally:
        conn.close()


def _without_chain(doc: dict[str, Any]) -> dict[str, Any]:
    """period.json without what depends on the chain hashes (and where the store is)."""
    doc = json.loads(json.dumps(doc))
    for key in ("store",):
        doc.pop(key)
    for key in ("sha256",):
        doc["population"].pop(key)
    doc["merkle"].pop("root")
    for run in doc["sample"]["runs"]:
        run.pop("chain_hash")
    doc["sample"].pop("population_sha256")
    return doc


def test_runs_recorded_before_summaries_export_as_before_and_new_runs_chain_after_them(
    quarter: Quarter, tmp_path: Path
) -> None:
    """A schema-1 store (the quarter's runs, version-1 links) migrates when opened; its runs are
    read from their payloads and export to the same period.json as the same runs with summaries
    (all but what the chain hashes change: population hash, root, each line's chain hash, and the
    sample, drawn by the population hash); a new run then chains after them with version 2, and
    ``history verify`` holds for both kinds."""
    new = tmp_path / "new"
    assert export(quarter, new, "--sample-size", str(quarter.runs)).exit_code == 0
    db = _db(quarter)
    _to_schema_1(db)
    conn = sqlite3.connect(db)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)").fetchall()]
    conn.close()
    assert "summary" not in columns
    old = tmp_path / "old"
    result = export(quarter, old, "--sample-size", str(quarter.runs))  # opening migrates to schema 2
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE summary IS NULL").fetchone() == (quarter.runs,)
    assert conn.execute("SELECT MAX(version) FROM affidavit_schema").fetchone() == (2,)
    conn.close()
    a, b = (json.loads((d / "period.json").read_text()) for d in (new, old))
    assert _without_chain(a) == _without_chain(b)
    assert a["merkle"]["root"] != b["merkle"]["root"]
    lines = [[json.loads(x) for x in (d / "population.jsonl").read_text().splitlines()] for d in (new, old)]
    for x, y in zip(*lines, strict=True):
        assert x.pop("chain_hash") != y.pop("chain_hash")
        assert x == y  # the same payload sha256, decision, subject, time, bundle digest, place
    assert (new / "waivers.jsonl").read_bytes() == (old / "waivers.jsonl").read_bytes()
    assert verify(old, "--key", str(quarter.pub)).exit_code == 0
    assert _problems(quarter) == []
    gate(quarter.url, tmp_path / "reports", "go", "2026-12-03T08:00:00Z")  # recorded after the migration
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT seq, summary IS NOT NULL FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
    conn.close()
    assert row == (quarter.runs + 1, 1)
    assert _problems(quarter) == []
    mixed = tmp_path / "mixed"
    assert export(quarter, mixed).exit_code == 0
    assert json.loads((mixed / "period.json").read_text())["population"]["runs"] == quarter.runs + 1


def test_the_audit_paths_of_a_block_of_leaves_are_each_leafs_proof() -> None:
    """``MerkleLevels.block_paths`` (a block's shared path read once, the rest built level by level)
    gives each leaf's hash and ``proof(i)``, for trees of every shape (odd nodes carried up, powers
    of two, one leaf) and blocks from one leaf to more than the tree; anything but an aligned block
    of a power of two leaves is refused."""
    import pytest

    from affidavit.export.merkle import MerkleLevels, leaf_hash

    for size in (1, 2, 3, 5, 8, 13, 100, 1025):
        tree = MerkleLevels()
        try:
            for i in range(size):
                tree.add(leaf_hash(str(i).encode()))
            tree.build()
            for block in (1, 2, 4, 64, 4096):
                got: list[tuple[bytes, bytes]] = []
                for start in range(0, size, block):
                    leaves, paths = tree.block_paths(start, block)
                    assert len(leaves) == len(paths) == min(block, size - start)
                    got += zip(leaves, paths, strict=True)
                assert [(leaf.decode(), json.loads(b"[" + path + b"]")) for leaf, path in got] == [
                    (leaf_hash(str(i).encode()).hex(), [h.hex() for h in tree.proof(i)]) for i in range(size)
                ]
            for start, block in ((0, 3), (1, 2), (size, 1), (0, 0)):
                with pytest.raises(IndexError):
                    tree.block_paths(start, block)
        finally:
            tree.close()
