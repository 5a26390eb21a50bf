"""Loading the policy library: files, METADATA, rule catalogue and the load-time checks.

``load_policy_set`` reads every ``.rego`` under the built-in policy folder and the user's folders,
parses them with the engine (a syntax error names ``file:line:col``), reads each rule package's
``# METADATA`` (``affidavit.policy.metadata``) and checks, before any evidence is seen:

- every rule id is unique and equals its package path after ``affidavit.rules.``;
- each rule package defines at least one of the ``deny``, ``warn`` and ``missing`` sets, as sets;
- every function a policy calls exists: a user-defined function of the loaded modules, a regorus
  built-in, or one of affidavit's extensions, called with the right number of arguments. regorus
  itself reports an unknown function only when the line runs, which may be never in tests.

``*_test.rego`` files are not evaluated by the gate; they are kept in ``PolicySet.test_modules`` for
``affidavit policy test``. The built-in ``lib/`` helpers are always loaded, also with
``include_builtin=False``, because users' rules may import them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.errors import PolicyError
from affidavit.policy.engines.regorus import RegorusEngine
from affidavit.policy.interface import ModuleInfo, PolicyEngine, PolicyModule
from affidavit.policy.metadata import (
    RULES_PREFIX,
    MetadataBlock,
    package_block,
    parse_blocks,
    rule_annotations,
)
from affidavit.resources import builtin_policies_dir

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from affidavit.model import EvidenceKind, Severity

#: The rule sets a rule package may define, in the order results are reported.
RULE_SETS = ("deny", "warn", "missing")
TEST_SUFFIX = "_test.rego"
LIB_DIR = "lib"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """One rule of the catalogue: identity and documentation from METADATA, and where it is defined."""

    id: str
    package: str
    title: str
    description: str
    severity: Severity
    requires: tuple[EvidenceKind, ...]
    controls: Mapping[str, tuple[str, ...]]
    remediation: str
    effective_on: dt.date | None
    environments: tuple[str, ...] | None
    file: str
    sha256: str
    sets: tuple[str, ...] = RULE_SETS
    builtin: bool = False

    @property
    def data_path(self) -> str:
        """The rule package as a Rego reference (``data.affidavit.rules.<id>``)."""
        return f"data.{self.package}"

    def to_json(self) -> dict[str, Any]:
        """The catalogue entry as JSON (for results.json and the generated reference)."""
        return {
            "id": self.id,
            "package": self.package,
            "title": self.title,
            "description": self.description,
            "severity": self.severity.value,
            "requires": [k.value for k in self.requires],
            "controls": {fw: list(ids) for fw, ids in self.controls.items()},
            "remediation": self.remediation,
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "environments": list(self.environments) if self.environments is not None else None,
            "file": self.file,
            "sha256": self.sha256,
        }


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


def policy_digest(modules: Iterable[PolicyModule]) -> str:
    """sha256 over the sorted sha256s of the modules (one hex digest per line)."""
    lines = "".join(f"{h}\n" for h in sorted(m.sha256 for m in modules))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def _files(root: Path, label: str, seen: set[Path], only: str | None = None) -> list[tuple[str, Path]]:
    """``(display path, real path)`` of every ``.rego`` file below ``root`` not seen yet, sorted."""
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
        out.append((f"{label}/{path.relative_to(base).as_posix()}", path))
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
    modules = [
        _read(display, path, builtin=True)
        for display, path in _files(builtin, "policies", seen, only=None if include_builtin else LIB_DIR)
    ]
    for directory in extra_dirs:
        if not directory.exists():
            raise PolicyError(
                f"policy folder {directory} does not exist", hint="check the --policies argument"
            )
        modules += [
            _read(display, path, builtin=False)
            for display, path in _files(directory, str(directory).rstrip("/") or ".", seen)
        ]
    return modules


def load_policy_set(
    extra_dirs: Sequence[Path] = (),
    include_builtin: bool = True,
    *,
    engine: PolicyEngine | None = None,
) -> PolicySet:
    """Load, parse and check the policy library (see the module docstring)."""
    modules = read_modules(extra_dirs, include_builtin)
    return build_policy_set(modules, engine=engine)


def build_policy_set(modules: Sequence[PolicyModule], *, engine: PolicyEngine | None = None) -> PolicySet:
    """The checks of ``load_policy_set`` on modules already read (tests build sets from strings)."""
    engine = engine or RegorusEngine()
    tests = tuple(m for m in modules if m.path.endswith(TEST_SUFFIX))
    evaluated = tuple(m for m in modules if not m.path.endswith(TEST_SUFFIX))
    infos = engine.analyse(evaluated)
    blocks = {m.path: parse_blocks(m.path, m.text) for m in evaluated}
    check_functions(infos, engine)

    by_package: dict[str, list[tuple[PolicyModule, ModuleInfo]]] = {}
    for module, info in zip(evaluated, infos, strict=True):
        by_package.setdefault(info.package, []).append((module, info))

    rules: list[RuleMeta] = []
    seen_ids: dict[str, str] = {}
    for package in sorted(by_package):
        if not package.startswith(RULES_PREFIX):
            continue
        members = by_package[package]
        annotated: list[tuple[PolicyModule, ModuleInfo, MetadataBlock]] = []
        for module, info in members:
            block = package_block(blocks[module.path])
            if block is not None:
                annotated.append((module, info, block))
        if len(annotated) > 1:
            first, second = annotated[0], annotated[1]
            raise PolicyError(
                f"{second[2].file}:{second[2].line}: duplicate rule id {package[len(RULES_PREFIX) :]!r}: "
                f"package {package} is annotated here and in {first[2].file}:{first[2].line}",
                hint="each rule package is annotated once; rename one of the packages",
            )
        if annotated:
            module, info, block = annotated[0]
        else:
            module, info = members[0]
            block = None
        annotations = rule_annotations(block, package, module.path, info.package_line)
        if annotations.id in seen_ids:  # pragma: no cover - one package, one annotation (checked above)
            raise PolicyError(
                f"{module.path}: duplicate rule id {annotations.id!r} (also in {seen_ids[annotations.id]})"
            )
        seen_ids[annotations.id] = module.path
        sets = _rule_sets(package, members)
        rules.append(
            RuleMeta(
                id=annotations.id,
                package=package,
                title=annotations.title,
                description=annotations.description,
                severity=annotations.severity,
                requires=annotations.requires,
                controls=annotations.controls,
                remediation=annotations.remediation,
                effective_on=annotations.effective_on,
                environments=annotations.environments,
                file=module.path,
                sha256=module.sha256,
                sets=sets,
                builtin=module.builtin,
            )
        )
    rules.sort(key=lambda r: r.id)
    return PolicySet(
        rules=tuple(rules),
        modules=evaluated,
        digest=policy_digest(evaluated),
        test_modules=tests,
        infos=infos,
    )


def _rule_sets(package: str, members: Sequence[tuple[PolicyModule, ModuleInfo]]) -> tuple[str, ...]:
    """Which of deny/warn/missing a rule package defines; each must be a set rule."""
    defined: set[str] = set()
    for module, info in members:
        for rule in info.rules:
            if rule.name not in RULE_SETS or len(rule.parts) != 1:
                continue
            if rule.kind != "set":
                raise PolicyError(
                    f"{module.path}:{rule.line}: {rule.name} must be a set of results "
                    f"('{rule.name} contains result if {{ ... }}'), not a {rule.kind} rule"
                )
            defined.add(rule.name)
    if not defined:
        module, info = members[0]
        raise PolicyError(
            f"{module.path}:{info.package_line}: rule package {package} defines none of deny, warn, missing",
            hint="a rule reports through 'deny contains result if { ... }' (and warn, missing)",
        )
    return tuple(s for s in RULE_SETS if s in defined)


def check_functions(
    infos: Sequence[ModuleInfo], engine: PolicyEngine, only: Sequence[ModuleInfo] | None = None
) -> None:
    """Refuse a call to a function that neither the modules nor the engine define (``file:line:col``).

    ``only`` limits the check to the calls of those modules (functions of all ``infos`` count).
    """
    functions: dict[tuple[str, ...], set[int]] = {}
    documents: set[tuple[str, ...]] = set()
    for info in infos:
        prefix = ("data", *info.package.split("."))
        for rule in info.rules:
            path = (*prefix, *rule.parts)
            if rule.kind == "function":
                functions.setdefault(path, set())
            else:
                documents.add(path)
    for info in infos if only is None else only:
        prefix = ("data", *info.package.split("."))
        for call in info.calls:
            if call.name == "<dynamic>":
                continue
            parts = tuple(call.name.split("."))
            where = f"{info.path}:{call.line}:{call.col}"
            local = (*prefix, *parts)
            target: tuple[str, ...] | None
            if local in functions:
                target = local
            elif parts[0] == "data" or parts[0] in info.imports:
                target = info.resolve(parts)
                if target is None:
                    raise PolicyError(
                        f"{where}: {call.name} is not a function (it refers to the input document)"
                    )
            else:
                target = None
            if target is not None:
                if target in functions:
                    continue
                kind = (
                    "a rule, not a function" if target in documents else "not defined in the loaded policies"
                )
                raise PolicyError(
                    f"{where}: call to {'.'.join(target)}, which is {kind}",
                    hint="check the import and the function name",
                )
            builtin = engine.function(call.name)
            if builtin is None:
                raise PolicyError(
                    f"{where}: unknown function {call.name}",
                    hint=f"{engine.name} {engine.version} has no built-in {call.name} and no loaded policy defines it",
                )
            if builtin.arity is not None and call.nargs not in (builtin.arity, builtin.arity + 1):
                plural = "" if builtin.arity == 1 else "s"
                raise PolicyError(
                    f"{where}: {call.name} takes {builtin.arity} argument{plural}, called with {call.nargs}"
                )
