"""Licence entries that ``license-expression`` reads, kept in the user cache between runs
(``licenses._Remembered``, issue 14's fixed costs): a later process reads the same entries without
importing the library, and reads each exactly as the library does; a damaged entry is ignored and
written again; with the cache off nothing is kept.

Every test runs the reading in fresh processes (what is kept is stored when a process exits), each
with a cache folder of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cache_env, process_json

#: Entries of each kind that needs the library: an expression, GPL-family ids (current, deprecated,
#: "+", a retired "-with-...-exception" id), an exception, a LicenseRef, an unknown id, a free-text
#: name, one whose choices overflow ``MAX_CHOICES``, and plain ids (read without the library).
ENTRIES = [
    "Apache-2.0 OR BSD-3-Clause",
    "LGPL-3.0-only",
    "LGPL-2.1-or-later",
    "GPL-2.0",
    "GPL-2.0+",
    "AGPL-3.0+",
    "GPL-2.0-with-classpath-exception",
    "Apache-2.0 WITH LLVM-exception",
    "LicenseRef-acme AND (MIT OR BSD-2-Clause)",
    "mit or apache-2.0",
    "MIT OR NotALicense-1.0",
    "Apache License 2.0",
    "(MIT OR ISC) AND (Apache-2.0 OR BSD-3-Clause) AND (Zlib OR 0BSD) AND (MPL-2.0 OR EPL-2.0) "
    "AND (Unlicense OR CC0-1.0) AND (BSL-1.0 OR X11) AND (OFL-1.1 OR Python-2.0)",
    "MIT",
]
CODE = """\
import json, sys
from affidavit.collectors.kinds.licenses import reading
entries = json.loads(sys.argv[1])
print(json.dumps({"readings": [reading([e]) for e in entries] + [reading(entries)],
                  "library": "license_expression" in sys.modules}))
"""


def _read(cache_home: Path | None, entries: list[str] = ENTRIES, *, off: bool = False) -> dict[str, object]:
    """The readings of ``entries`` (each alone, then all of them as one component's) in a new
    process with the cache in ``cache_home`` (off when ``None`` or ``off``)."""
    return process_json(CODE, cache_env(cache_home, off=off), json.dumps(entries))


def _entries(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "affidavit").glob("licence-entries-*.json"))


def test_a_later_process_reads_the_entries_from_the_cache_exactly_as_the_library_does(tmp_path: Path) -> None:
    afresh = _read(None)
    first = _read(tmp_path)
    second = _read(tmp_path)
    assert afresh["library"] is True and first["library"] is True
    assert second["library"] is False  # the point: not imported, not built
    assert first["readings"] == afresh["readings"] == second["readings"]
    (entry,) = _entries(tmp_path)
    kept = json.loads(entry.read_text())["value"]
    assert set(kept) == set(ENTRIES) - {"MIT"} - {"Apache License 2.0"}  # plain ids and names: no library
    assert kept["MIT OR NotALicense-1.0"] is None  # unidentified is kept as such
    # a new entry is read by the library and added; the others still come from the cache
    more = _read(tmp_path, [*ENTRIES, "BSD-3-Clause AND (MIT OR Apache-2.0)"])
    assert more["library"] is True
    assert "BSD-3-Clause AND (MIT OR Apache-2.0)" in json.loads(entry.read_text())["value"]
    assert _read(tmp_path, [*ENTRIES, "BSD-3-Clause AND (MIT OR Apache-2.0)"])["library"] is False


@pytest.mark.parametrize(
    "damage",
    [
        b"not json",
        b'{"format": "affidavit.cache/v1", "name": "NAME", "value": {"GPL-2.0": {"choices": "x", "ids": []}}}',
        b'{"format": "affidavit.cache/v1", "name": "NAME", "value": {"GPL-2.0": [["GPL-2.0-only"]]}}',
        b'{"format": "affidavit.cache/v1", "name": "NAME", "value": ["GPL-2.0"]}',
        b'{"format": "affidavit.cache/v1", "name": "other-entry.json", "value": {}}',
    ],
)
def test_a_damaged_entry_is_ignored_and_written_again(tmp_path: Path, damage: bytes) -> None:
    afresh = _read(None)
    _read(tmp_path)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(damage.replace(b"NAME", entry.name.encode()))
    again = _read(tmp_path)
    assert again["library"] is True and again["readings"] == afresh["readings"]
    assert _read(tmp_path) == {**afresh, "library": False}


def test_with_the_cache_off_nothing_is_kept(tmp_path: Path) -> None:
    assert _read(tmp_path, off=True)["library"] is True
    assert not (tmp_path / "affidavit").exists()
    assert _read(tmp_path, off=True)["library"] is True
