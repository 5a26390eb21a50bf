"""``assessment-results.json``: the run as OSCAL 1.1.3 assessment results, for GRC tools.

The shape follows NIST's OSCAL assessment-results model (v1.1.3): one ``result`` for the run, with

* an **observation per evidence record** (method ``TEST`` for a scanner's report, ``EXAMINE`` for a
  document that was read: SBOM, signature, provenance, plan, configuration, record), its subject,
  the tool that produced it as the origin, the time the gate collected it, and the normalised
  record in the bundle (``evidence/<sha12>.record.json``) as the relevant evidence;
* a **finding per control** of every matrix in force, whose target is the control's objective
  (``objective-id``, ``<control>_obj`` as in NIST's examples) with the state ``satisfied`` or
  ``not-satisfied``. Unknown is never pass: a control no rule tests (coverage manual or not
  covered) and one whose rules lacked evidence or could not run are ``not-satisfied`` (reason
  ``other``); a waived control is ``not-satisfied`` with the waiver as an approved deviation (a
  ``risk``); a control whose rules do not apply is ``satisfied`` with the implementation status
  ``not-applicable``;
* the **promoted subject** as a component and the assessment subject of the gate's one task.

The model requires ``import-ap``, a link to the assessment plan. affidavit has no separate plan:
the policy set and control matrices in force are the plan, so ``import-ap`` points at a
back-matter resource of this document (``#<uuid>``) that names them with their sha256.

Text fields of OSCAL (titles, descriptions, remarks) are Markdown ("markup-line" and
"markup-multiline"), so every artefact string in them is escaped with ``md_text``; property
values are plain single-line strings (white space squeezed, controls spelled out) and tokens
(control ids, prop names) are made valid tokens. UUIDs are version 5 (name-based) from the run id
and the object's name, so the same run always gives the same document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from affidavit.jsonwrite import indented_json
from affidavit.model import Outcome
from affidavit.render.escape import Md, md_text, visible

if TYPE_CHECKING:
    from affidavit.model import ControlStatus, InputRef, RuleReport, Run

OSCAL_VERSION = "1.1.3"
#: The namespace of affidavit's own properties: a name under the host of affidavit's schema ids
#: (``https://affidavit.dev/schemas/...``), never fetched. OSCAL readers such as compliance-trestle
#: take only a URL here, not a URN.
NS = "https://affidavit.dev/ns/oscal"
#: The namespace of every UUID affidavit writes; each run's UUIDs hang off uuid5(_ROOT, run id).
_ROOT = uuid.UUID("6d1c2f0e-3b7a-5c4e-9a1d-2f6b8e0c4a71")
#: Evidence kinds produced by running a test (a scanner); every other kind is a document examined.
_TESTED = frozenset({"vulnerability-scan", "secret-scan", "sast"})
#: An OSCAL token: a letter or underscore, then letters, digits, ``.``, ``-``, ``_``.
_TOKEN = re.compile(r"[^\W\d][\w.\-]*\Z")
_NOT_TOKEN = re.compile(r"[^\w.\-]")
_EVIDENCE_ID = re.compile(r"sha256:[0-9a-f]{64}\Z")
#: The times affidavit writes (``model.time.format_utc``): RFC 3339, UTC, to the second.
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")

_WORD = {
    Outcome.PASS: "passed",
    Outcome.FAIL: "failed",
    Outcome.WARN: "passed with a warning",
    Outcome.INSUFFICIENT_EVIDENCE: "insufficient evidence",
    Outcome.WAIVED: "waived",
    Outcome.NOT_APPLICABLE: "not applicable",
    Outcome.ERROR: "could not be evaluated",
}


class OscalRenderer:
    """OSCAL assessment results, for GRC tools that read OSCAL."""

    name = "oscal"
    filename = "assessment-results.json"

    def render(self, run: Run) -> str:
        """The OSCAL assessment-results document of ``run`` (JSON, sorted keys, one trailing newline)."""
        return indented_json(assessment_results(run), sort_keys=True, ensure_ascii=False) + "\n"


def _value(text: object) -> str:
    """A property value: one line, no leading or trailing space, controls spelled out, never empty."""
    return visible(" ".join(str(text).split())) or "-"


def _md(text: object, empty: str = "-") -> Md:
    """Markup text of artefact origin: escaped Markdown on one line (``empty`` when blank)."""
    return md_text(text) or Md(empty)


def token(text: str) -> str:
    """``text`` as an OSCAL token: itself when it is one, else every other character made ``_``."""
    if _TOKEN.match(text):
        return text
    cleaned = _NOT_TOKEN.sub("_", text)
    return cleaned if _TOKEN.match(cleaned) else f"_{cleaned}"


class _Ids:
    """The run's name-based UUIDs: the same name in the same run gives the same UUID."""

    def __init__(self, run_id: str) -> None:
        # JSON-encoded (ASCII), so that any run id, even one holding a lone surrogate, has a name.
        self._space = uuid.uuid5(_ROOT, json.dumps(run_id))

    def __call__(self, *name: str | None) -> str:
        """The UUID of the object called ``name`` (its parts, JSON-encoded so none can run into another)."""
        return str(uuid.uuid5(self._space, json.dumps(list(name))))


def _prop(name: str, value: object | None) -> list[dict[str, str]]:
    """One affidavit property (none when ``value`` is absent)."""
    if value is None or value == "":
        return []
    return [{"name": name, "ns": NS, "value": _value(value)}]


def _props(*groups: Iterable[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """``{"props": [...]}`` of the given properties, or nothing (OSCAL forbids an empty list)."""
    props = [p for group in groups for p in group]
    return {"props": props} if props else {}


def _subject_text(name: str | None, version: str | None, digest: str | None) -> str:
    """A subject as people read it: ``name version@digest`` from whichever parts are known."""
    label = " ".join(p for p in (name, version if version != digest else None) if p)
    if label and digest:
        return f"{label}@{digest}"
    return label or digest or ""


def _moment(text: str) -> str:
    """``text`` when it is a time OSCAL can carry (UTC, years 1900 to 2999); ``ValueError`` if not.

    The pipeline always writes such a time; a run read back from an edited results.json may not
    hold one, and OSCAL has no way to say "unknown time", so the document is refused rather than
    given a time the run never had.
    """
    if _UTC.match(text):
        try:
            moment = dt.datetime.fromisoformat(text[:-1])
        except ValueError:
            pass
        else:
            if 1900 <= moment.year < 3000:
                return text
    raise ValueError(
        "the run's evaluation time is not an RFC 3339 UTC time; no OSCAL document can be written"
    )


def assessment_results(run: Run) -> dict[str, Any]:
    """The OSCAL document of ``run`` as a JSON value (see the module docstring for the mapping).

    ``ValueError`` when the run's time is not one OSCAL can carry (see ``_moment``).
    """
    _moment(run.time)
    ids = _Ids(run.run_id)
    subjects = _Subjects(run, ids)
    tools = _Tools(run, ids)
    observation_of = {e.id: ids("observation", e.id) for e in run.inputs}
    observations = [_observation(run, e, observation_of[e.id], subjects, tools) for e in run.inputs]
    risks, risk_of = _risks(run, ids)
    findings = [
        _finding(run, status, ids, observation_of, risk_of)
        for framework in _frameworks(run)
        for status in run.controls[framework]
    ]
    plan = ids("plan")
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": Md(f"affidavit gate run {md_text(run.run_id)}: {run.decision.value}"),
        "description": _result_description(run),
        "start": run.time,
        "end": run.time,
        **_props(
            _prop("decision", run.decision.value),
            _prop("run-id", run.run_id),
            _prop("environment", run.environment),
            _prop("subject", run.subject.text),
            _prop("commit", run.commit),
            _prop("branch", run.branch),
            _prop("replay", "true" if run.replay else "false"),
            _prop("wall-clock", run.wall_time),
            _prop("exit-code", str(run.exit_code)),
        ),
        "local-definitions": {
            "components": subjects.components(),
            "assessment-assets": tools.assets(),
            "tasks": [
                {
                    "uuid": ids("task"),
                    "type": "action",
                    "title": "affidavit gate",
                    "description": Md(
                        f"Collect the release evidence, judge it with the policy set and decide "
                        f"whether {subjects.promoted_title} may be promoted to {_md(run.environment)}."
                    ),
                    "subjects": [subjects.assessment_subject()],
                }
            ],
        },
        "reviewed-controls": _reviewed(run),
    }
    if observations:
        result["observations"] = observations
    if risks:
        result["risks"] = risks
    if findings:
        result["findings"] = findings
    return {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": Md(
                    f"affidavit assessment of {subjects.promoted_title} for "
                    f"{_md(run.environment)}: {run.decision.value}"
                ),
                "last-modified": run.time,
                "version": _value(run.run_id),
                "oscal-version": OSCAL_VERSION,
                **_props(_prop("affidavit-version", run.affidavit_version)),
            },
            "import-ap": {
                "href": f"#{plan}",
                "remarks": "affidavit has no separate assessment plan: the policy set and control "
                "matrices in force are the plan, described by the back-matter resource this points to.",
            },
            "results": [result],
            "back-matter": {"resources": [_plan(run, plan)]},
        }
    }


def _result_description(run: Run) -> Md:
    """What the run decided, in words (counts and the blocking rules)."""
    counts = ", ".join(f"{n} {_md(k)}" for k, n in run.rule_counts().items()) or "no rules"
    lines = [
        Md(f"Decision: **{run.decision.value}** (exit code {run.exit_code})."),
        Md(f"Rules: {counts}. Evidence: {len(run.inputs)} record(s), {len(run.input_errors)} unreadable."),
    ]
    if run.replay:
        lines.append(Md(f"This is a replay of the moment {_md(run.time)}, not a live decision."))
    lines.extend(
        Md(f"Blocking: {_md(r.title)} ({_md(r.id)}): {_WORD[r.outcome]}.")
        for r in run.rules
        if r.outcome.blocks
    )
    lines.extend(Md(f"Unreadable evidence: {_md(e.source)}: {_md(e.message)}") for e in run.input_errors)
    return Md("\n\n".join(lines))


class _Subjects:
    """The components observed: the promoted subject and each other subject evidence is about."""

    def __init__(self, run: Run, ids: _Ids) -> None:
        self._ids = ids
        self._digest = run.subject.digest
        self.promoted = ids("subject", run.subject.name, run.subject.digest)
        self.promoted_title = _md(run.subject.text, empty="the subject (not given)")
        self._components: dict[str, dict[str, Any]] = {
            self.promoted: {
                "uuid": self.promoted,
                "type": "software",
                "title": self.promoted_title,
                "description": Md(f"What the run promotes to {_md(run.environment)}."),
                **_props(
                    _prop("name", run.subject.name),
                    _prop("digest", run.subject.digest),
                    _prop("role", "promoted-subject"),
                ),
                "status": {"state": "other", "remarks": "Being promoted; the decision is in the result."},
            }
        }
        for e in run.inputs:
            self.of(e)

    def of(self, e: InputRef) -> str | None:
        """The component a record is about (``None`` when it names no subject)."""
        if e.subject_digest and e.subject_digest == self._digest:
            return self.promoted
        text = _subject_text(e.subject_name, e.subject_version, e.subject_digest)
        if not text:
            return None
        key = self._ids("evidence-subject", e.subject_name, e.subject_version, e.subject_digest)
        self._components.setdefault(
            key,
            {
                "uuid": key,
                "type": "software",
                "title": _md(text),
                "description": Md("A subject that evidence of this run is about."),
                **_props(
                    _prop("name", e.subject_name),
                    _prop("version", e.subject_version),
                    _prop("digest", e.subject_digest),
                ),
                "status": {"state": "other"},
            },
        )
        return key

    def components(self) -> list[dict[str, Any]]:
        """Every component, the promoted subject first, then in order of first mention."""
        return list(self._components.values())

    def assessment_subject(self) -> dict[str, Any]:
        """The assessment subject of the gate's task: the promoted subject."""
        return {
            "type": "component",
            "description": "The subject promoted by this run.",
            "include-subjects": [{"subject-uuid": self.promoted, "type": "component"}],
        }


class _Tools:
    """The tools that made the evidence, and affidavit itself, as assessment assets."""

    def __init__(self, run: Run, ids: _Ids) -> None:
        self._ids = ids
        self.affidavit = ids("tool", "affidavit", run.affidavit_version)
        self._platform = ids("platform")
        engine = " ".join(p for p in (run.engine.name, run.engine.version) if p)
        self._components: dict[str, dict[str, Any]] = {
            self.affidavit: {
                "uuid": self.affidavit,
                "type": "software",
                "title": Md(f"affidavit {_md(run.affidavit_version)}"),
                "description": Md(f"The gate: Rego policies evaluated in-process by {_md(engine)}."),
                **_props(_prop("policy-digest", run.policy_digest), _prop("engine", engine)),
                "status": {"state": "operational"},
            }
        }
        for e in run.inputs:
            self.of(e)

    def of(self, e: InputRef) -> str | None:
        """The component of the tool that produced a record (``None`` when the record names none)."""
        if e.tool is None:
            return None
        key = self._ids("tool", e.tool.name, e.tool.version)
        text = " ".join(p for p in (e.tool.name, e.tool.version) if p)
        self._components.setdefault(
            key,
            {
                "uuid": key,
                "type": "software",
                "title": _md(text),
                "description": Md("A tool whose output this run read as evidence."),
                **_props(_prop("name", e.tool.name), _prop("version", e.tool.version)),
                "status": {"state": "operational"},
            },
        )
        return key

    def assets(self) -> dict[str, Any]:
        """``assessment-assets``: the tools, and the platform (the gate) that used them."""
        return {
            "components": list(self._components.values()),
            "assessment-platforms": [
                {
                    "uuid": self._platform,
                    "title": "affidavit gate",
                    "uses-components": [{"component-uuid": key} for key in self._components],
                }
            ],
        }


def _observation(run: Run, e: InputRef, key: str, subjects: _Subjects, tools: _Tools) -> dict[str, Any]:
    """The observation of one evidence record."""
    tool = tools.of(e)
    tool_text = " ".join(p for p in (e.tool.name, e.tool.version) if p) if e.tool else ""
    fmt = " ".join(p for p in (e.format, e.format_version) if p)
    observation: dict[str, Any] = {
        "uuid": key,
        "title": Md(f"{_md(e.kind)} from {_md(tool_text, empty='an unnamed tool')}"),
        "description": Md(f"{_md(fmt)} read from {_md(e.source)}."),
        **_props(
            _prop("evidence-id", e.id),
            _prop("kind", e.kind),
            _prop("format", e.format),
            _prop("format-version", e.format_version),
            _prop("source", e.source),
            _prop("effective-at", e.effective_at),
        ),
        "methods": ["TEST" if e.kind in _TESTED else "EXAMINE"],
        "origins": [
            {"actors": [{"type": "tool", "actor-uuid": actor} for actor in (tool, tools.affidavit) if actor]}
        ],
        "collected": run.time,
    }
    subject = subjects.of(e)
    if subject is not None:
        text = _subject_text(e.subject_name, e.subject_version, e.subject_digest)
        observation["subjects"] = [{"subject-uuid": subject, "type": "component", "title": _md(text)}]
    if _EVIDENCE_ID.match(e.id):
        # Only a well-formed id names a file: anything else could point out of the bundle.
        observation["relevant-evidence"] = [
            {
                "href": f"evidence/{e.id[7:19]}.record.json",
                "description": Md(
                    f"The normalised record in this bundle; the raw artefact (secret values redacted) "
                    f"is beside it, and its sha256 is the evidence id {md_text(e.id)}."
                ),
            }
        ]
    if e.problems:
        observation["remarks"] = Md("\n\n".join(f"Noticed while reading: {_md(p)}" for p in e.problems))
    return observation


def _risks(run: Run, ids: _Ids) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A risk for each waived rule (an approved deviation), and each rule id's risk UUID."""
    risks: list[dict[str, Any]] = []
    risk_of: dict[str, str] = {}
    for rule in run.rules:
        waiver = rule.waiver
        if rule.outcome is not Outcome.WAIVED or waiver is None:
            continue
        key = ids("risk", rule.id)
        risk_of[rule.id] = key
        approval = f", approved by {_md(waiver.approver)}" if waiver.approver else ""
        risks.append(
            {
                "uuid": key,
                "title": Md(f"Waived: {_md(rule.title)}"),
                "description": Md(
                    f"Rule {_md(rule.id)} found problems that a waiver of {_md(waiver.owner)}"
                    f"{approval} lets through until {_md(waiver.expires_text)}."
                ),
                "statement": Md(f"Reason given: {_md(waiver.reason)}"),
                **_props(
                    _prop("rule", rule.id), _prop("owner", waiver.owner), _prop("ticket", waiver.ticket)
                ),
                "status": "deviation-approved" if waiver.approver else "deviation-requested",
                **_deadline(waiver.ended_at()),
            }
        )
    return risks, risk_of


def _deadline(ended: str) -> dict[str, str]:
    """``{"deadline": ended}`` when the waiver ends at a time OSCAL can write (years 1900 to 2999)."""
    return {"deadline": ended} if ended[:4].isdigit() and 1900 <= int(ended[:4]) < 3000 else {}


def _state(status: ControlStatus) -> tuple[str, str, str | None]:
    """A control's OSCAL ``(state, reason, implementation status)``; unknown is never satisfied."""
    outcome = status.outcome
    if outcome in (Outcome.PASS, Outcome.WARN):
        return "satisfied", "pass", None
    if outcome is Outcome.NOT_APPLICABLE:
        return "satisfied", "other", "not-applicable"
    if outcome is Outcome.FAIL:
        return "not-satisfied", "fail", None
    return "not-satisfied", "other", None


def _finding(
    run: Run,
    status: ControlStatus,
    ids: _Ids,
    observation_of: dict[str, str],
    risk_of: dict[str, str],
) -> dict[str, Any]:
    """The finding of one control of one framework."""
    label = run.label(status.framework)
    rules = [r for r in (run.rule(rid) for rid in status.rule_ids) if r is not None]
    state, reason, implementation = _state(status)
    word = "not assessed by affidavit" if status.outcome is None else _WORD[status.outcome]
    target: dict[str, Any] = {
        "type": "objective-id",
        "target-id": f"{token(status.control_id)}_obj",
        "title": Md(f"{_md(label)} {_md(status.control_id)}"),
        "status": {"state": state, "reason": reason},
    }
    if implementation is not None:
        target["implementation-status"] = {"state": implementation}
    finding: dict[str, Any] = {
        "uuid": ids("finding", status.framework, status.control_id),
        "title": Md(f"{_md(label)} {_md(status.control_id)} {_md(status.title, empty='')}".rstrip()),
        "description": _finding_description(status, rules, word),
        **_props(
            _prop("framework", status.framework),
            _prop("control-id", status.control_id),
            _prop("outcome", status.outcome.value if status.outcome is not None else "not-assessed"),
            _prop("coverage", status.coverage),
            *(_prop("rule", rid) for rid in status.rule_ids),
        ),
        "target": target,
    }
    related = _unique(observation_of[eid] for r in rules for eid in r.evidence_ids if eid in observation_of)
    if related:
        finding["related-observations"] = [{"observation-uuid": key} for key in related]
    waived = _unique(risk_of[r.id] for r in rules if r.id in risk_of)
    if waived:
        finding["related-risks"] = [{"risk-uuid": key} for key in waived]
    return finding


def _finding_description(status: ControlStatus, rules: Sequence[RuleReport], word: str) -> Md:
    """The control's status and each of its rules with its outcome and first message."""
    if not status.rule_ids:
        return Md(
            f"Status: {word}. No rule of the policy set tests this control (coverage "
            f"{_md(status.coverage)}); it needs a manual assessment, so it is not counted as satisfied."
        )
    lines = [Md(f"Status: {word} (the worst outcome of its rules; coverage {_md(status.coverage)}).")]
    for rule in rules:
        line = f"Rule {_md(rule.id)}: {_WORD[rule.outcome]}"
        if rule.outcome.blocks or rule.outcome is Outcome.WARN:
            line += f": {_md(rule.first_message)}. Fix: {_md(rule.remediation)}"
        lines.append(Md(line))
    known = {r.id for r in rules}
    lines.extend(Md(f"Rule {_md(rid)}: not in this run.") for rid in status.rule_ids if rid not in known)
    return Md("\n\n".join(lines))


def _frameworks(run: Run) -> list[str]:
    """The frameworks of the run's controls in display order (the matrices'), whatever order the
    mapping has (results.json stores it with sorted keys)."""
    shown = [m.framework for m in run.matrices if m.framework in run.controls]
    return shown + sorted(set(run.controls) - set(shown))


def _unique(values: Iterable[str]) -> list[str]:
    """``values`` without repeats, in first-seen order."""
    return list(dict.fromkeys(values))


def _reviewed(run: Run) -> dict[str, Any]:
    """``reviewed-controls``: one control selection per framework, its controls as tokens."""
    selections = []
    for framework in _frameworks(run):
        statuses = run.controls[framework]
        selection: dict[str, Any] = {
            "description": Md(f"{_md(run.label(framework))} controls in the matrix.")
        }
        controls = _unique(token(s.control_id) for s in statuses)
        if controls:
            selection["include-controls"] = [{"control-id": cid} for cid in controls]
        selections.append(selection)
    if not selections:
        selections.append({"description": "No control matrix was in force."})
    return {"control-selections": selections}


def _plan(run: Run, key: str) -> dict[str, Any]:
    """The back-matter resource ``import-ap`` points at: the policy set and matrices in force."""
    lines = [Md(f"Policy set of {len(run.rules)} rule(s), sha256 {_md(run.policy_digest)}.")]
    lines.extend(
        Md(f"Control matrix {_md(m.display)} {_md(m.version)} ({_md(m.file)}), sha256 {_md(m.sha256)}.")
        for m in run.matrices
    )
    return {
        "uuid": key,
        "title": "The assessment plan: affidavit's policy set and control matrices",
        "description": Md("\n\n".join(lines)),
        **_props(
            _prop("policy-digest", run.policy_digest),
            *(_prop("matrix", f"{m.framework} {m.version} sha256:{m.sha256}") for m in run.matrices),
        ),
    }
