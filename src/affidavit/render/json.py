"""``results.json``: the run as its published JSON document (``affidavit.results/v1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affidavit.jsonwrite import indented_json

if TYPE_CHECKING:
    from affidavit.model import Run


def canonical_json(value: Any) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, UTF-8 as is, final newline."""
    return indented_json(value, sort_keys=True, ensure_ascii=False) + "\n"


class JsonRenderer:
    """The decision for machines: exactly ``Run.to_json()``, canonically written."""

    name = "json"
    filename = "results.json"

    def render(self, run: Run) -> str:
        """results.json for ``run``."""
        return canonical_json(run.to_json())
