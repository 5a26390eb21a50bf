"""The evidence record: one artefact, normalised, with its provenance.

The record is a public wire format (``affidavit.evidence/v1``): it is the Rego input that policies
(ours and users' own) read, and it is written into every bundle. Its field names are fixed by the
design document; ``schemas/evidence.v1.schema.json`` states them, including the per-kind ``data``
shapes, and the tests check every collector's output against it. ``data`` stays a plain JSON
mapping: one object per SBOM component would cost seconds on a 20,000-component SBOM.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EVIDENCE_SCHEMA = "affidavit.evidence/v1"


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
