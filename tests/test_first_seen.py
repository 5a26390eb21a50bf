"""Remediation windows counted from when a finding was first seen in the run history (issue 12 part 5).

Real gate runs of the demo GO release into a real SQLite store. The release's Trivy report is
changed in Trivy's own shape (``trivy image --format json``, schema 2: ``Results[].Vulnerabilities[]``
with ``VulnerabilityID``, ``PkgName``, ``InstalledVersion``, ``FixedVersion``, ``Severity`` and
``PublishedDate``; https://trivy.dev/latest/docs/configuration/reporting/#json): one CRITICAL
finding with a fix (window 15 days in prod) and the MEDIUM one it holds (window 90 days), both
published in January 2025, long before the runs.

Run 1 on day D records them; run 2 on D+20 counts each window from D: the critical is 20 days old,
beyond its 15 days (the message says "first seen in the run history on D"), the medium is 20 days
old, inside its 90. The same run with ``--no-record`` counts from publication and says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from affidavit.model.findings import finding_key
from affidavit.store import open_store
from tests.attacks.support import DIGEST, GateResult, gate, release
from tests.conftest import results_validator, schema_errors

RULE = "vulnerabilities.fixable_within_window"
DAY_D = "2026-11-20T12:00:00Z"
DAY_D20 = "2026-12-10T12:00:00Z"
DAY_D30 = "2026-12-20T12:00:00Z"
PUBLISHED = "2025-01-02T10:00:00Z"
PYJWT = finding_key("vulnerability", "CVE-2026-28877", "pyjwt", "2.10.1")
URLLIB3 = finding_key("vulnerability", "CVE-2026-30112", "urllib3", "2.2.3")
#: The two findings of the release with no fix, dated too (nothing here judges them by a window).
UNFIXED = (
    finding_key("vulnerability", "CVE-2026-41021", "libexpat1", "2.5.0-1+deb12u1"),
    finding_key("vulnerability", "CVE-2025-0167", "libc6", "2.36-9+deb12u9"),
)
FIRST_SEEN_MSG = (
    "CVE-2026-28877 (critical) in pyjwt 2.10.1, target Python: fixed in 2.10.2, "
    "first seen in the run history on 2026-11-20 (20 days ago), beyond the 15-day window for critical"
)
PUBLISHED_MSG = (
    "CVE-2026-28877 (critical) in pyjwt 2.10.1, target Python: fixed in 2.10.2, "
    "published 2025-01-02 (707 days ago), beyond the 15-day window for critical"
)


def _release(tmp_path: Path) -> Path:
    """The demo GO release with a fixable critical (pyjwt) beside the medium (urllib3), both
    published in January 2025."""
    folder = release(tmp_path, "go")
    path = folder / "trivy-image.json"
    report = json.loads(path.read_text())
    python = next(r for r in report["Results"] if r["Target"] == "Python")
    urllib3 = python["Vulnerabilities"][0]
    urllib3["PublishedDate"] = PUBLISHED
    pyjwt = json.loads(json.dumps(urllib3))
    pyjwt.update(
        {
            "VulnerabilityID": "CVE-2026-28877",
            "PkgID": "pyjwt@2.10.1",
            "PkgName": "pyjwt",
            "PkgIdentifier": {"PURL": "pkg:pypi/pyjwt@2.10.1"},
            "InstalledVersion": "2.10.1",
            "FixedVersion": "2.10.2",
            "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2026-28877",
            "Title": "pyjwt: algorithm confusion with non-blocklisted public key formats",
            "Severity": "CRITICAL",
            "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 9.8}},
        }
    )
    python["Vulnerabilities"].append(pyjwt)
    path.write_text(json.dumps(report, indent=2))
    return folder


def _run(tmp_path: Path, evidence: Path, store: str, now: str, out: str, *extra: str) -> GateResult:
    """One gate run (a replay of ``now``) recording into ``store`` unless ``extra`` says otherwise."""
    result = gate(tmp_path, evidence, "--store", store, *extra, now=now, out=out)
    assert result.exit_code in (0, 1, 3), (result.exit_code, result.stderr)
    assert not schema_errors(results_validator(), result.results)
    return result


def _rule(result: GateResult) -> dict[str, Any]:
    rule: dict[str, Any] = next(r for r in result.results["rules"] if r["id"] == RULE)
    return rule


def _messages(result: GateResult) -> list[str]:
    return [v["msg"] for v in _rule(result)["violations"]]


def _history_input(result: GateResult) -> dict[str, Any] | None:
    inputs = result.results["configuration"]["inputs"]
    found = [i for i in inputs if i["role"] == "history"]
    assert len(found) <= 1
    return found[0] if found else None


def _store(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def test_window_counts_from_first_seen_on_a_two_run_example(tmp_path: Path) -> None:
    """The issue's "done when": a remediation window shown counted from first seen, on two runs."""
    evidence = _release(tmp_path)
    store = _store(tmp_path, "history.db")

    first = _run(tmp_path, evidence, store, DAY_D, "run1")
    assert _rule(first)["outcome"] == "fail"
    # Nothing in the history yet: both windows count from publication, and the messages say so.
    assert any(m.startswith(PUBLISHED_MSG.replace("707", "687")) for m in _messages(first)), _messages(first)
    assert any("CVE-2026-30112 (medium)" in m and "published 2025-01-02" in m for m in _messages(first))
    assert _history_input(first) is None
    assert "first seen: the run history dated no finding" in first.stdout

    second = _run(tmp_path, evidence, store, DAY_D20, "run2")
    messages = _messages(second)
    print("run 2 (D+20, history of run 1):", *messages, sep="\n  ")
    # The critical's 15 days count from D, when run 1 saw it: 20 days, overdue; the message names
    # the sighting. The medium's 90 days also count from D: 20 days, inside its window.
    assert _rule(second)["outcome"] == "fail"
    assert [m for m in messages if "CVE-2026-28877" in m] == [
        FIRST_SEEN_MSG + " (vulnerabilities.remediation_days.critical)"
    ]
    assert not any("CVE-2026-30112" in m for m in messages), messages
    assert not any("published" in m for m in messages)
    details = next(v["details"] for v in _rule(second)["violations"] if "CVE-2026-28877" in v["msg"])
    assert details["counted_from"] == "first_seen" and details["known_since"] == DAY_D
    assert "first seen: 4 finding(s) dated by first sighting in the run history" in second.stdout

    # What the history answered is recorded: the sha256 of the canonical first-seen map, and how
    # many findings it dated; the bundle's record of the scan carries the dates it was judged with.
    seen = dict.fromkeys((PYJWT, URLLIB3, *UNFIXED), DAY_D)
    history = _history_input(second)
    assert history is not None
    canonical = json.dumps(seen, sort_keys=True, separators=(",", ":")).encode()
    assert history["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert history["value"] == "4 finding(s) dated by first sighting"
    bundle = second.bundles[0]
    scan = next(
        json.loads(p.read_text())
        for p in (bundle / "evidence").glob("*.record.json")
        if json.loads(p.read_text())["kind"] == "vulnerability-scan"
    )
    dated = {f["id"]: f.get("first_seen") for f in scan["data"]["findings"]}
    assert dated == dict.fromkeys(
        ("CVE-2026-41021", "CVE-2025-0167", "CVE-2026-30112", "CVE-2026-28877"), DAY_D
    )
    report = (bundle / "PRODUCTION_GO_EVIDENCE.md").read_text()
    assert "first seen in the run history on 2026-11-20" in report
    assert "| history |" in report


def test_no_record_falls_back_to_publication_and_says_so(tmp_path: Path) -> None:
    """--no-record consults no history: the windows count from publication, the message and the
    summary say so, and the run is another run than the one the history dated."""
    evidence = _release(tmp_path)
    store = _store(tmp_path, "history.db")
    _run(tmp_path, evidence, store, DAY_D, "run1")
    dated = _run(tmp_path, evidence, store, DAY_D20, "run2")
    unrecorded = _run(tmp_path, evidence, store, DAY_D20, "run3", "--no-record")

    messages = _messages(unrecorded)
    print("run 2 with --no-record:", *messages, sep="\n  ")
    assert [m for m in messages if "CVE-2026-28877" in m] == [
        PUBLISHED_MSG + " (vulnerabilities.remediation_days.critical)"
    ]
    assert any(
        "CVE-2026-30112 (medium)" in m and "published 2025-01-02 (707 days ago)" in m for m in messages
    )
    assert not any("run history" in m for m in messages)
    assert _history_input(unrecorded) is None
    assert (
        "first seen: history not consulted (--no-record): remediation windows count from publication dates"
        in (unrecorded.stdout)
    )
    # The history changed the verdict on urllib3, so it is part of the run id.
    assert dated.results["run_id"] != unrecorded.results["run_id"]
    assert dated.results["run_id"].split("-")[0] == unrecorded.results["run_id"].split("-")[0]  # same moment


def test_a_history_that_dates_nothing_is_the_same_run_as_none(tmp_path: Path) -> None:
    """A store that has never seen the findings changes no verdict, so the run id is the one of
    --no-record; a store that has seen them gives another run id."""
    evidence = _release(tmp_path)
    empty = _run(tmp_path, evidence, _store(tmp_path, "empty.db"), DAY_D20, "a")
    unrecorded = _run(tmp_path, evidence, _store(tmp_path, "unused.db"), DAY_D20, "b", "--no-record")
    assert empty.results["run_id"] == unrecorded.results["run_id"]
    assert _messages(empty) == _messages(unrecorded)


def test_a_finding_seen_for_another_subject_name_does_not_count(tmp_path: Path) -> None:
    """History is per subject name: run 1 records the same findings for ghcr.io/acme/other (same
    digest, same scan); run 2 for ghcr.io/acme/shop counts from publication."""
    evidence = _release(tmp_path)
    store = _store(tmp_path, "history.db")
    _run(tmp_path, evidence, store, DAY_D, "run1", "--subject", f"ghcr.io/acme/other@{DIGEST}")
    held = open_store(store, create=False)
    try:
        # The store does hold the sighting, under the other name only.
        assert held.first_seen("ghcr.io/acme/other", [PYJWT]) == {PYJWT: DAY_D}
        assert held.first_seen("ghcr.io/acme/shop", [PYJWT]) == {}
    finally:
        held.close()
    second = _run(tmp_path, evidence, store, DAY_D20, "run2")
    assert [m for m in _messages(second) if "CVE-2026-28877" in m] == [
        PUBLISHED_MSG + " (vulnerabilities.remediation_days.critical)"
    ]
    assert _history_input(second) is None


def test_a_run_evaluated_later_does_not_date_an_earlier_one(tmp_path: Path) -> None:
    """A replay of a later moment (D+30) is in the history but after run 2's evaluation time (D+20):
    it dates nothing, so a later run can never make a window start later for an earlier moment."""
    evidence = _release(tmp_path)
    store = _store(tmp_path, "history.db")
    _run(tmp_path, evidence, store, DAY_D30, "later")
    second = _run(tmp_path, evidence, store, DAY_D20, "run2")
    assert [m for m in _messages(second) if "CVE-2026-28877" in m] == [
        PUBLISHED_MSG + " (vulnerabilities.remediation_days.critical)"
    ]
    assert _history_input(second) is None
    # And the earliest sighting wins: a run on D, recorded after the D+30 one, dates from D.
    _run(tmp_path, evidence, store, DAY_D, "run1")
    third = _run(tmp_path, evidence, store, DAY_D20, "run3")
    assert [m for m in _messages(third) if "CVE-2026-28877" in m] == [
        FIRST_SEEN_MSG + " (vulnerabilities.remediation_days.critical)"
    ]


def test_the_pipeline_takes_from_history_only_what_it_asked_before_its_time(tmp_path: Path) -> None:
    """Hostile history: an answer with a sighting after the evaluation time, one that is not a
    time, one with no zone and a key that was never asked is not used; a sighting the history did
    not give never dates a finding. Only the valid, earlier sighting dates its finding."""
    from affidavit.pipeline import GateRequest, run_gate, split_subject
    from tests.attacks.support import COMMIT, DEMO, DEMO_PARAMS, SUBJECT

    evidence = _release(tmp_path)
    name, digest = split_subject(SUBJECT)
    asked: list[tuple[str, list[str], str]] = []

    def hostile(subject_name: str, keys: Any, before: str) -> dict[str, str]:
        asked.append((subject_name, list(keys), before))
        return {
            PYJWT: "2026-12-30T00:00:00Z",  # after the evaluation time
            URLLIB3: "last tuesday",
            UNFIXED[0]: "2026-11-20T12:00:00",  # no zone
            finding_key("vulnerability", "CVE-9999-0001", "x", "1"): "2026-01-01T00:00:00Z",  # never asked
        }

    def request(first_seen: Any) -> GateRequest:
        return GateRequest(
            evidence_paths=(evidence,),
            environment="prod",
            subject_name=name,
            subject_digest=digest,
            now=datetime(2026, 12, 10, 12, 0, tzinfo=UTC),
            replay=True,
            commit=COMMIT,
            param_files=(DEMO_PARAMS,),
            public_key=DEMO / "cosign.pub",
            first_seen=first_seen,
        )

    judged = run_gate(request(hostile))
    assert asked and asked[0][0] == "ghcr.io/acme/shop" and asked[0][2] == DAY_D20
    assert PYJWT in asked[0][1] and URLLIB3 in asked[0][1]
    assert all(k.startswith('["vulnerability",') for k in asked[0][1])
    scan = next(e for e in judged.evidence if e.kind.value == "vulnerability-scan")
    assert not any("first_seen" in f for f in scan.data["findings"])
    assert not any(c.role == "history" for c in judged.run.configuration)
    plain = run_gate(request(None))
    assert judged.run.run_id == plain.run.run_id

    def honest(subject_name: str, keys: Any, before: str) -> dict[str, str]:
        return {PYJWT: DAY_D}

    dated = run_gate(request(honest))
    scan = next(e for e in dated.evidence if e.kind.value == "vulnerability-scan")
    assert {f["id"]: f.get("first_seen") for f in scan.data["findings"] if "first_seen" in f} == {
        "CVE-2026-28877": DAY_D
    }
    # The collected record was not changed in place: the undated run's record holds no date.
    plain_scan = next(e for e in plain.evidence if e.kind.value == "vulnerability-scan")
    assert not any("first_seen" in f for f in plain_scan.data["findings"])
    assert dated.run.run_id != plain.run.run_id


def test_backtest_judges_a_run_with_the_dates_it_had(tmp_path: Path) -> None:
    """The stored record of a dated run carries its first_seen dates, so a backtest with no new rule
    changes nothing: run 2's medium finding passes again (counted from D), where the publication
    date would fail it."""
    from click.testing import CliRunner

    from affidavit.cli import main

    evidence = _release(tmp_path)
    path = evidence / "trivy-image.json"
    report = json.loads(path.read_text())
    python = next(r for r in report["Results"] if r["Target"] == "Python")
    python["Vulnerabilities"] = [v for v in python["Vulnerabilities"] if v["PkgName"] != "pyjwt"]
    path.write_text(json.dumps(report, indent=2))  # the medium urllib3 is the one fixable finding
    store = _store(tmp_path, "history.db")
    first = _run(tmp_path, evidence, store, DAY_D, "run1")
    second = _run(tmp_path, evidence, store, DAY_D20, "run2")
    assert (_rule(first)["outcome"], _rule(second)["outcome"]) == ("fail", "pass")
    result = CliRunner().invoke(
        main, ["backtest", "--store", store, "--since", "2026-11-01", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    backtest = json.loads(result.stdout)
    assert backtest["runs"] == 2 and backtest["changed"] == 0, backtest


def test_a_history_that_cannot_be_read_counts_from_publication_and_exits_3(tmp_path: Path) -> None:
    """Fail closed: a store that cannot be reached dates nothing (publication counts), says so, never
    shows the URL's password, and the gate exits 3 (its windows did not use the history it was given)."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    evidence = _release(tmp_path)
    url = f"postgresql://affidavit:pw-never-shown@127.0.0.1:{port}/history"
    result = gate(tmp_path, evidence, "--store", url, now=DAY_D20, out="run")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert "affidavit: error: the run history could not date the findings" in result.stderr
    assert "first seen: the run history could not be read (see the error)" in result.stdout
    assert "pw-never-shown" not in result.stdout + result.stderr
    assert [m for m in _messages(result) if "CVE-2026-28877" in m] == [
        PUBLISHED_MSG + " (vulnerabilities.remediation_days.critical)"
    ]
    assert _history_input(result) is None
