"""Backtest: which past decisions a changed or new rule set would have changed. Writes nothing.

For each stored run in the period, the normalised evidence records it judged are rebuilt from the
store (checked against their content hashes) and judged again, at the run's own evaluation time,
for its environment, subject, commit and branch, with its own effective rule data and waivers, by
the built-in policies plus the ``--policies`` folders given now. The pipeline's own evaluation
(``policy.evaluate.evaluate``) and its overrulings for unreadable and future-dated evidence are
used, so a backtest judges as a gate would have. Files a run could not read stay unread: the run's
recorded input errors mark the same rules ``error``, and its decision stays INCOMPLETE.

The release profile the run applied (``configuration.inputs`` role ``profile``: its origin, sha256
and name) is applied again, as the gate applied it (``pipeline.settle``). The store keeps its
definition only by hash, so it is found again and checked: a built-in profile of the same name
and sha256 in this affidavit, or a configuration's own profile in the configuration file the run
recorded, read again from its recorded path and taken only when the file and the profile hash as
recorded. When neither holds, the run is not judged again (its ``error`` says why): judging it
without its profile would report changes the rules did not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from affidavit.errors import Error, InputError
from affidavit.model import Decision, Outcome, Run
from affidavit.model.time import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from affidavit.config import Profile
    from affidavit.policy.loader import PolicySet
    from affidavit.store.interface import RunQuery, Store, StoredRun


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One rule whose outcome would differ (``None``: the rule did not exist on that side)."""

    rule_id: str
    before: str | None
    after: str | None

    def to_json(self) -> dict[str, Any]:
        """``{rule, before, after}``."""
        return {"rule": self.rule_id, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """One stored run judged again: its decision then and now, and each rule that would change.
    ``error`` says why the run could not be judged again (its decision is then unknown, never kept)."""

    run_id: str
    time: str
    subject: str
    environment: str
    before: str
    after: str | None
    changes: tuple[RuleChange, ...]
    error: str | None = None

    @property
    def changed(self) -> bool:
        """True when the decision or any rule outcome would differ, or the run could not be judged."""
        return self.error is not None or self.before != self.after or bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        """The entry of ``backtest --format json``."""
        return {
            "run_id": self.run_id,
            "time": self.time,
            "subject": self.subject,
            "environment": self.environment,
            "decision": {"before": self.before, "after": self.after},
            "changes": [c.to_json() for c in self.changes],
            "error": self.error,
        }


def backtest(store: Store, query: RunQuery, policy_dirs: Sequence[Path]) -> list[BacktestRun]:
    """Judge every run ``query`` selects again with the built-in policies plus ``policy_dirs``
    (loaded once; a broken policy stops the backtest with its error). Reads only."""
    from affidavit.policy.loader import load_policy_set

    policy_set = load_policy_set(tuple(policy_dirs))
    out: list[BacktestRun] = []
    for summary in store.runs(query):
        stored = store.get(summary.run_id)
        if stored is None:  # pragma: no cover - the run was listed a moment ago; runs are never removed
            continue
        out.append(_rejudge(store, stored, policy_set))
    return out


def _rejudge(store: Store, stored: StoredRun, policy_set: PolicySet) -> BacktestRun:
    """One run judged again; an error names the cause instead of guessing a decision."""
    from affidavit.store.interface import StoreError

    try:
        run = Run.from_json(stored.payload.get("run"))
    except Error as exc:
        return _failed(stored, f"the stored run cannot be read: {exc.message}")
    base = BacktestRun(
        run_id=run.run_id,
        time=run.time,
        subject=run.subject.text,
        environment=run.environment,
        before=run.decision.value,
        after=None,
        changes=(),
    )
    try:
        evidence = store.evidence(stored)
        outcomes, decision = _judge(run, evidence, policy_set)
    except StoreError as exc:
        return _with_error(base, exc.message)
    except Error as exc:
        return _with_error(base, exc.diagnostics())
    before = run.outcomes()
    changes = tuple(
        RuleChange(
            rule_id,
            None if rule_id not in before else before[rule_id].value,
            None if rule_id not in outcomes else outcomes[rule_id].value,
        )
        for rule_id in sorted(set(before) | set(outcomes))
        if before.get(rule_id) != outcomes.get(rule_id)
    )
    return BacktestRun(
        base.run_id, base.time, base.subject, base.environment, base.before, decision.value, changes
    )


def _judge(run: Run, evidence: list[Any], policy_set: PolicySet) -> tuple[dict[str, Outcome], Decision]:
    """Rule outcomes and decision of ``evidence`` judged as the run was, by ``policy_set``."""
    from affidavit.pipeline import settle
    from affidavit.policy.engines import ENGINES, make_engine
    from affidavit.policy.evaluate import EvalContext, evaluate

    moment = parse_timestamp(run.time)
    if moment is None:
        raise InputError(run.run_id, "its evaluation time is not a timestamp")
    context = EvalContext(
        environment=run.environment,
        subject_name=run.subject.name,
        subject_digest=run.subject.digest,
        now=moment.astimezone(UTC),
        commit=run.commit,
        branch=run.branch,
        params=run.params,
        waivers=run.waivers,
    )
    profile = recorded_profile(run)
    engine = make_engine(run.engine.name if run.engine.name in ENGINES else "regorus")
    results = evaluate(policy_set, evidence, context, engine=engine)
    unread = [InputError(e.source, e.message, kind=e.kind) for e in run.input_errors]
    results, decision = settle(results, policy_set, evidence, unread, context.now, profile)
    return {r.rule_id: r.outcome for r in results}, decision


def recorded_profile(run: Run) -> Profile | None:
    """The release profile ``run`` applied, found again and checked against its recorded sha256
    (module docstring); ``None`` when it applied none. ``InputError`` (naming the run) when it
    cannot be found as it was."""
    from affidavit.config import builtin_profiles

    entries = [c for c in run.configuration if c.role == "profile"]
    if not entries:
        return None
    if len(entries) > 1:
        raise InputError(run.run_id, "its configuration names more than one release profile")
    (entry,) = entries
    name, origin = entry.value or "", entry.path or ""
    if origin.startswith("builtin:"):
        profile = builtin_profiles().get(name)
        if profile is None or profile.origin != origin or profile.sha256 != entry.sha256:
            raise InputError(
                run.run_id,
                f"its built-in release profile {name} is not in this affidavit as the run applied it "
                "(the sha256 differs or the profile is gone), so it cannot be applied again",
            )
        return profile
    return _config_profile(run, name, origin, entry.sha256)


def _config_profile(run: Run, name: str, origin: str, sha256: str | None) -> Profile:
    """A configuration's own profile, from the configuration file the run recorded: read again
    once, and used only when those bytes hash as recorded."""
    from pathlib import Path

    from affidavit.config import load_config

    path_text, _, key = origin.rpartition("#profiles.")
    configs = [c for c in run.configuration if c.role == "config" and c.path == path_text]
    unkept = (
        f"its release profile {name} comes from the configuration file {path_text or '(none recorded)'}, "
        "and the run history keeps only the hashes of both"
    )
    if key != name or len(configs) != 1 or not configs[0].sha256:
        raise InputError(
            run.run_id, f"{unkept}; the run does not record that file, so it cannot be applied again"
        )
    try:
        config = load_config(Path(path_text))
    except Error:
        raise InputError(
            run.run_id,
            f"{unkept}; that file cannot be read here as a configuration, so it cannot be applied again",
        ) from None
    profile = config.profiles.get(name)
    if config.sha256 != configs[0].sha256 or profile is None or profile.sha256 != sha256:
        raise InputError(
            run.run_id,
            f"{unkept}; that file has changed since the run, so the profile cannot be applied again",
        )
    return profile


def _with_error(base: BacktestRun, message: str) -> BacktestRun:
    return BacktestRun(base.run_id, base.time, base.subject, base.environment, base.before, None, (), message)


def _failed(stored: StoredRun, message: str) -> BacktestRun:
    s = stored.summary
    subject = "@".join(p for p in (s.subject_name, s.subject_digest) if p)
    return BacktestRun(s.run_id, s.time, subject, s.environment, s.decision, None, (), message)
