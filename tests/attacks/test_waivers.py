"""Attacks through ``--waivers``: the gate cannot be talked into GO by whoever writes the waivers.

Issue 9, finding 2. Each test is the attack as it was reproduced on the NO-GO demo (or an empty
evidence folder) and asserts that the release stays NO-GO or that the waivers are refused (exit 2,
naming the file and the waiver, never quoting it). Waiver governance is rule data
(``waivers:`` in policies/params.yaml, docs/params.md); the prod values are the built-in defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

from affidavit.policy.loader import load_policy_set
from tests.attacks.support import DIGEST, gate, release

#: The ten rules the NO-GO demo fails in prod.
FAILING = (
    "change_management.approval_recorded",
    "code_analysis.no_blocking_findings",
    "iac.no_open_admin_ports",
    "iac.protected_resource_changes",
    "secrets.no_secrets",
    "source_control.admins_enforced",
    "source_control.code_owner_review",
    "source_control.no_force_push",
    "source_control.required_reviews",
    "vulnerabilities.fixable_within_window",
)
#: A reason no reviewer would accept; it must never be echoed by a refusal.
SHIP_IT = '"ship it"'


def _write(tmp_path: Path, items: list[dict[str, str]], name: str = "waivers.yaml") -> Path:
    """A waivers file: one YAML list item per mapping, each value written as given (YAML text)."""
    lines: list[str] = []
    for item in items:
        for n, (key, value) in enumerate(item.items()):
            lines.append(("- " if n == 0 else "  ") + f"{key}: {value}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _governed(rule: str, **changes: str) -> dict[str, str]:
    """A waiver as prod rule data wants it: owner and a different approver, 14 days, this release."""
    item = {
        "rule": rule,
        "reason": '"the fix lands in the next release; the risk was reviewed in RISK-12"',
        "owner": "sam.release-manager",
        "approver": "dana.security",
        "expires": "2026-12-04",  # 14 days after the demo's evaluation time
        "subject": DIGEST,
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v}


def _refused(result_stderr: str, waivers: Path, index: int, problem: str) -> None:
    assert result_stderr.startswith(f"affidavit: error: {waivers}: waivers[{index}]"), result_stderr
    assert problem in result_stderr, result_stderr
    assert "Traceback" not in result_stderr


def test_ten_blanket_waivers_by_x_until_3000_are_refused(tmp_path: Path) -> None:
    # Before: GO, exit 0, every failing rule (the change-approval rule included) "waived".
    waivers = _write(
        tmp_path,
        [{"rule": rule, "reason": SHIP_IT, "owner": "x", "expires": "3000-01-01"} for rule in FAILING],
    )
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.bundles == []
    # The sixth waiver in force is one too many in prod (waivers.max_active: 5).
    assert f"{waivers}: waivers[5]: one waiver too many" in result.stderr
    assert "ship it" not in result.stderr


def test_ten_well_formed_waivers_still_cannot_make_the_demo_go(tmp_path: Path) -> None:
    # An owner, a different approver and a short expiry do not make ten waivers acceptable in
    # prod: more than waivers.max_active (5) are in force. Before: GO, exit 0.
    waivers = _write(tmp_path, [_governed(rule, subject="") for rule in FAILING])
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "waivers.max_active" in result.stderr
    assert result.bundles == []


def test_a_waiver_of_the_change_approval_rule_is_refused_in_prod(tmp_path: Path) -> None:
    # Before: exit 1, but change_management.approval_recorded was "waived" in the bundle.
    waivers = _write(
        tmp_path,
        [
            _governed("vulnerabilities.fixable_within_window"),
            _governed("change_management.approval_recorded"),
        ],
    )
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    _refused(result.stderr, waivers, 1, "cannot be waived in this environment (waivers.unwaivable)")
    # The same waiver as it was written before scopes existed is refused for the same reason.
    alone = _write(tmp_path, [_governed("change_management.approval_recorded", subject="")], "alone.yaml")
    result = gate(tmp_path, release(tmp_path / "alone"), "--waivers", str(alone), out="out-alone")
    assert result.exit_code == 2, result.stdout + result.stderr
    _refused(result.stderr, alone, 0, "waivers.unwaivable")
    assert result.bundles == []


def test_the_other_unwaivable_rules_are_refused_in_prod(tmp_path: Path) -> None:
    for n, rule in enumerate(
        (
            "supply_chain.signature_verified",
            "supply_chain.provenance_trusted",
            "supply_chain.same_subject",
        )
    ):
        waivers = _write(tmp_path, [_governed(rule, subject="")], name=f"w{n}.yaml")
        result = gate(tmp_path, release(tmp_path / str(n)), "--waivers", str(waivers), out=f"out-{n}")
        assert result.exit_code == 2, (rule, result.stderr)
        _refused(result.stderr, waivers, 0, "waivers.unwaivable")


def test_thirty_waivers_over_an_empty_evidence_folder_are_refused_in_prod(tmp_path: Path) -> None:
    # Before: GO, exit 0, with 0 evidence.
    empty = tmp_path / "empty"
    empty.mkdir()
    rules = load_policy_set(()).ids
    assert len(rules) == 31
    waivers = _write(
        tmp_path, [{"rule": r, "reason": SHIP_IT, "owner": "x", "expires": "3000-01-01"} for r in rules]
    )
    result = gate(tmp_path, empty, "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.bundles == []


def test_an_empty_evidence_folder_is_never_go_through_waivers(tmp_path: Path) -> None:
    # Even where the rule data lets 100 waivers cover missing evidence (a dev override), a run
    # that judged no evidence at all applies none of them.
    empty = tmp_path / "empty"
    empty.mkdir()
    params = tmp_path / "lax.yaml"
    params.write_text(
        "environments:\n"
        "  dev:\n"
        "    waivers:\n"
        "      max_active: 100\n"
        "      allow_insufficient_evidence: true\n"
        "      require_approver: false\n"
        "      require_scope: false\n"
        "      unwaivable: []\n",
        encoding="utf-8",
    )
    rules = load_policy_set(()).ids
    waivers = _write(
        tmp_path, [{"rule": r, "reason": SHIP_IT, "owner": "x", "expires": "2026-12-01"} for r in rules]
    )
    result = gate(tmp_path, empty, "--waivers", str(waivers), "--params", str(params), "--environment", "dev")
    assert result.exit_code == 1, result.stdout + result.stderr
    outcomes = {r["id"]: r["outcome"] for r in result.results["rules"]}
    assert "waived" not in outcomes.values()
    judged = [r for r in result.results["rules"] if r["outcome"] == "insufficient_evidence"]
    assert len(judged) >= 20
    for rule in judged:
        assert "the run judged no evidence at all" in rule["reason"], rule["id"]


def test_owner_and_approver_must_be_different_people(tmp_path: Path) -> None:
    waivers = _write(
        tmp_path,
        [
            _governed(
                "vulnerabilities.fixable_within_window",
                owner="sam.release-manager",
                approver='" Sam.Release-Manager "',
                subject="",
            )
        ],
    )
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    _refused(result.stderr, waivers, 0, "approver must be someone other than the owner")
    assert "Sam.Release-Manager" not in result.stderr


def test_prod_requires_an_approver(tmp_path: Path) -> None:
    # Before: exit 1 with the rule waived on the owner's word alone.
    waivers = _write(tmp_path, [_governed("vulnerabilities.fixable_within_window", approver="", subject="")])
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    _refused(result.stderr, waivers, 0, "needs an approver in this environment (waivers.require_approver)")


def test_an_expiry_beyond_the_maximum_lifetime_is_refused(tmp_path: Path) -> None:
    # 31 days after the evaluation time: one day beyond prod's 30. 9999-12-31 crashed (exit 3) before.
    for n, expires in enumerate(("2026-12-21", "3000-01-01", "9999-12-31", "2026-12-21T00:00:00Z")):
        waivers = _write(
            tmp_path,
            [_governed("vulnerabilities.fixable_within_window", expires=expires, subject="")],
            name=f"w{n}.yaml",
        )
        result = gate(tmp_path, release(tmp_path / str(n)), "--waivers", str(waivers), out=f"out-{n}")
        assert result.exit_code == 2, (expires, result.stdout + result.stderr)
        _refused(result.stderr, waivers, 0, "expires more than 30 days after the evaluation time")
    # The last day allowed is accepted.
    waivers = _write(tmp_path, [_governed("vulnerabilities.fixable_within_window", expires="2026-12-20")])
    result = gate(tmp_path, release(tmp_path / "ok"), "--waivers", str(waivers), out="out-ok")
    assert result.exit_code == 1, result.stderr
    assert result.outcome("vulnerabilities.fixable_within_window") == "waived"


def test_prod_requires_a_scope(tmp_path: Path) -> None:
    waivers = _write(tmp_path, [_governed("vulnerabilities.fixable_within_window", subject="")])
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 2, result.stdout + result.stderr
    _refused(result.stderr, waivers, 0, "needs a scope in this environment")


def test_a_waiver_for_another_release_does_not_apply(tmp_path: Path) -> None:
    other = "sha256:" + "0" * 64
    waivers = _write(tmp_path, [_governed("vulnerabilities.fixable_within_window", subject=other)])
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 1, result.stderr
    rule = next(r for r in result.results["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == "fail"
    assert f"waiver not used: it is for subject {other}, not this run's" in rule["reason"]


def test_missing_evidence_cannot_be_waived_in_prod(tmp_path: Path) -> None:
    # Before: the rule that lacks its SBOM was "waived". Even with scopes not required (an
    # override of this one key), prod does not let a waiver stand in for missing evidence.
    evidence = release(tmp_path)
    (evidence / "sbom.cdx.json").unlink()
    params = tmp_path / "no-scope.yaml"
    params.write_text("defaults:\n  waivers:\n    require_scope: false\n", encoding="utf-8")
    waivers = _write(tmp_path, [_governed("supply_chain.sbom_present", subject="")])
    result = gate(tmp_path, evidence, "--waivers", str(waivers), "--params", str(params))
    assert result.exit_code == 1, result.stdout + result.stderr
    rule = next(r for r in result.results["rules"] if r["id"] == "supply_chain.sbom_present")
    assert rule["outcome"] == "insufficient_evidence"
    assert "missing evidence cannot be waived in this environment" in rule["reason"]
    assert rule["waiver"] is None


def test_a_waiver_scoped_to_one_cve_hides_only_that_cve(tmp_path: Path) -> None:
    # A second fixable finding beyond its window: urllib3's CVE-2026-30112 rated HIGH (fixed in
    # 2.2.4, published 2026-10-02, so 49 days old against a 7-day window). Trivy JSON:
    # https://trivy.dev/latest/docs/configuration/reporting/#json
    evidence = release(tmp_path)
    scan = evidence / "trivy-image.json"
    report = json.loads(scan.read_text(encoding="utf-8"))
    for target in report["Results"]:
        for vuln in target.get("Vulnerabilities") or []:
            if vuln["VulnerabilityID"] == "CVE-2026-30112":
                vuln["Severity"] = "HIGH"
    scan.write_text(json.dumps(report, indent=2), encoding="utf-8")
    waivers = _write(
        tmp_path, [_governed("vulnerabilities.fixable_within_window", findings="[CVE-2026-28877]")]
    )
    result = gate(tmp_path, evidence, "--waivers", str(waivers))
    assert result.exit_code == 1, result.stdout + result.stderr
    rule = next(r for r in result.results["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == "fail"
    # The facts stay: both findings are listed; the reason says one was waived and one still fails.
    assert sorted(v["details"]["id"] for v in rule["violations"]) == ["CVE-2026-28877", "CVE-2026-30112"]
    assert "1 of 2 finding(s) waived by sam.release-manager" in rule["reason"]
    assert "1 still block(s)" in rule["reason"]


def test_a_governed_waiver_applies_and_says_who_approved_it(tmp_path: Path) -> None:
    waivers = _write(
        tmp_path, [_governed("vulnerabilities.fixable_within_window", findings="[CVE-2026-28877]")]
    )
    result = gate(tmp_path, release(tmp_path), "--waivers", str(waivers))
    assert result.exit_code == 1, result.stdout + result.stderr  # the other nine still block
    rule = next(r for r in result.results["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == "waived"
    assert rule["reason"].startswith(
        "waived by sam.release-manager until 2026-12-04 (approved by dana.security): the fix lands"
    )
    assert rule["waiver"]["approver"] == "dana.security"
    assert rule["waiver"]["findings"] == ["CVE-2026-28877"]
    assert rule["waiver"]["subject"] == DIGEST
