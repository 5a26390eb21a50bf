"""A Run in which any string field can carry a hostile value, for the escaping tests of renderers.

``hostile_run(field, payload)`` builds one complete run (every outcome a renderer shows something
for: fail, error, insufficient evidence, warn, waived, pass; an unreadable input; two frameworks)
with ``payload`` in ``field`` and a plain word everywhere else; ``field="*"`` puts it everywhere at
once. ``FIELDS`` says where each field shows: in the Markdown report (``full``, ``cut`` to a prefix,
or ``none``) and on the terminal (``full`` or ``none``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from affidavit.model import (
    ControlStatus,
    Decision,
    InputFailure,
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
from affidavit.model.waiver import Waiver

EVIDENCE_ID = "sha256:" + "b" * 64


@dataclass(frozen=True)
class Field:
    """Where a field's value shows.

    ``prose``: the report keeps the field's single-backtick code spans (a rule's remediation, which
    the policy set writes), so its backticks may become ``<code>`` and nothing else.
    """

    markdown: str  # full | cut | none
    text: str  # full | none
    prose: bool = False


FIELDS: dict[str, Field] = {
    "subject.name": Field("full", "full"),
    "subject.digest": Field("full", "full"),
    "environment": Field("full", "full"),
    "commit": Field("full", "none"),
    "run_id": Field("full", "full"),
    "time": Field("full", "none"),
    "input.kind": Field("full", "none"),
    "input.format": Field("full", "none"),
    "input.format_version": Field("full", "none"),
    "input.tool.name": Field("full", "none"),
    "input.tool.version": Field("full", "none"),
    "input.subject_name": Field("full", "none"),
    "input.subject_version": Field("full", "none"),
    "input.subject_digest": Field("cut", "none"),
    "input.source": Field("full", "none"),
    "input.effective_at": Field("none", "none"),
    "input.problem": Field("full", "none"),
    "input_error.source": Field("full", "full"),
    "input_error.kind": Field("full", "none"),
    "input_error.message": Field("full", "full"),
    "rule.id": Field("full", "none"),
    "rule.title": Field("full", "full"),
    "rule.severity": Field("full", "none"),
    "rule.remediation": Field("full", "full", prose=True),
    "rule.violation": Field("full", "full"),
    "rule.violation_evidence": Field("cut", "none"),
    "rule.missing": Field("full", "none"),
    "rule.reason": Field("full", "none"),
    "error_rule.error": Field("full", "full"),
    "missing_rule.missing": Field("full", "full"),
    "warn_rule.warning": Field("full", "full"),
    "warn_rule.reason": Field("full", "none"),
    "waived_rule.owner": Field("full", "none"),
    "waived_rule.reason": Field("full", "none"),
    "control.id": Field("full", "full"),
    "control.title": Field("full", "none"),
    "matrix.label": Field("full", "none"),
    "matrix.version": Field("full", "none"),
    "matrix.file": Field("full", "none"),
    "engine.name": Field("full", "none"),
    "engine.version": Field("full", "none"),
    "policy_digest": Field("full", "none"),
    "affidavit_version": Field("full", "none"),
}


def hostile_run(field: str | None, payload: str, decision: Decision = Decision.NO_GO) -> Run:
    """The run of this module with ``payload`` in ``field`` (``"*"``: in every field; ``None``: none)."""
    assert field in FIELDS or field in ("*", None), field

    def v(name: str, plain: str) -> str:
        return payload if field in (name, "*") else plain

    rule_id = v("rule.id", "vulnerabilities.fixable_within_window")
    control_id = v("control.id", "CC7.1")
    frameworks = ("soc2", "iso27001-2022")

    def report(rid: str, title: str, outcome: Outcome, **extra: object) -> RuleReport:
        return RuleReport(
            id=rid,
            title=title,
            severity="high",
            outcome=outcome,
            controls={"soc2": (control_id,), "iso27001-2022": ("A.8.8",)},
            requires=("vulnerability-scan",),
            remediation="Fix it.",
            evidence_ids=(EVIDENCE_ID,),
            **extra,  # type: ignore[arg-type]
        )

    # A waiver's texts are kept stripped by its parser (results.json reads them back that way).
    waiver = Waiver(
        rule="secrets.no_secrets",
        reason=v("waived_rule.reason", "the key was never valid").strip(),
        owner=v("waived_rule.owner", "sam").strip(),
        expires=dt.date(2026, 12, 4),
        approver="dana",
    )
    rules = (
        RuleReport(
            id=rule_id,
            title=v("rule.title", "No fixable vulnerability beyond its window"),
            severity=v("rule.severity", "critical"),
            outcome=Outcome.FAIL,
            controls={"soc2": (control_id,), "iso27001-2022": ("A.8.8",)},
            requires=("vulnerability-scan",),
            remediation=v("rule.remediation", "Upgrade the package."),
            violations=(
                Violation(v("rule.violation", "CVE-1 in pyjwt"), (EVIDENCE_ID,)),
                Violation("CVE-2 in pyjwt", (v("rule.violation_evidence", "sha256:" + "9" * 64),)),
            ),
            missing=(Violation(v("rule.missing", "no SBOM"), ()),),
            reason=v("rule.reason", "two findings"),
        ),
        report(
            "code_analysis.tool_error", "Analysis ran", Outcome.ERROR, error=v("error_rule.error", "boom")
        ),
        report(
            "supply_chain.signed",
            "Image is signed",
            Outcome.INSUFFICIENT_EVIDENCE,
            missing=(Violation(v("missing_rule.missing", "no signature"), ()),),
        ),
        report(
            "vulnerabilities.database_fresh",
            "Database is recent",
            Outcome.WARN,
            warnings=(Violation(v("warn_rule.warning", "database age unknown"), (EVIDENCE_ID,)),),
            reason=v("warn_rule.reason", "no date"),
        ),
        report(
            "secrets.no_secrets",
            "No secrets",
            Outcome.WAIVED,
            violations=(Violation("a key in settings.py", (EVIDENCE_ID,)),),
            waiver=waiver,
        ),
        report("iac.encrypted", "Storage is encrypted", Outcome.PASS),
    )

    def statuses(framework: str, cid: str) -> tuple[ControlStatus, ...]:
        ids = tuple(r.id for r in rules if r.controls.get(framework) == (cid,))
        return (ControlStatus(framework, cid, v("control.title", f"title of {cid}"), Outcome.ERROR, ids),)

    return Run(
        run_id=v("run_id", "20261120T120000Z-0123456789ab"),
        time=v("time", "2026-11-20T12:00:00Z"),
        environment=v("environment", "prod"),
        subject=RunSubject(v("subject.name", "ghcr.io/acme/shop"), v("subject.digest", "sha256:" + "a" * 64)),
        commit=v("commit", "0" * 40),
        decision=decision,
        inputs=(
            InputRef(
                id=EVIDENCE_ID,
                kind=v("input.kind", "vulnerability-scan"),
                format=v("input.format", "trivy-json"),
                format_version=v("input.format_version", "2"),
                tool=Named(v("input.tool.name", "trivy"), v("input.tool.version", "0.58.0")),
                subject_name=v("input.subject_name", "ghcr.io/acme/shop"),
                subject_version=v("input.subject_version", "1.4.2"),
                subject_digest=v("input.subject_digest", "sha256:" + "a" * 64),
                source=v("input.source", "in/trivy.json"),
                effective_at=v("input.effective_at", "2026-11-20T11:00:00Z"),
                problems=(v("input.problem", "the report names no database date"),),
            ),
        ),
        input_errors=(
            InputFailure(
                v("input_error.source", "in/broken.json"),
                v("input_error.kind", "sbom"),
                v("input_error.message", "not JSON at line 3"),
            ),
        ),
        rules=rules,
        controls={fw: statuses(fw, control_id if fw == "soc2" else "A.8.8") for fw in frameworks},
        engine=Named(v("engine.name", "regorus"), v("engine.version", "0.13.0")),
        policy_digest=v("policy_digest", "c" * 64),
        policy_files=(PolicyFile("vulnerabilities/fixable_within_window.rego", "d" * 64),),
        params={"vulnerabilities": {"window_days": {"critical": 7}}},
        matrices=(
            MatrixRef(
                "soc2",
                v("matrix.version", "2017"),
                v("matrix.file", "controls/soc2.yaml"),
                "e" * 64,
                v("matrix.label", "SOC 2"),
            ),
            MatrixRef("iso27001-2022", "2022", "controls/iso27001-2022.yaml", "f" * 64, "ISO 27001:2022"),
        ),
        waivers=(waiver,),
        affidavit_version=v("affidavit_version", "0.1.0"),
    )
