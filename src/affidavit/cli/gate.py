"""The ``gate`` command: collect, evaluate, decide, write the bundle, map to an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from affidavit.cli.common import (
    EXISTING,
    EXIT_INCOMPLETE,
    FILE,
    PATH,
    check_subject_reference,
    colour_enabled,
    coloured_headline,
    emit_json,
    evaluation_time,
    exclude_option,
    fail,
    recorded_wall_time,
    say,
    verbose_option,
    verification_options,
)
from affidavit.cli.history import record_run, store_option
from affidavit.cli.outputs import ci_outputs, output_option, parse_outputs, write_outputs
from affidavit.errors import Error, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from affidavit.config import Config
    from affidavit.model import Run
    from affidavit.model.waiver import Waiver
    from affidavit.store import Recorded


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _cyclic_gc_paused(command: _Command) -> _Command:
    """``command`` with Python's cyclic garbage collector paused while it runs (restored after).

    A gate builds millions of containers (parsed artefacts, records, the policy input) and frees
    them by reference counting; none is in a cycle worth finding. With the collector on, each of its
    automatic passes walks every live container: about 1.9 s of a 19 s gate on the 1x benchmark,
    which found a few dozen objects. (A cycle that holds a large value is a bug to fix where it is
    made, as ``kinds.terraform._scrub_plan`` does: the collector would only have hidden it.)
    """

    @functools.wraps(command)
    def paused(*args: Any, **kwargs: Any) -> Any:
        from affidavit.artefact import gc_paused

        with gc_paused():
            try:
                return command(*args, **kwargs)
            except SystemExit as stop:
                code = stop.code
        # The command ends with ``sys.exit``, whose traceback holds the command's frame and so the
        # whole run (every record of the evidence). Raised inside the pause, that exit kept them
        # alive while the collector came back on, and its first pass walked them all: 0.12 s of
        # the 1x benchmark's gate. The exit is raised again here, once the frame is let go.
        raise SystemExit(code)

    return paused  # type: ignore[return-value]


@click.command()
@click.option(
    "--evidence",
    "evidence_paths",
    type=EXISTING,
    multiple=True,
    required=True,
    help="Artefact file or folder (repeatable).",
)
@click.option(
    "--environment",
    "-e",
    default="prod",
    show_default=True,
    envvar="AFFIDAVIT_ENVIRONMENT",
    help="Target environment: selects rule data (prod, staging, dev, or an alias; env AFFIDAVIT_ENVIRONMENT).",
)
@click.option(
    "--config",
    "config_file",
    type=FILE,
    envvar="AFFIDAVIT_CONFIG",
    help="Configuration file (env AFFIDAVIT_CONFIG; default: affidavit.yaml in the working folder), "
    "recorded with its sha256 (docs/config.md).",
)
@click.option(
    "--profile",
    metavar="NAME",
    shell_complete=lambda _ctx, _param, incomplete: _profile_names(incomplete),
    help="Release profile: the evidence kinds this release must supply (python-library, "
    "infrastructure-only, container-service, or the configuration's own; default: every rule applies).",
)
@click.option("--subject", help="What is promoted: image@sha256:<hex>, or a bare sha256:<hex> digest.")
@click.option(
    "--out",
    type=PATH,
    default=Path("reports"),
    show_default=True,
    help="Folder for the bundle (reports/<run-id>/).",
)
@click.option(
    "--now",
    help="Evaluation time, RFC 3339 (default: the clock). More than 5 minutes from the clock needs --replay.",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Re-evaluate a past moment (--now): the report says it is a replay, not a live decision.",
)
@click.option("--commit", help="Source commit being promoted.")
@click.option(
    "--branch",
    help="Branch being promoted (main or refs/heads/main): source-control evidence must be about it.",
)
@click.option(
    "--policies", "policy_dirs", type=EXISTING, multiple=True, help="Extra Rego policy folder (repeatable)."
)
@click.option(
    "--controls",
    "control_files",
    type=FILE,
    multiple=True,
    help="Extra or replacement control matrix (repeatable).",
)
@click.option(
    "--params", "param_files", type=FILE, multiple=True, help="Rule data overrides, YAML (repeatable)."
)
@click.option(
    "--waivers", "waivers_file", type=FILE, help="YAML list of waivers {rule, reason, owner, expires}."
)
@exclude_option
@verification_options
@click.option(
    "--engine",
    type=click.Choice(["regorus", "opa"]),
    default="regorus",
    show_default=True,
    help="Rego engine: regorus (embedded) or opa (the reference engine, when installed).",
)
@output_option
@store_option
@click.option("--no-record", is_flag=True, help="Do not record the run in the history (the output says so).")
@click.option(
    "--sign-key",
    type=FILE,
    help="Private key to sign the bundle with: PEM or cosign.key, ECDSA P-256 or Ed25519 (password: COSIGN_PASSWORD).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only the decision line (errors still go to stderr).")
@verbose_option
@click.pass_context
@_cyclic_gc_paused
def gate(
    ctx: click.Context,
    evidence_paths: tuple[Path, ...],
    environment: str,
    config_file: Path | None,
    profile: str | None,
    subject: str | None,
    out: Path,
    now: str | None,
    replay: bool,
    commit: str | None,
    branch: str | None,
    policy_dirs: tuple[Path, ...],
    control_files: tuple[Path, ...],
    param_files: tuple[Path, ...],
    waivers_file: Path | None,
    trusted_root: Path | None,
    identity: str | None,
    issuer: str | None,
    public_key: Path | None,
    exclude: tuple[str, ...],
    engine: str,
    outputs: tuple[str, ...],
    store_url: str | None,
    no_record: bool,
    sign_key: Path | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Collect, evaluate and decide GO or NO-GO; write the evidence bundle."""
    from affidavit.bundle.sign import load_signing_key
    from affidavit.bundle.write import write_bundle
    from affidavit.config import find_config, load_config, select_profile
    from affidavit.pipeline import GateRequest, run_gate, split_subject
    from affidavit.render.markdown import MarkdownRenderer
    from affidavit.render.text import TextRenderer

    verbose = bool(ctx.obj["verbose"])
    try:
        check_subject_reference(subject)
        name, digest = split_subject(subject)
        config_path = find_config(config_file)
        config = load_config(config_path) if config_path is not None else None
        chosen = select_profile(profile, config)
        waivers_file = _config_waivers(waivers_file, config)
        store_url = store_url or (config.store if config else None)
        if config is not None:
            environment = config.resolve_environment(environment)
        signer = load_signing_key(sign_key) if sign_key else None  # a bad key stops the gate first (exit 2)
        wanted = parse_outputs(outputs)
        history = _History(store_url)
        wall = datetime.now(tz=UTC).replace(microsecond=0)
        moment = evaluation_time(now, replay, wall)
        request = GateRequest(
            evidence_paths=evidence_paths,
            environment=environment,
            subject_name=name,
            subject_digest=digest,
            now=moment,
            replay=replay,
            wall_time=recorded_wall_time(wall),
            commit=commit,
            branch=branch.removeprefix("refs/heads/") if branch else None,
            policy_dirs=policy_dirs,
            control_files=control_files,
            param_files=param_files,
            waivers=_load_waivers(waivers_file) if waivers_file else (),
            waivers_file=waivers_file,
            exclude=exclude,
            trusted_root=trusted_root,
            identity=identity,
            issuer=issuer,
            public_key=public_key,
            engine=engine,
            config=config,
            profile=chosen,
            first_seen=None if no_record else history,
        )
        judged = run_gate(request)
        run = judged.run
    except Error as exc:
        fail(exc, verbose)
    try:
        bundle = write_bundle(run, judged.evidence, judged.sources, out, signer, stored=judged.stored)
    except Error as exc:
        if verbose:
            raise
        _unwritten(run, exc, fmt)
    # The run history: recorded after the bundle is written; a store that cannot take the run
    # makes the gate exit 3 (the bundle stays written), since an unrecorded decision is not complete.
    recorded, record_error = None, None
    if not no_record:
        try:
            recorded = record_run(
                run, judged.evidence, bundle.path, bundle.archive, store_url, bundle.record_blobs
            )
        except Error as exc:
            record_error = exc
    for err in judged.errors:
        click.echo(f"affidavit: error: {say(err.diagnostics())}", err=True)
    problems = write_outputs(run, wanted)
    annotations, ci_problems = ci_outputs(run)
    problems += ci_problems
    for line in annotations:  # before the summary; on stderr when stdout carries JSON (the runner reads both)
        click.echo(line, err=fmt == "json")
    if fmt == "json":
        emit_json(
            {
                "run_id": run.run_id,
                "decision": run.decision.value,
                "exit_code": run.exit_code,
                "bundle": str(bundle.path),
                "archive": str(bundle.archive),
                "already_recorded": bundle.already_recorded,
                "signed_by": bundle.signed_by,
                "rules": [{"id": r.id, "outcome": r.outcome.value} for r in run.rules],
                "history": _history_json(recorded, no_record),
            }
        )
    elif quiet:
        colour = colour_enabled()
        headline = TextRenderer().render(run).splitlines()[0]
        click.echo(coloured_headline(headline) if colour else headline, color=colour)
    else:
        colour = colour_enabled()
        summary = TextRenderer().render(run)
        click.echo(coloured_headline(summary) if colour else summary, color=colour)
        click.echo(f"  report: {say(str(bundle.path / MarkdownRenderer.filename))}")
        if bundle.signed_by:
            click.echo(f"  signed: the bundle is signed by key {bundle.signed_by}")
        if bundle.already_recorded:
            added = "".join(f"; added the missing {p.name}" for p in bundle.created)
            click.echo(
                f"  already recorded: {bundle.path} held this run and verifies; nothing was written over{added}"
            )
        click.echo(_history_line(recorded, no_record))
        click.echo(_first_seen_line(run, no_record, history.error is not None))
    for problem in problems:
        click.echo(f"affidavit: error: {say(problem)}", err=True)
    if record_error is not None:
        click.echo(f"affidavit: error: {say(record_error.diagnostics())}", err=True)
    if history.error is not None:
        click.echo(
            f"affidavit: error: the run history could not date the findings: {say(history.error.diagnostics())}",
            err=True,
        )
    incomplete = problems or record_error is not None or history.error is not None
    sys.exit(EXIT_INCOMPLETE if incomplete else run.exit_code)


def _unwritten(run: Run, exc: Error, fmt: str) -> NoReturn:
    """The bundle could not be written (an unwritable or impossible ``--out``): the decision is
    still shown, said to be unrecorded, and the gate exits 3, since a decision without its
    evidence bundle is not complete."""
    from affidavit.render.text import TextRenderer

    if fmt == "json":
        emit_json(
            {
                "run_id": run.run_id,
                "decision": run.decision.value,
                "exit_code": EXIT_INCOMPLETE,
                "bundle": None,
                "history": {"recorded": False},
            }
        )
    else:
        click.echo(TextRenderer().render(run).splitlines()[0])
        click.echo("  bundle: NOT written (see the error); history: NOT recorded")
    click.echo(f"affidavit: error: {say(exc.diagnostics())}", err=True)
    sys.exit(EXIT_INCOMPLETE)


class _History:
    """The run history as the pipeline asks it (``pipeline.FirstSeen``): when each finding was
    first seen for a subject name. The store is opened for the question and closed after it; a
    store that cannot answer is kept as ``error`` (the gate then exits 3: its windows counted from
    publication dates, not from the history it was asked to use)."""

    def __init__(self, store_url: str | None) -> None:
        """Ask the store ``store_url`` names (``None``: the platform's default file)."""
        self.store_url = store_url
        self.error: Error | None = None

    def __call__(self, subject_name: str, finding_keys: Sequence[str], before: str) -> Mapping[str, str]:
        """The store's ``first_seen`` for runs evaluated before ``before``; empty when it failed."""
        from affidavit.store import default_store_url, open_store

        try:
            store = open_store(self.store_url or default_store_url(), create=True)
            try:
                return store.first_seen(subject_name, finding_keys, before=before)
            finally:
                store.close()
        except Error as exc:
            self.error = exc
            return {}


def _first_seen_line(run: Run, no_record: bool, failed: bool) -> str:
    """The summary's line about the date each remediation window counted from."""
    dated = next((c.value for c in run.configuration if c.role == "history"), None)
    if no_record:
        why = "history not consulted (--no-record)"
    elif failed:
        why = "the run history could not be read (see the error)"
    elif dated is None:
        why = "the run history dated no finding"
    else:
        return f"  first seen: {dated} in the run history: their remediation windows count from then"
    return f"  first seen: {why}: remediation windows count from publication dates"


def _history_line(recorded: Recorded | None, no_record: bool) -> str:
    """The summary's line about the run history."""
    if no_record:
        return "  history: NOT recorded (--no-record): this decision is not in the run history"
    if recorded is None:
        return "  history: NOT recorded: the run history could not take this run (see the error)"
    if recorded.already_recorded:
        return f"  history: already recorded as run #{recorded.seq}"
    return f"  history: recorded as run #{recorded.seq} (chain {recorded.hash[:16]})"


def _history_json(recorded: Recorded | None, no_record: bool) -> dict[str, object]:
    """The ``history`` member of ``gate --format json``."""
    return {
        "recorded": recorded is not None,
        "no_record": no_record,
        "seq": None if recorded is None else recorded.seq,
        "hash": None if recorded is None else recorded.hash,
        "already_recorded": None if recorded is None else recorded.already_recorded,
    }


def _profile_names(incomplete: str) -> list[str]:
    """The built-in profiles whose names start with ``incomplete`` (shell completion of --profile)."""
    from affidavit.config import builtin_profiles

    try:
        return sorted(name for name in builtin_profiles() if name.startswith(incomplete))
    except Error:
        return []


def _config_waivers(given: Path | None, config: Config | None) -> Path | None:
    """``--waivers``, else the configuration's waivers file (which must then exist: a waivers file
    the configuration names and nobody can find is a usage error, never an empty list)."""
    if given is not None or config is None or config.waivers is None:
        return given
    if not config.waivers.is_file():
        raise UsageError(f"{config.path}: the waivers file it names does not exist")
    return config.waivers


def _load_waivers(path: Path) -> tuple[Waiver, ...]:
    """The waivers of ``--waivers``: the file is read here and checked by ``parse_waivers`` (exit 2)."""
    from affidavit.artefact import YamlError, load_yaml, read_user_file
    from affidavit.errors import InputError
    from affidavit.model.waiver import parse_waivers

    try:
        raw = read_user_file(path)  # a FIFO, a device or an oversized file is refused unread
    except InputError as exc:
        raise UsageError(f"{path}: waivers file {exc.detail}") from None
    try:
        loaded = load_yaml(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: waivers file is not UTF-8 text") from None
    except YamlError as exc:
        raise UsageError(f"{path}: waivers file is not valid YAML{exc.at}: {exc.problem}") from None
    return parse_waivers(loaded, str(path))
