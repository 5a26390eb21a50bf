"""Frameworks' order and labels, and a rule's controls: read from the matrices, nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

from affidavit.controls.links import display_order, framework_labels, rule_links
from affidavit.controls.model import Control, ControlMatrix, Coverage
from affidavit.controls.validate import attach_rules

SRC = Path(__file__).resolve().parents[2] / "src" / "affidavit"


def _control(cid: str, *rules: str) -> Control:
    return Control(
        id=cid,
        title=cid,
        description="A control. It is tested.",
        coverage=Coverage.PARTIAL if rules else Coverage.MANUAL,
        rules=rules,
        manual="x",
    )


def _matrix(framework: str, *controls: Control, label: str = "", order: int | None = None) -> ControlMatrix:
    return ControlMatrix(
        framework=framework,
        version="1",
        title=framework,
        controls=controls,
        file=f"{framework}.yaml",
        sha256="0" * 64,
        label=label,
        order=order,
    )


ALPHA = _matrix("alpha", _control("AL-1", "r.one"), label="Alpha")  # no order: shown last
ZULU = _matrix(
    "zulu",
    _control("Z6.10", "r.one"),
    _control("Z6.2", "r.one", "r.two"),
    _control("Z6.2b"),
    label="Zulu 1",
    order=1,
)
MIKE = _matrix("mike", _control("M.1", "r.two"), order=2)
BRAVO = _matrix("bravo", _control("B.1", "r.one"), label="Bravo", order=2)  # ties with mike


def test_display_order_is_by_order_then_id_with_unordered_last() -> None:
    assert [m.framework for m in display_order([ALPHA, MIKE, ZULU, BRAVO])] == [
        "zulu",
        "bravo",
        "mike",
        "alpha",
    ]


def test_labels_default_to_the_framework_id() -> None:
    assert framework_labels([ALPHA, MIKE, ZULU, BRAVO]) == {
        "zulu": "Zulu 1",
        "bravo": "Bravo",
        "mike": "mike",
        "alpha": "Alpha",
    }


def test_rule_links_frameworks_in_display_order_ids_in_natural_order() -> None:
    links = rule_links([ALPHA, MIKE, ZULU, BRAVO])
    assert list(links) == ["r.one", "r.two"]
    assert links["r.one"] == {"zulu": ("Z6.2", "Z6.10"), "bravo": ("B.1",), "alpha": ("AL-1",)}
    assert list(links["r.one"]) == ["zulu", "bravo", "alpha"]
    assert links["r.two"] == {"zulu": ("Z6.2",), "mike": ("M.1",)}


def test_rule_links_include_an_organisations_own_rules_once_attached() -> None:
    rules = {"acme.own": {"zulu": ["Z6.2b"]}}
    attached = attach_rules([ZULU], rules, {"acme.own"})
    assert rule_links(attached)["acme.own"] == {"zulu": ("Z6.2b",)}
    assert "acme.own" not in rule_links([ZULU])


def test_builtin_links_are_what_the_matrix_files_list(matrices: dict[str, ControlMatrix]) -> None:
    links = rule_links(matrices.values())
    for matrix in matrices.values():
        for control in matrix.controls:
            for rule in control.rules:
                assert control.id in links[rule][matrix.framework]
    assert list(links["source_control.required_reviews"]) == ["soc2", "iso27001-2022", "ssdf"]
    assert links["source_control.required_reviews"]["iso27001-2022"] == ("A.5.3", "A.8.32")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_policy_and_controls_never_import_each_other() -> None:
    """They meet only in the pipeline: rules know no matrices, matrices know rules by id only."""
    crossing = [
        f"{path.relative_to(SRC)} imports {name}"
        for own, other in (("policy", "affidavit.controls"), ("controls", "affidavit.policy"))
        for path in sorted((SRC / own).rglob("*.py"))
        for name in sorted(_imports(path))
        if name == other or name.startswith(other + ".")
    ]
    assert crossing == []
    assert any((SRC / "controls").rglob("*.py")) and any((SRC / "policy").rglob("*.py"))
