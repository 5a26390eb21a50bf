"""A progress line on a terminal: a bar when the total is known, else a count, with the rate.

Drawn on one line of stderr and redrawn in place (carriage return, never a newline), at most
every ``interval`` seconds (the first call and the last item are always drawn), never wider than
the terminal (a wrapped line could not be redrawn in place), and cleared by ``close``. The caller
decides whether to draw at all: only when stderr is a terminal and the output is for people
(``affidavit export`` passes none with ``--format json`` or when stderr is a file or a pipe).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

#: The widest bar drawn, in characters, and the columns assumed when the terminal does not say.
BAR_WIDTH = 30
DEFAULT_COLUMNS = 80


class Progress:
    """Items done so far (``progress(done)``) as one line redrawn in place; see the module."""

    def __init__(
        self,
        stream: TextIO,
        total: int | None = None,
        what: str = "runs read",
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Draw on ``stream``; ``total`` the number of items expected (``None``: unknown)."""
        self.stream = stream
        self.total = total
        self.what = what
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last_draw: float | None = None
        self._width = 0  # characters of the line on the terminal now

    def __call__(self, done: int) -> None:
        """Note ``done`` items; redraw when it is time (see the module)."""
        now = self.clock()
        finished = self.total is not None and done >= self.total
        if self._last_draw is not None and now - self._last_draw < self.interval and not finished:
            return
        self._last_draw = now
        self._draw(self.line(done, now - self.started, self._columns()))

    def phase(self, what: str, total: int | None) -> None:
        """Count something else from now on (``what``, out of ``total``), from zero and at its own
        rate; the next call draws."""
        self.what, self.total = what, total
        self.started = self.clock()
        self._last_draw = None

    def line(self, done: int, elapsed: float, columns: int) -> str:
        """The line for ``done`` items after ``elapsed`` seconds, at most ``columns - 1`` wide."""
        rate = f", {done / elapsed:,.0f}/s" if elapsed > 0 and done else ""
        if self.total is None or self.total <= 0:
            text = f"  {done:,} {self.what}{rate}"
            return text[: max(0, columns - 1)]
        share = min(1.0, done / self.total)
        words = f" {done:,}/{self.total:,} {self.what} ({share:.0%}{rate})"
        width = min(BAR_WIDTH, columns - 1 - len(words) - 4)
        if width < 5:  # too narrow for a bar: the words alone
            return ("  " + words.strip())[: max(0, columns - 1)]
        filled = int(share * width)
        return f"  [{'#' * filled}{'-' * (width - filled)}]{words}"

    def close(self) -> None:
        """Clear the line (when anything was drawn), leaving the cursor at its start."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _draw(self, text: str) -> None:
        """Overwrite the line with ``text`` (blanking what a longer line left)."""
        pad = " " * max(0, self._width - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._width = max(self._width, len(text))

    def _columns(self) -> int:
        """The terminal's width (``DEFAULT_COLUMNS`` when it does not say)."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or DEFAULT_COLUMNS
        except (OSError, ValueError, AttributeError):
            return DEFAULT_COLUMNS
