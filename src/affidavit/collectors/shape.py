"""What an artefact no format reads is, in words: its shape, never its bytes.

A message about a file affidavit cannot read must say enough to recognise the file ("a JSON
object with 12 keys", "text of 3 lines", "a PNG image") and nothing that came out of it: not its
first line (a ``creds.env`` would give its secret away), not its keys (keys can be data too), not
its root element.

The shape also decides what an evidence folder may hold besides evidence. Images and PDFs are
known by their magic bytes before any format looks at them; Markdown, plain text and HTML pages
are known only once no format has claimed them. All of these are *ignored* (listed, never an
error). JSON and XML are never ignored: an unknown document of either may be evidence affidavit
cannot read, so it stays an error; so does binary data of no known kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from affidavit.artefact import Artefact, load_json
from affidavit.errors import InputError


class Category(StrEnum):
    """The families of shapes that decide what happens to a file no format reads."""

    JSON = "json"
    XML = "xml"
    BINARY = "binary"
    TEXT = "text"
    HTML = "html"
    IMAGE = "image"
    PDF = "pdf"


#: Shapes that are never evidence for affidavit, however they got into the folder.
NOT_EVIDENCE = frozenset({Category.TEXT, Category.HTML, Category.IMAGE, Category.PDF})


@dataclass(frozen=True, slots=True)
class Shape:
    """``what``: the words for a message ("a JSON array of 3 items"); ``category``: its family."""

    what: str
    category: Category

    @property
    def not_evidence(self) -> bool:
        """True for a shape no evidence has (an image, a document for people, plain text)."""
        return self.category in NOT_EVIDENCE

    @property
    def ignored_because(self) -> str:
        """Why a file of this shape found in an evidence folder is left out."""
        if self.category is Category.TEXT:
            return f"text in no format affidavit reads ({self.what.removeprefix('text of ')}): not evidence"
        return f"{self.what}: not evidence"


# Magic numbers: PNG (ISO/IEC 15948 5.2), JPEG (JFIF/Exif SOI + marker), GIF87a/89a, WebP (RIFF
# container), TIFF (both byte orders), ICO, PDF (ISO 32000 7.5.2), AVIF and HEIC (ISO BMFF ftyp).
_MAGIC: tuple[tuple[bytes, int, str, Category], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image", Category.IMAGE),
    (b"\xff\xd8\xff", 0, "a JPEG image", Category.IMAGE),
    (b"GIF87a", 0, "a GIF image", Category.IMAGE),
    (b"GIF89a", 0, "a GIF image", Category.IMAGE),
    (b"WEBP", 8, "a WebP image", Category.IMAGE),
    (b"II*\x00", 0, "a TIFF image", Category.IMAGE),
    (b"MM\x00*", 0, "a TIFF image", Category.IMAGE),
    (b"\x00\x00\x01\x00", 0, "an icon image", Category.IMAGE),
    (b"%PDF-", 0, "a PDF document", Category.PDF),
)
_ISO_BMFF_IMAGES = {b"avif": "an AVIF image", b"avis": "an AVIF image", b"heic": "a HEIC image"}

# An HTML page or an SVG drawing: after an optional XML declaration, comments and doctype.
_PROLOGUE = r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
_HTML = re.compile(_PROLOGUE + r"(?:<!doctype\s+html[\s>]|<html[\s>])", re.IGNORECASE | re.DOTALL)
_SVG = re.compile(_PROLOGUE + r"(?:<!doctype\s+svg[^>]*>\s*)?<svg[\s>/]", re.IGNORECASE | re.DOTALL)

# Characters plain text does not hold (C0 controls apart from tab, line feed, form feed, carriage
# return and vertical tab; DEL).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_TEXT_SAMPLE = 65536


def by_magic(raw: bytes) -> Shape | None:
    """The shape of an image or PDF, from its first bytes; ``None`` for anything else."""
    for magic, offset, what, category in _MAGIC:
        if raw.startswith(magic, offset) and (offset == 0 or raw.startswith(b"RIFF")):
            return Shape(what, category)
    if raw[4:8] == b"ftyp" and raw[8:12] in _ISO_BMFF_IMAGES:
        return Shape(_ISO_BMFF_IMAGES[raw[8:12]], Category.IMAGE)
    return None


def describe(doc: Artefact) -> Shape:
    """The shape of an artefact that no format reads (JSON is parsed: broken JSON raises its
    own ``InputError``, which names the place and never quotes it)."""
    magic = by_magic(doc.raw)
    if magic is not None:
        return magic
    if doc.looks_like_json:
        return Shape(_json_shape(doc.json()), Category.JSON)
    text = _text(doc)
    if text is None:
        return Shape(f"binary data ({_count(len(doc.raw), 'byte')})", Category.BINARY)
    scalar = _json_scalar(text, doc.source)
    if scalar is not None:
        return Shape(scalar, Category.JSON)
    head = doc.head[:4096]
    if _HTML.match(head):
        return Shape("an HTML page", Category.HTML)
    if _SVG.match(head):
        return Shape("an SVG image", Category.IMAGE)
    if head.startswith("<"):
        return Shape("an XML document", Category.XML)
    return Shape(f"text of {_count(len(text.splitlines()), 'line')}", Category.TEXT)


def _json_shape(value: object) -> str:
    if isinstance(value, dict):
        return f"a JSON object with {_count(len(value), 'key')}"
    if isinstance(value, list):
        return f"a JSON array of {_count(len(value), 'item')}"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    return "JSON null"


def _json_scalar(text: str, source: str) -> str | None:
    """The shape of a document that is one JSON string, number or boolean (``None`` otherwise)."""
    if text.lstrip()[:1] not in ('"', "-", "t", "f", *"0123456789"):
        return None
    try:
        return _json_shape(load_json(text, source))
    except InputError:
        return None


def _text(doc: Artefact) -> str | None:
    """The artefact as text, or ``None`` when it does not decode or holds control characters."""
    try:
        text = doc.text
    except InputError:
        return None
    return None if _CONTROL.search(text, 0, _TEXT_SAMPLE) else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
