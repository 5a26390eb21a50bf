"""Unwrapping the envelopes signed evidence arrives in, down to the document inside.

Signatures and attestations come wrapped: a DSSE envelope (``payloadType``, base64 ``payload``,
``signatures``) around an in-toto Statement, a Sigstore bundle around a DSSE envelope or a
message signature, and JSON Lines files (``gh attestation download``, ``cosign
verify-attestation``, slsa-github-generator's ``.intoto.jsonl``) holding one of those per line.
The formats that read them (``formats.sigstore_bundle``, ``formats.attestation``) share these
helpers; none of them verifies anything (that is ``affidavit.signatures``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from affidavit.errors import InputError

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
IN_TOTO_STATEMENT_PREFIX = "https://in-toto.io/Statement/"
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"


def first_of_json_lines(doc: Artefact) -> Any:
    """The first document of a JSON Lines file (several JSON documents, one per line), else ``None``.

    ``gh attestation download`` and ``cosign verify-attestation`` write one bundle or envelope per
    line; a file with one line is plain JSON and never reaches here.
    """
    if not doc.looks_like_json or doc.try_json() is not None:
        return None
    raw = doc.raw if doc.encoding == "utf-8" else doc.text.encode("utf-8")
    end = raw.find(b"\n")
    if end < 0 or not raw[end:].strip():
        return None
    try:
        return json.loads(raw[:end])
    except ValueError:
        return None


def single_document(doc: Artefact) -> Any:
    """``doc.json()``, or an ``InputError`` saying a JSON Lines file holds several attestations."""
    if first_of_json_lines(doc) is not None:
        count = sum(1 for line in doc.text.splitlines() if line.strip())
        raise InputError(
            doc.source,
            f"holds {count} JSON documents, one per line (JSON Lines): affidavit reads one bundle or "
            "envelope per file",
            hint="split it into one file per line (for example with `split -l 1`) and collect each",
        )
    return doc.json()


def is_dsse_envelope(value: Any) -> bool:
    """The shape of a DSSE envelope: a string payload and payload type, a list of signatures."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("payload"), str)
        and isinstance(value.get("payloadType"), str)
        and isinstance(value.get("signatures"), list)
    )


def dsse_payload_bytes(doc: Artefact, value: Any, path: str) -> bytes:
    """The decoded DSSE payload; missing or not base64 is an ``InputError`` at ``path``."""
    if not isinstance(value, str):
        raise InputError(doc.source, "the DSSE payload is missing", path=path)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(doc.source, "the DSSE payload is not base64", path=path) from None


def decode_statement(doc: Artefact, payload: bytes, path: str) -> dict[str, Any]:
    """The in-toto Statement in a DSSE payload; anything else is an ``InputError`` at ``path``."""
    try:
        statement = json.loads(payload)
    except ValueError:
        raise InputError(
            doc.source, "the DSSE payload is not JSON, so not an in-toto Statement", path=path
        ) from None
    if not isinstance(statement, dict) or not isinstance(statement.get("_type"), str):
        keys = ", ".join(sorted(statement)) if isinstance(statement, dict) else type(statement).__name__
        raise InputError(
            doc.source,
            f"the DSSE payload is not an in-toto Statement (no _type; it holds: {keys or 'an empty object'})",
            path=path,
        )
    if not statement["_type"].startswith(IN_TOTO_STATEMENT_PREFIX):
        raise InputError(
            doc.source,
            f"the DSSE payload has _type {statement['_type']!r}, not an in-toto Statement",
            path=path,
        )
    return statement
