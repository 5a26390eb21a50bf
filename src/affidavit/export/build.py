"""One pass over a period's runs: the population, the control table, the two ledgers.

``PeriodBuilder.add`` takes the runs oldest first (``source.period_runs``) and keeps only what
does not grow with their number: per control and day a few counters, per distinct waiver and
per distinct policy set a summary. What does grow (one line per run, one line per waiver
applied) is written as it comes to ``population.jsonl`` and ``waivers.jsonl`` and hashed on the
way; the Merkle tree's leaves go to a temporary file.

**Population line** (one per run, canonical JSON, the Merkle leaf's data): ``position``, ``run_id``,
``seq`` (its place in the store's chain), ``time``, ``subject {name, digest}``, ``environment``,
``decision``, ``bundle_digest`` (sha256 of the run's bundle ``manifest.json`` as recorded, or null
when the run wrote none), ``payload_sha256`` and ``chain_hash`` (the run as recorded in the store).

**Control status** per day (for the chosen framework, as each run's own matrix linked it):

* ``failed``: at least one run that day whose outcome for the control was ``fail``,
  ``insufficient_evidence`` or ``error`` (the control's test did not hold for that promotion);
* ``operated``: runs that day, each with a passing outcome (``pass``, ``warn``, ``waived``,
  ``not_applicable``);
* ``manual``: runs that day, and the control has no rule testing it (``coverage: manual``);
* ``not_assessed``: runs that day, none of which judged the control (its framework was not in the
  run's matrices): unknown, never pass;
* ``no_promotion``: no run that day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from affidavit.export.merkle import MerkleLevels, leaf_hash
from affidavit.store.record import OUTCOME_LETTERS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from affidavit.export.period import Period
    from affidavit.export.source import PeriodRun

PASSING = frozenset({"pass", "warn", "waived", "not_applicable"})
FAILING = frozenset({"fail", "insufficient_evidence", "error"})
DAY_STATES = ("operated", "failed", "manual", "not_assessed", "no_promotion")
#: The summary's letters (``record.OUTCOME_LETTERS``) of the outcomes in ``PASSING``.
_PASSING_LETTERS = frozenset(OUTCOME_LETTERS[o] for o in PASSING)
_NONE: frozenset[str] = frozenset()


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def population_entry(run: PeriodRun, position: int) -> dict[str, Any]:
    """The run's population entry (see the module docstring)."""
    return {
        "position": position,
        "run_id": run.run_id,
        "seq": run.seq,
        "time": run.time,
        "subject": {"name": run.subject_name, "digest": run.subject_digest},
        "environment": run.environment,
        "decision": run.decision,
        "bundle_digest": run.manifest_sha256,
        "payload_sha256": run.payload_sha256,
        "chain_hash": run.chain_hash,
    }


def population_line(run: PeriodRun, position: int) -> bytes:
    """``canonical(population_entry(run, position))``, written out (a fifth of its time): the
    columns are text or null and the places integers; anything else is written by ``canonical``."""
    texts = (
        run.manifest_sha256,
        run.chain_hash,
        run.decision,
        run.environment,
        run.payload_sha256,
        run.run_id,
        run.subject_digest,
        run.subject_name,
        run.time,
    )
    if type(run.seq) is not int or type(position) is not int:
        return canonical(population_entry(run, position))
    try:
        q = [_NULL if t is None else _quote(t) for t in texts]
    except TypeError:  # a value that is not text: encode_basestring takes only strings
        return canonical(population_entry(run, position))
    return (
        f'{{"bundle_digest":{q[0]},"chain_hash":{q[1]},"decision":{q[2]},"environment":{q[3]},'
        f'"payload_sha256":{q[4]},"position":{position},"run_id":{q[5]},"seq":{run.seq},'
        f'"subject":{{"digest":{q[6]},"name":{q[7]}}},"time":{q[8]}}}'
    ).encode()


_NULL = "null"
_quote = json.encoder.encode_basestring


@dataclass
class _HashedWriter:
    """A file written line by line while its sha256 and line count are kept."""

    out: IO[bytes]
    digest: Any = field(default_factory=hashlib.sha256)
    lines: int = 0

    def write(self, line: bytes) -> None:
        """Write ``line`` and a newline."""
        data = line + b"\n"
        self.out.write(data)
        self.digest.update(data)
        self.lines += 1

    def append(self, source: IO[bytes], lines: int) -> None:
        """Write all of ``source`` (``lines`` lines another writer wrote), hashed on the way."""
        seen = 0
        while chunk := source.read(1 << 20):
            self.out.write(chunk)
            self.digest.update(chunk)
            seen += chunk.count(b"\n")
        if seen != lines:
            raise ValueError(f"{lines} lines were written, {seen} were read back")
        self.lines += lines


@dataclass
class _Control:
    """What the period says of one control."""

    id: str
    title: str = ""
    coverage: str = "manual"
    rules: set[str] = field(default_factory=set)
    runs: int = 0
    passed: int = 0
    failed: int = 0
    waived: int = 0
    day_runs: dict[int, int] = field(default_factory=dict)
    day_failed: dict[int, int] = field(default_factory=dict)
    day_judged: dict[int, int] = field(default_factory=dict)
    week_runs: dict[int, int] = field(default_factory=dict)
    week_passed: dict[int, int] = field(default_factory=dict)


@dataclass
class _PolicySet:
    """One distinct policy set and matrix combination and when it was in force."""

    policy_sha256: str | None
    matrices: list[dict[str, Any]]
    files: dict[str, str]
    rules: set[str]
    first_time: str
    first_run: str
    last_time: str = ""
    last_run: str = ""
    runs: int = 0


@dataclass
class _Waiver:
    """One distinct waiver and what it hid over the period."""

    waiver: dict[str, Any]
    runs: int = 0
    findings: int = 0
    absent_evidence: int = 0
    first_time: str = ""
    last_time: str = ""


@dataclass
class BuilderPart:
    """What a ``PeriodBuilder`` holds of the runs it added, but their lines (``PeriodBuilder.part``)."""

    runs: int  # the position after its last run
    waiver_lines: int
    leaves: bytes
    decisions: dict[str, int]
    environments: set[str]
    first_time: str | None
    last_time: str | None
    day_runs: dict[int, int]
    tally: dict[tuple[int, str, str, frozenset[str]], int]
    catalogues: dict[str, dict[str, Any]]
    catalogue_last: dict[str, int]
    policy_sets: list[tuple[str, _PolicySet]]
    waiver_summary: dict[str, _Waiver]
    framework_label: str | None
    framework_version: str | None


class PeriodBuilder:
    """The period's facts, built from its runs one at a time."""

    def __init__(
        self, period: Period, framework: str, population: IO[bytes], waivers: IO[bytes], start: int = 0
    ) -> None:
        """A builder writing the population and waiver ledger to the given binary files; its first
        run at population position ``start`` (the runs before it taken by another builder, see
        ``part``)."""
        self.period = period
        self.framework = framework
        self._population = _HashedWriter(population, lines=start)
        self._waivers = _HashedWriter(waivers)
        self.tree = MerkleLevels()
        self.decisions: dict[str, int] = {}
        self.environments: set[str] = set()
        self._controls: dict[str, _Control] = {}
        self._tally: dict[tuple[int, str, str, frozenset[str]], int] = {}
        self._catalogues: dict[str, Mapping[str, Any]] = {}
        self._catalogue_last: dict[str, int] = {}
        self._policy_keys: dict[
            tuple[bytes, str], tuple[str, list[dict[str, Any]], str | None, str | None]
        ] = {}
        self.policy_sets: dict[str, _PolicySet] = {}
        self._policy_order: list[str] = []
        self.waiver_summary: dict[str, _Waiver] = {}
        self.first_time: str | None = None
        self.last_time: str | None = None
        self.day_runs: dict[int, int] = {}
        self.framework_label: str | None = None  # as the newest run's matrix names it
        self.framework_version: str | None = None

    @property
    def runs(self) -> int:
        """How many runs were added."""
        return self._population.lines

    def add(self, run: PeriodRun) -> None:
        """Take the next run (oldest first)."""
        line = population_line(run, self._population.lines)
        self._population.write(line)
        self.tree.add(leaf_hash(line))
        self.decisions[run.decision] = self.decisions.get(run.decision, 0) + 1
        self.environments.add(run.environment)
        self.first_time = self.first_time or run.time
        self.last_time = run.time
        day = self.period.day_index(run.time)
        self.day_runs[day] = self.day_runs.get(day, 0) + 1
        waived_rules = self._waivers_of(run) if run.waived else _NONE
        self._controls_of(run, day, waived_rules)
        self._policy_of(run)

    def part(self) -> BuilderPart:
        """What this builder holds of its runs but the lines it wrote, for ``absorb`` by the builder of
        the runs before them (in another process: every value pickles)."""
        return BuilderPart(
            runs=self._population.lines,
            waiver_lines=self._waivers.lines,
            leaves=self.tree.leaves(),
            decisions=self.decisions,
            environments=self.environments,
            first_time=self.first_time,
            last_time=self.last_time,
            day_runs=self.day_runs,
            tally=self._tally,
            catalogues={k: dict(v) for k, v in self._catalogues.items()},
            catalogue_last=self._catalogue_last,
            policy_sets=[(key, self.policy_sets[key]) for key in self._policy_order],
            waiver_summary=self.waiver_summary,
            framework_label=self.framework_label,
            framework_version=self.framework_version,
        )

    def absorb(self, part: BuilderPart, population: IO[bytes], waivers: IO[bytes]) -> None:
        """Take in the runs that follow this builder's last one, as another builder (started at
        this one's next position) saw them: its ``part``, and the population and waiver lines it
        wrote (``population`` and ``waivers``, read to their ends and appended to this builder's
        files, hashed on the way). Afterwards this builder is as if it had added those runs."""
        if part.waiver_lines < 0 or part.runs < self._population.lines:
            raise ValueError("the part does not follow this builder's runs")
        self._population.append(population, part.runs - self._population.lines)
        self._waivers.append(waivers, part.waiver_lines)
        self.tree.extend(part.leaves)
        if self.tree.size != self._population.lines:
            raise ValueError("the part's leaves are not one per run")
        for decision, n in part.decisions.items():
            self.decisions[decision] = self.decisions.get(decision, 0) + n
        self.environments |= part.environments
        self.first_time = self.first_time or part.first_time
        self.last_time = part.last_time or self.last_time
        for day, n in part.day_runs.items():
            self.day_runs[day] = self.day_runs.get(day, 0) + n
        for counted, n in part.tally.items():
            self._tally[counted] = self._tally.get(counted, 0) + n
        self._catalogues.update(part.catalogues)
        self._catalogue_last.update(part.catalogue_last)
        for key, theirs in part.policy_sets:
            held = self.policy_sets.get(key)
            if held is None:
                self.policy_sets[key] = theirs
                self._policy_order.append(key)
            else:
                held.runs += theirs.runs
                held.last_time, held.last_run = theirs.last_time, theirs.last_run
        for key, waiver in part.waiver_summary.items():
            mine = self.waiver_summary.get(key)
            if mine is None:
                self.waiver_summary[key] = waiver
            else:
                mine.runs += waiver.runs
                mine.findings += waiver.findings
                mine.absent_evidence += waiver.absent_evidence
                mine.last_time = waiver.last_time
        self.framework_label = part.framework_label or self.framework_label
        self.framework_version = part.framework_version or self.framework_version

    def _controls_of(self, run: PeriodRun, day: int, waived_rules: frozenset[str]) -> None:
        """Tally the run's outcomes for the framework's controls: one counter per day and distinct
        (catalogue, outcome letters, waived rules), folded into the controls by ``_fold``."""
        letters = run.controls.get(self.framework)
        if letters is None:
            return
        key = (day, run.catalogue_sha256, letters, waived_rules)
        self._tally[key] = self._tally.get(key, 0) + 1
        self._catalogues[run.catalogue_sha256] = run.catalogue
        self._catalogue_last[run.catalogue_sha256] = self._population.lines

    def _fold(self) -> None:
        """Count the tallied runs in each control (as if one at a time, oldest first: a control's
        title and coverage are those of the newest run that listed it, its rules all that tested
        it in any run)."""
        order = sorted(self._catalogue_last, key=self._catalogue_last.__getitem__)
        for digest in order:
            for cid, title, coverage, rules in self._listed(digest):
                control = self._controls.setdefault(cid, _Control(cid))
                control.title = str(title or control.title)
                control.coverage = coverage
                control.rules.update(rules)
        for (day, digest, letters, waived_rules), n in self._tally.items():
            week = day // 7
            for (cid, _title, _coverage, rules), letter in zip(self._listed(digest), letters, strict=True):
                control = self._controls[cid]
                control.runs += n
                control.day_runs[day] = control.day_runs.get(day, 0) + n
                if letter == "-" and not rules:
                    continue  # manual: no automated outcome
                control.day_judged[day] = control.day_judged.get(day, 0) + n
                control.week_runs[week] = control.week_runs.get(week, 0) + n
                if letter in _PASSING_LETTERS:
                    control.passed += n
                    control.week_passed[week] = control.week_passed.get(week, 0) + n
                else:  # fail, insufficient_evidence, error, or anything unknown: never a pass
                    control.failed += n
                    control.day_failed[day] = control.day_failed.get(day, 0) + n
                if waived_rules.intersection(rules):
                    control.waived += n
        self._tally.clear()

    def _listed(self, digest: str) -> list[list[Any]]:
        """The framework's controls in a catalogue: ``[id, title, coverage, rules]`` each."""
        listed = self._catalogues[digest].get("controls", {}).get(self.framework)
        return listed if isinstance(listed, list) else []

    @property
    def controls(self) -> dict[str, _Control]:
        """Every control of the framework seen so far, by id."""
        self._fold()
        return self._controls

    def _waivers_of(self, run: PeriodRun) -> frozenset[str]:
        """Write every waiver the run applied to the ledger; the ids of the rules it waived."""
        waived: set[str] = set()
        for item in run.waived:
            rule_id, waiver = str(item["rule"]), item["waiver"]
            hidden = item["findings"]
            absent = bool(item["absent_evidence"])
            waived.add(rule_id)
            self._waivers.write(
                canonical(
                    {
                        "run_id": run.run_id,
                        "time": run.time,
                        "subject": {"name": run.subject_name, "digest": run.subject_digest},
                        "rule": rule_id,
                        "waiver": waiver,
                        "findings": hidden,
                        "absent_evidence": absent,
                    }
                )
            )
            key = hashlib.sha256(canonical(waiver)).hexdigest()
            held = self.waiver_summary.setdefault(key, _Waiver(waiver, first_time=run.time))
            held.runs += 1
            held.findings += len(hidden)
            held.absent_evidence += int(absent)
            held.last_time = run.time
        return frozenset(waived)

    def _policy_of(self, run: PeriodRun) -> None:
        """Note the policy set and matrices the run was judged with."""
        seen = (run.policy_key, run.catalogue_sha256)
        known = self._policy_keys.get(seen)
        if known is None:
            digest, matrices = run.policy_sha256, run.matrices
            listed = [
                {"framework": m["framework"], "version": m["version"], "sha256": m["sha256"]}
                for m in matrices
            ]
            label = version = None
            for m in matrices:
                if m["framework"] == self.framework:
                    label = m["label"] if isinstance(m["label"], str) else label
                    version = m["version"] if isinstance(m["version"], str) else version
            known = (hashlib.sha256(canonical([digest, listed])).hexdigest(), listed, label, version)
            self._policy_keys[seen] = known
        key, listed, label, version = known
        if label is not None:
            self.framework_label = label
        if version is not None:
            self.framework_version = version
        held = self.policy_sets.get(key)
        if held is None:
            catalogue = run.catalogue
            files = dict(catalogue.get("files") or {})
            rules = set(catalogue.get("rules") or [])
            held = _PolicySet(run.policy_sha256, listed, files, rules, run.time, run.run_id)
            self.policy_sets[key] = held
            self._policy_order.append(key)
        held.runs += 1
        held.last_time, held.last_run = run.time, run.run_id

    # -- results ---------------------------------------------------------------------------

    @property
    def population_sha256(self) -> str:
        """The sha256 of ``population.jsonl`` as written."""
        return str(self._population.digest.hexdigest())

    @property
    def waivers_sha256(self) -> str:
        """The sha256 of ``waivers.jsonl`` as written."""
        return str(self._waivers.digest.hexdigest())

    @property
    def waivers_applied(self) -> int:
        """How many waiver applications the ledger holds."""
        return self._waivers.lines

    def day_state(self, control: _Control, day: int) -> str:
        """One of ``DAY_STATES`` for a control on a day of the period (see the module)."""
        if not self.day_runs.get(day):
            return "no_promotion"
        if not control.day_runs.get(day):
            return "not_assessed"
        if control.day_failed.get(day):
            return "failed"
        if not control.day_judged.get(day):
            return "manual"
        return "operated"

    def controls_json(self) -> list[dict[str, Any]]:
        """Every control of the framework seen in the period, with its days, counts and weeks."""
        from affidavit.controls.model import control_sort_key

        out: list[dict[str, Any]] = []
        weeks = (self.period.days + 6) // 7
        controls = self.controls
        for cid in sorted(controls, key=control_sort_key):
            c = controls[cid]
            days = [self.day_state(c, d) for d in range(self.period.days)]
            tally = {state: days.count(state) for state in DAY_STATES}
            out.append(
                {
                    "id": c.id,
                    "title": c.title,
                    "coverage": c.coverage,
                    "rules": sorted(c.rules),
                    "counts": {
                        "gated_promotions": c.runs,
                        "passed": c.passed,
                        "failed": c.failed,
                        "waived": c.waived,
                        "not_assessed": self.runs - c.runs,
                    },
                    "days": tally,
                    "daily": "".join(_DAY_LETTER[s] for s in days),
                    "weekly_pass_rate": [
                        None if not c.week_runs.get(w) else round(c.week_passed.get(w, 0) / c.week_runs[w], 4)
                        for w in range(weeks)
                    ],
                }
            )
        return out

    def policy_ledger(self) -> list[dict[str, Any]]:
        """Each distinct policy set and matrices in first-use order, with what changed from the one
        before it."""
        out: list[dict[str, Any]] = []
        previous: _PolicySet | None = None
        for key in self._policy_order:
            p = self.policy_sets[key]
            entry: dict[str, Any] = {
                "policy_set_sha256": p.policy_sha256,
                "matrices": p.matrices,
                "first_use": {"time": p.first_time, "run_id": p.first_run},
                "last_use": {"time": p.last_time, "run_id": p.last_run},
                "runs": p.runs,
                "rules": len(p.rules),
            }
            if previous is not None:
                entry["changes"] = {
                    "rules_added": sorted(p.rules - previous.rules),
                    "rules_removed": sorted(previous.rules - p.rules),
                    "policy_files_added": sorted(set(p.files) - set(previous.files)),
                    "policy_files_removed": sorted(set(previous.files) - set(p.files)),
                    "policy_files_changed": sorted(
                        f for f in set(p.files) & set(previous.files) if p.files[f] != previous.files[f]
                    ),
                    "matrices_changed": sorted(
                        str(m["framework"]) for m in p.matrices if m not in previous.matrices
                    ),
                }
            out.append(entry)
            previous = p
        return out

    def waiver_ledger(self) -> list[dict[str, Any]]:
        """Each distinct waiver applied in the period and what it hid, by first use."""
        return [
            {
                "waiver": w.waiver,
                "runs": w.runs,
                "findings_hidden": w.findings,
                "stood_in_for_absent_evidence": w.absent_evidence,
                "first_use": w.first_time,
                "last_use": w.last_time,
            }
            for w in sorted(self.waiver_summary.values(), key=lambda w: (w.first_time, canonical(w.waiver)))
        ]


#: One letter per day in ``daily``: Operated, Failed, Manual, not Assessed, no promotion (".").
_DAY_LETTER = {"operated": "O", "failed": "F", "manual": "M", "not_assessed": "A", "no_promotion": "."}
