"""The ``affidavit`` command line: the only module that prints or exits.

Each command parses its options, calls the library, renders the result and maps errors to exit
codes in one place (``_fail``). Heavy libraries are imported inside the commands that need them,
so ``affidavit --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from affidavit import __version__
from affidavit.errors import BundleError, Error, UsageError
from affidavit.model import EvidenceKind

if TYPE_CHECKING:
    from affidavit.model.waiver import Waiver

EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

_PATH = click.Path(path_type=Path)
_EXISTING = click.Path(exists=True, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _say(text: str) -> str:
    """``text`` for the terminal: its own hint line kept, every other control character or line
    break (from a file name, an artefact value) spelled out so it cannot forge a line."""
    from affidavit.render.escape import terminal

    message, sep, hint = text.partition("\n  hint: ")
    return terminal(message) + (sep + terminal(hint) if sep else "")


def _fail(exc: Error, verbose: bool) -> NoReturn:
    click.echo(f"affidavit: error: {_say(exc.diagnostics())}", err=True)
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


def _emit_json(value: Any) -> None:
    # ASCII on the terminal: a C1 control or a bidi override inside a value arrives as \u escapes.
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True))


def _verification_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--trusted-root",
            type=_FILE,
            help="Sigstore trusted root JSON (default: the public-good root the sigstore library embeds).",
        ),
        click.option("--identity", help="Signer identity that must have signed (exact, or re:<regex>)."),
        click.option("--issuer", help="OIDC issuer of that identity."),
        click.option("--key", "public_key", type=_FILE, help="PEM public key for key-based signatures."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


_exclude_option = click.option(
    "--exclude",
    "exclude",
    metavar="GLOB",
    multiple=True,
    help="Leave out files and folders found in evidence folders that match (repeatable): a pattern "
    "without / matches the name at any depth (*.png), one with / the path inside the folder (vendor/*).",
)


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


@main.command()
@click.option(
    "--evidence",
    "evidence_paths",
    type=_EXISTING,
    multiple=True,
    required=True,
    help="Artefact file or folder (repeatable).",
)
@click.option(
    "--environment",
    "-e",
    default="prod",
    show_default=True,
    help="Target environment: selects rule data (prod, staging, dev).",
)
@click.option("--subject", help="What is promoted: image@sha256:<hex>, or a bare sha256:<hex> digest.")
@click.option(
    "--out",
    type=_PATH,
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
    "--policies", "policy_dirs", type=_EXISTING, multiple=True, help="Extra Rego policy folder (repeatable)."
)
@click.option(
    "--controls",
    "control_files",
    type=_FILE,
    multiple=True,
    help="Extra or replacement control matrix (repeatable).",
)
@click.option(
    "--params", "param_files", type=_FILE, multiple=True, help="Rule data overrides, YAML (repeatable)."
)
@click.option(
    "--waivers", "waivers_file", type=_FILE, help="YAML list of waivers {rule, reason, owner, expires}."
)
@_exclude_option
@_verification_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def gate(
    ctx: click.Context,
    evidence_paths: tuple[Path, ...],
    environment: str,
    subject: str | None,
    out: Path,
    now: str | None,
    replay: bool,
    commit: str | None,
    policy_dirs: tuple[Path, ...],
    control_files: tuple[Path, ...],
    param_files: tuple[Path, ...],
    waivers_file: Path | None,
    trusted_root: Path | None,
    identity: str | None,
    issuer: str | None,
    public_key: Path | None,
    exclude: tuple[str, ...],
    fmt: str,
) -> None:
    """Collect, evaluate and decide GO or NO-GO; write the evidence bundle."""
    from affidavit.bundle.write import write_bundle
    from affidavit.pipeline import GateRequest, run_gate, split_subject
    from affidavit.render.markdown import MarkdownRenderer
    from affidavit.render.text import TextRenderer

    verbose = bool(ctx.obj["verbose"])
    try:
        name, digest = split_subject(subject)
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
        )
        judged = run_gate(request)
        run = judged.run
        bundle = write_bundle(run, judged.evidence, judged.sources, out)
    except Error as exc:
        _fail(exc, verbose)
    for err in judged.errors:
        click.echo(f"affidavit: error: {_say(err.diagnostics())}", err=True)
    if fmt == "json":
        _emit_json(
            {
                "run_id": run.run_id,
                "decision": run.decision.value,
                "exit_code": run.exit_code,
                "bundle": str(bundle.path),
                "archive": str(bundle.archive),
                "already_recorded": bundle.already_recorded,
                "rules": [{"id": r.id, "outcome": r.outcome.value} for r in run.rules],
            }
        )
    else:
        click.echo(TextRenderer().render(run))
        click.echo(f"  report: {_say(str(bundle.path / MarkdownRenderer.filename))}")
        if bundle.already_recorded:
            added = "".join(f"; added the missing {p.name}" for p in bundle.created)
            click.echo(
                f"  already recorded: {bundle.path} held this run and verifies; nothing was written over{added}"
            )
    sys.exit(run.exit_code)


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


@main.command()
@click.argument("paths", type=_PATH, nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in EvidenceKind]),
    help="Read the files as this kind (skips detection across kinds).",
)
@click.option("--artifact", type=_FILE, help="The signed artefact, for signature bundles.")
@click.option("--digest", help="Digest of the signed artefact (sha256:<hex>) when the file is not at hand.")
@_verification_options
@click.option("--now", help="Time recorded as collected_at (RFC 3339).")
@_exclude_option
@click.pass_context
def collect(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    kind: str | None,
    artifact: Path | None,
    digest: str | None,
    trusted_root: Path | None,
    identity: str | None,
    issuer: str | None,
    public_key: Path | None,
    now: str | None,
    exclude: tuple[str, ...],
) -> None:
    """Print the normalised evidence record of each artefact (folders are walked)."""
    from affidavit.collectors import Action, CollectOptions, collect_paths
    from affidavit.model.time import format_utc
    from affidavit.pipeline import normalise_digest

    verbose = bool(ctx.obj["verbose"])
    try:
        if artifact is not None and digest is not None:
            raise UsageError("give either --artifact or --digest, not both")
        options = CollectOptions(
            now=format_utc(parse_now(now)),
            kind=EvidenceKind(kind) if kind else None,
            artifact_digest=normalise_digest(digest, "--digest"),
            trusted_root=trusted_root,
            identity=identity,
            issuer=issuer,
            public_key=public_key,
            artifact=artifact,
        )
        collection = collect_paths(paths, options, exclude=exclude)
    except Error as exc:
        _fail(exc, verbose)
    records = [e.to_json() for e in collection.evidence]
    if fmt == "json":
        _emit_json(records)
    else:
        for e in collection.evidence:
            click.echo("\n".join(_say(line) for line in _record_line(e.to_json()).split("\n")))
    for left_out in collection.skipped:
        if left_out.action is not Action.REFUSED:  # a refused file is also an error, shown below
            click.echo(
                f"affidavit: {left_out.action.value}: {_say(left_out.path)}: {_say(left_out.reason)}",
                err=True,
            )
    for err in collection.errors:
        click.echo(f"affidavit: error: {_say(err.diagnostics())}", err=True)
    sys.exit(EXIT_INCOMPLETE if collection.errors else 0)


def _record_line(record: dict[str, Any]) -> str:
    tool = record["tool"]
    tool_text = f" by {tool['name']} {tool['version'] or ''}".rstrip() if tool else ""
    subject = record["subject"]
    about = " ".join(str(x) for x in (subject["name"], subject["version"], subject["digest"]) if x)
    summary = record["data"].get("summary") if isinstance(record["data"], dict) else None
    extra = ""
    if isinstance(summary, dict):
        extra = "  " + " ".join(f"{k}={v}" for k, v in summary.items())
    signed = record["data"].get("signature") if record["kind"] == "provenance" else record["data"]
    reasons: list[str] = []
    if record["kind"] in ("signature", "provenance") and isinstance(signed, dict):
        checks = signed.get("verifications") or []
        extra = "  verified=" + (",".join(str(v.get("verified")).lower() for v in checks) or "false")
        reasons = [str(v["error"]) for v in checks if v.get("error")]
    lines = [
        f"{record['source']}: {record['kind']} ({record['format']} {record['format_version'] or ''}){tool_text}".rstrip()
    ]
    lines.append(f"  id={record['id']}" + (f"  about={about}" if about else "") + extra)
    lines.extend(f"  not verified: {r}" for r in reasons)
    lines.extend(f"  problem: {p}" for p in record["problems"])
    return "\n".join(lines)


@main.command()
@click.argument("bundle", type=_PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def verify(ctx: click.Context, bundle: Path, fmt: str) -> None:
    """Recompute every hash of a bundle (folder or .tar.gz); exit 1 if anything changed."""
    from affidavit.bundle.verify import verify_bundle

    try:
        report = verify_bundle(bundle)
    except Error as exc:
        _fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        _emit_json(report.to_json())
    else:
        state = "OK" if report.ok else "TAMPERED"
        click.echo(
            _say(
                f"{state}  {bundle}  run={report.run_id} decision={report.decision} files checked={report.checked}"
            )
        )
        for problem in report.problems:
            click.echo(f"  x {_say(problem)}")
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("old", type=_PATH)
@click.argument("new", type=_PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def diff(ctx: click.Context, old: Path, new: Path, fmt: str) -> None:
    """What changed between two runs (bundle folders or .tar.gz): decision, rules, controls, evidence."""
    from affidavit.bundle.diff import diff_runs
    from affidavit.bundle.verify import load_run

    try:
        result = diff_runs(load_run(old), load_run(new))
    except Error as exc:
        _fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        _emit_json(result.to_json())
    else:
        click.echo(result.to_text())


@main.command()
@click.option(
    "--framework",
    required=True,
    help="Framework id of a control matrix in force (built-in or --controls); an unknown id lists the known ones.",
)
@click.option(
    "--results", "results_file", type=_FILE, help="results.json of a run: show each control's status."
)
@click.option(
    "--controls", "control_files", type=_FILE, multiple=True, help="Extra or replacement control matrix."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def controls(
    ctx: click.Context, framework: str, results_file: Path | None, control_files: tuple[Path, ...], fmt: str
) -> None:
    """List every control of a framework with its coverage (and status after a run)."""
    from affidavit.bundle.verify import parse_run
    from affidavit.controls.listing import control_listing

    try:
        outcomes, about = None, None
        if results_file:
            run = parse_run(results_file.read_bytes(), str(results_file))
            outcomes = run.outcomes()
            about = {
                "run_id": run.run_id,
                "time": run.time,
                "decision": run.decision.value,
                "environment": run.environment,
            }
        listing = control_listing(framework, extra=control_files, outcomes=outcomes, run=about)
    except BundleError as exc:
        _fail(UsageError(exc.message, hint="give the results.json of a gate run"), bool(ctx.obj["verbose"]))
    except Error as exc:
        _fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        _emit_json(listing.to_json())
    else:
        click.echo(listing.to_text())


@main.command()
@click.argument("target")
@click.option(
    "--environment", "-e", default="prod", show_default=True, help="Show the rule data of this environment."
)
@click.option("--policies", "policy_dirs", type=_EXISTING, multiple=True, help="Extra Rego policy folder.")
@click.option(
    "--controls", "control_files", type=_FILE, multiple=True, help="Extra or replacement control matrix."
)
@click.pass_context
def explain(
    ctx: click.Context,
    target: str,
    environment: str,
    policy_dirs: tuple[Path, ...],
    control_files: tuple[Path, ...],
) -> None:
    """Explain a rule (supply_chain.sbom_present) or a control of any framework (CC8.1, A.8.32, PW.4.1)."""
    from affidavit.controls.loader import load_crosswalk, load_matrices
    from affidavit.explain import explain as explain_target
    from affidavit.policy.loader import load_policy_set
    from affidavit.policy.params import load_params

    try:
        text = explain_target(
            target,
            load_policy_set(policy_dirs),
            load_matrices(control_files),
            crosswalk=load_crosswalk(),
            params=load_params(environment),
        )
    except Error as exc:
        _fail(exc, bool(ctx.obj["verbose"]))
    click.echo(text)


@main.group()
def policy() -> None:
    """Work with the Rego policy library."""


@policy.command("test")
@click.argument("dirs", type=_EXISTING, nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--min-coverage",
    "min_coverage",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Fail (exit 1) when the tests reach less than PCT % of the rule modules' lines.",
)
@click.pass_context
def policy_test(ctx: click.Context, dirs: tuple[Path, ...], fmt: str, min_coverage: float | None) -> None:
    """Run every *_test.rego on the embedded engine (default: the built-in library) and measure
    the line coverage of the rule modules."""
    from affidavit.policy.testing import run_policy_tests
    from affidavit.resources import builtin_policies_dir

    try:
        report = run_policy_tests(list(dirs) or [builtin_policies_dir()], min_coverage=min_coverage)
    except Error as exc:
        _fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        _emit_json(report.to_json())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)


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
