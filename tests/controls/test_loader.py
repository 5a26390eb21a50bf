"""Loading matrices and the crosswalk: built-in, user files, and every structural error."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from affidavit.controls.loader import load_crosswalk, load_matrices, load_matrix, parse_matrix
from affidavit.controls.model import Coverage, Tier
from affidavit.errors import ControlMatrixError
from affidavit.model import EvidenceKind
from tests.conftest import schema_validator
from tests.controls.conftest import CONTROLS

if TYPE_CHECKING:
    from pathlib import Path

MATRIX_SCHEMA = schema_validator("control-matrix")


def _matrix(**over: Any) -> dict[str, Any]:
    """A small valid matrix document; ``over`` replaces top-level fields."""
    doc: dict[str, Any] = {
        "schema": "affidavit.control-matrix/v1",
        "framework": "acme",
        "version": "1",
        "title": "ACME internal controls",
        "controls": [
            {
                "id": "ACME-1",
                "title": "Releases are reviewed",
                "description": "Every release is reviewed. The review is recorded.",
                "coverage": "partial",
                "rules": ["source_control.required_reviews"],
                "evidence": ["branch-protection"],
                "manual": "The review procedure.",
            },
            {
                "id": "ACME-2",
                "title": "Staff are trained",
                "description": "Staff are trained yearly. Records are kept.",
                "coverage": "manual",
                "manual": "Training records.",
            },
        ],
    }
    doc.update(over)
    return doc


def _write(tmp_path: Path, name: str, doc: Any) -> Path:
    """Write ``doc`` as YAML to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _with_control(**fields: Any) -> dict[str, Any]:
    """The small matrix with its first control changed (``None`` removes a field)."""
    doc = _matrix()
    doc["controls"][0] = {**doc["controls"][0], **fields}
    doc["controls"][0] = {k: v for k, v in doc["controls"][0].items() if v is not None}
    return doc


# ---------------------------------------------------------------------------------------------
# Built-in matrices


def test_builtin_matrices_are_loaded_in_display_order_with_their_hashes() -> None:
    matrices = load_matrices()
    assert [(m.framework, m.label, m.order) for m in matrices] == [
        ("soc2", "SOC 2", 10),
        ("iso27001-2022", "ISO 27001:2022", 20),
        ("ssdf", "SSDF 1.1", 30),
    ]
    soc2 = matrices[0]
    raw = (CONTROLS / "soc2-2017.yaml").read_bytes()
    assert soc2.file == "controls/soc2-2017.yaml"
    assert soc2.sha256 == hashlib.sha256(raw).hexdigest()
    assert soc2.version == "2017"
    cc81 = soc2.get("CC8.1")
    assert cc81 is not None
    assert cc81.coverage is Coverage.PARTIAL
    assert "change_management.approval_recorded" in cc81.rules
    assert EvidenceKind.CHANGE_RECORD in cc81.evidence
    p11 = soc2.get("P1.1")
    assert p11 is not None and p11.coverage is Coverage.NOT_COVERED and p11.note


def test_builtin_crosswalk() -> None:
    crosswalk = load_crosswalk()
    assert crosswalk.file == "controls/crosswalk.yaml"
    assert crosswalk.relationship == "intersects-with"
    pair = next(p for p in crosswalk.pairs if (p.left, p.right) == ("CC8.1", "A.8.32"))
    assert pair.tier is Tier.STRONG and pair.primary and pair.via == ("A", "C", "M", "N", "S")
    # A.5.34 is the reference authors' inference for P5.2: no source asserts it.
    inferred = next(p for p in crosswalk.pairs if (p.left, p.right) == ("P5.2", "A.5.34"))
    assert inferred.tier is Tier.NONE and inferred.via == () and inferred.primary


# ---------------------------------------------------------------------------------------------
# User files


def test_user_matrix_adds_a_framework(tmp_path: Path) -> None:
    path = _write(tmp_path, "acme.yaml", _matrix())
    matrices = load_matrices([path])
    # Without 'order' it comes after every framework that has one; without 'label' its id is shown.
    assert [m.framework for m in matrices] == ["soc2", "iso27001-2022", "ssdf", "acme"]
    acme = matrices[-1]
    assert acme.label == "acme" and acme.order is None
    assert acme.file == str(path)
    assert acme.control_ids == ("ACME-1", "ACME-2")
    assert acme.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_label_and_order_of_a_user_matrix(tmp_path: Path) -> None:
    first = _write(tmp_path, "acme.yaml", _matrix(label="ACME SDLC", order=5))
    tied = _write(tmp_path, "beta.yaml", _matrix(framework="beta", label="Beta", order=20))
    matrices = load_matrices([first, tied])
    # Lowest order first; the tie with ISO (20) is broken by framework id.
    assert [m.framework for m in matrices] == ["acme", "soc2", "beta", "iso27001-2022", "ssdf"]
    assert matrices[0].label == "ACME SDLC"


def test_two_frameworks_with_one_label_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "acme.yaml", _matrix(label="soc 2"))
    with pytest.raises(ControlMatrixError) as info:
        load_matrices([path])
    assert str(info.value) == (
        f"{path}: framework 'acme' has the same label as framework 'soc2' (controls/soc2-2017.yaml)"
    )


def test_a_replacement_matrix_may_keep_the_builtin_label(tmp_path: Path) -> None:
    path = _write(tmp_path, "soc2-mine.yaml", _matrix(framework="soc2", label="SOC 2", order=10))
    assert [m.label for m in load_matrices([path])] == ["SOC 2", "ISO 27001:2022", "SSDF 1.1"]


def test_user_matrix_replaces_the_builtin_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "soc2-mine.yaml", _matrix(framework="soc2", version="2017-acme"))
    soc2 = next(m for m in load_matrices([path]) if m.framework == "soc2")
    assert soc2.version == "2017-acme"
    assert soc2.control_ids == ("ACME-1", "ACME-2")


def test_user_folder_is_read_and_its_crosswalk_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "acme.yaml", _matrix())
    _write(tmp_path, "crosswalk.yaml", {"schema": "affidavit.crosswalk/v1"})
    (tmp_path / "notes.txt").write_text("not yaml", encoding="utf-8")
    matrices = load_matrices([tmp_path], include_builtin=False)
    assert [m.framework for m in matrices] == ["acme"]


def test_two_user_matrices_for_one_framework_are_an_error(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", _matrix())
    b = _write(tmp_path, "b.yaml", _matrix())
    with pytest.raises(ControlMatrixError, match=r"b\.yaml: another matrix given for framework 'acme'"):
        load_matrices([a, b])


def test_without_builtin_only_user_matrices(tmp_path: Path) -> None:
    path = _write(tmp_path, "acme.yaml", _matrix())
    assert [m.framework for m in load_matrices([path], include_builtin=False)] == ["acme"]


# ---------------------------------------------------------------------------------------------
# Errors: each names the file, the control and the field


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            _with_control(coverage="auto"),
            r"control ACME-1: field 'coverage' must be one of automated, partial",
        ),
        (_with_control(coverage=None), r"control ACME-1: field 'coverage' is missing"),
        (_with_control(colour="blue"), r"control ACME-1: unknown field 'colour'"),
        (_with_control(title=""), r"control ACME-1: field 'title' is empty"),
        (_with_control(description=None), r"control ACME-1: field 'description' is missing"),
        (_with_control(manual=None), r"control ACME-1: coverage partial needs field 'manual'"),
        (_with_control(rules=[]), r"control ACME-1: coverage partial needs field 'rules'"),
        (_with_control(coverage="automated"), r"coverage automated cannot have field 'manual'"),
        (_with_control(coverage="manual"), r"control ACME-1: coverage manual cannot list 'rules'"),
        (
            _with_control(coverage="not_covered", rules=None, evidence=None, manual=None),
            r"needs field 'note'",
        ),
        (
            _with_control(evidence=["sbomb"]),
            r"control ACME-1: field 'evidence': 'sbomb' is not an evidence kind",
        ),
        (_with_control(rules=["Not A Rule"]), r"field 'rules': 'Not A Rule' is not a rule id"),
        (_with_control(rules=["a.b", "a.b"]), r"field 'rules' lists 'a\.b' twice"),
        (_with_control(id="ACME 1"), r"control 1: field 'id' must be a string without spaces"),
        (_matrix(version=2017), r"field 'version' must be a string, not a number \(quote it\)"),
        (_matrix(framework="SOC 2"), r"field 'framework' 'SOC 2' must be a lower-case name"),
        (_matrix(controls=[]), r"field 'controls' must be a non-empty list"),
        (_matrix(owner="me"), r"unknown field 'owner'"),
        (_matrix(label="SOC\n2"), r"field 'label' must be one line of at most 40 characters"),
        (_matrix(label="x" * 41), r"field 'label' must be one line of at most 40 characters"),
        (_matrix(label=""), r"field 'label' is empty"),
        (_matrix(order="1"), r"field 'order' must be a whole number, not a string"),
        (_matrix(order=True), r"field 'order' must be a whole number, not a boolean"),
        (_matrix(order=1.5), r"field 'order' must be a whole number, not a fraction"),
        (_matrix(order=-1), r"field 'order' must be 0 or more"),
        (_matrix(title=None), r"field 'title' is missing"),
    ],
)
def test_structural_errors_name_file_control_and_field(
    tmp_path: Path, doc: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, "acme.yaml", doc)
    with pytest.raises(ControlMatrixError, match=message) as info:
        load_matrix(path)
    assert str(path) in str(info.value)
    # The JSON schema rejects the same documents (it is the contract the loader implements).
    assert list(MATRIX_SCHEMA.iter_errors(doc)), "the JSON schema accepted it"


def test_duplicate_control_ids(tmp_path: Path) -> None:
    # Not expressible in JSON schema (uniqueness of one property across items): the loader's job.
    path = _write(tmp_path, "acme.yaml", _with_control(id="ACME-2"))
    with pytest.raises(
        ControlMatrixError, match=r"acme\.yaml: control ACME-2: duplicate control id \(controls 1 and 2\)"
    ):
        load_matrix(path)


def test_valid_document_passes_both_the_loader_and_the_schema(tmp_path: Path) -> None:
    doc = _matrix()
    MATRIX_SCHEMA.validate(doc)
    matrix = load_matrix(_write(tmp_path, "acme.yaml", doc))
    assert matrix.get("ACME-1") is not None
    assert matrix.coverage_counts() == {"automated": 0, "partial": 1, "manual": 1, "not_covered": 0}


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    doc = _matrix()
    doc["controls"][0]["coverage"] = "sometimes"
    doc["controls"][1]["evidence"] = ["sbom"]
    path = _write(tmp_path, "acme.yaml", doc)
    with pytest.raises(ControlMatrixError) as info:
        load_matrix(path)
    text = str(info.value)
    assert text.startswith(f"{path}: 2 problems in the control matrix:")
    assert "control ACME-1: field 'coverage' must be one of" in text
    assert "control ACME-2: coverage manual cannot list 'evidence'" in text


def test_wrong_schema_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.yaml", _matrix(schema="affidavit.control-matrix/v9"))
    with pytest.raises(ControlMatrixError, match=r"field 'schema' is 'affidavit\.control-matrix/v9'") as info:
        load_matrix(path)
    assert "schema: affidavit.control-matrix/v1" in info.value.diagnostics()


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema: affidavit.control-matrix/v1\ncontrols:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ControlMatrixError, match=r"broken\.yaml: is not valid YAML at line 4"):
        load_matrix(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ControlMatrixError, match=r"latin1\.yaml: is not UTF-8 text \(byte offset 10\)"):
        load_matrix(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ControlMatrixError, match=r"nope\.yaml: does not exist"):
        load_matrices([tmp_path / "nope.yaml"])


def test_a_list_is_not_a_matrix() -> None:
    with pytest.raises(ControlMatrixError, match=r"<m>: a control matrix must be a YAML mapping, not a list"):
        parse_matrix("- a\n- b\n", "<m>")


# ---------------------------------------------------------------------------------------------
# Crosswalk errors


def test_crosswalk_errors(tmp_path: Path) -> None:
    not_one = _write(tmp_path, "c1.yaml", {"schema": "something-else"})
    with pytest.raises(ControlMatrixError, match=r"c1\.yaml: is not a crosswalk"):
        load_crosswalk(not_one)
    bad = _write(
        tmp_path,
        "c2.yaml",
        {
            "schema": "affidavit.crosswalk/v1",
            "frameworks": ["soc2", "iso27001-2022"],
            "relationship": "intersects-with",
            "mappings": [
                {"soc2": "CC8.1", "iso27001-2022": [{"id": "A.8.32", "tier": "very strong"}]},
                {
                    "soc2": "CC7.1",
                    "iso27001-2022": [{"id": "A.8.8", "tier": "strong"}, {"id": "A.8.8", "tier": "weak"}],
                },
            ],
        },
    )
    with pytest.raises(ControlMatrixError) as info:
        load_crosswalk(bad)
    text = str(info.value)
    assert "mapping CC8.1 -> A.8.32: field 'tier' must be one of strong, moderate, weak, none" in text
    assert "mapping CC7.1: A.8.8 is listed twice" in text
