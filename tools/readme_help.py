"""Keep README.md's copy of ``affidavit --help`` current.

``python tools/readme_help.py`` rewrites the block between the ``<!-- help:start -->`` and
``<!-- help:end -->`` markers; ``--check`` exits 1 when it is stale (``tests/test_readme.py``
runs the same comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from affidavit.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- help:start -->", "<!-- help:end -->"
COMMANDS: tuple[tuple[str, ...], ...] = (
    (),
    ("gate",),
    ("collect",),
    ("verify",),
    ("controls",),
    ("policy", "test"),
)


def help_block() -> str:
    """The help text of every command, as the README shows it."""
    runner = CliRunner()
    parts = []
    for args in COMMANDS:
        result = runner.invoke(main, [*args, "--help"], prog_name="affidavit", terminal_width=100)
        parts.append(
            f"$ affidavit {' '.join(args)} --help".replace("  ", " ") + "\n" + result.output.rstrip()
        )
    return "```text\n" + "\n\n".join(parts) + "\n```"


def render(text: str) -> str:
    """README text with the help block replaced."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{help_block()}\n{END}{tail}"


def main_(argv: list[str]) -> int:
    """Rewrite README.md, or with --check report whether it is current."""
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main_(sys.argv[1:]))
