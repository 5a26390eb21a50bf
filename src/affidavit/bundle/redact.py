"""What the bundle stores of a raw artefact: its bytes with every secret removed.

The collectors keep secrets out of the records; this module keeps them out of the raw copies that
the bundle stores beside the records. It holds no list of its own of what carries a secret: each
format declares a ``redact`` hook (a secret scanner's report, a SARIF log whose run is a secret
scanner's, a Trivy report's secret and misconfiguration sections, Checkov's quoted code, a
Terraform plan's sensitive values, a ``.tf`` file's literals), and the registry gives the hook of a
record's format. So a format that learns to scrub its record learns to scrub its raw copy in the
same place, and the two cannot drift apart. A format with no hook of its own still has its
well-known credentials masked (``kinds.secrets.mask_document``, the masking every hook ends with):
an SBOM or a scan can quote a token in a description as well as any other artefact.

In a gate the collectors make most copies while they parse (``made``: a Terraform plan's redacted
copy, or ``AS_IS`` for a JSON artefact in which ``kinds.secrets.unchanged_copy`` proves nothing is
to be masked), so the raw bytes are neither parsed again nor walked here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.collectors import registry
from affidavit.collectors.kinds.secrets import AS_IS, mask_document

if TYPE_CHECKING:
    from affidavit.model import Evidence

__all__ = ["AS_IS", "redacted_copy"]


def redacted_copy(record: Evidence, raw: bytes, made: bytes | None = None) -> tuple[bytes, bool]:
    """The bytes to store for ``record`` and whether they differ from ``raw``.

    ``made``: the copy the record's collector made from its own parse of these bytes
    (``Collection.stored``: what the hook gives for them, without parsing them again; ``AS_IS``:
    ``raw`` itself); the caller has checked that ``raw`` hashes to the record's id, the bytes it
    was made from.

    ``raw`` is returned as it is when it carried no secret this time (for a format without a
    ``redact`` hook: no well-known credential). When the second value is ``False`` the stored
    bytes hash to the record's id. A raw artefact that its format cannot redact raises
    ``InputError`` naming its source; it is never stored as it is. An unknown format name is a
    ``KeyError``, never "nothing to redact".
    """
    if made is not None:
        if made == AS_IS:  # proven to carry nothing to mask (kinds.secrets.unchanged_copy)
            return raw, False
        return made, made != raw
    redact = registry.redactor(record.format) or mask_document
    stored = redact(raw, record.source)
    return stored, stored != raw
