"""A small, complete ``Run`` for tests of the parts that read runs (renderers, bundle, diff)."""

from __future__ import annotations

from dataclasses import replace

from affidavit.model import (
    ControlStatus,
    Decision,
    InputRef,
    MatrixRef,
    Named,
    Outcome,
    PolicyFile,
    RuleReport,
    Run,
    RunSubject,
    Violation,
)

DIGEST = "sha256:" + "a" * 64
EVIDENCE_ID = "sha256:" + "b" * 64


def sample_run(
    run_id: str = "20261120T120000Z-0123456789ab",
    outcome: Outcome = Outcome.FAIL,
    message: str = "CVE-2026-0001 (critical) in pyjwt 2.10.1 is past its window",
) -> Run:
    """A run of one rule mapped to two frameworks, over one SBOM."""
    rule = RuleReport(
        id="vulnerabilities.fixable_within_window",
        title="No fixable critical vulnerability beyond its window",
        severity="critical",
        outcome=outcome,
        controls={"soc2": ("CC7.1",), "iso27001-2022": ("A.8.8",)},
        requires=("vulnerability-scan",),
        remediation="Upgrade the package.",
        violations=(Violation(message, (EVIDENCE_ID,)),) if outcome is Outcome.FAIL else (),
        evidence_ids=(EVIDENCE_ID,),
    )
    decision = Decision.NO_GO if outcome.blocks else Decision.GO

    def status(framework: str, cid: str) -> ControlStatus:
        return ControlStatus(framework, cid, f"title of {cid}", outcome, (rule.id,), (), "automated")

    return Run(
        run_id=run_id,
        time="2026-11-20T12:00:00Z",
        environment="prod",
        subject=RunSubject("ghcr.io/acme/shop", DIGEST),
        commit="0" * 40,
        decision=decision,
        inputs=(
            InputRef(
                id=EVIDENCE_ID,
                kind="vulnerability-scan",
                format="trivy-json",
                format_version="2",
                tool=Named("trivy", "0.58.0"),
                subject_name="ghcr.io/acme/shop",
                subject_version=None,
                subject_digest=DIGEST,
                source="in/trivy.json",
                effective_at="2026-11-20T11:00:00Z",
            ),
        ),
        input_errors=(),
        rules=(rule,),
        controls={"soc2": (status("soc2", "CC7.1"),), "iso27001-2022": (status("iso27001-2022", "A.8.8"),)},
        engine=Named("regorus", "0.13.0"),
        policy_digest="c" * 64,
        policy_files=(PolicyFile("vulnerabilities/fixable_within_window.rego", "d" * 64),),
        params={"vulnerabilities": {"window_days": {"critical": 7}}},
        matrices=(
            MatrixRef("soc2", "2017", "controls/soc2-2017.yaml", "e" * 64, "SOC 2"),
            MatrixRef("iso27001-2022", "2022", "controls/iso27001-2022.yaml", "f" * 64, "ISO 27001:2022"),
        ),
        waivers=(),
        affidavit_version="0.1.0",
    )


def with_decision(run: Run, decision: Decision) -> Run:
    """The same run with another verdict (for tamper tests)."""
    return replace(run, decision=decision)
