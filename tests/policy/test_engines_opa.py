"""The OPA engine (the reference Rego implementation, in-process) and policy tests on both engines.

OPA is an optional install (``pip install --ignore-requires-python opa-golib-python-bindings``); these
tests are skipped, with that reason, only when it is absent.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import PolicyError
from affidavit.model import Outcome
from affidavit.policy.engines import ENGINES, make_engine
from affidavit.policy.engines.regorus import RegorusEngine
from affidavit.policy.evaluate import EvalContext, evaluate
from affidavit.policy.interface import Evaluation, PolicyEngine, PolicyModule, epoch_ns
from affidavit.policy.loader import load_policy_set
from affidavit.policy.params import load_params
from affidavit.policy.testing import run_on_engines, run_policy_tests

from .helpers import FIXTURES

pytest.importorskip(
    "opa_bindings", reason="OPA is optional: pip install --ignore-requires-python opa-golib-python-bindings"
)

from affidavit.policy.engines.opa import OpaEngine, opa_version  # noqa: E402

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def _module(text: str, path: str = "t.rego") -> PolicyModule:
    """A module from its text."""
    return PolicyModule.from_text(path, text)


def _both() -> list[PolicyEngine]:
    """One engine of each kind."""
    return [RegorusEngine(), OpaEngine()]


def test_http_send_never_reaches_the_network() -> None:
    """Hostile: a rule that tries to fetch (OPA's http.send is a real HTTP client,
    https://www.openpolicyagent.org/docs/policy-reference/#http) gets an error and no connection is made."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    seen: list[object] = []

    def accept() -> None:
        """Record any connection that arrives."""
        try:
            seen.append(listener.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    module = _module(
        'package p\n\nleak := http.send({"method": "get", "url": '
        f'"http://127.0.0.1:{port}/x"}})\n\nip := net.lookup_ip_addr("localhost")\n'
    )
    values = OpaEngine().evaluate([module], "{}", ["data.p.leak", "data.p.ip"], now=NOW)
    thread.join()
    listener.close()
    assert seen == []
    for path in ("data.p.leak", "data.p.ip"):
        assert values[path].error is not None and "is disabled in affidavit" in values[path].error
        assert not values[path].defined


def test_clock_is_the_runs_not_the_wall_clock() -> None:
    module = _module("package p\n\nnow := time.now_ns()\n\nset_ contains time.now_ns()\n")
    for engine in _both():
        values = engine.evaluate([module], "{}", ["data.p.now", "data.p.set_"], now=NOW)
        assert values["data.p.now"].value == epoch_ns(NOW), engine.name
        assert values["data.p.set_"].value == [epoch_ns(NOW)], engine.name


def test_one_rules_error_does_not_hide_the_others() -> None:
    module = _module(
        'package p\n\nbad contains x if { x := time.parse_rfc3339_ns(input.t) }\n\ngood contains "ok"\n'
    )
    for engine in _both():
        values = engine.evaluate(
            [module], json.dumps({"t": "not a time"}), ["data.p.bad", "data.p.good"], now=NOW
        )
        assert values["data.p.good"].value == ["ok"], engine.name
        assert values["data.p.bad"].error is not None and "parse" in values["data.p.bad"].error, engine.name


def test_an_error_never_repeats_evidence_content() -> None:
    """Hostile: OPA's built-ins quote the value they could not use (Go's %q: ``parsing time
    "..."``); the rule's error keeps the built-in's words and blanks the value, quotes and all."""
    module = _module("package p\n\nbad := time.parse_rfc3339_ns(input.t)\n")
    secret = 'ghp_0123456789abcdefSECRET" as "x'
    values = OpaEngine().evaluate([module], json.dumps({"t": secret}), ["data.p.bad"], now=NOW)
    error = values["data.p.bad"].error
    assert error is not None and "time.parse_rfc3339_ns" in error and error.startswith("t.rego:3:")
    assert "SECRET" not in error and "0123456789" not in error


def test_a_module_opa_cannot_compile_is_a_policy_error() -> None:
    """OPA refuses a local that shadows a built-in it then calls (``rego_compile_error: var upper
    referenced above``); regorus accepts it, so the library must not do it."""
    module = _module('package p\n\nx := y if {\n\tupper := concat("", [upper("a")])\n\ty := upper\n}\n')
    assert RegorusEngine().evaluate([module], "{}", ["data.p.x"], now=NOW)["data.p.x"].value == "A"
    with pytest.raises(PolicyError, match="var upper referenced above"):
        OpaEngine().evaluate([module], "{}", ["data.p.x"], now=NOW)
    with pytest.raises(PolicyError, match="bad.rego:3"):
        OpaEngine().evaluate([_module("package p\n\nx := := 1\n", "bad.rego")], "{}", ["data.p.x"], now=NOW)


def test_negated_call_on_an_undefined_argument_differs() -> None:
    """The difference the library avoids: OPA evaluates the arguments of a negated call before the
    negation (open-policy-agent/opa#1877), so ``not is_array(d.findings)`` is undefined when
    ``d.findings`` is, while regorus makes it true; ``object.get`` means the same on both."""
    module = _module(
        "package p\n\nraw if { d := input.d; not is_array(d.findings) }\n\n"
        'safe if { d := input.d; not is_array(object.get(d, "findings", null)) }\n'
    )
    inp = json.dumps({"d": {}})
    reg = RegorusEngine().evaluate([module], inp, ["data.p.raw", "data.p.safe"], now=NOW)
    opa = OpaEngine().evaluate([module], inp, ["data.p.raw", "data.p.safe"], now=NOW)
    assert reg["data.p.raw"].value is True and not opa["data.p.raw"].defined
    assert reg["data.p.safe"].value is True and opa["data.p.safe"].value is True


def test_library_malformed_helper_is_missing_on_both_engines() -> None:
    """A scan record without a findings list is ``missing`` (never clean) on both engines."""
    policy_set = load_policy_set(())
    record = {"id": "sha256:" + "1" * 64, "kind": "secret-scan", "source": "s.json", "data": {}}
    probe = _module(
        "package probe\n\nimport data.affidavit.lib.evidence\n\n"
        'm := evidence.malformed(input.rs, "findings")\n'
    )
    for engine in _both():
        values = engine.evaluate(
            [*policy_set.modules, probe], json.dumps({"rs": [record]}), ["data.probe.m"], now=NOW
        )
        (entry,) = values["data.probe.m"].value
        assert "has no data.findings list" in entry["msg"], engine.name


def test_builtin_rules_judge_empty_evidence_alike() -> None:
    """Every built-in rule gives the same outcome on both engines on empty evidence, in every environment."""
    policy_set = load_policy_set(())
    for environment in ("prod", "staging", "dev"):
        context = EvalContext(
            environment=environment,
            subject_name="ghcr.io/acme/shop",
            subject_digest="sha256:" + "a" * 64,
            now=NOW,
            commit="0" * 40,
            params=load_params(environment),
        )
        seen = {}
        for engine in _both():
            seen[engine.name] = {
                r.rule_id: (r.outcome, len(r.missing), len(r.violations))
                for r in evaluate(policy_set, [], context, engine)
            }
        assert seen["opa"] == seen["regorus"], environment
        assert all(outcome is not Outcome.PASS for outcome, _, _ in seen["opa"].values())


def test_registry_and_version() -> None:
    assert ENGINES["opa"] is OpaEngine
    engine = make_engine("opa")
    assert engine.name == "opa"
    assert opa_version().startswith("v1.")
    assert engine.version.startswith(opa_version() + " (opa-golib-python-bindings ")


def test_prints_are_gathered_not_written(capfd: pytest.CaptureFixture[str]) -> None:
    module = _module('package p\n\nx if { print("secret-looking text"); true }\n')
    assert OpaEngine().evaluate([module], "{}", ["data.p.x"], now=NOW)["data.p.x"].value is True
    out, err = capfd.readouterr()
    assert "secret-looking" not in out + err


def _fails_open_folder(tmp_path: Path) -> Path:
    """A rule whose test passes on regorus and not on OPA: it tells a missing list by
    ``not is_array(r.data.findings)``."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "scan.rego").write_text(
        "# METADATA\n# title: Fixture fxt.scan\n# description: A scan must list its findings.\n"
        "# custom:\n#   id: fxt.scan\n#   severity: high\n#   requires: [secret-scan]\n"
        "#   controls:\n#     soc2: [CC8.1]\n#   remediation: None.\n"
        "package affidavit.org.fxt.scan\n\n"
        'deny contains {"msg": "finding", "evidence_ids": [r.id]} if {\n'
        '\tsome r in input.evidence["secret-scan"]\n\tcount(r.data.findings) > 0\n}\n\n'
        'missing contains {"msg": "no findings list", "evidence_ids": [r.id]} if {\n'
        '\tsome r in input.evidence["secret-scan"]\n\tnot is_array(r.data.findings)\n}\n\n'
        'missing contains {"msg": "no scan", "evidence_ids": []} if count(input.evidence["secret-scan"]) == 0\n'
    )
    (folder / "scan_test.rego").write_text(
        "package affidavit.org.fxt.scan_test\n\nimport data.affidavit.org.fxt.scan\n\n"
        '_in(rs) := {"evidence": {"secret-scan": rs}, "context": {}}\n\n'
        'test_fires if count(scan.deny) == 1 with input as _in([{"id": "a", "data": {"findings": [1]}}])\n\n'
        'test_passes if {\n\tcount(scan.deny) == 0 with input as _in([{"id": "a", "data": {"findings": []}}])\n'
        '\tcount(scan.missing) == 0 with input as _in([{"id": "a", "data": {"findings": []}}])\n}\n\n'
        'test_missing_without_list if count(scan.missing) == 1 with input as _in([{"id": "a", "data": {}}])\n'
    )
    return folder


def test_policy_test_all_engines_catches_a_rule_that_fails_open_on_opa(tmp_path: Path) -> None:
    """Hostile: a rule author's test passes on regorus, but on OPA the rule passes a scan without a
    findings list; ``--engine all`` fails and names the test and each engine's verdict."""
    folder = _fails_open_folder(tmp_path)
    report = run_on_engines([folder])
    assert not report.ok
    by_engine = dict(report.reports)
    assert by_engine["regorus"].ok
    statuses = {t.name: t.status for t in by_engine["opa"].tests}
    assert statuses == {"test_fires": "pass", "test_passes": "pass", "test_missing_without_list": "fail"}
    (differ,) = report.disagreements()
    assert differ.endswith("test_missing_without_list (regorus: pass, opa: fail)")

    result = CliRunner().invoke(main, ["policy", "test", "--engine", "all", "--format", "json", str(folder)])
    assert result.exit_code == 1, result.output
    body = json.loads(result.output)
    assert body["ok"] is False and set(body["engines"]) == {"regorus", "opa"}
    assert body["engines"]["opa"]["engine"].startswith("opa v1.")
    assert len(body["disagreements"]) == 1

    fixed = (
        (folder / "scan.rego")
        .read_text()
        .replace("not is_array(r.data.findings)", 'not is_array(object.get(r.data, "findings", null))')
    )
    (folder / "scan.rego").write_text(fixed)
    again = CliRunner().invoke(main, ["policy", "test", "--engine", "all", str(folder)])
    assert again.exit_code == 0, again.output
    assert "tests that differ between engines: 0" in again.output


def test_opa_run_classifies_tests_as_regorus_does() -> None:
    """The batched OPA runner gives the same cases (status, fires, passes) as the per-test regorus one,
    on the good fixture and on the one with every kind of problem (a test that errors, a syntax error)."""
    for folder in ("testing_good", "testing_bad"):
        reg = run_policy_tests([FIXTURES / folder], engine=RegorusEngine())
        opa = run_policy_tests([FIXTURES / folder], engine=OpaEngine())
        shape = [(t.file, t.name, t.status, t.fires, t.passes) for t in reg.tests]
        assert [(t.file, t.name, t.status, t.fires, t.passes) for t in opa.tests] == shape, folder
        assert [(r.rule_id, r.ok) for r in opa.rules] == [(r.rule_id, r.ok) for r in reg.rules], folder
        assert len(opa.file_errors) == len(reg.file_errors), folder


REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "evidence" / "demo"


@pytest.mark.parametrize("release", ["go", "no-go"])
def test_demo_releases_are_judged_alike_on_both_engines(release: str) -> None:
    """The demo gate (Makefile's GATE) run on each engine: the same decision, and every rule the
    same outcome with the same messages."""
    import contextlib

    from affidavit.pipeline import GateRequest, run_gate

    runs = {}
    for engine in ("regorus", "opa"):
        request = GateRequest(
            evidence_paths=(DEMO / release,),
            environment="prod",
            subject_name="ghcr.io/acme/shop",
            subject_digest=(DEMO / "SUBJECT_DIGEST").read_text().strip(),
            now=dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC),
            replay=True,
            commit=(DEMO / "COMMIT").read_text().strip(),
            param_files=(DEMO / "params.yaml",),
            public_key=DEMO / "cosign.pub",
            engine=engine,
        )
        with contextlib.chdir(REPO):
            runs[engine] = run_gate(request).run
    reg, opa = runs["regorus"], runs["opa"]
    assert opa.engine.name == "opa" and reg.engine.name == "regorus"
    assert opa.decision == reg.decision
    assert opa.decision.value == ("GO" if release == "go" else "NO-GO")
    assert opa.to_json()["rules"] == reg.to_json()["rules"]


@pytest.fixture(scope="module")
def demo_input() -> tuple[dict[str, object], list[str], tuple[PolicyModule, ...]]:
    """The demo NO-GO release's policy input (as the gate builds it), the rule set paths, the modules."""
    import contextlib

    from affidavit.pipeline import GateRequest, run_gate
    from affidavit.policy.evaluate import input_json

    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    commit = (DEMO / "COMMIT").read_text().strip()
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    request = GateRequest(
        evidence_paths=(DEMO / "no-go",),
        environment="prod",
        subject_name="ghcr.io/acme/shop",
        subject_digest=digest,
        now=now,
        replay=True,
        commit=commit,
        param_files=(DEMO / "params.yaml",),
        public_key=DEMO / "cosign.pub",
    )
    with contextlib.chdir(REPO):
        judged = run_gate(request)
    context = EvalContext(
        environment="prod",
        subject_name="ghcr.io/acme/shop",
        subject_digest=digest,
        now=now,
        commit=commit,
        params=load_params("prod", [DEMO / "params.yaml"]),
    )
    policy_set = load_policy_set(())
    paths = [f"{r.data_path}.{s}" for r in policy_set.rules for s in r.sets]
    return json.loads(input_json(judged.evidence, context)), paths, policy_set.modules


@pytest.mark.parametrize(
    ("kind", "where", "field"),
    [
        ("sbom", (), "effective_at"),
        ("change-record", ("data",), "requested_by"),
        ("secret-scan", ("data",), "findings"),
        ("terraform-plan", ("data",), "resource_changes"),
    ],
)
def test_a_record_missing_a_field_is_judged_alike(
    demo_input: tuple[dict[str, Any], list[str], tuple[PolicyModule, ...]],
    kind: str,
    where: tuple[str, ...],
    field: str,
) -> None:
    """Hostile: a record of the demo release with one field left out (as a sloppy pipeline or an
    older collector would give it) gets the same value of every rule set on both engines; these
    are the fields whose absence OPA read differently before the library was fixed."""
    inp, paths, modules = copy.deepcopy(demo_input)
    records = inp["evidence"][kind]
    assert records, kind
    for record in records:
        target = record
        for key in where:
            target = target[key]
        assert field in target
        del target[field]
    text = json.dumps(inp)
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    reg = RegorusEngine().evaluate(modules, text, paths, now=now)
    opa = OpaEngine().evaluate(modules, text, paths, now=now)

    def canonical(value: Evaluation) -> object:
        """An evaluation as comparable data (set members in a stable order)."""
        if value.error is not None:
            return "error"
        if not value.defined:
            return "undefined"
        return sorted(json.dumps(v, sort_keys=True) for v in value.value)

    differ = [p for p in paths if canonical(reg[p]) != canonical(opa[p])]
    assert differ == []
    # The field's absence changes some verdict (the case is not one no rule looks at).
    before = RegorusEngine().evaluate(modules, json.dumps(demo_input[0]), paths, now=now)
    assert any(canonical(before[p]) != canonical(reg[p]) for p in paths)


def test_a_test_that_errors_only_under_a_mutation_is_classified_as_on_regorus(tmp_path: Path) -> None:
    """One test raises when the rule is forced to fire (the invented message is no number): on OPA the
    whole mutated package document errors, and each test is then asked alone, so both engines
    credit the same tests with making the rule fire and pass."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "num.rego").write_text(
        "# METADATA\n# title: Fixture fxt.num\n# description: Numbered findings.\n"
        "# custom:\n#   id: fxt.num\n#   severity: high\n#   requires: [sast]\n"
        "#   controls:\n#     soc2: [CC8.1]\n#   remediation: None.\n"
        "package affidavit.org.fxt.num\n\n"
        'deny contains {"msg": f, "evidence_ids": []} if some f in input.evidence.sast[0].data.findings\n\n'
        'missing contains {"msg": "no scan", "evidence_ids": []} if count(input.evidence.sast) == 0\n'
    )
    (folder / "num_test.rego").write_text(
        "package affidavit.org.fxt.num_test\n\nimport data.affidavit.org.fxt.num\n\n"
        '_in(fs) := {"evidence": {"sast": [{"id": "a", "data": {"findings": fs}}]}, "context": {}}\n\n'
        'test_number if {\n\tsome v in num.deny with input as _in(["1"])\n\tto_number(v.msg) == 1\n}\n\n'
        "test_clean if count(num.deny) == 0 with input as _in([])\n\n"
        'test_missing if count(num.missing) == 1 with input as {"evidence": {"sast": []}, "context": {}}\n'
    )
    reg = run_policy_tests([folder], engine=RegorusEngine())
    opa = run_policy_tests([folder], engine=OpaEngine())
    shape = [(t.name, t.status, t.fires, t.passes) for t in reg.tests]
    assert shape == [
        ("test_number", "pass", ("fxt.num",), ()),
        ("test_clean", "pass", (), ("fxt.num",)),
        ("test_missing", "pass", ("fxt.num",), ()),
    ]
    assert [(t.name, t.status, t.fires, t.passes) for t in opa.tests] == shape
