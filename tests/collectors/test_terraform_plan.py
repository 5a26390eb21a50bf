"""Terraform/OpenTofu plan JSON: every corpus plan, sensitive masking, wrapper, state rejection, speed.

Expected values are computed here from the raw files with code of the test's own, never copied
from the collector's output.
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, collect_paths, registry
from affidavit.collectors.interface import CollectOptions
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_corpus_contract import RECORD_KEYS
from tests.conftest import validate_record

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # the example key id of the AWS documentation

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
FOLDER = SHARED / "corpus" / "terraform-plan"
NOW = "2026-11-20T12:00:00Z"
OPTIONS = CollectOptions(now=NOW)
INDEX: list[dict[str, Any]] = json.loads((FOLDER / "INDEX.json").read_text(encoding="utf-8"))

# Files the collector must refuse, and a word the message must contain. The checkov "corrupted"
# plan holds only `values` (what `terraform show -json` prints for a *state*), no changes.
REJECTED = {"checkov-corrupted-tfplan.json": "Terraform state"}

_OWN_MODULES = (
    "affidavit.collectors.formats.terraform_plan",
    "affidavit.collectors.formats.terraform_config",
    "affidavit.collectors.formats.branch_protection",
    "affidavit.collectors.formats.change_record",
)


@pytest.fixture(autouse=True)
def _own_formats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run detection over this area's formats only, so that these tests do not depend on others'."""
    monkeypatch.setattr(registry, "_MODULES", _OWN_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def _collect(name: str, raw: bytes | None = None) -> dict[str, Any]:
    """The record of a corpus plan (or of ``raw`` under that name), as JSON."""
    data = (FOLDER / name).read_bytes() if raw is None else raw
    return collect_document(Artefact(f"terraform-plan/{name}", data), OPTIONS).to_json()


def _raw_plan(name: str) -> dict[str, Any]:
    """The plan JSON of a corpus file, found by the test itself (wrapper lines skipped)."""
    text = (FOLDER / name).read_text(encoding="utf-8")
    if text.startswith("[command]"):
        line = next(ln for ln in text.splitlines() if ln.startswith("{"))
        value: dict[str, Any] = json.loads(line)
        return value
    value = json.loads(text)
    return value


def _expected_summary(changes: list[dict[str, Any]]) -> dict[str, int]:
    """Counts per kind of change, computed here from the raw resource changes."""
    names = {"no-op": "no_op"}
    counts = {"create": 0, "update": 0, "delete": 0, "replace": 0, "no_op": 0, "read": 0, "forget": 0}
    for rc in changes:
        actions = rc["change"]["actions"]
        if sorted(actions) == ["create", "delete"]:
            counts["replace"] += 1
        else:
            (action,) = actions
            counts[names.get(action, action)] += 1
    return counts


def _marked_leaves(value: Any, marks: Any) -> Iterator[Any]:
    """Every value a ``*_sensitive`` mirror marks ``true`` (the plaintext that must not leak)."""
    if marks is True:
        yield value
    elif isinstance(marks, dict) and isinstance(value, dict):
        for key, mark in marks.items():
            if key in value:
                yield from _marked_leaves(value[key], mark)
    elif isinstance(marks, list) and isinstance(value, list):
        for item, mark in zip(value, marks, strict=False):
            yield from _marked_leaves(item, mark)


def _unmarked_scalars(value: Any, marks: Any) -> Iterator[Any]:
    """Every scalar of ``value`` in a place the mirror ``marks`` does not mark."""
    if marks is True:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _unmarked_scalars(item, marks.get(key) if isinstance(marks, dict) else None)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unmarked_scalars(
                item, marks[i] if isinstance(marks, list) and i < len(marks) else None
            )
    else:
        yield value


def _scalars(value: Any) -> Iterator[Any]:
    """Every scalar inside ``value``."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    else:
        yield value


def _assert_no_plaintext(plan: dict[str, Any], record: dict[str, Any]) -> int:
    """Assert that no sensitive value of ``plan`` appears in ``record``; returns how many were checked.

    Sensitive values: those marked in resource changes' ``*_sensitive`` mirrors, the values of
    variables the configuration declares ``sensitive``, and sensitive output changes.
    """
    leaves: list[Any] = []
    public: set[Any] = set()  # values that also stand in unmarked places may rightly appear
    for rc in plan.get("resource_changes", []):
        change = rc["change"]
        public.update(v for k, v in rc.items() if k != "change" and isinstance(v, str))
        for side in ("before", "after"):
            leaves.extend(_marked_leaves(change.get(side), change.get(f"{side}_sensitive")))
            public.update(_unmarked_scalars(change.get(side), change.get(f"{side}_sensitive")))
    declared = ((plan.get("configuration") or {}).get("root_module") or {}).get("variables") or {}
    for name, var in (plan.get("variables") or {}).items():
        if declared.get(name, {}).get("sensitive") is True:
            leaves.append(var.get("value"))
    for out in (plan.get("output_changes") or {}).values():
        leaves.extend(out.get(side) for side in ("before", "after") if out.get(f"{side}_sensitive") is True)
    secrets = {s for leaf in leaves for s in _scalars(leaf) if isinstance(s, str) and len(s) >= 4} - public
    dumped = json.dumps(record)
    leaked = sorted(s for s in secrets if json.dumps(s) in dumped)
    assert not leaked, f"sensitive plaintext in the record: {leaked[:3]}"
    return len(secrets)


# ---------------------------------------------------------------------------------------------
# Every corpus file


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_corpus_plan(entry: dict[str, Any]) -> None:
    """Every corpus plan normalises with the raw file's addresses, actions and counts, or is refused."""
    name = entry["file"]
    if name in REJECTED:
        with pytest.raises(InputError, match=REJECTED[name]) as info:
            _collect(name)
        assert "terraform show -json tf.plan" in info.value.diagnostics()
        return
    plan = _raw_plan(name)
    record = _collect(name)
    _check_shape(record)
    data = record["data"]
    assert record["kind"] == EvidenceKind.TERRAFORM_PLAN.value
    assert record["format"] == "terraform-plan-json"
    assert record["format_version"] == plan["format_version"] == data["format_version"]
    assert data["terraform_version"] == plan.get("terraform_version")
    raw_changes = plan.get("resource_changes", [])
    assert [(c["address"], c["actions"]) for c in data["resource_changes"]] == [
        (rc["address"], rc["change"]["actions"]) for rc in raw_changes
    ]
    assert [c["module"] for c in data["resource_changes"]] == [rc.get("module_address") for rc in raw_changes]
    assert [c["previous_address"] for c in data["resource_changes"]] == [
        rc.get("previous_address") for rc in raw_changes
    ]
    assert [c["provider"] for c in data["resource_changes"]] == [
        rc.get("provider_name") for rc in raw_changes
    ]
    assert data["summary"] == _expected_summary(raw_changes)
    assert sum(data["summary"].values()) == len(raw_changes)
    assert [d["actions"] for d in data["drift"]] == [
        d["change"]["actions"] for d in plan.get("resource_drift", [])
    ]
    assert data["errored"] is (plan.get("errored") is True)
    assert data["output_changes"] == sorted(plan.get("output_changes", {}))
    assert all(
        c["after_unknown"] == rc["change"].get("after_unknown")
        for c, rc in zip(data["resource_changes"], raw_changes, strict=True)
    )
    _assert_no_plaintext(plan, record)
    json.dumps(record)  # JSON-serialisable


def test_replace_actions_kept_in_the_plans_order() -> None:
    """A replacement keeps Terraform's action order and counts once, as replace."""
    cbd = _collect("checkov-plan_with_deleted_resources-tfplan.json")["data"]
    assert cbd["resource_changes"][0]["actions"] == ["create", "delete"]
    assert cbd["summary"]["replace"] == 1 and cbd["summary"]["create"] == 0 and cbd["summary"]["delete"] == 0
    plain = _collect("opentofu-show-json-requires-replace.json")["data"]
    change = plain["resource_changes"][0]
    assert change["actions"] == ["delete", "create"]
    assert (
        change["replace_paths"]
        == _raw_plan("opentofu-show-json-requires-replace.json")["resource_changes"][0]["change"][
            "replace_paths"
        ]
    )
    assert change["action_reason"] == "replace_because_cannot_update"


def test_moved_resource_keeps_previous_address() -> None:
    """A moved block's previous address is kept."""
    raw = _raw_plan("opentofu-show-json-moved.json")["resource_changes"][0]
    change = _collect("opentofu-show-json-moved.json")["data"]["resource_changes"][0]
    assert (change["address"], change["previous_address"]) == (raw["address"], raw["previous_address"])
    assert change["previous_address"] != change["address"]


def test_errored_plan_is_kept_with_a_problem() -> None:
    """``errored: true`` is a record with a problem, not an error."""
    record = _collect("opentofu-show-json-plan-error.json")
    assert record["data"]["errored"] is True
    assert record["data"]["resource_changes"] == []
    assert any("errored: true" in p for p in record["problems"])


def test_target_plan_is_flagged_partial() -> None:
    """A -target plan (prior-state resources without changes) is flagged partial."""
    record = _collect("infracost-plan_with_target.json")
    assert record["data"]["partial"] is True
    assert any(
        "1 managed resource(s) in prior_state have no resource change" in p and "-target" in p
        for p in record["problems"]
    )
    assert not any("aws_instance.web_app_2" in p for p in record["problems"])  # no address quoted
    assert _collect("infracost-terraform_v0.14_plan.json")["data"]["partial"] is False


def _deferred_plan() -> dict[str, Any]:
    """A Terraform 1.10 plan with one deferred replacement (``jsonplan.DeferredResourceChange``)."""
    rc = {
        "address": "aws_db_instance.main",
        "mode": "managed",
        "type": "aws_db_instance",
        "name": "main",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["delete", "create"],
            "before": {"identifier": "shop-prod", "password": "hunter2-hunter2"},
            "after": {"identifier": "shop-prod"},
            "after_unknown": {},
            "before_sensitive": {"password": True},
            "after_sensitive": {},
        },
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.10.3",
        "resource_changes": [],
        "deferred_changes": [{"reason": "provider_config_unknown", "resource_change": rc}],
        "applyable": True,
        "complete": False,
        "errored": False,
    }


def test_deferred_changes_are_named_not_copied() -> None:
    """Deferred changes (hashicorp/terraform internal/command/jsonplan/resource.go,
    DeferredResourceChange{reason, resource_change}) are kept by address, type, actions and reason,
    with a problem; their values (a password in ``before``) are not copied."""
    record = _collect("deferred.json", json.dumps(_deferred_plan()).encode())
    _check_shape(record)
    assert record["data"]["deferred_changes"] == [
        {
            "address": "aws_db_instance.main",
            "type": "aws_db_instance",
            "actions": ["delete", "create"],
            "reason": "provider_config_unknown",
        }
    ]
    assert record["data"]["complete"] is False and record["data"]["partial"] is True
    assert any("deferred 1 resource change(s)" in p for p in record["problems"])
    assert "hunter2" not in json.dumps(record)


def test_deferred_changes_must_be_a_list() -> None:
    """A ``deferred_changes`` that is not a list is refused with its place."""
    plan = dict(_deferred_plan(), deferred_changes={"reason": "unknown"})
    with pytest.raises(InputError, match=r"deferred_changes"):
        _collect("deferred.json", json.dumps(plan).encode())


def test_imds_setting_is_not_masked_in_an_unmarked_plan() -> None:
    """``http_tokens`` (AWS provider docs, aws_instance metadata_options: "required" enforces IMDSv2)
    is a setting, not a secret: a Terraform 0.12 plan without sensitivity marks keeps it."""
    plan = {
        "format_version": "0.1",
        "terraform_version": "0.12.31",
        "resource_changes": [
            {
                "address": "aws_instance.api",
                "mode": "managed",
                "type": "aws_instance",
                "name": "api",
                "provider_name": "aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": {
                        "ami": "ami-0abcdef1234567890",
                        "metadata_options": [{"http_endpoint": "enabled", "http_tokens": "required"}],
                    },
                    "after_unknown": {"id": True},
                },
            }
        ],
    }
    record = _collect("imds.json", json.dumps(plan).encode())
    after = record["data"]["resource_changes"][0]["after"]
    assert after["metadata_options"] == [{"http_endpoint": "enabled", "http_tokens": "required"}]
    assert record["data"]["resource_changes"][0]["sensitive_paths"] == []


def test_timestamp_becomes_effective_at_only_when_it_is_one() -> None:
    """``timestamp`` becomes ``effective_at`` only when it is RFC 3339."""
    assert _collect("checkov-plan_with_for_each-tf_plan.json")["effective_at"] == "2025-10-21T13:18:15Z"
    record = _collect("checkov-GithubActionsOIDCTrustPolicy-tfplan.json")  # "timestamp": "123"
    assert record["effective_at"] is None
    assert any(
        "$.timestamp: a string of 3 characters, not an RFC 3339 timestamp" in p for p in record["problems"]
    )


def test_timestamp_is_written_in_utc_to_the_second() -> None:
    """The plan's ``timestamp`` is read and written by the one timestamp rule (``model.time``)."""
    plan = {"format_version": "1.2", "timestamp": "2025-10-21T15:18:15.5+02:00", "resource_changes": []}
    record = collect_document(Artefact("plan.json", json.dumps(plan).encode()), OPTIONS).to_json()
    assert record["effective_at"] == "2025-10-21T13:18:15Z"


def test_subject_and_tool() -> None:
    """No subject from a plan; the tool is Terraform or OpenTofu (from the registry)."""
    record = _collect("tfcompliance-test_issue_796-plan.out.json")
    assert record["subject"] == {"name": None, "version": None, "digest": None}
    assert record["tool"] == {"name": "terraform", "version": "1.14.9"}
    assert _collect("opentofu-show-json-moved.json")["tool"] == {"name": "opentofu", "version": None}


# ---------------------------------------------------------------------------------------------
# Sensitive values


def test_sensitive_values_are_masked() -> None:
    """The OpenTofu sensitive-values plan loses its plaintext."""
    name = "opentofu-show-json-sensitive-values.json"
    plan = _raw_plan(name)
    record = _collect(name)
    secret = plan["resource_changes"][0]["change"]["after"]["ami"]
    assert secret == "boop"
    change = record["data"]["resource_changes"][0]
    assert change["after"]["ami"] == "(sensitive)"
    assert change["sensitive_paths"] == [["after", "ami"]]
    assert "boop" not in json.dumps(record)
    assert _assert_no_plaintext(plan, record) == 1


def test_marks_on_whole_objects_and_list_items(tmp_path: Path) -> None:
    """``true`` on an object masks it whole; list marks mask single items; a string of a masked
    value that stands unmarked elsewhere in the same change (here the user of the connection that
    was sensitive as a whole before) is masked there too, and listed. The earlier values are not
    in the record at all."""
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {}},
        "resource_changes": [
            {
                "address": "x_db.main",
                "mode": "managed",
                "type": "x_db",
                "name": "main",
                "provider_name": "registry.terraform.io/acme/x",
                "change": {
                    "actions": ["update"],
                    "before": {
                        "conn": {"user": "admin", "pass": "hunter2-old"},
                        "keys": ["k-one", "k-two"],
                        "n": 1,
                    },
                    "after": {
                        "conn": {"user": "admin", "pass": "hunter2-new"},
                        "keys": ["k-one", "k-three"],
                        "n": 2,
                    },
                    "after_unknown": {},
                    "before_sensitive": {"conn": True, "keys": [False, True]},
                    "after_sensitive": {"conn": {"pass": True}, "keys": [False, True]},
                },
            }
        ],
    }
    record = _collect("masking.json", json.dumps(plan).encode())
    change = record["data"]["resource_changes"][0]
    assert "before" not in change
    assert change["after"] == {
        "conn": {"user": "(sensitive)", "pass": "(sensitive)"},
        "keys": ["k-one", "(sensitive)"],
        "n": 2,
    }
    assert sorted(change["sensitive_paths"]) == [
        ["after", "conn", "pass"],
        ["after", "conn", "user"],
        ["after", "keys", 1],
    ]
    for secret in ("hunter2-old", "hunter2-new", "k-two", "k-three", "admin"):
        assert secret not in json.dumps(record)


def test_a_secret_no_mark_covers_is_masked_and_listed_in_a_marked_plan() -> None:
    """A provider marks only what its schema declares sensitive: the AWS provider's
    ``aws_lambda_function`` ``environment.variables`` is a plain map, so a literal password there
    stands unmarked in ``after`` of a Terraform 1.9 plan whose other marks are all in place
    (JSON output format: ``after_sensitive`` mirrors ``after``). Nothing in the plan has a
    credential's shape. The password is masked as sensitive and listed, so that a rule treats it
    as unseen; it was once left to the records' general masking, which wrote a different marker
    and listed nothing."""
    after = {
        "function_name": "orders-sync",
        "environment": [{"variables": {"DB_PASSWORD": "correct-horse-battery-staple", "STAGE": "prod"}}],
        "kms_key_arn": None,
    }
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "aws_lambda_function.sync",
                "mode": "managed",
                "type": "aws_lambda_function",
                "name": "sync",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": after,
                    "after_unknown": {"arn": True},
                    "before_sensitive": False,
                    "after_sensitive": {"environment": [{"variables": {}}]},
                },
            }
        ],
    }
    record = _collect("lambda-env.json", json.dumps(plan).encode())
    change = record["data"]["resource_changes"][0]
    assert change["after"]["environment"][0]["variables"] == {"DB_PASSWORD": "(sensitive)", "STAGE": "prod"}
    assert change["sensitive_paths"] == [["after", "environment", 0, "variables", "DB_PASSWORD"]]
    assert any("look like secrets" in p and "($.resource_changes[0])" in p for p in record["problems"])
    assert "correct-horse" not in json.dumps(record)


def test_unmarked_old_plan_masks_what_looks_secret() -> None:
    """A Terraform 0.12 plan has no marks: credentials in a Lambda environment are masked on a guess."""
    name = "checkov-plan_tags-tfplan.json"
    raw = _raw_plan(name)
    lambda_env = next(
        rc["change"]["after"]["environment"][0]["variables"]
        for rc in raw["resource_changes"]
        if rc["type"] == "aws_lambda_function"
    )
    secrets = [v for k, v in lambda_env.items() if "key" in k.lower()]
    assert secrets and all(len(v) >= 16 for v in secrets)
    record = _collect(name)
    dumped = json.dumps(record)
    assert all(secret not in dumped for secret in secrets)
    lambdas = [i for i, rc in enumerate(raw["resource_changes"]) if rc["type"] == "aws_lambda_function"]
    assert any(
        "look like secrets" in p and f"$.resource_changes[{lambdas[0]}]" in p for p in record["problems"]
    )
    assert not any("aws_lambda_function" in p for p in record["problems"])  # places, not addresses


def test_token_in_marked_plan_is_masked_too() -> None:
    """An AWS key in user_data is masked although the provider does not mark it."""
    script = "#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAZZZZEXAMPLE00001\necho hi\n"
    plan = {
        "format_version": "1.2",
        "planned_values": {},
        "resource_changes": [
            {
                "address": "aws_instance.web",
                "mode": "managed",
                "type": "aws_instance",
                "name": "web",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": {"user_data": script, "ami": "ami-0abc", "tags": {"Name": "web"}},
                    "after_unknown": {"id": True},
                    "before_sensitive": False,
                    "after_sensitive": {"tags": {}},
                },
            }
        ],
    }
    record = _collect("userdata.json", json.dumps(plan).encode())
    change = record["data"]["resource_changes"][0]
    assert change["after"] == {"user_data": "(sensitive)", "ami": "ami-0abc", "tags": {"Name": "web"}}
    assert change["sensitive_paths"] == [["after", "user_data"]]
    assert "AKIAZZZZEXAMPLE00001" not in json.dumps(record)


@pytest.fixture(scope="module")
def generated_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-resource plan from the shared generator (same shapes as the 63 MB benchmark plan)."""
    out = tmp_path_factory.mktemp("bench")
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "bench" / "gen_evidence.py"),
            "--out",
            str(out),
            "--resources",
            "1500",
            "--components",
            "5",
            "--vulns",
            "5",
        ],
        check=True,
        capture_output=True,
    )
    return out / "tfplan.json"


def test_generated_plan_leaks_no_sensitive_value(generated_plan: Path) -> None:
    """No sensitive value of the generated benchmark-shaped plan reaches the record."""
    plan = json.loads(generated_plan.read_bytes())
    record = collect_document(Artefact.from_path(generated_plan), OPTIONS).to_json()
    checked = _assert_no_plaintext(plan, record)
    assert checked > 10  # the generator marks RDS passwords (and the db_password variable) sensitive
    masked = [c for c in record["data"]["resource_changes"] if c["sensitive_paths"]]
    assert masked and all(
        c["after"] is None or c["after"].get("password") in (None, "(sensitive)") for c in masked
    )
    assert record["data"]["summary"] == _expected_summary(plan["resource_changes"])


@pytest.mark.slow
def test_the_benchmark_plan_is_read_whole(tmp_path: Path) -> None:
    """The 63 MB, 15,000-resource plan of the shared benchmark is normalised whole (how fast is
    ``tools/bench.py``'s to say, against a floor measured in the same run: no timed unit test)."""
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "bench" / "gen_evidence.py"),
            "--out",
            str(tmp_path),
            "--components",
            "5",
            "--vulns",
            "5",
        ],
        check=True,
        capture_output=True,
    )
    record = collect_document(Artefact.from_path(tmp_path / "tfplan.json"), OPTIONS)
    assert len(record.data["resource_changes"]) == 15000


# ---------------------------------------------------------------------------------------------
# Things people pass instead of a plan, and broken files


def test_raw_state_file_is_rejected(tmp_path: Path) -> None:
    """A terraform.tfstate is refused with how to make a plan JSON."""
    state = {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 12,
        "lineage": "0b6f4c1e-5d4a-4f59-9c1e-2f0d8a1b7c33",
        "outputs": {},
        "resources": [{"mode": "managed", "type": "null_resource", "name": "a", "instances": []}],
        "check_results": None,
    }
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(InputError, match="raw Terraform state file") as info:
        collect_document(Artefact.from_path(path), OPTIONS)
    assert "terraform plan -out tf.plan && terraform show -json tf.plan" in info.value.diagnostics()


def test_show_json_of_state_is_rejected(tmp_path: Path) -> None:
    """``terraform show -json`` of a state is refused as state."""
    shown = {
        "format_version": "1.0",
        "terraform_version": "1.9.5",
        "values": {"root_module": {"resources": []}},
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(shown), encoding="utf-8")
    with pytest.raises(InputError, match="is Terraform state .* not a plan"):
        collect_document(Artefact.from_path(path), OPTIONS)


def test_setup_terraform_wrapper_output_is_read_with_a_problem() -> None:
    """The setup-terraform wrapper's output is read, with the fix in a problem."""
    name = "infracost-plan_with_terraform_wrapper.json"
    record = _collect(name)
    plan = _raw_plan(name)
    assert [c["address"] for c in record["data"]["resource_changes"]] == [
        rc["address"] for rc in plan["resource_changes"]
    ]
    (problem,) = [p for p in record["problems"] if "setup-terraform" in p]
    assert "terraform_wrapper: false" in problem and "line 2" in problem


def test_wrapper_with_pretty_json_and_debug_lines(tmp_path: Path) -> None:
    """Wrapper output with indented JSON and ``::debug::`` lines is read too."""
    plan = json.loads((FOLDER / "opentofu-show-json-basic-delete.json").read_bytes())
    text = (
        "[command]/home/runner/work/_temp/0c2f/terraform-bin show -json tf.plan\n"
        + json.dumps(plan, indent=2)
        + "\n::debug::Terraform exited with code 0.\n::debug::exitcode: 0\n"
    )
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    record = collect_document(Artefact.from_path(path), OPTIONS).to_json()
    assert record["data"]["summary"]["delete"] == 1 and record["data"]["summary"]["update"] == 1
    assert any("terraform_wrapper: false" in p for p in record["problems"])


def test_streamed_plan_log_is_rejected(tmp_path: Path) -> None:
    """The UI log of ``terraform plan -json`` is refused as not a plan."""
    lines = [
        {
            "@level": "info",
            "@message": "Terraform 1.9.5",
            "@module": "terraform.ui",
            "terraform": "1.9.5",
            "type": "version",
            "ui": "1.2",
        },
        {
            "@level": "info",
            "@message": "Plan: 1 to add",
            "@module": "terraform.ui",
            "type": "change_summary",
            "changes": {"add": 1, "change": 0, "remove": 0, "operation": "plan"},
        },
    ]
    path = tmp_path / "plan.log.json"
    path.write_text(
        "\n".join(json.dumps(line, separators=(",", ":")) for line in lines) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="streamed log of `terraform plan -json`"):
        collect_document(Artefact.from_path(path), OPTIONS)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """A 0-byte file is an InputError, and collect_paths keeps going."""
    path = tmp_path / "tfplan.json"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        Artefact.from_path(path)
    collection = collect_paths([path], OPTIONS)
    assert collection.evidence == [] and len(collection.errors) == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_plan_in_other_encodings(encoding: str) -> None:
    """UTF-16 (with and without BOM) and UTF-8 with BOM read like UTF-8."""
    name = "opentofu-show-json-sensitive-values.json"
    text = (FOLDER / name).read_text(encoding="utf-8")
    raw = text.encode(encoding)
    if encoding == "utf-16":
        assert raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    record = _collect(name, raw)
    assert record["data"] == _collect(name)["data"]
    assert record["id"] != _collect(name)["id"]  # the id hashes the bytes as read


@pytest.mark.parametrize(
    ("plan", "path"),
    [
        (
            {"format_version": "1.2", "planned_values": {}, "resource_changes": {"a": 1}},
            r"\$\.resource_changes",
        ),
        (
            {"format_version": "1.2", "resource_changes": [{"address": "a.b", "change": {}}]},
            r"change\.actions",
        ),
        ({"format_version": "1.2", "resource_changes": ["x"]}, r"\$\.resource_changes\[0\]"),
        ({"planned_values": {}, "resource_changes": []}, "format_version"),
    ],
)
def test_malformed_plans_name_the_place(plan: dict[str, Any], path: str) -> None:
    """Wrong shapes are InputErrors naming the JSON path."""
    with pytest.raises(InputError, match=path):
        collect_document(
            Artefact("bad.json", json.dumps(plan).encode()),
            CollectOptions(now=NOW, format="terraform-plan-json"),
        )


# ---------------------------------------------------------------------------------------------
# The shape of a plan record (goldens: test_corpus_contract.py)


def _check_shape(record: dict[str, Any]) -> None:
    """Validate a record: the public schema, its key order, then the terraform-plan data keys."""
    validate_record(record)
    assert list(record) == RECORD_KEYS
    assert record["schema"] == "affidavit.evidence/v1" and record["id"].startswith("sha256:")
    assert set(record["data"]) == {
        "terraform_version",
        "format_version",
        "resource_changes",
        "summary",
        "drift",
        "deferred_changes",
        "errored",
        "applyable",
        "complete",
        "partial",
        "output_changes",
    }
    for change in record["data"]["resource_changes"]:
        assert set(change) == {
            "address",
            "previous_address",
            "type",
            "name",
            "index",
            "module",
            "provider",
            "mode",
            "actions",
            "action_reason",
            "replace_paths",
            "after",
            "after_unknown",
            "sensitive_paths",
        }


def test_a_plan_that_may_hold_a_token_is_looked_at_once_per_distinct_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 14: one credential shape anywhere in a plan (here an IAM role's unique id, whose
    ``AROA`` prefix AWS documents in "IAM identifiers", with ``ASIA`` inside it) makes the plan
    reader look at every value of every change for a credential. A plan repeats its values (the
    same tags on every resource), and each distinct string is now judged once: the records are
    those of judging every occurrence, a real key in a tag is masked on every resource, and the
    role's id (not a key) is kept."""
    import affidavit.collectors.kinds.terraform as terraform
    from affidavit.collectors.kinds.secrets import looks_secret

    asked: list[str] = []

    def counted(text: str) -> bool:
        asked.append(text)
        return looks_secret(text)

    changes = []
    for i in range(60):
        values = {
            "bucket": f"shop-assets-{i}",
            "tags": {"Team": "edge", "Owner": "ops@example.com", "note": f"key {AWS_KEY_ID} in a tag"},
            "role_unique_id": "AROASIAS5AMGXGL2EJBQD",
        }
        changes.append(
            {
                "address": f"aws_s3_bucket.b{i}",
                "type": "aws_s3_bucket",
                "name": f"b{i}",
                "mode": "managed",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["update"],
                    "before": values,
                    "after": values,
                    "after_unknown": {},
                    "before_sensitive": {},
                    "after_sensitive": {},
                },
            }
        )
    plan = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes}
    raw = json.dumps(plan).encode()
    monkeypatch.setattr(terraform, "looks_secret", counted)
    record = collect_document(Artefact("plan.json", raw), CollectOptions(now="2026-11-20T12:00:00Z"))
    distinct = {"edge", "ops@example.com", f"key {AWS_KEY_ID} in a tag", "AROASIAS5AMGXGL2EJBQD"}
    distinct |= {f"shop-assets-{i}" for i in range(60)}
    assert sorted(asked) == sorted(distinct)  # each once, not 240 times over
    for change in record.data["resource_changes"]:
        assert "before" not in change
        assert change["after"]["tags"]["note"] == "(sensitive)"
        assert change["after"]["role_unique_id"] == "AROASIAS5AMGXGL2EJBQD"
    assert AWS_KEY_ID not in json.dumps(record.to_json())
