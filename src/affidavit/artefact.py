"""An artefact read once: its bytes, their sha256, the decoded text and the parsed JSON.

Every collector works from an ``Artefact``. The bytes are hashed once, decoded once (UTF-8 with or
without a byte-order mark, UTF-16 either byte order) and, when the text is JSON, parsed once with
the cyclic garbage collector paused (a JSON tree has no cycles for it to find, and on a large
Terraform plan the collector's walks cost as much as the parse).

A JSON object that names the same key twice is refused: Python's parser keeps the last value, so
a second ``"Vulnerabilities": []`` would silently hide every finding of the first.
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from affidavit.errors import InputError

_NOT_PARSED = object()


class Artefact:
    """One artefact's bytes, with lazily computed and cached views (text, JSON)."""

    def __init__(self, source: str, raw: bytes) -> None:
        self.source = source
        self.raw = raw
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self._json: Any = _NOT_PARSED
        self._json_error: InputError | None = None

    @classmethod
    def from_path(cls, path: Path, source: str | None = None) -> Artefact:
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
