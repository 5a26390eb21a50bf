"""The ``affidavit`` command line: the only package that prints or exits.

Each command lives in its own module of this package as a plain ``click`` command and is added to
``main`` here, explicitly. A command parses its options, calls the library, renders the result and
maps errors to exit codes (``common.fail``). Heavy libraries are imported inside the commands that
need them, so ``affidavit --help`` starts fast.
"""

from __future__ import annotations

import os
import sys

import click

from affidavit import __version__
from affidavit.cli.bundles import diff, verify
from affidavit.cli.collect import collect
from affidavit.cli.common import EXIT_INCOMPLETE
from affidavit.cli.export import export
from affidavit.cli.gate import gate
from affidavit.cli.history import backtest, history
from affidavit.cli.library import controls, explain, policy


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


for _command in (gate, collect, verify, diff, controls, explain, policy, history, backtest, export):
    main.add_command(_command)


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
