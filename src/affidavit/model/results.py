"""The decision of one run: rule outcomes, control statuses and the verdict.

``Run`` is the typed form of ``results.json`` (``affidavit.results/v1``, schema in
``schemas/results.v1.schema.json``): its ``to_json`` is the only writer of that document and its
``from_json`` the only reader. Renderers, the bundle, ``diff`` and the control listing all read a
``Run``, never the raw dictionary.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from affidavit.errors import ResultsError, UsageError
from affidavit.model.waiver import AppliedWaiver, Waiver

RESULTS_SCHEMA = "affidavit.results/v1"


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
    """The gate's verdict. ``INCOMPLETE``: the run could not judge everything (exit code 3)."""

    GO = "GO"
    NO_GO = "NO-GO"
    INCOMPLETE = "INCOMPLETE"

    @property
    def exit_code(self) -> int:
        """The command's exit code for this verdict: 0 GO, 1 NO-GO, 3 INCOMPLETE."""
        return {Decision.GO: 0, Decision.NO_GO: 1, Decision.INCOMPLETE: 3}[self]


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
    waiver: Waiver | None = None
    waived: tuple[AppliedWaiver, ...] = ()  # what each waiver hid, even where the rule still blocks


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


# ---------------------------------------------------------------------------------------------
# The Run: the typed results.json
#
# ``from_json`` checks every field it reads and raises ``ResultsError`` naming the field; it never
# quotes the document's values. ``to_json`` gives the document with a fixed key order; the
# ``summary`` block is derived from the rules and inputs, and ``from_json`` refuses a summary that
# disagrees with them (a hand-edited count would otherwise be believed by a reader).

_OUTCOMES = {o.value: o for o in Outcome}
_DECISIONS = {d.value: d for d in Decision}


@dataclass(frozen=True, slots=True)
class Named:
    """A (name, version) pair: a tool, an engine."""

    name: str
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{name, version}``."""
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True)
class RunSubject:
    """What the run promotes: an image or artefact name and its digest (either may be absent)."""

    name: str | None
    digest: str | None

    @property
    def text(self) -> str:
        """``name@digest``, whichever parts are known; empty when neither is."""
        if self.name and self.digest:
            return f"{self.name}@{self.digest}"
        return self.name or self.digest or ""


@dataclass(frozen=True, slots=True)
class InputRef:
    """One evidence record the run judged, as results.json lists it (the record minus its data)."""

    id: str
    kind: str
    format: str
    format_version: str | None
    tool: Named | None
    subject_name: str | None
    subject_version: str | None
    subject_digest: str | None
    source: str
    effective_at: str | None
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``inputs[]`` entry."""
        return {
            "id": self.id,
            "kind": self.kind,
            "format": self.format,
            "format_version": self.format_version,
            "tool": None if self.tool is None else self.tool.to_json(),
            "subject": {
                "name": self.subject_name,
                "version": self.subject_version,
                "digest": self.subject_digest,
            },
            "source": self.source,
            "effective_at": self.effective_at,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class InputFailure:
    """An artefact that could not be read (the run is then INCOMPLETE)."""

    source: str
    kind: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        """The ``input_errors[]`` entry."""
        return {"source": self.source, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class RuleReport:
    """One rule's outcome in a run, with what a reader needs to act on it."""

    id: str
    title: str
    severity: str
    outcome: Outcome
    controls: Mapping[str, tuple[str, ...]]
    requires: tuple[str, ...]
    remediation: str
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    missing: tuple[Violation, ...] = ()
    evidence_ids: tuple[str, ...] = ()
    error: str | None = None
    reason: str | None = None
    waiver: Waiver | None = None
    waived: tuple[AppliedWaiver, ...] = ()

    @property
    def first_message(self) -> str:
        """The message a one-line summary shows: the first violation, else what is missing, else why."""
        for group in (self.violations, self.missing):
            if group:
                return group[0].msg
        return self.error or self.reason or self.outcome.value

    def to_json(self) -> dict[str, Any]:
        """The ``rules[]`` entry."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "outcome": self.outcome.value,
            "controls": {fw: list(ids) for fw, ids in self.controls.items()},
            "requires": list(self.requires),
            "remediation": self.remediation,
            "violations": [v.to_json() for v in self.violations],
            "warnings": [v.to_json() for v in self.warnings],
            "missing": [v.to_json() for v in self.missing],
            "evidence_ids": list(self.evidence_ids),
            "error": self.error,
            "reason": self.reason,
            "waiver": None if self.waiver is None else self.waiver.to_json(),
            "waived": [a.to_json() for a in self.waived],
        }


@dataclass(frozen=True, slots=True)
class MatrixRef:
    """A control matrix in force for the run: its framework, label, version, file and hash."""

    framework: str
    version: str
    file: str
    sha256: str
    label: str | None = None

    @property
    def display(self) -> str:
        """The framework's label for people (its id when the matrix gives none)."""
        return self.label or self.framework

    def to_json(self) -> dict[str, Any]:
        """The ``matrices[]`` entry."""
        out: dict[str, Any] = {
            "framework": self.framework,
            "version": self.version,
            "file": self.file,
            "sha256": self.sha256,
        }
        if self.label is not None:
            out["label"] = self.label
        return out


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """One Rego module of the policy set, by the name it is reported under."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class NotRead:
    """A file of an evidence folder that was not read as evidence, and why (never its content).

    ``action``: ``skipped`` (hidden, or a link inside the folder read under its target's name),
    ``ignored`` (clearly not evidence: an image, a PDF, plain text), ``excluded`` (``--exclude``) or
    ``refused`` (a link out of the folder, a FIFO or device: the run is then INCOMPLETE).
    """

    path: str
    action: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The ``not_read[]`` entry."""
        return {"path": self.path, "action": self.action, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ConfigInput:
    """Something besides the evidence that can change the verdict, as the run received it.

    ``role`` says what it is (``params``, ``waivers``, ``policies``, ``controls``, ``key``,
    ``trusted-root``, ``identity``, ``issuer``); a file has its ``path`` and ``sha256``, a value
    given on the command line its ``value``.
    """

    role: str
    path: str | None = None
    sha256: str | None = None
    value: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``configuration.inputs[]`` entry."""
        return {"role": self.role, "path": self.path, "sha256": self.sha256, "value": self.value}


@dataclass(frozen=True, slots=True)
class DataChange:
    """A rule-data key whose value in force differs from the built-in default for the environment."""

    key: str
    default: Any
    value: Any

    def to_json(self) -> dict[str, Any]:
        """The ``configuration.rule_data_changes[]`` entry."""
        return {"key": self.key, "default": self.default, "value": self.value}


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one gate run decided and what it decided it with.

    ``matrices`` are in display order and ``controls`` has one entry per matrix framework, in the
    same order; renderers show frameworks in that order and never name one themselves.
    """

    run_id: str
    time: str
    environment: str
    subject: RunSubject
    commit: str | None
    decision: Decision
    inputs: tuple[InputRef, ...]
    input_errors: tuple[InputFailure, ...]
    rules: tuple[RuleReport, ...]
    controls: Mapping[str, tuple[ControlStatus, ...]]
    engine: Named
    policy_digest: str
    policy_files: tuple[PolicyFile, ...]
    params: Mapping[str, Any]
    matrices: tuple[MatrixRef, ...]
    waivers: tuple[Waiver, ...]
    affidavit_version: str
    wall_time: str | None = None
    replay: bool = False
    configuration: tuple[ConfigInput, ...] = ()
    rule_data_changes: tuple[DataChange, ...] = ()
    not_read: tuple[NotRead, ...] = ()
    branch: str | None = None

    @property
    def exit_code(self) -> int:
        """0 GO, 1 NO-GO, 3 INCOMPLETE."""
        return self.decision.exit_code

    def rule_counts(self) -> dict[str, int]:
        """How many rules ended in each outcome (only outcomes that occurred), sorted by name."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            counts[rule.outcome.value] = counts.get(rule.outcome.value, 0) + 1
        return dict(sorted(counts.items()))

    def rule(self, rule_id: str) -> RuleReport | None:
        """The rule with this id, or ``None``."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def outcomes(self) -> dict[str, Outcome]:
        """Each rule's outcome by rule id."""
        return {r.id: r.outcome for r in self.rules}

    def matrix(self, framework: str) -> MatrixRef | None:
        """The matrix of this framework, or ``None``."""
        return next((m for m in self.matrices if m.framework == framework), None)

    def label(self, framework: str) -> str:
        """The framework's label for people."""
        found = self.matrix(framework)
        return found.display if found is not None else framework

    def to_json(self) -> dict[str, Any]:
        """results.json (``affidavit.results/v1``)."""
        return {
            "schema": RESULTS_SCHEMA,
            "run_id": self.run_id,
            "time": self.time,
            "environment": self.environment,
            "subject": {"name": self.subject.name, "digest": self.subject.digest},
            "commit": self.commit,
            "branch": self.branch,
            "decision": self.decision.value,
            "exit_code": self.exit_code,
            "summary": {
                "rules": self.rule_counts(),
                "evidence": len(self.inputs),
                "input_errors": len(self.input_errors),
            },
            "inputs": [i.to_json() for i in self.inputs],
            "input_errors": [e.to_json() for e in self.input_errors],
            "rules": [r.to_json() for r in self.rules],
            "controls": {
                framework: [_control_json(s) for s in statuses]
                for framework, statuses in self.controls.items()
            },
            "engine": self.engine.to_json(),
            "policies": {
                "digest": self.policy_digest,
                "files": [{"path": f.path, "sha256": f.sha256} for f in self.policy_files],
            },
            "params": self.params,
            "matrices": [m.to_json() for m in self.matrices],
            "waivers": [w.to_json() for w in self.waivers],
            "affidavit": {"version": self.affidavit_version},
            "clock": {"evaluated_at": self.time, "wall_clock": self.wall_time, "replay": self.replay},
            "not_read": [n.to_json() for n in self.not_read],
            "configuration": {
                "inputs": [c.to_json() for c in self.configuration],
                "rule_data_changes": [c.to_json() for c in self.rule_data_changes],
            },
        }

    @classmethod
    def from_json(cls, value: Any) -> Run:
        """Read a results document; ``ResultsError`` names the first field that is wrong."""
        doc = _obj(value, "the document")
        if doc.get("schema") != RESULTS_SCHEMA:
            raise ResultsError(f"not an {RESULTS_SCHEMA} document (field 'schema')")
        decision = _DECISIONS.get(_str(doc, "decision"))
        if decision is None:
            raise ResultsError("field 'decision' is not GO, NO-GO or INCOMPLETE")
        subject = _obj(doc.get("subject"), "subject")
        engine = _obj(doc.get("engine"), "engine")
        policies = _obj(doc.get("policies"), "policies")
        run = cls(
            run_id=_str(doc, "run_id"),
            time=_str(doc, "time"),
            environment=_str(doc, "environment"),
            subject=RunSubject(_opt(subject, "name", "subject"), _opt(subject, "digest", "subject")),
            commit=_opt(doc, "commit"),
            branch=_opt(doc, "branch"),
            decision=decision,
            inputs=tuple(_input(v, i) for i, v in enumerate(_list(doc, "inputs"))),
            input_errors=tuple(
                InputFailure(
                    _str(e, "source", f"input_errors[{i}]"),
                    _opt(e, "kind", f"input_errors[{i}]"),
                    _str(e, "message", f"input_errors[{i}]"),
                )
                for i, e in enumerate(_objs(doc, "input_errors"))
            ),
            rules=tuple(_rule(v, i) for i, v in enumerate(_list(doc, "rules"))),
            controls={
                framework: tuple(
                    _control(framework, c, f"controls.{framework}[{i}]")
                    for i, c in enumerate(_objs(_obj(doc.get("controls"), "controls"), framework, "controls"))
                )
                for framework in _obj(doc.get("controls"), "controls")
            },
            engine=Named(_str(engine, "name", "engine"), _opt(engine, "version", "engine")),
            policy_digest=_str(policies, "digest", "policies"),
            policy_files=tuple(
                PolicyFile(_str(f, "path", "policies.files"), _str(f, "sha256", "policies.files"))
                for f in _objs(policies, "files", "policies")
            ),
            params=_obj(doc.get("params"), "params"),
            matrices=tuple(
                MatrixRef(
                    framework=_str(m, "framework", "matrices"),
                    version=_str(m, "version", "matrices"),
                    file=_str(m, "file", "matrices"),
                    sha256=_str(m, "sha256", "matrices"),
                    label=_opt(m, "label", "matrices"),
                )
                for m in _objs(doc, "matrices")
            ),
            waivers=tuple(_waiver(w, f"waivers[{i}]") for i, w in enumerate(_objs(doc, "waivers"))),
            affidavit_version=_str(_obj(doc.get("affidavit"), "affidavit"), "version", "affidavit"),
            **_clock_and_configuration(doc),
        )
        ids = [r.id for r in run.rules]
        if len(ids) != len(set(ids)):
            raise ResultsError("field 'rules' lists a rule twice")
        if doc.get("exit_code") != run.exit_code:
            raise ResultsError("field 'exit_code' does not match the decision")
        summary = _obj(doc.get("summary"), "summary")
        derived = run.to_json()["summary"]
        if summary != derived:
            raise ResultsError("field 'summary' does not match the rules and inputs it counts")
        return run


def _control_json(s: ControlStatus) -> dict[str, Any]:
    return {
        "id": s.control_id,
        "title": s.title,
        "outcome": None if s.outcome is None else s.outcome.value,
        "coverage": s.coverage,
        "rules": list(s.rule_ids),
        "related": list(s.related),
    }


def _where(key: str, parent: str | None) -> str:
    return f"{parent}.{key}" if parent else key


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResultsError(f"field '{where}' is not an object")
    return value


def _list(doc: Mapping[str, Any], key: str, parent: str | None = None) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise ResultsError(f"field '{_where(key, parent)}' is not an array")
    return value


def _objs(doc: Mapping[str, Any], key: str, parent: str | None = None) -> list[dict[str, Any]]:
    items = _list(doc, key, parent)
    for i, item in enumerate(items):
        _obj(item, f"{_where(key, parent)}[{i}]")
    return items


def _str(doc: Mapping[str, Any], key: str, parent: str | None = None) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ResultsError(f"field '{_where(key, parent)}' is not a string")
    return value


def _opt(doc: Mapping[str, Any], key: str, parent: str | None = None) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise ResultsError(f"field '{_where(key, parent)}' is not a string or null")
    return value


def _strs(doc: Mapping[str, Any], key: str, parent: str) -> tuple[str, ...]:
    items = _list(doc, key, parent)
    if not all(isinstance(x, str) for x in items):
        raise ResultsError(f"field '{_where(key, parent)}' is not an array of strings")
    return tuple(items)


def _outcome(value: Any, where: str) -> Outcome:
    found = _OUTCOMES.get(value) if isinstance(value, str) else None
    if found is None:
        raise ResultsError(f"field '{where}' is not a known outcome")
    return found


def _input(value: Any, i: int) -> InputRef:
    where = f"inputs[{i}]"
    e = _obj(value, where)
    tool = e.get("tool")
    subject = _obj(e.get("subject"), f"{where}.subject")
    return InputRef(
        id=_str(e, "id", where),
        kind=_str(e, "kind", where),
        format=_str(e, "format", where),
        format_version=_opt(e, "format_version", where),
        tool=None
        if tool is None
        else Named(
            _str(_obj(tool, f"{where}.tool"), "name", f"{where}.tool"), _opt(tool, "version", f"{where}.tool")
        ),
        subject_name=_opt(subject, "name", f"{where}.subject"),
        subject_version=_opt(subject, "version", f"{where}.subject"),
        subject_digest=_opt(subject, "digest", f"{where}.subject"),
        source=_str(e, "source", where),
        effective_at=_opt(e, "effective_at", where),
        problems=_strs(e, "problems", where),
    )


def _violations(doc: Mapping[str, Any], key: str, parent: str) -> tuple[Violation, ...]:
    out = []
    for i, v in enumerate(_objs(doc, key, parent)):
        where = f"{parent}.{key}[{i}]"
        details = v.get("details")
        if details is not None and not isinstance(details, dict):
            raise ResultsError(f"field '{where}.details' is not an object")
        out.append(Violation(_str(v, "msg", where), _strs(v, "evidence_ids", where), details))
    return tuple(out)


def _rule(value: Any, i: int) -> RuleReport:
    where = f"rules[{i}]"
    r = _obj(value, where)
    controls = _obj(r.get("controls"), f"{where}.controls")
    waiver = r.get("waiver")
    return RuleReport(
        id=_str(r, "id", where),
        title=_str(r, "title", where),
        severity=_str(r, "severity", where),
        outcome=_outcome(r.get("outcome"), f"{where}.outcome"),
        controls={fw: _strs(controls, fw, f"{where}.controls") for fw in controls},
        requires=_strs(r, "requires", where),
        remediation=_str(r, "remediation", where),
        violations=_violations(r, "violations", where),
        warnings=_violations(r, "warnings", where),
        missing=_violations(r, "missing", where),
        evidence_ids=_strs(r, "evidence_ids", where),
        error=_opt(r, "error", where),
        reason=_opt(r, "reason", where),
        waiver=None if waiver is None else _waiver(waiver, f"{where}.waiver"),
        waived=tuple(_applied(a, f"{where}.waived[{i}]") for i, a in enumerate(r.get("waived") or [])),
    )


def _control(framework: str, c: Mapping[str, Any], where: str) -> ControlStatus:
    outcome = c.get("outcome")
    return ControlStatus(
        framework=framework,
        control_id=_str(c, "id", where),
        title=_str(c, "title", where),
        outcome=None if outcome is None else _outcome(outcome, f"{where}.outcome"),
        rule_ids=_strs(c, "rules", where),
        related=_strs(c, "related", where),
        coverage=_str(c, "coverage", where),
    )


def _waiver(value: Any, where: str) -> Waiver:
    try:
        return Waiver.from_json(_obj(value, where), where)
    except UsageError:
        raise ResultsError(f"field '{where}' is not a complete waiver") from None


def _clock_and_configuration(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The clock and configuration blocks (absent in documents written before they existed)."""
    out: dict[str, Any] = {}
    if "not_read" in doc:
        out["not_read"] = tuple(
            NotRead(
                _str(n, "path", f"not_read[{i}]"),
                _str(n, "action", f"not_read[{i}]"),
                _str(n, "reason", f"not_read[{i}]"),
            )
            for i, n in enumerate(_objs(doc, "not_read"))
        )
    if "clock" in doc:
        clock = _obj(doc.get("clock"), "clock")
        if clock.get("evaluated_at") != doc.get("time"):
            raise ResultsError("field 'clock.evaluated_at' does not match 'time'")
        replay = clock.get("replay")
        if not isinstance(replay, bool):
            raise ResultsError("field 'clock.replay' is not a boolean")
        out["wall_time"] = _opt(clock, "wall_clock", "clock")
        out["replay"] = replay
    if "configuration" in doc:
        config = _obj(doc.get("configuration"), "configuration")
        out["configuration"] = tuple(
            ConfigInput(
                role=_str(c, "role", f"configuration.inputs[{i}]"),
                path=_opt(c, "path", f"configuration.inputs[{i}]"),
                sha256=_opt(c, "sha256", f"configuration.inputs[{i}]"),
                value=_opt(c, "value", f"configuration.inputs[{i}]"),
            )
            for i, c in enumerate(_objs(config, "inputs", "configuration"))
        )
        out["rule_data_changes"] = tuple(
            DataChange(
                _str(c, "key", f"configuration.rule_data_changes[{i}]"), c.get("default"), c.get("value")
            )
            for i, c in enumerate(_objs(config, "rule_data_changes", "configuration"))
        )
    return out


def _applied(value: Any, where: str) -> AppliedWaiver:
    a = _obj(value, where)
    absent = a.get("absent_evidence")
    if not isinstance(absent, bool):
        raise ResultsError(f"field '{where}.absent_evidence' is not a boolean")
    return AppliedWaiver(
        waiver=_waiver(a.get("waiver"), f"{where}.waiver"),
        findings=_violations(a, "findings", where),
        absent_evidence=absent,
    )
