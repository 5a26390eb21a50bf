"""Raw artefacts copied into a bundle keep no secret: plans by their sensitive marks, scans by field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from affidavit.collectors.formats.terraform_plan import redact_plan
from tests.conftest import CORPUS


def _marked_values(value: Any, marks: Any) -> list[Any]:
    """Every leaf value a Terraform ``*_sensitive`` mirror marks, read independently."""
    if marks is True:
        if isinstance(value, dict | list):
            out: list[Any] = []
            items = value.values() if isinstance(value, dict) else value
            for v in items:
                out.extend(_marked_values(v, True))
            return out
        return [value]
    if isinstance(marks, dict) and isinstance(value, dict):
        return [x for k, m in marks.items() if k in value for x in _marked_values(value[k], m)]
    if isinstance(marks, list) and isinstance(value, list):
        return [x for i, m in enumerate(marks) if i < len(value) for x in _marked_values(value[i], m)]
    return []


SYNTHETIC = json.dumps(
    {
        "format_version": "1.2",
        "variables": {"db_password": {"value": "hunter2-correct-horse"}},
        "resource_changes": [
            {
                "address": "aws_db_instance.main",
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "main",
                "change": {
                    "actions": ["update"],
                    "before": {"password": "old-secret-value", "port": 5432},
                    "after": {"password": "hunter2-correct-horse", "port": 5432},
                    "before_sensitive": {"password": True},
                    "after_sensitive": {"password": True},
                    "after_unknown": {},
                },
            }
        ],
    }
).encode()


@pytest.mark.parametrize("name", ["opentofu-show-json-sensitive-values.json", "synthetic"])
def test_sensitive_plan_values_do_not_survive(name: str) -> None:
    raw = SYNTHETIC if name == "synthetic" else (CORPUS / "terraform-plan" / name).read_bytes()
    plan = json.loads(raw)
    secrets = set()
    for rc in plan.get("resource_changes", []):
        change = rc["change"]
        for side in ("before", "after"):
            for v in _marked_values(change.get(side), change.get(f"{side}_sensitive")):
                if isinstance(v, str) and len(v) >= 4:
                    secrets.add(v)
    assert secrets, "the sample must hold sensitive values for this test to mean anything"
    redacted = redact_plan(raw).decode()
    json.loads(redacted)
    for secret in secrets:
        assert json.dumps(secret)[1:-1] not in redacted


def test_a_plan_without_marks_is_still_valid_json_with_same_changes() -> None:
    raw = (CORPUS / "terraform-plan" / "checkov-plan_with_for_each-tf_plan.json").read_bytes()
    before = json.loads(raw)
    after = json.loads(redact_plan(raw))
    assert [rc["address"] for rc in after["resource_changes"]] == [
        rc["address"] for rc in before["resource_changes"]
    ]
    assert [rc["change"]["actions"] for rc in after["resource_changes"]] == [
        rc["change"]["actions"] for rc in before["resource_changes"]
    ]
