"""An evidence folder's ``.affidavitignore`` is read once: the sha256 the run records is the hash of
the very bytes whose patterns the walk applied (``collectors.folder.IgnoreList``), never of a
second read that a file swapped in between could make disagree."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

import affidavit.collectors.folder as folder_module
from affidavit.artefact import read_regular_file
from affidavit.collectors import CollectOptions, collect_paths
from affidavit.collectors.folder import IGNORE_FILE, Action, IgnoreList, walk
from tests.attacks.support import gate
from tests.test_profiles import NOW, _library

FIRST = b"# nothing left out yet\n"
SWAPPED = b"# swapped in while the gate ran\ncodeql.sarif\n"


def _swap_on_read(monkeypatch: pytest.MonkeyPatch, target: Path) -> list[str]:
    """Every read of the ignore list first replaces the file with ``SWAPPED`` (a file swapped in
    between any earlier look at it and this read); returns the names read, in order."""
    real = read_regular_file  # what folder.py calls
    reads: list[str] = []

    def swapping(name: Any, source: str, *args: Any, **kwargs: Any) -> bytes:
        if str(name) == IGNORE_FILE:
            reads.append(source)
            target.write_bytes(SWAPPED)
        return real(name, source, *args, **kwargs)

    monkeypatch.setattr(folder_module, "read_regular_file", swapping)
    return reads


def test_the_recorded_hash_is_of_the_bytes_the_walk_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile: the ignore list changes while the gate runs. The run records the hash of the
    version whose patterns left codeql.sarif out (before the fix, the pipeline hashed the file in
    a read of its own, before the walk, and recorded the hash of FIRST)."""
    evidence = _library(tmp_path)
    target = evidence / IGNORE_FILE
    target.write_bytes(FIRST)
    reads = _swap_on_read(monkeypatch, target)
    result = gate(tmp_path, evidence, "--no-record")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    results = result.results
    recorded = [c for c in results["configuration"]["inputs"] if c["role"] == "affidavitignore"]
    assert recorded == [
        {
            "role": "affidavitignore",
            "path": str(target),
            "sha256": hashlib.sha256(SWAPPED).hexdigest(),
            "value": None,
        }
    ]
    assert reads == [str(target)]  # one read of the file, no other
    left_out = {Path(n["path"]).name: n["reason"] for n in results["not_read"]}
    assert left_out["codeql.sarif"] == "matches line 2 of .affidavitignore"  # SWAPPED's patterns applied


def test_the_walk_yields_the_ignore_list_before_what_it_leaves_out(tmp_path: Path) -> None:
    evidence = _library(tmp_path)
    (evidence / IGNORE_FILE).write_bytes(SWAPPED)
    items = list(walk([evidence]))
    assert items[0] == IgnoreList(str(evidence / IGNORE_FILE), hashlib.sha256(SWAPPED).hexdigest())
    assert sum(isinstance(i, IgnoreList) for i in items) == 1
    collection = collect_paths([evidence], CollectOptions(now=NOW))
    assert collection.ignore_lists == [items[0]]
    assert any(s.action is Action.EXCLUDED and s.path.endswith("codeql.sarif") for s in collection.skipped)


@pytest.mark.parametrize(
    ("content", "listed"),
    [
        (b"\xff\xfe*.json\n", True),  # read, then refused for its content: still on the record
        (b"# padding\n" * (8 * 1024), False),  # over 64 KiB: refused unread, not listed
    ],
)
def test_a_refused_ignore_list_is_listed_only_when_it_was_read(
    tmp_path: Path, content: bytes, listed: bool
) -> None:
    evidence = _library(tmp_path)
    (evidence / IGNORE_FILE).write_bytes(content)
    collection = collect_paths([evidence], CollectOptions(now=NOW))
    assert len(collection.errors) == 1
    expected = (
        [IgnoreList(str(evidence / IGNORE_FILE), hashlib.sha256(content).hexdigest())] if listed else []
    )
    assert collection.ignore_lists == expected


def test_no_ignore_list_lists_nothing(tmp_path: Path) -> None:
    evidence = _library(tmp_path)
    assert collect_paths([evidence], CollectOptions(now=NOW)).ignore_lists == []
