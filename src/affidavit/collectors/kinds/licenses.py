"""Normal forms shared by the SBOM collectors: licence identifiers and hash algorithm names.

Licences
    A licence is recorded as an SPDX licence identifier (``MIT``), an SPDX expression
    (``MIT OR Apache-2.0``, ``LicenseRef-foo``) or, when the document only gives a free-text name
    that is not an SPDX identifier, that name (``BSD License``). Identifiers are put in the
    SPDX list's own spelling (``apache-2.0`` -> ``Apache-2.0``); a name that *is* an identifier
    (``<license><name>MIT</name>``) becomes the identifier. Expressions are kept as written (only
    trimmed), except that a one-word expression is spelled like an identifier too. The words
    ``NOASSERTION``, ``NONE`` and ``UNKNOWN`` mean "no licence given" and are dropped.

    The SPDX identifier list is the one cyclonedx-python-lib ships as a JSON schema file
    (``spdx.SNAPSHOT.schema.json``); it is read once, on first use, without importing the
    library's models. License expressions are not parsed: ``license-expression`` costs 0.1 s to
    import and a policy that needs to look inside an expression can split it itself.

Hash algorithms
    The one normal form is the CycloneDX algorithm name in lower case: ``md5``, ``sha-1``,
    ``sha-256``, ``sha-384``, ``sha-512``, ``sha3-256``, ``blake2b-256``, ``blake3``,
    ``streebog-256`` ... SPDX names map onto it (``SHA256`` -> ``sha-256``, ``SHA3-256`` ->
    ``sha3-256``, ``BLAKE2b-384`` -> ``blake2b-384``); the SPDX-only ones keep their name in lower
    case (``md2``, ``md4``, ``md6``, ``sha-224``, ``adler32``). Hash values are lower-case hex.
"""

from __future__ import annotations

import json
import re
from functools import cache

# Words that SBOM tools write where they have no licence to give.
NO_LICENSE = frozenset({"NOASSERTION", "NONE", "UNKNOWN", ""})

_ONE_WORD = re.compile(r"^[A-Za-z0-9.+:-]+$")
_SHA_DIGITS = re.compile(r"^sha(\d+)$")


@cache
def _spdx_ids() -> dict[str, str]:
    """Lower-cased SPDX licence id -> its canonical spelling (read once from the shipped list)."""
    from cyclonedx.schema._res import SPDX_JSON  # a path constant; the module imports nothing heavy

    with open(SPDX_JSON, encoding="utf-8") as handle:
        ids: list[str] = json.load(handle).get("enum", [])
    return {i.lower(): i for i in ids}


def canonical_id(value: str) -> str | None:
    """The SPDX list's spelling of ``value`` if it is a known licence id, else ``None``."""
    return _spdx_ids().get(value.lower())


@cache
def from_id(value: str) -> str | None:
    """Normalise a licence given as an SPDX id (unknown ids are kept as written)."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    return canonical_id(value) or value


@cache
def from_name(value: str) -> str | None:
    """Normalise a licence given as a free-text name: an SPDX id if it is one, else the name."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    return canonical_id(value) or value


@cache
def from_expression(value: str) -> str | None:
    """Normalise an SPDX licence expression (kept as written; a single id is spelled canonically)."""
    value = value.strip()
    if value.upper() in NO_LICENSE:
        return None
    if _ONE_WORD.match(value):
        return canonical_id(value) or value
    return value


def add_unique(out: list[str], value: str | None) -> None:
    """Append ``value`` to ``out`` unless it is ``None`` or already there (order is kept)."""
    if value is not None and value not in out:
        out.append(value)


# CycloneDX hash algorithms allowed by each version of the specification (from its JSON schemas;
# XML 1.0/1.1 are read with the 1.2 list, which includes theirs).
_CDX_ALGS_1_2 = (
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
)
_CDX_ALGS_1_7 = (*_CDX_ALGS_1_2, "Streebog-256", "Streebog-512")


def cyclonedx_hash_algorithms(spec_version: str) -> frozenset[str]:
    """The hash algorithm names a CycloneDX version allows, as the specification spells them."""
    if spec_version in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"):
        return frozenset(_CDX_ALGS_1_2)
    return frozenset(_CDX_ALGS_1_7)


# SPDX 2.x checksum algorithms (2.3 adds SHA3-*, BLAKE2b-*, BLAKE3, ADLER32; 2.2 documents are
# read with the 2.3 list: a newer name in an older document is a harmless anachronism).
SPDX_HASH_ALGORITHMS = frozenset(
    {
        "SHA1",
        "SHA224",
        "SHA256",
        "SHA384",
        "SHA512",
        "SHA3-256",
        "SHA3-384",
        "SHA3-512",
        "BLAKE2b-256",
        "BLAKE2b-384",
        "BLAKE2b-512",
        "BLAKE3",
        "MD2",
        "MD4",
        "MD5",
        "MD6",
        "ADLER32",
    }
)


@cache
def hash_name(algorithm: str) -> str:
    """The normal form of a hash algorithm name from either specification (see module doc)."""
    low = algorithm.strip().lower()
    match = _SHA_DIGITS.match(low)
    if match:
        return f"sha-{match.group(1)}"
    return low


def is_hex(value: str) -> bool:
    """True when ``value`` is a non-empty string of hexadecimal digits (and nothing else)."""
    try:
        return 0 < len(bytes.fromhex(value)) * 2 == len(value)
    except ValueError:
        return False
