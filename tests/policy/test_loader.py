"""Loading policy folders: catalogue, hashes, digest and the load-time checks."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from affidavit.errors import PolicyError
from affidavit.model import EvidenceKind, Severity
from affidavit.policy.loader import load_policy_set, policy_digest
from affidavit.policy.metadata import RULES_PREFIX
from affidavit.resources import builtin_policies_dir

from .helpers import FIXTURES, metadata, policy_set

if TYPE_CHECKING:
    from pathlib import Path

RULES = FIXTURES / "rules"
DENY = '\ndeny contains "x" if false\n'


def test_fixture_folder_catalogue() -> None:
    ps = load_policy_set([RULES], include_builtin=False)
    assert ps.ids == (
        "fx.clock",
        "fx.grace",
        "fx.http_send",
        "fx.panics",
        "fx.prod_only",
        "fx.same_digest",
        "fx.sbom_check",
        "fx.to_number_error",
    )
    rule = ps.rule("fx.sbom_check")
    path = RULES / "sbom_check.rego"
    assert rule.package == "affidavit.rules.fx.sbom_check"
    assert rule.file == f"{RULES}/sbom_check.rego"
    assert rule.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rule.sets == ("deny", "warn", "missing")
    assert rule.severity is Severity.HIGH
    assert rule.requires == (EvidenceKind.SBOM,)
    assert rule.controls == {"iso27001-2022": ("A.8.8",), "soc2": ("CC7.1",)}
    assert rule.title == "Fixture SBOM check"
    assert ps.rule("fx.same_digest").sets == ("deny", "missing")
    assert ps.rule("fx.clock").sets == ("warn",)
    assert ps.rule("fx.prod_only").environments == ("prod",)


def test_modules_digest_and_builtin_lib() -> None:
    ps = load_policy_set([RULES], include_builtin=False)
    paths = [m.path for m in ps.modules]
    fixture_files = sorted(RULES.glob("*.rego"))
    lib_files = sorted((builtin_policies_dir() / "lib").rglob("*.rego"))
    lib_files = [p for p in lib_files if not p.name.endswith("_test.rego")]
    assert len(paths) == len(fixture_files) + len(lib_files)
    # The built-in helpers come along even without the built-in rules.
    assert {p for p in paths if p.startswith("policies/lib/")} == {
        f"policies/lib/{p.relative_to(builtin_policies_dir() / 'lib').as_posix()}" for p in lib_files
    }
    assert not any(p.startswith("policies/") and not p.startswith("policies/lib/") for p in paths)
    hashes = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in [*fixture_files, *lib_files])
    expected = hashlib.sha256("".join(f"{h}\n" for h in hashes).encode()).hexdigest()
    assert ps.digest == expected == policy_digest(ps.modules)
    for module in ps.modules:
        assert module.sha256 == hashlib.sha256(module.text.encode()).hexdigest()


def test_builtin_library_loads_and_ids_match_packages() -> None:
    ps = load_policy_set()
    assert ps.rules, "the built-in library has rules"
    for rule in ps.rules:
        assert rule.package == RULES_PREFIX + rule.id
        assert rule.file.startswith("policies/")
        assert not rule.file.endswith("_test.rego")
    assert all(m.path.endswith("_test.rego") for m in ps.test_modules)
    assert not any(m.path.endswith("_test.rego") for m in ps.modules)
    assert list(ps.ids) == sorted(ps.ids)


def test_test_files_are_kept_apart(tmp_path: Path) -> None:
    (tmp_path / "r.rego").write_text(metadata("t.r") + DENY, encoding="utf-8")
    (tmp_path / "r_test.rego").write_text(
        "package affidavit.rules.t.r_test\n\ntest_x if true\n", encoding="utf-8"
    )
    ps = load_policy_set([tmp_path], include_builtin=False)
    assert [m.path for m in ps.test_modules] == [f"{tmp_path}/r_test.rego"]
    assert f"{tmp_path}/r_test.rego" not in [m.path for m in ps.modules]


def test_syntax_error_names_file_line_col() -> None:
    with pytest.raises(
        PolicyError,
        match=r"^cannot load policy bad\.rego:15:5: expecting `}` while parsing set\n.*\n15 \|   x := ",
    ):
        policy_set({"bad.rego": metadata("a.b") + "\ndeny contains x if {\n  x := \n}\n"})


def test_unknown_function_found_before_it_runs() -> None:
    text = metadata("a.b") + '\ndeny contains x if {\n  false\n  x := strings.reverse_words("a b")\n}\n'
    with pytest.raises(PolicyError, match=r"^r\.rego:16:8: unknown function strings\.reverse_words") as info:
        policy_set({"r.rego": text})
    assert "regorus" in (info.value.hint or "")


def test_wrong_number_of_arguments() -> None:
    text = metadata("a.b") + '\ndeny contains x if {\n  x := sprintf("%v")\n}\n'
    with pytest.raises(PolicyError, match=r"^r\.rego:15:8: sprintf takes 2 arguments, called with 1"):
        policy_set({"r.rego": text})


def test_user_functions_resolve_through_imports_and_packages() -> None:
    lib = "package affidavit.helpers\n\ntwice(x) := 2 * x\n"
    other = "package affidavit.rules.a.b\n\nhalf(x) := x / 2\n"
    rule = (
        metadata("a.b")
        + "\nimport data.affidavit.helpers as h\nimport data.affidavit.helpers\n"
        + "\ndeny contains x if {\n  x := h.twice(half(4)) + helpers.twice(1) + data.affidavit.helpers.twice(2)\n  x > 100\n}\n"
    )
    ps = policy_set({"lib.rego": lib, "other.rego": other, "rule.rego": rule})
    assert ps.ids == ("a.b",)
    assert ps.rule("a.b").file == "rule.rego"


def test_call_to_missing_user_function() -> None:
    lib = "package affidavit.helpers\n\nvalue := 1\n"
    rule = (
        metadata("a.b")
        + "\nimport data.affidavit.helpers as h\n\ndeny contains x if {\n  x := h.nope(1)\n}\n"
    )
    with pytest.raises(
        PolicyError, match=r"^rule\.rego:17:8: call to data\.affidavit\.helpers\.nope, which is not defined"
    ):
        policy_set({"lib.rego": lib, "rule.rego": rule})
    rule2 = (
        metadata("a.b")
        + "\nimport data.affidavit.helpers as h\n\ndeny contains x if {\n  x := h.value(1)\n}\n"
    )
    with pytest.raises(PolicyError, match=r"which is a rule, not a function"):
        policy_set({"lib.rego": lib, "rule.rego": rule2})


def test_duplicate_rule_ids() -> None:
    one = metadata("a.b") + DENY
    two = metadata("a.b") + '\nwarn contains "y" if false\n'
    with pytest.raises(PolicyError, match=r"^two\.rego:1: duplicate rule id 'a\.b'.*one\.rego:1"):
        policy_set({"one.rego": one, "two.rego": two})


def test_duplicate_across_folders(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "r.rego").write_text(metadata("a.b") + DENY, encoding="utf-8")
    (second / "r.rego").write_text(metadata("a.b") + DENY, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"duplicate rule id 'a\.b'"):
        load_policy_set([first, second], include_builtin=False)


def test_a_package_spread_over_files_needs_one_annotation() -> None:
    ps = policy_set(
        {
            "r.rego": metadata("a.b") + DENY,
            "r_more.rego": 'package affidavit.rules.a.b\n\nwarn contains "w" if false\n',
        }
    )
    assert ps.rule("a.b").sets == ("deny", "warn")
    assert ps.rule("a.b").file == "r.rego"


def test_rule_sets_must_exist_and_be_sets() -> None:
    with pytest.raises(
        PolicyError,
        match=r"^r\.rego:12: rule package affidavit\.rules\.a\.b defines none of deny, warn, missing",
    ):
        policy_set({"r.rego": metadata("a.b") + "\nallow := true\n"})
    with pytest.raises(PolicyError, match=r"^r\.rego:14: deny must be a set of results"):
        policy_set({"r.rego": metadata("a.b") + "\ndeny := true\n"})


def test_missing_folder_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"policy folder .*nowhere does not exist"):
        load_policy_set([tmp_path / "nowhere"], include_builtin=False)
    (tmp_path / "latin1.rego").write_bytes(b"package x\n# caf\xe9\n")
    with pytest.raises(PolicyError, match=r"latin1\.rego: not UTF-8 text \(byte 15\)"):
        load_policy_set([tmp_path], include_builtin=False)
