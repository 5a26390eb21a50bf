"""What every command shares: exit codes, path types, the clock options, terminal-safe output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from affidavit.errors import Error, UsageError

EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

PATH = click.Path(path_type=Path)
EXISTING = click.Path(exists=True, path_type=Path)
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def say(text: str) -> str:
    """``text`` for the terminal: its own hint line kept, every other control character or line
    break (from a file name, an artefact value) spelled out so it cannot forge a line."""
    from affidavit.render.escape import terminal

    message, sep, hint = text.partition("\n  hint: ")
    return terminal(message) + (sep + terminal(hint) if sep else "")


def fail(exc: Error, verbose: bool) -> NoReturn:
    click.echo(f"affidavit: error: {say(exc.diagnostics())}", err=True)
    if verbose:
        raise exc
    sys.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_INCOMPLETE)


#: How far --now may lie from the clock and still be a live decision (clocks of CI runners drift).
CLOCK_SKEW = timedelta(minutes=5)


def parse_now(value: str | None) -> datetime:
    """``--now`` (RFC 3339 with a time) in UTC to the second; the wall clock when not given.

    ``SOURCE_DATE_EPOCH`` never sets the evaluation time: reproducible-build pipelines set it to
    the commit time, which would silently move every remediation window and waiver expiry.
    """
    from affidavit.model.time import parse_timestamp

    if value:
        parsed = parse_timestamp(value, time_required=True)
        if parsed is None:
            raise UsageError(f"--now {value!r} is not an RFC 3339 time like 2026-11-22T10:00:00Z")
        return parsed.replace(microsecond=0)
    return datetime.now(tz=UTC).replace(microsecond=0)


def evaluation_time(now: str | None, replay: bool, wall: datetime) -> datetime:
    """The time the rules judge at: the clock for a live gate; ``--now`` only near the clock, or
    with ``--replay`` (which the report then shows as a replay, never as a live decision)."""
    if replay and not now:
        raise UsageError("--replay needs --now: the past moment to re-evaluate")
    moment = parse_now(now) if now else wall
    if not replay and abs(moment - wall) > CLOCK_SKEW:
        days = abs(moment - wall).total_seconds() / 86400
        direction = "before" if moment < wall else "after"
        raise UsageError(
            f"--now is {days:.1f} day(s) {direction} the clock: a live gate judges at the time it runs",
            hint="to re-evaluate a past moment, add --replay (the report then says it is a replay)",
        )
    return moment


def recorded_wall_time(wall: datetime) -> datetime:
    """The wall-clock time recorded in results.json: ``SOURCE_DATE_EPOCH`` when set, so that a
    replay's bundle is byte-for-byte reproducible; it is recorded, never judged."""
    from affidavit.model.time import parse_timestamp

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return wall
    parsed = parse_timestamp(epoch, epoch=True) if epoch.isdigit() else None
    if parsed is None:
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds")
    return parsed


def emit_json(value: Any) -> None:
    # ASCII on the terminal: a C1 control or a bidi override inside a value arrives as \u escapes.
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True))


def verification_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--trusted-root",
            type=FILE,
            help="Sigstore trusted root JSON (default: the public-good root the sigstore library embeds).",
        ),
        click.option("--identity", help="Signer identity that must have signed (exact, or re:<regex>)."),
        click.option("--issuer", help="OIDC issuer of that identity."),
        click.option("--key", "public_key", type=FILE, help="PEM public key for key-based signatures."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


exclude_option = click.option(
    "--exclude",
    "exclude",
    metavar="GLOB",
    multiple=True,
    help="Leave out files and folders found in evidence folders that match (repeatable): a pattern "
    "without / matches the name at any depth (*.png), one with / the path inside the folder (vendor/*).",
)


def verbose_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--verbose`` accepted after the command name too (``affidavit gate ... --verbose``): it
    sets what the group's own ``--verbose`` sets."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(dict)["verbose"] = True
        return value

    return click.option(
        "--verbose",
        "_verbose",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Show tracebacks for errors (also accepted before the command).",
    )(f)


def colour_enabled(stream: Any = None) -> bool:
    """Colour on a terminal, never when ``NO_COLOR`` is set to anything but the empty string
    (https://no-color.org), and never into a pipe or a file."""
    if os.environ.get("NO_COLOR", ""):
        return False
    target = stream if stream is not None else sys.stdout
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


#: The colour of each decision word on a terminal.
DECISION_COLOURS = {"GO": "green", "NO-GO": "red", "INCOMPLETE": "yellow"}


def coloured_headline(text: str) -> str:
    """``text`` (a rendered summary) with its first word, the decision, in the decision's colour."""
    word, sep, rest = text.partition(" ")
    colour = DECISION_COLOURS.get(word)
    if colour is None:
        return text
    return click.style(word, fg=colour, bold=True) + sep + rest


def check_subject_reference(subject: str | None) -> None:
    """A ``--subject`` that names an image by tag (``ghcr.io/acme/shop:1.4``) and no digest is a
    usage error: a tag can be moved to another image between the scan and the promotion, so the
    gate judges only what a digest names."""
    if not subject or "@" in subject:
        return
    last = subject.rsplit("/", 1)[-1]  # a colon before the last / is a registry's port
    if ":" in last and not last.lower().startswith(("sha256:", "sha512:")):
        raise UsageError(
            "--subject names an image by tag, not by digest: a tag can move, a digest cannot",
            hint="get the digest with `crane digest IMAGE:TAG` or "
            "`docker buildx imagetools inspect IMAGE:TAG --format '{{json .Manifest.Digest}}'` and pass "
            "--subject IMAGE@sha256:<digest>",
        )
