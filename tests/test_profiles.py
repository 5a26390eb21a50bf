"""Release profiles (issue 15 part 4) and a tolerant evidence folder (part 5).

A profile names the evidence kinds a kind of release must supply. The hostile cases come first:
a profile must never hide evidence that was supplied and fails, never pass a rule whose required
kind is missing, and never be invisible in the bundle.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.collectors import CollectOptions, collect_paths
from affidavit.collectors.folder import Action
from affidavit.config import Profile, apply_profile, builtin_profiles
from affidavit.errors import UsageError
from affidavit.model import EvidenceKind, Outcome, RuleResult
from affidavit.policy.loader import load_policy_set
from tests.conftest import REPO, results_validator, schema_errors

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
COMMIT = (DEMO / "COMMIT").read_text().strip()
NOW = "2026-11-20T12:00:00Z"
#: What a Python library's release pipeline leaves behind (no Terraform, no change record, no
#: branch-protection export): an SBOM, a vulnerability scan, provenance signed with the release
#: key (its DSSE signature is the signature), code analysis and two secret scans.
LIBRARY_FILES = (
    "sbom.cdx.json",
    "trivy-image.json",
    "provenance.intoto.json",
    "codeql.sarif",
    "gitleaks.json",
    "gitleaks.sarif",
)
NOT_A_LIBRARY_KIND = {"terraform-plan", "terraform-config", "branch-protection", "change-record"}
# A PNG signature and IHDR start (https://www.w3.org/TR/png/#5PNG-file-signature).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17


def _library(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """The library release's evidence folder, built from the demo's GO release."""
    folder = tmp_path / "library"
    folder.mkdir()
    for name in LIBRARY_FILES:
        shutil.copy(DEMO / "go" / name, folder / name)
    for release, name in extra:
        shutil.copy(DEMO / release / name, folder / name)
    return folder


def _gate(tmp_path: Path, evidence: Path, *extra: str, out: str = "out") -> tuple[int, str, dict[str, Any]]:
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(evidence),
            "--subject",
            f"ghcr.io/acme/shop@{DIGEST}",
            "--commit",
            COMMIT,
            "--now",
            NOW,
            "--replay",
            "--out",
            str(tmp_path / out),
            "--key",
            str(DEMO / "cosign.pub"),
            "--params",
            str(DEMO / "params.yaml"),
            "--no-record",
            *extra,
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    bundles = [p for p in (tmp_path / out).glob("*") if p.is_dir()]
    assert len(bundles) == 1, result.output
    results = json.loads((bundles[0] / "results.json").read_text())
    assert not schema_errors(results_validator(), results)  # the published results contract holds
    return result.exit_code, result.stdout + result.stderr, results


def _outcomes(results: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in results["rules"]}


@pytest.fixture(autouse=True)
def _no_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's AFFIDAVIT_CONFIG / AFFIDAVIT_ENVIRONMENT never reach these runs."""
    monkeypatch.delenv("AFFIDAVIT_CONFIG", raising=False)
    monkeypatch.delenv("AFFIDAVIT_ENVIRONMENT", raising=False)


# ---------------------------------------------------------------------------------------------
# The library release


def test_a_library_release_with_the_library_profile_is_go_on_its_own_evidence(tmp_path: Path) -> None:
    """The issue's case: a Python library release without Terraform or a change record. Without
    a profile it is NO-GO (the strict default); with ``--profile python-library`` the rules about
    kinds a library does not supply are not applicable, each saying why, and it is GO. A stray
    README.txt, a Markdown changelog and a PNG beside the artefacts change nothing."""
    evidence = _library(tmp_path)
    (evidence / "README.txt").write_text("Release notes for acme-shop 1.4.2\n")
    (evidence / "logo.png").write_bytes(PNG)
    (evidence / "CHANGELOG.md").write_text("# 1.4.2\n\n- Fixed the [retry](https://example.com) loop.\n")

    strict, _, strict_results = _gate(tmp_path, evidence, out="strict")
    assert strict == 1
    assert strict_results["decision"] == "NO-GO"
    blocked = {
        rid for rid, outcome in _outcomes(strict_results).items() if outcome == "insufficient_evidence"
    }
    assert len(blocked) == 15  # the "15 of 30 rules (then) insufficient evidence"

    code, output, results = _gate(tmp_path, evidence, "--profile", "python-library", out="library")
    assert code == 0, output
    assert results["decision"] == "GO"
    outcomes = _outcomes(results)
    assert {rid for rid, o in outcomes.items() if o == "not_applicable"} == blocked
    assert set(outcomes.values()) == {"pass", "not_applicable"}
    for rule in results["rules"]:
        if rule["outcome"] == "not_applicable":
            assert rule["reason"].startswith("release profile python-library does not require ")
            assert set(rule["requires"]) <= NOT_A_LIBRARY_KIND
    # The profile is on the record and in the run id; the stray files are listed as ignored.
    profiles = [c for c in results["configuration"]["inputs"] if c["role"] == "profile"]
    assert profiles == [
        {
            "role": "profile",
            "path": "builtin:profiles/python-library.yaml",
            "sha256": builtin_profiles()["python-library"].sha256,
            "value": "python-library",
        }
    ]
    assert results["run_id"] != strict_results["run_id"]
    ignored = {Path(n["path"]).name: n["action"] for n in results["not_read"]}
    assert ignored == {"README.txt": "ignored", "logo.png": "ignored", "CHANGELOG.md": "ignored"}


def test_a_failing_plan_given_to_a_library_release_is_still_judged(tmp_path: Path) -> None:
    """Hostile: a profile that does not require Terraform must not hide a plan that was given and
    opens SSH to the internet (the NO-GO demo's plan): not required is not ignored."""
    evidence = _library(tmp_path, ("no-go", "tfplan.json"))
    code, _, results = _gate(tmp_path, evidence, "--profile", "python-library")
    assert code == 1
    outcomes = _outcomes(results)
    assert outcomes["iac.no_open_admin_ports"] == "fail"
    assert outcomes["iac.providers_pinned"] == "not_applicable"  # no Terraform sources were given


def test_a_kind_the_profile_requires_is_never_optional(tmp_path: Path) -> None:
    """Hostile: a library release that leaves out its SBOM is not GO under the library profile."""
    evidence = _library(tmp_path)
    (evidence / "sbom.cdx.json").unlink()
    code, _, results = _gate(tmp_path, evidence, "--profile", "python-library")
    assert code == 1
    outcomes = _outcomes(results)
    for rule in ("supply_chain.sbom_present", "supply_chain.sbom_complete", "supply_chain.sbom_fresh"):
        assert outcomes[rule] == "insufficient_evidence", rule


def test_an_infrastructure_change_is_go_with_its_profile(tmp_path: Path) -> None:
    """A Terraform change with its plan, sources, branch protection, change record and scans: GO
    under infrastructure-only, where the signature rule is not applicable with the profile's reason."""
    folder = tmp_path / "infra"
    folder.mkdir()
    for name in (
        "tfplan.json",
        "main.tf",
        "branch-protection.json",
        "change-record.json",
        "codeql.sarif",
        "gitleaks.json",
        "gitleaks.sarif",
    ):
        shutil.copy(DEMO / "go" / name, folder / name)
    code, output, results = _gate(tmp_path, folder, "--profile", "infrastructure-only", "--branch", "main")
    assert code == 0, output
    signature = next(r for r in results["rules"] if r["id"] == "supply_chain.signature_verified")
    assert signature["outcome"] == "not_applicable"
    assert signature["reason"].startswith("release profile infrastructure-only: an infrastructure change")


def test_an_unknown_profile_is_a_usage_error_listing_the_known_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["gate", "--evidence", str(_library(tmp_path)), "--profile", "lenient", "--no-record"]
    )
    assert result.exit_code == 2
    assert "--profile names no release profile" in result.stderr
    assert "python-library" in result.stderr and "container-service" in result.stderr


# ---------------------------------------------------------------------------------------------
# apply_profile on its own


def _rules() -> dict[str, Any]:
    return {r.id: r for r in load_policy_set(()).rules}


def _profile(*kinds: str, exempt: tuple[tuple[str, str], ...] = ()) -> Profile:
    return Profile(
        name="test",
        description="a test profile",
        requires=frozenset(EvidenceKind(k) for k in kinds),
        not_applicable=exempt,
        origin="test",
        sha256="0" * 64,
        builtin=False,
    )


def test_a_profile_overrules_only_missing_evidence() -> None:
    """Hostile: only ``insufficient_evidence`` without any evidence of the rule's kinds becomes not
    applicable; a fail, an error or a pass of a kind the profile does not require stays."""
    rules = _rules()
    profile = _profile("sbom")
    given = [
        RuleResult("iac.no_open_admin_ports", Outcome.FAIL),
        RuleResult("iac.no_public_buckets", Outcome.ERROR),
        RuleResult("iac.encryption_at_rest", Outcome.PASS),
        RuleResult("iac.protected_resource_changes", Outcome.INSUFFICIENT_EVIDENCE),
        RuleResult("change_management.approval_recorded", Outcome.INSUFFICIENT_EVIDENCE),
    ]
    out = {r.rule_id: r.outcome for r in apply_profile(given, rules.values(), {"terraform-plan"}, profile)}
    assert out == {
        "iac.no_open_admin_ports": Outcome.FAIL,
        "iac.no_public_buckets": Outcome.ERROR,
        "iac.encryption_at_rest": Outcome.PASS,
        # a plan was given: what it lacks is a gap in evidence supplied, not a kind not asked for
        "iac.protected_resource_changes": Outcome.INSUFFICIENT_EVIDENCE,
        "change_management.approval_recorded": Outcome.NOT_APPLICABLE,
    }


def test_a_pass_without_the_kind_the_profile_requires_is_insufficient() -> None:
    """Hostile: a rule that would pass with no record of a kind the profile requires (a vacuous
    pass) is insufficient evidence, naming the profile; one not applicable here stays so."""
    rules = _rules()
    given = [
        RuleResult("supply_chain.sbom_fresh", Outcome.PASS),
        RuleResult("change_management.approval_recorded", Outcome.NOT_APPLICABLE, reason="dev"),
    ]
    out = apply_profile(given, rules.values(), set(), _profile("sbom", "change-record"))
    assert out[0].outcome is Outcome.INSUFFICIENT_EVIDENCE
    assert "release profile test requires sbom evidence" in out[0].missing[-1].msg
    assert out[1].outcome is Outcome.NOT_APPLICABLE and out[1].reason == "dev"


def test_not_applicable_entries_are_limited_to_rules_without_kinds() -> None:
    rules = _rules()
    result = [RuleResult("supply_chain.signature_verified", Outcome.INSUFFICIENT_EVIDENCE)]
    with pytest.raises(UsageError, match="requires evidence kinds"):
        apply_profile(
            result, rules.values(), set(), _profile("sbom", exempt=(("supply_chain.sbom_present", "x"),))
        )
    with pytest.raises(UsageError, match="a rule this run does not have"):
        apply_profile(result, rules.values(), set(), _profile("sbom", exempt=(("nobody.rule", "x"),)))
    fail = [RuleResult("supply_chain.signature_verified", Outcome.FAIL)]
    exempt = _profile("sbom", exempt=(("supply_chain.signature_verified", "no artefact"),))
    assert apply_profile(fail, rules.values(), set(), exempt)[0].outcome is Outcome.FAIL
    assert apply_profile(result, rules.values(), set(), exempt)[0].outcome is Outcome.NOT_APPLICABLE


def test_the_built_in_profiles() -> None:
    """The strict profile requires every evidence kind (a new kind must be added to it), and each
    built-in profile names only rules that exist."""
    profiles = builtin_profiles()
    assert set(profiles) == {"container-service", "python-library", "infrastructure-only"}
    assert profiles["container-service"].requires == frozenset(EvidenceKind)
    assert profiles["python-library"].requires == frozenset(EvidenceKind) - {
        EvidenceKind(k) for k in NOT_A_LIBRARY_KIND
    }
    rules = _rules()
    for profile in profiles.values():
        assert profile.builtin and profile.description
        for rule_id, _ in profile.not_applicable:
            assert rule_id in rules and not rules[rule_id].requires


# ---------------------------------------------------------------------------------------------
# The evidence folder: .affidavitignore, stray files


def _collect(folder: Path) -> Any:
    return collect_paths([folder], CollectOptions(now=NOW))


def test_an_unknown_json_document_still_stops_the_gate(tmp_path: Path) -> None:
    """Hostile: tolerance is for files that are clearly not evidence. A JSON document no format
    knows may be evidence affidavit cannot read, so it still stops the run (exit 3), profile or not."""
    evidence = _library(tmp_path)
    (evidence / "scan-results.json").write_text(json.dumps({"tool": "zebrascan-9000", "findings": [1, 2]}))
    code, output, results = _gate(tmp_path, evidence, "--profile", "python-library")
    assert code == 3
    assert results["decision"] == "INCOMPLETE"
    assert "scan-results.json: not a format affidavit knows (a JSON object with 2 keys)" in output
    assert "zebrascan" not in output  # the document's content is never quoted


def test_affidavitignore_leaves_files_out_and_says_which_line(tmp_path: Path) -> None:
    """gitignore's subset (https://git-scm.com/docs/gitignore#_pattern_format): a name at any depth,
    an anchored path, a folder-only pattern, comments, an escaped '#'. Each file left out names
    the line, never its text."""
    folder = _library(tmp_path)
    (folder / "coverage.json").write_text(json.dumps({"totals": {}}))
    (folder / "build").mkdir()
    (folder / "build" / "metrics.json").write_text(json.dumps({"a": 1}))
    (folder / "docs").write_text("a file named like the folder pattern\n")
    (folder / "#notes.json").write_text(json.dumps({"b": 2}))
    (folder / ".affidavitignore").write_text(
        "# files our pipeline writes that are not evidence\n\ncoverage.json\nbuild/\ndocs/\n\\#notes.json   \n"
    )
    collection = _collect(folder)
    assert not collection.errors, [e.diagnostics() for e in collection.errors]
    assert len(collection.evidence) == len(LIBRARY_FILES)
    skipped = {Path(s.path).name: (s.action, s.reason) for s in collection.skipped}
    assert skipped["coverage.json"] == (Action.EXCLUDED, "matches line 3 of .affidavitignore")
    assert skipped["build"] == (Action.EXCLUDED, "a folder that matches line 4 of .affidavitignore")
    assert skipped["#notes.json"] == (Action.EXCLUDED, "matches line 6 of .affidavitignore")
    assert skipped[".affidavitignore"][0] is Action.SKIPPED
    assert skipped["docs"] == (Action.IGNORED, skipped["docs"][1])  # 'docs/' matches folders only


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("*.json\n!sbom.cdx.json\n", "line 2 negates a pattern"),
        ("a\\b\n", "line 1 has a backslash"),
        ("/\n", "line 1 has no pattern"),
        (b"\xff\xfe*.json\n", "is not UTF-8 text"),
    ],
)
def test_an_affidavitignore_affidavit_cannot_follow_stops_the_run(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    """Hostile: a negation would re-include what an earlier line left out; affidavit does not
    guess, it refuses the file (the run is incomplete) and reads the folder with --exclude alone."""
    folder = _library(tmp_path)
    target = folder / ".affidavitignore"
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    collection = _collect(folder)
    assert len(collection.errors) == 1
    assert collection.errors[0].diagnostics().startswith(f"{target}: {problem}")
    assert len(collection.evidence) == len(LIBRARY_FILES)  # nothing was left out by a file refused


def test_an_affidavitignore_that_is_a_link_is_refused_unread(tmp_path: Path) -> None:
    """Hostile: a link to a file outside the folder is never followed, not even for patterns."""
    outside = tmp_path / "outside-ignore"
    outside.write_text("*\n")
    folder = _library(tmp_path)
    (folder / ".affidavitignore").symlink_to(outside)
    collection = _collect(folder)
    assert any("links are not followed" in e.diagnostics() for e in collection.errors)
    assert len(collection.evidence) == len(LIBRARY_FILES)


def test_the_ignore_list_is_recorded_and_changes_the_run_id(tmp_path: Path) -> None:
    """What the ignore list leaves out could change the verdict, so it is on the record."""
    evidence = _library(tmp_path)
    code, _, plain = _gate(tmp_path, evidence, "--profile", "python-library", out="plain")
    assert code == 0
    (evidence / ".affidavitignore").write_text("# nothing left out yet\n")
    code, _, listed = _gate(tmp_path, evidence, "--profile", "python-library", out="listed")
    assert code == 0
    entry = [c for c in listed["configuration"]["inputs"] if c["role"] == "affidavitignore"]
    assert len(entry) == 1 and entry[0]["path"] == str(evidence / ".affidavitignore")
    assert len(entry[0]["sha256"]) == 64
    assert listed["run_id"] != plain["run_id"]


def test_an_oversized_ignore_list_makes_the_run_incomplete_not_a_usage_error(tmp_path: Path) -> None:
    """Hostile: a 5 MiB .affidavitignore planted in the evidence folder is refused by the walk
    (exit 3, the bundle written), not hashed as configuration."""
    evidence = _library(tmp_path)
    (evidence / ".affidavitignore").write_bytes(b"# padding\n" * (512 * 1024))
    code, output, results = _gate(tmp_path, evidence, "--profile", "python-library")
    assert code == 3
    assert "is larger than the 64 KiB an ignore list may be" in output
    assert not [c for c in results["configuration"]["inputs"] if c["role"] == "affidavitignore"]
