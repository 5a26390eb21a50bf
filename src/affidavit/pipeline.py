"""The pipeline: collect every artefact, evaluate the policies, map to controls, decide.

This is the one place that joins the stages. It returns the decision as a typed ``Run`` (the only
writer of ``results.json``) together with the evidence it judged; renderers and the bundle read
the ``Run`` and never re-evaluate anything. It parses no command line and knows no exit codes.

Fail closed, everywhere: an unreadable artefact makes the run INCOMPLETE and marks the rules that
needed it ``error``; a control with no passing evidence makes it NO-GO.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from affidavit import __version__
from affidavit.artefact import read_user_file
from affidavit.collectors import CollectOptions, collect_paths
from affidavit.collectors.kinds.secrets import commitment_key, key_id
from affidavit.errors import InputError, UsageError
from affidavit.model import (
    ConfigInput,
    DataChange,
    Decision,
    Evidence,
    EvidenceKind,
    InputFailure,
    InputRef,
    MatrixRef,
    Named,
    NotRead,
    Outcome,
    PolicyFile,
    RuleReport,
    RuleResult,
    Run,
    RunSubject,
    Violation,
)
from affidavit.model.findings import key_of
from affidavit.model.time import format_utc, parse_timestamp
from affidavit.resources import builtin_controls_dir

if TYPE_CHECKING:
    from affidavit.collectors.folder import IgnoreList
    from affidavit.config import Config, Profile
    from affidavit.controls.model import ControlMatrix
    from affidavit.model.waiver import Waiver
    from affidavit.policy.loader import PolicySet
    from affidavit.spool import SpooledCopy


class FirstSeen(Protocol):
    """The run history's answer to "since when has this subject had these findings".

    Called with the subject name, the finding keys (``model.findings``) of the collected
    vulnerability records and the evaluation time; returns, for each key that an earlier run of the
    same subject name recorded, the earliest evaluation time of such a run (RFC 3339 UTC). The CLI
    hands the store's ``first_seen`` in; the pipeline sits below the store and knows only this shape.
    """

    def __call__(self, subject_name: str, finding_keys: Sequence[str], before: str) -> Mapping[str, str]:
        """Earliest sighting of each key in runs of ``subject_name`` evaluated before ``before``."""
        ...


@dataclass(frozen=True, slots=True)
class GateRequest:
    """Everything a gate run depends on; two runs with equal requests give equal results."""

    evidence_paths: tuple[Path, ...]
    environment: str
    subject_digest: str | None
    subject_name: str | None
    now: datetime
    commit: str | None = None
    branch: str | None = None  # the branch being promoted (refs/heads/ prefix removed)
    policy_dirs: tuple[Path, ...] = ()
    control_files: tuple[Path, ...] = ()
    param_files: tuple[Path, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    trusted_root: Path | None = None
    identity: str | None = None
    issuer: str | None = None
    public_key: Path | None = None
    engine: str = "regorus"  # a name in affidavit.policy.engines.ENGINES
    waivers_file: Path | None = None
    replay: bool = False  # ``now`` is a past moment re-evaluated, not a live promotion decision
    wall_time: datetime | None = None  # when the run happened (recorded, never judged)
    exclude: tuple[str, ...] = ()  # --exclude patterns: files of the evidence folders left out
    config: Config | None = None  # affidavit.yaml: rule data, aliases (recorded with its sha256)
    profile: Profile | None = None  # release profile; None is the strict default (every rule applies)
    first_seen: FirstSeen | None = None  # the run history; None: windows count from publication


@dataclass(slots=True)
class GateRun:
    """The outcome of a run: the decision (``Run``) plus what the bundle needs to copy.

    ``stored``: the redacted raw copies the collectors made while they parsed, by record id
    (``Collection.stored``), for ``bundle.write.write_bundle``; a record without one has its copy
    made from the file by its format's ``redact`` hook.
    """

    run: Run
    evidence: list[Evidence]
    sources: dict[str, Path]
    errors: list[InputError] = field(default_factory=list)
    stored: dict[str, bytes | SpooledCopy] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run's id (also the bundle folder's name)."""
        return self.run.run_id


def normalise_digest(digest: str | None, option: str = "--subject") -> str | None:
    """``sha256:<hex>`` in lower case; accepts a bare hex digest or ``image@sha256:...``.

    The one digest rule (``model.digest``), but a bad value here is the caller's usage error
    (exit 2), not an unreadable artefact.
    """
    from affidavit.model.digest import normalise_digest as digest_rule

    if digest is None:
        return None
    try:
        return digest_rule(digest, reference=True)
    except ValueError as exc:
        raise UsageError(f"{option} digest {digest!r} is not a digest like sha256:<64 hex> ({exc})") from None


def split_subject(subject: str | None) -> tuple[str | None, str | None]:
    """``ghcr.io/acme/shop@sha256:...`` → (name, digest); a bare digest → (None, digest)."""
    if not subject:
        return None, None
    if "@" in subject:
        name, _, digest = subject.rpartition("@")
        return name or None, normalise_digest(digest)
    if subject.count(":") == 1 and subject.split(":", 1)[0].lower().startswith("sha"):
        return None, normalise_digest(subject)
    return subject, None


def run_gate(request: GateRequest) -> GateRun:
    """Collect, evaluate and decide. Raises only for problems that make any decision impossible
    (unloadable policies or matrices, bad usage); unreadable artefacts are recorded, not raised."""
    from affidavit.config import effective_rule_data
    from affidavit.controls.links import rule_links
    from affidavit.controls.loader import load_crosswalk, load_matrices
    from affidavit.controls.status import control_statuses
    from affidavit.controls.validate import attach_rules, check_rules
    from affidavit.policy.engines import make_engine
    from affidavit.policy.evaluate import EvalContext, RecordsRefused, evaluate
    from affidavit.policy.loader import load_policy_set

    now_text = format_utc(request.now)
    # The organisation's key for secret commitments: checked before anything is read (a short
    # key is a usage error), recorded by its id only, and part of the run id, since it changes
    # the bytes of the bundle.
    secret_key = commitment_key()
    # Policies and matrices first: a broken rule set or a matrix naming an unknown rule stops the
    # run before any evidence is judged.
    policy_set = load_policy_set(request.policy_dirs)
    matrices = load_matrices(request.control_files)
    rule_controls = {rule.id: rule.controls for rule in policy_set.rules}
    own_rules = {rule.id for rule in policy_set.rules if not rule.builtin}
    check_rules(matrices, rule_controls, attachable=own_rules)
    matrices = attach_rules(matrices, rule_controls, own_rules)
    crosswalk = load_crosswalk()
    environment = _resolve_environment(request)
    params, data_changes = effective_rule_data(environment, request.config, request.param_files)
    changes = tuple(DataChange(key, default, value) for key, default, value in data_changes)

    options = CollectOptions(
        now=now_text,
        trusted_root=request.trusted_root,
        identity=request.identity,
        issuer=request.issuer,
        public_key=request.public_key,
        artifact_digest=request.subject_digest,
        branch=request.branch,
        stored_copies=True,  # the bundle stores a redacted copy of each artefact
    )
    collection = collect_paths(request.evidence_paths, options, exclude=request.exclude)
    # After the walk: each .affidavitignore is recorded with the hash of the bytes the walk applied.
    configuration = _configuration(request, policy_set, matrices, collection.ignore_lists)
    if secret_key is not None:
        configuration = (*configuration, ConfigInput("secret-key", value=key_id(secret_key)))
    evidence = sorted(collection.evidence, key=lambda e: (e.kind.value, e.source, e.id))
    # The run history can change a verdict (a remediation window counts from a finding's first
    # sighting), so what it answered is recorded with its sha256 and is part of the run id.
    evidence, history = _date_from_history(request, evidence)
    if history is not None:
        configuration = (*configuration, history)
    context = EvalContext(
        environment=environment,
        subject_name=request.subject_name,
        subject_digest=request.subject_digest,
        now=request.now.astimezone(UTC),
        commit=request.commit,
        branch=request.branch,
        params=params,
        waivers=tuple(request.waivers),
    )
    engine = make_engine(request.engine)
    try:
        results = evaluate(policy_set, evidence, context, engine=engine)
    except RecordsRefused as refused:
        # A record the engine cannot take (built from HCL, nested past the engine's depth) is
        # refused on its own, like an unreadable file, and the rest is judged: one file never
        # sinks the run. Found only when the input fails, so the usual run writes it once.
        if not refused.refusals:
            raise
        bad = {err.source for err in refused.refusals}
        evidence = [e for e in evidence if e.source not in bad]
        collection.errors.extend(refused.refusals)
        results = evaluate(policy_set, evidence, context, engine=engine)
    results, decision = settle(results, policy_set, evidence, collection.errors, request.now, request.profile)

    statuses = {
        m.framework: tuple(control_statuses(m, results, crosswalk))
        for m in sorted(matrices, key=lambda m: m.display_key)
    }

    run = Run(
        run_id=_run_id(request, environment, evidence, policy_set, matrices, now_text, configuration, params),
        time=now_text,
        environment=environment,
        subject=RunSubject(request.subject_name, request.subject_digest),
        commit=request.commit,
        branch=request.branch,
        decision=decision,
        inputs=tuple(_input_ref(e) for e in evidence),
        input_errors=tuple(
            InputFailure(err.source, err.kind, err.diagnostics()) for err in collection.errors
        ),
        rules=_rule_reports(policy_set, results, evidence, rule_links(matrices)),
        controls=statuses,
        engine=Named(engine.name, engine.version),
        policy_digest=policy_set.digest,
        policy_files=tuple(
            PolicyFile(m.path, m.sha256) for m in sorted(policy_set.modules, key=lambda m: m.path)
        ),
        params=params,
        matrices=tuple(
            MatrixRef(m.framework, m.version, m.file, m.sha256, m.label)
            for m in sorted(matrices, key=lambda m: m.display_key)
        ),
        waivers=tuple(request.waivers),
        affidavit_version=__version__,
        wall_time=None if request.wall_time is None else format_utc(request.wall_time),
        replay=request.replay,
        configuration=configuration,
        rule_data_changes=changes,
        not_read=tuple(NotRead(s.path, s.action.value, s.reason) for s in collection.skipped),
    )
    return GateRun(
        run=run,
        evidence=evidence,
        sources=collection.documents,
        errors=collection.errors,
        stored=collection.stored,
    )


def _date_from_history(
    request: GateRequest, evidence: list[Evidence]
) -> tuple[list[Evidence], ConfigInput | None]:
    """The vulnerability findings that earlier runs of this subject name saw, dated: each gets
    ``first_seen`` (new records, the data copied; nothing is mutated), and the configuration input
    that records the answer (``history``: the sha256 of the canonical first-seen map, and how many
    findings it dated). Only sightings before this run's evaluation time count, and only valid
    times; a ``first_seen`` the history did not give is removed (only the history dates a finding).
    Without a history or a subject name, or when it knows none of the findings, nothing changes
    and the windows count from the advisories' publication dates."""
    vulnerable = EvidenceKind.VULNERABILITY_SCAN
    keyed: list[tuple[int, int, str]] = []  # (record, finding, key) of every vulnerability finding
    for i, record in enumerate(evidence):
        raw = record.data.get("findings") if record.kind is vulnerable else None
        for j, finding in enumerate(raw if isinstance(raw, list) else ()):
            key = key_of(vulnerable, finding) if isinstance(finding, Mapping) else None
            if key is not None:
                keyed.append((i, j, key))
    seen: dict[str, str] = {}
    if request.first_seen is not None and request.subject_name and keyed:
        keys = sorted({key for _, _, key in keyed})
        answer = request.first_seen(request.subject_name, keys, format_utc(request.now))
        for key in keys:
            moment = parse_timestamp(answer.get(key), time_required=True, zone_required=True)
            if moment is not None and moment < request.now:
                seen[key] = format_utc(moment)
    changed: dict[int, dict[int, dict[str, Any]]] = {}
    dated = 0
    for i, j, key in keyed:
        finding = evidence[i].data["findings"][j]
        if key in seen:
            changed.setdefault(i, {})[j] = {**finding, "first_seen": seen[key]}
            dated += 1
        elif "first_seen" in finding:
            changed.setdefault(i, {})[j] = {k: v for k, v in finding.items() if k != "first_seen"}
    out = list(evidence)
    for i, replaced in changed.items():
        record = evidence[i]
        findings = [replaced.get(j, f) for j, f in enumerate(record.data["findings"])]
        out[i] = replace(record, data={**record.data, "findings": findings})
    if not seen:
        return out, None
    digest = hashlib.sha256(json.dumps(seen, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return out, ConfigInput("history", sha256=digest, value=f"{dated} finding(s) dated by first sighting")


def settle(
    results: list[RuleResult],
    policy_set: PolicySet,
    evidence: Sequence[Evidence],
    errors: Sequence[InputError],
    now: datetime,
    profile: Profile | None = None,
) -> tuple[list[RuleResult], Decision]:
    """The rules' outcomes as the gate records them, and the decision: the one place where the
    engine's results become a verdict (the gate and ``backtest`` both call it).

    A rule that needed an unreadable artefact is ``error``; one that stands on evidence from the
    future is overruled; a release profile marks what it does not require; then any error or
    unreadable input makes the run INCOMPLETE, any blocking outcome NO-GO, and only then is it GO.
    """
    from affidavit.config import apply_profile

    results = _mark_unreadable(results, policy_set, errors)
    results = _mark_future(results, policy_set, evidence, now)
    if profile is not None:
        results = apply_profile(results, policy_set.rules, {e.kind.value for e in evidence}, profile)
    if errors or any(r.outcome is Outcome.ERROR for r in results):
        decision = Decision.INCOMPLETE
    elif any(r.outcome.blocks for r in results):
        decision = Decision.NO_GO
    else:
        decision = Decision.GO
    return results, decision


def _mark_unreadable(
    results: list[RuleResult], policy_set: PolicySet, errors: Sequence[InputError]
) -> list[RuleResult]:
    """Rules that needed a kind whose artefact could not be read become ``error``, not pass."""
    if not errors:
        return results
    # An error whose kind is unknown (not a format affidavit knows) cannot be pinned on any rule;
    # it still makes the run incomplete (exit 3) through ``collection.errors``.
    broken_kinds: dict[str, list[str]] = {}
    for err in errors:
        if err.kind:
            broken_kinds.setdefault(err.kind, []).append(err.source)
    requires = {rule.id: {str(k) for k in rule.requires} for rule in policy_set.rules}
    out: list[RuleResult] = []
    for result in results:
        hit = sorted(
            src for kind in requires.get(result.rule_id, set()) for src in broken_kinds.get(kind, [])
        )
        if hit:
            reason = "could not read evidence it requires: " + ", ".join(hit)
            # The facts stay; no waiver stands over a rule that could not be judged.
            out.append(_overruled(result, Outcome.ERROR, reason=reason, error=reason))
        else:
            out.append(result)
    return out


def _mark_future(
    results: list[RuleResult], policy_set: PolicySet, evidence: Sequence[Evidence], now: datetime
) -> list[RuleResult]:
    """Evidence dated after the evaluation time cannot be judged at that time: every rule that
    requires its kind or cites it is ``insufficient_evidence`` (unless it already fails or errs),
    with the cause and the fix. A replay of a moment before the artefacts existed is the usual
    cause; a tool's clock set ahead is the other."""
    future: dict[str, Evidence] = {}
    for record in evidence:
        moment = parse_timestamp(record.effective_at) if record.effective_at else None
        if moment is not None and moment > now:
            future[record.id] = record
    if not future:
        return results
    requires = {rule.id: {str(k) for k in rule.requires} for rule in policy_set.rules}
    out: list[RuleResult] = []
    for result in results:
        hit = sorted(
            {
                r.source
                for r in future.values()
                if r.kind.value in requires.get(result.rule_id, set()) or r.id in _cited(result)
            }
        )
        if not hit or result.outcome.rank >= Outcome.INSUFFICIENT_EVIDENCE.rank:
            out.append(result)
            continue
        message = Violation(
            f"{', '.join(hit)} is dated after the evaluation time {format_utc(now)}: evidence from "
            "the future cannot be judged; evaluate at or after the time the artefact was produced, "
            "or check the clock of the tool that wrote it",
            tuple(sorted(r.id for r in future.values() if r.source in hit)),
        )
        out.append(
            _overruled(
                result,
                Outcome.INSUFFICIENT_EVIDENCE,
                reason="evidence dated after the evaluation time",
                missing=(*result.missing, message),
            )
        )
    return out


def _overruled(result: RuleResult, outcome: Outcome, **changes: Any) -> RuleResult:
    """``result`` with an outcome the pipeline imposes (unreadable or future evidence): the facts
    stay, and no waiver stands over a rule that could not be judged."""
    return replace(result, outcome=outcome, waiver=None, waived=(), **changes)


def _cited(result: RuleResult) -> set[str]:
    return set(result.evidence_ids) | _ids_of(result)


def _configuration(
    request: GateRequest,
    policy_set: PolicySet,
    matrices: Sequence[ControlMatrix],
    ignore_lists: Sequence[IgnoreList],
) -> tuple[ConfigInput, ...]:
    """Every input besides the evidence that can change the verdict, with its sha256."""
    items: list[ConfigInput] = [ConfigInput("params", str(p), _file_sha256(p)) for p in request.param_files]
    if request.waivers_file is not None:
        items.append(ConfigInput("waivers", str(request.waivers_file), _file_sha256(request.waivers_file)))
    items.extend(
        ConfigInput("policies", m.path, m.sha256)
        for m in sorted(policy_set.modules, key=lambda m: m.path)
        if not m.builtin
    )
    builtin = {_file_sha256(p) for p in sorted(builtin_controls_dir().glob("*.yaml"))}
    items.extend(
        ConfigInput("controls", m.file, m.sha256)
        for m in sorted(matrices, key=lambda m: m.framework)
        if m.sha256 not in builtin
    )
    if request.public_key is not None:
        items.append(
            ConfigInput(
                "key", str(request.public_key), _file_sha256(request.public_key), _key_id(request.public_key)
            )
        )
    if request.trusted_root is not None:
        items.append(
            ConfigInput("trusted-root", str(request.trusted_root), _file_sha256(request.trusted_root))
        )
    for role, value in (("identity", request.identity), ("issuer", request.issuer)):
        if value is not None:
            items.append(ConfigInput(role, value=value))
    items.extend(ConfigInput("exclude", value=pattern) for pattern in request.exclude)
    if request.config is not None:
        items.append(ConfigInput("config", request.config.path, request.config.sha256))
    if request.profile is not None:
        profile = request.profile
        items.append(ConfigInput("profile", profile.origin, profile.sha256, profile.name))
    # Each evidence folder's .affidavitignore, as the walk read it (it decides which files are
    # read, so it is recorded like --exclude); one the walk refused unread is not listed.
    items.extend(ConfigInput("affidavitignore", i.path, i.sha256) for i in ignore_lists)
    if request.engine != "regorus":
        items.append(ConfigInput("engine", value=request.engine))
    return tuple(items)


def _resolve_environment(request: GateRequest) -> str:
    """The environment the request names, an alias resolved (the configuration's aliases first)."""
    from affidavit.policy.params import resolve_environment

    if request.config is not None:
        return request.config.resolve_environment(request.environment)
    return resolve_environment(request.environment)


def _key_id(path: Path) -> str | None:
    """The key id the signature records carry (``sha256:`` of the DER public key), so that a reader
    can hold the gate's key against ``supply_chain.allowed_key_ids``; ``None`` when it is no key."""
    from affidavit.signatures.keys import parse_public_key
    from affidavit.signatures.result import key_fingerprint

    try:
        loaded = parse_public_key(read_user_file(path, 64 * 1024))
    except InputError:
        return None
    return None if isinstance(loaded, str) else key_fingerprint(loaded[1])


def _file_sha256(path: Path) -> str:
    """The sha256 of a configuration file: a regular file of at most 4 MiB (``/dev/zero`` or a
    FIFO given as --key is refused unread, never hashed for ever)."""
    try:
        return hashlib.sha256(read_user_file(path)).hexdigest()
    except InputError as exc:
        raise UsageError(exc.message) from None


def _run_id(
    request: GateRequest,
    environment: str,
    evidence: Sequence[Evidence],
    policy_set: PolicySet,
    matrices: Sequence[ControlMatrix],
    now_text: str,
    configuration: Sequence[ConfigInput],
    params: Mapping[str, Any],
) -> str:
    """A digest of everything that can change the verdict: two runs differ in id whenever they
    could differ in decision (the wall-clock time is not part of it: a replay of the same moment
    with the same inputs is the same run)."""
    h = hashlib.sha256()
    for part in (
        environment,
        request.subject_name or "",
        request.subject_digest or "",
        request.commit or "",
        *([f"branch={request.branch}"] if request.branch else []),
        # another engine is another judge
        *([f"engine={request.engine}"] if request.engine != "regorus" else []),
        "replay" if request.replay else "live",
        policy_set.digest,
        *sorted(m.sha256 for m in matrices),
        *sorted(e.id for e in evidence),
        json.dumps([w.to_json() for w in request.waivers], sort_keys=True),
        # What each input is and holds, not where it was found: the same files given by another
        # path are the same run.
        json.dumps([(c.role, c.sha256, c.value) for c in configuration], sort_keys=True),
        json.dumps(params, sort_keys=True, default=str),
    ):
        h.update(part.encode())
        h.update(b"\0")
    stamp = now_text.replace("-", "").replace(":", "")
    return f"{stamp}-{h.hexdigest()[:12]}"


def _input_ref(e: Evidence) -> InputRef:
    return InputRef(
        id=e.id,
        kind=e.kind.value,
        format=e.format,
        format_version=e.format_version,
        tool=None if e.tool is None else Named(e.tool.name, e.tool.version),
        subject_name=e.subject.name,
        subject_version=e.subject.version,
        subject_digest=e.subject.digest,
        source=e.source,
        effective_at=e.effective_at,
        problems=e.problems,
    )


def _rule_reports(
    policy_set: PolicySet,
    results: Sequence[RuleResult],
    evidence: Sequence[Evidence],
    links: Mapping[str, Mapping[str, tuple[str, ...]]],
) -> tuple[RuleReport, ...]:
    known = {e.id for e in evidence}
    reports = []
    for result in sorted(results, key=lambda r: r.rule_id):
        meta = policy_set.rule(result.rule_id)
        reports.append(
            RuleReport(
                id=result.rule_id,
                title=meta.title,
                severity=meta.severity.value,
                outcome=result.outcome,
                controls=dict(links.get(result.rule_id, {})),
                requires=tuple(sorted(str(getattr(k, "value", k)) for k in meta.requires)),
                remediation=meta.remediation,
                violations=result.violations,
                warnings=result.warnings,
                missing=result.missing,
                evidence_ids=tuple(sorted(set(result.evidence_ids) & known | _ids_of(result))),
                error=result.error,
                reason=result.reason,
                waiver=result.waiver,
                waived=result.waived,
            )
        )
    return tuple(reports)


def _ids_of(result: RuleResult) -> set[str]:
    ids: set[str] = set()
    for group in (result.violations, result.warnings, result.missing):
        for v in group:
            ids.update(v.evidence_ids)
    return ids
