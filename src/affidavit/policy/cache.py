"""The user cache, as ``policy.analysis`` names it: ``affidavit.cache`` (see there)."""

from affidavit.cache import (
    FORMAT,
    MAX_ENTRY,
    cache_dir,
    cached,
    code_digest,
    entry_key,
    json_exact,
    package_digest,
    read_entry,
    write_entry,
)

__all__ = [
    "FORMAT",
    "MAX_ENTRY",
    "cache_dir",
    "cached",
    "code_digest",
    "entry_key",
    "json_exact",
    "package_digest",
    "read_entry",
    "write_entry",
]
