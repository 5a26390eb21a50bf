"""A rule that requires no single kind cites, on a pass, the records its METADATA says it stands on
(``custom.cites``), not every file of the release (issue 11: "the signature rule cites the evidence
that carried the signature, not every file")."""

from __future__ import annotations

from pathlib import Path

from tests.attacks.support import gate, release


def test_a_passing_signature_rule_cites_the_signed_records_only(tmp_path: Path) -> None:
    result = gate(tmp_path, release(tmp_path, "go"))
    assert result.exit_code == 0, result.stdout
    results = result.results
    kinds = {i["id"]: i["kind"] for i in results["inputs"]}
    rule = next(r for r in results["rules"] if r["id"] == "supply_chain.signature_verified")
    assert rule["outcome"] == "pass"
    cited = {kinds[i] for i in rule["evidence_ids"]}
    assert cited and cited <= {"signature", "provenance"}, cited
    assert len(rule["evidence_ids"]) < len(results["inputs"])
