"""The findings of a run as CI systems count them: one per message of a rule that needs attention.

The CI renderers (``sarif``, ``codequality``, ``github``) do not show rules, they show findings:
a code-scanning alert, a Code Quality issue, a workflow annotation. This module is the one place
that turns a ``Run`` into that list, so the three agree on what a finding is, where it points and
when two runs found the same one.

* **What.** A rule that blocks (``fail``, ``insufficient_evidence``, ``error``) gives one finding per
  violation and per missing-evidence message (``error``: its error text; a blocking rule with no
  message still gives one, its ``first_message``). A ``warn`` rule gives one per warning. What a
  waiver hid is a finding too, marked ``waived``, level ``note``: every CI renderer leaves those
  out of its alerts (GitHub and GitLab have no suppressed state they honour) and lists the waiver
  where the format has room. ``pass`` and ``not_applicable`` give none.
* **Where.** The source file of the finding's evidence record (its first evidence id that names an
  input; else the rule's first). A finding without evidence (nothing was supplied) points at the
  evidence folder: the deepest folder holding every input the run read. ``relative_path`` gives
  the repository-relative form CI systems match files by, or ``None`` for an absolute path or one
  that climbs out with ``..``.
* **Same finding, next run.** ``fingerprint`` is a sha256 over the rule id and the message with
  what changes between runs of the same problem taken out: the folder of an evidence path (only
  its file name is kept), digests and other hex runs of 12 or more characters, and stand-alone
  numbers (counts, ages, line numbers). ``occurrence`` numbers findings with equal fingerprints
  within the run (1, 2, ...), as GitHub's own ``primaryLocationLineHash`` does.

Nothing here escapes: each renderer escapes every string for its own format.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from affidavit.model import Outcome

if TYPE_CHECKING:
    from affidavit.model import RuleReport, Run

#: Severity words of rule metadata, worst first; an unknown word is treated as the worst.
SEVERITIES = ("critical", "high", "medium", "low")
_HEX = re.compile(r"(?:sha256:|sha512:)?[0-9a-fA-F]{12,}")
_NUMBER = re.compile(r"(?<![\w.:/-])\d+(?:\.\d+)?(?![\w.:/-])")
_FINGERPRINT_VERSION = "affidavit-finding/v1"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a CI system shows for a run.

    ``level``: ``error`` (the rule blocks the gate), ``warning`` (a ``warn`` rule) or ``note`` (a
    finding a waiver hid). ``source``: the evidence file it is about, as the run names it, or
    ``None`` when it is about evidence that is absent (then ``folder`` is where it was looked for).
    """

    rule: RuleReport
    level: str
    message: str
    evidence_ids: tuple[str, ...]
    source: str | None
    related: tuple[str, ...]
    fingerprint: str
    occurrence: int
    waived_by: int | None = None  # index into rule.waived when a waiver hid this finding

    @property
    def waived(self) -> bool:
        """True when a waiver hid this finding."""
        return self.waived_by is not None


def severity_of(rule: RuleReport) -> str:
    """The rule's severity word; anything unknown counts as ``critical`` (unknown is never mild)."""
    word = rule.severity.strip().lower()
    return word if word in SEVERITIES else "critical"


def sources(run: Run) -> dict[str, str]:
    """Each input's evidence id -> its source path (the first input wins for a repeated id)."""
    out: dict[str, str] = {}
    for ref in run.inputs:
        out.setdefault(ref.id, ref.source)
    return out


def evidence_folder(run: Run) -> str | None:
    """The deepest folder holding every file the run read (inputs and unreadable inputs), if any.

    Relative and absolute paths are never mixed: when both occur, or when there are none, ``None``.
    """
    paths = [ref.source for ref in run.inputs] + [failure.source for failure in run.input_errors]
    paths = [p for p in paths if p]
    if not paths:
        return None
    absolute = {p.startswith("/") for p in paths}
    if len(absolute) != 1:
        return None
    folders = [posixpath.dirname(posixpath.normpath(p)) for p in paths]
    try:
        common = posixpath.commonpath(folders)
    except ValueError:
        return None
    return common or "."


def relative_path(path: str) -> str | None:
    """``path`` as a clean relative POSIX path, or ``None`` (absolute, empty, or climbing out with ``..``)."""
    if not path or path.startswith("/") or "\\" in path:
        return None
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../") or normal.startswith("/"):
        return None
    return normal


def controls_text(run: Run, rule: RuleReport) -> str:
    """The controls a rule tests by framework label, in display order: ``SOC 2 CC7.1; ISO 27001:2022 A.8.8``."""
    groups = []
    for matrix in run.matrices:
        ids = rule.controls.get(matrix.framework) or ()
        if ids:
            groups.append(f"{matrix.display} {', '.join(ids)}")
    return "; ".join(groups)


def _identity(run: Run, rule_id: str, message: str) -> str:
    """The run-independent text a fingerprint is taken over (see the module docstring)."""
    text = message
    for ref in sorted(run.inputs, key=lambda r: -len(r.source)):
        if ref.source and ref.source in text:
            text = text.replace(ref.source, posixpath.basename(ref.source))
    text = _HEX.sub("*", text)
    text = _NUMBER.sub("#", text)
    return f"{_FINGERPRINT_VERSION}\0{rule_id}\0{' '.join(text.split())}"


def _messages(rule: RuleReport) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(level, message, evidence ids, about present evidence) of each finding of one rule not waived.

    ``about present evidence``: a violation or warning is about evidence that was supplied, so
    without ids of its own it points at the rule's evidence; a missing-evidence message is not.
    """
    if rule.outcome.blocks:
        # What a waiver hid stays in the rule's result too; it is a waived finding, not an open one.
        hidden = {(v.msg, v.evidence_ids) for applied in rule.waived for v in applied.findings}
        out = [
            ("error", v.msg, v.evidence_ids, True)
            for v in rule.violations
            if (v.msg, v.evidence_ids) not in hidden
        ]
        out += [
            ("error", v.msg, v.evidence_ids, False)
            for v in rule.missing
            if (v.msg, v.evidence_ids) not in hidden
        ]
        if rule.outcome is Outcome.ERROR and rule.error:
            out.insert(0, ("error", f"could not be evaluated: {rule.error}", (), True))
        if not out:
            out.append(("error", rule.first_message, (), True))
        return out
    if rule.outcome is Outcome.WARN:
        warnings = [("warning", v.msg, v.evidence_ids, True) for v in (*rule.warnings, *rule.violations)]
        return warnings or [("warning", rule.reason or "warning", (), True)]
    return []


def findings(run: Run) -> tuple[Finding, ...]:
    """Every finding of ``run``, rule by rule in the run's order (waived ones after each rule's own)."""
    known = sources(run)
    raw: list[tuple[RuleReport, str, str, tuple[str, ...], bool, int | None]] = []
    for rule in run.rules:
        raw.extend((rule, level, msg, ids, present, None) for level, msg, ids, present in _messages(rule))
        for index, applied in enumerate(rule.waived):
            raw.extend((rule, "note", v.msg, v.evidence_ids, True, index) for v in applied.findings)
            if applied.absent_evidence:
                raw.append((rule, "note", "evidence the rule needs is absent (waived)", (), False, index))
    seen: dict[str, int] = {}
    out = []
    for rule, level, msg, ids, present, waived_by in raw:
        located = [known[i] for i in ids if i in known]
        if not located and present:
            located = [known[i] for i in rule.evidence_ids if i in known]
        digest = hashlib.sha256(_identity(run, rule.id, msg).encode("utf-8", "surrogatepass")).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        out.append(
            Finding(
                rule=rule,
                level=level,
                message=msg,
                evidence_ids=tuple(ids),
                source=located[0] if located else None,
                related=tuple(s for s in dict.fromkeys(located[1:]) if s != located[0]),
                fingerprint=digest,
                occurrence=seen[digest],
                waived_by=waived_by,
            )
        )
    return tuple(out)


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending in ``…`` when it was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
