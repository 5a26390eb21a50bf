"""The policy engine interface: evaluation, and nothing else.

An engine is given the policy modules, one input document, the rule paths to evaluate and the run's
clock, and answers with each path's value, ``undefined`` or error. That is all the gate needs from
it, and all a remote server can offer, so an in-process engine (regorus, the default) and a remote
OPA server implement it alike. For OPA's REST API (https://www.openpolicyagent.org/docs/rest-api)
the mapping is direct:

- each module is pushed with ``PUT /v1/policies/{id}`` (the module's ``path`` is a good id, its
  ``sha256`` tells whether the server already holds that text);
- each path ``data.a.b.deny`` is ``POST /v1/data/a/b/deny`` with ``{"input": <input>}``: a response
  with ``result`` is the value, one without is undefined, an error response is that path's error.
  Paths are evaluated one by one, so one rule's error never hides another's result;
- ``now`` is the time ``time.now_ns()`` must return. A server that cannot pin its clock still
  evaluates affidavit's rules correctly: they read the run's time from ``input.context.now``
  (``policies/lib/dates.rego``); only a user's rule calling ``time.now_ns()`` itself would differ.

What is not here, on purpose: reading the policy text (module facts, unknown built-ins, METADATA)
is ``affidavit.policy.analysis``, done on the text whatever engine evaluates; the stateful session
that ``affidavit policy test`` needs (adding test modules, ``print`` output, coverage) is a
capability of the regorus engine (``RegorusEngine.session``), not part of this interface.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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
class Evaluation:
    """The value of one rule path: a JSON value, undefined, or an error message."""

    value: Any = None
    defined: bool = True
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the engine produced a value or undefined, without an error."""
        return self.error is None


def epoch_ns(moment: dt.datetime) -> int:
    """An aware datetime in integer nanoseconds since the Unix epoch (what ``time.now_ns()`` returns).

    Computed without floats, so that microseconds survive exactly.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the engine clock must be timezone-aware (UTC)")
    delta = moment.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@runtime_checkable
class PolicyEngine(Protocol):
    """A Rego engine as the gate uses it: a name and version for the record, and ``evaluate``."""

    @property
    def name(self) -> str:
        """Short engine name (``regorus``), recorded in every bundle."""
        ...

    @property
    def version(self) -> str:
        """Version of the engine (package or server), recorded in every bundle."""
        ...

    def evaluate(
        self,
        modules: Sequence[PolicyModule],
        input_json: str,
        paths: Sequence[str],
        *,
        now: dt.datetime,
    ) -> Mapping[str, Evaluation]:
        """Evaluate each rule path (``data.pkg.rule``) on its own against one input.

        ``input_json`` is the input document as JSON text; ``now`` (aware) is the run's clock. The
        answer has one entry per path: its value, ``Evaluation(defined=False)`` when the rule has
        none, or ``Evaluation(defined=False, error=...)`` when that path failed, so that one rule's
        error never hides another's result. A problem with the modules or the input as a whole
        (a syntax error, an unreachable server) is raised as ``PolicyError`` or ``EngineError``.
        """
        ...
