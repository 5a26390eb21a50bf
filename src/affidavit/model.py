"""Value types shared by every stage: evidence records, outcomes, results, decisions.

The evidence record is a public wire format (``affidavit.evidence/v1``): it is the Rego input that
policies (ours and users' own) read and it is written into every bundle. Its field names are fixed
by the design document; ``schemas/evidence.v1.schema.json`` states them for machines and the tests
check every collector's output against it.

The envelope is a frozen dataclass. The per-kind ``data`` is a plain JSON mapping whose shape is
described by the ``*Data`` TypedDicts below: building one pydantic object per SBOM component would
cost seconds on a 20,000-component SBOM, for no check the schema test does not already make.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

EVIDENCE_SCHEMA = "affidavit.evidence/v1"
RESULTS_SCHEMA = "affidavit.results/v1"


class EvidenceKind(enum.StrEnum):
    """What an evidence record is about. Policies see records grouped by kind."""

    SBOM = "sbom"
    VULNERABILITY_SCAN = "vulnerability-scan"
    SECRET_SCAN = "secret-scan"
    SAST = "sast"
    SIGNATURE = "signature"
    PROVENANCE = "provenance"
    TERRAFORM_PLAN = "terraform-plan"
    TERRAFORM_CONFIG = "terraform-config"
    BRANCH_PROTECTION = "branch-protection"
    CHANGE_RECORD = "change-record"


class Severity(enum.StrEnum):
    """The one severity scale every tool's words are mapped onto (see ``collectors.severity``)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NEGLIGIBLE = "negligible"
    UNKNOWN = "unknown"


# ---------------------------------------------------------------------------------------------
# Evidence envelope


@dataclass(frozen=True, slots=True)
class Tool:
    """The program that produced the artefact, as the artefact says."""

    name: str
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """What the artefact speaks of: an image or file (digest), or a repository and branch."""

    name: str | None = None
    version: str | None = None
    digest: str | None = None

    def is_empty(self) -> bool:
        """True when the artefact named no subject at all."""
        return self.name is None and self.version is None and self.digest is None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One normalised artefact. ``id`` is ``sha256:<hex>`` of the raw bytes as read."""

    id: str
    kind: EvidenceKind
    format: str
    format_version: str | None
    tool: Tool | None
    subject: Subject
    source: str
    collected_at: str
    effective_at: str | None
    data: Mapping[str, Any]
    problems: tuple[str, ...] = ()
    schema: str = EVIDENCE_SCHEMA

    def to_json(self) -> dict[str, Any]:
        """The record as the public JSON shape (key order fixed for deterministic output)."""
        return {
            "schema": self.schema,
            "id": self.id,
            "kind": self.kind.value,
            "format": self.format,
            "format_version": self.format_version,
            "tool": None if self.tool is None else {"name": self.tool.name, "version": self.tool.version},
            "subject": {
                "name": self.subject.name,
                "version": self.subject.version,
                "digest": self.subject.digest,
            },
            "source": self.source,
            "collected_at": self.collected_at,
            "effective_at": self.effective_at,
            "data": self.data,
            "problems": list(self.problems),
        }


# ---------------------------------------------------------------------------------------------
# Per-kind data shapes (documentation for mypy and for readers; the JSON schema is the contract)


class Summary(TypedDict):
    critical: int
    high: int
    medium: int
    low: int
    negligible: int
    unknown: int
    total: int


class Package(TypedDict):
    name: str | None
    version: str | None
    purl: str | None
    ecosystem: str | None


class VulnFinding(TypedDict):
    id: str
    aliases: list[str]
    severity: str
    cvss_score: float | None
    package: Package
    fixed_versions: list[str]
    target: str | None
    title: str | None


class VulnerabilityScanData(TypedDict):
    findings: list[VulnFinding]
    summary: Summary
    targets: list[str]
    database: NotRequired[dict[str, Any]]


class SecretFinding(TypedDict):
    rule_id: str
    file: str | None
    line: int | None
    commit: str | None
    fingerprint: str
    secret_sha256: str


class SecretScanData(TypedDict):
    findings: list[SecretFinding]
    summary: dict[str, int]


class SastFinding(TypedDict):
    rule_id: str
    level: str
    severity: str
    file: str | None
    line: int | None
    message: str
    tool: str


class SastData(TypedDict):
    findings: list[SastFinding]
    summary: dict[str, int]
    tools: list[str]
    runs: int


class Component(TypedDict):
    name: str | None
    version: str | None
    purl: str | None
    type: str | None
    licenses: list[str]
    hashes: dict[str, str]


class Dependency(TypedDict):
    ref: str
    depends_on: list[str]


class Completeness(TypedDict):
    components: int
    without_version: int
    without_purl: int
    without_license: int


class SbomData(TypedDict):
    spec: str
    spec_version: str
    subject: dict[str, Any]
    components: list[Component]
    dependencies: list[Dependency]
    completeness: Completeness


class Verification(TypedDict):
    verified: bool
    subject_digest: str | None
    identity: str | None
    issuer: str | None
    key_id: str | None
    tlog: dict[str, Any] | None
    error: str | None
    method: NotRequired[str]


class SignatureData(TypedDict):
    verifications: list[Verification]


class ResourceChange(TypedDict):
    address: str
    type: str
    name: str
    module: str | None
    provider: str | None
    mode: str
    actions: list[str]
    before: Any
    after: Any
    after_unknown: Any


class TerraformPlanData(TypedDict):
    terraform_version: str | None
    format_version: str | None
    resource_changes: list[ResourceChange]
    summary: dict[str, int]


class BranchProtectionData(TypedDict):
    repository: str | None
    branch: str | None
    sources: list[str]
    protected: bool
    required_approving_review_count: int
    require_code_owner_reviews: bool
    dismiss_stale_reviews: bool
    required_status_checks: list[str]
    strict_status_checks: bool
    enforce_admins: bool
    required_signatures: bool
    required_linear_history: bool
    allow_force_pushes: bool
    allow_deletions: bool


def empty_summary() -> Summary:
    """A severity summary with every count at zero."""
    return {"critical": 0, "high": 0, "medium": 0, "low": 0, "negligible": 0, "unknown": 0, "total": 0}


# ---------------------------------------------------------------------------------------------
# Outcomes and decisions


class Outcome(enum.StrEnum):
    """What happened to one rule (or, as the worst of its rules, one control)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Badness order used for 'worst outcome': error is worst, not_applicable best."""
        return _RANK[self]

    @property
    def blocks(self) -> bool:
        """True when this outcome makes the gate NO-GO."""
        return self in (Outcome.FAIL, Outcome.INSUFFICIENT_EVIDENCE, Outcome.ERROR)


_RANK = {
    Outcome.NOT_APPLICABLE: 0,
    Outcome.PASS: 1,
    Outcome.WAIVED: 2,
    Outcome.WARN: 3,
    Outcome.INSUFFICIENT_EVIDENCE: 4,
    Outcome.FAIL: 5,
    Outcome.ERROR: 6,
}


def worst(outcomes: list[Outcome]) -> Outcome:
    """The worst outcome of a non-empty list; an empty list has no evidence at all."""
    if not outcomes:
        return Outcome.INSUFFICIENT_EVIDENCE
    return max(outcomes, key=lambda o: o.rank)


class Decision(enum.StrEnum):
    """The gate's verdict."""

    GO = "GO"
    NO_GO = "NO-GO"


@dataclass(frozen=True, slots=True)
class Violation:
    """One message a rule produced, with the evidence it is about."""

    msg: str
    evidence_ids: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON shape used in results.json."""
        out: dict[str, Any] = {"msg": self.msg, "evidence_ids": list(self.evidence_ids)}
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule with everything needed to explain it."""

    rule_id: str
    outcome: Outcome
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    missing: tuple[Violation, ...] = ()
    error: str | None = None
    reason: str | None = None
    evidence_ids: tuple[str, ...] = ()
    waiver: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ControlRef:
    """A control of one framework (``soc2`` ``CC8.1``, ``iso27001-2022`` ``A.8.32``)."""

    framework: str
    id: str

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class ControlStatus:
    """A control's outcome: the worst outcome of the rules that test it.

    ``outcome`` is ``None`` for a control no rule tests (``coverage`` ``manual`` or
    ``not_covered``): affidavit has nothing to say about it, which is not a pass.
    """

    framework: str
    control_id: str
    title: str
    outcome: Outcome | None
    rule_ids: tuple[str, ...]
    related: tuple[str, ...] = field(default_factory=tuple)
    coverage: str = "automated"
