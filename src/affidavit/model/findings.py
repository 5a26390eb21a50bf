"""Finding keys: how one finding of an evidence record is named across runs.

A key is a compact JSON array, so that no name a tool reports can forge another key (a package
called ``a","b`` stays one string): ``["vulnerability", id, package, version]``,
``["secret", fingerprint]``, ``["sast", rule_id, file, line]``. The run history indexes findings by
these keys, and the pipeline asks it when each key was first seen, so both build them here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from affidavit.model.evidence import EvidenceKind


def finding_key(*parts: object) -> str:
    """A finding's canonical key: a compact JSON array (``["vulnerability","CVE-1","pkg","1.0"]``)."""
    return json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)


def key_of(kind: EvidenceKind, finding: Mapping[str, Any]) -> str | None:
    """The key of one finding of a record of ``kind``; ``None`` for kinds whose findings have none."""
    if kind is EvidenceKind.VULNERABILITY_SCAN:
        found = finding.get("package")
        package: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        return finding_key("vulnerability", finding.get("id"), package.get("name"), package.get("version"))
    if kind is EvidenceKind.SECRET_SCAN:
        return finding_key("secret", finding.get("fingerprint"))
    if kind is EvidenceKind.SAST:
        return finding_key("sast", finding.get("rule_id"), finding.get("file"), finding.get("line"))
    return None
