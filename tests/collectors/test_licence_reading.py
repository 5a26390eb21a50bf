"""What a component's licences allow (``kinds.licenses.reading``), issue 10.

Expression semantics are SPDX 2.3 Annex D (OR is the licensee's choice, AND both apply, WITH an
exception to the licence it qualifies, ``+`` or later); deprecated ids are those the SPDX License
List marks deprecated (``GPL-2.0`` -> ``GPL-2.0-only``, ``AGPL-3.0+`` -> ``AGPL-3.0-or-later``, the
retired ``GPL-2.0-with-classpath-exception``).
"""

from __future__ import annotations

import time

import pytest

from affidavit.collectors.kinds.licenses import MAX_CHOICES, MAX_DEPTH, MAX_EXPRESSION, reading


@pytest.mark.parametrize(
    ("licenses", "choices"),
    [
        (["MIT"], [["MIT"]]),
        (["mit"], [["MIT"]]),
        (["(MIT OR GPL-3.0-only)"], [["GPL-3.0-only"], ["MIT"]]),
        (["MIT AND AGPL-3.0-only"], [["AGPL-3.0-only", "MIT"]]),
        (["MIT", "GPL-3.0"], [["GPL-3.0-only", "MIT"]]),
        (["AGPL-3.0+"], [["AGPL-3.0-or-later"]]),
        (["GPL-2.0"], [["GPL-2.0-only"]]),
        (["GPL-2.0-with-classpath-exception"], [["GPL-2.0-only"]]),
        (["GPL-2.0-only WITH Classpath-exception-2.0"], [["GPL-2.0-only"]]),
        (["LicenseRef-Acme-1"], [["LicenseRef-Acme-1"]]),
        (["MIT and Apache-2.0"], [["Apache-2.0", "MIT"]]),
        (
            ["(MIT OR Apache-2.0) AND (BSD-3-Clause OR AGPL-3.0-only)"],
            [
                ["AGPL-3.0-only", "Apache-2.0"],
                ["AGPL-3.0-only", "MIT"],
                ["Apache-2.0", "BSD-3-Clause"],
                ["BSD-3-Clause", "MIT"],
            ],
        ),
    ],
)
def test_choices(licenses: list[str], choices: list[list[str]]) -> None:
    assert reading(licenses) == (choices, [])


@pytest.mark.parametrize(
    "name",
    [
        "Apache License 2.0",
        "GNU Affero General Public License v3",
        "AGPLv3",
        "MIT OR",
        "OR MIT",
        "MIT OR Acme-1.0",
    ],
)
def test_names_and_broken_expressions_are_unidentified(name: str) -> None:
    """Never read as allowed: the rule reports them."""
    assert reading(["MIT", name]) == ([["MIT"]], [name])


def test_too_many_choices_collapse_into_every_id() -> None:
    """Hostile: an expression of 2**20 choices would be a million sets; past MAX_CHOICES every id the
    entry names forms one choice, so a forbidden id anywhere still forbids."""
    many = " AND ".join(f"(LicenseRef-a{i} OR LicenseRef-b{i})" for i in range(20))
    assert len(many) < MAX_EXPRESSION and 2**20 > MAX_CHOICES
    many += " AND AGPL-3.0-only"
    started = time.perf_counter()
    choices, unidentified = reading([many])
    assert time.perf_counter() - started < 5
    assert unidentified == []
    assert len(choices) == 1 and "AGPL-3.0-only" in choices[0] and len(choices[0]) == 41


def test_long_or_deep_expressions_are_not_parsed() -> None:
    """Hostile: the parser's cost grows with the text; a longer or deeper entry is unidentified."""
    long = " OR ".join(f"LicenseRef-{i}" for i in range(200))
    deep = "(" * (MAX_DEPTH + 1) + "MIT" + ")" * (MAX_DEPTH + 1)
    started = time.perf_counter()
    assert reading([long]) == ([], [long])
    assert reading([deep]) == ([], [deep])
    assert time.perf_counter() - started < 1


def test_many_distinct_names_stay_cheap() -> None:
    """20,000 different free-text names (an SBOM built from package metadata) in well under a second
    each: names are told apart without the parser."""
    started = time.perf_counter()
    for i in range(20_000):
        reading([f"Custom License {i}"])
    assert time.perf_counter() - started < 5
