"""The built-in matrices and crosswalk against the reference data, the rule catalog and the schema."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.controls.model import ControlMatrix, Coverage, Crosswalk, Tier
from affidavit.controls.validate import check_rules
from affidavit.model import EvidenceKind
from tests.conftest import schema_validator
from tests.controls.catalog import CATALOG, rule_controls
from tests.controls.conftest import CONTROLS, read_yaml

if TYPE_CHECKING:
    from pathlib import Path

MATRIX_SCHEMA = schema_validator("control-matrix")
MATRIX_FILES = {
    "soc2": CONTROLS / "soc2-2017.yaml",
    "iso27001-2022": CONTROLS / "iso27001-2022.yaml",
    "ssdf": CONTROLS / "ssdf-1.1.yaml",
}
CATALOG_FRAMEWORKS = ("soc2", "iso27001-2022")
"""The frameworks the rules' METADATA (and so the agreed catalog) names."""


def test_every_builtin_matrix_file_is_covered_here() -> None:
    assert sorted(p.name for p in CONTROLS.glob("*.yaml") if p.name != "crosswalk.yaml") == sorted(
        p.name for p in MATRIX_FILES.values()
    )


# ---------------------------------------------------------------------------------------------
# Every control of the reference, and nothing else


def test_soc2_has_every_criterion_of_the_reference(
    matrices: dict[str, ControlMatrix], soc2_reference: dict[str, Any]
) -> None:
    ref_ids = [c["id"] for c in soc2_reference["criteria"]]
    assert len(ref_ids) == 61
    assert list(matrices["soc2"].control_ids) == ref_ids


def test_iso_has_every_annex_a_control_of_the_reference(
    matrices: dict[str, ControlMatrix], iso_reference: dict[str, Any]
) -> None:
    ref_ids = [c["id"] for c in iso_reference["controls"]]
    assert len(ref_ids) == 93
    assert sum(t["control_count"] for t in iso_reference["themes"]) == 93
    assert list(matrices["iso27001-2022"].control_ids) == ref_ids


def test_iso_titles_and_themes_match_the_reference(
    matrices: dict[str, ControlMatrix], iso_reference: dict[str, Any]
) -> None:
    themes = {t["id"]: t["title"] for t in iso_reference["themes"]}
    matrix = matrices["iso27001-2022"]
    for ref in iso_reference["controls"]:
        control = matrix.get(ref["id"])
        assert control is not None
        assert control.title == ref["title"], ref["id"]
        assert control.group == themes[ref["theme"]], ref["id"]


def test_soc2_groups_and_coso_labels_match_the_reference(
    matrices: dict[str, ControlMatrix], soc2_reference: dict[str, Any]
) -> None:
    series = {s["id"]: s["title"] for s in soc2_reference["series"]}
    matrix = matrices["soc2"]
    labelled = 0
    for ref in soc2_reference["criteria"]:
        control = matrix.get(ref["id"])
        assert control is not None
        assert control.group == series[ref["series"]], ref["id"]
        # The AICPA criteria have no titles; where the reference gives the official label
        # (the COSO principle), the short title carries it.
        if "official_label" in ref:
            labelled += 1
            assert control.title.endswith(f"({ref['official_label']})"), ref["id"]
        else:
            assert "COSO" not in control.title
    assert labelled == 17


# ---------------------------------------------------------------------------------------------
# Our own words


def _words(text: str) -> list[str]:
    """Lower-case words of a text."""
    return re.findall(r"[a-z0-9]+", text.lower())


def _shingles(words: list[str], n: int = 8) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive words."""
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def reference_shingles(reference_dir: Path) -> set[tuple[str, ...]]:
    """Every 8-word run of every reference file."""
    shingles: set[tuple[str, ...]] = set()
    files = sorted(reference_dir.iterdir())
    assert len(files) >= 5
    for path in files:
        shingles |= _shingles(_words(path.read_text(encoding="utf-8")))
    return shingles


@pytest.mark.parametrize("framework", sorted(MATRIX_FILES))
def test_texts_share_no_run_of_eight_words_with_the_reference(
    framework: str, matrices: dict[str, ControlMatrix], reference_shingles: set[tuple[str, ...]]
) -> None:
    copied = []
    for control in matrices[framework].controls:
        for field in ("description", "manual", "note"):
            text = getattr(control, field)
            if text:
                copied += [
                    f"{control.id} {field}: {' '.join(s)}"
                    for s in _shingles(_words(text)) & reference_shingles
                ]
    assert copied == []


def test_the_copy_check_catches_a_copied_summary(
    soc2_reference: dict[str, Any], reference_shingles: set[tuple[str, ...]]
) -> None:
    copied = next(c["summary"] for c in soc2_reference["criteria"] if c["id"] == "CC8.1")
    assert _shingles(_words("In short: " + copied)) & reference_shingles


@pytest.mark.parametrize("framework", sorted(MATRIX_FILES))
def test_descriptions_are_two_or_three_sentences(framework: str, matrices: dict[str, ControlMatrix]) -> None:
    for control in matrices[framework].controls:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", control.description) if s]
        assert 2 <= len(sentences) <= 3, (control.id, sentences)
        assert control.description.endswith("."), control.id


# ---------------------------------------------------------------------------------------------
# Schema


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The control-matrix JSON schema (checked against the meta-schema by ``schema_validator``)."""
    data: dict[str, Any] = MATRIX_SCHEMA.schema
    return data


@pytest.mark.parametrize("framework", sorted(MATRIX_FILES))
def test_matrix_files_validate_against_the_json_schema(framework: str, schema: dict[str, Any]) -> None:
    document = read_yaml(MATRIX_FILES[framework])
    MATRIX_SCHEMA.validate(document)
    assert document["framework"] == framework


def test_schema_lists_exactly_the_evidence_kinds(schema: dict[str, Any]) -> None:
    kinds = schema["$defs"]["control"]["properties"]["evidence"]["items"]["enum"]
    assert kinds == [k.value for k in EvidenceKind]


def test_schema_rejects_a_manual_control_with_rules(schema: dict[str, Any]) -> None:
    document = read_yaml(MATRIX_FILES["soc2"])
    document["controls"][0]["rules"] = ["secrets.no_secrets"]
    errors = list(MATRIX_SCHEMA.iter_errors(document))
    assert errors, "a manual control listing rules must not validate"


# ---------------------------------------------------------------------------------------------
# Rules: exactly the catalog, both ways


@pytest.mark.parametrize("framework", CATALOG_FRAMEWORKS)
def test_each_control_lists_exactly_the_rules_whose_catalog_row_names_it(
    framework: str, matrices: dict[str, ControlMatrix]
) -> None:
    matrix = matrices[framework]
    expected: dict[str, set[str]] = {}
    for rule_id, row in CATALOG.items():
        for control_id in row[framework]:
            expected.setdefault(control_id, set()).add(rule_id)
    listed = {c.id: set(c.rules) for c in matrix.controls if c.rules}
    assert listed == expected


@pytest.mark.parametrize("framework", sorted(MATRIX_FILES))
def test_evidence_is_what_the_rules_require(framework: str, matrices: dict[str, ControlMatrix]) -> None:
    for control in matrices[framework].controls:
        required = {
            kind for rule in control.rules for kind in CATALOG[rule].get("reads", CATALOG[rule]["requires"])
        }
        assert {k.value for k in control.evidence} == required, control.id


def test_catalog_agrees_with_the_matrices(matrices: dict[str, ControlMatrix]) -> None:
    check_rules(list(matrices.values()), rule_controls())  # raises on any disagreement


def test_loaded_policies_agree_with_the_catalog_and_the_matrices(matrices: dict[str, ControlMatrix]) -> None:
    """Every rule already in policies/ has the catalog's controls and requires in its METADATA."""
    from affidavit.policy.loader import load_policy_set

    rules = load_policy_set(()).rules
    assert rules, "the built-in policy library is empty"
    for rule in rules:
        assert rule.id in CATALOG, f"{rule.id} is not in the agreed catalog"
        row = CATALOG[rule.id]
        for framework in ("soc2", "iso27001-2022"):
            assert sorted(rule.controls.get(framework, ())) == sorted(row[framework]), rule.id
            for control_id in row[framework]:
                control = matrices[framework].get(control_id)
                assert control is not None and rule.id in control.rules, (rule.id, control_id)
        assert sorted(str(getattr(k, "value", k)) for k in rule.requires) == sorted(row["requires"]), rule.id


# ---------------------------------------------------------------------------------------------
# Honest coverage


def test_coverage_counts(matrices: dict[str, ControlMatrix]) -> None:
    assert matrices["soc2"].coverage_counts() == {
        "automated": 0,
        "partial": 5,
        "manual": 38,
        "not_covered": 18,
    }
    assert matrices["iso27001-2022"].coverage_counts() == {
        "automated": 0,
        "partial": 18,
        "manual": 75,
        "not_covered": 0,
    }


def test_organisational_people_and_physical_controls_are_mostly_manual(
    matrices: dict[str, ControlMatrix],
) -> None:
    iso = matrices["iso27001-2022"]
    for theme, least in (("A.5.", 0.85), ("A.6.", 1.0), ("A.7.", 1.0)):
        controls = [c for c in iso.controls if c.id.startswith(theme)]
        untested = [c for c in controls if not c.coverage.tested]
        assert len(untested) / len(controls) >= least, theme


def test_no_builtin_control_is_automated(matrices: dict[str, ControlMatrix]) -> None:
    """A release gate sees one release: a snapshot of branch settings and the records of one change.

    The reference's evidence map (``devops-evidence-map.yaml``, branch_protection limitations) says a
    settings snapshot shows design at one moment, and operating effectiveness needs the settings
    history and the population of changes over the period; deployment approvals are sampled from
    every production deployment. So change management (CC8.1, A.8.32) is ``partial``, with what
    people supply in ``manual``, and no built-in control claims ``automated``.
    """
    automated = {
        (m.framework, c.id) for m in matrices.values() for c in m.controls if c.coverage is Coverage.AUTOMATED
    }
    assert automated == set()
    for framework, control_id in (("soc2", "CC8.1"), ("iso27001-2022", "A.8.32")):
        control = matrices[framework].get(control_id)
        assert control is not None and control.coverage is Coverage.PARTIAL
        assert control.manual is not None and "period" in control.manual, control_id


def test_the_licence_rule_is_not_forced_onto_a_soc2_criterion(matrices: dict[str, ControlMatrix]) -> None:
    """The evidence map's license_scan entry: a weak link to SOC 2, shown under ISO A.5.32 instead of
    a forced criterion. CC9.2 (vendor risk) is about suppliers, which a licence check does not assess."""
    soc2 = matrices["soc2"]
    assert not [c.id for c in soc2.controls if "supply_chain.forbidden_licenses" in c.rules]
    cc92 = soc2.get("CC9.2")
    assert cc92 is not None and cc92.coverage is Coverage.MANUAL and cc92.rules == ()
    a532 = matrices["iso27001-2022"].get("A.5.32")
    assert a532 is not None and "supply_chain.forbidden_licenses" in a532.rules


@pytest.mark.parametrize(
    ("framework", "control_id", "rules"),
    [
        # terraform_plan: A.8.9 and CC7.1 primary ("defined configuration standards")
        ("soc2", "CC7.1", ("iac.encryption_at_rest", "iac.no_public_buckets", "iac.no_open_admin_ports")),
        (
            "iso27001-2022",
            "A.8.9",
            ("iac.encryption_at_rest", "iac.no_public_buckets", "iac.no_open_admin_ports"),
        ),
        # deployment_approval: A.5.3 (approver other than the requester)
        ("iso27001-2022", "A.5.3", ("change_management.approval_recorded",)),
        # CFG-02 baseline configuration, which SCF maps to A.8.12
        ("iso27001-2022", "A.8.12", ("iac.no_public_buckets",)),
        # secret_scan: A.8.28 (no hard-coded credentials is secure coding)
        ("iso27001-2022", "A.8.28", ("secrets.no_secrets", "secrets.scan_covers_commit")),
        # provenance: A.5.21 where the build service's output is verified (SCF TPM-03 agrees)
        ("iso27001-2022", "A.5.21", ("supply_chain.provenance_trusted",)),
    ],
)
def test_mappings_the_reference_supports_are_made(
    framework: str, control_id: str, rules: tuple[str, ...], matrices: dict[str, ControlMatrix]
) -> None:
    """Links the reference files support (``devops-evidence-map.yaml``) that the matrices lacked."""
    control = matrices[framework].get(control_id)
    assert control is not None and control.coverage is Coverage.PARTIAL
    assert set(rules) <= set(control.rules), control_id


def test_a_signature_of_the_own_release_is_not_supply_chain_evidence(
    matrices: dict[str, ControlMatrix],
) -> None:
    """The evidence map gives signature verification A.5.21 only for third-party artefacts; the
    signature rule verifies the organisation's own release, so it stays off A.5.21."""
    control = matrices["iso27001-2022"].get("A.5.21")
    assert control is not None and "supply_chain.signature_verified" not in control.rules


def test_every_matrix_has_a_label_and_an_order_of_its_own(matrices: dict[str, ControlMatrix]) -> None:
    labels = [m.label for m in matrices.values()]
    orders = [m.order for m in matrices.values()]
    assert all(label != m.framework for label, m in zip(labels, matrices.values(), strict=True))
    assert len(set(labels)) == len(labels) and len(set(orders)) == len(orders) and None not in orders


def test_readme_counts_match_the_matrices(matrices: dict[str, ControlMatrix], crosswalk: Crosswalk) -> None:
    readme = (CONTROLS / "README.md").read_text(encoding="utf-8")
    for framework, path in MATRIX_FILES.items():
        counts = matrices[framework].coverage_counts()
        row = (
            f"| {len(matrices[framework].controls)} | {counts['automated']} | {counts['partial']} | "
            f"{counts['manual']} | {counts['not_covered']} |"
        )
        line = next(line for line in readme.splitlines() if line.startswith(f"| `{path.name}`"))
        assert line.endswith(row), line
    assert f"| {len(crosswalk.pairs)} pairs |" in readme


# ---------------------------------------------------------------------------------------------
# Crosswalk


def test_crosswalk_pairs_exist_in_both_matrices(
    matrices: dict[str, ControlMatrix], crosswalk: Crosswalk
) -> None:
    assert crosswalk.frameworks == ("soc2", "iso27001-2022")
    for pair in crosswalk.pairs:
        assert pair.left in matrices["soc2"], pair
        assert pair.right in matrices["iso27001-2022"], pair


def test_crosswalk_carries_every_annex_a_pair_and_tier_of_the_reference(
    crosswalk: Crosswalk, crosswalk_reference: dict[str, Any]
) -> None:
    expected: dict[tuple[str, str], tuple[str, tuple[str, ...], bool]] = {}
    for entry in crosswalk_reference["mappings"]:
        for item in entry.get("annex_a") or []:
            expected[(entry["soc2"], item["id"])] = (item["tier"], tuple(item["via"]), False)
        for item in entry.get("editorial_primary") or []:
            if not item["id"].startswith("A."):
                continue  # ISMS clauses are not Annex A controls
            key = (entry["soc2"], item["id"])
            tier = expected[key][0] if key in expected else item["sourced_tier"]
            assert tier == item["sourced_tier"], key
            expected[key] = (tier, tuple(item.get("via", ())), True)
    actual = {(p.left, p.right): (p.tier.value, p.via, p.primary) for p in crosswalk.pairs}
    assert actual == expected
    tiers = {t: sum(1 for p in crosswalk.pairs if p.tier is t) for t in Tier}
    assert tiers[Tier.STRONG] == crosswalk_reference["stats"]["annex_a_pairs"]["strong"]
    assert tiers[Tier.MODERATE] == crosswalk_reference["stats"]["annex_a_pairs"]["moderate"]


def test_every_soc2_criterion_has_a_related_iso_control(
    matrices: dict[str, ControlMatrix], crosswalk: Crosswalk
) -> None:
    missing = [c.id for c in matrices["soc2"].controls if not crosswalk.related("soc2", c.id)]
    assert missing == []
