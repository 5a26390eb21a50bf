"""Judging evidence: one ``RuleResult`` per rule of the policy set.

The Rego input is built once and set once::

    {"evidence": {<kind>: [record, ...] for every EvidenceKind (empty lists included)},
     "context": {"environment", "subject": {"name", "digest"}, "now": RFC 3339 UTC,
                 "commit", "branch", "params", "waivers"}}

Then each rule's ``deny``, ``warn`` and ``missing`` sets are evaluated on their own (an engine error
in one rule is that rule's ``error``). The outcome of a rule, first match wins:

1. an engine error in any of its sets: ``error``;
2. the environment is not in ``custom.environments``: ``not_applicable`` (the rule is not evaluated);
3. a kind in ``custom.requires`` has no record: ``insufficient_evidence`` (never ``pass``);
4. ``deny`` is non-empty: ``fail``, or ``warn`` before ``custom.effective_on`` (grace period);
5. ``missing`` is non-empty: ``insufficient_evidence``;
6. ``warn`` is non-empty: ``warn``;
7. otherwise ``pass``.

Then waivers (``affidavit.policy.waivers``), under the ``waivers`` rule data of the environment:
the waivers file is refused first (``UsageError``) when it breaks that rule data; then a waiver in
force whose scope covers everything that blocks a rule turns ``fail`` or ``insufficient_evidence``
into ``waived`` (missing evidence only where the rule data allows it); one that covers part of it
is recorded with what it hid while the rule keeps blocking. An ``error`` is never waived, and no
waiver applies in a run that judged no evidence at all.

The engine is any ``PolicyEngine``: evaluation asks it for the value of each rule set's path and
nothing more, so a remote engine plugs in as well as the in-process one. A path the engine returns
no answer for is that rule's error.

Results from Rego are objects ``{msg, evidence_ids?, evidence_id?, details?}``; any other value is
accepted with ``msg`` = its text. Violations are sorted by (msg, evidence ids), so that the same
inputs always give the same results.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.artefact import RETURN_MEMORY_FROM, json_depth, return_free_memory
from affidavit.errors import EngineError, InputError
from affidavit.jsonwrite import finite_json
from affidavit.model import Evidence, EvidenceKind, Outcome, RuleResult, Violation
from affidavit.model.time import format_utc
from affidavit.policy.interface import Evaluation, epoch_ns
from affidavit.policy.waivers import WaiverRules, apply_waivers, check_waivers

if TYPE_CHECKING:
    from affidavit.model.waiver import AppliedWaiver, Waiver
    from affidavit.policy.interface import PolicyEngine
    from affidavit.policy.loader import PolicySet, RuleMeta

__all__ = [
    "ENGINE_MAX_DEPTH",
    "EvalContext",
    "build_input",
    "RecordsRefused",
    "epoch_ns",
    "evaluate",
    "input_json",
    "refused",
]


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What the rules know about the run besides the evidence."""

    environment: str
    subject_name: str | None
    subject_digest: str | None
    now: dt.datetime
    commit: str | None = None
    branch: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    waivers: Sequence[Waiver] = ()

    def __post_init__(self) -> None:
        """Refuse a naive clock (every time in affidavit is UTC) and keep it to the second, as
        ``model.time`` writes it, so that ``time.now_ns()`` and ``context.now`` agree."""
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("EvalContext.now must be timezone-aware (UTC)")
        object.__setattr__(self, "now", self.now.astimezone(dt.UTC).replace(microsecond=0))

    @property
    def now_utc(self) -> dt.datetime:
        """``now`` converted to UTC."""
        return self.now.astimezone(dt.UTC)

    def to_json(self) -> dict[str, Any]:
        """The ``context`` object of the Rego input."""
        return {
            "environment": self.environment,
            "subject": {"name": self.subject_name, "digest": self.subject_digest},
            "now": format_utc(self.now),
            "commit": self.commit,
            "branch": self.branch,
            "params": dict(self.params),
            "waivers": [w.to_json() for w in self.waivers],
        }


def build_input(evidence: Sequence[Evidence], context: EvalContext) -> dict[str, Any]:
    """The Rego input document (see the module docstring)."""
    grouped: dict[str, list[dict[str, Any]]] = {kind.value: [] for kind in EvidenceKind}
    for record in sorted(evidence, key=lambda e: (e.kind.value, e.id, e.source)):
        grouped[record.kind.value].append(record.to_json())
    return {"evidence": grouped, "context": context.to_json()}


def _json_default(value: Any) -> Any:
    """JSON for the few non-JSON values evidence data or rule data may carry (dates, sets)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON")


#: The deepest nesting of arrays and objects the engine reads in its input: regorus parses it with
#: serde_json, whose recursion limit of 128 lets 127 levels through (measured in
#: tests/attacks/test_costs.py). Past it, at one NaN or Infinity, or at one string holding a lone
#: surrogate (a ``\ud800`` escape not part of a pair), it refuses the whole input.
ENGINE_MAX_DEPTH = 127

# The levels above a record in the input ({"evidence": {<kind>: [record]}}) and above the context.
_ABOVE_RECORD = 3
_ABOVE_CONTEXT = 1


def _dumps(value: Any) -> str:
    """Compact JSON of ``value``, refusing NaN and Infinity (``ValueError``) as the engine would:
    ``json.dumps(value, separators=(",", ":"), default=..., allow_nan=False)``'s value or error,
    written at ``orjson``'s speed (``jsonwrite.finite_json``)."""
    return finite_json(value, default=_json_default)


# What may be the escape of a lone surrogate in the JSON ``json.dumps`` writes (every character past
# ASCII as a lower-case escape): a high surrogate not followed by a low one, or a low one not right
# after a high one (an escaped backslash before ``ud83d`` makes it text, not an escape). It finds
# every lone one, and some that are not: ``_lone_surrogate`` then decides.
_LONE_ESCAPE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!(?<!\\)\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)


def _lone_surrogate(text: str) -> bool:
    """Whether the JSON text ``_dumps`` wrote holds a string with a lone surrogate (half of a
    UTF-16 pair with no other half), which the engine refuses.

    A text without the escape of a surrogate (the usual case) is told at C speed; one that may
    hold a lone one is read back, and a string that keeps a surrogate once pairs are joined is lone.
    """
    if "\\ud" not in text or _LONE_ESCAPE.search(text) is None:
        return False
    try:
        json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _engine_problem(value: Any, levels_above: int) -> str | None:
    """Why the engine could not read ``value`` placed ``levels_above`` levels down, in words that
    quote nothing of it; ``None`` when it can."""
    try:
        text = _dumps(value)
    except (TypeError, ValueError) as exc:  # Python's words: a type name, "Out of range float ..."
        return str(exc)
    except RecursionError:
        return "a value is nested too deeply to be written"
    depth = json_depth(text.encode("ascii")) + levels_above
    if depth > ENGINE_MAX_DEPTH:
        return f"a value would be nested {depth} levels deep, past the {ENGINE_MAX_DEPTH} the engine reads"
    if _lone_surrogate(text):
        return "a string holds a lone surrogate (half of a UTF-16 pair), which is not text the engine reads"
    return None


class RecordsRefused(EngineError):
    """The engine could not take some evidence records as input; ``refusals`` names each one (an
    ``InputError`` per source) so that the caller can refuse those files and judge the rest."""

    def __init__(self, message: str, refusals: list[InputError], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.refusals = refusals


def input_json(evidence: Sequence[Evidence], context: EvalContext, *, checked: bool = True) -> str:
    """The Rego input as JSON text (built once; the engine parses it once).

    An input the engine would refuse as a whole (a value that is not JSON, NaN or Infinity, nesting
    past ``ENGINE_MAX_DEPTH``, a string with a lone surrogate) is a ``RecordsRefused`` that names
    each record (by its source) or the rule data and waivers that make it so, rather than the
    engine's offset in a text nobody sees; the gate then refuses those files alone and judges the
    rest. Artefacts' JSON is bounded when it is read (``artefact.load_json``), so this catches what
    a collector builds from another syntax (HCL) or computes, and what rule data holds.

    With ``checked=False`` the depth and the lone surrogates are not looked for here: the caller
    hands the text to an engine that refuses such an input itself (``refused`` then names why),
    which saves a pass over the whole text.
    """
    try:
        text: str | None = _dumps(build_input(evidence, context))
    except (TypeError, ValueError, RecursionError):
        text = None
    if text is not None and (
        not checked or (json_depth(text.encode("ascii")) <= ENGINE_MAX_DEPTH and not _lone_surrogate(text))
    ):
        return text
    raise refused(evidence, context) or RecordsRefused(
        "the policy input cannot be written as JSON: the engine cannot read it", [], hint=_INPUT_HINT
    )


_INPUT_HINT = (
    "evidence data, rule data and waivers must hold only JSON values: finite numbers, nested at most "
    f"{ENGINE_MAX_DEPTH} levels deep, text without lone surrogates"
)


def refused(evidence: Sequence[Evidence], context: EvalContext) -> RecordsRefused | None:
    """Why the engine cannot read the input of ``evidence`` and ``context``: each record and the
    rule data that it cannot read, by name (``None`` when none of them is the cause)."""
    causes: list[str] = []
    refusals: list[InputError] = []
    for record in evidence:
        problem = _engine_problem(record.to_json(), _ABOVE_RECORD)
        if problem is not None:
            causes.append(f"{problem} (the evidence record of {record.source})")
            refusals.append(
                InputError(
                    record.source, f"its evidence record cannot be judged: {problem}", kind=record.kind.value
                )
            )
    problem = _engine_problem(context.to_json(), _ABOVE_CONTEXT)
    if problem is not None:
        causes.append(f"{problem} (the run's rule data or waivers)")
        refusals = []  # the rule data itself is unreadable: refusing files would not help
    if not causes:
        return None
    return RecordsRefused(
        "the policy input cannot be written as JSON: " + "; ".join(causes), refusals, hint=_INPUT_HINT
    )


# ---------------------------------------------------------------------------------------------
# Result objects


def _violation(value: Any) -> Violation:
    """One element of a deny/warn/missing set as a ``Violation``."""
    if isinstance(value, Mapping) and "msg" in value:
        ids: list[str] = []
        many = value.get("evidence_ids")
        if isinstance(many, list | tuple):
            ids.extend(str(i) for i in many if i is not None)
        elif isinstance(many, str):
            ids.append(many)
        one = value.get("evidence_id")
        if isinstance(one, str):
            ids.append(one)
        details = value.get("details")
        if details is not None and not isinstance(details, Mapping):
            details = {"value": details}
        msg = value["msg"]
        return Violation(
            msg=msg if isinstance(msg, str) else json.dumps(msg, sort_keys=True),
            evidence_ids=tuple(sorted(set(ids))),
            details=details or None,
        )
    if isinstance(value, str):
        return Violation(msg=value)
    return Violation(msg=json.dumps(value, sort_keys=True))


def _violations(evaluation: Evaluation, set_name: str) -> tuple[tuple[Violation, ...], str | None]:
    """The sorted results of one set, or an error when the set is not a set of results."""
    if evaluation.error is not None:
        return (), f"{set_name}: {evaluation.error}"
    if not evaluation.defined or evaluation.value is None:
        return (), None
    value = evaluation.value
    if not isinstance(value, list):
        return (), f"{set_name} must be a set of results, got {type(value).__name__}"
    out = {_violation(item) for item in value} if all(_hashable(item) for item in value) else None
    items = list(out) if out is not None else [_violation(item) for item in value]
    items.sort(key=lambda v: (v.msg, v.evidence_ids, json.dumps(v.details, sort_keys=True, default=str)))
    return tuple(items), None


def _hashable(value: Any) -> bool:
    """Whether the Violation made from ``value`` can go into a set (details may hold lists)."""
    return not (isinstance(value, Mapping) and value.get("details") is not None)


# ---------------------------------------------------------------------------------------------
# Evaluation


def _decide(
    rule: RuleMeta,
    results: Mapping[str, Evaluation],
    present: set[EvidenceKind],
    context: EvalContext,
    ids_by_kind: Mapping[EvidenceKind, list[str]],
    all_ids: Sequence[str],
    waiver_rules: WaiverRules | None,
) -> RuleResult:
    """The outcome of one evaluated rule (steps 1 and 3-7 of the module docstring, then waivers)."""
    errors: list[str] = []
    found: dict[str, tuple[Violation, ...]] = {}
    for set_name in rule.sets:
        violations, error = _violations(results[set_name], set_name)
        found[set_name] = violations
        if error is not None:
            errors.append(error)
    deny, warn, missing = found.get("deny", ()), found.get("warn", ()), found.get("missing", ())

    cited = {i for v in (*deny, *warn, *missing) for i in v.evidence_ids}
    # The evidence behind the outcome: what the rule's messages cite, plus every record of the
    # kinds it requires; a rule that requires no kind and cites nothing stands on the kinds its
    # METADATA says it reads (custom.cites), or else on all the evidence.
    if rule.requires:
        basis = {i for kind in rule.requires for i in ids_by_kind.get(kind, [])}
    elif cited:
        basis = set()
    elif rule.cites:
        basis = {i for kind in rule.cites for i in ids_by_kind.get(kind, [])}
    else:
        basis = set(all_ids)
    evidence_ids = tuple(sorted(cited | basis))

    reasons: list[str] = []
    if errors:
        return RuleResult(
            rule_id=rule.id,
            outcome=Outcome.ERROR,
            violations=deny,
            warnings=warn,
            missing=missing,
            error="; ".join(errors),
            reason="the policy could not be evaluated",
            evidence_ids=evidence_ids,
        )
    absent = [kind.value for kind in rule.requires if kind not in present]
    in_grace = rule.effective_on is not None and context.now_utc.date() < rule.effective_on
    if absent:
        outcome = Outcome.INSUFFICIENT_EVIDENCE
        reasons.append(f"no {', '.join(absent)} evidence was provided")
    elif deny:
        if in_grace:
            assert rule.effective_on is not None
            outcome = Outcome.WARN
            reasons.append(
                f"grace period: the rule takes effect on {rule.effective_on.isoformat()}; until then a failure only warns"
            )
        else:
            outcome = Outcome.FAIL
    elif missing:
        outcome = Outcome.INSUFFICIENT_EVIDENCE
        reasons.append("the evidence provided lacks what the rule needs")
    elif warn:
        outcome = Outcome.WARN
    else:
        outcome = Outcome.PASS

    waiver = None
    applied: tuple[AppliedWaiver, ...] = ()
    if waiver_rules is not None:
        waived = apply_waivers(
            rule.id,
            outcome,
            context.waivers,
            context.now_utc,
            waiver_rules,
            failures=() if in_grace else deny,
            missing=missing,
            absent=absent,
            subject=context.subject_digest,
            judged_evidence=bool(all_ids),
        )
        outcome, waiver, applied = waived.outcome, waived.waiver, waived.applied
        if waived.reason is not None:
            reasons.append(waived.reason)
        reasons.extend(waived.notes)
    return RuleResult(
        rule_id=rule.id,
        outcome=outcome,
        violations=deny,
        warnings=warn,
        missing=missing,
        reason="; ".join(reasons) or None,
        evidence_ids=evidence_ids,
        waiver=waiver,
        waived=applied,
    )


_NO_ANSWER = Evaluation(defined=False, error="the policy engine returned no answer for this rule set")


def _evaluate_paths(
    engine: PolicyEngine,
    policy_set: PolicySet,
    evidence: Sequence[Evidence],
    context: EvalContext,
    paths: Sequence[str],
) -> Mapping[str, Evaluation]:
    """The engine's answer for every path. An engine that refuses an unreadable input itself
    (``refuses_unreadable_input``, the regorus engine: it raises ``InputRejected``) is given the
    text unchecked, and the records are looked at only when it refuses; any other engine gets an
    input checked first, so every engine judges the same input."""
    from affidavit.policy.engines.regorus import InputRejected

    checks_itself = getattr(engine, "refuses_unreadable_input", False) is True
    try:
        # The text is handed over, not kept: an engine that has read it can let it go (the regorus
        # engine does, once its input is set) while it evaluates, its peak of memory.
        return engine.evaluate(
            policy_set.modules,
            _handed_over(input_json(evidence, context, checked=not checks_itself)),
            paths,
            now=context.now_utc,
        )
    except InputRejected as exc:
        why = refused(evidence, context) if checks_itself else None
        if why is None:
            raise
        raise why from exc


def _handed_over(text: str) -> str:
    """``text``, once the pages the collection freed are given back to the system when it is large
    (``artefact.return_free_memory``: the engine's own allocator would never reuse them)."""
    if len(text) >= RETURN_MEMORY_FROM:
        return_free_memory()
    return text


def evaluate(
    policy_set: PolicySet,
    evidence: Sequence[Evidence],
    context: EvalContext,
    engine: PolicyEngine | None = None,
) -> list[RuleResult]:
    """Judge ``evidence`` with every rule of ``policy_set``; results are sorted by rule id.

    ``engine`` is any ``PolicyEngine`` (default: the in-process regorus engine).
    """
    if engine is None:
        from affidavit.policy.engines.regorus import RegorusEngine

        engine = RegorusEngine()
    # Waivers are judged against their rule data before any evidence is: a refused waivers file
    # stops the run (exit 2) rather than being half applied.
    waiver_rules: WaiverRules | None = None
    if context.waivers:
        waiver_rules = WaiverRules.from_params(context.params)
        check_waivers(context.waivers, waiver_rules, context.now_utc, policy_set.ids)
    present = {record.kind for record in evidence}
    ids_by_kind: dict[EvidenceKind, list[str]] = {}
    for record in evidence:
        ids_by_kind.setdefault(record.kind, []).append(record.id)
    all_ids = sorted({record.id for record in evidence})

    applicable = {
        r.id for r in policy_set.rules if r.environments is None or context.environment in r.environments
    }
    paths = [
        f"{rule.data_path}.{name}" for rule in policy_set.rules if rule.id in applicable for name in rule.sets
    ]
    values: Mapping[str, Evaluation] = {}
    if paths:
        values = _evaluate_paths(engine, policy_set, evidence, context, paths)

    results: list[RuleResult] = []
    for rule in policy_set.rules:
        if rule.id not in applicable:
            assert rule.environments is not None
            results.append(
                RuleResult(
                    rule_id=rule.id,
                    outcome=Outcome.NOT_APPLICABLE,
                    reason=f"applies only to {', '.join(rule.environments)}, not {context.environment}",
                )
            )
            continue
        by_set = {set_name: values.get(f"{rule.data_path}.{set_name}", _NO_ANSWER) for set_name in rule.sets}
        results.append(_decide(rule, by_set, present, context, ids_by_kind, all_ids, waiver_rules))
    results.sort(key=lambda r: r.rule_id)
    return results
