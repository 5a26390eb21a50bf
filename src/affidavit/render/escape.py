"""How a renderer shows a string of a Run: always as the text it is, never as structure.

Nearly every string of a ``Run`` can come from an artefact or from whoever runs the gate: a
scanner's title, a SARIF message, a branch name, a Terraform address, a change record, a file
name, a waiver's reason. A renderer therefore treats every string it interpolates as hostile and
passes it through one of the functions below; only the fixed words of its own template are not.

* ``visible`` spells out every character that is not printable (C0 and C1 controls, DEL, escape
  sequences, line and paragraph separators, bidirectional overrides and isolates, zero-width
  characters, lone surrogates) as ``\\n``, ``\\x1b``, ``\\u202e`` ... so that none reaches a
  terminal or a document as a control.
* ``terminal`` is ``visible`` for one value on one terminal line: a value can neither move the
  cursor nor start a line of its own.
* ``md_text`` is Markdown inline text: after a CommonMark or GitHub-flavoured renderer it shows the
  same characters (runs of white space as one space) and makes no element: no heading, list,
  quote, code, emphasis, link, image, autolink, raw HTML, comment, entity, table cell or math.
  (GitHub still shows an e-mail address as a ``mailto:`` link to itself: its autolinker reads the
  rendered text, where no escape is left.)
* ``md_code`` is a code span that its content cannot close, also inside a table cell.
* ``md_prose`` is text in which only single-backtick code spans keep their meaning (rule
  remediations use them); every other character is escaped as by ``md_text``.

What these return is ``Md``: a ``str`` that is already Markdown, so a template can tell what has
been escaped (``Md``) from what has not (anything else).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The short names of the commonest controls; every other one is written by its code point.
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: White space that a Markdown value shows as one space (line breaks included).
_SPACE = re.compile(r"\s+")
#: Characters escaped wherever they are: each can open an inline construct (code, emphasis,
#: strikethrough, link or image, raw HTML or autolink, entity, table cell, math) or is the escape
#: character itself. ``@`` is not: GitHub links an e-mail address (to ``mailto:`` that same
#: address) whatever is escaped in it, and no other link starts there.
_ALWAYS = frozenset("\\`*[]<&|~$")
#: A value's first character is escaped when it could open a block where the value starts one
#: (in a list item, at the start of a paragraph): heading, quote, list item, setext underline.
_FIRST = frozenset("#>-+=")
# Every character ``_escape`` may put a backslash before.
_MAY_ESCAPE = re.compile("[" + re.escape("".join(sorted(_ALWAYS))) + "_:.]")
#: An ordered list marker at a value's start (``1.`` or ``1)`` then a space or the end).
_ORDERED = re.compile(r"(\d{1,9})([.)])(?=\s|\Z)")
#: A single-backtick code span in rule prose.
_SPAN = re.compile(r"`([^`]+)`")


class Md(str):
    """A string that is already Markdown: built by this module from escaped parts."""

    __slots__ = ()


def _spell(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def visible(text: str) -> str:
    """``text`` with every character that is not printable written out (``\\x1b``, ``\\u202e``).

    Printable is Python's ``str.isprintable``: letters, marks, digits, punctuation, symbols and the
    ASCII space. Everything else (the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and every space but
    U+0020) is spelled out, so the result holds no control of any terminal or document format.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _spell(c) for c in text)


def terminal(value: object) -> str:
    """``value`` for one terminal line: controls spelled out, runs of spaces as one space.

    A line break inside the value is shown as ``\\n``, so a value cannot start a line of its own;
    squeezing spaces keeps a value from padding a forged line into place when the terminal wraps.
    GitHub's runner reads ``##[command]`` anywhere in a line of a job's output (``##[stop-commands]``
    would silence every later annotation), so its opening bracket is spelled out too.
    """
    return visible(re.sub(" {2,}", " ", str(value))).replace("##[", "##\\x5b")


def _normal(value: object) -> str:
    """The text a Markdown value shows: white space runs as one space, controls spelled out."""
    return visible(_SPACE.sub(" ", str(value)).strip())


def _intraword(text: str, i: int) -> bool:
    """True when ``text[i]`` sits between two letters or digits (an ``_`` there is never emphasis)."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def _www(text: str, i: int) -> bool:
    """True when ``text[i]`` is the dot of a ``www.`` that starts a word (a GFM autolink)."""
    return i >= 3 and text[i - 3 : i].lower() == "www" and (i == 3 or not text[i - 4].isalnum())


def _escape(text: str, *, first: bool) -> str:
    """Backslash-escape ``text`` (already normalised) as inline Markdown.

    ``first``: the text starts the value, so a block marker at its start is escaped too.
    """

    def one(match: re.Match[str]) -> str:
        c, i = match.group(), match.start()
        if (
            c in _ALWAYS
            or (c == "_" and not _intraword(text, i))
            or (c == ":" and text.startswith("//", i + 1))
            or (c == "." and _www(text, i))
        ):
            return "\\" + c
        return c

    # Only the characters that may need a backslash are looked at, each in its place (a loop over
    # every character cost a tenth of the demo gate's rendering).
    escaped = _MAY_ESCAPE.sub(one, text)
    if first and escaped:
        if escaped[0] in _FIRST:
            return "\\" + escaped
        ordered = _ORDERED.match(escaped)
        if ordered:
            return f"{ordered.group(1)}\\{escaped[ordered.end(1) :]}"
    return escaped


def md_text(value: object) -> Md:
    """``value`` as Markdown inline text that renders as exactly its characters (see the module)."""
    return Md(_escape(_normal(value), first=True))


def _span(text: str, *, table: bool) -> Md:
    if table:
        # GFM splits a table row at every unescaped pipe, inside code spans too, and removes the
        # backslash of an escaped one before the span is read, so the span still shows ``|``.
        text = text.replace("|", "\\|")
    if not text:
        return Md("` `")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def md_code(value: object, *, table: bool = False) -> Md:
    """``value`` as a code span: a fence longer than any backtick run in it, so it cannot close early.

    ``table``: the span is inside a table cell, where a pipe must be escaped even in code.
    """
    return _span(_normal(value), table=table)


def md_prose(value: object, *, table: bool = False) -> Md:
    """``value`` as ``md_text``, except that its single-backtick spans stay code spans."""
    text = _normal(value)
    parts = _SPAN.split(text)
    out: list[str] = []
    for n, part in enumerate(parts):
        if n % 2:
            out.append(_span(part.strip() or part, table=table))
        elif part:
            out.append(_escape(part, first=n == 0))
    return Md("".join(out))


def md_join(values: Sequence[object], separator: str = ", ", empty: str = "-") -> Md:
    """The items of ``values`` as Markdown text joined by ``separator`` (trusted Markdown).

    An item that is ``Md`` already is kept; any other is escaped with ``md_text``.
    """
    items = [v if isinstance(v, Md) else md_text(v) for v in values]
    return Md(separator.join(items) if items else empty)
