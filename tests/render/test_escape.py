"""The escaping functions of ``affidavit.render.escape``, one by one and against a CommonMark viewer."""

from __future__ import annotations

import html
import itertools
import string

import pytest

from affidavit.render.escape import Md, md_code, md_join, md_prose, md_text, terminal, visible
from tests.render.markdown_check import structure, text_of, to_html


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J\x1b[32mGO", "\\x1b[2J\\x1b[32mGO"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x00\x07\x7f\x85\x9b", "\\x00\\x07\\x7f\\x85\\x9b"),
        ("\u202aa\u202bb\u202cc\u202dd\u202ee", "\\u202aa\\u202bb\\u202cc\\u202dd\\u202ee"),
        ("\u2066x\u2067y\u2068z\u2069", "\\u2066x\\u2067y\\u2068z\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("lone \ud800", "lone \\ud800"),
        ("café 日本 🚀 C:\\path", "café 日本 🚀 C:\\path"),
    ],
)
def test_visible_spells_out_every_character_that_is_not_printable(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible(raw).isprintable()


def test_terminal_keeps_a_value_on_its_line_and_squeezes_padding() -> None:
    assert terminal("x\n" + " " * 80 + "GO") == "x\\n GO"
    assert terminal(3) == "3"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain words, (parens) and 1.5", "plain words, (parens) and 1.5"),
        ("source_control.min_approvals", "source_control.min_approvals"),
        ("_private and tail_", "\\_private and tail\\_"),
        ("# title", "\\# title"),
        ("a # b", "a # b"),
        ("1. item", "1\\. item"),
        ("12) item", "12\\) item"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("> quote", "\\> quote"),
        ("=== x", "\\=== x"),
        ("<!-- x", "\\<!-- x"),
        ("a | b", "a \\| b"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("see https://evil.example", "see https\\://evil.example"),
        ("www.evil.example", "www\\.evil.example"),
        ("mail me@evil.example or ghcr.io/a@sha256:1", "mail me@evil.example or ghcr.io/a@sha256:1"),
        ("a & b", "a \\& b"),
        ("$x$", "\\$x\\$"),
        ("~~x~~", "\\~\\~x\\~\\~"),
        ("back\\slash", "back\\\\slash"),
        ("two\n\nlines\there", "two lines here"),
        ("  padded  ", "padded"),
        ("\x1b[31m", "\\\\x1b\\[31m"),
    ],
)
def test_md_text_escapes_only_what_markdown_would_read(raw: str, escaped: str) -> None:
    assert md_text(raw) == escaped
    assert isinstance(md_text(raw), Md)


#: Short strings made of every ASCII punctuation character in the places Markdown reads them.
_SAMPLES = sorted(
    {
        form.format(c=c, d=d)
        for c, d in itertools.product(string.punctuation, repeat=2)
        for form in (
            "{c}",
            "{c}{c}{c}",
            "a{c}b",
            "{c}a{c}",
            "{c}{d}x{d}{c}",
            "1{c} x",
            "{c} x {d}",
            "x{c}{d}",
        )
    }
)


@pytest.mark.parametrize("chunk", range(8))
def test_md_text_renders_as_the_same_characters_and_nothing_else(chunk: int) -> None:
    for raw in _SAMPLES[chunk::8]:
        rendered = to_html(md_text(raw))
        assert structure(rendered) == ["<p>", "</p>"], (raw, rendered)
        assert text_of(rendered) == raw, (raw, rendered)


@pytest.mark.parametrize("chunk", range(8))
def test_md_code_cannot_be_closed_by_its_content(chunk: int) -> None:
    for raw in _SAMPLES[chunk::8]:
        rendered = to_html(md_code(raw))
        assert structure(rendered) == ["<p>", "<code>", "</code>", "</p>"], (raw, rendered)
        inner = rendered.split("<code>", 1)[1].rsplit("</code>", 1)[0]
        assert html.unescape(inner) == raw, (raw, rendered)


@pytest.mark.parametrize("chunk", range(8))
def test_a_table_row_keeps_its_cells_whatever_they_hold(chunk: int) -> None:
    for raw in _SAMPLES[chunk::8]:
        table = f"| a | b |\n|---|---|\n| {md_code(raw, table=True)} | {md_text(raw)} |\n"
        rendered = to_html(table)
        cells = rendered.split("<tbody>", 1)[1]
        assert structure(cells).count("<td>") == 2, (raw, rendered)
        code = cells.split("<code>", 1)[1].split("</code>", 1)[0]
        assert html.unescape(code) == raw, (raw, rendered)
        second = cells.split("</td>", 1)[1]
        assert text_of(second) == raw, (raw, rendered)


def test_md_code_uses_a_longer_fence_than_its_content() -> None:
    assert md_code("a`b") == "``a`b``"
    assert md_code("`a") == "`` `a ``"
    assert md_code("x ``` y") == "````x ``` y````"
    assert md_code("a|b") == "`a|b`"
    assert md_code("a|b", table=True) == "`a\\|b`"
    assert md_code("") == "` `"
    assert md_code("a\nb") == "`a b`"


def test_md_prose_keeps_single_backtick_spans_as_code_and_escapes_the_rest() -> None:
    out = md_prose("check `lifecycle { prevent_destroy = true }`, then <b>ship</b> | done")
    assert out == "check `lifecycle { prevent_destroy = true }`, then \\<b>ship\\</b> \\| done"
    rendered = to_html(out)
    assert structure(rendered) == ["<p>", "<code>", "</code>", "</p>"]
    assert md_prose("# `x`") == "\\# `x`"


def test_md_join_escapes_what_is_not_markdown_yet() -> None:
    assert md_join(["a|b", Md("`c`")], "<br>") == "a\\|b<br>`c`"
    assert md_join([]) == "-"
    assert md_join([], empty="") == ""
