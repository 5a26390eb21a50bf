"""docs/reference.md is generated from the policies and matrices and must not be stale."""

from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from tests.conftest import REPO


def test_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "tools" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    assert module.render() == current, "docs/reference.md is stale: run python tools/gen_reference.py"


def test_explain_rule_names_controls_of_both_frameworks_and_the_fix() -> None:
    result = CliRunner().invoke(main, ["explain", "source_control.required_reviews"])
    assert result.exit_code == 0, result.output
    assert "SOC 2 CC8.1" in result.output and "ISO 27001:2022 A.8.32" in result.output
    assert "fix:" in result.output and "min_approvals" in result.output


@pytest.mark.parametrize("control", ["CC8.1", "A.8.32"])
def test_explain_control_lists_its_rules(control: str) -> None:
    result = CliRunner().invoke(main, ["explain", control])
    assert result.exit_code == 0, result.output
    assert "source_control.required_reviews" in result.output
    assert "coverage: partial" in result.output


def test_explain_unknown_target_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "no.such_rule"])
    assert result.exit_code == 2
    assert "neither a rule id nor a control id" in result.stderr
