"""Reading a rendered report the way a Markdown viewer does, to check that values stayed text.

The report is rendered to HTML with markdown-it-py in CommonMark mode with raw HTML passed through
(the most permissive setting, what a viewer that trusts its input does) plus GFM tables and
strikethrough. A value escaped correctly renders as its own characters and adds no element; one that
is not shows up as an extra tag, a comment, a missing table or a cell split in two.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def to_html(markdown: str) -> str:
    """The HTML a CommonMark + GFM-tables viewer makes of ``markdown``."""
    rendered: str = _MD.render(markdown)
    return rendered


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(f"<{tag}{''.join(f' {k}' for k, _ in attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.tags.append("<!--")

    def handle_decl(self, decl: str) -> None:
        self.tags.append("<!")

    def handle_pi(self, data: str) -> None:
        self.tags.append("<?")

    def unknown_decl(self, data: str) -> None:
        self.tags.append("<![")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def read(html: str) -> tuple[list[str], str]:
    """``structure(html)`` and ``text_of(html)`` from one parse."""
    reader = _read(html)
    return reader.tags, " ".join("".join(reader.text).split())


def structure(html: str) -> list[str]:
    """Every element, comment and declaration of ``html``, in order (attribute names, no values)."""
    return _read(html).tags


def text_of(html: str) -> str:
    """The text a reader sees in ``html``: entities decoded, every run of white space one space."""
    return " ".join("".join(_read(html).text).split())


def _cells(row: str) -> int:
    """The number of cells GFM reads in a table row: pipes not preceded by a backslash split it."""
    body = row.strip()
    delimiters = [i for i, c in enumerate(body) if c == "|" and (i == 0 or body[i - 1] != "\\")]
    count = len(delimiters) + 1
    if body.startswith("|"):
        count -= 1
    if body.endswith("|") and not body.endswith("\\|"):
        count -= 1
    return count


def table_shapes(markdown: str) -> list[list[int]]:
    """Each table of ``markdown`` as the cell count of its rows, header and delimiter row first."""
    tables: list[list[int]] = []
    current: list[int] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(_cells(line))
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def ragged_tables(markdown: str) -> list[list[int]]:
    """The tables of ``markdown`` in which some row has another number of cells than the header."""
    return [shape for shape in table_shapes(markdown) if len(set(shape)) != 1]


def headings(html: str | list[str]) -> list[str]:
    """The headings (``h1``-``h6`` start tags) of ``html``, or of a ``structure`` already read."""
    tags = structure(html) if isinstance(html, str) else html
    return [t for t in tags if re.fullmatch(r"<h[1-6]>", t)]
