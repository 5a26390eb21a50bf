"""Small builders shared by the policy-layer tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from affidavit.model import Evidence, EvidenceKind, Subject
from affidavit.policy.interface import PolicyModule
from affidavit.policy.loader import PolicySet, build_policy_set

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
SUBJECT_DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64


def metadata(rule_id: str, *, requires: str = "[]", extra: str = "", controls: str | None = None) -> str:
    """A valid package METADATA block for ``affidavit.rules.<rule_id>`` followed by the package line."""
    controls = controls or "#     soc2: [CC8.1]\n#     iso27001-2022: [A.8.32]\n"
    return (
        "# METADATA\n"
        f"# title: Rule {rule_id}\n"
        f"# description: Test rule {rule_id}.\n"
        "# custom:\n"
        f"#   id: {rule_id}\n"
        "#   severity: high\n"
        f"#   requires: {requires}\n"
        "#   controls:\n"
        f"{controls}"
        "#   remediation: Fix it.\n"
        f"{extra}"
        f"package affidavit.rules.{rule_id}\n"
    )


def policy_set(files: dict[str, str]) -> PolicySet:
    """A policy set built from in-memory modules (no built-in library involved).

    The modules stand for a library of affidavit's own (``affidavit.rules.*`` packages), so they are
    flagged built-in; a user's modules are restricted to ``affidavit.org.*`` (test_loader covers that).
    """
    return build_policy_set(
        [replace(PolicyModule.from_text(path, text), builtin=True) for path, text in files.items()]
    )


def evidence(
    kind: EvidenceKind,
    n: int,
    data: dict[str, Any] | None = None,
    *,
    digest: str | None = SUBJECT_DIGEST,
    source: str | None = None,
) -> Evidence:
    """An evidence record with id ``sha256:<n repeated>`` (n is one hex digit)."""
    return Evidence(
        id="sha256:" + format(n, "x") * 64,
        kind=kind,
        format="test",
        format_version=None,
        tool=None,
        subject=Subject(name="ghcr.io/acme/shop", digest=digest),
        source=source or f"{kind.value}-{n}.json",
        collected_at="2026-11-22T11:00:00Z",
        effective_at=None,
        data=data or {},
    )
