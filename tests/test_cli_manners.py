"""CLI manners (issue 15 part 8): a tag is not a digest, colour only on a terminal and never with
NO_COLOR, --quiet, options after the command, explain --format json, one exit code for a missing
path."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.cli.common import check_subject_reference, colour_enabled, coloured_headline
from affidavit.errors import UsageError
from tests.conftest import REPO

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
COMMIT = (DEMO / "COMMIT").read_text().strip()
NOW = "2026-11-20T12:00:00Z"
AFFIDAVIT = Path(sys.executable).parent / "affidavit"


@pytest.fixture(autouse=True)
def _no_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's AFFIDAVIT_CONFIG / AFFIDAVIT_ENVIRONMENT / NO_COLOR never reach these tests."""
    for name in ("AFFIDAVIT_CONFIG", "AFFIDAVIT_ENVIRONMENT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def _gate_args(out: Path, subject: str = f"ghcr.io/acme/shop@{DIGEST}") -> list[str]:
    return [
        "gate",
        "--evidence",
        str(DEMO / "go"),
        "--subject",
        subject,
        "--commit",
        COMMIT,
        "--now",
        NOW,
        "--replay",
        "--out",
        str(out),
        "--key",
        str(DEMO / "cosign.pub"),
        "--params",
        str(DEMO / "params.yaml"),
        "--no-record",
    ]


# ---------------------------------------------------------------------------------------------
# --subject with a tag


@pytest.mark.parametrize("subject", ["ghcr.io/acme/shop:1.4.2", "shop:latest", "localhost:5000/acme/shop:v1"])
def test_a_tag_is_a_usage_error_that_says_how_to_get_the_digest(tmp_path: Path, subject: str) -> None:
    """Hostile: a tag can be moved to another image between the scan and the promotion
    (https://docs.docker.com/reference/cli/docker/image/tag/), so the gate never judges one. The
    error says how to get the digest: ``crane digest`` (go-containerregistry's crane_digest.md) or
    ``docker buildx imagetools inspect`` (its --format '{{json .Manifest}}' carries the digest)."""
    result = CliRunner().invoke(main, _gate_args(tmp_path / "out", subject))
    assert result.exit_code == 2
    assert "--subject names an image by tag, not by digest" in result.stderr
    assert "crane digest" in result.stderr and "docker buildx imagetools inspect" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing judged, nothing written


@pytest.mark.parametrize(
    "subject",
    [
        None,
        f"ghcr.io/acme/shop@{DIGEST}",
        f"ghcr.io/acme/shop:1.4.2@{DIGEST}",  # a tag pinned by its digest is the digest
        f"localhost:5000/acme/shop@{DIGEST}",  # a registry's port is no tag
        "localhost:5000/acme/shop",
        DIGEST,
    ],
)
def test_digests_and_ports_are_not_tags(subject: str | None) -> None:
    check_subject_reference(subject)


def test_a_tag_is_refused_by_the_check_itself() -> None:
    with pytest.raises(UsageError, match="by tag"):
        check_subject_reference("registry.example.com:443/team/app:2026.11")


# ---------------------------------------------------------------------------------------------
# Colour


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """https://no-color.org: NO_COLOR set to a non-empty value turns colour off; empty does not."""
    assert colour_enabled(_Stream(True))
    assert not colour_enabled(_Stream(False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(_Stream(True))
    monkeypatch.setenv("NO_COLOR", "")
    assert colour_enabled(_Stream(True))


def test_only_the_decision_word_is_coloured() -> None:
    line = coloured_headline("NO-GO  ghcr.io/acme/shop@sha256:abc  environment=prod")
    assert line.startswith("\x1b[31m\x1b[1mNO-GO\x1b[0m  ghcr.io/acme/shop")
    assert coloured_headline("unexpected text") == "unexpected text"


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """``affidavit ARGS`` with its stdout on a real pseudo-terminal: what a person sees."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(AFFIDAVIT), *args], stdout=terminal, stderr=subprocess.PIPE, env=env, cwd=REPO
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError("no output within 120 s")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=120), b"".join(chunks)


def test_the_decision_is_coloured_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AFFIDAVIT_CONFIG")}
    code, seen = _on_a_terminal([*_gate_args(tmp_path / "colour"), "--quiet"], env)
    assert code == 0
    assert seen.startswith(b"\x1b[32m\x1b[1mGO\x1b[0m  ghcr.io/acme/shop@")
    code, seen = _on_a_terminal([*_gate_args(tmp_path / "plain"), "--quiet"], {**env, "NO_COLOR": "1"})
    assert code == 0
    assert b"\x1b[" not in seen and seen.startswith(b"GO  ghcr.io/acme/shop@")


# ---------------------------------------------------------------------------------------------
# --quiet, options after the command


def test_quiet_prints_only_the_decision_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*_gate_args(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("GO  ghcr.io/acme/shop@")
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
    assert len([p for p in (tmp_path / "out").iterdir() if p.is_dir()]) == 1  # the bundle is still written


def test_verbose_is_accepted_after_the_command(tmp_path: Path) -> None:
    """``affidavit gate ... --verbose`` means what ``affidavit --verbose gate ...`` means: the
    error is raised with its traceback instead of being turned into exit 2."""
    args = _gate_args(tmp_path / "out", "shop:latest")
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 2 and isinstance(plain.exception, SystemExit)
    after = CliRunner().invoke(main, [*args, "--verbose"])
    assert isinstance(after.exception, UsageError)
    before = CliRunner().invoke(main, ["--verbose", *args])
    assert isinstance(before.exception, UsageError)


# ---------------------------------------------------------------------------------------------
# explain --format json


def test_explain_a_rule_as_json() -> None:
    result = CliRunner().invoke(main, ["explain", "source_control.required_reviews", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rule = json.loads(result.stdout)
    assert rule["type"] == "rule" and rule["id"] == "source_control.required_reviews"
    assert rule["requires"] == ["branch-protection"]
    assert {"framework": "soc2", "label": "SOC 2", "id": "CC8.1", "title": "Change management"} in rule[
        "controls"
    ]
    assert rule["rule_data"]["min_approvals"] >= 1  # the prod rule data in force


def test_explain_a_control_as_json() -> None:
    result = CliRunner().invoke(main, ["explain", "CC8.1", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    control = json.loads(result.stdout)
    assert control["type"] == "control"
    [soc2] = control["controls"]
    assert soc2["framework"] == "soc2" and soc2["coverage"] in {"automated", "partial", "manual"}
    assert any(r["id"] == "change_management.approval_recorded" for r in soc2["rules"])


def test_explain_json_of_an_unknown_target_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "CC99.9", "--format", "json"])
    assert result.exit_code == 2
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------
# A missing path


@pytest.mark.parametrize(
    "args",
    [
        ["gate", "--evidence", "{missing}"],
        ["gate", "--evidence", str(DEMO / "go"), "--config", "{missing}"],
        ["gate", "--evidence", str(DEMO / "go"), "--params", "{missing}"],
        ["controls", "--framework", "soc2", "--results", "{missing}"],
        ["explain", "CC8.1", "--policies", "{missing}"],
        ["policy", "test", "{missing}"],
    ],
)
def test_a_missing_path_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    missing = str(tmp_path / "not-there")
    result = CliRunner().invoke(main, [a.replace("{missing}", missing) for a in args])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_missing_configuration_named_by_the_environment_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFFIDAVIT_CONFIG", str(tmp_path / "absent.yaml"))
    result = CliRunner().invoke(main, ["gate", "--evidence", str(DEMO / "go"), "--no-record"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_an_unwritable_out_still_prints_the_decision(tmp_path: Path) -> None:
    """An --out the bundle cannot be written to (here: below a regular file, which even root
    cannot create a folder in) is exit 3 with the reason, after the decision is shown."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    result = CliRunner().invoke(main, _gate_args(blocker / "reports"))
    assert result.exit_code == 3
    assert result.stdout.startswith("GO  ghcr.io/acme/shop@")
    assert "bundle: NOT written" in result.stdout
    assert "the bundle cannot be written there" in result.stderr
    as_json = CliRunner().invoke(main, [*_gate_args(blocker / "reports"), "--format", "json"])
    assert as_json.exit_code == 3
    summary = json.loads(as_json.stdout)
    assert summary["decision"] == "GO" and summary["bundle"] is None and summary["exit_code"] == 3


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_shell_completion_works(shell: str) -> None:
    """docs/config.md's completion lines (click's ``_<PROG>_COMPLETE=<shell>_source``) give a
    script, and completing ``gate --profile py`` offers the profile."""
    assert f"_AFFIDAVIT_COMPLETE={shell}_source affidavit" in (REPO / "docs" / "config.md").read_text()
    env = {**os.environ, "_AFFIDAVIT_COMPLETE": f"{shell}_source"}
    script = subprocess.run([str(AFFIDAVIT)], env=env, capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_AFFIDAVIT_COMPLETE" in script.stdout
    env = {
        **os.environ,
        "_AFFIDAVIT_COMPLETE": "bash_complete",
        "COMP_WORDS": "affidavit gate --profile py",
        "COMP_CWORD": "3",
    }
    offered = subprocess.run([str(AFFIDAVIT)], env=env, capture_output=True, text=True, timeout=60)
    assert offered.stdout.split() == ["plain,python-library"]


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "CC99.9"],
        ["controls", "--framework", "no-such-framework"],
    ],
)
def test_verbose_after_other_commands(args: list[str]) -> None:
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 2
    after = CliRunner().invoke(main, [*args, "--verbose"])
    assert isinstance(after.exception, UsageError)
