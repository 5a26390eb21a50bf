"""The quarterly audit export (issue 13): a period of the run history, for an auditor.

``write.export_period`` reads every run of a period from the store, oldest first and one at a
time (``source``), and writes a folder: the population and its hash, per control of one framework
the rules that test it and its status on each day, the waiver and policy change ledgers
(``build``), a sample drawn by a recorded seed (``sample``), a Merkle tree over the population with
an inclusion proof per run (``merkle``), the report (``markdown``), ``SHA256SUMS`` and, with a key,
its signature and a DSSE envelope. ``verify`` checks a folder, or one run's proof, offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

#: The period document at the top of an export folder.
PERIOD_NAME = "period.json"


def is_period_export(folder: Path) -> bool:
    """Whether ``folder`` is a period export (it holds a regular ``period.json``). Here, not in
    ``verify``: ``affidavit verify`` asks it of every bundle, and this costs no import."""
    path = folder / PERIOD_NAME
    return folder.is_dir() and path.is_file() and not path.is_symlink()
