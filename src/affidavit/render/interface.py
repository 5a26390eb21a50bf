"""The renderer interface: a finished ``Run`` in, one document out.

A renderer reads a ``Run`` and nothing else: it never re-evaluates a rule, opens a file or asks
the clock, so the same run always renders to the same bytes. ``filename`` is the name of its file
inside a bundle (``None`` for a rendering meant only for the terminal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from affidavit.model import Run


class Renderer(Protocol):
    """One output format of a run."""

    @property
    def name(self) -> str:
        """The name users give it (``markdown``, ``json``, ``text``)."""
        ...

    @property
    def filename(self) -> str | None:
        """Its file in the bundle, or ``None`` when it is not written into bundles."""
        ...

    def render(self, run: Run) -> str:
        """The document for ``run``."""
        ...
