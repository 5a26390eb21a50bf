"""Attacks through ``--policies`` (issue 9, finding 1): a user's folder must only add findings.

An organisation's rules live in their own namespace (``package affidavit.org.<id>``). A user's
module can never enter the built-in namespaces (``affidavit.rules``, ``affidavit.lib``), re-describe a
built-in rule (its METADATA, ``effective_on``, ``environments``) or take a built-in rule's id; each
attempt is a usage error (exit 2) naming the files involved, and a user rule that loads leaves every
built-in outcome exactly as it is without it.

Rego and its annotations as documented by OPA:
https://www.openpolicyagent.org/docs/policy-language and
https://www.openpolicyagent.org/docs/policy-language#metadata (``# METADATA`` blocks).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from affidavit.resources import builtin_policies_dir
from tests.attacks.support import GateResult, gate, release

BUILTIN = builtin_policies_dir()


def _builtin_rule_files() -> list[Path]:
    """Every built-in rule module (not the library, not the tests), relative to policies/."""
    return sorted(
        p.relative_to(BUILTIN)
        for p in BUILTIN.rglob("*.rego")
        if p.relative_to(BUILTIN).parts[0] != "lib" and not p.name.endswith("_test.rego")
    )


def _metadata(rel: Path) -> str:
    """The ``# METADATA`` block written above the package line of a built-in rule module."""
    text = (BUILTIN / rel).read_text(encoding="utf-8")
    head, _, _ = text.partition("\npackage ")
    assert head.startswith("# METADATA\n"), rel
    return head + "\n"


def _outcomes(result: GateResult) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in result.results["rules"]}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each rule's outcome on the NO-GO demo without any user policy."""
    tmp = tmp_path_factory.mktemp("baseline")
    result = gate(tmp, release(tmp))
    assert result.exit_code == 1, result.stdout + result.stderr
    return _outcomes(result)


def _refused(result: GateResult, *names: str) -> None:
    """The attempt stopped the gate as a usage error naming ``names``; nothing was written."""
    assert result.exit_code == 2, result.stdout + result.stderr
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert not result.bundles


# ---------------------------------------------------------------------------------------------
# Finding 1 as reported: a folder at the built-in rules' relative paths, re-describing them


@pytest.mark.parametrize(
    "extra",
    ["#   effective_on: 2999-01-01\n", "#   environments: [nowhere]\n"],
    ids=["far-future-effective-on", "no-such-environment"],
)
@pytest.mark.parametrize("relative", [True, False], ids=["relative-folder", "absolute-folder"])
def test_a_folder_mirroring_the_builtin_paths_cannot_redescribe_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, relative: bool
) -> None:
    # Before the fix, METADATA was looked up by display path: "policies/secrets/no_secrets.rego"
    # named the built-in file and this user file alike (given as a relative folder 'policies'), so
    # the user's block described the built-in rule: GO, exit 0, every failure a grace-period warning.
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "policies"
    for n, rel in enumerate(_builtin_rule_files()):
        key = extra.split(":")[0].strip("# ")
        block = re.sub(rf"(?m)^#   {key}:.*\n", "", _metadata(rel))
        block = block.replace("# custom:\n", "# custom:\n" + extra, 1)
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"{block}package acme.mirror.m{n}\n\nok := true\n", encoding="utf-8")
    evidence = release(tmp_path)
    result = gate(tmp_path, evidence, "--policies", "policies" if relative else str(folder))
    first = _builtin_rule_files()[0].as_posix()
    _refused(result, str(folder / first), f"policies/{first}")


def test_affidavit_rule_keys_on_a_helper_package_are_refused(tmp_path: Path) -> None:
    # The same trick without the id: a helper package carrying affidavit's rule keys would
    # otherwise be ignored silently (or, before the fix, read as the built-in rule's METADATA).
    folder = tmp_path / "own" / "secrets"
    folder.mkdir(parents=True)
    (folder / "no_secrets.rego").write_text(
        "# METADATA\n# title: helper\n# custom:\n#   effective_on: 2999-01-01\n"
        "package acme.helpers\n\nok := true\n",
        encoding="utf-8",
    )
    result = gate(tmp_path, release(tmp_path), "--policies", str(tmp_path / "own"))
    _refused(result, str(folder / "no_secrets.rego"), "affidavit.org.")


# ---------------------------------------------------------------------------------------------
# Modules entering the built-in namespaces


@pytest.mark.parametrize(
    ("package", "body"),
    [
        # a second definition of the rule's own helper: true where the built-in one is undefined
        # (the leaked key), meant to count the finding as an accepted false positive; regorus
        # rejects a function split over modules at evaluation, OPA would merge them
        ("affidavit.rules.secrets.no_secrets", "_accepted(f) if is_object(f)\n"),
        ("affidavit.rules.secrets.no_secrets", "deny := set()\n"),
        ("affidavit.rules.secrets.no_secrets", 'deny contains "extra" if false\n'),
        ("affidavit.rules.secrets", "no_secrets := {}\n"),
        ("affidavit.rules", "ok := true\n"),
        ("affidavit", "rules := {}\n"),
        ("affidavit.lib.params", "enabled(area, key) if true\n"),
        ("affidavit.lib.evidence", 'records(kind) := [] if kind == "secret-scan"\n'),
        ("affidavit.lib.helpers_of_my_own", "x := 1\n"),
        ("affidavit.helpers", "x := 1\n"),
    ],
)
def test_a_user_module_cannot_enter_the_builtin_namespaces(tmp_path: Path, package: str, body: str) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "shadow.rego").write_text(f"package {package}\n\n{body}", encoding="utf-8")
    result = gate(tmp_path, release(tmp_path), "--policies", str(own))
    _refused(result, str(own / "shadow.rego"), f"package {package}")


# ---------------------------------------------------------------------------------------------
# Rule ids: a user's rule never takes a built-in id, and two user files never share one

_OWN = """\
# METADATA
# title: {title}
# description: An organisation's own check.
# custom:
#   id: {id}
#   severity: high
#   requires: []
#   controls:
#     soc2: [CC8.1]
#   remediation: Fix it.
#   effective_on: 2999-01-01
package {package}

{body}
"""
_NOTHING = 'warn contains "never" if false\n'


def test_a_user_rule_cannot_take_a_builtin_id(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "rule.rego").write_text(
        _OWN.format(
            title="Secrets",
            id="secrets.no_secrets",
            package="affidavit.org.secrets.no_secrets",
            body=_NOTHING,
        ),
        encoding="utf-8",
    )
    result = gate(tmp_path, release(tmp_path), "--policies", str(own))
    _refused(result, str(own / "rule.rego"), "policies/secrets/no_secrets.rego", "secrets.no_secrets")


def test_a_user_metadata_naming_a_builtin_id_on_another_package_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "rule.rego").write_text(
        _OWN.format(
            title="Secrets", id="secrets.no_secrets", package="affidavit.org.acme.quiet", body=_NOTHING
        ),
        encoding="utf-8",
    )
    result = gate(tmp_path, release(tmp_path), "--policies", str(own))
    _refused(result, str(own / "rule.rego"), "policies/secrets/no_secrets.rego", "secrets.no_secrets")


def test_two_user_files_with_one_rule_id_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "rule.rego").write_text(
            _OWN.format(title="Mine", id="acme.mine", package="affidavit.org.acme.mine", body=_NOTHING),
            encoding="utf-8",
        )
    result = gate(tmp_path, release(tmp_path), "--policies", str(first), "--policies", str(second))
    _refused(result, str(first / "rule.rego"), str(second / "rule.rego"), "acme.mine")


# ---------------------------------------------------------------------------------------------
# A user rule that loads only adds findings

_REGISTRY = """\
deny contains {"msg": sprintf("%v is not from registry.acme.example", [input.context.subject.name])} if {
	not startswith(input.context.subject.name, "registry.acme.example/")
}
"""

# Evaluates the built-in rule's sets and library under `with` overrides, first of all rules (its id
# sorts first). `with` replaces values for the expression it is on only
# (https://www.openpolicyagent.org/docs/policy-language#with-keyword): the built-in rules, evaluated
# afterwards in the same engine, must see the real input and data.
_WITH = """\
deny contains {"msg": "the with overrides ran"} if {
	quiet := data.affidavit.rules.secrets.no_secrets.deny with input.evidence as {}
	count(quiet) == 0
	cleared := data.affidavit.rules.secrets.no_secrets.deny with data.affidavit.rules.secrets.no_secrets.deny as set()
	count(cleared) == 0
	mocked := data.affidavit.rules.secrets.no_secrets.deny with data.affidavit.rules.secrets.no_secrets._accepted as true
	count(mocked) >= 0
	relaxed := data.affidavit.rules.supply_chain.signature_verified.deny with input.context.params as {}
	count(relaxed) >= 0
	data.affidavit.lib.params.enabled("anything", "at_all") with input.context.params as {"anything": {"at_all": true}}
}
"""

_FUTURE = """\
import future.keywords
import input.context.params as settings
import data.affidavit.rules.secrets.no_secrets as deny_all
import data.affidavit.lib.params

deny contains {"msg": "imports only bind names in this module"} if {
	"x" in {"x"}
	count(deny_all.deny) > 0
}
"""


@pytest.mark.parametrize(
    ("rule_id", "body", "message"),
    [
        ("acme.registry", _REGISTRY, "is not from registry.acme.example"),
        ("a.first", _WITH, "the with overrides ran"),
        ("acme.imports", _FUTURE, "imports only bind names in this module"),
    ],
    ids=["plain", "with-overrides", "future-keywords"],
)
def test_a_user_rule_only_adds_findings(
    tmp_path: Path, baseline: dict[str, str], rule_id: str, body: str, message: str
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    module = own / "rule.rego"
    module.write_text(
        _OWN.format(title="Own rule", id=rule_id, package=f"affidavit.org.{rule_id}", body=body).replace(
            "#   effective_on: 2999-01-01\n", ""
        ),
        encoding="utf-8",
    )
    result = gate(tmp_path, release(tmp_path), "--policies", str(own))
    assert result.exit_code == 1, result.stdout + result.stderr
    outcomes = _outcomes(result)
    assert outcomes.pop(rule_id) == "fail"
    assert outcomes == baseline  # every built-in rule exactly as without the user's folder
    own_result = next(r for r in result.results["rules"] if r["id"] == rule_id)
    assert [v["msg"] for v in own_result["violations"]][0].startswith(message) or any(
        message in v["msg"] for v in own_result["violations"]
    )
    files = {f["path"]: f["sha256"] for f in result.results["policies"]["files"]}
    assert files[str(module)] == hashlib.sha256(module.read_bytes()).hexdigest()
