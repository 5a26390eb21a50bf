"""NIST SSDF 1.1 ships as one YAML file, and any framework file works the same way without code.

The SSDF matrix is checked against the reference data in ../shared (every task, the practice
titles, coverage no higher than the reference's judgement), through the CLI as a user runs it,
and a made-up framework written to a temp dir is listed, explained, linked and gated with no
change to the code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.controls.links import framework_labels, rule_links
from affidavit.controls.listing import control_listing
from affidavit.controls.loader import load_matrices
from affidavit.controls.model import ControlMatrix, Coverage
from affidavit.controls.validate import check_rules
from affidavit.errors import ControlMatrixError
from affidavit.model import Outcome
from tests.controls.catalog import CATALOG
from tests.controls.conftest import CONTROLS, REPO, read_yaml

if TYPE_CHECKING:
    from pathlib import Path

SSDF_FILE = CONTROLS / "ssdf-1.1.yaml"
DEMO = REPO / "evidence" / "demo"


@pytest.fixture(scope="module")
def ssdf_reference(reference_dir: Path) -> dict[str, Any]:
    """The SSDF 1.1 reference file."""
    data: dict[str, Any] = read_yaml(reference_dir / "nist-ssdf-800-218-v1.1.yaml")
    return data


@pytest.fixture(scope="module")
def ssdf_evidence_reference(reference_dir: Path) -> dict[str, Any]:
    """The reference's judgement of how far release artefacts evidence each task."""
    data: dict[str, Any] = read_yaml(reference_dir / "ssdf-devops-evidence.yaml")
    return data


def _tasks(reference: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(task id, practice id, practice title) of every task, in the reference's order."""
    return [
        (task["id"], practice["id"], practice["title"])
        for group in reference["groups"]
        for practice in group["practices"]
        for task in practice["tasks"]
    ]


def _rules(control: dict[str, Any]) -> list[str]:
    rules: list[str] = control.get("rules") or []
    return rules


# ---------------------------------------------------------------------------------------------
# The file against the reference


def test_every_task_of_the_reference_and_nothing_else(
    matrices: dict[str, ControlMatrix], ssdf_reference: dict[str, Any]
) -> None:
    tasks = _tasks(ssdf_reference)
    assert len(tasks) == ssdf_reference["counts"]["tasks"] == 42
    ssdf = matrices["ssdf"]
    assert list(ssdf.control_ids) == [task_id for task_id, _, _ in tasks]
    withdrawn = {item["id"] for item in ssdf_reference["withdrawn_ids"]}
    assert withdrawn and not withdrawn & set(ssdf.control_ids)
    for task_id, practice_id, practice_title in tasks:
        control = ssdf.get(task_id)
        assert control is not None
        assert control.group == f"{practice_id} {practice_title}", task_id
        assert control.title and control.title != practice_title, task_id


def test_framework_id_label_and_order(matrices: dict[str, ControlMatrix]) -> None:
    ssdf = matrices["ssdf"]
    assert (ssdf.framework, ssdf.label, ssdf.version, ssdf.order) == ("ssdf", "SSDF 1.1", "1.1", 30)
    assert ssdf.file == "controls/ssdf-1.1.yaml"
    assert list(framework_labels(matrices.values())) == ["soc2", "iso27001-2022", "ssdf"]


def test_coverage_never_claims_more_than_the_reference_judgement(
    matrices: dict[str, ControlMatrix], ssdf_evidence_reference: dict[str, Any]
) -> None:
    """The reference says per task how far release artefacts can show it ('ceiling'). Here: no
    task is automated (each has a part no release gate sees), a task the reference finds no
    evidence for is manual, and only a task with some built-in rule behind it is partial."""
    ceilings = {t["id"]: t["ceiling"] for t in ssdf_evidence_reference["tasks"]}
    assert set(ceilings) == set(matrices["ssdf"].control_ids)
    for control in matrices["ssdf"].controls:
        assert control.coverage in (Coverage.PARTIAL, Coverage.MANUAL), control.id
        if ceilings[control.id] == "none":
            assert control.coverage is Coverage.MANUAL, control.id
        if control.coverage is Coverage.PARTIAL:
            assert control.rules and control.manual, control.id
    counts = matrices["ssdf"].coverage_counts()
    assert counts == {"automated": 0, "partial": 18, "manual": 24, "not_covered": 0}


def test_partial_tasks_name_only_builtin_rules_the_reference_relates_to_the_task(
    matrices: dict[str, ControlMatrix], ssdf_evidence_reference: dict[str, Any]
) -> None:
    """Every rule listed is a built-in rule; and it reads an evidence kind the reference relates
    to the task (so no rule is attached to a task its evidence says nothing about)."""
    related_kinds = {
        t["id"]: {k for row in t.get("evidence") or [] if row["strength"] != "none" for k in row["kinds"]}
        for t in ssdf_evidence_reference["tasks"]
    }
    for control in matrices["ssdf"].controls:
        for rule in control.rules:
            assert rule in CATALOG, (control.id, rule)
            reads = set(CATALOG[rule].get("reads", CATALOG[rule]["requires"]))
            # same_subject reads every record: it binds the task's artefacts to the release.
            assert not reads or reads & related_kinds[control.id], (control.id, rule)


# ---------------------------------------------------------------------------------------------
# `affidavit controls --framework ssdf`, as a user runs it


def test_cli_lists_every_task_with_coverage_counts(ssdf_reference: dict[str, Any]) -> None:
    result = CliRunner().invoke(main, ["controls", "--framework", "ssdf"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    raw = yaml.safe_load(SSDF_FILE.read_text(encoding="utf-8"))
    counts = Counter(c["coverage"] for c in raw["controls"])
    assert lines[1] == (
        f"{len(raw['controls'])} controls: {counts['automated']} automated, {counts['partial']} partial, "
        f"{counts['manual']} manual, {counts['not_covered']} not covered"
    )
    rows = {line.split()[0]: line.split() for line in lines[4:] if line.strip()}
    assert list(rows) == [task_id for task_id, _, _ in _tasks(ssdf_reference)]
    by_id = {c["id"]: c for c in raw["controls"]}
    for task_id, cells in rows.items():
        assert cells[1] == by_id[task_id]["coverage"], task_id
        assert cells[2] == (str(len(_rules(by_id[task_id]))) if _rules(by_id[task_id]) else "-"), task_id


def test_cli_json_listing_of_ssdf() -> None:
    result = CliRunner().invoke(main, ["controls", "--framework", "ssdf", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    raw = yaml.safe_load(SSDF_FILE.read_text(encoding="utf-8"))
    assert doc["framework"] == "ssdf" and doc["label"] == "SSDF 1.1"
    assert doc["related_framework"] is None
    counts = Counter(c["coverage"] for c in raw["controls"])
    assert doc["counts"] == {
        "automated": counts["automated"],
        "partial": counts["partial"],
        "manual": counts["manual"],
        "not_covered": counts["not_covered"],
        "total": len(raw["controls"]),
    }
    pw41 = next(c for c in doc["controls"] if c["id"] == "PW.4.1")
    assert pw41["coverage"] == "partial" and "supply_chain.sbom_present" in pw41["rules"]
    assert pw41["group"].startswith("PW.4 ")


def test_status_of_a_run_for_ssdf() -> None:
    outcomes = dict.fromkeys(CATALOG, Outcome.PASS) | {"supply_chain.sbom_complete": Outcome.FAIL}
    run = {"run_id": "20261120T120000Z-abcdef123456", "decision": "NO-GO"}
    listing = control_listing("ssdf", outcomes=outcomes, run=run)
    lines = listing.to_text().splitlines()
    assert lines[2] == "status of run 20261120T120000Z-abcdef123456, NO-GO: 3 fail, 15 pass"
    rows = {line.split()[0]: line.split() for line in lines[5:] if line.strip()}
    assert rows["PW.4.1"][1:3] == ["partial", "fail"]  # sbom_complete tests it
    assert rows["PS.3.2"][1:3] == ["partial", "fail"]
    assert rows["PW.4.4"][1:3] == ["partial", "fail"]
    assert rows["RV.1.1"][1:3] == ["partial", "pass"]
    assert rows["PO.1.1"][1:3] == ["manual", "-"]  # nobody checked it: never a pass


def test_cli_unknown_framework_lists_the_known_ids(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["controls", "--framework", "ssdf-1.0"])
    assert result.exit_code == 2
    assert "no control matrix for framework 'ssdf-1.0' (known: soc2, iso27001-2022, ssdf)" in result.stderr
    acme = _acme_file(tmp_path)
    result = CliRunner().invoke(main, ["controls", "--framework", "acme", "--controls", str(acme)])
    assert result.exit_code == 2
    assert "(known: soc2, iso27001-2022, ssdf, acme-sdlc)" in result.stderr


def test_explain_an_ssdf_task_and_a_rule_that_tests_one() -> None:
    runner = CliRunner()
    task = runner.invoke(main, ["explain", "PW.4.1"])
    assert task.exit_code == 0, task.output
    lines = task.stdout.splitlines()
    assert lines[0] == "SSDF 1.1 PW.4.1: Well-secured third-party components"
    assert "coverage: partial" in lines
    assert (
        "  - vulnerabilities.fixable_within_window: Known vulnerabilities are fixed within their windows; unfixed and unrated ones are judged"
        in lines
    )
    assert any(line.startswith("a person must provide: ") for line in lines)
    rule = runner.invoke(main, ["explain", "supply_chain.sbom_present"])
    assert rule.exit_code == 0, rule.output
    controls = [line.strip() for line in rule.stdout.splitlines() if line.startswith("  - ")]
    # The matrices' links, frameworks in display order and ids in natural order.
    assert controls == [
        "- SOC 2 CC7.1 Detection of configuration changes and vulnerabilities",
        "- SOC 2 CC8.1 Change management",
        "- ISO 27001:2022 A.5.21 Managing information security in the ICT supply chain",
        "- ISO 27001:2022 A.8.8 Management of technical vulnerabilities",
        "- SSDF 1.1 PO.3.3 Tools leave evidence of secure practices",
        "- SSDF 1.1 PS.3.2 Component provenance (SBOM) for each release",
        "- SSDF 1.1 PW.4.1 Well-secured third-party components",
    ]


# ---------------------------------------------------------------------------------------------
# A framework of the user's own: one file, no code


def _acme_file(tmp_path: Path, rule: str = "supply_chain.sbom_present") -> Path:
    path = tmp_path / "acme-sdlc.yaml"
    path.write_text(
        "schema: affidavit.control-matrix/v1\n"
        "framework: acme-sdlc\n"
        "label: ACME SDLC\n"
        "version: '2027'\n"
        "title: ACME secure development lifecycle\n"
        "controls:\n"
        "  - id: ACME-1\n"
        "    title: Every release has a bill of materials\n"
        "    coverage: partial\n"
        "    description: Each release ships with an SBOM. Product security keeps them.\n"
        f"    rules: [{rule}]\n"
        "    evidence: [sbom]\n"
        "    manual: Where the SBOMs are kept and who receives them.\n"
        "  - id: ACME-2\n"
        "    title: Developers are trained\n"
        "    coverage: manual\n"
        "    description: Developers take secure coding training. Records are kept.\n"
        "    manual: Training completion records.\n",
        encoding="utf-8",
    )
    return path


def test_a_made_up_framework_is_listed_without_code(tmp_path: Path) -> None:
    path = _acme_file(tmp_path)
    result = CliRunner().invoke(main, ["controls", "--framework", "acme-sdlc", "--controls", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"ACME secure development lifecycle (acme-sdlc 2027, {path})"
    assert lines[1] == "2 controls: 0 automated, 1 partial, 1 manual, 0 not covered"
    assert [line.split()[:3] for line in lines[4:] if line] == [
        ["ACME-1", "partial", "1"],
        ["ACME-2", "manual", "-"],
    ]


def test_a_made_up_framework_joins_the_rule_links_and_explain(tmp_path: Path) -> None:
    path = _acme_file(tmp_path)
    matrices = load_matrices([path])
    links = rule_links(matrices)
    assert links["supply_chain.sbom_present"] == {
        "soc2": ("CC7.1", "CC8.1"),
        "iso27001-2022": ("A.5.21", "A.8.8"),
        "ssdf": ("PO.3.3", "PS.3.2", "PW.4.1"),
        "acme-sdlc": ("ACME-1",),
    }
    assert framework_labels(matrices)["acme-sdlc"] == "ACME SDLC"
    explained = CliRunner().invoke(main, ["explain", "ACME-1", "--controls", str(path)])
    assert explained.exit_code == 0, explained.output
    assert explained.stdout.splitlines()[0] == "ACME SDLC ACME-1: Every release has a bill of materials"
    rule = CliRunner().invoke(main, ["explain", "supply_chain.sbom_present", "--controls", str(path)])
    assert "  - ACME SDLC ACME-1 Every release has a bill of materials" in rule.stdout.splitlines()


def test_a_made_up_framework_is_checked_and_gated_without_code(tmp_path: Path) -> None:
    from affidavit.policy.loader import load_policy_set

    path = _acme_file(tmp_path)
    rules = {rule.id: rule.controls for rule in load_policy_set(()).rules}
    check_rules(load_matrices([path]), rules)  # no METADATA names acme-sdlc: the matrix decides

    digest = (DEMO / "SUBJECT_DIGEST").read_text(encoding="utf-8").strip()
    commit = (DEMO / "COMMIT").read_text(encoding="utf-8").strip()
    out = tmp_path / "out"
    args = ["gate", "--evidence", str(DEMO / "go"), "--subject", f"ghcr.io/acme/shop@{digest}"]
    args += ["--commit", commit, "--now", "2026-11-20T12:00:00Z", "--replay", "--out", str(out)]
    args += ["--key", str(DEMO / "cosign.pub"), "--controls", str(path)]
    args += ["--params", str(DEMO / "params.yaml")]  # the demo organisation's rule data
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    (bundle,) = [p for p in out.iterdir() if p.is_dir()]
    document = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    acme = {c["id"]: c for c in document["controls"]["acme-sdlc"]}
    assert acme["ACME-1"]["rules"] == ["supply_chain.sbom_present"]
    sbom_present = next(r for r in document["rules"] if r["id"] == "supply_chain.sbom_present")
    assert acme["ACME-1"]["outcome"] == sbom_present["outcome"]
    assert acme["ACME-2"]["outcome"] is None
    assert {c["id"] for c in document["controls"]["ssdf"]} == set(load_matrices()[2].control_ids)


def test_a_framework_file_naming_an_unknown_rule_stops_the_run(tmp_path: Path) -> None:
    from affidavit.policy.loader import load_policy_set

    path = _acme_file(tmp_path, rule="supply_chain.sbom_presentt")
    rules = {rule.id: rule.controls for rule in load_policy_set(()).rules}
    with pytest.raises(ControlMatrixError) as info:
        check_rules(load_matrices([path]), rules)
    assert str(info.value) == (
        f"{path}: control ACME-1 names rule 'supply_chain.sbom_presentt', which no loaded policy defines"
    )
    # A gate run stops before judging anything: exit 3, the file and control named, no bundle.
    out = tmp_path / "out"
    args = ["gate", "--evidence", str(DEMO / "go"), "--now", "2026-11-20T12:00:00Z", "--replay"]
    args += ["--out", str(out), "--controls", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3, result.output
    assert re.search(
        r"acme-sdlc\.yaml: control ACME-1 names rule 'supply_chain\.sbom_presentt'", result.stderr
    )
    assert not out.exists() or not any(out.iterdir())
