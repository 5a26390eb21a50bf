"""What the bundle stores of a raw artefact: its bytes with secret values removed.

The collectors keep secrets out of the records; this module keeps them out of the raw copies that
the bundle stores beside the records.
"""

from __future__ import annotations

from collections.abc import Mapping

from affidavit.model import Evidence, EvidenceKind


def _needs_redaction(record: Evidence) -> bool:
    if record.kind is EvidenceKind.SECRET_SCAN:
        return True
    if record.kind is EvidenceKind.SAST:
        tools = record.data.get("tools") or []
        return any("gitleaks" in str(t).lower() or "trufflehog" in str(t).lower() for t in tools)
    if record.kind is EvidenceKind.VULNERABILITY_SCAN:
        other = record.data.get("other") or {}
        return bool(isinstance(other, Mapping) and other.get("secrets"))
    return record.kind is EvidenceKind.TERRAFORM_PLAN


def redacted_copy(record: Evidence, raw: bytes) -> tuple[bytes, bool]:
    """The bytes to store for ``record``: secret values and sensitive plan values removed."""
    if not _needs_redaction(record):
        return raw, False
    if record.kind is EvidenceKind.TERRAFORM_PLAN:
        from affidavit.collectors.formats.terraform_plan import redact_plan

        return redact_plan(raw), True
    from affidavit.collectors.kinds.secrets import redact_secret_scan

    return redact_secret_scan(raw), True
