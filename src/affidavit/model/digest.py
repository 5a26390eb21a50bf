"""The one digest rule: how affidavit reads the digests people and tools give, and how it writes them.

Written form
    ``<algorithm>:<hex>`` in lower case, the hex exactly as long as the algorithm's output:
    ``sha256:`` + 64 digits (``sha384`` 96, ``sha512`` 128). Evidence ids, subjects, signed
    artefacts and bundle hashes all use it, so two digests compare correctly as text.

Read forms (``normalise_digest``)
    * the written form, in any case (``SHA256:9F86...``), with surrounding whitespace;
    * bare hex of 64 digits (what ``sha256sum`` prints): sha256;
    * with ``reference=True``, an image reference ``name@<digest>`` (the digest after the last ``@``).

    Anything else raises ``ValueError`` saying what is wrong in words: an unknown algorithm, a
    hex part of the wrong length or with other characters. The message never repeats the value;
    the caller, who knows where it came from, says that and raises its own error type.

This module does no I/O and imports nothing of affidavit.
"""

from __future__ import annotations

import re

DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
"""The digest algorithms affidavit knows and the length of each one's output in hex digits."""

_HEX = re.compile(r"[0-9a-fA-F]*")
_WRITTEN = re.compile(r"(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})")


def normalise_digest(value: str, *, reference: bool = False) -> str:
    """The written form of ``value`` (see the module docstring); ``ValueError`` when it is none."""
    text = value.strip()
    if "@" in text:
        if not reference:
            raise ValueError("an image reference (name@digest), not a digest")
        text = text.rsplit("@", 1)[1]
    algorithm, colon, hex_part = text.partition(":")
    if not colon:
        if len(text) != DIGEST_HEX_LENGTHS["sha256"] or not _HEX.fullmatch(text):
            raise ValueError("not <algorithm>:<hex>")
        algorithm, hex_part = "sha256", text
    algorithm = algorithm.lower()
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise ValueError(f"unknown digest algorithm (known: {', '.join(DIGEST_HEX_LENGTHS)})")
    if not _HEX.fullmatch(hex_part):
        raise ValueError("not hexadecimal")
    if len(hex_part) != length:
        raise ValueError(f"{algorithm} takes {length} hex digits, not {len(hex_part)}")
    return f"{algorithm}:{hex_part.lower()}"


def is_digest(text: str) -> bool:
    """True when ``text`` is already in the written form (lower case, right length, nothing around)."""
    return _WRITTEN.fullmatch(text) is not None
