"""The export's progress line: drawn in place on a real terminal (a pseudo-terminal), cleared at the
end, never sent to a pipe or a file, never with ``--format json``."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from affidavit.cli.progress import Progress
from tests.conftest import REPO
from tests.export.test_export import _edit_run

if TYPE_CHECKING:
    from tests.export.conftest import Quarter

AFFIDAVIT = Path(sys.executable).parent / "affidavit"


def _with_stderr_on_a_terminal(command: list[str], columns: int = 80) -> tuple[int, bytes, bytes]:
    """Run ``command`` with stderr on a new pseudo-terminal ``columns`` wide and stdout on a pipe:
    the exit code, what reached the terminal and what reached the pipe."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("AFFIDAVIT_CONFIG", "NO_COLOR")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, env=env, cwd=REPO)
    os.close(terminal)
    seen = []
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError("the terminal stayed silent and open for 120 s")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every writer closed the terminal (the process exited)
            break
        if not chunk:
            break
        seen.append(chunk)
    os.close(controller)
    assert process.stdout is not None
    out = process.stdout.read()
    return process.wait(timeout=120), b"".join(seen), out


def _export(q: Quarter, out: Path, *extra: str) -> list[str]:
    """The real ``affidavit export`` command line of the quarter."""
    return [str(AFFIDAVIT), "export", "--framework", "soc2", "--period", "2026-Q4", "--store", q.url,
            "--sample-seed", "3", "--out", str(out), *extra]  # fmt: skip


def _frames(seen: bytes) -> list[str]:
    """What was drawn: the text between carriage returns (the terminal may add none: no newline)."""
    return [f for f in seen.decode().split("\r") if f]


def test_on_a_terminal_the_runs_read_are_drawn_in_place_and_cleared(quarter: Quarter, tmp_path: Path) -> None:
    """stderr a terminal, text output: one line redrawn with ``\\r`` (no newline ever), a bar of the
    runs read out of the period's runs (the store's count), the rate, then of the proofs written,
    and at the end the line blanked and the cursor back at its start; the summary goes to stdout
    as usual."""
    code, seen, out = _with_stderr_on_a_terminal(_export(quarter, tmp_path / "audit"))
    assert code == 0, (seen, out)
    exported = re.search(rb" runs=(\d+) ", out)
    assert exported is not None, out[:200]
    total = int(exported.group(1))
    assert b"\n" not in seen and seen.startswith(b"\r  [")
    frames = _frames(seen)
    bar = r"  \[[#-]+\] \d[\d,]*/(?P<total>[\d,]+) (?P<what>runs read|proofs written) \(\d+%(, [\d,]+/s)?\) *"
    drawn = [re.fullmatch(bar, f) for f in frames[:-1]]
    assert all(drawn), frames
    phases = [m.group("what") for m in drawn]  # type: ignore[union-attr]
    read = phases.count("runs read")
    assert read and phases == ["runs read"] * read + ["proofs written"] * (len(phases) - read), phases
    totals = {m.group("total") for m in drawn}  # type: ignore[union-attr]
    assert totals == {f"{total:,}"}, (totals, out[:200])  # the count is the population's size
    assert "(100%" in frames[read - 1]  # the last run read fills the bar...
    assert "(100%" in frames[-2] and "proofs written" in frames[-2]  # ...and so does the last proof
    assert frames[-1].strip() == ""  # the clearing frame: only blanks ...
    assert seen.endswith(b"\r") and len(frames[-1]) >= max(
        len(f.rstrip()) for f in frames[:-1]
    )  # ... over all
    assert out.startswith(b"EXPORTED ")


def test_an_export_that_stops_clears_the_line_before_its_error(quarter: Quarter, tmp_path: Path) -> None:
    """The second run edited in the store: the first was read (drawn), the export stops (exit 3)
    and the message starts on a blank line, not after the count."""
    _edit_run(Path(quarter.url.removeprefix("sqlite://")), 2, rehash=False)
    code, seen, _ = _with_stderr_on_a_terminal(_export(quarter, tmp_path / "audit"))
    assert code == 3 and seen.startswith(b"\r  [") and b"1/" in seen
    drawn, _, said = seen.partition(b"does not match its chain hash")
    assert said, seen
    cleared = re.search(rb"\r +\r", drawn)
    assert cleared is not None and b"runs read" not in drawn[cleared.end() :]


def test_nothing_is_drawn_on_a_pipe_nor_with_format_json(quarter: Quarter, tmp_path: Path) -> None:
    """stderr a pipe: not one byte of progress; ``--format json`` on a terminal: none either, and
    stdout is the JSON alone."""
    piped = subprocess.run(
        _export(quarter, tmp_path / "a"), capture_output=True, cwd=REPO, check=False, timeout=300
    )
    assert piped.returncode == 0 and piped.stderr == b"", piped.stderr[-300:]
    code, seen, out = _with_stderr_on_a_terminal(_export(quarter, tmp_path / "b", "--format", "json"))
    assert code == 0 and seen == b"" and out.startswith(b"{")


def test_with_a_total_the_bar_fits_the_terminal_and_ends_full() -> None:
    """The bar as a terminal 64 columns wide shows it (a real pseudo-terminal and process): every
    frame narrower than the terminal, the last full at 100 %, then cleared."""
    script = (
        "import sys\n"
        "from affidavit.cli.progress import Progress\n"
        "ticks = iter(range(100))\n"  # one second per look at the clock: a steady rate
        "bar = Progress(sys.stderr, 20000, interval=0, clock=lambda: float(next(ticks)))\n"
        "for done in range(0, 20001, 5000):\n"
        "    bar(done)\n"
        "bar.close()\n"
    )
    code, seen, _ = _with_stderr_on_a_terminal([sys.executable, "-c", script], columns=64)
    assert code == 0, seen
    frames = _frames(seen)
    assert len(frames) == 6 and frames[-1].strip() == ""
    assert all(len(f) <= 63 for f in frames)
    assert frames[0].startswith("  [----") and "0/20,000 runs read (0%)" in frames[0]
    assert frames[-2].startswith("  [####") and "20,000/20,000 runs read (100%" in frames[-2]
    assert "-" not in frames[-2].split("]")[0]


class _Terminal:
    """A stand-in stream for the line's arithmetic (the terminal itself is tested above)."""

    def __init__(self) -> None:
        self.written = ""

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        return None


def test_the_line_is_throttled_and_sized_by_the_clock_and_the_columns() -> None:
    """Redrawn at most every interval (the last item always), a bar of at most 30 characters, the
    words alone on a narrow terminal, and nothing to clear when nothing was drawn."""
    now = [0.0]
    stream = _Terminal()
    bar = Progress(cast("TextIO", stream), 100, interval=1.0, clock=lambda: now[0])
    bar(1)
    now[0] = 0.5
    bar(50)  # too soon: not drawn
    now[0] = 2.0
    bar(100)
    assert stream.written.count("\r") == 2 and "50/100" not in stream.written
    assert bar.line(50, 2.0, 200) == "  [###############---------------] 50/100 runs read (50%, 25/s)"
    assert bar.line(50, 2.0, 30) == "  50/100 runs read (50%, 25/s)"[:29]
    assert Progress(cast("TextIO", stream), None).line(1234, 0.0, 80) == "  1,234 runs read"
    quiet = _Terminal()
    Progress(cast("TextIO", quiet), None).close()
    assert quiet.written == ""


def test_a_new_phase_counts_from_zero_with_its_own_words_total_and_rate() -> None:
    """After the runs are read the line counts the proofs written: drawn at once (however soon),
    its own total, and its rate from the phase's start, not the export's."""
    now = [0.0]
    stream = _Terminal()
    bar = Progress(cast("TextIO", stream), 10, interval=1.0, clock=lambda: now[0])
    bar(10)
    now[0] = 8.0
    bar.phase("proofs written", 4)
    now[0] = 8.1
    bar(2)  # within the interval of the last draw, but the first of its phase
    assert stream.written.endswith("2/4 proofs written (50%, 20/s)")
    assert stream.written.count("\r") == 2
