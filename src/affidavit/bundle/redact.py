"""What the bundle stores of a raw artefact: its bytes with every secret removed.

The collectors keep secrets out of the records; this module keeps them out of the raw copies that
the bundle stores beside the records. It holds no list of its own of what carries a secret: each
format declares a ``redact`` hook (a secret scanner's report, a SARIF log whose run is a secret
scanner's, a Trivy report's secret and misconfiguration sections, Checkov's quoted code, a
Terraform plan's sensitive values, a ``.tf`` file's literals), and the registry gives the hook of a
record's format. So a format that learns to scrub its record learns to scrub its raw copy in the
same place, and the two cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.collectors import registry

if TYPE_CHECKING:
    from affidavit.model import Evidence


def redacted_copy(record: Evidence, raw: bytes) -> tuple[bytes, bool]:
    """The bytes to store for ``record`` and whether they differ from ``raw``.

    ``raw`` is returned as it is when the record's format never carries a secret, or carried none
    this time. When the second value is ``False`` the stored bytes hash to the record's id. A raw
    artefact that its format cannot redact raises ``InputError`` naming its source; it is never
    stored as it is. An unknown format name is a ``KeyError``, never "nothing to redact".
    """
    redact = registry.redactor(record.format)
    if redact is None:
        return raw, False
    stored = redact(raw, record.source)
    return stored, stored != raw
