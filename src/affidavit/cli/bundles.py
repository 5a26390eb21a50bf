"""Commands that read bundles: ``verify`` and ``diff``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from affidavit.cli.common import (
    PATH,
    emit_json,
    fail,
    say,
)
from affidavit.errors import Error


@click.command()
@click.argument("bundle", type=PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def verify(ctx: click.Context, bundle: Path, fmt: str) -> None:
    """Recompute every hash of a bundle (folder or .tar.gz); exit 1 if anything changed."""
    from affidavit.bundle.verify import verify_bundle

    try:
        report = verify_bundle(bundle)
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(report.to_json())
    else:
        state = "OK" if report.ok else "TAMPERED"
        click.echo(
            say(
                f"{state}  {bundle}  run={report.run_id} decision={report.decision} files checked={report.checked}"
            )
        )
        for problem in report.problems:
            click.echo(f"  x {say(problem)}")
    sys.exit(0 if report.ok else 1)


@click.command()
@click.argument("old", type=PATH)
@click.argument("new", type=PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def diff(ctx: click.Context, old: Path, new: Path, fmt: str) -> None:
    """What changed between two runs (bundle folders or .tar.gz): decision, rules, controls, evidence."""
    from affidavit.bundle.diff import diff_runs
    from affidavit.bundle.verify import load_run

    try:
        result = diff_runs(load_run(old), load_run(new))
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(result.to_json())
    else:
        click.echo(result.to_text())
