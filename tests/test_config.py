"""``affidavit.yaml`` (issue 15 part 3): found, checked, applied and always on the record.

Hostile cases first: a configuration must not relax prod silently, invent an environment, turn
prod into another environment through an alias, or be left out of the run id.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.config import effective_rule_data, find_config, load_config, select_profile
from affidavit.errors import UsageError
from affidavit.model import EvidenceKind
from tests.conftest import REPO, results_validator, schema_errors

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
COMMIT = (DEMO / "COMMIT").read_text().strip()
NOW = "2026-11-20T12:00:00Z"
#: A value that must never be quoted in an error message.
CANARY = "canary-7f3c2e"


def _example() -> str:
    """The commented example of docs/config.md (its first yaml block)."""
    text = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match is not None
    return match.group(1)


def _write(folder: Path, text: str, name: str = "affidavit.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "waivers.yaml").write_text("[]\n")
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _no_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's AFFIDAVIT_CONFIG / AFFIDAVIT_ENVIRONMENT never reach these tests."""
    monkeypatch.delenv("AFFIDAVIT_CONFIG", raising=False)
    monkeypatch.delenv("AFFIDAVIT_ENVIRONMENT", raising=False)


def _gate(tmp_path: Path, out: str, *extra: str, params: bool = False) -> tuple[int, str, dict[str, Any]]:
    args = [
        "gate",
        "--evidence",
        str(DEMO / "go"),
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
        "--no-record",
        *(["--params", str(DEMO / "params.yaml")] if params else []),
        *extra,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    bundles = [p for p in (tmp_path / out).glob("*") if p.is_dir()]
    assert len(bundles) == 1, result.stdout + result.stderr
    results = json.loads((bundles[0] / "results.json").read_text())
    assert not schema_errors(results_validator(), results)  # the published results contract holds
    return result.exit_code, result.stdout + result.stderr, results


# ---------------------------------------------------------------------------------------------
# The documented example, end to end


def test_the_documented_example_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, _example())
    config = load_config(path)
    assert config.sha256 and config.path == str(path)
    assert config.aliases == {"live": "prod", "preprod": "staging"}
    assert config.waivers == tmp_path / "waivers.yaml"
    assert config.store == "sqlite:///var/lib/affidavit/history.db"
    assert config.default_profile == "container-service"
    supply = config.rule_data["defaults"]["supply_chain"]
    assert supply["allowed_source_repos"] == ["github.com/acme/shop"]
    assert supply["allowed_refs"] == ["refs/heads/main"]
    assert config.rule_data["defaults"]["source_control"] == {"required_checks": ["ci/build", "ci/test"]}
    site = config.profiles["static-site"]
    assert site.requires == {EvidenceKind("sast"), EvidenceKind("secret-scan")} | {
        EvidenceKind("branch-protection"),
        EvidenceKind("change-record"),
    }
    assert select_profile(None, config) is not None
    assert select_profile("static-site", config) == site


def test_the_demo_is_go_with_the_example_configuration_and_it_is_on_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example holds the demo organisation's trust: with it (through AFFIDAVIT_CONFIG, and
    the environment through AFFIDAVIT_ENVIRONMENT with the file's alias) the demo is GO without
    --params, with the same rule data in force and every change listed as --params lists it."""
    path = _write(tmp_path / "conf", _example())
    monkeypatch.setenv("AFFIDAVIT_CONFIG", str(path))
    monkeypatch.setenv("AFFIDAVIT_ENVIRONMENT", "live")
    code, output, results = _gate(tmp_path, "config")
    assert code == 0, output
    assert results["environment"] == "prod"
    inputs = results["configuration"]["inputs"]
    assert {"role": "config", "path": str(path), "sha256": load_config(path).sha256, "value": None} in inputs
    assert [c["value"] for c in inputs if c["role"] == "profile"] == ["container-service"]
    assert any(
        c["role"] == "waivers" and c["path"] == str(tmp_path / "conf" / "waivers.yaml") for c in inputs
    )

    monkeypatch.delenv("AFFIDAVIT_CONFIG")
    monkeypatch.delenv("AFFIDAVIT_ENVIRONMENT")
    code, _, by_params = _gate(tmp_path, "params", params=True)
    assert code == 0
    assert results["configuration"]["rule_data_changes"] == by_params["configuration"]["rule_data_changes"]


def test_the_configuration_hash_changes_the_run_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile: two files that differ only by a comment give two run ids; the one in the working
    folder is found without being named."""
    text = _example().replace("store: sqlite:///var/lib/affidavit/history.db\n", "")
    first = _write(tmp_path / "a", text)
    second = _write(tmp_path / "b", text + "# reviewed by the release board\n")
    monkeypatch.chdir(tmp_path / "a")
    code, _, one = _gate(tmp_path, "one")
    assert code == 0
    assert any(c["role"] == "config" and c["path"] == str(first.name) for c in one["configuration"]["inputs"])
    code, _, two = _gate(tmp_path, "two", "--config", str(second))
    assert code == 0
    assert one["run_id"] != two["run_id"]
    assert one["decision"] == two["decision"] == "GO"


def test_a_configuration_that_relaxes_prod_shows_every_key_it_changes(tmp_path: Path) -> None:
    """Hostile: a lenient prod block (under an alias) cannot hide: each key is a rule-data change,
    and a --params file still has the last word."""
    path = _write(
        tmp_path,
        "version: 1\n"
        "rule_data:\n"
        "  environments:\n"
        "    production:\n"
        "      vulnerabilities: {max_db_age_days: 30, unknown_severity: pass}\n"
        "      supply_chain: {min_slsa_level: 0}\n",
    )
    params, changes = effective_rule_data("prod", load_config(path), ())
    assert params["vulnerabilities"]["max_db_age_days"] == 30
    keys = {key: (default, value) for key, default, value in changes}
    assert keys["vulnerabilities.max_db_age_days"] == (2, 30)
    assert keys["supply_chain.min_slsa_level"][1] == 0
    assert "vulnerabilities.unknown_severity" in keys
    later = tmp_path / "later.yaml"
    later.write_text("environments:\n  prod:\n    vulnerabilities: {max_db_age_days: 3}\n")
    params, changes = effective_rule_data("prod", load_config(path), (later,))
    assert params["vulnerabilities"]["max_db_age_days"] == 3
    # Staging is untouched by a prod block.
    _, staging = effective_rule_data("staging", load_config(path), ())
    assert not any(key.startswith("vulnerabilities.max_db_age") for key, _, _ in staging)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"version: 1\nrule_dta: {{x: {CANARY}}}\n", "unknown key(s) rule_dta"),
        ("version: 2\n", "version must be 1"),
        (f"store: {CANARY}\n", "version must be 1"),
        (f"- {CANARY}\n", "the configuration must be a mapping"),
        ("version: 1\nenvironments: {aliases: {prod: dev}}\n", "redefines the environment prod"),
        ("version: 1\nenvironments: {aliases: {production: dev}}\n", "changes a built-in alias"),
        (
            f"version: 1\nenvironments: {{aliases: {{qa: {CANARY}}}}}\n",
            "names an environment affidavit does not know",
        ),
        (
            "version: 1\nrule_data: {environments: {qa: {sbom: {}}}}\n",
            "names an environment affidavit does not know",
        ),
        (
            "version: 1\ntrust: {source_repos: [a]}\nrule_data: {defaults: {supply_chain: {allowed_source_repos: [b]}}}\n",
            "supply_chain.allowed_source_repos is set twice",
        ),
        (f"version: 1\ntrust: {{signers: [{CANARY}]}}\n", "unknown trust key(s) signers"),
        (f"version: 1\nrequired_checks: {CANARY}\n", "required_checks must be a list"),
        (
            "version: 1\nprofiles: {python-library: {description: mine, requires: [sbom]}}\n",
            "redefines a built-in",
        ),
        (f"version: 1\nprofiles: {{p: {{description: d, requires: [{CANARY}]}}}}\n", "unknown evidence kind"),
        ("version: 1\nprofiles: {p: {description: d, requires: []}}\n", "at least one evidence kind"),
        ("version: 1\nprofiles: {p: {requires: [sbom]}}\n", "needs a description"),
        (
            "version: 1\nprofiles: {p: {description: d, requires: [sbom], not_applicable: [{rule: x}]}}\n",
            "needs a rule id and a reason",
        ),
        (f"version: 1\ndefault_profile: {CANARY}\n", "default_profile names no profile"),
        ("version: 1\nversion: 1\n", "not valid YAML"),
    ],
)
def test_a_configuration_that_cannot_be_trusted_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    """Each refusal names the file and the key, never a value (the canary)."""
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_config(path)
    message = caught.value.diagnostics()
    assert message.startswith(str(path)), message
    assert problem in message
    assert CANARY not in message


def test_finding_the_configuration(tmp_path: Path) -> None:
    """The working folder's affidavit.yaml is used when nothing is named; a link of that name is
    not picked up silently (it could point anywhere)."""
    assert find_config(None, tmp_path) is None
    named = tmp_path / "elsewhere.yaml"
    assert find_config(named, tmp_path) == named
    (tmp_path / "affidavit.yaml").write_text("version: 1\n")
    assert find_config(None, tmp_path) == tmp_path / "affidavit.yaml"
    linked = tmp_path / "linked"
    linked.mkdir()
    os.symlink(tmp_path / "affidavit.yaml", linked / "affidavit.yaml")
    with pytest.raises(UsageError, match="not a regular file"):
        find_config(None, linked)


def test_a_waivers_file_the_configuration_names_must_exist(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\nwaivers: missing-waivers.yaml\n")
    result = CliRunner().invoke(
        main, ["gate", "--evidence", str(DEMO / "go"), "--config", str(path), "--no-record"]
    )
    assert result.exit_code == 2
    assert "the waivers file it names does not exist" in result.stderr


def test_a_bad_configuration_stops_the_gate_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, f"version: 1\nrule_dta: {CANARY}\n")
    result = CliRunner().invoke(
        main, ["gate", "--evidence", str(DEMO / "go"), "--config", str(path), "--no-record"]
    )
    assert result.exit_code == 2
    assert "unknown key(s) rule_dta" in result.stderr and CANARY not in result.stderr


def test_the_store_named_by_the_configuration_records_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``store:`` is used when neither --store nor AFFIDAVIT_STORE names one (both win over it)."""
    database = tmp_path / "history.db"
    path = _write(
        tmp_path / "conf",
        _example().replace("sqlite:///var/lib/affidavit/history.db", f"sqlite:///{database}"),
    )
    monkeypatch.delenv("AFFIDAVIT_STORE", raising=False)
    result = CliRunner().invoke(main, _gate_args_for_store(tmp_path, path))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "history: recorded as run #1" in result.stdout
    assert database.is_file()
    shown = CliRunner().invoke(main, ["history", "--store", f"sqlite:///{database}", "--format", "json"])
    assert shown.exit_code == 0 and DIGEST in shown.stdout


def _gate_args_for_store(tmp_path: Path, config: Path) -> list[str]:
    return [
        "gate",
        "--evidence",
        str(DEMO / "go"),
        "--subject",
        f"ghcr.io/acme/shop@{DIGEST}",
        "--commit",
        COMMIT,
        "--now",
        NOW,
        "--replay",
        "--out",
        str(tmp_path / "out"),
        "--key",
        str(DEMO / "cosign.pub"),
        "--config",
        str(config),
    ]
