"""The policy engines affidavit can evaluate with: an explicit table, one entry per engine.

An engine implements ``affidavit.policy.interface.PolicyEngine`` (evaluation only). ``regorus`` is
the default; ``opa`` is the reference engine, in-process (an optional dependency: see
``affidavit.policy.engines.opa`` and docs/engines.md). A remote OPA server would be one more entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from affidavit.errors import UsageError
from affidavit.policy.engines.opa import OpaEngine
from affidavit.policy.engines.regorus import RegorusEngine

if TYPE_CHECKING:
    from affidavit.policy.interface import PolicyEngine

DEFAULT_ENGINE = "regorus"

#: Engine name -> a constructor taking no argument.
ENGINES: Mapping[str, Callable[[], PolicyEngine]] = {"regorus": RegorusEngine, "opa": OpaEngine}


def make_engine(name: str = DEFAULT_ENGINE) -> PolicyEngine:
    """A new engine of the given name; ``UsageError`` for a name the table does not hold."""
    factory = ENGINES.get(name)
    if factory is None:
        raise UsageError(f"unknown policy engine {name!r}", hint=f"engines are {', '.join(sorted(ENGINES))}")
    return factory()
