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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from affidavit.artefact import YamlError, load_yaml
from affidavit.errors import PolicyError, UsageError
from affidavit.resources import builtin_policies_dir

if TYPE_CHECKING:
    from pathlib import Path

PARAMS_FILE = "params.yaml"
_TOP_KEYS = frozenset({"defaults", "environments"})


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


def _jsonable(value: Any) -> Any:
    """Dates to ISO strings, tuples to lists, keys to strings: the shape the Rego input needs."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def read_params_file(path: Path) -> dict[str, Any]:
    """One params file, checked for the ``{defaults, environments}`` shape."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read rule data: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: rule data is not UTF-8 text (byte offset {exc.start})") from None
    except YamlError as exc:
        where = f"{path}:{exc.line}" if exc.line is not None else str(path)
        raise PolicyError(f"{where}: rule data is not valid YAML: {exc.problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: rule data must be a mapping with 'defaults' and 'environments'")
    unknown = sorted(str(k) for k in raw if k not in _TOP_KEYS)
    if unknown:
        raise PolicyError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}",
            hint="the file has 'defaults:' and 'environments: {prod: ..., staging: ..., dev: ...}'",
        )
    defaults = raw.get("defaults") or {}
    environments = raw.get("environments") or {}
    if not isinstance(defaults, dict):
        raise PolicyError(f"{path}: 'defaults' must be a mapping")
    if not isinstance(environments, dict) or not all(
        isinstance(v, dict | None) for v in environments.values()
    ):
        raise PolicyError(f"{path}: 'environments' must map each environment name to a mapping")
    return {
        "defaults": _jsonable(defaults),
        "environments": {str(k): _jsonable(v or {}) for k, v in environments.items()},
    }


def known_environments(overrides: Sequence[Path] = (), base: Path | None = None) -> tuple[str, ...]:
    """Every environment named by the base file or an override, sorted."""
    files = [base or builtin_params_path(), *overrides]
    names: set[str] = set()
    for path in files:
        names.update(read_params_file(path)["environments"])
    return tuple(sorted(names))


def load_params(
    environment: str, overrides: Sequence[Path] = (), *, base: Path | None = None
) -> dict[str, Any]:
    """The rule data for ``environment`` (``input.context.params``), see the module docstring."""
    files = [base or builtin_params_path(), *overrides]
    parsed = [(path, read_params_file(path)) for path in files]
    known = sorted({name for _, content in parsed for name in content["environments"]})
    if environment not in known:
        raise UsageError(
            f"unknown environment {environment!r}; the rule data knows {', '.join(known) or 'no environment'}",
            hint="pass --environment with one of those, or add the environment to a params override file",
        )
    merged: dict[str, Any] = {}
    for _, content in parsed:
        merged = deep_merge(merged, content["defaults"])
        merged = deep_merge(merged, content["environments"].get(environment, {}))
    return merged
