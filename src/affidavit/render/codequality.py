"""The GitLab Code Quality report: the findings of a run as a JSON array of Code Climate issues.

For the terminal and CI only (``filename`` ``None``): a pipeline asks for it with
``--output codequality=gl-code-quality-report.json`` and hands that file to GitLab through
``artifacts:reports:codequality``. It is not in bundles: it repeats what ``results.sarif`` and
``results.json`` hold, in a shape only GitLab reads.

Each issue has the keys GitLab's documentation ("Code Quality", "Implement a custom tool") requires:
``description``, ``check_name`` (the rule id), ``fingerprint`` (unique within the report, stable
across runs of the same problem: see ``affidavit.render.findings``), ``severity`` and
``location.path`` with ``location.lines.begin``; plus ``type: issue`` and ``categories:
[Security]`` that the Code Climate specification asks for. Waived findings are left out (GitLab
has no suppressed state; a waived rule does not block), so a GO run with no warning is ``[]``.

``severity``: a blocking rule (``fail``, ``insufficient_evidence``, ``error``) is at least
``major``, because it stops the release: ``critical`` -> ``blocker``, ``high`` -> ``critical``,
``medium`` and ``low`` -> ``major`` (an unknown severity counts as ``critical``). A ``warn`` rule
is ``minor``.

``location.path`` is the evidence file's path relative to where the gate ran (GitLab matches it
against the repository), or the path as the gate named it when it is absolute; line 1. A finding
about absent evidence points at the evidence folder.

**Escaping.** The report is JSON (no BOM, ``ensure_ascii``, sorted keys). GitLab shows the
description as text; every artefact string in it has its non-printable characters spelled out
(``escape.visible``), so no control, bidirectional override or line break survives.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from affidavit.jsonwrite import indented_json
from affidavit.render.escape import visible
from affidavit.render.findings import (
    controls_text,
    cut,
    evidence_folder,
    findings,
    relative_path,
    severity_of,
)

if TYPE_CHECKING:
    from affidavit.model import Run
    from affidavit.render.findings import Finding

MAX_DESCRIPTION = 2_000
_BLOCKING = {"critical": "blocker", "high": "critical", "medium": "major", "low": "major"}


class CodeQualityRenderer:
    """The run for GitLab's Code Quality widget."""

    name = "codequality"
    filename = None

    def render(self, run: Run) -> str:
        """gl-code-quality-report.json for ``run``."""
        return indented_json(code_quality(run), sort_keys=True, ensure_ascii=True) + "\n"


def _path(path: str) -> str:
    """``location.path``: relative to the working directory when it can be, visible characters only."""
    return visible(relative_path(path) or path)


def _issue(run: Run, finding: Finding, folder: str | None) -> dict[str, Any]:
    """The Code Quality issue of one finding (see the module docstring)."""
    rule = finding.rule
    severity = "minor" if finding.level == "warning" else _BLOCKING[severity_of(rule)]
    controls = controls_text(run, rule)
    text = f"{rule.title}: {finding.message}" + (f" ({controls})" if controls else "")
    where = _path(finding.source) if finding.source is not None else _path(folder or ".")
    unique = hashlib.sha256(f"{finding.fingerprint}:{finding.occurrence}".encode()).hexdigest()
    return {
        "type": "issue",
        "check_name": visible(rule.id),
        "description": cut(visible(text), MAX_DESCRIPTION),
        "content": {"body": cut(visible(f"Fix: {rule.remediation}"), MAX_DESCRIPTION)},
        "categories": ["Security"],
        "fingerprint": unique,
        "severity": severity,
        "location": {"path": where, "lines": {"begin": 1}},
    }


def code_quality(run: Run) -> list[dict[str, Any]]:
    """The Code Quality issues of ``run`` (a JSON array), in the run's rule order."""
    folder = evidence_folder(run)
    return [_issue(run, f, folder) for f in findings(run) if not f.waived]
