"""The engine interface is evaluation only: other engines plug into the gate's evaluation.

Two engines besides ``RegorusEngine`` are used through ``affidavit.policy.evaluate.evaluate``:

- ``EvaluateOnly`` wraps the regorus engine but exposes nothing except ``name``, ``version`` and
  ``evaluate`` (slots, no other attribute), so evaluation cannot lean on a session, a parser or a
  built-in probe;
- ``OpaRestShaped`` answers like an OPA server's REST API would: policies pushed with
  ``PUT /v1/policies/{id}``, each path asked with ``POST /v1/data/...`` and ``{"input": ...}``, and
  canned responses (``{"result": ...}``, ``{}`` for undefined, an error object) turned into values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from affidavit.errors import UsageError
from affidavit.model import EvidenceKind, Outcome, RuleResult
from affidavit.policy import engines
from affidavit.policy.engines import DEFAULT_ENGINE, ENGINES, make_engine
from affidavit.policy.engines.opa import OpaEngine
from affidavit.policy.engines.regorus import RegorusEngine
from affidavit.policy.evaluate import EvalContext, evaluate
from affidavit.policy.interface import Evaluation, PolicyEngine, PolicyModule
from affidavit.policy.loader import PolicySet, load_policy_set

from .helpers import FIXTURES, NOW, SUBJECT_DIGEST, evidence

SBOM_BAD = evidence(EvidenceKind.SBOM, 1, {"bad": True, "components": [1]}, source="sbom-bad.json")
SBOM_OLD = evidence(EvidenceKind.SBOM, 2, {"old": True, "components": [1]}, source="sbom-old.json")
SCAN = evidence(EvidenceKind.VULNERABILITY_SCAN, 4, {"findings": []}, source="trivy.json")
CONTEXT = EvalContext(
    environment="prod",
    subject_name="ghcr.io/acme/shop",
    subject_digest=SUBJECT_DIGEST,
    now=NOW,
    commit="9c4e2f7a1b3d5e6f708192a3b4c5d6e7f8091a2b",
    params={"limit": 3},
)


class EvaluateOnly:
    """The smallest engine: the regorus engine's ``evaluate`` and nothing else of it."""

    __slots__ = ("_inner", "calls")

    def __init__(self) -> None:
        self._inner = RegorusEngine()
        self.calls: list[tuple[int, tuple[str, ...], dt.datetime]] = []

    @property
    def name(self) -> str:
        return "evaluate-only"

    @property
    def version(self) -> str:
        return "1"

    def evaluate(
        self, modules: Sequence[PolicyModule], input_json: str, paths: Sequence[str], *, now: dt.datetime
    ) -> Mapping[str, Evaluation]:
        self.calls.append((len(modules), tuple(paths), now))
        return self._inner.evaluate(modules, input_json, paths, now=now)


Transport = Callable[[str, str, Mapping[str, Any] | str], tuple[int, Mapping[str, Any]]]


class OpaRestShaped:
    """An engine speaking OPA's REST API through ``transport(method, url, body)``."""

    __slots__ = ("_pushed", "_transport")

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._pushed: dict[str, str] = {}

    @property
    def name(self) -> str:
        return "opa-rest"

    @property
    def version(self) -> str:
        return "0.0-test"

    def evaluate(
        self, modules: Sequence[PolicyModule], input_json: str, paths: Sequence[str], *, now: dt.datetime
    ) -> Mapping[str, Evaluation]:
        for module in modules:
            if self._pushed.get(module.path) != module.sha256:
                status, _ = self._transport("PUT", f"/v1/policies/{module.path}", module.text)
                assert status == 200
                self._pushed[module.path] = module.sha256
        document = json.loads(input_json)
        out: dict[str, Evaluation] = {}
        for path in paths:
            url = "/v1/data/" + "/".join(path.split(".")[1:])
            status, body = self._transport("POST", url, {"input": document})
            if status != 200:
                out[path] = Evaluation(defined=False, error=f"{body.get('code')}: {body.get('message')}")
            elif "result" in body:
                out[path] = Evaluation(value=body["result"])
            else:
                out[path] = Evaluation(defined=False)
        return out


@pytest.fixture(scope="module")
def fixtures() -> PolicySet:
    """The fixture rules of tests/policy/fixtures/rules (loaded without any engine)."""
    return load_policy_set([FIXTURES / "rules"], include_builtin=False)


def _outcomes(results: list[RuleResult]) -> dict[str, tuple[Outcome, str | None]]:
    return {r.rule_id: (r.outcome, r.error) for r in results}


def test_both_engines_satisfy_the_interface() -> None:
    transport: Transport = lambda method, url, body: (200, {})  # noqa: E731
    engines: list[PolicyEngine] = [RegorusEngine(), EvaluateOnly(), OpaRestShaped(transport)]
    for engine in engines:
        assert isinstance(engine, PolicyEngine)
    # What the interface does not ask for, the minimal engines do not have.
    for attribute in ("session", "analyse", "function"):
        assert not hasattr(EvaluateOnly(), attribute)
        assert not hasattr(OpaRestShaped(transport), attribute)


def test_evaluation_through_the_minimal_engine_equals_regorus(fixtures: PolicySet) -> None:
    records = [SBOM_BAD, SBOM_OLD, SCAN]
    staging = dataclasses.replace(CONTEXT, environment="staging")
    minimal = EvaluateOnly()
    through_minimal = evaluate(fixtures, records, staging, engine=minimal)
    direct = evaluate(fixtures, records, staging, engine=RegorusEngine())
    assert through_minimal == direct
    # The comparison has something to compare: the fixtures fail, warn, error (a panic included)
    # and are not applicable.
    outcomes = _outcomes(direct)
    assert {o for o, _ in outcomes.values()} >= {Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE}
    panic = outcomes["fx.panics"][1]
    assert panic is not None and "engine panic" in panic
    # One call for the whole run, with the rule sets of the applicable rules and the run's clock.
    ((n_modules, paths, now),) = minimal.calls
    assert n_modules == len(fixtures.modules)
    assert now == NOW
    applicable = [r for r in fixtures.rules if r.environments is None or "staging" in r.environments]
    assert "fx.prod_only" not in {r.id for r in applicable}
    assert sorted(paths) == sorted(f"{r.data_path}.{s}" for r in applicable for s in r.sets)


def test_rest_shaped_engine_values_undefined_and_errors(fixtures: PolicySet) -> None:
    """Canned OPA responses: a value, an undefined document, an error for one rule only."""
    requests: list[tuple[str, str]] = []
    sbom_rule = fixtures.rule("fx.sbom_check")
    erroring = fixtures.rule("fx.to_number_error")
    violation = {"msg": "SBOM sbom-bad.json is bad", "evidence_ids": [SBOM_BAD.id]}

    def transport(method: str, url: str, body: Mapping[str, Any] | str) -> tuple[int, Mapping[str, Any]]:
        requests.append((method, url))
        if method == "PUT":
            assert isinstance(body, str) and body.lstrip().startswith(("#", "package"))
            return 200, {}
        assert isinstance(body, Mapping) and body["input"]["context"]["now"] == "2026-11-22T12:00:00Z"
        path = "data." + url.removeprefix("/v1/data/").replace("/", ".")
        if path == f"{sbom_rule.data_path}.deny":
            return 200, {"result": [violation]}
        if path.startswith(erroring.data_path):
            return 500, {"code": "internal_error", "message": "to_number: invalid syntax"}
        if path.endswith(".deny") or path.endswith(".missing") or path.endswith(".warn"):
            return 200, {"result": []}
        return 200, {}  # pragma: no cover - every path asked for is a rule set

    engine = OpaRestShaped(transport)
    results = {r.rule_id: r for r in evaluate(fixtures, [SBOM_BAD], CONTEXT, engine=engine)}
    assert results["fx.sbom_check"].outcome is Outcome.FAIL
    assert [v.to_json() for v in results["fx.sbom_check"].violations] == [violation]
    # One rule's error is that rule's: the others are judged.
    assert results["fx.to_number_error"].outcome is Outcome.ERROR
    assert results["fx.to_number_error"].error is not None
    assert "internal_error: to_number: invalid syntax" in results["fx.to_number_error"].error
    assert sum(r.outcome is Outcome.ERROR for r in results.values()) == 1
    # Every module was pushed once, and each rule set asked for on its own.
    puts = [url for method, url in requests if method == "PUT"]
    assert sorted(puts) == sorted(f"/v1/policies/{m.path}" for m in fixtures.modules)
    posts = [url for method, url in requests if method == "POST"]
    assert len(posts) == len(set(posts)) > len(fixtures.rules)
    # A second run pushes nothing again.
    requests.clear()
    evaluate(fixtures, [SBOM_BAD], CONTEXT, engine=engine)
    assert not [r for r in requests if r[0] == "PUT"]


def test_undefined_sets_read_as_empty_and_a_missing_answer_is_an_error(fixtures: PolicySet) -> None:
    """An engine that says "undefined" for every set, and forgets one path altogether."""
    forgotten = f"{fixtures.rule('fx.sbom_check').data_path}.deny"

    class Forgetful:
        __slots__ = ()
        name = "forgetful"
        version = "1"

        def evaluate(
            self, modules: Sequence[PolicyModule], input_json: str, paths: Sequence[str], *, now: dt.datetime
        ) -> Mapping[str, Evaluation]:
            return {p: Evaluation(defined=False) for p in paths if p != forgotten}

    results = {r.rule_id: r for r in evaluate(fixtures, [SBOM_BAD, SCAN], CONTEXT, engine=Forgetful())}
    broken = results["fx.sbom_check"]
    assert broken.outcome is Outcome.ERROR
    assert broken.error == "deny: the policy engine returned no answer for this rule set"
    others = {r.outcome for rid, r in results.items() if rid != "fx.sbom_check"}
    assert Outcome.ERROR not in others
    assert Outcome.PASS in others


def test_the_engine_clock_must_be_aware() -> None:
    module = PolicyModule.from_text("t.rego", "package t\n\nx := time.now_ns()\n")
    with pytest.raises(ValueError, match="timezone-aware"):
        RegorusEngine().evaluate([module], "{}", ["data.t.x"], now=dt.datetime(2026, 1, 1))
    at = dataclasses.replace(
        CONTEXT, now=dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    (value,) = RegorusEngine().evaluate([module], "{}", ["data.t.x"], now=at.now).values()
    assert value.value == int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def test_the_engine_table_is_complete() -> None:
    """Every class in affidavit.policy.engines that implements the interface is in ENGINES."""
    found: set[type] = set()
    for info in pkgutil.iter_modules(engines.__path__):
        module = importlib.import_module(f"{engines.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and all(
                hasattr(cls, a) for a in ("name", "version", "evaluate")
            ):
                found.add(cls)
    assert found == set(ENGINES.values()) == {RegorusEngine, OpaEngine}
    assert isinstance(make_engine(), RegorusEngine)
    assert make_engine().name == DEFAULT_ENGINE
    with pytest.raises(UsageError, match="unknown policy engine 'nope'"):
        make_engine("nope")
