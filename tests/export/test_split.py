"""A large PostgreSQL period read by two processes (``export/split.py``): the same export, byte for
byte, wherever the period is cut; one snapshot for both halves; an edited run in the second half
refused as one reader refuses it; the store's URL never on the second process's command line or in
its environment.

The store: the quarter's real gate runs (``conftest.gate``: the demo releases, one NO-GO waived)
recorded in a real PostgreSQL database, and variants of the demo's two judged runs recorded beside
them, several at the very same times (so the cut falls between runs of one time, ordered by seq),
in two environments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result

import affidavit.export.split as split
from affidavit.cli import main
from affidavit.export.period import parse_period
from affidavit.store import open_store
from affidavit.store.postgres import PostgresStore
from tests.export.conftest import DAYS, WAIVED_AT, WAIVER, gate
from tests.store.conftest import DEMO, demo_runs, pg_server  # noqa: F401  (fixtures reused)
from tests.store.support import record, tamper

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.store.conftest import Judged

#: Runs recorded beside the gate runs: (time, environment, release, judged with another policy
#: set), some at the gates' own times.
EXTRA = [
    (DAYS[0], "prod", "go", False),
    (DAYS[0], "prod", "no-go", False),
    (DAYS[0], "staging", "go", False),
    ("2026-11-20T18:00:00Z", "prod", "go", True),
    (DAYS[1], "prod", "no-go", False),
    (DAYS[1], "prod", "go", True),
    ("2026-11-23T00:00:00Z", "prod", "no-go", True),
    (DAYS[2], "prod", "go", False),
    (DAYS[2], "staging", "no-go", True),
    ("2026-11-28T08:00:00Z", "prod", "go", True),
    ("2026-11-28T08:00:00Z", "prod", "go", False),
    (DAYS[3], "prod", "no-go", False),
    ("2026-12-20T23:59:59Z", "prod", "go", True),
    ("2026-10-01T00:00:00Z", "prod", "no-go", False),
]
#: When the quarter's NO-GO release was gated with its open admin port waived.
WAIVED = (WAIVED_AT, "2026-11-25T10:00:00Z", "2026-12-03T10:00:00Z")


@pytest.fixture(scope="module")
def pg_quarter(
    pg_server: str,  # noqa: F811
    demo_runs: dict[str, Judged],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A PostgreSQL database holding the quarter's gate runs and the extra runs (filled once)."""
    import psycopg

    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "t_split_quarter"')
        conn.execute('CREATE DATABASE "t_split_quarter"')
    url = f"{pg_server}/t_split_quarter"
    folder = tmp_path_factory.mktemp("split-quarter")
    reports = folder / "reports"
    for now in DAYS:
        for release in ("go", "no-go"):
            gate(url, reports, release, now)
    waivers = folder / "waivers.yaml"
    waivers.write_text(WAIVER.format(digest=(DEMO / "SUBJECT_DIGEST").read_text().strip()))
    for when in WAIVED:
        gate(url, reports, "no-go", when, "--waivers", str(waivers))
    store = open_store(url)
    try:
        for n, (when, environment, release, other) in enumerate(EXTRA):
            judged = demo_runs[release]
            changes = {}
            if other:  # a policy file dropped: another policy set, another catalogue
                changes = {"policy_digest": "b" * 64, "policy_files": judged.run.policy_files[:-1]}
            record(store, judged, n, time=when, environment=environment, **changes)
    finally:
        store.close()
    yield url
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "t_split_quarter" WITH (FORCE)')


@pytest.fixture
def pg_copy(pg_quarter: str, pg_server: str) -> Iterator[str]:  # noqa: F811
    """A private copy of the quarter's database (a test may add to it or tamper with it)."""
    import psycopg

    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "t_split_copy"')
        conn.execute('CREATE DATABASE "t_split_copy" TEMPLATE "t_split_quarter"')
    yield f"{pg_server}/t_split_copy"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "t_split_copy" WITH (FORCE)')


@pytest.fixture
def deployments(tmp_path: Path) -> Path:
    """Deployments of the demo digest around the quarter's GO decisions (one before any GO)."""
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    path = tmp_path / "deployments.csv"
    path.write_text(
        "digest,environment,time\n"
        f"{digest},prod,2026-11-20T11:00:00Z\n"
        f"{digest},production,2026-11-20T13:00:00Z\n"
        f"{digest},prod,2026-11-29T09:00:00Z\n"
        f"sha256:{'0' * 64},prod,2026-11-21T10:00:00Z\n"
    )
    return path


def export(url: str, out: Path, *extra: str) -> Result:
    """``affidavit export`` of 2026-Q4, unsigned (a signature differs from run to run)."""
    args = ["export", "--framework", "soc2", "--period", "2026-Q4", "--store", url]
    args += ["--sample-seed", "11", "--sample-size", "6", "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


def files(folder: Path) -> dict[str, bytes]:
    """Every file of an export folder by its path inside it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def two_readers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every period is cut (however few its runs, however many cores); the places the cut fell."""
    places: list[int] = []
    monkeypatch.setattr(split, "SPLIT_FROM", 1)
    monkeypatch.setattr(split, "_cpus", lambda: 2)
    middle = split.middle
    monkeypatch.setattr(split, "middle", lambda runs, shard: places[-1] if places else middle(runs, shard))
    return places


@pytest.mark.parametrize(("environment", "shard"), [(None, 4), ("prod", 1024)])
def test_the_export_read_by_two_processes_is_the_same_byte_for_byte_wherever_it_is_cut(
    pg_quarter: str,
    tmp_path: Path,
    two_readers: list[int],
    deployments: Path,
    environment: str | None,
    shard: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cut after the first run, in the middle, between two runs of one time, before the last:
    population, waiver ledger, proofs, their listing, period.json (the sample) and reports equal
    those of one reader. The second process did read its half, and, when its first run starts a
    proof shard, wrote the later shards."""
    import affidavit.export.write

    monkeypatch.setattr(affidavit.export.write, "SHARD_SIZE", shard)
    extra = ["--deployments", str(deployments)] + (["--environment", environment] if environment else [])
    monkeypatch.setattr(split, "SPLIT_FROM", 10**9)
    alone = tmp_path / "alone"
    assert export(pg_quarter, alone, *extra).exit_code == 0
    expected = files(alone)
    runs = json.loads(expected["period.json"])["population"]["runs"]
    assert runs >= 15
    monkeypatch.setattr(split, "SPLIT_FROM", 1)
    halves: list[int] = []
    proofs: list[int] = []
    real_init, real_proofs = split.SecondHalf.__init__, split.SecondHalf.proofs

    def noted(self: split.SecondHalf, *args: Any, **kwargs: Any) -> None:
        halves.append(args[5])
        real_init(self, *args, **kwargs)

    def proved(self: split.SecondHalf, *args: Any, **kwargs: Any) -> None:
        proofs.append(self.position)
        real_proofs(self, *args, **kwargs)

    monkeypatch.setattr(split.SecondHalf, "__init__", noted)
    monkeypatch.setattr(split.SecondHalf, "proofs", proved)
    cuts = sorted({1, 2, 3, 4, 5, 6, 7, 8, runs // 2, runs - 1})
    for place in cuts:
        two_readers.append(place)
        out = tmp_path / f"cut-{place}"
        result = export(pg_quarter, out, *extra)
        assert result.exit_code == 0, result.output
        assert halves[-1] == place
        assert (proofs[-1:] == [place]) == (place % shard == 0)
        got = files(out)
        assert got.keys() == expected.keys()
        for name in expected:
            assert got[name] == expected[name], f"{name} differs when cut at {place}"
    assert proofs == [place for place in cuts if place % shard == 0]
    assert len(proofs) >= (2 if shard == 4 else 0)
    doc = json.loads(expected["period.json"])
    assert doc["waivers"]["applied"] >= 3 and doc["deployments"]["exceptions"]
    assert len(doc["policy_changes"]) == 2
    assert doc["policy_changes"][1]["changes"]["policy_files_removed"]
    assert len(doc["sample"]["runs"]) == 6


def test_both_halves_read_one_snapshot_while_a_gate_records(
    pg_copy: str,
    demo_runs: dict[str, Judged],  # noqa: F811
) -> None:
    """The second connection joins the first's snapshot: a run recorded after the snapshot was shared
    is in neither reader's view, and is there for a reader that starts afterwards."""
    period = parse_period("2026-Q4")
    first = open_store(pg_copy)
    assert isinstance(first, PostgresStore)
    writer = open_store(pg_copy)
    try:
        with first.pinned():
            before = first.count(period.since, period.until)
            snapshot = first.share_snapshot()
            record(writer, demo_runs["go"], 900, time="2026-11-25T00:00:00Z")
            second = PostgresStore.another_reader(first.reader_url(), snapshot)
            try:
                with second.pinned():
                    assert second.count(period.since, period.until) == before
                    assert len(list(second.scan(period.since, period.until))) == before
            finally:
                second.close()
            assert first.count(period.since, period.until) == before
        assert first.count(period.since, period.until) == before + 1
    finally:
        first.close()
        writer.close()


def test_a_snapshot_id_that_is_not_postgresqls_is_refused_before_it_reaches_sql(pg_quarter: str) -> None:
    """The id goes into ``SET TRANSACTION SNAPSHOT`` as text: anything but PostgreSQL's shape is
    refused first."""
    from affidavit.store.interface import StoreError

    for hostile in ("00000003-0000001B-1'; DROP TABLE runs; --", "", "x"):
        with pytest.raises(StoreError, match="not one PostgreSQL makes"):
            PostgresStore.another_reader(pg_quarter, hostile)


def test_an_edited_run_in_the_second_half_is_refused_as_one_reader_refuses_it(
    pg_copy: str, tmp_path: Path, two_readers: list[int]
) -> None:
    """Hostile: the last run of the period rewritten in place. The second process finds it; the
    export stops with the message one reader gives, and leaves nothing."""
    (seq,) = tamper_last(pg_copy)
    two_readers.append(3)
    refused = export(pg_copy, tmp_path / "refused")
    assert refused.exit_code == 3, refused.output
    assert f"(#{seq}) does not match its chain hash" in refused.output
    assert not (tmp_path / "refused").exists()
    assert not list(tmp_path.glob(".affidavit-second-half-*"))


def tamper_last(url: str) -> tuple[int]:
    """The period's last run's payload digest changed behind the store's back; its seq."""
    from tests.store.support import query

    (seq,) = query(
        url, "SELECT seq FROM runs WHERE time < ? ORDER BY time DESC, seq DESC LIMIT 1", ("2027-01-01",)
    )[0]
    tamper(url, [("UPDATE runs SET payload_sha256 = ? WHERE seq = ?", ("0" * 64, seq))])
    return (int(seq),)


def test_the_url_reaches_the_second_process_through_a_pipe_only(
    pg_quarter: str, tmp_path: Path, two_readers: list[int]
) -> None:
    """A password in the store URL is on neither the second process's command line nor in its
    environment (both readable by other users of the machine through /proc)."""
    url = pg_quarter.replace("postgresql://affidavit@", "postgresql://affidavit:hunter2-secret@")
    store = open_store(url)  # trust authentication: the password is ignored, and kept in the URL
    assert isinstance(store, PostgresStore)
    period = parse_period("2026-Q4")
    try:
        with store.pinned():
            key = store.key_at(period.since, period.until, None, 3)
            assert key is not None
            half = split.SecondHalf(store, period, "soc2", None, key, 3, (), tmp_path)
            try:
                pid = half._process.pid
                seen = [Path(f"/proc/{pid}/cmdline").read_bytes(), Path(f"/proc/{pid}/environ").read_bytes()]
            finally:
                half.close()
    finally:
        store.close()
    assert seen[0] and all(b"hunter2" not in blob for blob in seen)


def test_a_second_process_that_dies_stops_the_export_with_what_happened(
    pg_quarter: str, tmp_path: Path, two_readers: list[int]
) -> None:
    """The second process killed before it answers: ``finish`` raises an error naming its exit (no
    wait for ever, no half-merged population), and ``close`` leaves no files behind."""
    from affidavit.errors import Error
    from affidavit.export.build import PeriodBuilder
    from affidavit.export.deployments import Reconciler

    store = open_store(pg_quarter)
    assert isinstance(store, PostgresStore)
    period = parse_period("2026-Q4")
    try:
        with (
            store.pinned(),
            (tmp_path / "p").open("wb") as population,
            (tmp_path / "w").open("wb") as waivers,
        ):
            key = store.key_at(period.since, period.until, None, 5)
            assert key is not None
            half = split.SecondHalf(store, period, "soc2", None, key, 5, (), tmp_path)
            half._process.kill()
            builder = PeriodBuilder(period, "soc2", population, waivers, start=5)
            try:
                with pytest.raises(Error, match=r"stopped without an answer \(exit code -9"):
                    half.finish(builder, Reconciler([], period.since, period.until))
            finally:
                half.close()
                builder.tree.close()
            assert builder.runs == 5
    finally:
        store.close()
    assert not list(tmp_path.glob(".affidavit-second-half-*"))


SCRIPT = """\
import sys
from pathlib import Path
import affidavit.export.split as split
from affidavit.export.period import parse_period
from affidavit.export.write import ExportRequest, export_period
from affidavit.store import open_store

split.SPLIT_FROM, split._cpus = 1, lambda: 2
print("the script ran", flush=True)
store = open_store(sys.argv[1])
result = export_period(store, ExportRequest(parse_period("2026-Q4"), "soc2", None, Path(sys.argv[2]), 5))
print("runs", result.period["population"]["runs"], flush=True)
"""


def test_a_script_without_a_main_guard_can_export_with_two_processes(pg_quarter: str, tmp_path: Path) -> None:
    """The library used from a plain script (no ``if __name__ == "__main__"``): the second process
    imports only affidavit, never the script again (as ``multiprocessing``'s spawn would, and
    fail)."""
    import subprocess
    import sys

    script = tmp_path / "export_quarter.py"
    script.write_text(SCRIPT)
    out = tmp_path / "audit"
    done = subprocess.run(
        [sys.executable, str(script), pg_quarter, str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("the script ran") == 1
    assert "runs " in done.stdout and (out / "period.json").is_file()
