"""The default policy engine: regorus (Microsoft's Rust Rego interpreter), in-process.

Installed from PyPI as ``gordon-to-regorus`` (import name ``regorus``); see
``../shared/notes/rego-engines.md`` for why, and for the differences from OPA this adapter works
around:

- a failing built-in raises and aborts the whole query (OPA makes the expression undefined). Every
  rule set is asked for in one query first, so that what the rules share (the plan's changes, the
  records of a kind) is computed once; only when that query fails or leaves a set undefined is
  each rule asked for on its own, and then each set of a rule that still fails, so one rule's error
  is that rule's ``error`` and never hides the others. Queries run one after another in one clone
  of the prepared engine (a clone must prepare the policies again on its first evaluation, about
  7 ms for the built-in library, so a clone per set would cost 20x the evaluation itself); after any
  error that clone is thrown away and the next query gets a fresh one, so a failed evaluation can
  never leave state behind;
- some built-ins panic (``strings.count(s, "")``); pyo3 raises ``PanicException``, a ``BaseException``,
  which is caught here too, and the panicked clone is thrown away;
- with ``RUST_BACKTRACE=1`` every error carries a Rust stack trace: the variable is cleared from the
  process environment when the engine is created, and the text after ``Stack backtrace:`` is cut in
  any case. A panic still makes Rust's panic hook write two lines to stderr (not capturable from
  Python); the panic's message is recorded as the rule's error;
- unknown functions are reported only when their line runs: ``function_arity()`` lets
  ``affidavit.policy.analysis`` check every call when the policies are loaded;
- ``time.now_ns`` and ``http.send`` are overridden and missing OPA built-ins are supplied from Python
  (``affidavit.policy.engines.extensions``);
- regorus refuses policy lines longer than 1,024 columns by default (embedded certificates are
  longer); the limits are raised;
- columns in regorus' messages count a tab as four columns.

Besides ``PolicyEngine.evaluate``, this module offers what only an in-process engine can: parsing a
module into its AST and probing built-ins (``parse_ast``, ``function_arity``; used by
``affidavit.policy.analysis`` whatever engine evaluates), and ``RegorusEngine.session``, the stateful
session of ``affidavit policy test`` (test modules added, ``print`` output, line coverage).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from affidavit.errors import EngineError, PolicyError
from affidavit.policy.engines.extensions import EXTENSION_NAMES, extensions
from affidavit.policy.interface import Evaluation, PolicyModule, epoch_ns

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "InputRejected",
    "LineCoverage",
    "RegorusEngine",
    "RegorusSession",
    "clean_error",
    "coverable_lines",
    "function_arity",
    "parse_ast",
]

_DISTRIBUTIONS = ("gordon-to-regorus", "celine-regorus", "regorus")
_BACKTRACE = "\nStack backtrace:"
_LOCATION = re.compile(r"^\s*-->\s*(?P<loc>\S+:\d+:\d+)\s*$")
_EXTENSION_ERROR = re.compile(r"extension '(?P<name>[^']+)' raises Python error: BuiltinError: ")
_ARITY = re.compile(r"`(?P<name>[^`]+)` expects (?P<n>\d+) argument")
_NOT_FOUND = "could not find function"
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MAX_COLUMNS = 1 << 20
_MAX_FILE_BYTES = 64 << 20
_MAX_LINES = 1 << 20
# Names that take any number of arguments (the probe's zero-argument call says nothing about them).
_VARIADIC = frozenset({"print"})


def clean_error(text: str) -> str:
    """A regorus error as one line: ``file:line:col: message`` without the Rust stack trace."""
    text = text.split(_BACKTRACE, 1)[0].strip()
    location = None
    message = None
    for line in text.splitlines():
        match = _LOCATION.match(line)
        if match and location is None:
            location = match.group("loc")
        elif line.startswith("error: ") and message is None:
            message = line[len("error: ") :].strip()
    if message is None:
        message = (
            " ".join(part.strip() for part in text.splitlines() if part.strip()) or "unknown engine error"
        )
    message = _EXTENSION_ERROR.sub("", message)
    return f"{location}: {message}" if location else message


def _syntax_error(text: str) -> str:
    """A parse error with its caret excerpt kept (useful to whoever fixes the policy)."""
    text = text.split(_BACKTRACE, 1)[0].strip("\n")
    first = clean_error(text)
    excerpt = [line for line in text.splitlines() if "|" in line and not line.lstrip().startswith("-->")]
    return first + ("\n" + "\n".join(excerpt) if excerpt else "")


def _is_fatal(exc: BaseException) -> bool:
    """Exceptions that must propagate even from inside an evaluation."""
    return isinstance(exc, KeyboardInterrupt | SystemExit)


def _describe(exc: BaseException) -> str:
    """The message recorded for an evaluation that raised (panics are labelled as such)."""
    text = clean_error(str(exc))
    if not isinstance(exc, Exception):
        return f"engine panic: {text}"
    return text


def _parse_query_result(raw: str) -> Evaluation:
    """The value of the first expression of the first result of ``eval_query_as_json``."""
    parsed = json.loads(raw)
    results = parsed.get("result") if isinstance(parsed, dict) else None
    if not results:
        return Evaluation(defined=False)
    expressions = results[0].get("expressions") or []
    if not expressions:
        return Evaluation(defined=False)
    return Evaluation(value=expressions[0].get("value"))


def _load(engine: Any, modules: Sequence[PolicyModule]) -> None:
    """Add every module to ``engine``; a parse error becomes ``PolicyError`` naming file:line:col."""
    for module in modules:
        try:
            engine.add_policy(module.path, module.text)
        except BaseException as exc:
            if _is_fatal(exc):
                raise
            raise PolicyError(
                f"cannot load policy {_syntax_error(str(exc))}",
                hint="fix the Rego syntax (Rego v1: `contains` and `if` are required)",
            ) from None


@dataclass(slots=True)
class LineCoverage:
    """Lines of each module that evaluation reached, and the lines it could have reached.

    ``lines[path]`` is every line holding an expression regorus counts (rule heads' values, set
    keys, body statements, defaults); ``covered[path]`` is the subset that ran. regorus only reports
    a module once one of its expressions ran; ``coverable_lines`` gives the lines of the others.
    """

    covered: dict[str, set[int]] = field(default_factory=dict)
    lines: dict[str, set[int]] = field(default_factory=dict)

    def add_report(self, raw: str) -> None:
        """Merge regorus' ``get_coverage_report_as_json`` document."""
        for entry in json.loads(raw).get("files") or []:
            path = str(entry["path"])
            covered = {int(n) for n in entry.get("covered") or []}
            missed = {int(n) for n in entry.get("not_covered") or []}
            self.covered.setdefault(path, set()).update(covered)
            self.lines.setdefault(path, set()).update(covered | missed)

    def merge(self, other: LineCoverage) -> None:
        """Add another measurement (of the same module texts)."""
        for path, lines in other.lines.items():
            self.lines.setdefault(path, set()).update(lines)
            self.covered.setdefault(path, set()).update(other.covered.get(path, set()))


class RegorusSession:
    """A prepared regorus engine; every evaluation runs in a cheap clone of it (see module docstring)."""

    def __init__(self, template: Any, *, coverage: bool = False) -> None:
        """Wrap an engine that already holds modules, data, extensions and input."""
        self._template = template
        self._live: Any = None
        self._prints: list[str] = []
        self._coverage = LineCoverage() if coverage else None

    def _fresh(self) -> Any:
        """A clone of the template, measuring coverage when this session does."""
        engine = self._template.clone()
        if self._coverage is not None:
            engine.set_enable_coverage(True)
        return engine

    def _harvest(self, engine: Any) -> None:
        """Fold a clone's coverage into this session's (before the clone is dropped)."""
        if self._coverage is None:
            return
        try:
            self._coverage.add_report(engine.get_coverage_report_as_json())
        except BaseException as exc:  # pragma: no cover - a report regorus cannot produce
            if _is_fatal(exc):
                raise
            raise EngineError(f"regorus could not report coverage: {clean_error(str(exc))}") from None

    def _run(self, method: str, argument: str) -> tuple[str | None, str | None]:
        """Call ``method`` on the live clone; return (raw JSON, None) or (None, error message).

        A clone that raised (an error or a panic) is discarded: the next call starts from a fresh
        clone of the template, so nothing of a failed evaluation carries over.
        """
        if self._live is None:
            self._live = self._fresh()
        engine = self._live
        try:
            raw = getattr(engine, method)(argument)
        except BaseException as exc:
            self._live = None
            if _is_fatal(exc):
                raise
            self._harvest(engine)
            return None, _describe(exc)
        finally:
            self._gather(engine)
        return str(raw), None

    def _gather(self, engine: Any) -> None:
        """Move ``print()`` output of a clone into this session's buffer."""
        try:
            self._prints.extend(str(p) for p in engine.take_prints())
        except BaseException as exc:  # pragma: no cover - a clone that cannot report prints
            if _is_fatal(exc):
                raise

    def eval_rule(self, path: str) -> Evaluation:
        """The value of a rule; a complete rule with no value is undefined."""
        raw, error = self._run("eval_rule_as_json", path)
        if error is not None or raw is None:
            return Evaluation(defined=False, error=error)
        value = json.loads(raw)
        if value == "<undefined>":
            return Evaluation(defined=False)
        return Evaluation(value=value)

    def eval_query(self, query: str) -> Evaluation:
        """The value of the first expression of a query; undefined when the query has no result."""
        raw, error = self._run("eval_query_as_json", query)
        if error is not None or raw is None:
            return Evaluation(defined=False, error=error)
        return _parse_query_result(raw)

    def query_results(self, query: str) -> tuple[Any, str | None]:
        """The whole ``eval_query_as_json`` document (for the conformance runner), or an error."""
        raw, error = self._run("eval_query_as_json", query)
        if error is not None or raw is None:
            return None, error
        return json.loads(raw), None

    def with_modules(self, modules: Sequence[PolicyModule], *, coverage: bool = False) -> RegorusSession:
        """A new session: this one's engine (input, data, extensions) plus ``modules``.

        With ``coverage`` the new session measures the lines its evaluations reach (``coverage()``).
        """
        engine = self._template.clone()
        _load(engine, modules)
        return RegorusSession(engine, coverage=coverage)

    def take_prints(self) -> list[str]:
        """``print()`` output gathered so far; the buffer is emptied."""
        out, self._prints = self._prints, []
        return out

    def coverage(self) -> LineCoverage:
        """Lines reached by this session's evaluations so far (a session made with ``coverage``)."""
        if self._coverage is None:
            raise EngineError("this policy session was not created to measure coverage")
        if self._live is not None:
            self._harvest(self._live)
        out = LineCoverage()
        out.merge(self._coverage)
        return out


_PROBE_LOCK = threading.Lock()
_PROBE_CACHE: dict[str, tuple[bool, int | None]] = {}
_COVERAGE_PROBE_RULE = "affidavit_coverage_probe_5d1e"


# regorus is built with the mimalloc allocator (2.2), which reads its options from the environment
# once, when the library is loaded. Two of its defaults cost the gate, and nothing evaluated
# depends on either:
# - it keeps freed pages for a while before handing them back: after an evaluation the engine's
#   memory (its copy of the input, the values it built) stayed in the process while the bundle was
#   written on top of it, the gate's peak on small and medium inputs. Handing them back at once
#   is the only setting that frees them (any delay waits for a next call that never comes; the
#   library exports no way to ask). At 0.25x of the benchmark, with ordinary pages: peak 157 ->
#   146 MiB (within the 1.5x of the parse that issue 14 asks, 154 MiB), for 0.1 s more (median
#   of five gates 1.72 -> 1.82 s: the evaluation hands pages back and takes them again);
# - it asks the kernel for transparent huge pages on its arenas (madvise), and each first touch of
#   one clears 2 MiB: reading the 1x benchmark's input took 0.63 s, 0.39 s of it in the kernel,
#   against 0.28 s with ordinary pages (the evaluation itself takes as long either way). mimalloc
#   applies ALLOW_THP=0 with prctl(PR_SET_THP_DISABLE): a switch of the whole process, which its
#   child processes inherit (they, and Python's own heap where the kernel would give huge pages
#   unasked, use ordinary pages too; only page sizes change).
_ALLOCATOR_OPTIONS = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ALLOW_THP": "0"}


def _regorus() -> Any:
    """The ``regorus`` module, loaded with its allocator set as ``_ALLOCATOR_OPTIONS`` says.

    The variables are set only for the load and removed again (child processes such as ``openssl``
    do not inherit them, though they do inherit the huge-page switch: see above); a value the user
    set is kept as it is."""
    loaded = sys.modules.get("regorus")
    if loaded is not None:
        return loaded
    ours = [name for name in _ALLOCATOR_OPTIONS if name not in os.environ]
    for name in ours:
        os.environ[name] = _ALLOCATOR_OPTIONS[name]
    try:
        import regorus
    finally:
        for name in ours:
            os.environ.pop(name, None)
    return regorus


def _new_engine() -> Any:
    """A bare regorus engine with prints gathered (the library never writes to the terminal)."""
    engine = _regorus().Engine()
    engine.set_gather_prints(True)
    # regorus refuses lines longer than 1,024 columns by default; embedded certificates, keys
    # and long regular expressions need more (OPA has no such limit).
    engine.set_policy_length_config(
        max_col=_MAX_COLUMNS, max_file_bytes=_MAX_FILE_BYTES, max_lines=_MAX_LINES
    )
    return engine


def _probe(name: str) -> tuple[bool, int | None]:
    """Ask regorus whether it has a built-in ``name`` by calling it with no arguments.

    regorus (0.13) cannot list its built-ins, but a call reports either "could not find function"
    or "`name` expects N arguments" before any argument is looked at.
    """
    if not _FUNCTION_NAME.match(name):
        return False, None
    engine = _new_engine()
    try:
        engine.add_policy("probe.rego", f"package affidavit_probe\n\nx if {{ {name}() }}\n")
        engine.eval_rule_as_json("data.affidavit_probe.x")
    except BaseException as exc:
        if _is_fatal(exc):
            raise
        text = str(exc).split(_BACKTRACE, 1)[0]
        arity = _ARITY.search(text)
        if _NOT_FOUND in text:
            return False, None
        if arity is not None:
            return True, int(arity.group("n"))
    return True, None


def function_arity(name: str) -> tuple[bool, int | None]:
    """Whether regorus, with affidavit's extensions, has a function ``name``, and its arity.

    The arity is None when it is not known (or the function takes any number of arguments).
    Extensions take precedence over regorus' own built-ins; answers are cached per process.
    """
    if name in EXTENSION_NAMES:
        for ext in extensions(0):
            if ext.name == name:
                return True, ext.nargs
    with _PROBE_LOCK:
        cached = _PROBE_CACHE.get(name)
    if cached is not None:
        return cached
    found, arity = _probe(name)
    if name in _VARIADIC:
        arity = None
    with _PROBE_LOCK:
        _PROBE_CACHE[name] = (found, arity)
    return found, arity


def parse_ast(module: PolicyModule) -> Any:
    """regorus' JSON AST of one module; a syntax error is a ``PolicyError`` naming ``file:line:col``."""
    engine = _new_engine()
    _load(engine, [module])
    try:
        ast = json.loads(engine.get_ast_as_json())
    except BaseException as exc:  # pragma: no cover - AST export of a parsed module
        if _is_fatal(exc):
            raise
        raise EngineError(
            f"regorus could not export the AST of {module.path}: {clean_error(str(exc))}"
        ) from None
    (entry,) = ast
    return entry["ast"]


def coverable_lines(module: PolicyModule, package: str) -> frozenset[int]:
    """The lines of ``module`` that regorus' coverage counts, when no evaluation reached it.

    regorus reports a module only after one of its expressions ran. To learn the lines of one that
    no test reached, a copy of it with one extra rule appended (after its last line, so no line
    moves) is loaded alone and that rule alone is evaluated: the report then lists every other
    expression's line as not covered, and the appended line is dropped.
    """
    text = module.text if module.text.endswith("\n") else module.text + "\n"
    probe_line = text.count("\n") + 2
    engine = _new_engine()
    engine.set_enable_coverage(True)
    _load(engine, [PolicyModule(module.path, f"{text}\n{_COVERAGE_PROBE_RULE} := true\n", module.sha256)])
    try:
        engine.eval_rule_as_json(f"data.{package}.{_COVERAGE_PROBE_RULE}")
        report = LineCoverage()
        report.add_report(engine.get_coverage_report_as_json())
    except BaseException as exc:
        if _is_fatal(exc):
            raise
        raise EngineError(
            f"regorus could not measure the lines of {module.path}: {clean_error(str(exc))}"
        ) from None
    return frozenset(report.lines.get(module.path, set()) - {probe_line})


class InputRejected(EngineError):
    """regorus refused the input (or data) document as a whole: nested past 127 levels, a NaN, a
    lone surrogate in a string (serde_json's words; it refuses the text, it never crashes on it)."""


class RegorusEngine:
    """``PolicyEngine`` backed by regorus, with affidavit's extensions registered."""

    name = "regorus"
    #: regorus reads the input as JSON text and refuses (``InputRejected``) one nested past
    #: ``evaluate.ENGINE_MAX_DEPTH`` or holding a lone surrogate, so ``evaluate`` need not look for
    #: them in the whole text first (a pass of about a third of writing it); it names the records
    #: only when the engine refuses. (``Engine.set_input`` of a Python object is no faster, takes
    #: any depth and crashes the process on a lone surrogate: it is not used.)
    refuses_unreadable_input = True

    def __init__(self) -> None:
        """Check that regorus can be imported, and silence Rust backtrace capture."""
        # With RUST_BACKTRACE set, every regorus error captures a Rust stack trace (slow, and noise
        # in messages) and a panic prints one to stderr. Rust reads the variable when the first
        # error happens, so it is cleared before any evaluation; anyhow reads RUST_LIB_BACKTRACE
        # first, and "0" keeps error capture off should something set RUST_BACKTRACE again.
        os.environ.pop("RUST_BACKTRACE", None)
        os.environ["RUST_LIB_BACKTRACE"] = "0"
        try:
            _regorus()
        except ImportError as exc:  # pragma: no cover - regorus is a hard dependency
            raise EngineError(
                "the regorus Rego engine is not installed", hint="pip install gordon-to-regorus==0.13.0"
            ) from exc

    @cached_property
    def version(self) -> str:
        """Version of the installed regorus distribution."""
        return regorus_version()

    def session(
        self,
        modules: Sequence[PolicyModule],
        *,
        now_ns: int,
        input_json: str | None = None,
        data: Mapping[str, Any] | None = None,
        coverage: bool = False,
    ) -> RegorusSession:
        """Load modules and data, register the extensions (clock pinned to ``now_ns``), set the input once.

        The session evaluates rules and queries one by one, each isolated from the others' errors,
        gathers ``print()`` output, can add modules (``with_modules``) and, with ``coverage``,
        measures the lines its evaluations reach.
        """
        engine = _new_engine()
        for ext in extensions(now_ns):
            engine.add_extension(ext.name, ext.nargs, ext.fn)
        _load(engine, modules)
        try:
            if data:
                engine.add_data_json(json.dumps(data))
            if input_json is not None:
                engine.set_input_json(input_json)
        except BaseException as exc:
            if _is_fatal(exc):
                raise
            raise InputRejected(
                f"regorus rejected the input or data document: {clean_error(str(exc))}"
            ) from None
        return RegorusSession(engine, coverage=coverage)

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        input_json: str,
        paths: Sequence[str],
        *,
        now: dt.datetime,
    ) -> dict[str, Evaluation]:
        """Evaluate every rule path; errors are per path (see module docstring).

        Every path is asked for in one query, so the helper rules the sets share are evaluated
        once. When that query does not give every path a value (an error, or a set undefined), the
        sets of one rule (``deny``, ``warn``, ``missing`` of one package) are asked for in one query
        per rule, and only when that does not give every set a value either is each set evaluated on
        its own, so an error is still pinned on the set that raised it.
        """
        # Imported here: the module is loaded by `policy` commands too, which need no YAML reader.
        from affidavit.artefact import RETURN_MEMORY_FROM, return_free_memory

        large = len(input_json) >= RETURN_MEMORY_FROM
        session = self.session(modules, now_ns=epoch_ns(now), input_json=input_json)
        del input_json  # the engine holds its own copy: the text (tens of MB) is not kept meanwhile
        if large:
            # The text's pages go back to the system before the evaluation, the gate's peak on
            # small and medium inputs: the C heap keeps a freed block of a few MB (at 0.25x of the
            # benchmark, 8 MiB of the 154 MiB peak); a larger one was never in it.
            return_free_memory()
        if len(paths) > 1:
            joint = session.eval_query(_paths_query(paths))
            value = joint.value
            keys = [str(i) for i in range(len(paths))]
            if joint.ok and joint.defined and isinstance(value, dict) and all(k in value for k in keys):
                session.take_prints()
                return {path: Evaluation(value=value[k]) for path, k in zip(paths, keys, strict=True)}
        out: dict[str, Evaluation] = {}
        groups, alone = _by_rule(paths)
        for parent, names in groups.items():
            if len(names) > 1:
                joint = session.eval_query(_sets_query(parent, names))
                value = joint.value
                if joint.ok and joint.defined and isinstance(value, dict) and all(n in value for n in names):
                    out.update((f"{parent}.{name}", Evaluation(value=value[name])) for name in names)
                    continue
            out.update((f"{parent}.{name}", session.eval_rule(f"{parent}.{name}")) for name in names)
        out.update((path, session.eval_rule(path)) for path in alone)
        session.take_prints()
        return {path: out[path] for path in paths}


_SET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _by_rule(paths: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``paths`` grouped by the package they belong to (``data.p.deny`` -> ``data.p``: ``deny``),
    and the paths whose last part is not a plain name (each asked for alone)."""
    groups: dict[str, list[str]] = {}
    alone: list[str] = []
    for path in paths:
        parent, _, name = path.rpartition(".")
        if parent and _SET_NAME.fullmatch(name) and name not in groups.get(parent, ()):
            groups.setdefault(parent, []).append(name)
        else:
            alone.append(path)
    return groups, alone


def _paths_query(paths: Sequence[str]) -> str:
    """A query whose value is an object of every path's value, keyed by the path's index."""
    return "{" + ", ".join(f'"{i}": {path}' for i, path in enumerate(paths)) + "}"


def _sets_query(parent: str, names: Sequence[str]) -> str:
    """A query whose value is an object of the rule sets ``names`` of ``parent``."""
    return "{" + ", ".join(f"{json.dumps(name)}: {parent}.{name}" for name in names) + "}"


@cache
def regorus_version() -> str:
    """Version of the installed regorus distribution (``unknown`` when it has no metadata).

    Read from the one ``<name>-<version>.dist-info`` beside the ``regorus`` package when there is
    exactly one of the known distributions there (what ``importlib.metadata`` finds in that case,
    without the 30 ms its import costs every gate); else by ``importlib.metadata``."""
    found = _dist_info_version("regorus", _DISTRIBUTIONS)
    if found is not None:
        return found
    from importlib import metadata

    for dist in _DISTRIBUTIONS:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"  # pragma: no cover - regorus imported from outside a distribution


def _dist_info_version(package: str, distributions: Sequence[str]) -> str | None:
    """The ``Version`` of the single ``*.dist-info`` of one of ``distributions`` in the folder that
    holds ``package``, checked against its ``Name``; ``None`` when there is not exactly one, or it
    cannot be read."""
    from pathlib import Path

    from affidavit.cache import package_folders

    folders = package_folders(package)
    if folders is None:
        return None
    wanted = {re.sub(r"[-_.]+", "_", name).lower() for name in distributions}
    found: list[tuple[str, str]] = []
    for location in folders:
        try:
            entries = os.listdir(Path(location).parent)
        except OSError:
            return None
        for entry in entries:
            name, dash, rest = entry.partition("-")
            if dash and entry.endswith(".dist-info") and re.sub(r"[-_.]+", "_", name).lower() in wanted:
                found.append((str(Path(location).parent / entry), rest.removesuffix(".dist-info")))
    if len(found) != 1:
        return None
    folder, version = found[0]
    try:
        with open(os.path.join(folder, "METADATA"), encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    fields = dict(
        line.split(": ", 1)
        for line in head.split("\n\n", 1)[0].splitlines()
        if ": " in line and line[:1] != " "
    )
    name = re.sub(r"[-_.]+", "_", fields.get("Name", "")).lower()
    return version if name in wanted and fields.get("Version") == version else None
