"""Value types shared by every stage, with no I/O: evidence records, waivers, outcomes, the Run.

Each name is imported from its module when first used (PEP 562), so that importing one module of
the package (``affidavit.model.evidence`` for the evidence kinds ``affidavit --help`` lists) does
not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from affidavit.model.evidence import EVIDENCE_SCHEMA, Evidence, EvidenceKind, Severity, Subject, Tool
    from affidavit.model.results import (
        RESULTS_SCHEMA,
        ConfigInput,
        ControlStatus,
        DataChange,
        Decision,
        InputFailure,
        InputRef,
        MatrixRef,
        Named,
        NotRead,
        Outcome,
        PolicyFile,
        RuleReport,
        RuleResult,
        Run,
        RunSubject,
        Violation,
        worst,
    )

_MODULE = {
    "EVIDENCE_SCHEMA": "evidence",
    "Evidence": "evidence",
    "EvidenceKind": "evidence",
    "Severity": "evidence",
    "Subject": "evidence",
    "Tool": "evidence",
    "RESULTS_SCHEMA": "results",
    "ConfigInput": "results",
    "ControlStatus": "results",
    "DataChange": "results",
    "Decision": "results",
    "InputFailure": "results",
    "InputRef": "results",
    "MatrixRef": "results",
    "Named": "results",
    "NotRead": "results",
    "Outcome": "results",
    "PolicyFile": "results",
    "RuleReport": "results",
    "RuleResult": "results",
    "Run": "results",
    "RunSubject": "results",
    "Violation": "results",
    "worst": "results",
}


def __getattr__(name: str) -> Any:
    """``affidavit.model.<name>``: imported from its module on first use, then kept here."""
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"affidavit.model.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EVIDENCE_SCHEMA",
    "RESULTS_SCHEMA",
    "ConfigInput",
    "ControlStatus",
    "DataChange",
    "Decision",
    "Evidence",
    "EvidenceKind",
    "InputFailure",
    "InputRef",
    "MatrixRef",
    "Named",
    "NotRead",
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
