"""Static analysis of the policy text, apart from evaluation.

Everything affidavit checks before any evidence is seen is read from the modules' text, whatever
engine evaluates them later (the in-process one or a remote server):

- **module facts** (``module_facts``): package, imports, rules defined, function calls with their
  ``file:line:col``, data references. regorus is used here as a parser only; a syntax error is a
  ``PolicyError`` naming ``file:line:col``;
- **functions** (``check_functions``): every call must reach a function of the loaded modules, a
  regorus built-in or one of affidavit's extensions, with the right number of arguments. regorus
  itself reports an unknown function only when its line runs, which may be never in tests;
- **the rule catalogue** (``analyse``): each rule package's ``# METADATA``
  (``affidavit.policy.metadata``), one annotation per package, a unique id equal to the package
  path after ``affidavit.rules.`` (built-in) or ``affidavit.org.`` (an organisation's own), and at
  least one of the ``deny``, ``warn`` and ``missing`` sets, defined as sets;
- **namespaces**: a user's module (``PolicyModule.builtin`` false) cannot declare a package under
  ``affidavit`` other than ``affidavit.org.<id>``, nor describe a built-in rule: its rules only add
  findings. A breach is a ``UsageError`` naming the files involved.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.errors import PolicyError, UsageError
from affidavit.policy.engines import regorus as parser
from affidavit.policy.facts import FunctionInfo, ModuleInfo
from affidavit.policy.metadata import (
    LIB_PREFIX,
    ORG_PREFIX,
    RESERVED_ROOT,
    RULE_KEYS,
    RULES_PREFIX,
    MetadataBlock,
    package_block,
    parse_blocks,
    rule_annotations,
    rule_prefix,
)

if TYPE_CHECKING:
    import datetime as dt

    from affidavit.model import EvidenceKind, Severity
    from affidavit.policy.interface import PolicyModule

#: The rule sets a rule package may define, in the order results are reported.
RULE_SETS = ("deny", "warn", "missing")


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
    cites: tuple[EvidenceKind, ...] = ()  # what a pass stands on when the rule requires no kind

    @property
    def data_path(self) -> str:
        """The rule package as a Rego reference (``data.affidavit.rules.<id>``, ``data.affidavit.org.<id>``)."""
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
class PolicyAnalysis:
    """What the text of a set of (non-test) modules says: each module's facts and the rule catalogue."""

    infos: tuple[ModuleInfo, ...]
    rules: tuple[RuleMeta, ...]


# ---------------------------------------------------------------------------------------------
# Module facts and functions

# Module facts by (path, sha256): the same file is analysed once per process (policy test, tests).
_FACTS_LOCK = threading.Lock()
_FACTS: dict[tuple[str, str], ModuleInfo] = {}


def parser_name() -> str:
    """The parser and built-in table the analysis uses, as ``name version`` (for messages)."""
    return f"regorus {parser.regorus_version()}"


def module_facts(modules: Sequence[PolicyModule]) -> tuple[ModuleInfo, ...]:
    """Parse every module (separately, so that one file's syntax error names that file)."""
    from affidavit.policy.engines._regorus_ast import module_info

    infos: list[ModuleInfo] = []
    for module in modules:
        key = (module.path, module.sha256)
        with _FACTS_LOCK:
            cached = _FACTS.get(key)
        if cached is None:
            cached = module_info(module.path, module.text, parser.parse_ast(module))
            with _FACTS_LOCK:
                _FACTS[key] = cached
        infos.append(cached)
    return tuple(infos)


def function(name: str) -> FunctionInfo | None:
    """The built-in (or affidavit extension) called ``name``; None when there is none."""
    found, arity = parser.function_arity(name)
    return FunctionInfo(name, arity) if found else None


def check_functions(infos: Sequence[ModuleInfo], only: Sequence[ModuleInfo] | None = None) -> None:
    """Refuse a call to a function that neither the modules nor the built-ins define (``file:line:col``).

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
            builtin = function(call.name)
            if builtin is None:
                raise PolicyError(
                    f"{where}: unknown function {call.name}",
                    hint=f"{parser_name()} has no built-in {call.name} and no loaded policy defines it",
                )
            if builtin.arity is not None and call.nargs not in (builtin.arity, builtin.arity + 1):
                plural = "" if builtin.arity == 1 else "s"
                raise PolicyError(
                    f"{where}: {call.name} takes {builtin.arity} argument{plural}, called with {call.nargs}"
                )


# ---------------------------------------------------------------------------------------------
# The rule catalogue


def analyse(modules: Sequence[PolicyModule]) -> PolicyAnalysis:
    """Every static check on ``modules`` (rule and library modules, not tests), and the catalogue.

    Each module is known by its own identity (its position here, its origin and its path), never
    by a name two files could share: a user's file cannot lend its METADATA to a built-in rule.
    """
    _check_unique_paths(modules)
    infos = module_facts(modules)
    for module, info in zip(modules, infos, strict=True):
        if not module.builtin:
            check_user_namespace(module, info)
    annotations = [package_block(parse_blocks(m.path, m.text)) for m in modules]
    check_functions(infos)

    by_package: dict[str, list[tuple[PolicyModule, ModuleInfo, MetadataBlock | None]]] = {}
    for module, info, block in zip(modules, infos, annotations, strict=True):
        by_package.setdefault(info.package, []).append((module, info, block))
    builtin_ids = _builtin_ids(by_package)
    for module, info, block in zip(modules, infos, annotations, strict=True):
        if not module.builtin and block is not None:
            _check_user_annotation(module, info, block, builtin_ids)

    rules: list[RuleMeta] = []
    for package in sorted(by_package):
        prefix = rule_prefix(package)
        if prefix is None:
            continue
        members = by_package[package]
        annotated = [(m, i, b) for m, i, b in members if b is not None]
        if len(annotated) > 1:
            first, second = annotated[0], annotated[1]
            user = not (first[0].builtin and second[0].builtin)
            error = UsageError if user else PolicyError
            raise error(
                f"{second[2].file}:{second[2].line}: duplicate rule id {package[len(prefix) :]!r}: "
                f"package {package} is annotated here and in {first[2].file}:{first[2].line}",
                hint="each rule package is annotated once; rename one of the packages",
            )
        module, info, block = annotated[0] if annotated else members[0]
        # One annotation per package and one package per id within a namespace; across the two
        # namespaces _check_user_annotation and the check below keep the ids apart.
        meta = rule_annotations(block, package, module.path, info.package_line)
        if not module.builtin and meta.id in builtin_ids:
            raise UsageError(
                f"{module.path}:{meta.line}: rule id {meta.id!r} is the id of the built-in rule in "
                f"{builtin_ids[meta.id]}",
                hint=_OWN_ID_HINT,
            )
        rules.append(
            RuleMeta(
                id=meta.id,
                package=package,
                title=meta.title,
                description=meta.description,
                severity=meta.severity,
                requires=meta.requires,
                controls=meta.controls,
                remediation=meta.remediation,
                effective_on=meta.effective_on,
                environments=meta.environments,
                file=module.path,
                sha256=module.sha256,
                sets=_rule_sets(package, [(m, i) for m, i, _ in members]),
                builtin=module.builtin,
                cites=meta.cites,
            )
        )
    rules.sort(key=lambda r: r.id)
    return PolicyAnalysis(infos=infos, rules=tuple(rules))


_OWN_ID_HINT = (
    "an organisation's rule adds to the built-in ones and cannot replace or re-describe one: "
    f"give it an id of its own ('package {ORG_PREFIX}<id>' with that custom.id)"
)


def _check_unique_paths(modules: Sequence[PolicyModule]) -> None:
    """Refuse two modules reported under one name: every message and record must say which file."""
    seen: set[str] = set()
    for module in modules:
        if module.path in seen:
            raise PolicyError(f"two policy modules are both named {module.path}")
        seen.add(module.path)


def check_user_namespace(module: PolicyModule, info: ModuleInfo) -> None:
    """Refuse a user's module declaring a package in affidavit's own namespace.

    ``affidavit.rules`` and ``affidavit.lib`` hold the built-in rules and the helpers they import;
    a module of the same package would join them (a second definition of a helper, another
    ``deny``), so a user's rules live under ``affidavit.org.<id>`` and their helpers in any package
    outside ``affidavit``.
    """
    package = info.package
    reserved = package == RESERVED_ROOT or package.startswith(RESERVED_ROOT + ".")
    if reserved and rule_prefix(package) != ORG_PREFIX:
        raise UsageError(
            f"{module.path}:{info.package_line}: package {package} is in affidavit's own namespace, "
            "which a policy folder cannot add to",
            hint=(
                f"the built-in rules ({RULES_PREFIX}*) and helpers ({LIB_PREFIX}*) cannot be changed from "
                f"--policies: write a rule of your own as 'package {ORG_PREFIX}<id>' and a helper in a "
                f"package outside '{RESERVED_ROOT}'"
            ),
        )


def _builtin_ids(
    by_package: Mapping[str, Sequence[tuple[PolicyModule, ModuleInfo, MetadataBlock | None]]],
) -> dict[str, str]:
    """The id of every built-in rule package, with the file that describes it."""
    out: dict[str, str] = {}
    for package, members in by_package.items():
        prefix = rule_prefix(package)
        if prefix is None or not all(m.builtin for m, _, _ in members):
            continue
        annotated = [m for m, _, b in members if b is not None]
        out[package[len(prefix) :]] = (annotated or [members[0][0]])[0].path
    return out


def _check_user_annotation(
    module: PolicyModule, info: ModuleInfo, block: MetadataBlock, builtin_ids: Mapping[str, str]
) -> None:
    """A user's package annotation may describe a rule of its own package only, never a built-in one.

    A ``custom.id`` naming a built-in rule is refused wherever it is written (naming both files);
    affidavit's rule keys on a package that is not a rule package would be ignored, so they are
    refused as well rather than left to look as if they meant something.
    """
    custom = block.data.get("custom")
    if not isinstance(custom, Mapping):
        return
    declared = custom.get("id")
    if isinstance(declared, str) and declared.strip() in builtin_ids:
        raise UsageError(
            f"{block.file}:{block.key_line('custom', 'id')}: custom.id {declared.strip()!r} is the id of "
            f"the built-in rule in {builtin_ids[declared.strip()]}",
            hint=_OWN_ID_HINT,
        )
    if rule_prefix(info.package) is None:
        keys = [k for k in RULE_KEYS if k in custom]
        if keys:
            raise UsageError(
                f"{block.file}:{block.line}: METADATA describes a rule (custom.{keys[0]}) but package "
                f"{info.package} is not a rule package, so affidavit would ignore it",
                hint=f"an organisation's rules are 'package {ORG_PREFIX}<id>' with custom.id set to that id",
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


# ---------------------------------------------------------------------------------------------
# The analysis, cached by content hash (``policy.cache``)


def analyse_cached(modules: Sequence[PolicyModule]) -> PolicyAnalysis:
    """``analyse(modules)``, read from the user cache when the same modules were analysed before by
    the same code and regorus (``affidavit.policy.cache``); a failing analysis is never stored."""
    from affidavit.policy import cache

    name = cache.entry_key(
        "policy-analysis",
        [parser.regorus_version(), [[m.path, m.sha256, m.builtin] for m in modules]],
    )
    stored = cache.read_entry(name)
    if stored is not None:
        try:
            return analysis_from_json(stored)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # an entry that does not rebuild is ignored (and written again below)
    result = analyse(modules)
    cache.write_entry(name, analysis_to_json(result))
    return result


def analysis_to_json(analysis: PolicyAnalysis) -> dict[str, Any]:
    """Every field of ``analysis`` as JSON (``analysis_from_json`` rebuilds an equal value)."""
    return {
        "infos": [
            {
                "path": i.path,
                "package": i.package,
                "package_line": i.package_line,
                "imports": {alias: list(parts) for alias, parts in i.imports.items()},
                "rules": [[list(r.parts), r.kind, r.line] for r in i.rules],
                "calls": [[c.name, c.line, c.col, c.nargs] for c in i.calls],
                "refs": sorted(list(ref) for ref in i.refs),
            }
            for i in analysis.infos
        ],
        "rules": [
            {
                **rule.to_json(),
                "requires": [k.value for k in rule.requires],
                "cites": [k.value for k in rule.cites],
                "sets": list(rule.sets),
                "builtin": rule.builtin,
            }
            for rule in analysis.rules
        ],
    }


def analysis_from_json(value: dict[str, Any]) -> PolicyAnalysis:
    """The ``PolicyAnalysis`` ``analysis_to_json`` wrote; a malformed value raises ``KeyError``,
    ``TypeError`` or ``ValueError``."""
    import datetime as dt

    from affidavit.model import EvidenceKind, Severity
    from affidavit.policy.facts import Call, RuleDef

    infos = tuple(
        ModuleInfo(
            path=str(i["path"]),
            package=str(i["package"]),
            package_line=int(i["package_line"]),
            imports={str(alias): tuple(str(p) for p in parts) for alias, parts in i["imports"].items()},
            rules=tuple(
                RuleDef(tuple(str(p) for p in parts), str(kind), int(line))
                for parts, kind, line in i["rules"]
            ),
            calls=tuple(Call(str(n), int(line), int(col), int(nargs)) for n, line, col, nargs in i["calls"]),
            refs=frozenset(tuple(str(p) for p in ref) for ref in i["refs"]),
        )
        for i in value["infos"]
    )
    rules = tuple(
        RuleMeta(
            id=str(r["id"]),
            package=str(r["package"]),
            title=str(r["title"]),
            description=str(r["description"]),
            severity=Severity(r["severity"]),
            requires=tuple(EvidenceKind(k) for k in r["requires"]),
            controls={str(fw): tuple(str(c) for c in ids) for fw, ids in r["controls"].items()},
            remediation=str(r["remediation"]),
            effective_on=None if r["effective_on"] is None else dt.date.fromisoformat(r["effective_on"]),
            environments=None if r["environments"] is None else tuple(str(e) for e in r["environments"]),
            file=str(r["file"]),
            sha256=str(r["sha256"]),
            sets=tuple(str(s) for s in r["sets"]),
            builtin=bool(r["builtin"]),
            cites=tuple(EvidenceKind(k) for k in r.get("cites", ())),
        )
        for r in value["rules"]
    )
    return PolicyAnalysis(infos=infos, rules=rules)
