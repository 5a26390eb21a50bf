"""OPA's conformance cases for the built-ins affidavit supplies or relies on, against the list.

``tools/conformance.py`` runs the whole suite and writes
``tests/policy/conformance_expected_failures.txt``. Here the categories our extensions cover (and the
time/semver/net.cidr built-ins the policies use) must fail exactly the listed cases: a newly
passing case or a new failure both fail this test, so that an engine upgrade is a measured change.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

TOOL = Path(__file__).resolve().parents[2] / "tools" / "conformance.py"
CATEGORIES = ("crypto", "array", "time", "semver", "netcidr")
# Categories whose every case goes through one of our extensions once the output-argument form
# is rewritten (see tools/conformance.py --rewrite-output-args).
EXTENSION_CATEGORIES = (
    "array",
    "cryptohmacequal",
    "cryptohmacmd5",
    "cryptohmacsha1",
    "cryptohmacsha256",
    "cryptohmacsha512",
    "cryptomd5",
    "cryptosha1",
    "cryptosha256",
    "cryptox509parsecertificates",
)


@pytest.fixture(scope="module")
def conformance() -> ModuleType:
    """The conformance tool, imported from tools/ (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("affidavit_conformance_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert module.SUITE.is_dir(), f"{module.SUITE} is missing: ../shared must sit beside the repository"
    return module


def test_extension_categories_match_expected_failures(conformance: ModuleType) -> None:
    cases = conformance.load_cases(conformance.SUITE, CATEGORIES)
    assert len(cases) > 150
    results = conformance.run_cases(cases, jobs=2, timeout=20)
    failing = {c.name for c in cases if results[c.name]["status"] != "pass"}
    expected = {name for name in conformance.read_expected() if name.split("/", 1)[0].startswith(CATEGORIES)}
    newly_passing = sorted(expected - failing)
    new_failures = sorted(f"{n}: {results[n].get('detail')}" for n in failing - expected)
    assert not newly_passing, (
        f"remove from the expected-failures list (run tools/conformance.py): {newly_passing}"
    )
    assert not new_failures, f"new conformance failures: {new_failures}"
    # Sanity: the extensions do answer (hmac and array.flatten cases pass without rewriting).
    passed = {c.name for c in cases if results[c.name]["status"] == "pass"}
    assert any(n.startswith("cryptohmacsha256/") for n in passed)
    assert any(n.startswith("array/flatten.yaml") for n in passed)


def test_extension_results_match_opa_when_called_directly(conformance: ModuleType) -> None:
    cases = [
        c
        for c in conformance.load_cases(conformance.SUITE, EXTENSION_CATEGORIES)
        if c.category in EXTENSION_CATEGORIES
    ]
    results = conformance.run_cases(cases, rewrite=True, jobs=2, timeout=20)
    failing = {c.name: results[c.name].get("detail") for c in cases if results[c.name]["status"] != "pass"}
    assert failing == {}
    assert len(cases) == 46


def test_rewrite_only_touches_output_argument_calls(conformance: ModuleType) -> None:
    module = 'p if {\n\tcrypto.sha256("a, b", __local1__)\n\tx := crypto.hmac.sha256(input.m, input.k)\n}\n'
    assert conformance.rewrite_output_args(module) == (
        'p if {\n\t__local1__ = crypto.sha256("a, b")\n\tx := crypto.hmac.sha256(input.m, input.k)\n}\n'
    )
