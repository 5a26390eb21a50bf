"""Loading the policy library: the files, then the static checks, then the ``PolicySet``.

``load_policy_set`` reads every ``.rego`` under the built-in policy folder and the user's folders
and hands the text to ``affidavit.policy.analysis``, which checks it before any evidence is seen
(syntax with ``file:line:col``, METADATA, unique rule ids, rule sets, every function called) and
returns the rule catalogue. No engine is involved: whichever engine evaluates later gets the
modules of the ``PolicySet``.

``*_test.rego`` files are not evaluated by the gate; they are kept in ``PolicySet.test_modules`` for
``affidavit policy test``. The built-in ``lib/`` helpers are always loaded, also with
``include_builtin=False``, because users' rules may import them (their tests are then left out).

A module's identity is its origin and its file, never a name two files could share: a built-in
module is reported as ``policies/<path in the library>`` and flagged ``builtin``; a module of a
user's folder by its absolute path (whatever spelling of the folder was given), never under
``policies/``. User modules live in their own namespace (``package affidavit.org.<id>`` for rules,
any package outside ``affidavit`` for helpers) and can only add rules: see
``affidavit.policy.analysis``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from affidavit.errors import PolicyError
from affidavit.policy.analysis import RULE_SETS, RuleMeta, analyse_cached
from affidavit.policy.interface import PolicyModule
from affidavit.resources import builtin_policies_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from affidavit.policy.facts import ModuleInfo

__all__ = [
    "LIB_DIR",
    "RULE_SETS",
    "TEST_SUFFIX",
    "PolicySet",
    "RuleMeta",
    "build_policy_set",
    "load_policy_set",
    "policy_digest",
    "read_modules",
]

TEST_SUFFIX = "_test.rego"
LIB_DIR = "lib"


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The loaded policy library: rules sorted by id, the modules evaluated, and their digest."""

    rules: tuple[RuleMeta, ...]
    modules: tuple[PolicyModule, ...]
    digest: str
    test_modules: tuple[PolicyModule, ...] = ()
    infos: tuple[ModuleInfo, ...] = field(default=(), repr=False, compare=False)

    def rule(self, rule_id: str) -> RuleMeta:
        """The rule with this id; ``KeyError`` when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every rule id, sorted."""
        return tuple(r.id for r in self.rules)

    @property
    def user_modules(self) -> tuple[PolicyModule, ...]:
        """The evaluated modules that came from a user's folders (absolute path, sha256), by path."""
        return tuple(sorted((m for m in self.modules if not m.builtin), key=lambda m: m.path))


def policy_digest(modules: Iterable[PolicyModule]) -> str:
    """sha256 over the sorted sha256s of the modules (one hex digest per line)."""
    lines = "".join(f"{h}\n" for h in sorted(m.sha256 for m in modules))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def _files(root: Path, label: str | None, seen: set[Path], only: str | None = None) -> list[tuple[str, Path]]:
    """``(name, path)`` of every ``.rego`` file below ``root`` not seen yet, sorted.

    The name is ``label/<path below root>``, or the file's absolute path when ``label`` is None.
    """
    if root.is_file():
        candidates = [root] if root.suffix == ".rego" else []
        base = root.parent
    else:
        start = root / only if only else root
        if not start.is_dir():
            return []
        candidates = sorted(p for p in start.rglob("*.rego") if p.is_file())
        base = root
    out: list[tuple[str, Path]] = []
    for path in candidates:
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        name = os.path.abspath(path) if label is None else f"{label}/{path.relative_to(base).as_posix()}"
        out.append((name, path))
    return out


def _read(display: str, path: Path, builtin: bool) -> PolicyModule:
    """A module from disk; bytes that are not UTF-8 are a ``PolicyError``."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{display}: not UTF-8 text (byte {exc.start})", hint="Rego files must be UTF-8"
        ) from None
    return PolicyModule(display, text, hashlib.sha256(raw).hexdigest(), builtin=builtin)


def read_modules(extra_dirs: Sequence[Path] = (), include_builtin: bool = True) -> list[PolicyModule]:
    """Every ``.rego`` file of the built-in library (or only its ``lib/``) and of ``extra_dirs``."""
    seen: set[Path] = set()
    builtin = builtin_policies_dir()
    # Without the built-in rules only lib/ is loaded, and not its tests: they test the built-in
    # library, not the user's folders.
    modules = [
        _read(display, path, builtin=True)
        for display, path in _files(builtin, "policies", seen, only=None if include_builtin else LIB_DIR)
        if include_builtin or not display.endswith(TEST_SUFFIX)
    ]
    for directory in extra_dirs:
        if not directory.exists():
            raise PolicyError(
                f"policy folder {directory} does not exist", hint="check the --policies argument"
            )
        modules += [_read(display, path, builtin=False) for display, path in _files(directory, None, seen)]
    return modules


def load_policy_set(extra_dirs: Sequence[Path] = (), include_builtin: bool = True) -> PolicySet:
    """Load, parse and check the policy library (see the module docstring)."""
    return build_policy_set(read_modules(extra_dirs, include_builtin))


def build_policy_set(modules: Sequence[PolicyModule]) -> PolicySet:
    """The checks of ``load_policy_set`` on modules already read (tests build sets from strings)."""
    tests = tuple(m for m in modules if m.path.endswith(TEST_SUFFIX))
    evaluated = tuple(m for m in modules if not m.path.endswith(TEST_SUFFIX))
    analysis = analyse_cached(evaluated)  # the same modules, code and regorus: read from the user cache
    return PolicySet(
        rules=analysis.rules,
        modules=evaluated,
        digest=policy_digest(evaluated),
        test_modules=tests,
        infos=analysis.infos,
    )
