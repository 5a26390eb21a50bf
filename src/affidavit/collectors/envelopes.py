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
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json
from affidavit.collectors.interface import shape_of
from affidavit.errors import InputError

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
IN_TOTO_STATEMENT_PREFIX = "https://in-toto.io/Statement/"
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
#: in-toto's classic metadata types (``_type`` of a link or a layout, in-toto spec v0.9 section 4),
#: which DSSE may carry too but which state nothing about an artefact by digest.
IN_TOTO_METADATA_TYPES = ("link", "layout")


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
        return load_json(raw[:end], f"{doc.source}: line 1")
    except InputError:  # not JSON Lines after all (or a line naming a key twice): the parse says so
        return None


def inner_json(doc: Artefact, data: bytes | str, path: str, what: str) -> Any:
    """JSON carried inside an artefact (a DSSE payload, a log entry body, an annotation).

    Parsed by the one strict loader, so an inner object that names a key twice is refused like an
    outer one; a refusal is an ``InputError`` naming the file, ``path`` and ``what`` (a noun: "the
    DSSE payload"), followed by the loader's reason.
    """
    try:
        return load_json(data, doc.source)
    except InputError as exc:
        raise InputError(doc.source, f"{what}: {exc.detail}", path=path, hint=exc.hint) from None


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
    statement = inner_json(doc, payload, path, "the DSSE payload (an in-toto Statement)")
    if not isinstance(statement, dict) or not isinstance(statement.get("_type"), str):
        raise InputError(
            doc.source,
            f"the DSSE payload is not an in-toto Statement (no _type string; it is {shape_of(statement)})",
            path=path,
        )
    if statement["_type"] in IN_TOTO_METADATA_TYPES:
        raise InputError(
            doc.source,
            f"the DSSE payload is in-toto {statement['_type']} metadata (in-toto's own supply chain "
            "layout format), not an in-toto Statement about an artefact",
            path=path,
            hint="pass the build's attestation instead: an in-toto Statement with SLSA provenance "
            "(in-toto-run/witness can emit one), signed in a DSSE envelope or a Sigstore bundle",
        )
    if not statement["_type"].startswith(IN_TOTO_STATEMENT_PREFIX):
        raise InputError(
            doc.source,
            f"the DSSE payload's _type is {shape_of(statement['_type'])}, not an in-toto Statement type",
            path=path,
        )
    return statement
