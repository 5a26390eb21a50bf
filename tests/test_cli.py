"""End to end through the command line, on the demo release and on the real corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from tests.conftest import CORPUS, REPO, results_validator, schema_errors

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
COMMIT = (DEMO / "COMMIT").read_text().strip()
SUBJECT = f"ghcr.io/acme/shop@{DIGEST}"
NOW = "2026-11-20T12:00:00Z"
FAKE_SECRET = "AKIA" + "DEMO7EXAMPLE0KEY9X2Q"


def _gate(
    tmp_path: Path, evidence: Path, *extra: str, out: str = "out", subject: str = SUBJECT
) -> tuple[int, str, str, Path | None]:
    runner = CliRunner()
    args = [
        "gate",
        "--evidence",
        str(evidence),
        "--environment",
        "prod",
        "--subject",
        subject,
        "--commit",
        COMMIT,
        "--now",
        NOW,
        "--replay",
        "--out",
        str(tmp_path / out),
        "--key",
        str(DEMO / "cosign.pub"),
        "--params",
        str(DEMO / "params.yaml"),  # the demo organisation's trusted signer, builder, checks
        *extra,
    ]
    result = runner.invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    bundles = [p for p in (tmp_path / out).glob("*") if p.is_dir()] if (tmp_path / out).exists() else []
    return result.exit_code, result.stdout, result.stderr, bundles[0] if bundles else None


def _results(bundle: Path) -> dict[str, Any]:
    """A bundle's results.json, validated against the published results schema first."""
    loaded: dict[str, Any] = json.loads((bundle / "results.json").read_text())
    errors = schema_errors(results_validator(), loaded)
    assert not errors, [e[:200] for e in errors[:5]]
    return loaded


def test_go_release_exits_0_and_writes_a_verifiable_bundle(tmp_path: Path) -> None:
    code, out, err, bundle = _gate(tmp_path, DEMO / "go")
    assert code == 0, out + err
    assert out.startswith("GO ")
    assert bundle is not None
    results = _results(bundle)
    assert results["decision"] == "GO"
    outcomes = {r["id"]: r["outcome"] for r in results["rules"]}
    assert not {k: v for k, v in outcomes.items() if v in ("fail", "error", "insufficient_evidence")}
    report = (bundle / "PRODUCTION_GO_EVIDENCE.md").read_text()
    assert "# Production go/no-go evidence: GO" in report
    assert DIGEST in report
    verify = CliRunner().invoke(main, ["verify", str(bundle), "--allow-unsigned"])
    assert verify.exit_code == 0, verify.output
    assert verify.output.startswith("OK")


def test_nogo_release_fails_on_at_least_five_controls_in_both_frameworks(tmp_path: Path) -> None:
    code, out, err, bundle = _gate(tmp_path, DEMO / "no-go")
    assert code == 1, out + err
    assert out.startswith("NO-GO ")
    assert bundle is not None
    results = _results(bundle)
    failing_rules = {r["id"] for r in results["rules"] if r["outcome"] == "fail"}
    assert {
        "vulnerabilities.fixable_within_window",
        "secrets.no_secrets",
        "source_control.required_reviews",
        "source_control.no_force_push",
        "iac.protected_resource_changes",
        "iac.no_open_admin_ports",
        "code_analysis.no_blocking_findings",
    } <= failing_rules
    failing_soc2 = {c["id"] for c in results["controls"]["soc2"] if c["outcome"] == "fail"}
    failing_iso = {c["id"] for c in results["controls"]["iso27001-2022"] if c["outcome"] == "fail"}
    assert len(failing_soc2 | failing_iso) >= 5
    assert {"CC8.1", "CC7.1", "CC6.1", "CC6.6"} <= failing_soc2
    assert {"A.8.8", "A.8.32", "A.8.20"} <= failing_iso
    report = (bundle / "PRODUCTION_GO_EVIDENCE.md").read_text()
    assert "## Why promotion is blocked" in report
    for rule in results["rules"]:
        if rule["outcome"] == "fail":
            assert rule["remediation"] in report
    # Markdown structure: every blocking rule is its own section, every bullet its own line
    assert "\n\n### 2. " in report and "\n\n## Controls\n" in report
    assert ")- **" not in report and "\n- **Fix:** " in report
    # each failure names the control in both frameworks
    assert "SOC 2 CC8.1" in report and "ISO 27001:2022 A.8.32" in report
    # the summary printed for the CI log: one line per blocking rule, with its fix
    assert out.count("fix: ") >= len(failing_rules)
    # the README quotes this very run (runs are deterministic, so its run id is too)
    assert f"run={bundle.name}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_bundles_are_byte_identical_for_identical_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A replay of the same moment with the same inputs is the same decision; the wall-clock time
    # of the run is recorded too, so SOURCE_DATE_EPOCH pins it for byte-identical bundles.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")
    _, _, _, a = _gate(tmp_path, DEMO / "no-go", out="a")
    _, _, _, b = _gate(tmp_path, DEMO / "no-go", out="b")
    assert a is not None and b is not None and a.name == b.name
    files_a = {p.relative_to(a): p.read_bytes() for p in sorted(a.rglob("*")) if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in sorted(b.rglob("*")) if p.is_file()}
    assert files_a == files_b
    assert (a.parent / f"{a.name}.tar.gz").read_bytes() == (b.parent / f"{b.name}.tar.gz").read_bytes()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    _, _, _, c = _gate(tmp_path, DEMO / "no-go", out="c")
    assert c is not None and c.name == a.name  # the wall clock is not part of the run id
    ra, rc = _results(a), _results(c)
    assert ra["clock"]["wall_clock"] != rc["clock"]["wall_clock"]
    ra["clock"]["wall_clock"] = rc["clock"]["wall_clock"]
    assert ra == rc  # the decision is identical, the recorded wall-clock time aside


def test_no_secret_reaches_the_bundle_or_the_output(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(DEMO / "no-go", evidence)
    for path in sorted((CORPUS / "scan-gitleaks").glob("*.json")):
        if path.name != "INDEX.json":
            shutil.copy(path, evidence / f"corpus-{path.name}")
    from affidavit.collectors.kinds.secrets import secret_values

    secrets = {FAKE_SECRET}
    for path in evidence.glob("*.json"):
        try:
            secrets |= {
                s for s in secret_values(path.read_bytes()) if len(s) >= 8 and not any(c.isspace() for c in s)
            }
        except ValueError:
            pass
    assert len(secrets) > 5
    code, out, err, bundle = _gate(tmp_path, evidence)
    assert code in (1, 3)
    assert bundle is not None
    blobs = [out, err] + [p.read_bytes().decode("utf-8", "replace") for p in bundle.rglob("*") if p.is_file()]
    for secret in secrets:
        for blob in blobs:
            assert secret not in blob


def test_unreadable_artefact_exits_3_and_still_writes_the_bundle(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(DEMO / "go", evidence)
    raw = (evidence / "trivy-image.json").read_bytes()
    (evidence / "trivy-image.json").write_bytes(raw[: len(raw) // 2])
    code, out, err, bundle = _gate(tmp_path, evidence)
    assert code == 3
    assert "trivy-image.json" in err
    assert bundle is not None
    results = _results(bundle)
    assert results["decision"] == "INCOMPLETE"
    assert results["input_errors"] and "trivy-image.json" in results["input_errors"][0]["source"]


def test_missing_evidence_kind_is_insufficient_not_pass(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(DEMO / "go", evidence)
    (evidence / "branch-protection.json").unlink()
    code, out, _, bundle = _gate(tmp_path, evidence)
    assert code == 1
    assert bundle is not None
    outcomes = {r["id"]: r["outcome"] for r in _results(bundle)["rules"]}
    assert outcomes["source_control.required_reviews"] == "insufficient_evidence"
    assert outcomes["source_control.branch_protected"] == "insufficient_evidence"


def test_another_subject_digest_is_no_go(tmp_path: Path) -> None:
    other = "sha256:" + "0" * 64
    code, out, _, bundle = _gate(tmp_path, DEMO / "go", subject=f"ghcr.io/acme/shop@{other}")
    assert code == 1, out
    assert bundle is not None
    outcomes = {r["id"]: r["outcome"] for r in _results(bundle)["rules"]}
    assert outcomes["supply_chain.same_subject"] == "fail"
    assert outcomes["supply_chain.sbom_present"] in ("fail", "insufficient_evidence")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subject", "ghcr.io/acme/shop@sha256:xyz"], "not a digest"),
        (["--now", "yesterday"], "RFC 3339"),
        (["--environment", "moon"], "moon"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["gate", "--evidence", str(DEMO / "go"), "--out", str(tmp_path / "o")]
    if "--subject" not in args:
        base += ["--subject", SUBJECT]
    result = CliRunner().invoke(main, base + args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_collect_json_one_record_per_file_and_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"SchemaVersion": 2, "Results": [')
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    result = CliRunner().invoke(
        main, ["collect", "--format", "json", "--now", NOW, str(DEMO / "go"), str(bad), str(empty)]
    )
    assert result.exit_code == 3
    records = json.loads(result.stdout)
    assert len(records) == len([p for p in (DEMO / "go").iterdir() if p.is_file()])
    assert {r["kind"] for r in records} >= {
        "sbom",
        "vulnerability-scan",
        "secret-scan",
        "terraform-plan",
        "branch-protection",
    }
    lines = [line for line in result.stderr.splitlines() if line.startswith("affidavit: error:")]
    assert any(str(bad) in line for line in lines)
    assert any(str(empty) in line and "empty" in line for line in lines)


def test_verify_finds_a_tampered_bundle(tmp_path: Path) -> None:
    _, _, _, bundle = _gate(tmp_path, DEMO / "no-go")
    assert bundle is not None
    results = bundle / "results.json"
    results.write_text(results.read_text().replace('"NO-GO"', '"GO"'))
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 1
    assert "TAMPERED" in result.output and "results.json" in result.output


def test_controls_lists_every_control_and_the_status_of_a_run(tmp_path: Path) -> None:
    _, _, _, bundle = _gate(tmp_path, DEMO / "no-go")
    assert bundle is not None
    runner = CliRunner()
    listing = runner.invoke(main, ["controls", "--framework", "soc2", "--format", "json"])
    assert listing.exit_code == 0, listing.output
    doc = json.loads(listing.stdout)
    text = json.dumps(doc)
    for cid in ("CC1.1", "CC6.1", "CC8.1", "A1.3", "C1.2", "PI1.5", "P8.1"):
        assert f'"{cid}"' in text
    with_status = runner.invoke(
        main, ["controls", "--framework", "iso27001-2022", "--results", str(bundle / "results.json")]
    )
    assert with_status.exit_code == 0, with_status.output
    line = next(x for x in with_status.stdout.splitlines() if x.startswith("A.8.32 "))
    assert "partial" in line and "fail" in line
    assert "93 controls" in with_status.stdout


def test_an_unexpected_crash_exits_3_not_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys as _sys

    from affidavit import cli, pipeline

    def boom(request: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "run_gate", boom)
    monkeypatch.setattr(
        _sys, "argv", ["affidavit", "gate", "--evidence", str(DEMO / "go"), "--now", NOW, "--replay"]
    )
    with pytest.raises(SystemExit) as caught:
        cli.run()
    assert caught.value.code == 3
    assert "internal error: RuntimeError: simulated bug" in capsys.readouterr().err


@pytest.mark.parametrize(("expires", "outcome"), [("2026-12-05", "waived"), ("2026-11-01", "fail")])
def test_waiver_file_waives_until_it_expires(tmp_path: Path, expires: str, outcome: str) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- rule: vulnerabilities.fixable_within_window\n"
        "  reason: fix lands next release\n"
        "  owner: sam.release-manager\n"
        "  approver: dana.security\n"  # prod needs an approver and a scope (waivers: rule data)
        f"  subject: {DIGEST}\n"
        f"  expires: {expires}\n"
    )
    code, _, _, bundle = _gate(tmp_path, DEMO / "no-go", "--waivers", str(waivers))
    assert code == 1 and bundle is not None
    rule = next(r for r in _results(bundle)["rules"] if r["id"] == "vulnerabilities.fixable_within_window")
    assert rule["outcome"] == outcome
    report = (bundle / "PRODUCTION_GO_EVIDENCE.md").read_text()
    shown = "waived by sam.release-manager, approved by dana.security, until 2026-12-05"
    assert (shown in report) == (outcome == "waived")


_OWN_RULE = """# METADATA
# title: Images come from the organisation's registry
# description: The promoted image must be pulled from ghcr.io/acme.
# custom:
#   id: acme.image_from_registry
#   severity: high
#   requires: []
#   controls:
#     soc2: [{soc2}]
#     iso27001-2022: [A.8.32]
#   remediation: Push the image to ghcr.io/acme and promote it from there.
package affidavit.org.acme.image_from_registry

deny contains {{"msg": sprintf("%v is not in ghcr.io/acme", [input.context.subject.name])}} if {{
	is_string(input.context.subject.name)
	not startswith(input.context.subject.name, "ghcr.io/acme/")
}}

missing contains {{"msg": "no subject name was given"}} if not is_string(input.context.subject.name)
"""


@pytest.mark.parametrize("soc2", ["CC8.1", "CC3.4"])
def test_an_organisations_own_rule_joins_the_controls_it_names(tmp_path: Path, soc2: str) -> None:
    own = tmp_path / "own" / "org"
    own.mkdir(parents=True)
    (own / "image_from_registry.rego").write_text(_OWN_RULE.format(soc2=soc2))
    code, out, err, bundle = _gate(
        tmp_path, DEMO / "go", "--policies", str(tmp_path / "own"), subject=f"docker.io/evil/shop@{DIGEST}"
    )
    assert code == 1, out + err
    assert bundle is not None
    results = _results(bundle)
    rule = next(r for r in results["rules"] if r["id"] == "acme.image_from_registry")
    assert (
        rule["outcome"] == "fail"
        and "docker.io/evil/shop is not in ghcr.io/acme" in rule["violations"][0]["msg"]
    )
    control = next(c for c in results["controls"]["soc2"] if c["id"] == soc2)
    assert "acme.image_from_registry" in control["rules"] and control["outcome"] == "fail"
    # CC3.4 is manual in the built-in matrix: the organisation's rule makes it partly tested
    assert control["coverage"] == "partial"


def test_an_own_rule_naming_an_unknown_control_stops_the_run(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "r.rego").write_text(_OWN_RULE.format(soc2="CC99.9"))
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(DEMO / "go"),
            "--subject",
            SUBJECT,
            "--now",
            NOW,
            "--replay",
            "--out",
            str(tmp_path / "out"),
            "--policies",
            str(own),
        ],
    )
    assert result.exit_code == 3
    assert "CC99.9" in result.stderr


def test_diff_tells_a_reviewer_what_changed_since_the_last_run(tmp_path: Path) -> None:
    _, _, _, go = _gate(tmp_path, DEMO / "go", out="go")
    _, _, _, nogo = _gate(tmp_path, DEMO / "no-go", out="nogo")
    assert go is not None and nogo is not None
    result = CliRunner().invoke(main, ["diff", str(go), f"{nogo}.tar.gz", "--format", "json"])
    assert result.exit_code == 1, result.output + result.stderr  # GO -> NO-GO is a regression
    doc = json.loads(result.stdout)
    assert doc["decision"] == {"old": "GO", "new": "NO-GO"}
    assert doc["regressed"] is True and "decision GO -> NO-GO" in doc["regressions"]
    rules = {r["id"]: r for r in doc["rules"]}
    assert rules["secrets.no_secrets"]["old"] == "pass" and rules["secrets.no_secrets"]["new"] == "fail"
    assert any("deploy/settings.py" in m for m in rules["secrets.no_secrets"]["added"])
    assert "supply_chain.sbom_present" not in rules  # unchanged rules are not listed
    assert {"framework": "soc2", "id": "CC6.6"} in [
        {"framework": c["framework"], "id": c["id"]} for c in doc["controls"]
    ]
    changed_kinds = {e["kind"] for e in doc["evidence"]}
    assert "sbom" not in changed_kinds  # the same SBOM in both releases
    text = CliRunner().invoke(main, ["diff", str(go), str(nogo)]).stdout
    assert text.startswith(f"{go.name} -> {nogo.name}: decision GO -> NO-GO")


def test_diff_refuses_a_tampered_bundle(tmp_path: Path) -> None:
    _, _, _, go = _gate(tmp_path, DEMO / "go", out="go")
    assert go is not None
    (go / "results.json").write_text((go / "results.json").read_text().replace('"GO"', '"NO-GO"'))
    result = CliRunner().invoke(main, ["diff", str(go), str(go)])
    assert result.exit_code == 3
    assert "does not match its manifest" in result.stderr


def test_collect_names_its_own_option_for_a_bad_digest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["collect", str(DEMO / "go" / "sbom.cdx.json"), "--digest", "sha256:abc"]
    )
    assert result.exit_code == 2
    assert "--digest digest" in result.output and "--subject" not in result.output
