"""The store contract, run on both back ends (SQLite file, real PostgreSQL server).

Hostile cases first: ``verify`` must catch a run edited, deleted or reordered by someone with the
database owner's rights (who can drop the append-only triggers), and a derived row or a stored
evidence record changed behind the payload's back. The attacker model is the one issue 12 states:
"each run carries the hash of the previous run in its chain; history verify detects an edited,
deleted or reordered run".
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from affidavit.store import RunQuery, StoreError, open_store
from affidavit.store.migrations import LATEST
from affidavit.store.record import build_entry, finding_key
from tests.store.conftest import Judged, variant
from tests.store.support import fill, query, record, tamper


def _problems(url: str) -> list[str]:
    store = open_store(url)
    try:
        report = store.verify()
    finally:
        store.close()
    return [f"#{p.seq} {p.problem}" for p in report.problems]


# ---------------------------------------------------------------------------------------------
# Tampering, each kind on its own


def test_an_intact_chain_verifies(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 4)
    assert _problems(store_url) == []


def test_an_edited_decision_column_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 3)
    tamper(store_url, [("UPDATE runs SET decision = 'GO' WHERE seq = 2", ())])
    assert any("#2 its column 'decision'" in p for p in _problems(store_url))


def test_an_edited_payload_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    """The attacker rewrites the run's content consistently (payload and column say GO) but cannot
    recompute the hash without rewriting every later run and the head."""
    fill(store_url, demo_runs["no-go"], 3)
    (body,) = query(store_url, "SELECT payload FROM runs WHERE seq = 2")[0]
    doc = json.loads(zlib.decompress(bytes(body)))
    doc["run"]["decision"] = "GO"
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    tamper(
        store_url,
        [
            (
                "UPDATE runs SET payload = ?, payload_size = ?, decision = 'GO' WHERE seq = 2",
                (zlib.compress(raw), len(raw)),
            )
        ],
    )
    problems = _problems(store_url)
    assert any("#2 its content does not match its hash" in p for p in problems), problems


def test_a_deleted_run_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 4)
    tamper(
        store_url,
        [
            (f"DELETE FROM {t} WHERE seq = 2", ())
            for t in ("run_rules", "run_evidence", "run_findings", "run_waivers")
        ]
        + [("DELETE FROM runs WHERE seq = 2", ())],
    )
    problems = _problems(store_url)
    assert any("#3 follows run #1: 1 run(s) before it are missing" in p for p in problems), problems
    assert any("#3 its previous-run hash does not match" in p for p in problems), problems


def test_a_deleted_last_run_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 3)
    tamper(
        store_url,
        [
            (f"DELETE FROM {t} WHERE seq = 3", ())
            for t in ("run_rules", "run_evidence", "run_findings", "run_waivers")
        ]
        + [("DELETE FROM runs WHERE seq = 3", ())],
    )
    assert any("the chain head names run #3 but the last run held is #2" in p for p in _problems(store_url))


def test_reordered_runs_are_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 4)
    swap = []
    for table in ("runs", "run_rules", "run_evidence", "run_findings", "run_waivers"):
        swap += [
            (f"UPDATE {table} SET seq = 1000 WHERE seq = 2", ()),
            (f"UPDATE {table} SET seq = 2 WHERE seq = 3", ()),
            (f"UPDATE {table} SET seq = 3 WHERE seq = 1000", ()),
        ]
    if store_url.startswith("postgresql"):
        # The derived tables reference runs(seq): the attacker defers nothing, so move children last.
        swap = [s for s in swap if "runs " in s[0][:12]] + [s for s in swap if "runs " not in s[0][:12]]
        tamper(
            store_url,
            [
                ("ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + t + "_seq_fkey", ())
                for t in ("run_rules", "run_evidence", "run_findings", "run_waivers")
            ]
            + swap,
        )
    else:
        tamper(store_url, swap)
    problems = _problems(store_url)
    assert any("#2 its previous-run hash does not match" in p for p in problems), problems
    assert any("#2 its content does not match its hash" in p for p in problems), problems


def test_an_edited_rule_outcome_row_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 2)
    tamper(store_url, [("UPDATE run_rules SET outcome = 'pass' WHERE seq = 2 AND outcome = 'fail'", ())])
    assert any("#2 its rows in run_rules do not match" in p for p in _problems(store_url))


def test_a_removed_finding_row_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    """Hiding a finding from first_seen by deleting its row."""
    fill(store_url, demo_runs["no-go"], 2)
    tamper(store_url, [("DELETE FROM run_findings WHERE seq = 1 AND position = 0", ())])
    assert any("#1 its rows in run_findings do not match" in p for p in _problems(store_url))


def test_an_edited_evidence_record_is_caught(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 2)
    (hash_,) = query(store_url, "SELECT hash FROM records ORDER BY hash LIMIT 1")[0]
    tamper(
        store_url, [("UPDATE records SET body = ? WHERE hash = ?", (zlib.compress(b'{"data":{}}'), hash_))]
    )
    assert any("does not match its content hash" in p for p in _problems(store_url))


def test_updates_and_deletes_are_refused(store_url: str, demo_runs: dict[str, Judged]) -> None:
    """The append-only triggers stop an accidental UPDATE or DELETE (the chain catches a deliberate one)."""
    fill(store_url, demo_runs["no-go"], 1)
    for sql in (
        "UPDATE runs SET decision = 'GO'",
        "DELETE FROM runs",
        "DELETE FROM run_rules",
        "UPDATE records SET size = 0",
    ):
        with pytest.raises(Exception, match="append-only"):
            query(store_url, sql)
    assert _problems(store_url) == []


# ---------------------------------------------------------------------------------------------
# What a run leaves, and reading it back


def test_a_run_is_recorded_whole_and_read_back(store_url: str, demo_runs: dict[str, Judged]) -> None:
    judged = demo_runs["no-go"]
    store = open_store(store_url)
    try:
        done = record(store, judged, 1)
        assert (done.seq, done.already_recorded) == (1, False)
        stored = store.get(f"{judged.run.run_id}-0001")
        assert stored is not None
        assert stored.payload["run"] == variant(judged, 1).to_json()
        assert stored.summary.decision == "NO-GO" and stored.summary.subject_name == "ghcr.io/acme/shop"
        # The records come back as the pipeline made them (collection time included).
        assert [e.to_json() for e in store.evidence(stored)] == [e.to_json() for e in judged.evidence]
        # Findings with their keys and severities: the demo's critical pyjwt vulnerability.
        keys = {f["key"]: f["severity"] for f in stored.payload["findings"]}
        assert keys[finding_key("vulnerability", "CVE-2026-28877", "pyjwt", "2.10.1")] == "critical"
        assert any(k.startswith('["secret",') for k in keys) and any(k.startswith('["sast",') for k in keys)
        # The same run again is already recorded, with nothing added.
        again = record(store, judged, 1)
        assert again.already_recorded and again.seq == 1
        assert store.verify().runs == 1
    finally:
        store.close()


def test_a_run_id_held_with_another_decision_is_refused(store_url: str, demo_runs: dict[str, Judged]) -> None:
    from affidavit.model import Decision

    store = open_store(store_url)
    try:
        record(store, demo_runs["no-go"], 1)
        with pytest.raises(StoreError, match="another decision"):
            record(store, demo_runs["no-go"], 1, decision=Decision.GO)
        assert store.verify().runs == 1
    finally:
        store.close()


def test_filters(store_url: str, demo_runs: dict[str, Judged]) -> None:
    from affidavit.model import Decision

    store = open_store(store_url)
    try:
        record(store, demo_runs["no-go"], 1, time="2026-07-01T00:00:00Z")
        record(store, demo_runs["no-go"], 2, time="2026-08-01T00:00:00Z", environment="staging")
        record(store, demo_runs["no-go"], 3, time="2026-09-01T00:00:00Z", decision=Decision.GO)

        def ids(**kw: object) -> list[str]:
            return [r.run_id[-4:] for r in store.runs(RunQuery(**kw))]  # type: ignore[arg-type]

        assert ids() == ["0003", "0002", "0001"]
        assert ids(environment="staging") == ["0002"]
        assert ids(decision="GO") == ["0003"]
        assert ids(since="2026-08-01T00:00:00Z") == ["0003", "0002"]
        assert ids(until="2026-08-01T00:00:00Z") == ["0001"]
        assert ids(subject_name="ghcr.io/acme/shop", limit=1) == ["0003"]
        assert ids(subject_name="ghcr.io/acme/other") == []
        assert store.get("no-such-run") is None
        with pytest.raises(StoreError, match="more than one run id"):
            store.get(demo_runs["no-go"].run.run_id[:12])
    finally:
        store.close()


def test_first_seen_counts_from_the_earliest_run(store_url: str, demo_runs: dict[str, Judged]) -> None:
    """Two runs of the same subject: a finding present in both is first seen at the first run."""
    store = open_store(store_url)
    try:
        record(store, demo_runs["no-go"], 1, time="2026-10-01T12:00:00Z")
        record(store, demo_runs["no-go"], 2, time="2026-11-01T12:00:00Z")
        key = finding_key("vulnerability", "CVE-2026-28877", "pyjwt", "2.10.1")
        unseen = finding_key("vulnerability", "CVE-0000-0000", "x", "1")
        assert store.first_seen("ghcr.io/acme/shop", [key, unseen]) == {key: "2026-10-01T12:00:00Z"}
        assert store.first_seen("ghcr.io/acme/other", [key]) == {}
        assert store.first_seen("ghcr.io/acme/shop", [key], before="2026-10-01T12:00:00Z") == {}
    finally:
        store.close()


def test_migrations_are_applied_once_and_a_newer_schema_is_refused(
    store_url: str, demo_runs: dict[str, Judged]
) -> None:
    from affidavit.store.sql import SqlStore

    for _ in range(2):
        store = open_store(store_url)
        assert isinstance(store, SqlStore) and store.schema_version() == LATEST
        store.close()
    assert query(store_url, "SELECT COUNT(*) FROM affidavit_schema") == [(LATEST,)]
    tamper(
        store_url, [("INSERT INTO affidavit_schema VALUES (?, 'later', 'from the future')", (LATEST + 1,))]
    )
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}"):
        open_store(store_url)


def test_records_are_stored_once_by_content(store_url: str, demo_runs: dict[str, Judged]) -> None:
    fill(store_url, demo_runs["no-go"], 3)
    distinct = {e.id for e in demo_runs["no-go"].evidence}
    assert query(store_url, "SELECT COUNT(*) FROM records") == [(len(distinct),)]


def test_an_unreachable_store_is_a_clear_error(tmp_path: object, pg_server: str) -> None:
    port = pg_server.rsplit(":", 1)[1]
    with pytest.raises(StoreError, match="cannot be reached") as caught:
        open_store(f"postgresql://affidavit:s3cret-pw@127.0.0.1:{int(port) + 1}/nowhere")
    assert "s3cret-pw" not in caught.value.diagnostics()
    with pytest.raises(StoreError, match="not known"):
        open_store("mysql://db/x")


def test_build_entry_refuses_nothing_it_can_store(demo_runs: dict[str, Judged]) -> None:
    entry = build_entry(demo_runs["go"].run, demo_runs["go"].evidence, recorded_at="2026-12-01T00:00:00Z")
    assert entry.columns.run_id == demo_runs["go"].run.run_id
    assert len(entry.rows.rules) == len(demo_runs["go"].run.rules)
    assert {e.evidence_id for e in entry.rows.evidence} == {e.id for e in demo_runs["go"].evidence}


def test_every_store_of_the_table_opens_and_speaks_the_contract(tmp_path: Path, pg_url: str) -> None:
    from affidavit.store import STORES, Store

    urls = {
        "sqlite": f"sqlite:///{tmp_path / 'a.db'}",
        "postgresql": pg_url,
        "postgres": pg_url.replace("postgresql://", "postgres://", 1),
    }
    assert set(STORES) == set(urls)
    members = [m for m in dir(Store) if not m.startswith("_")]
    for url in urls.values():
        store = open_store(url)
        try:
            assert all(callable(getattr(store, m)) or m == "display" for m in members)
            assert store.verify().intact and store.display
        finally:
            store.close()


def test_where_the_default_store_lives(tmp_path: Path) -> None:
    from affidavit.store import default_store_url, sqlite_path

    assert default_store_url({"AFFIDAVIT_STORE": "postgresql://db/x", "HOME": "/h"}) == "postgresql://db/x"
    assert (
        default_store_url({"XDG_DATA_HOME": "/data", "HOME": "/h"}) == "sqlite:///data/affidavit/history.db"
    )
    assert default_store_url({"XDG_DATA_HOME": "relative", "HOME": "/h"}).endswith(
        "/h/.local/share/affidavit/history.db"
    )
    assert sqlite_path("sqlite:///var/lib/a.db") == Path("/var/lib/a.db")
    assert sqlite_path("sqlite:////var/lib/a.db") == Path("/var/lib/a.db")
    assert sqlite_path("sqlite:rel/a.db") == Path("rel/a.db")
    assert sqlite_path(str(tmp_path / "b.db")) == tmp_path / "b.db"
    with pytest.raises(StoreError, match="names no file"):
        sqlite_path("sqlite:")
