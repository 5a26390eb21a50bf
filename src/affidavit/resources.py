"""Where the built-in policy library and control matrices live.

In a wheel they are package data under ``affidavit/_data/`` (see ``pyproject.toml``); in a checkout
(editable install, tests) they are the repository's top-level ``policies/`` and ``controls/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the built-in {name}/ folder is missing from this installation")


def builtin_policies_dir() -> Path:
    """The built-in Rego policy library."""
    return _data_dir("policies")


def builtin_controls_dir() -> Path:
    """The built-in control matrices."""
    return _data_dir("controls")
