"""``junit.xml``: the run as a JUnit XML report, one test case per rule, for CI test-report views.

In every bundle (``filename``), and on request with ``--output junit=PATH`` (GitLab's
``artifacts:reports:junit``, Jenkins, Azure DevOps and most test-report viewers read it). The
document is valid against the widely used Apache Ant JUnit schema (windyroad ``JUnit.xsd``): a
``testsuites`` root holding one ``testsuite`` (``affidavit``, package ``affidavit.<environment>``)
with ``properties`` (the decision, run id, subject, environment, commit, branch, evaluation time,
policy digest and the frameworks), one ``testcase`` per rule, then ``system-out`` (warnings and
waivers) and ``system-err`` (artefacts that could not be read).

What each outcome becomes (JUnit has pass, failure, error and skipped):

==========================  ===============================================================
``pass``, ``warn``          a passing test case (a warning does not block; it is listed in
                            ``system-out``)
``fail``                    ``failure`` type ``fail``: the first message as ``message``, every
                            message, the controls and the fix as its text
``insufficient_evidence``   ``failure`` type ``insufficient_evidence``: the gate was explicit
                            that the evidence is missing, which is a failed check, not a crash
``error``                   ``error`` type ``error``: the rule could not be evaluated
``not_applicable``          ``skipped`` with the reason
``waived``                  ``skipped`` naming the waiver (owner, approver, expiry, reason): a
                            waived rule did not pass, and it does not fail the gate
==========================  ===============================================================

The suite's ``timestamp`` is the evaluation time in UTC without a zone (the schema's pattern);
``hostname`` is ``localhost`` and every ``time`` is ``0``: a renderer never asks the machine or the
clock, so the same run always gives the same bytes.

**Escaping.** Every artefact string is passed through ``escape.visible`` first, so no character
that XML 1.0 forbids (C0 controls but tab and line feed, lone surrogates, U+FFFE/U+FFFF) and no
control, bidirectional override or line separator reaches the document; then ``&``, ``<``, ``>``
and both quotes are written as character references. Text can close no element and open none.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from affidavit.model import Outcome
from affidavit.render.escape import visible

if TYPE_CHECKING:
    from affidavit.model import RuleReport, Run

MAX_TEXT = 20_000
_FAILURE_TYPE = {Outcome.FAIL: "fail", Outcome.INSUFFICIENT_EVIDENCE: "insufficient_evidence"}
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


class JunitRenderer:
    """The run as a JUnit XML test report."""

    name = "junit"
    filename = "junit.xml"

    def render(self, run: Run) -> str:
        """junit.xml for ``run``."""
        return render_junit(run)


def xml_text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as XML character data or attribute content: visible characters, markup escaped."""
    text = visible(str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_XML)


def _attrs(**values: object) -> str:
    """XML attributes ``key="value"`` (a trailing ``_`` dropped from a key), every value escaped."""
    return "".join(f' {key.rstrip("_")}="{xml_text(value)}"' for key, value in values.items())


def _timestamp(value: str) -> str:
    """The evaluation time as the schema's ``YYYY-MM-DDThh:mm:ss`` in UTC (the epoch when unreadable)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return "1970-01-01T00:00:00"
    return parsed.replace(tzinfo=None, microsecond=0).isoformat()


def _controls(run: Run, rule: RuleReport) -> str:
    """The controls a rule tests, by framework label in display order."""
    groups = []
    for matrix in run.matrices:
        ids = rule.controls.get(matrix.framework) or ()
        if ids:
            groups.append(f"{matrix.display} {', '.join(ids)}")
    return "; ".join(groups) or "no control mapped"


def _body(run: Run, rule: RuleReport) -> str:
    """The text of a failure, error or skipped element: messages, controls, fix (escaped)."""
    lines = [f"{rule.title} ({rule.outcome.value}, severity {rule.severity})"]
    if rule.error:
        lines.append(f"error: {rule.error}")
    lines += [f"violation: {v.msg}" for v in rule.violations]
    lines += [f"missing: {v.msg}" for v in rule.missing]
    lines += [f"warning: {v.msg}" for v in rule.warnings]
    if rule.reason:
        lines.append(f"reason: {rule.reason}")
    lines.append(f"controls: {_controls(run, rule)}")
    lines.append(f"fix: {rule.remediation}")
    if rule.evidence_ids:
        lines.append("evidence: " + ", ".join(rule.evidence_ids))
    return "\n".join(xml_text(line) for line in lines)


def _testcase(run: Run, rule: RuleReport) -> str:
    """The ``testcase`` element of one rule, with its failure, error or skipped child (see the module)."""
    group = rule.id.split(".", 1)[0] if "." in rule.id else "rules"
    head = f"    <testcase{_attrs(name=rule.id, classname=f'affidavit.{group}', time='0')}"
    outcome = rule.outcome
    if outcome in _FAILURE_TYPE:
        child = "failure"
        attrs = _attrs(message=rule.first_message, type_=_FAILURE_TYPE[outcome])
    elif outcome is Outcome.ERROR:
        child = "error"
        attrs = _attrs(message=rule.first_message, type_="error")
    elif outcome is Outcome.NOT_APPLICABLE:
        child = "skipped"
        attrs = _attrs(message=f"not applicable: {rule.reason or 'the rule does not apply to this run'}")
    elif outcome is Outcome.WAIVED:
        child = "skipped"
        w = rule.waiver
        if w is None:
            attrs = _attrs(message="waived")
        else:
            approver = f", approved by {w.approver}" if w.approver else ""
            attrs = _attrs(message=f"waived by {w.owner}{approver} until {w.expires_text}: {w.reason}")
    else:  # pass, warn
        return head + "/>"
    return f"{head}>\n      <{child}{attrs}>{_body(run, rule)}</{child}>\n    </testcase>"


def render_junit(run: Run) -> str:
    """The JUnit XML report of ``run``."""
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    for rule in run.rules:
        if rule.outcome in _FAILURE_TYPE:
            counts["failures"] += 1
        elif rule.outcome is Outcome.ERROR:
            counts["errors"] += 1
        elif rule.outcome in (Outcome.NOT_APPLICABLE, Outcome.WAIVED):
            counts["skipped"] += 1
    properties = [
        ("affidavit.decision", run.decision.value),
        ("affidavit.run_id", run.run_id),
        ("affidavit.environment", run.environment),
        ("affidavit.subject", run.subject.text),
        ("affidavit.commit", run.commit or ""),
        ("affidavit.branch", run.branch or ""),
        ("affidavit.evaluated_at", run.time),
        ("affidavit.replay", "true" if run.replay else "false"),
        ("affidavit.policy_digest", run.policy_digest),
        ("affidavit.version", run.affidavit_version),
    ]
    properties += [(f"affidavit.framework.{m.framework}", f"{m.display} {m.version}") for m in run.matrices]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    suite = _attrs(
        name="affidavit",
        package=f"affidavit.{run.environment}",
        id="0",
        timestamp=_timestamp(run.time),
        hostname="localhost",
        tests=len(run.rules),
        failures=counts["failures"],
        errors=counts["errors"],
        skipped=counts["skipped"],
        time="0",
    )
    out.append(f"  <testsuite{suite}>")
    out.append("    <properties>")
    out += [f"      <property{_attrs(name=name, value=value)}/>" for name, value in properties]
    out.append("    </properties>")
    out += [_testcase(run, rule) for rule in run.rules]
    notes = [f"{run.decision.value}: {run.subject.text or '(no subject given)'} run {run.run_id}"]
    for rule in run.rules:
        if rule.outcome is Outcome.WARN:
            messages = [v.msg for v in (*rule.warnings, *rule.violations)] or [rule.reason or "warning"]
            notes += [f"warning {rule.id}: {m}" for m in messages]
        for applied in rule.waived:
            w = applied.waiver
            notes.append(
                f"waived {rule.id}: {len(applied.findings)} finding(s) hidden by {w.owner} until "
                f"{w.expires_text}: {w.reason}"
            )
    errors = [f"unreadable {failure.source}: {failure.message}" for failure in run.input_errors]
    out.append("    <system-out>" + "\n".join(xml_text(n) for n in notes) + "</system-out>")
    out.append("    <system-err>" + "\n".join(xml_text(e) for e in errors) + "</system-err>")
    out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"
