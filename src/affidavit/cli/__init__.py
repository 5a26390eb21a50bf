"""The ``affidavit`` command line: the only package that prints or exits.

Each command lives in its own module of this package as a plain ``click`` command and is named in
``COMMANDS`` here, explicitly, with the module that defines it; a module is imported only when its
command is run or listed (``affidavit gate`` imports none of the other commands' modules). A
command parses its options, calls the library, renders the result and maps errors to exit codes
(``common.fail``). Heavy libraries are imported inside the commands that need them, so
``affidavit --help`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from affidavit import __version__
from affidavit.cli.common import EXIT_INCOMPLETE

#: Every command of ``affidavit`` and the module of this package that defines it (under its name).
COMMANDS = {
    "backtest": "history",
    "collect": "collect",
    "controls": "library",
    "diff": "bundles",
    "explain": "library",
    "export": "export",
    "gate": "gate",
    "history": "history",
    "policy": "library",
    "verify": "bundles",
}


class _Commands(click.Group):
    """``main``'s commands, each imported from its module when it is first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            command = getattr(importlib.import_module(f"affidavit.cli.{COMMANDS[cmd_name]}"), cmd_name)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            # An unknown command: click suggests close names from the commands loaded, so all are
            # loaded and the same error is raised again, with its suggestion.
            for name in COMMANDS:
                self.get_command(ctx, name)
            return super().resolve_command(ctx, args)


@click.group(
    cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="affidavit")
@click.option("--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Turn release artefacts into a compliance decision and a verifiable evidence bundle.

    Exit codes: 0 GO, 1 NO-GO (a control fails or lacks evidence), 2 usage error,
    3 the run could not complete (unreadable input, engine error, bad policy or matrix).
    """
    ctx.obj = {"verbose": verbose}
    os.environ.pop("RUST_BACKTRACE", None)


def run() -> None:
    """The console entry point: ``main``, with any unexpected exception turned into exit 3.

    A crash must never look like a decision: Python's own exit code for an uncaught exception is
    1, which a pipeline would read as NO-GO-with-a-report. ``--verbose`` shows the traceback.
    """
    try:
        main(prog_name="affidavit")
    except Exception as exc:
        if "--verbose" in sys.argv[1:]:
            raise
        click.echo(
            f"affidavit: internal error: {type(exc).__name__}: {exc}\n"
            "  the run could not complete (exit 3); re-run with --verbose for the traceback and report it",
            err=True,
        )
        sys.exit(EXIT_INCOMPLETE)
