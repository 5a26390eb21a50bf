"""Rule data per environment: thresholds and lists the rules read from ``input.context.params``.

The built-in file is ``policies/params.yaml``; users add override files of the same shape::

    defaults:            # applies to every environment
      sbom: {min_purl_share: 0.9}
    environments:
      prod:    {...}     # merged over the defaults
      staging: {...}
      dev:     {...}

``load_params(environment, overrides)`` deep-merges the defaults, the environment's block, then each
override file's defaults and environment block, in order. Mappings merge key by key; lists and
scalars replace. Dates are passed on as ISO strings (the Rego input is JSON).

This module is the one place that checks the shape of rule data (``check_rule_data``), merges it
(``load_params``) and lists what differs from the built-in (``diff_rule_data``): a configuration
file's ``rule_data`` section (``affidavit.config``) goes through the same code as a ``--params``
file, as one more layer between the built-in data and the ``--params`` files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from affidavit.artefact import YamlError, load_yaml, read_user_file
from affidavit.errors import Error, InputError, PolicyError, UsageError
from affidavit.resources import builtin_policies_dir

if TYPE_CHECKING:
    from pathlib import Path

PARAMS_FILE = "params.yaml"
_TOP_KEYS = frozenset({"defaults", "environments"})

#: Other names people give the built-in environments; resolved before any rule sees them, so that
#: ``--environment production`` is judged as ``prod`` and never as an unknown, unconfigured place.
ALIASES: Mapping[str, str] = {
    "production": "prod",
    "prd": "prod",
    "stage": "staging",
    "stg": "staging",
    "development": "dev",
}


def resolve_environment(name: str) -> str:
    """The environment ``name`` means: an alias becomes its environment; case and spaces ignored."""
    key = name.strip().lower()
    return ALIASES.get(key, key)


def builtin_params_path() -> Path:
    """The built-in rule data file."""
    return builtin_policies_dir() / PARAMS_FILE


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: mappings recursively, everything else replaced."""
    out: dict[str, Any] = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, tuples to lists, keys to strings: the shape the Rego input needs."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def read_params_file(path: Path) -> dict[str, Any]:
    """One params file, checked for the ``{defaults, environments}`` shape."""
    try:
        data = read_user_file(path)  # a FIFO, a device or an oversized file is refused unread
    except InputError as exc:
        raise PolicyError(f"{path}: cannot read rule data: the file {exc.detail}") from None
    try:
        raw = load_yaml(data.decode("utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: rule data is not UTF-8 text (byte offset {exc.start})") from None
    except YamlError as exc:
        where = f"{path}:{exc.line}" if exc.line is not None else str(path)
        raise PolicyError(f"{where}: rule data is not valid YAML: {exc.problem}") from None
    return check_rule_data(raw, str(path))


def check_rule_data(
    raw: Any, where: str, *, section: str | None = None, error: type[Error] = PolicyError
) -> dict[str, Any]:
    """``raw`` checked for the ``{defaults, environments}`` shape and made JSON-shaped; ``None`` is
    empty rule data. ``where`` names the file in every message; ``section`` is the key the rule
    data sits under in it (``rule_data`` in a configuration file; ``None``: the whole file, a
    ``--params`` file); problems are raised as ``error`` (a configuration's are usage errors)."""
    whole = "rule data" if section is None else section

    def key(name: str) -> str:
        return f"'{name}'" if section is None else f"{section}.{name}"

    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise error(f"{where}: {whole} must be a mapping with 'defaults' and 'environments'")
    unknown = sorted(str(k) for k in raw if k not in _TOP_KEYS)
    if unknown:
        raise error(
            f"{where}: unknown {'top-level' if section is None else section} key(s) {', '.join(unknown)}",
            hint=f"{whole} has 'defaults:' and 'environments: {{prod: ..., staging: ..., dev: ...}}' "
            "(docs/params.md)",
        )
    defaults = raw.get("defaults") or {}
    environments = raw.get("environments") or {}
    if not isinstance(defaults, dict):
        raise error(f"{where}: {key('defaults')} must be a mapping")
    if not isinstance(environments, dict) or not all(
        isinstance(v, dict | None) for v in environments.values()
    ):
        raise error(f"{where}: {key('environments')} must map each environment name to a mapping")
    return {
        "defaults": jsonable(defaults),
        "environments": {str(k): jsonable(v or {}) for k, v in environments.items()},
    }


def known_environments(overrides: Sequence[Path] = (), base: Path | None = None) -> tuple[str, ...]:
    """The environments of the base rule data, sorted (override files may not add any; they are
    read here so that one that tries is refused)."""
    names = read_params_file(base or builtin_params_path())["environments"]
    if overrides:
        load_params(sorted(names)[0], overrides, base=base)  # refuses an invented environment
    return tuple(sorted(names))


def load_params(
    environment: str,
    overrides: Sequence[Path] = (),
    *,
    base: Path | None = None,
    layer: Mapping[str, Any] | None = None,
    resolve: Callable[[str], str] = resolve_environment,
) -> dict[str, Any]:
    """The rule data for ``environment`` (``input.context.params``), see the module docstring.

    Only the base file (the built-in rule data) defines environments. An override file may change
    the rule data of those environments (under their names or their aliases) but never add one:
    a ``production`` block that is not ``prod`` would otherwise make every prod-only rule not
    applicable.

    ``layer``: rule data already checked (``check_rule_data``, and its environments by its owner:
    a configuration file's section) merged between the base and the override files; ``resolve``
    names the environment a block of it is for (the configuration's aliases first). Each file is
    read once.
    """
    files = [base or builtin_params_path(), *overrides]
    parsed = [(path, read_params_file(path)) for path in files]
    known = sorted(parsed[0][1]["environments"])
    for path, content in parsed[1:]:
        for name in content["environments"]:
            if resolve_environment(name) not in known:
                raise UsageError(
                    f"{path}: defines rule data for an environment {name!r} that affidavit does not know "
                    f"(known: {', '.join(known)})",
                    hint="override the rule data of a known environment; aliases such as production = prod are resolved",
                )
    wanted = resolve_environment(environment)
    if wanted not in known:
        raise UsageError(
            f"unknown environment {environment!r}; the rule data knows {', '.join(known) or 'no environment'}",
            hint="pass --environment with one of those (aliases: "
            + ", ".join(f"{a} = {e}" for a, e in sorted(ALIASES.items()))
            + ")",
        )
    layers: list[Mapping[str, Any]] = [content for _, content in parsed]
    if layer is not None:
        layers.insert(1, layer)
    merged: dict[str, Any] = {}
    for data in layers:
        merged = deep_merge(merged, data.get("defaults") or {})
        for name, block in sorted((data.get("environments") or {}).items()):
            if resolve(str(name)) == wanted:
                merged = deep_merge(merged, block)
    return merged


def rule_data_changes(
    environment: str, overrides: Sequence[Path], *, base: Path | None = None
) -> list[tuple[str, Any, Any]]:
    """Each rule-data key whose value the override files change for ``environment``:
    ``(dotted key, built-in value, value in force)``, sorted by key; a key the built-in data lacks
    has ``None`` as its built-in value."""
    if not overrides:
        return []
    return diff_rule_data(
        load_params(environment, (), base=base), load_params(environment, overrides, base=base)
    )


def diff_rule_data(builtin: Mapping[str, Any], effective: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Each dotted key whose value differs between ``builtin`` and ``effective`` rule data:
    ``(key, built-in value, value in force)``, sorted by key (``None`` for a key one side lacks)."""
    changes: list[tuple[str, Any, Any]] = []
    _diff("", builtin, effective, changes)
    return sorted(changes, key=lambda c: c[0])


def _diff(prefix: str, before: Any, after: Any, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            _diff(f"{prefix}.{key}" if prefix else str(key), before.get(key), after.get(key), out)
    elif before != after:
        out.append((prefix, before, after))
