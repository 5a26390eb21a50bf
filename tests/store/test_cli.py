"""The commands over the history: the gate recording (or saying it did not), ``history`` (list,
``show``, ``verify``) and ``backtest``, on a real SQLite store and the real demo release."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner, Result

from affidavit.cli import main
from affidavit.store import open_store
from affidavit.store.record import build_entry
from tests.store.conftest import DEMO, Judged, variant
from tests.store.support import tamper

_REFUSE_ACME = """# METADATA
# title: Nothing of acme ships this quarter
# description: A freeze for every acme image.
# custom:
#   id: acme.freeze
#   severity: high
#   requires: []
#   controls:
#     soc2: [CC8.1]
#   remediation: Wait for the freeze to end.
package affidavit.org.acme.freeze

deny contains {"msg": "acme images are frozen"} if {
	startswith(input.context.subject.name, "ghcr.io/acme/")
}
"""


def _gate(tmp_path: Path, *extra: str) -> Result:
    args = [
        "gate",
        "--evidence",
        str(DEMO / "go"),
        "--environment",
        "prod",
        "--subject",
        f"ghcr.io/acme/shop@{(DEMO / 'SUBJECT_DIGEST').read_text().strip()}",
        "--key",
        str(DEMO / "cosign.pub"),
        "--params",
        str(DEMO / "params.yaml"),
        "--commit",
        (DEMO / "COMMIT").read_text().strip(),
        "--now",
        "2026-11-20T12:00:00Z",
        "--replay",
        "--out",
        str(tmp_path / "reports"),
        *extra,
    ]
    return CliRunner().invoke(main, args)


def test_the_gate_records_and_history_reads_it_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    gate = _gate(tmp_path, "--store", url)
    assert gate.exit_code == 0, gate.output
    assert "history: recorded as run #1" in gate.output
    listing = CliRunner().invoke(main, ["history", "--store", url, "--format", "json"])
    assert listing.exit_code == 0, listing.output
    (run,) = json.loads(listing.output)["runs"]
    assert run["decision"] == "GO" and run["replay"] is True
    bundle = Path(run["bundle"]["path"])
    assert (
        run["bundle"]["manifest_sha256"]
        == hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    )
    table = CliRunner().invoke(
        main, ["history", "--store", url, "--subject", "ghcr.io/acme/shop", "-e", "production"]
    )
    assert run["run_id"] in table.output and "GO" in table.output
    none = CliRunner().invoke(main, ["history", "--store", url, "--since", "2026-12-01"])
    assert "no recorded run matches" in none.output
    show = CliRunner().invoke(main, ["history", "show", run["run_id"][:24], "--store", url])
    assert show.exit_code == 0, show.output
    # As the gate printed it: the gate's own summary lines, then where it is recorded.
    assert show.output.splitlines()[0] == gate.output.splitlines()[0]
    assert f"manifest sha256 {run['bundle']['manifest_sha256']}" in show.output
    verify = CliRunner().invoke(main, ["history", "verify", "--store", url])
    assert verify.exit_code == 0 and "history intact: 1 run(s)" in verify.output
    tamper(url, [("UPDATE runs SET decision = 'NO-GO'", ())])
    broken = CliRunner().invoke(main, ["history", "verify", "--store", url])
    assert broken.exit_code == 1 and "its column 'decision' does not match" in broken.output


def test_a_store_that_cannot_be_reached_makes_the_gate_exit_3_with_the_bundle_written(
    tmp_path: Path, pg_server: str
) -> None:
    port = int(pg_server.rsplit(":", 1)[1]) + 1
    result = _gate(tmp_path, "--store", f"postgresql://affidavit:pw-never-shown@127.0.0.1:{port}/x")
    assert result.exit_code == 3
    assert "cannot be reached" in result.output and "pw-never-shown" not in result.output
    assert "history: NOT recorded" in result.output
    assert [p.name for p in (tmp_path / "reports").iterdir() if p.is_dir()], "the bundle is still written"


def test_no_record_writes_no_history_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "never.db"
    result = _gate(tmp_path, "--store", f"sqlite:///{store}", "--no-record")
    assert result.exit_code == 0, result.output
    assert "NOT recorded (--no-record)" in result.output
    assert not store.exists()
    missing = CliRunner().invoke(main, ["history", "--store", f"sqlite:///{store}"])
    assert missing.exit_code == 3 and "there is no run history" in missing.output
    assert not store.exists(), "reading commands never create a store"


def test_history_escapes_what_runs_recorded(tmp_path: Path, demo_runs: dict[str, Judged]) -> None:
    """A subject name or environment carrying a terminal escape cannot rewrite the listing."""
    from affidavit.model import RunSubject

    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = open_store(url)
    judged = demo_runs["no-go"]
    hostile = variant(
        judged, 1, subject=RunSubject("evil\x1b[2J\nGO  ghcr.io/acme/shop", judged.run.subject.digest)
    )
    store.record(build_entry(hostile, judged.evidence, recorded_at="2026-12-01T00:00:00Z"))
    store.close()
    for args in (["history"], ["history", "show", hostile.run_id]):
        out = CliRunner().invoke(main, [*args, "--store", url]).output
        assert "\x1b" not in out and "\\x1b[2J" in out
        assert not any(line.startswith("GO  ghcr") for line in out.splitlines())


def test_backtest_reports_what_a_new_rule_would_change_and_writes_nothing(
    tmp_path: Path, demo_runs: dict[str, Judged]
) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = open_store(url)
    for n, release in enumerate(("go", "no-go")):
        judged = demo_runs[release]
        store.record(build_entry(variant(judged, n), judged.evidence, recorded_at="2026-12-01T00:00:00Z"))
    store.close()
    before = (tmp_path / "h.db").read_bytes()
    same = CliRunner().invoke(main, ["backtest", "--store", url, "--since", "2026-11-01", "--format", "json"])
    assert same.exit_code == 0, same.output
    unchanged = json.loads(same.output)
    assert (unchanged["runs"], unchanged["changed"]) == (2, 0), unchanged
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "freeze.rego").write_text(_REFUSE_ACME, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["backtest", "--store", url, "--policies", str(rules), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    by_decision = {r["decision"]["before"]: r for r in report["results"]}
    assert by_decision["GO"]["decision"] == {"before": "GO", "after": "NO-GO"}
    assert {"rule": "acme.freeze", "before": None, "after": "fail"} in by_decision["GO"]["changes"]
    assert by_decision["NO-GO"]["decision"] == {"before": "NO-GO", "after": "NO-GO"}
    text = CliRunner().invoke(main, ["backtest", "--store", url, "--policies", str(rules)])
    assert "GO -> NO-GO" in text.output and "nothing was written" in text.output
    assert (tmp_path / "h.db").read_bytes() == before
