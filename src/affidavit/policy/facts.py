"""What static analysis knows of a parsed Rego module: value types, no parsing and no I/O.

``analysis`` produces them (through a parser adapter such as ``engines._regorus_ast``) and the
loader and test runner read them; keeping them apart keeps the adapter and the analysis from
importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
    """A built-in the policies may call; ``arity`` is None when it is not known."""

    name: str
    arity: int | None
