"""The collector interface: a raw artefact in, one evidence record out.

A ``Document`` is read once. Its bytes are hashed once, decoded once (BOM and UTF-16 aware) and,
when it is JSON, parsed once with the cyclic garbage collector paused (half the parse time of a
large Terraform plan is the collector walking a tree that has no cycles). Every format's
``detect`` looks at the same parsed object and the winning ``parse`` receives it too.

A ``Format`` is one way of reading one tool's output. It declares the evidence kind it yields,
a ``detect`` function returning a confidence (0 means "not mine") and a ``parse`` function
returning a ``Parsed`` value. ``collect`` wraps that into an ``Evidence`` with its provenance.
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool

# Confidence levels used by detectors. A format that recognises its own declared marker
# (``bomFormat: CycloneDX``, ``SchemaVersion`` + ``ArtifactName``) says DEFINITE; a shape guess
# from a combination of keys says LIKELY; a weak hint says POSSIBLE.
DEFINITE = 100
LIKELY = 60
POSSIBLE = 30
NO = 0

_NOT_PARSED = object()


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """Settings that change how artefacts are read or verified.

    ``now`` is the run's clock (ISO 8601, UTC), used as ``collected_at`` so that two runs with the
    same inputs produce the same records. Verification settings are read by the signature and
    attestation collectors only.
    """

    now: str
    kind: EvidenceKind | None = None
    format: str | None = None
    artifact_digest: str | None = None
    trusted_root: Path | None = None
    identity: str | None = None
    issuer: str | None = None
    # (identity, issuer) pairs any one of which may sign, used when ``identity`` is not given
    # (the gate fills it from the environment's rule data); ``re:`` marks a pattern
    identities: tuple[tuple[str, str], ...] = ()
    public_key: Path | None = None
    offline: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class Document:
    """One artefact's bytes, with lazily computed and cached views (text, JSON)."""

    def __init__(self, source: str, raw: bytes) -> None:
        self.source = source
        self.raw = raw
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self._json: Any = _NOT_PARSED
        self._json_error: InputError | None = None

    @classmethod
    def from_path(cls, path: Path, source: str | None = None) -> Document:
        """Read a file; an unreadable or empty file is an ``InputError`` naming it."""
        name = source if source is not None else str(path)
        try:
            raw = path.read_bytes()
        except IsADirectoryError:
            raise InputError(name, "is a directory, not a file") from None
        except FileNotFoundError:
            raise InputError(name, "no such file") from None
        except OSError as exc:
            raise InputError(name, f"cannot be read: {exc.strerror or exc}") from None
        if not raw:
            raise InputError(
                name, "is empty (0 bytes): the tool that should have written it produced nothing"
            )
        return cls(name, raw)

    @property
    def id(self) -> str:
        """The evidence id: ``sha256:`` of the raw bytes."""
        return f"sha256:{self.sha256}"

    @cached_property
    def encoding(self) -> str:
        """The text encoding, from the byte-order mark or the NUL pattern of UTF-16 text."""
        raw = self.raw
        if raw.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
            return "utf-16"
        if len(raw) >= 2 and raw[0] == 0 and raw[1] != 0:
            return "utf-16-be"
        if len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
            return "utf-16-le"
        return "utf-8"

    @cached_property
    def text(self) -> str:
        """The artefact decoded as text; undecodable bytes are an ``InputError``."""
        try:
            return self.raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise InputError(
                self.source, f"is not valid {self.encoding} text (byte {exc.start}): not a text artefact"
            ) from None

    @cached_property
    def head(self) -> str:
        """The first non-blank characters of the text (up to 4 KiB), for cheap sniffing."""
        if self.encoding == "utf-8":
            chunk = self.raw[:4096].decode("utf-8", errors="replace")
        else:
            chunk = self.text[:4096]
        return chunk.lstrip("\ufeff \t\r\n")

    @property
    def looks_like_json(self) -> bool:
        """True when the text starts like a JSON document."""
        return self.head[:1] in ("{", "[") or self.head.startswith("null")

    def json(self) -> Any:
        """The parsed JSON document (parsed once). Raises ``InputError`` if it is not JSON."""
        if self._json is _NOT_PARSED and self._json_error is None:
            try:
                with gc_paused():
                    if self.encoding == "utf-8":
                        # json.loads on bytes avoids a second copy of the text
                        self._json = json.loads(self.raw)
                    else:
                        self._json = json.loads(self.text)
            except json.JSONDecodeError as exc:
                self._json_error = InputError(
                    self.source,
                    _describe_json_error(exc, len(self.raw)),
                )
            except RecursionError:
                self._json_error = InputError(self.source, "JSON is nested too deeply to be read safely")
            except UnicodeDecodeError as exc:
                self._json_error = InputError(
                    self.source, f"is not valid {self.encoding} text (byte {exc.start}): the file is damaged"
                )
        if self._json_error is not None:
            raise self._json_error
        return self._json

    def try_json(self) -> Any:
        """The parsed JSON, or ``None`` when the artefact is not JSON."""
        if not self.looks_like_json:
            return None
        try:
            return self.json()
        except InputError:
            return None

    def release(self) -> None:
        """Drop the cached parse so that memory goes back once the record is built."""
        self._json = _NOT_PARSED
        self.__dict__.pop("text", None)


def _describe_json_error(exc: json.JSONDecodeError, size: int) -> str:
    # The parser stopped at the end of the bytes (or inside a string that never closes, which
    # always runs to the end): the document was cut off, not malformed.
    at_end = exc.pos >= size - 2 or ("Expecting" in exc.msg and exc.pos >= size - 64)
    if at_end or exc.msg.startswith("Unterminated string"):
        return (
            f"JSON ends early at line {exc.lineno} column {exc.colno} ({exc.msg}): "
            "the file looks truncated; re-run the tool that wrote it"
        )
    return f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (JSON trees have no cycles to find)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


Detector = Callable[[Document], int]
Parser = Callable[[Document, CollectOptions], Parsed]


@dataclass(frozen=True, slots=True)
class Format:
    """One readable artefact format (one tool's output in one shape)."""

    name: str
    kind: EvidenceKind
    detect: Detector
    parse: Parser
    description: str


class Problems:
    """Collects non-fatal oddities while parsing; each becomes one sentence naming the place."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Record that ``path`` (a JSON path) has an oddity described by ``message``."""
        self.items.append(f"{self.source}: {path}: {message}")


def require_mapping(doc: Document, value: Any, path: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else raise an ``InputError`` at ``path``."""
    if not isinstance(value, dict):
        raise InputError(doc.source, f"expected an object, found {json_type(value)}", path=path)
    return value


def require_list(doc: Document, value: Any, path: str) -> list[Any]:
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


def json_type(value: Any) -> str:
    """JSON's name for the type of a Python value from ``json.loads``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
