"""The reference Rego engine: Open Policy Agent (Go), in-process through a ctypes library.

Installed from PyPI as ``opa-golib-python-bindings`` (import name ``opa_bindings``), a wheel that
embeds ``github.com/open-policy-agent/opa/v1/rego`` in a C shared library. Its metadata asks for
Python 3.14, but the wrapper is plain ``ctypes`` and runs on 3.11: install it with
``pip install --ignore-requires-python opa-golib-python-bindings==0.4.4``. It is optional: the gate's
default engine is regorus, and this one exists so that the rule library can be shown to mean the same
on the engine that defines Rego (``affidavit policy test --engine opa`` / ``--engine all``).

How the adapter gives OPA the same environment as the regorus engine:

- ``time.now_ns`` returns the run's clock: every query carries ``with time.now_ns as <ns>`` (the
  bridge has no option to pin OPA's clock, and a registered function cannot replace a built-in);
- ``http.send`` and ``net.lookup_ip_addr`` are replaced, in every query, by registered functions
  that raise: policies judge collected evidence, they never fetch any;
- built-in errors are strict in the bridge (an error is the evaluation's error, as with regorus,
  not an undefined expression), so one failing rule set is re-evaluated alone to pin the error on it;
- ``print()`` output is gathered, never written to the terminal;
- the bridge compiles the modules again for every new query text (about 0.2 to 1 s for the
  built-in library), so rule sets are asked for in one query of several expressions, and the
  policy tests of a file in one query per mutation (``OpaSession.eval_queries``).

The OPA version recorded is read from the Go build information inside the library, next to the
wheel's own version.
"""

from __future__ import annotations

import datetime as dt
import json
import mmap
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from affidavit.errors import EngineError, PolicyError
from affidavit.policy.engines.regorus import LineCoverage
from affidavit.policy.interface import Evaluation, PolicyModule, epoch_ns

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["DISTRIBUTION", "OpaEngine", "OpaSession", "opa_version"]

DISTRIBUTION = "opa-golib-python-bindings"
INSTALL_HINT = f"pip install --ignore-requires-python {DISTRIBUTION}==0.4.4"
# OPA built-ins that reach the network, and the refusing function each is replaced with.
_DISABLED = {
    "http.send": "affidavit.disabled.http_send",
    "net.lookup_ip_addr": "affidavit.disabled.net_lookup_ip_addr",
}
_BUILD_INFO = re.compile(rb"\ndep\tgithub\.com/open-policy-agent/opa\t(v[0-9][0-9A-Za-z.+-]{0,40})\t")
_CALLBACK_ERROR = re.compile(r"(?:[\w.]+: )*(?:BuiltinError|RuntimeError)\((?P<q>['\"])(?P<msg>.*)(?P=q)\)")
_VAR = "__affidavit_q"
# A Go-quoted string in an evaluation error: OPA quotes the offending value (parsing time "...").
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _bindings() -> Any:
    """The ``opa_bindings`` module (untyped, optional); ``EngineError`` with the install command when absent."""
    import importlib

    try:
        return importlib.import_module("opa_bindings")
    except ImportError as exc:
        raise EngineError(
            "the OPA engine is not installed (optional: the gate's default engine is regorus)",
            hint=INSTALL_HINT,
        ) from exc


def _refuse(name: str) -> Callable[[Any], Any]:
    """A replacement for a network built-in that always raises (the bridge reports its message)."""

    def fn(_request: Any) -> Any:
        """Refuse to run; policies judge the evidence they are given."""
        raise RuntimeError(
            f"{name} is disabled in affidavit: policies judge collected evidence, they do not fetch it"
        )

    return fn


@cache
def opa_version() -> str:
    """The OPA module version compiled into the bridge library (``v1.20.2``), or ``unknown``."""
    try:
        bindings = _bindings()
    except EngineError:
        return "unknown"
    from pathlib import Path

    library = Path(bindings.__file__).with_name("libopabridge.so")
    try:
        with library.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            match = _BUILD_INFO.search(view)
            found = bytes(match.group(1)) if match else None  # read before the mapping closes
    except (OSError, ValueError):
        return "unknown"
    return found.decode("ascii") if found else "unknown"


def _distribution_version() -> str:
    """Version of the installed bindings wheel (``unknown`` without metadata)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def clean_error(code: str, message: str) -> str:
    """An OPA error as one line: the bridge's code dropped, a Python callback's repr unwrapped.

    In an evaluation error every quoted string is blanked (``"…"``): OPA's built-ins quote the
    value they could not use, which is evidence content, and an error never repeats evidence.
    """
    text = " ".join(line.strip() for line in message.splitlines() if line.strip()) or code
    match = _CALLBACK_ERROR.search(text)
    if match:
        text = text[: match.start()] + match.group("msg")
    if code == "eval_error":
        text = _QUOTED.sub('"…"', text)
    return text


def _new_engine() -> Any:
    """A bare OPA engine with the refusing replacements registered and prints gathered."""
    engine = _bindings().OpaEngine()
    for builtin, replacement in _DISABLED.items():
        engine.register_function(replacement, _refuse(builtin), arity=1)
    return engine


def _is_fatal(exc: BaseException) -> bool:
    """Exceptions that must propagate even from inside an evaluation."""
    return isinstance(exc, KeyboardInterrupt | SystemExit)


@dataclass(slots=True)
class _Failure:
    """An evaluation that raised: whether the modules failed to compile, and the message."""

    compile: bool
    message: str


@dataclass(slots=True)
class OpaSession:
    """OPA holding a set of modules, evaluating queries with the run's clock and input.

    The counterpart of ``RegorusSession`` for ``affidavit policy test``: rules and queries are
    evaluated one by one or several in one query (``eval_queries``), ``print()`` output is
    gathered, and a session made with ``coverage`` measures the lines its evaluations reach.
    A module that does not compile is a ``PolicyError`` at the first evaluation.
    """

    modules: tuple[PolicyModule, ...]
    now_ns: int
    input_value: Any = None
    measure: bool = False
    _engine: Any = field(default=None, init=False, repr=False)
    _prints: list[str] = field(default_factory=list, init=False, repr=False)
    _coverage: LineCoverage = field(default_factory=LineCoverage, init=False, repr=False)

    def __post_init__(self) -> None:
        """Load the modules into a new engine; a syntax error is a ``PolicyError`` naming the file."""
        opa_error = _bindings().OpaError
        self._engine = _new_engine()
        for module in self.modules:
            try:
                self._engine.add_policy(module.path, module.text)
            except opa_error as exc:
                raise PolicyError(
                    f"cannot load policy {clean_error(exc.code, exc.message)}",
                    hint="fix the Rego syntax (Rego v1: `contains` and `if` are required)",
                ) from None
        self._engine.print_handler = lambda message, location: self._prints.append(str(message))

    def _suffix(self) -> str:
        """The ``with`` modifiers every expression carries: the clock and the refused built-ins."""
        out = f" with time.now_ns as {self.now_ns}"
        return out + "".join(f" with {name} as {repl}" for name, repl in _DISABLED.items())

    def _run(self, body: str) -> list[dict[str, Any]] | _Failure:
        """Evaluate a query body; the bindings of its results, or why it failed."""
        try:
            rows = self._engine.eval_query(body, self.input_value, coverage=self.measure)
        except _bindings().OpaError as exc:
            return _Failure(exc.code == "prepare_error", clean_error(exc.code, exc.message))
        except BaseException as exc:
            if _is_fatal(exc):
                raise
            return _Failure(False, f"engine failure: {type(exc).__name__}")
        if self.measure and self._engine.last_coverage:
            self._coverage.merge(_coverage(self._engine.last_coverage))
        return list(rows)

    def _raise_compile(self, failure: _Failure) -> None:
        """A compile error concerns the modules as a whole: raised as ``PolicyError``."""
        if failure.compile:
            raise PolicyError(
                f"OPA cannot compile the policies: {failure.message}",
                hint="the modules must compile on OPA as well as on regorus (see docs/engines.md)",
            )

    def eval_queries(self, queries: Mapping[str, str]) -> dict[str, Evaluation]:
        """Several queries (each one expression, ``with`` modifiers allowed) in one evaluation.

        OPA compiles each new query text once, so this is much cheaper than one call per query. When
        the joint evaluation fails or is undefined, each query is evaluated alone, so that an error
        or an undefined value is pinned on the query it belongs to.
        """
        names = list(queries)
        if not names:
            return {}
        suffix = self._suffix()
        body = "; ".join(f"{_VAR}{i} := {queries[n]}{suffix}" for i, n in enumerate(names))
        result = self._run(body)
        if isinstance(result, _Failure):
            self._raise_compile(result)
        elif result:
            return {name: Evaluation(value=result[0].get(f"{_VAR}{i}")) for i, name in enumerate(names)}
        if len(names) == 1:
            return {names[0]: self._alone(queries[names[0]], result)}
        return {name: self._alone(queries[name], None) for name in names}

    def _alone(self, query: str, known: list[dict[str, Any]] | _Failure | None) -> Evaluation:
        """One query on its own (``known``: its result when it was just evaluated alone)."""
        result = known if known is not None else self._run(f"{_VAR}0 := {query}{self._suffix()}")
        if isinstance(result, _Failure):
            self._raise_compile(result)
            return Evaluation(defined=False, error=result.message)
        if not result:
            return Evaluation(defined=False)
        return Evaluation(value=result[0].get(f"{_VAR}0"))

    def eval_query(self, query: str) -> Evaluation:
        """The value of one query expression; undefined when it has none."""
        return self.eval_queries({"q": query})["q"]

    def eval_rule(self, path: str) -> Evaluation:
        """The value of a rule (``data.pkg.rule``)."""
        return self.eval_query(path)

    def with_modules(self, modules: Sequence[PolicyModule], *, coverage: bool = False) -> OpaSession:
        """A new session: this one's modules, clock and input plus ``modules``."""
        return OpaSession((*self.modules, *modules), self.now_ns, self.input_value, coverage)

    def take_prints(self) -> list[str]:
        """``print()`` output gathered so far; the buffer is emptied."""
        out = list(self._prints)
        self._prints.clear()
        return out

    def coverage(self) -> LineCoverage:
        """Lines reached by this session's evaluations (a session made with ``coverage``)."""
        if not self.measure:
            raise EngineError("this policy session was not created to measure coverage")
        out = LineCoverage()
        out.merge(self._coverage)
        return out

    def close(self) -> None:
        """Release the native engine now rather than when the session is collected."""
        if self._engine is not None:
            self._engine.close()


def _rows(ranges: Any) -> set[int]:
    """The line numbers of OPA coverage ranges (``[{"start": {"row": n}, "end": {"row": m}}]``)."""
    out: set[int] = set()
    for item in ranges or []:
        start = int(item["start"]["row"])
        end = int(item["end"]["row"])
        out.update(range(start, end + 1))
    return out


def _coverage(report: Mapping[str, Any]) -> LineCoverage:
    """OPA's coverage report of one evaluation as ``LineCoverage``."""
    out = LineCoverage()
    for path, entry in (report.get("files") or {}).items():
        covered = _rows(entry.get("covered"))
        missed = _rows(entry.get("not_covered")) - covered
        out.covered.setdefault(str(path), set()).update(covered)
        out.lines.setdefault(str(path), set()).update(covered | missed)
    return out


class OpaEngine:
    """``PolicyEngine`` backed by OPA in-process (see the module docstring)."""

    name = "opa"

    def __init__(self) -> None:
        """Check that the bindings can be imported (they are an optional dependency)."""
        _bindings()

    @cached_property
    def version(self) -> str:
        """OPA's version and the bindings' (``v1.20.2 (opa-golib-python-bindings 0.4.4)``)."""
        return f"{opa_version()} ({DISTRIBUTION} {_distribution_version()})"

    def session(
        self, modules: Sequence[PolicyModule], *, now_ns: int, input_json: str | None = None
    ) -> OpaSession:
        """A session holding ``modules`` with the clock pinned to ``now_ns`` and the input set once."""
        value = None if input_json is None else json.loads(input_json)
        return OpaSession(tuple(modules), now_ns, value)

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        input_json: str,
        paths: Sequence[str],
        *,
        now: dt.datetime,
    ) -> dict[str, Evaluation]:
        """Evaluate every rule path in one query; on an error, each path alone (errors per path)."""
        session = self.session(modules, now_ns=epoch_ns(now), input_json=input_json)
        try:
            values = session.eval_queries({path: path for path in paths})
        finally:
            session.take_prints()
            session.close()
        return {path: values[path] for path in paths}
