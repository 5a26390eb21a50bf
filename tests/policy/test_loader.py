"""Loading policy folders: catalogue, hashes, digest and the load-time checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from affidavit.errors import PolicyError, UsageError
from affidavit.model import EvidenceKind, Severity
from affidavit.policy.interface import PolicyModule
from affidavit.policy.loader import build_policy_set, load_policy_set, policy_digest
from affidavit.policy.metadata import ORG_PREFIX, RULES_PREFIX
from affidavit.resources import builtin_policies_dir

from .helpers import FIXTURES, metadata, policy_set

RULES = FIXTURES / "rules"
DENY = '\ndeny contains "x" if false\n'


def own(rule_id: str, extra: str = "") -> str:
    """The METADATA and package line of an organisation's rule ``affidavit.org.<rule_id>``."""
    return metadata(rule_id, extra=extra).replace(f"package {RULES_PREFIX}", f"package {ORG_PREFIX}")


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
    assert rule.package == "affidavit.org.fx.sbom_check"
    assert rule.file == f"{RULES}/sbom_check.rego"
    assert not rule.builtin
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
    (tmp_path / "r.rego").write_text(own("t.r") + DENY, encoding="utf-8")
    (tmp_path / "r_test.rego").write_text(
        "package affidavit.org.t.r_test\n\ntest_x if true\n", encoding="utf-8"
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
    (first / "r.rego").write_text(own("a.b") + DENY, encoding="utf-8")
    (second / "r.rego").write_text(own("a.b") + DENY, encoding="utf-8")
    # The same relative path in two folders: two files, each named by its own absolute path.
    with pytest.raises(UsageError, match=r"duplicate rule id 'a\.b'") as info:
        load_policy_set([first, second], include_builtin=False)
    assert f"{second}/r.rego:1:" in info.value.message and f"{first}/r.rego:1" in info.value.message


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


# ---------------------------------------------------------------------------------------------
# A user's folder: its own names, its own namespace, and only rules of its own


def test_user_modules_are_named_by_their_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder given as 'policies' (relative) once shared the built-in modules' names
    # ('policies/secrets/no_secrets.rego'); each module is now known by its origin and its file.
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "policies" / "secrets"
    folder.mkdir(parents=True)
    (folder / "no_secrets.rego").write_text(
        "# METADATA\n# title: A helper of ours\npackage acme.helpers\n\nanswer := 42\n", encoding="utf-8"
    )
    for spelling in ("policies", "./policies/../policies", str(tmp_path / "policies")):
        ps = load_policy_set([Path(spelling)])
        user = [m for m in ps.modules if not m.builtin]
        assert [m.path for m in user] == [str(folder / "no_secrets.rego")]
        assert ps.user_modules == tuple(user)
        assert user[0].sha256 == hashlib.sha256((folder / "no_secrets.rego").read_bytes()).hexdigest()
        builtin = [m for m in ps.modules if m.builtin]
        assert builtin and all(m.path.startswith("policies/") for m in builtin)
        assert "policies/secrets/no_secrets.rego" in {m.path for m in builtin}
        # the built-in rule keeps its own METADATA
        rule = ps.rule("secrets.no_secrets")
        assert rule.builtin and rule.file == "policies/secrets/no_secrets.rego"
        assert rule.title == "No secrets found in the source"
        assert rule.effective_on is None and rule.environments is None


def test_an_organisations_rule_is_named_after_affidavit_org(tmp_path: Path) -> None:
    (tmp_path / "r.rego").write_text(own("acme.image_registry") + DENY, encoding="utf-8")
    ps = load_policy_set([tmp_path])
    rule = ps.rule("acme.image_registry")
    assert rule.package == "affidavit.org.acme.image_registry"
    assert rule.data_path == "data.affidavit.org.acme.image_registry"
    assert not rule.builtin and rule.file == f"{tmp_path}/r.rego"
    assert all(r.builtin for r in ps.rules if r.id != "acme.image_registry")


@pytest.mark.parametrize(
    "package",
    [
        "affidavit",
        "affidavit.rules",
        "affidavit.rules.secrets",
        "affidavit.rules.secrets.no_secrets",
        "affidavit.rules.acme.new_rule",
        "affidavit.lib",
        "affidavit.lib.params",
        "affidavit.lib.mine",
        "affidavit.org",
        "affidavit.helpers",
    ],
)
def test_a_user_package_in_affidavits_namespace_is_a_usage_error(tmp_path: Path, package: str) -> None:
    (tmp_path / "m.rego").write_text(f"# a comment\npackage {package}\n\nx := 1\n", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_policy_set([tmp_path])
    assert info.value.message.startswith(
        f"{tmp_path}/m.rego:2: package {package} is in affidavit's own namespace"
    )
    assert "affidavit.org.<id>" in (info.value.hint or "")
    # also without the built-in rules: the namespace does not depend on what else is loaded
    with pytest.raises(UsageError):
        load_policy_set([tmp_path], include_builtin=False)


@pytest.mark.parametrize(
    "package", ["acme.lib", "affidavitx.helpers", "affidavit_org.x", "org.affidavit.rules"]
)
def test_a_user_helper_outside_affidavit_loads(tmp_path: Path, package: str) -> None:
    (tmp_path / "m.rego").write_text(
        f"# METADATA\n# title: helpers\n# custom:\n#   owner: platform-team\npackage {package}\n\ntwice(x) := 2 * x\n",
        encoding="utf-8",
    )
    ps = load_policy_set([tmp_path])
    assert [m.path for m in ps.user_modules] == [f"{tmp_path}/m.rego"]
    assert all(r.builtin for r in ps.rules)  # a helper adds no rule


def test_a_user_rule_cannot_take_a_builtin_id(tmp_path: Path) -> None:
    (tmp_path / "r.rego").write_text(own("secrets.no_secrets") + DENY, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_policy_set([tmp_path])
    assert info.value.message.startswith(f"{tmp_path}/r.rego:5: custom.id 'secrets.no_secrets' is the id of")
    assert info.value.message.endswith("the built-in rule in policies/secrets/no_secrets.rego")
    # Without the built-in rules loaded, the same file is an ordinary rule of the organisation.
    assert load_policy_set([tmp_path], include_builtin=False).rule("secrets.no_secrets").package == (
        "affidavit.org.secrets.no_secrets"
    )


def test_user_metadata_naming_a_builtin_id_anywhere_is_refused(tmp_path: Path) -> None:
    # On a helper package, the METADATA of the built-in rule (with a far-future effective_on)...
    block = (
        (builtin_policies_dir() / "supply_chain" / "signature_verified.rego")
        .read_text()
        .split("\npackage ")[0]
    )
    block = block.replace("# custom:\n", "# custom:\n#   effective_on: 2999-01-01\n", 1)
    (tmp_path / "helper.rego").write_text(block + "\npackage acme.quiet\n\nok := true\n", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"custom\.id 'supply_chain\.signature_verified' is the id of the built-in"
    ) as info:
        load_policy_set([tmp_path])
    assert "policies/supply_chain/signature_verified.rego" in info.value.message
    # ... and on an organisation's rule package whose id is another.
    (tmp_path / "helper.rego").unlink()
    text = own("acme.quiet").replace("#   id: acme.quiet\n", "#   id: supply_chain.signature_verified\n")
    (tmp_path / "r.rego").write_text(text + DENY, encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"r\.rego:5: custom\.id 'supply_chain\.signature_verified' is the id"
    ):
        load_policy_set([tmp_path])


def test_affidavits_rule_keys_on_a_helper_package_are_refused(tmp_path: Path) -> None:
    (tmp_path / "h.rego").write_text(
        "# METADATA\n# title: t\n# custom:\n#   environments: [nowhere]\npackage acme.h\n\nx := 1\n",
        encoding="utf-8",
    )
    with pytest.raises(
        UsageError,
        match=r"h\.rego:1: METADATA describes a rule \(custom\.environments\) but package acme\.h is not a rule package",
    ):
        load_policy_set([tmp_path])


def test_an_organisations_custom_id_follows_its_own_prefix(tmp_path: Path) -> None:
    text = own("acme.x").replace("#   id: acme.x\n", "#   id: acme.y\n")
    (tmp_path / "r.rego").write_text(text + DENY, encoding="utf-8")
    with pytest.raises(
        PolicyError, match=r"custom\.id is 'acme\.y' but the package makes the rule id 'acme\.x'"
    ) as info:
        load_policy_set([tmp_path])
    assert "'affidavit.org.'" in (info.value.hint or "")


def test_two_modules_under_one_name_are_refused() -> None:
    one = PolicyModule.from_text("policies/secrets/no_secrets.rego", "package acme.a\n\nx := 1\n")
    two = PolicyModule(
        "policies/secrets/no_secrets.rego", "package acme.b\n\ny := 1\n", "0" * 64, builtin=True
    )
    with pytest.raises(
        PolicyError, match=r"two policy modules are both named policies/secrets/no_secrets\.rego"
    ):
        build_policy_set([one, two])


def test_the_gate_records_user_policy_files_apart_from_the_builtin_ones(tmp_path: Path) -> None:
    (tmp_path / "r.rego").write_text(own("acme.r") + DENY, encoding="utf-8")
    ps = load_policy_set([tmp_path])
    assert [(m.path, m.builtin) for m in ps.user_modules] == [(f"{tmp_path}/r.rego", False)]
    assert not any(m.path.startswith(str(tmp_path)) for m in ps.modules if m.builtin)
