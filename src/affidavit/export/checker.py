"""A period's runs checked by a second process while this one counts the runs before them.

On a large period the export's one core is the limit: each run is fetched, its chain hash
recomputed, its summary cut around its own columns (``source._Reader._fast``), then counted and
written to the population. ``checked_aside`` hands the middle part to a helper process (``serve``,
started with ``sys.executable``, talking pickle over its standard input and output) in batches,
a few batches ahead, and takes its answers in order:

* for each run, either the ids of its shared summary parts (catalogue digest, controls, matrices
  and policy digest; waivers), or ``None``: then this process checks the run itself, the usual
  way (``_Reader.summarised`` or ``legacy``), so that an edited, legacy or unusual run is refused or
  read exactly as without the helper;
* each part the first time the helper meets it, as its text: this process decodes and checks it
  again (``source._shared``), so nothing decoded crosses the pipe.

The helper never opens the store: the catalogues and everything else the export reads come from
this process's one snapshot. If the helper cannot be started or stops, the runs it did not
answer are checked here; nothing is lost and nothing is taken on trust from a half answer.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from affidavit.export.source import _KEPT, PeriodRun, _Reader, _shared, _waived_ok
from affidavit.store.interface import ScannedRun
from affidavit.store.record import chain_hash, sha256_hex

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: Runs sent at once, and batches sent ahead of the one being counted.
BATCH, AHEAD = 1000, 3


def checked_aside(reader: _Reader, rows: Iterable[ScannedRun]) -> Iterator[PeriodRun]:
    """``rows`` checked as ``source.period_runs`` checks them (same runs, same refusals), the chain
    hash and the summary's reading done by a helper process (see the module)."""
    helper = _Helper.start()
    source = iter(rows)
    parts: dict[int, tuple[tuple[Any, ...], bytes, bytes] | None] = {}
    waivers: dict[int, list[Any] | None] = {}
    pending: deque[list[ScannedRun]] = deque()
    try:
        while True:
            while helper is not None and len(pending) < AHEAD:
                batch = [row for _, row in zip(range(BATCH), source, strict=False)]
                if not batch:
                    break
                pending.append(batch)
                helper.send([tuple(row) for row in batch])
            if not pending:
                for row in source:  # no helper (any longer): the rest here
                    yield _here(reader, row)
                return
            batch = pending.popleft()
            answer = helper.receive() if helper is not None else None
            if answer is None:  # no helper, or it stopped: this batch and the rest here
                if helper is not None:
                    helper.stop()
                    helper = None
                for row in batch:
                    yield _here(reader, row)
                continue
            results, reset, new_parts, new_waivers = answer
            if reset:
                parts.clear()
                waivers.clear()
            for key, head, controls_text, policy_text in new_parts:
                shared = _shared(head, controls_text, policy_text)
                parts[key] = None if shared is None else (shared, controls_text, policy_text)
            for key, text in new_waivers:
                waivers[key] = _decoded_waivers(text)
            for row, result in zip(batch, results, strict=True):
                part = waived = None
                if result is not None:
                    part, waived = parts.get(result[0]), waivers.get(result[1])
                if part is None or waived is None:
                    yield _here(reader, row)
                    continue
                shared, controls_text, policy_text = part
                reader.aside += 1
                yield reader._run(row, row.payload_sha256 or "", shared, waived, policy_text, controls_text)
    finally:
        if helper is not None:
            helper.stop()
        getattr(rows, "close", lambda: None)()  # the scan's snapshot ends now, not when collected


def _here(reader: _Reader, row: ScannedRun) -> PeriodRun:
    """A run checked in this process, the usual way."""
    return reader.legacy(row) if row.summary is None else reader.summarised(row)


def _decoded_waivers(text: bytes) -> list[Any] | None:
    """A summary's waivers text decoded and found of ``derive_summary``'s shape, else ``None``."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if _waived_ok(decoded) else None


class _Helper:
    """The helper process, fed by a thread of this one (so that neither side waits to write while
    the other waits to write: a batch and an answer can both be larger than a pipe holds)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        import queue
        import threading

        self._process = process
        self._batches: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._feed, name="affidavit-check-feed", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls) -> _Helper | None:
        """The helper, or ``None`` when it cannot be started."""
        try:
            process = subprocess.Popen(
                _command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # a helper that fails is replaced, not reported over the export
            )
        except OSError:
            return None
        return cls(process)

    def send(self, batch: list[tuple[Any, ...]]) -> None:
        """Queue a batch for the helper."""
        self._batches.put(batch)

    def _feed(self) -> None:
        stream = self._process.stdin
        assert stream is not None
        try:
            while (batch := self._batches.get()) is not None:
                pickle.dump(batch, stream, protocol=pickle.HIGHEST_PROTOCOL)
                stream.flush()
        except (OSError, ValueError):  # the helper is gone: its answers end, the parent goes on alone
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def receive(self) -> tuple[Any, ...] | None:
        """The answer to the oldest batch sent, or ``None`` when the helper gave none."""
        stream = self._process.stdout
        assert stream is not None
        try:
            answer = pickle.load(stream)  # noqa: S301  (our own helper, started above)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return None
        return answer if isinstance(answer, tuple) and len(answer) == 4 else None

    def stop(self) -> None:
        """End the helper's input, and the helper; wait for both. Its output is closed first: a
        helper still writing answers no one will read stops at once."""
        self._batches.put(None)
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._process.poll() is None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._thread.join(timeout=10)


def _command() -> list[str]:
    """How the helper is started: this interpreter in isolated mode (``-I``: neither the working
    folder nor ``PYTHONPATH`` can put a module in its way), finding affidavit where this process
    found it, running ``serve``."""
    import affidavit

    root = str(Path(affidavit.__file__).resolve().parent.parent)
    code = f"import sys; sys.path.append({root!r}); from affidavit.export.checker import serve; serve()"
    return [sys.executable, "-I", "-c", code]


def serve(
    requests: IO[bytes] | None = None, answers: IO[bytes] | None = None, *, batches: int | None = None
) -> None:
    """The helper: read batches of rows until the input ends (or ``batches`` were answered) and
    answer each in order (see the module); for each row the ids of its parts, or ``None`` when the
    parent must check it."""
    requests = requests or sys.stdin.buffer
    answers = answers or sys.stdout.buffer
    part_ids: dict[tuple[bytes, bytes, bytes], int] = {}
    waived_ids: dict[bytes, int] = {}
    counter = 0
    while batches is None or batches > 0:
        if batches is not None:
            batches -= 1
        try:
            batch = pickle.load(requests)  # noqa: S301  (our own parent)
        except EOFError:
            return
        reset = len(part_ids) >= _KEPT or len(waived_ids) >= _KEPT
        if reset:
            part_ids.clear()
            waived_ids.clear()
        results: list[tuple[int, int] | None] = []
        new_parts: list[tuple[int, bytes, bytes, bytes]] = []
        new_waivers: list[tuple[int, bytes]] = []
        for values in batch:
            row = ScannedRun(*values)
            pieces = _checked_pieces(row)
            if pieces is None:
                results.append(None)
                continue
            head, controls_text, policy_text, waived_text = pieces
            key = (head, controls_text, policy_text)
            part = part_ids.get(key)
            if part is None:
                counter += 1
                part = part_ids[key] = counter
                new_parts.append((part, head, controls_text, policy_text))
            waived = waived_ids.get(waived_text)
            if waived is None:
                counter += 1
                waived = waived_ids[waived_text] = counter
                new_waivers.append((waived, waived_text))
            results.append((part, waived))
        try:
            pickle.dump((results, reset, new_parts, new_waivers), answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except OSError:  # the parent stopped reading: it checks the rest itself, or stopped
            return


def _checked_pieces(row: ScannedRun) -> tuple[bytes, bytes, bytes, bytes] | None:
    """A version-2 run's summary pieces (``_Reader._cut``) once its chain hash holds, else ``None``."""
    if (
        row.summary is None
        or row.payload_sha256 is None
        or chain_hash(row.seq, row.prev_hash, row.payload_sha256, sha256_hex(row.summary)) != row.hash
    ):
        return None
    return _Reader._cut(row)
