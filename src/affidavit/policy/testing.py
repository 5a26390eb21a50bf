"""``affidavit policy test``: the project's own ``opa test``, plus two checks OPA does not make.

``run_policy_tests(dirs)`` loads the rules of ``dirs`` (with the built-in ``lib/``) and then:

1. **Unit tests.** Every ``test_*`` rule of every ``*_test.rego`` is evaluated, each file in an engine
   holding the non-test modules plus that file. A test passes when the rule is defined and ``true``.
   A syntax error or an unknown function in a test file is reported against that file.

2. **Both ways.** Every rule must have at least one passing test that makes it *fire* and one that
   makes it *pass*. Which test does what is found by mutation, not by reading assertions, so that it
   does not depend on how a test is written. For each passing test and each rule package it refers
   to, the test is re-run twice with ``with`` overrides:

   - *forced clean*: the rule's ``deny`` and ``missing`` replaced by empty sets. A test that now fails
     needed the rule to block: it **makes the rule fire**.
   - *forced fire*: ``deny`` (or ``missing`` when the rule has no ``deny``) replaced by a set holding
     one invented violation. A test that still passed when clean but now fails needed the rule not to
     block: it **makes the rule pass**.

   A test that passes in all three runs does not observe the rule's verdict and counts for neither.

3. **Vacuity.** Every rule is evaluated on empty evidence (every kind an empty list) with the
   default context of each environment of the rule data. The outcome must be
   ``insufficient_evidence`` (or ``not_applicable``): a rule that passes, warns, fails or errors on
   no evidence at all is reported. Rules whose Rego itself says nothing on empty evidence (they rely
   on ``custom.requires`` alone) are noted, not failed.

4. **Coverage.** The unit tests' own runs (not the mutations, not the vacuity check) measure which
   lines of the rule and library modules under test were reached: regorus' line coverage, the
   counterpart of ``opa test --coverage``. A module no test reached counts with all its lines
   uncovered. ``min_coverage`` (a percentage) makes a lower figure a failure of the run.

The tests run on an in-process engine's session (modules added per test file, ``print`` output,
coverage), beyond the evaluation-only ``PolicyEngine`` interface: regorus (the gate's default) or OPA
(the reference engine, ``engine="opa"``), so that the library can be shown to mean the same on both
(``run_on_engines``). On OPA, which compiles the modules again for every new query text, the tests
of a file are read from one evaluation of the test package's document, and each mutation is one
more evaluation of it with its ``with`` overrides; a test that errors sends that file back to one
query per test. Each engine measures coverage with its own tracer (their line counts differ a
little). The vacuity check goes through the gate's own ``evaluate`` on the same engine.

The report has ``ok``, ``to_text()`` and ``to_json()``; the CLI prints one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.errors import PolicyError, UsageError
from affidavit.model import Outcome
from affidavit.policy.analysis import check_functions, module_facts
from affidavit.policy.engines.opa import OpaEngine, OpaSession
from affidavit.policy.engines.regorus import LineCoverage, RegorusEngine, RegorusSession, coverable_lines
from affidavit.policy.evaluate import EvalContext, evaluate
from affidavit.policy.interface import Evaluation, epoch_ns
from affidavit.policy.loader import PolicySet, build_policy_set, read_modules
from affidavit.policy.params import PARAMS_FILE, known_environments, load_params
from affidavit.resources import builtin_policies_dir

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from affidavit.policy.facts import ModuleInfo
    from affidavit.policy.interface import PolicyModule

#: The clock of policy tests and of the vacuity check (tests must not depend on the wall clock).
DEFAULT_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
VACUITY_SUBJECT = "example.invalid/affidavit/vacuity-check"
VACUITY_DIGEST = "sha256:" + "0" * 64
VACUITY_COMMIT = "0" * 40
_MUTANT = '{{"msg": "affidavit policy test: invented violation (mutation)", "evidence_ids": []}}'
_OK_EMPTY = (Outcome.INSUFFICIENT_EVIDENCE, Outcome.NOT_APPLICABLE)
#: The engines ``affidavit policy test --engine`` can run the tests on (``all``: each in turn).
TEST_ENGINES = ("regorus", "opa")


@dataclass(frozen=True, slots=True)
class TestCase:
    """One ``test_*`` rule and what running it showed."""

    file: str
    line: int
    package: str
    name: str
    status: str  # "pass", "fail" or "error"
    message: str | None = None
    prints: tuple[str, ...] = ()
    fires: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON shape of one test."""
        return {
            "file": self.file,
            "line": self.line,
            "package": self.package,
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "prints": list(self.prints),
            "makes_fire": list(self.fires),
            "makes_pass": list(self.passes),
        }


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """Whether one rule is exercised both ways and is not vacuous."""

    rule_id: str
    file: str
    fired_by: tuple[str, ...]
    passed_by: tuple[str, ...]
    empty_evidence: tuple[tuple[str, str], ...]  # (environment, outcome)
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with this rule's tests."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """JSON shape of one rule's check."""
        return {
            "rule": self.rule_id,
            "file": self.file,
            "ok": self.ok,
            "fired_by": list(self.fired_by),
            "passed_by": list(self.passed_by),
            "empty_evidence": dict(self.empty_evidence),
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class FileCoverage:
    """Line coverage of one module under test."""

    path: str
    covered: tuple[int, ...]
    not_covered: tuple[int, ...]

    @property
    def lines(self) -> int:
        """Lines that hold an expression (what can be covered)."""
        return len(self.covered) + len(self.not_covered)

    @property
    def percent(self) -> float | None:
        """Covered lines as a percentage; None for a module with no expression."""
        return 100.0 * len(self.covered) / self.lines if self.lines else None

    def to_json(self) -> dict[str, Any]:
        """JSON shape of one module's coverage."""
        return {
            "path": self.path,
            "lines": self.lines,
            "covered_lines": len(self.covered),
            "percent": _round(self.percent),
            "not_covered": list(self.not_covered),
        }


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Line coverage of the modules under test over the unit tests' runs, and the minimum asked for."""

    files: tuple[FileCoverage, ...]
    minimum: float | None = None

    @property
    def lines(self) -> int:
        """Lines with an expression, over every module."""
        return sum(f.lines for f in self.files)

    @property
    def covered(self) -> int:
        """Lines reached by at least one test."""
        return sum(len(f.covered) for f in self.files)

    @property
    def percent(self) -> float | None:
        """Covered lines as a percentage of all lines; None when no module has an expression."""
        return 100.0 * self.covered / self.lines if self.lines else None

    @property
    def ok(self) -> bool:
        """True without a minimum, or when the coverage reaches it."""
        if self.minimum is None:
            return True
        return self.percent is not None and self.percent >= self.minimum

    def to_json(self) -> dict[str, Any]:
        """JSON shape of the coverage."""
        return {
            "percent": _round(self.percent),
            "lines": self.lines,
            "covered_lines": self.covered,
            "min_coverage": self.minimum,
            "ok": self.ok,
            "files": [f.to_json() for f in self.files],
        }

    def to_text(self) -> list[str]:
        """Readable lines: the total, the minimum when one was asked for, then each module short of 100 %."""
        percent = "n/a" if self.percent is None else f"{_floor(self.percent):.2f}%"
        head = f"coverage: {percent} of {self.lines} lines in {len(self.files)} module(s) under test"
        if self.minimum is not None:
            verdict = "reaches" if self.ok else "is BELOW"
            head += f"; {verdict} the minimum {self.minimum:g}%"
        lines = [head]
        for item in self.files:
            if item.not_covered:
                pct = "n/a" if item.percent is None else f"{_floor(item.percent):.1f}%"
                lines.append(f"      {item.path}: {pct}, not covered: {_ranges(item.not_covered)}")
        return lines


def _floor(value: float, digits: int = 2) -> float:
    """``value`` rounded down to ``digits`` decimals (a printed figure never overstates coverage)."""
    scale = 10.0**digits
    return int(value * scale) / scale


def _round(value: float | None) -> float | None:
    """A percentage for JSON: rounded down to two decimals."""
    return None if value is None else _floor(value)


def _ranges(numbers: Sequence[int]) -> str:
    """``[3, 4, 5, 9]`` as ``3-5, 9``."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyTestReport:
    """Everything ``affidavit policy test`` found."""

    tests: tuple[TestCase, ...]
    rules: tuple[RuleCheck, ...]
    file_errors: tuple[str, ...] = ()
    engine: str = ""
    coverage: CoverageReport = CoverageReport(())

    @property
    def ok(self) -> bool:
        """True when every test passes, every rule is exercised both ways, none is vacuous, and the
        coverage reaches the minimum asked for."""
        return (
            not self.file_errors
            and all(t.status == "pass" for t in self.tests)
            and all(r.ok for r in self.rules)
            and bool(self.tests)
            and self.coverage.ok
        )

    def counts(self) -> dict[str, int]:
        """Numbers for the summary line."""
        return {
            "tests": len(self.tests),
            "passed": sum(t.status == "pass" for t in self.tests),
            "failed": sum(t.status == "fail" for t in self.tests),
            "errors": sum(t.status == "error" for t in self.tests) + len(self.file_errors),
            "rules": len(self.rules),
            "rules_ok": sum(r.ok for r in self.rules),
        }

    def to_json(self) -> dict[str, Any]:
        """The whole report as JSON."""
        return {
            "ok": self.ok,
            "engine": self.engine,
            "summary": self.counts(),
            "file_errors": list(self.file_errors),
            "coverage": self.coverage.to_json(),
            "tests": [t.to_json() for t in self.tests],
            "rules": [r.to_json() for r in self.rules],
        }

    def to_text(self) -> str:
        """A readable report: one line per test, one per rule, failures explained, a summary."""
        lines = [f"ERROR {error}" for error in self.file_errors]
        for test in self.tests:
            label = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR"}[test.status]
            lines.append(f"{label} {test.file}:{test.line}: {test.name}")
            if test.status != "pass":
                if test.message:
                    lines.append(f"      {test.message}")
                lines.extend(f"      print: {p}" for p in test.prints)
        lines.append("")
        for rule in self.rules:
            envs = ", ".join(f"{env}: {outcome}" for env, outcome in rule.empty_evidence)
            head = "ok   " if rule.ok else "FAIL "
            lines.append(
                f"{head} {rule.rule_id}: fires in {len(rule.fired_by)} test(s), passes in "
                f"{len(rule.passed_by)}; on empty evidence {envs}"
            )
            lines.extend(f"      {p}" for p in rule.problems)
            lines.extend(f"      note: {n}" for n in rule.notes)
        c = self.counts()
        lines.append("")
        lines.extend(self.coverage.to_text())
        lines.append("")
        lines.append(
            f"{c['tests']} tests: {c['passed']} passed, {c['failed']} failed, {c['errors']} errors; "
            f"{c['rules']} rules: {c['rules_ok']} exercised both ways and not vacuous"
            + ("" if self.ok else " -- FAILED")
        )
        return "\n".join(lines) + "\n"


def _related_rules(info: ModuleInfo, rules_by_package: dict[str, Any]) -> list[str]:
    """Rule packages a test module refers to (through imports, ``data.`` refs or its own package)."""
    found: set[str] = set()
    own = ("data", *info.package.split("."))
    for ref in info.refs:
        candidates = [info.resolve(ref), (*own, *ref)]
        for path in candidates:
            if path is None:
                continue
            dotted = ".".join(path[1:])
            for package in rules_by_package:
                if dotted == package or dotted.startswith(package + "."):
                    found.add(package)
    return sorted(found)


def _truthy(session: RegorusSession | OpaSession, query: str) -> bool | None:
    """True/False for a test query, None when the engine raised (the mutation says nothing then)."""
    try:
        result = session.eval_query(query)
    except PolicyError:  # OPA could not compile this query: it says nothing
        return None
    if result.error is not None:
        return None
    return result.defined and result.value is True


def _test_rules(info: ModuleInfo) -> list[tuple[str, int]]:
    """(name, line) of each ``test_*`` rule of a test module, in file order."""
    tests: dict[str, int] = {}
    for rule in info.rules:
        if rule.name.startswith("test_") and len(rule.parts) == 1 and rule.kind != "function":
            tests.setdefault(rule.name, rule.line)
    return sorted(tests.items(), key=lambda kv: (kv[1], kv[0]))


def _mutations(package: str, rule_meta: Any) -> tuple[str, str] | None:
    """The ``with`` overrides forcing a rule clean and forcing it to fire; None for a rule that
    cannot block (no ``deny`` or ``missing``)."""
    blocking = [s for s in ("deny", "missing") if s in rule_meta.sets]
    if not blocking:
        return None
    clean = "".join(f" with data.{package}.{s} as set()" for s in blocking)
    return clean, f" with data.{package}.{blocking[0]} as {_MUTANT}"


def _failed(
    test: PolicyModule, line: int, package: str, name: str, result: Any, prints: tuple[str, ...]
) -> TestCase:
    """The case of a test that errored or was not true."""
    if result.error is not None:
        return TestCase(test.path, line, package, name, "error", result.error, prints)
    message = (
        "undefined (some expression in the test was false)"
        if not result.defined
        else f"value {result.value!r}, not true"
    )
    return TestCase(test.path, line, package, name, "fail", message, prints)


def _run_file_batched(
    base: OpaSession,
    base_infos: Sequence[ModuleInfo],
    test: PolicyModule,
    policy_set: PolicySet,
    coverage: LineCoverage,
) -> tuple[list[TestCase], str | None]:
    """``_run_file`` on OPA: every test of the file read from one evaluation of its package document,
    every mutation from one more (see the module docstring); the same cases as one query per test."""
    try:
        (info,) = module_facts([test])
        check_functions([*base_infos, info], only=[info])
        measured = base.with_modules([test], coverage=True)
        session = base.with_modules([test])
        document = f"data.{info.package}"
        whole = measured.eval_query(document)
    except PolicyError as exc:
        return [], exc.diagnostics()
    tests = _test_rules(info)
    if not tests:
        return [], f"{test.path}: no test_* rules"
    if whole.error is not None or not isinstance(whole.value, dict):
        # One test (or helper) of the file errors: back to one query per test for this file.
        return _run_file(session, base_infos, test, policy_set, coverage, measured)
    rules_by_package = {r.package: r for r in policy_set.rules}
    plans = {
        package: plan
        for package in _related_rules(info, rules_by_package)
        if (plan := _mutations(package, rules_by_package[package])) is not None
    }
    queries: dict[str, str] = {}
    for package, (clean, fire) in plans.items():
        queries[f"clean {package}"] = document + clean
        queries[f"fire {package}"] = document + fire
    try:
        mutated = session.eval_queries(queries)
    except PolicyError:  # a mutation OPA cannot compile says nothing (as an error does on regorus)
        mutated = {name: Evaluation(defined=False, error="not compiled") for name in queries}
    session.take_prints()
    out: list[TestCase] = []
    for name, line in tests:
        value = whole.value.get(name)
        if value is not True:
            alone = session.eval_rule(f"{document}.{name}")  # again, alone, for its prints
            result = (
                alone if alone.error is not None else Evaluation(value=value, defined=name in whole.value)
            )
            out.append(_failed(test, line, info.package, name, result, tuple(session.take_prints())))
            continue
        fires: list[str] = []
        passes: list[str] = []
        path = f"{document}.{name}"
        for package, (clean, fire) in plans.items():
            # A mutated document that errors (another test of the file raised under it) is asked
            # for this test alone, as regorus is.
            clean_ok = _member_true(mutated[f"clean {package}"], name)
            if clean_ok is None:
                clean_ok = _truthy(session, path + clean)
            if clean_ok is False:
                fires.append(rules_by_package[package].id)
                continue
            fire_ok = _member_true(mutated[f"fire {package}"], name)
            if fire_ok is None and clean_ok is True:
                fire_ok = _truthy(session, path + fire)
            if clean_ok is True and fire_ok is False:
                passes.append(rules_by_package[package].id)
        out.append(
            TestCase(test.path, line, info.package, name, "pass", None, (), tuple(fires), tuple(passes))
        )
    coverage.merge(measured.coverage())
    measured.close()
    session.close()
    return out, None


def _member_true(document: Any, name: str) -> bool | None:
    """Whether test ``name`` is true in a package document evaluated under a mutation; None when
    that evaluation failed (the mutation says nothing then)."""
    if document.error is not None or not isinstance(document.value, dict):
        return None
    return document.value.get(name) is True


def _run_file(
    base: RegorusSession | OpaSession,
    base_infos: Sequence[ModuleInfo],
    test: PolicyModule,
    policy_set: PolicySet,
    coverage: LineCoverage,
    prepared: RegorusSession | OpaSession | None = None,
) -> tuple[list[TestCase], str | None]:
    """Run every test of one test file, with its mutations; a load problem is returned as text.

    The tests run in a session that measures coverage (added to ``coverage``); the mutations run
    in another, so that only what the tests themselves reach counts. ``prepared`` is a measuring
    session that already holds the test module, and ``base`` then holds it too.
    """
    try:
        (info,) = module_facts([test])
        check_functions([*base_infos, info], only=[info])
        if prepared is None:
            measured = base.with_modules([test], coverage=True)
            session = base.with_modules([test])
        else:
            measured, session = prepared, base
    except PolicyError as exc:
        return [], exc.diagnostics()
    rules_by_package = {r.package: r for r in policy_set.rules}
    related = _related_rules(info, rules_by_package)

    tests: dict[str, int] = {}
    for rule in info.rules:
        if rule.name.startswith("test_") and len(rule.parts) == 1 and rule.kind != "function":
            tests.setdefault(rule.name, rule.line)
    out: list[TestCase] = []
    for name, line in sorted(tests.items(), key=lambda kv: (kv[1], kv[0])):
        path = f"data.{info.package}.{name}"
        try:
            result = measured.eval_rule(path)
        except PolicyError as exc:
            return out, exc.diagnostics()
        prints = tuple(measured.take_prints())
        if result.error is not None:
            out.append(TestCase(test.path, line, info.package, name, "error", result.error, prints))
            continue
        if not result.defined or result.value is not True:
            message = (
                "undefined (some expression in the test was false)"
                if not result.defined
                else f"value {result.value!r}, not true"
            )
            out.append(TestCase(test.path, line, info.package, name, "fail", message, prints))
            continue
        fires: list[str] = []
        passes: list[str] = []
        for package in related:
            rule_meta = rules_by_package[package]
            blocking = [s for s in ("deny", "missing") if s in rule_meta.sets]
            if not blocking:
                continue
            clean = path + "".join(f" with data.{package}.{s} as set()" for s in blocking)
            fire = f"{path} with data.{package}.{blocking[0]} as {_MUTANT}"
            clean_ok = _truthy(session, clean)
            if clean_ok is False:
                fires.append(rule_meta.id)
            elif clean_ok is True and _truthy(session, fire) is False:
                passes.append(rule_meta.id)
        session.take_prints()
        out.append(
            TestCase(test.path, line, info.package, name, "pass", None, prints, tuple(fires), tuple(passes))
        )
    coverage.merge(measured.coverage())
    if not tests:
        return out, f"{test.path}: no test_* rules"
    return out, None


def _overrides(dirs: Sequence[Path]) -> list[Path]:
    """``params.yaml`` files of user folders (the built-in one is the base)."""
    builtin = (builtin_policies_dir() / PARAMS_FILE).resolve()
    found = []
    for directory in dirs:
        candidate = directory / PARAMS_FILE if directory.is_dir() else None
        if candidate is not None and candidate.is_file() and candidate.resolve() != builtin:
            found.append(candidate)
    return found


def _vacuity(
    policy_set: PolicySet, dirs: Sequence[Path], now: dt.datetime, engine: RegorusEngine | OpaEngine
) -> dict[str, list[tuple[str, Outcome, str]]]:
    """Per rule: (environment, outcome, explanation) on empty evidence for each environment."""
    overrides = _overrides(dirs)
    out: dict[str, list[tuple[str, Outcome, str]]] = {r.id: [] for r in policy_set.rules}
    for environment in known_environments(overrides):
        context = EvalContext(
            environment=environment,
            subject_name=VACUITY_SUBJECT,
            subject_digest=VACUITY_DIGEST,
            now=now,
            commit=VACUITY_COMMIT,
            params=load_params(environment, overrides),
        )
        for result in evaluate(policy_set, [], context, engine):
            rego_says = "missing" if result.missing else ("deny" if result.violations else "nothing")
            detail = result.error or rego_says
            out[result.rule_id].append((environment, result.outcome, detail))
    return out


def _under_test(policy_set: PolicySet, dirs: Sequence[Path]) -> list[tuple[PolicyModule, str]]:
    """(module, package) of the rule and library modules whose coverage is measured.

    The built-in library's modules count when it is what is tested; when a user's folders are
    tested, the built-in ``lib/`` loaded beside them does not.
    """
    builtin = builtin_policies_dir().resolve()
    testing_builtin = not dirs or any(d.resolve() == builtin for d in dirs)
    return [
        (module, info.package)
        for module, info in zip(policy_set.modules, policy_set.infos, strict=True)
        if testing_builtin or not module.builtin
    ]


def _coverage(
    measured: LineCoverage, modules: Sequence[tuple[PolicyModule, str]], minimum: float | None
) -> CoverageReport:
    """The coverage of ``modules``: measured lines, or every line for a module no test reached."""
    files: list[FileCoverage] = []
    for module, package in sorted(modules, key=lambda mp: mp[0].path):
        lines = measured.lines.get(module.path)
        if lines is None:
            lines = set(coverable_lines(module, package))
        covered = measured.covered.get(module.path, set()) & lines
        files.append(FileCoverage(module.path, tuple(sorted(covered)), tuple(sorted(lines - covered))))
    return CoverageReport(tuple(files), minimum)


def run_policy_tests(
    dirs: Sequence[Path] = (),
    *,
    engine: RegorusEngine | OpaEngine | None = None,
    now: dt.datetime = DEFAULT_NOW,
    min_coverage: float | None = None,
) -> PolicyTestReport:
    """Run the policy tests of ``dirs`` (default: the built-in library); see the module docstring.

    ``engine`` is regorus (default) or OPA. ``min_coverage`` (0-100) fails the report when the line
    coverage of the modules under test is lower.
    """
    if min_coverage is not None and not 0 <= min_coverage <= 100:
        raise ValueError("min_coverage is a percentage between 0 and 100")
    engine = engine or RegorusEngine()
    dirs = list(dirs)
    # The built-in folder named explicitly (as the CLI does) is read as the built-in library, so
    # that its files are reported as policies/... like everywhere else.
    builtin = builtin_policies_dir().resolve()
    extra = [d for d in dirs if d.resolve() != builtin]
    modules = read_modules(extra, include_builtin=len(extra) < len(dirs) or not dirs)
    policy_set = build_policy_set(modules)
    base = engine.session(policy_set.modules, now_ns=epoch_ns(now))

    tests: list[TestCase] = []
    file_errors: list[str] = []
    measured = LineCoverage()
    for test_module in policy_set.test_modules:
        if isinstance(base, OpaSession):
            cases, problem = _run_file_batched(base, policy_set.infos, test_module, policy_set, measured)
        else:
            cases, problem = _run_file(base, policy_set.infos, test_module, policy_set, measured)
        tests.extend(cases)
        if problem is not None:
            file_errors.append(problem)
    coverage = _coverage(measured, _under_test(policy_set, dirs), min_coverage)

    vacuity = _vacuity(policy_set, dirs, now, engine)
    checks: list[RuleCheck] = []
    for rule in policy_set.rules:
        fired_by = tuple(f"{t.package}.{t.name}" for t in tests if rule.id in t.fires)
        passed_by = tuple(f"{t.package}.{t.name}" for t in tests if rule.id in t.passes)
        problems: list[str] = []
        notes: list[str] = []
        if not fired_by:
            problems.append("no passing test makes it fire (deny or missing non-empty)")
        if not passed_by:
            problems.append("no passing test makes it pass (deny empty)")
        bad: dict[tuple[str, str], list[str]] = {}
        quiet: list[str] = []
        for environment, outcome, detail in vacuity[rule.id]:
            if outcome not in _OK_EMPTY:
                bad.setdefault((outcome.value, detail), []).append(environment)
            elif outcome is Outcome.INSUFFICIENT_EVIDENCE and detail == "nothing":
                quiet.append(environment)
        for (outcome_value, detail), envs in sorted(bad.items()):
            said = "its Rego reported nothing" if detail == "nothing" else f"its Rego said: {detail}"
            problems.append(
                f"vacuous: on empty evidence it is {outcome_value} in {', '.join(envs)}, "
                f"not insufficient_evidence ({said})"
            )
        if quiet:
            notes.append(
                f"its Rego reports nothing on empty evidence (in {', '.join(quiet)}); "
                "only custom.requires makes it insufficient_evidence"
            )
        checks.append(
            RuleCheck(
                rule_id=rule.id,
                file=rule.file,
                fired_by=fired_by,
                passed_by=passed_by,
                empty_evidence=tuple((env, outcome.value) for env, outcome, _ in vacuity[rule.id]),
                problems=tuple(problems),
                notes=tuple(notes),
            )
        )
    return PolicyTestReport(
        tests=tuple(tests),
        rules=tuple(checks),
        file_errors=tuple(file_errors),
        engine=f"{engine.name} {engine.version}",
        coverage=coverage,
    )


def engine_named(name: str) -> RegorusEngine | OpaEngine:
    """The engine ``policy test --engine`` names (``regorus`` or ``opa``)."""
    if name == "regorus":
        return RegorusEngine()
    if name == "opa":
        return OpaEngine()
    raise UsageError(
        f"unknown policy engine {name!r}", hint=f"engines are {', '.join(TEST_ENGINES)} (or all)"
    )


@dataclass(frozen=True, slots=True)
class EnginesReport:
    """``policy test`` on several engines: one report each, and where their verdicts differ.

    A test that passes on one engine and not on another is a rule that means different things on
    them; each engine's own report already fails then, and ``disagreements`` names the test.
    """

    reports: tuple[tuple[str, PolicyTestReport], ...]

    @property
    def ok(self) -> bool:
        """True when every engine's report is ok (so every test passes on all of them)."""
        return bool(self.reports) and all(report.ok for _, report in self.reports)

    def disagreements(self) -> list[str]:
        """Tests whose status differs between the engines, as ``file:line: name (engine: status, ...)``."""
        statuses: dict[tuple[str, int, str], dict[str, str]] = {}
        for name, report in self.reports:
            for case in report.tests:
                statuses.setdefault((case.file, case.line, case.name), {})[name] = case.status
        engines = [name for name, _ in self.reports]
        out: list[str] = []
        for (file, line, test), by_engine in sorted(statuses.items()):
            seen = [by_engine.get(name, "absent") for name in engines]
            if len(set(seen)) > 1:
                said = ", ".join(f"{name}: {status}" for name, status in zip(engines, seen, strict=True))
                out.append(f"{file}:{line}: {test} ({said})")
        return out

    def to_json(self) -> dict[str, Any]:
        """Each engine's report under its name, the disagreements and the overall verdict."""
        return {
            "ok": self.ok,
            "engines": {name: report.to_json() for name, report in self.reports},
            "disagreements": self.disagreements(),
        }

    def to_text(self) -> str:
        """Each engine's report under a heading, then the disagreements and one summary line."""
        parts: list[str] = []
        for name, report in self.reports:
            parts.append(f"== engine: {report.engine or name} ==\n{report.to_text()}")
        differ = self.disagreements()
        tail = [f"tests that differ between engines: {len(differ)}", *(f"  {d}" for d in differ)]
        verdicts = "; ".join(f"{name}: {'ok' if report.ok else 'FAILED'}" for name, report in self.reports)
        tail.append(f"engines: {verdicts}" + ("" if self.ok else " -- FAILED"))
        return "\n".join(parts) + "\n" + "\n".join(tail) + "\n"


def run_on_engines(
    dirs: Sequence[Path] = (),
    engines: Sequence[str] = TEST_ENGINES,
    *,
    now: dt.datetime = DEFAULT_NOW,
    min_coverage: float | None = None,
) -> EnginesReport:
    """``run_policy_tests`` on each named engine in turn (an engine that is not installed raises
    ``EngineError`` before any test runs)."""
    made = [(name, engine_named(name)) for name in engines]
    return EnginesReport(
        tuple(
            (name, run_policy_tests(dirs, engine=engine, now=now, min_coverage=min_coverage))
            for name, engine in made
        )
    )
