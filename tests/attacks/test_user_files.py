"""Attacks through the configuration files a user names: rule data, waivers, control matrices.

Issue 9 ("costs are bounded", "the evidence folder is read safely"): ``--params``, ``--waivers``
and ``--controls`` were read whole before the 4 MiB YAML limit was checked, and opened without
looking at what they were. ``--params /dev/zero`` read zeros until memory ran out; a named pipe
given as ``--waivers`` or ``--params`` waited for a writer that never came. Each is now refused
from ``stat`` before it is opened (``artefact.read_user_file``), at once, with the file and what
it is; a regular file over the limit is refused before it is read, with the limit.

Each attack runs the demo gate on the NO-GO release in a child process, so that a hang is stopped
by its timeout and fails the test instead of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from affidavit.artefact import MAX_USER_FILE_BYTES, YamlError, _unquoted, load_yaml, read_user_file
from affidavit.errors import InputError
from tests.attacks.support import COMMIT, DEMO, NOW, SUBJECT, gate, release
from tests.conftest import REPO

#: A refusal must come at once; the attacks ran until they were killed.
FAST = 10.0
TIMEOUT = 60.0


def _gate_process(tmp_path: Path, *extra: str) -> tuple[int, str, float]:
    """The demo gate on the NO-GO release in a child process: exit code, stderr, seconds taken.
    A run still going after ``TIMEOUT`` is killed and fails the test."""
    args = [sys.executable, "-m", "affidavit", "gate", "--evidence", str(DEMO / "no-go")]
    args += [
        "--environment",
        "prod",
        "--subject",
        SUBJECT,
        "--commit",
        COMMIT,
        "--params",
        str(DEMO / "params.yaml"),
    ]
    args += ["--now", NOW, "--replay", "--key", str(DEMO / "cosign.pub"), "--out", str(tmp_path / "out")]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*args, *extra], capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gate was still running after {TIMEOUT:.0f} s")
    return done.returncode, done.stderr, time.monotonic() - started


def _fifo(tmp_path: Path, name: str) -> Path:
    """A named pipe nobody writes to: opening it for reading waits for ever."""
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _refused(code: int, stderr: str, seconds: float, path: Path, what: str, exit_code: int) -> None:
    assert seconds < FAST, f"took {seconds:.1f} s"
    assert code == exit_code, stderr
    assert str(path) in stderr and what in stderr, stderr
    assert "Traceback" not in stderr


def test_params_from_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    """Rule data from /dev/zero: a character device, refused unread (rule-data errors exit 3)."""
    zero = Path("/dev/zero")
    code, stderr, seconds = _gate_process(tmp_path, "--params", str(zero))
    _refused(code, stderr, seconds, zero, "is a character device, not a regular file", 3)
    assert not (tmp_path / "out").exists()


def test_params_from_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "params.yaml")
    code, stderr, seconds = _gate_process(tmp_path, "--params", str(fifo))
    _refused(code, stderr, seconds, fifo, "is a named pipe (FIFO), not a regular file", 3)


def test_waivers_from_a_fifo_are_refused_at_once(tmp_path: Path) -> None:
    """Waivers are a usage error (exit 2) when they cannot be read."""
    fifo = _fifo(tmp_path, "waivers.yaml")
    code, stderr, seconds = _gate_process(tmp_path, "--waivers", str(fifo))
    _refused(code, stderr, seconds, fifo, "waivers file is a named pipe (FIFO), not a regular file", 2)


def test_waivers_from_dev_zero_are_refused_at_once(tmp_path: Path) -> None:
    zero = Path("/dev/zero")
    code, stderr, seconds = _gate_process(tmp_path, "--waivers", str(zero))
    _refused(code, stderr, seconds, zero, "waivers file is a character device, not a regular file", 2)


def test_a_control_matrix_from_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    zero = Path("/dev/zero")
    code, stderr, seconds = _gate_process(tmp_path, "--controls", str(zero))
    _refused(code, stderr, seconds, zero, "is a character device, not a regular file", 3)


def test_a_control_matrix_from_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "matrix.yaml")
    code, stderr, seconds = _gate_process(tmp_path, "--controls", str(fifo))
    _refused(code, stderr, seconds, fifo, "is a named pipe (FIFO), not a regular file", 3)


def test_oversized_rule_data_is_refused_unread_with_the_limit(tmp_path: Path) -> None:
    """One byte over the limit, in comments (valid YAML all the way): refused, the limit named."""
    big = tmp_path / "params.yaml"
    big.write_bytes(b"defaults: {}\n" + b"#" * (MAX_USER_FILE_BYTES - 13) + b"\n")
    assert big.stat().st_size == MAX_USER_FILE_BYTES + 1
    result = gate(tmp_path, release(tmp_path), "--params", str(big))
    assert result.exit_code == 3, result.stderr
    assert (
        f"{big}: cannot read rule data: the file is larger than the 4 MiB (4,194,304 bytes)" in result.stderr
    )
    assert not result.bundles


def test_oversized_waivers_are_a_usage_error_with_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "waivers.yaml"
    big.write_bytes(b"[]\n" + b"#" * MAX_USER_FILE_BYTES + b"\n")
    result = gate(tmp_path, release(tmp_path), "--waivers", str(big))
    assert result.exit_code == 2, result.stderr
    assert f"{big}: waivers file is larger than the 4 MiB (4,194,304 bytes)" in result.stderr


# ---------------------------------------------------------------------------------------------
# The helper itself


def test_read_user_file_takes_a_file_of_exactly_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 100)
    assert read_user_file(path, limit=100) == b"x" * 100
    with pytest.raises(InputError, match=r"f\.yaml: is larger than the 99 bytes affidavit reads"):
        read_user_file(path, limit=99)


def test_read_user_file_follows_a_link_the_user_named_to_a_regular_file_only(tmp_path: Path) -> None:
    """A named link is followed (a Kubernetes ConfigMap mounts each key as one); what it leads
    to is checked: a link to a FIFO is refused without blocking."""
    target = tmp_path / "real.yaml"
    target.write_bytes(b"a: 1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert read_user_file(link) == b"a: 1\n"
    to_fifo = tmp_path / "to-fifo.yaml"
    to_fifo.symlink_to(_fifo(tmp_path, "pipe"))
    with pytest.raises(InputError, match=r"to-fifo\.yaml: is a named pipe \(FIFO\), not a regular file"):
        read_user_file(to_fifo)


def test_read_user_file_refuses_folders_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": is a directory, not a file"):
        read_user_file(tmp_path)
    with pytest.raises(InputError, match=r"nope\.yaml: does not exist"):
        read_user_file(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------------------
# What a refusal of a YAML user file says: the place and the problem, never the file's words


@pytest.mark.parametrize(
    ("text", "quoted", "said"),
    [
        ("owner: *hunter2-alias\n", "'hunter2-alias'", "(a name or value)"),  # an undefined alias
        ('reason: "\\qhunter2"\n', "'q'", "(a character)"),  # an unknown escape character
        ("rule: !<tag:hunter2.example,2000:x> 1\n", "hunter2", "(a name or value)"),  # a tag
        ("rule: !hunter2!x y\n", "'!hunter2!'", "(a name or value)"),  # an undefined tag handle
    ],
)
def test_a_yaml_problem_quotes_nothing_of_the_file(text: str, quoted: str, said: str) -> None:
    """libyaml's problems quote nothing; PyYAML's own parser (used where PyYAML was built without
    libyaml) quotes aliases, tags and characters. Both reach a message only through
    ``load_yaml``, which keeps YAML's punctuation and replaces every other quoted value."""
    with pytest.raises(YamlError) as caught:
        load_yaml(text, "waivers.yaml")
    assert "hunter2" not in caught.value.diagnostics()
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader; the parser's own message
    problem = pure.value.problem or pure.value.context or ""
    assert quoted in problem  # PyYAML quotes it ...
    assert quoted not in _unquoted(problem) and said in _unquoted(problem)  # ... affidavit does not


def test_yaml_syntax_in_a_problem_stays_quoted() -> None:
    assert (
        _unquoted("expected ',' or ']', but got '<stream end>'")
        == "expected ',' or ']', but got '<stream end>'"
    )
    assert _unquoted("found character '\\t' that cannot start any token") == (
        "found character (a character) that cannot start any token"
    )


def test_a_key_that_is_a_device_is_refused_unread(tmp_path: Path) -> None:
    # --key /dev/zero used to hang the gate while it hashed the key for the configuration record.
    import subprocess
    import sys

    from tests.attacks.support import SUBJECT, release

    evidence = release(tmp_path)
    started = subprocess.run(
        [
            sys.executable,
            "-m",
            "affidavit",
            "gate",
            "--evidence",
            str(evidence),
            "--subject",
            SUBJECT,
            "--key",
            "/dev/zero",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode in (2, 3), started.stderr
    assert "/dev/zero" in started.stderr
