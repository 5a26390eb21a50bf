"""The collector interface: a raw artefact in, one evidence record out.

A ``Artefact`` is read once. Its bytes are hashed once, decoded once (BOM and UTF-16 aware) and,
when it is JSON, parsed once with the cyclic garbage collector paused (half the parse time of a
large Terraform plan is the collector walking a tree that has no cycles). Every format's
``detect`` looks at the same parsed object and the winning ``parse`` receives it too.

A ``Format`` is one way of reading one tool's output. It declares the evidence kind it yields,
a ``detect`` function returning a confidence (0 means "not mine") and a ``parse`` function
returning a ``Parsed`` value. ``collect`` wraps that into an ``Evidence`` with its provenance.
A format whose raw bytes can carry a secret (a secret scanner's report, a plan's sensitive
values) also has a ``redact`` hook: the collector keeps secrets out of the record, the hook keeps
them out of the raw copy an evidence bundle stores beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.artefact import Artefact
from affidavit.artefact import json_type as json_type  # re-exported: the formats' one import
from affidavit.artefact import shape_of as shape_of
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool

if TYPE_CHECKING:
    from affidavit.spool import SpooledCopy

# Confidence levels used by detectors. A format that recognises its own declared marker
# (``bomFormat: CycloneDX``, ``SchemaVersion`` + ``ArtifactName``) says DEFINITE; a shape guess
# from a combination of keys says LIKELY; a weak hint says POSSIBLE.
DEFINITE = 100
LIKELY = 60
POSSIBLE = 30
NO = 0


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """Settings that change how artefacts are read or verified.

    ``now`` is the run's clock (ISO 8601, UTC), used as ``collected_at`` so that two runs with the
    same inputs produce the same records. Verification settings are read by the signature and
    attestation collectors only:

    - ``artifact_digest`` (``sha256:<hex>``) or ``artifact`` (the file, hashed): the artefact a
      signature must cover;
    - ``trusted_root``, ``public_key``: what a signature is verified against (see
      ``affidavit.signatures``); ``identity`` / ``issuer``: an explicit check of the signer the
      user asks for (without it the signer is recorded, and the rules judge it);
    - ``signature``: a detached signature file (base64, as cosign writes it) for a cosign
      simple-signing payload; ``payload``: the signed simple-signing blob of a cosign ``.sig``
      OCI manifest.

    ``branch`` is the branch a GitHub GraphQL branch-protection response is read for.
    """

    now: str
    kind: EvidenceKind | None = None
    format: str | None = None
    artifact_digest: str | None = None
    artifact: Path | None = None
    trusted_root: Path | None = None
    identity: str | None = None
    issuer: str | None = None
    public_key: Path | None = None
    signature: Path | None = None
    payload: Path | None = None
    branch: str | None = None
    offline: bool = True
    # Make each raw copy a bundle will store while the document is parsed (a format with a
    # ``redact`` hook that needs the parse, such as a Terraform plan, then parses it once): the
    # gate. The copy comes back in ``Parsed.stored`` and travels with the run to the bundle writer.
    stored_copies: bool = False


@dataclass(slots=True)
class Parsed:
    """What a format's parser returns; ``collect`` adds id, source and times."""

    data: dict[str, Any]
    format_version: str | None = None
    tool: Tool | None = None
    subject: Subject = field(default_factory=Subject)
    effective_at: str | None = None
    problems: list[str] = field(default_factory=list)
    kind: EvidenceKind | None = None  # only when one format yields more than one kind
    # The raw copy a bundle stores, made from this parse (``CollectOptions.stored_copies``): exactly
    # what the format's ``redact`` hook gives for these bytes (a large one already waiting on disk:
    # ``spool.SpooledCopy``). None: the hook makes it when needed.
    stored: bytes | SpooledCopy | None = None


Detector = Callable[[Artefact], int]
Parser = Callable[[Artefact, CollectOptions], Parsed]
# (raw bytes, source name for errors) -> the bytes a bundle may store: every secret the raw
# artefact can carry replaced (the bytes themselves when there is none). Raises ``InputError``
# naming the source when the bytes cannot be redacted; they are then never stored as they are.
Redactor = Callable[[bytes, str], bytes]


@dataclass(frozen=True, slots=True)
class Format:
    """One readable artefact format (one tool's output in one shape)."""

    name: str
    kind: EvidenceKind
    detect: Detector
    parse: Parser
    description: str
    # How the raw artefact is made safe to store in a bundle; None: this format never carries a
    # secret (``registry.redactor`` reads it; ``bundle.redact`` applies it).
    redact: Redactor | None = None


class Problems:
    """Collects non-fatal oddities while parsing; each becomes one sentence naming the place."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Record that ``path`` (a JSON path) has an oddity described by ``message``."""
        self.items.append(f"{self.source}: {path}: {message}")


def require_mapping(doc: Artefact, value: Any, path: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else raise an ``InputError`` at ``path``."""
    if not isinstance(value, dict):
        raise InputError(doc.source, f"expected an object, found {json_type(value)}", path=path)
    return value


def require_list(doc: Artefact, value: Any, path: str) -> list[Any]:
    """Return ``value`` if it is a JSON array, else raise an ``InputError`` at ``path``."""
    if not isinstance(value, list):
        raise InputError(doc.source, f"expected an array, found {json_type(value)}", path=path)
    return value


def opt_str(value: Any) -> str | None:
    """A string field that may be absent, null or (wrongly) a number."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None
