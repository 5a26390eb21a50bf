"""Renderings a gate writes besides its bundle: ``--output FORMAT=PATH`` and the CI integrations.

Every format is a renderer of ``affidavit.render.registry`` reading the finished ``Run``; this
module only chooses where its text goes. A path that cannot be written is reported after the
decision has been printed, and the gate then exits 3: a report the pipeline asked for and did not
get is not a completed gate.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from affidavit.errors import UsageError

if TYPE_CHECKING:
    from affidavit.model import Run

output_option = click.option(
    "--output",
    "outputs",
    metavar="FORMAT=PATH",
    multiple=True,
    help="Also write the run in FORMAT (a renderer: markdown, json, sarif, junit, html, oscal, codequality, ...) to PATH (repeatable).",
)


def parse_outputs(values: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
    """``FORMAT=PATH`` values as (renderer name, path); a usage error names a bad one."""
    from affidavit.render.registry import names

    known = names()
    parsed: list[tuple[str, Path]] = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(
                f"--output {value!r} is not FORMAT=PATH", hint="for example --output sarif=results.sarif"
            )
        if name not in known:
            raise UsageError(
                f"--output: no format called {name!r}", hint="the formats are: " + ", ".join(known)
            )
        parsed.append((name, Path(path)))
    return tuple(parsed)


def write_outputs(run: Run, outputs: tuple[tuple[str, Path], ...]) -> list[str]:
    """Write each requested rendering; the problems (one line each) of those that could not be."""
    from affidavit.render.registry import renderer

    problems: list[str] = []
    for name, path in outputs:
        text = renderer(name).render(run)
        try:
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise IsADirectoryError(0, "not a regular file")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            problems.append(f"{path}: the {name} output cannot be written there ({exc.strerror or exc})")
    return problems


def ci_outputs(run: Run) -> tuple[tuple[str, ...], list[str]]:
    """What the CI system the gate runs in gets: GitHub workflow command lines for stdout (when
    ``GITHUB_ACTIONS`` is ``true``) and the step summary appended to ``GITHUB_STEP_SUMMARY`` (when
    set); the problems of writing the summary. Outside GitHub Actions, nothing."""
    from affidavit.render import github

    lines = github.workflow_commands(run) if os.environ.get("GITHUB_ACTIONS") == "true" else ()
    problems: list[str] = []
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(github.step_summary(run))
        except OSError as exc:
            problems.append(
                f"GITHUB_STEP_SUMMARY: the step summary cannot be appended ({exc.strerror or exc})"
            )
    return lines, problems
