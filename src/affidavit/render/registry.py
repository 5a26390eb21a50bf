"""The explicit table of renderers. Nothing registers itself by being imported.

``tests/render/test_registry.py`` fails when a module of this package defines a renderer that is
not listed here, or when two renderers share a name or a bundle file name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from affidavit.render.codequality import CodeQualityRenderer
from affidavit.render.github import GithubAnnotationsRenderer, GithubSummaryRenderer
from affidavit.render.html import HtmlRenderer
from affidavit.render.json import JsonRenderer
from affidavit.render.junit import JunitRenderer
from affidavit.render.markdown import MarkdownRenderer
from affidavit.render.oscal import OscalRenderer
from affidavit.render.sarif import SarifRenderer
from affidavit.render.text import TextRenderer

if TYPE_CHECKING:
    from affidavit.render.interface import Renderer

RENDERERS: tuple[Renderer, ...] = (
    MarkdownRenderer(),
    JsonRenderer(),
    TextRenderer(),
    HtmlRenderer(),
    OscalRenderer(),
    SarifRenderer(),
    JunitRenderer(),
    CodeQualityRenderer(),
    GithubSummaryRenderer(),
    GithubAnnotationsRenderer(),
)


def renderer(name: str) -> Renderer:
    """The renderer called ``name``; ``KeyError`` when there is none."""
    for candidate in RENDERERS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def names() -> tuple[str, ...]:
    """Every renderer's name, in registry order."""
    return tuple(r.name for r in RENDERERS)


def bundle_renderers() -> tuple[Renderer, ...]:
    """The renderers whose output every bundle holds."""
    return tuple(r for r in RENDERERS if r.filename is not None)
