"""``affidavit diff OLD NEW`` exits 1 when the decision or any rule got worse, so a pipeline can
gate on regressions, and 0 otherwise; ``--format json`` says the same (``regressed``)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.bundle.diff import diff_runs
from affidavit.cli import main
from affidavit.model import Decision, Outcome, Run
from tests.bundle.support import signer_and_key, write
from tests.model.runs import sample_run

RULE = "vulnerabilities.fixable_within_window"


def _with(outcome: Outcome) -> Run:
    return sample_run(outcome=outcome)


@pytest.mark.parametrize(
    ("old", "new", "worse"),
    [
        (Outcome.PASS, Outcome.FAIL, True),
        (Outcome.PASS, Outcome.NOT_APPLICABLE, True),  # nothing checked is not a pass
        (Outcome.PASS, Outcome.WAIVED, True),
        (Outcome.WAIVED, Outcome.NOT_APPLICABLE, False),
        (Outcome.NOT_APPLICABLE, Outcome.WARN, True),
        (Outcome.WARN, Outcome.INSUFFICIENT_EVIDENCE, True),
        (Outcome.INSUFFICIENT_EVIDENCE, Outcome.FAIL, True),
        (Outcome.FAIL, Outcome.ERROR, True),
        (Outcome.FAIL, Outcome.PASS, False),
        (Outcome.ERROR, Outcome.INSUFFICIENT_EVIDENCE, False),
        (Outcome.FAIL, Outcome.FAIL, False),
    ],
)
def test_a_rule_that_got_worse_is_a_regression(old: Outcome, new: Outcome, worse: bool) -> None:
    found = diff_runs(_with(old), _with(new))
    assert any(r.startswith(f"{RULE}: ") for r in found.regressions) is worse
    assert found.to_json()["regressed"] is bool(found.regressions)


def test_a_rule_gone_is_worse_and_a_new_rule_is_worse_only_when_it_warns_or_blocks() -> None:
    old = _with(Outcome.PASS)
    gone = replace(old, rules=())
    assert diff_runs(old, gone).regressions == [f"{RULE}: pass -> absent (the rule is no longer checked)"]
    assert diff_runs(gone, old).regressions == []
    assert diff_runs(gone, _with(Outcome.WARN)).regressions == [f"{RULE}: absent -> warn"]


def test_the_decision_getting_worse_is_a_regression() -> None:
    go, nogo = _with(Outcome.PASS), _with(Outcome.FAIL)
    incomplete = replace(nogo, decision=Decision.INCOMPLETE)
    assert "decision GO -> NO-GO" in diff_runs(go, nogo).regressions
    assert "decision NO-GO -> INCOMPLETE" in diff_runs(nogo, incomplete).regressions
    assert not any(r.startswith("decision") for r in diff_runs(incomplete, nogo).regressions)


def test_new_messages_under_the_same_outcome_are_listed_not_a_regression() -> None:
    old = sample_run(outcome=Outcome.FAIL, message="CVE-1 in a")
    new = sample_run(outcome=Outcome.FAIL, message="CVE-2 in b")
    found = diff_runs(old, new)
    assert found.rules and found.rules[0]["added"] == ["CVE-2 in b"]
    assert found.regressions == []
    assert found.to_text().endswith("nothing got worse")


def test_diff_command_exit_codes_and_json(tmp_path: Path) -> None:
    """On real bundles: NO-GO after GO exits 1, GO after NO-GO exits 0; with --key both must be
    signed by it (an unsigned one is refused, exit 3)."""
    signer, _, public = signer_and_key(tmp_path / "keys")
    go = write(tmp_path / "a", signer, Outcome.PASS)
    nogo = write(tmp_path / "b", signer, Outcome.FAIL)
    runner = CliRunner()
    worse = runner.invoke(main, ["diff", str(go.path), str(nogo.archive), "--format", "json"])
    assert worse.exit_code == 1, worse.output
    doc = json.loads(worse.stdout)
    assert doc["regressed"] is True and "decision GO -> NO-GO" in doc["regressions"]
    better = runner.invoke(main, ["diff", str(nogo.path), str(go.path), "--key", str(public)])
    assert better.exit_code == 0, better.output + better.stderr
    assert "nothing got worse" in better.stdout
    text = runner.invoke(main, ["diff", str(go.path), str(nogo.path)])
    assert text.exit_code == 1 and "worse:\n  decision GO -> NO-GO" in text.stdout
    plain = write(tmp_path / "c", None, Outcome.PASS)
    refused = runner.invoke(main, ["diff", str(plain.path), str(go.path), "--key", str(public)])
    assert refused.exit_code == 3 and "unsigned" in refused.stderr
