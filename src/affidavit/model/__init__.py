"""Value types shared by every stage, with no I/O: evidence records, waivers, outcomes, the Run."""

from affidavit.model.evidence import EVIDENCE_SCHEMA, Evidence, EvidenceKind, Severity, Subject, Tool
from affidavit.model.results import (
    RESULTS_SCHEMA,
    ControlStatus,
    Decision,
    InputFailure,
    InputRef,
    MatrixRef,
    Named,
    Outcome,
    PolicyFile,
    RuleReport,
    RuleResult,
    Run,
    RunSubject,
    Violation,
    worst,
)

__all__ = [
    "EVIDENCE_SCHEMA",
    "RESULTS_SCHEMA",
    "ControlStatus",
    "Decision",
    "Evidence",
    "EvidenceKind",
    "InputFailure",
    "InputRef",
    "MatrixRef",
    "Named",
    "Outcome",
    "PolicyFile",
    "RuleReport",
    "RuleResult",
    "Run",
    "RunSubject",
    "Severity",
    "Subject",
    "Tool",
    "Violation",
    "worst",
]
