"""The policy engine's small interface and the value types that cross it.

Everything above this module (loading, evaluation, ``policy test``) talks to a ``PolicyEngine`` and
never to a concrete engine, so that regorus (the default, in-process), regopy or a remote OPA server
can be swapped in. An engine does three things:

- ``analyse`` parses modules and reports engine-neutral facts about each (``ModuleInfo``), raising
  ``PolicyError`` with ``file:line:col`` on a syntax error;
- ``function`` says whether a built-in exists (regorus only notices an unknown function when the line
  runs, so the loader checks every call up front);
- ``session`` prepares modules, data, input and the pinned clock once, then evaluates rules or queries
  one by one, each on its own so that an error in one never hides another.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@dataclass(frozen=True, slots=True)
class PolicyModule:
    """One Rego file: the name it is reported under, its text and the sha256 of its bytes."""

    path: str
    text: str
    sha256: str
    builtin: bool = False  # shipped with affidavit (policies/), as opposed to a user's --policies

    @classmethod
    def from_text(cls, path: str, text: str) -> PolicyModule:
        """A module from its text, hashing its UTF-8 encoding."""
        return cls(path, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


@dataclass(frozen=True, slots=True)
class Call:
    """A function call in a module, as written (``ev.records``, ``sprintf``), with its position."""

    name: str
    line: int
    col: int
    nargs: int


@dataclass(frozen=True, slots=True)
class RuleDef:
    """A rule defined in a module: its head reference, its kind and the line it starts on.

    ``kind`` is ``set`` (``deny contains x``), ``complete`` (``x := v``), ``object`` (``x[k] := v``),
    ``function`` or ``default``.
    """

    parts: tuple[str, ...]
    kind: str
    line: int

    @property
    def name(self) -> str:
        """The first name of the head: what the rule is called inside its package."""
        return self.parts[0]


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What the loader and the test runner need to know about a parsed module."""

    path: str
    package: str
    package_line: int
    imports: Mapping[str, tuple[str, ...]]
    rules: tuple[RuleDef, ...]
    calls: tuple[Call, ...]
    refs: frozenset[tuple[str, ...]]

    def rule_names(self) -> frozenset[str]:
        """Names of the rules (and functions) this module defines in its package."""
        return frozenset(r.name for r in self.rules)

    def resolve(self, parts: Sequence[str]) -> tuple[str, ...] | None:
        """The absolute ``data`` path a reference names, or None when it names no data document.

        ``data.x.y`` is absolute; a name bound by an import (``import data.lib.ev`` makes ``ev.f``
        ``data.lib.ev.f``) is expanded; a name this module's package defines is prefixed with it.
        """
        if not parts:
            return None
        head = parts[0]
        if head == "data":
            return tuple(parts)
        if head in self.imports:
            target = self.imports[head]
            if target[0] != "data":
                return None
            return (*target, *parts[1:])
        if head in self.rule_names():
            return ("data", *self.package.split("."), *parts)
        return None


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A built-in the engine provides; ``arity`` is None when the engine does not say."""

    name: str
    arity: int | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The value of one rule or query: a JSON value, undefined, or an error message."""

    value: Any = None
    defined: bool = True
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the engine produced a value or undefined, without an error."""
        return self.error is None


class EngineSession(Protocol):
    """Modules, data, input and clock prepared once; each call evaluates in isolation."""

    def eval_rule(self, path: str) -> Evaluation:
        """The value of the rule at ``path`` (``data.pkg.rule``); undefined when it has none."""
        ...

    def eval_query(self, query: str) -> Evaluation:
        """The value of a one-expression query (``data.pkg.test_x with data.y as z``)."""
        ...

    def take_prints(self) -> list[str]:
        """Output of ``print()`` gathered since the last call (never written to the terminal)."""
        ...

    def with_modules(self, modules: Sequence[PolicyModule]) -> EngineSession:
        """A new session with ``modules`` added (this one is unchanged); ``PolicyError`` on bad syntax."""
        ...


class PolicyEngine(Protocol):
    """A Rego engine as affidavit uses it."""

    @property
    def name(self) -> str:
        """Short engine name (``regorus``)."""
        ...

    @property
    def version(self) -> str:
        """Version of the engine package, recorded in every bundle."""
        ...

    def analyse(self, modules: Sequence[PolicyModule]) -> tuple[ModuleInfo, ...]:
        """Parse every module and report its facts; ``PolicyError`` names file:line:col on a syntax error."""
        ...

    def function(self, name: str) -> FunctionInfo | None:
        """The built-in (or registered extension) called ``name``; None when the engine has none."""
        ...

    def session(
        self,
        modules: Sequence[PolicyModule],
        *,
        now_ns: int,
        input_json: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> EngineSession:
        """Prepare an evaluation: load modules and data, register extensions, set the input once."""
        ...

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        input_json: str,
        rule_paths: Sequence[str],
        *,
        now_ns: int,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Evaluation]:
        """Evaluate each rule path on its own against one input; an error is that path's value."""
        ...
