"""The ``history`` commands (list, ``show``, ``verify``) and ``backtest``: the run history read back.

Every command reads the store ``--store`` names (``AFFIDAVIT_STORE``, else the platform's data
folder); none of them writes to it. Values from the store are escaped for the terminal like any
artefact text: a run records what its artefacts said.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from affidavit.cli.common import EXISTING, emit_json, fail, say
from affidavit.errors import Error, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from affidavit.model import Evidence, Run
    from affidavit.store import Recorded, RunQuery, Store
    from affidavit.store.record import RecordBlob

_DECISIONS = ("GO", "NO-GO", "INCOMPLETE")


def store_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--store URL`` (``AFFIDAVIT_STORE``); ``None`` means the platform's default file."""
    return click.option(
        "--store",
        "store_url",
        envvar="AFFIDAVIT_STORE",
        metavar="URL",
        help="Run history: sqlite:///path.db or postgresql://user@host/db (env AFFIDAVIT_STORE; "
        "default: history.db in the platform's data folder).",
    )(f)


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The filters shared by ``history`` and ``backtest``."""
    options = [
        click.option("--subject", help="Subject name (ghcr.io/acme/shop), or name@sha256:<hex>."),
        click.option("--environment", "-e", help="Environment (prod, staging, dev)."),
        click.option("--since", help="Runs evaluated at or after this date or RFC 3339 time."),
        click.option(
            "--until", help="Runs evaluated before this time (a date alone includes that whole day)."
        ),
        click.option("--decision", type=click.Choice(_DECISIONS), help="Only runs with this decision."),
        click.option(
            "--limit",
            type=click.IntRange(1, 100000),
            default=100,
            show_default=True,
            help="Newest runs shown.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _open(store_url: str | None, *, create: bool) -> Store:
    from affidavit.store import default_store_url, open_store

    return open_store(store_url or default_store_url(), create=create)


def _moment(value: str | None, option: str, *, end_of_day: bool = False) -> str | None:
    """A ``--since``/``--until`` value as the store's UTC text."""
    from affidavit.model.time import format_utc, parse_timestamp

    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise UsageError(f"{option} {value!r} is not a date (2026-07-01) or an RFC 3339 time")
    if end_of_day and "T" not in value.upper():
        parsed += timedelta(days=1)
    return format_utc(parsed)


def build_query(
    subject: str | None,
    environment: str | None,
    since: str | None,
    until: str | None,
    decision: str | None,
    limit: int,
) -> RunQuery:
    """The store query of the filter options (environment aliases resolved as the gate does)."""
    from affidavit.pipeline import split_subject
    from affidavit.policy.params import resolve_environment
    from affidavit.store import RunQuery

    name, digest = split_subject(subject) if subject else (None, None)
    return RunQuery(
        subject_name=name,
        subject_digest=digest,
        environment=resolve_environment(environment) if environment else None,
        decision=decision,
        since=_moment(since, "--since"),
        until=_moment(until, "--until", end_of_day=True),
        limit=limit,
    )


@click.group(invoke_without_command=True)
@store_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def history(
    ctx: click.Context,
    store_url: str | None,
    subject: str | None,
    environment: str | None,
    since: str | None,
    until: str | None,
    decision: str | None,
    limit: int,
    fmt: str,
) -> None:
    """List recorded runs, newest first (filters combine); `history show`, `history verify`."""
    if ctx.invoked_subcommand is not None:
        ctx.obj["history_store"] = store_url
        return
    verbose = bool(ctx.obj["verbose"])
    try:
        query = build_query(subject, environment, since, until, decision, limit)
        store = _open(store_url, create=False)
        try:
            runs = store.runs(query)
        finally:
            store.close()
    except Error as exc:
        fail(exc, verbose)
    if fmt == "json":
        emit_json({"store": store.display, "runs": [r.to_json() for r in runs]})
        return
    if not runs:
        click.echo(f"no recorded run matches (store {say(store.display)})")
        return
    header = ("TIME", "DECISION", "ENV", "SUBJECT", "COMMIT", "RUN")
    rows = [
        (
            r.time + (" (replay)" if r.replay else ""),
            r.decision,
            r.environment,
            "@".join(
                p[:19] if p.startswith("sha256:") else p for p in (r.subject_name, r.subject_digest) if p
            )
            or "-",
            (r.commit or "-")[:12],
            r.run_id,
        )
        for r in runs
    ]
    widths = [max(len(say(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(say(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    click.echo(f"{len(runs)} run(s) from {say(store.display)}")


@history.command()
@click.argument("run_id")
@store_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def show(ctx: click.Context, run_id: str, store_url: str | None, fmt: str) -> None:
    """Print one recorded run as the gate printed it (RUN_ID or a unique prefix of 8+ characters)."""
    from affidavit.model import Run
    from affidavit.render.text import TextRenderer

    verbose = bool(ctx.obj["verbose"])
    try:
        store = _open(store_url or ctx.obj.get("history_store"), create=False)
        try:
            stored = store.get(run_id)
        finally:
            store.close()
        if stored is None:
            raise UsageError(f"no run {run_id!r} in the run history {store.display}")
        run = Run.from_json(stored.payload.get("run"))
    except Error as exc:
        fail(exc, verbose)
    s = stored.summary
    if fmt == "json":
        emit_json(
            {"seq": s.seq, "prev_hash": stored.prev_hash, "hash": stored.hash, "record": stored.payload}
        )
        return
    click.echo(TextRenderer().render(run))
    bundle = stored.payload.get("bundle") or {}
    ci = stored.payload.get("ci") or {}
    click.echo(
        f"  recorded: {say(s.recorded_at)} as run #{s.seq} of {say(store.display)} (hash {stored.hash[:16]})"
    )
    if s.bundle_path:
        click.echo(f"  bundle: {say(s.bundle_path)} (manifest sha256 {say(s.manifest_sha256 or 'unknown')})")
    for name, digest in sorted((bundle.get("files") or {}).items()):
        click.echo(f"  {say(str(name))} sha256 {say(str(digest))}")
    if ci:
        parts = [f"{k}={v}" for k, v in sorted(ci.items()) if v]
        click.echo(f"  ci: {say(', '.join(parts))}")
    findings = stored.payload.get("findings") or []
    if findings:
        click.echo(
            f"  {len(findings)} finding key(s) recorded from {len(stored.payload.get('evidence') or [])} record(s)"
        )


@history.command("verify")
@store_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def verify_history(ctx: click.Context, store_url: str | None, fmt: str) -> None:
    """Check the whole chain of runs: every hash, link and row; exit 1 when anything was changed."""
    verbose = bool(ctx.obj["verbose"])
    try:
        store = _open(store_url or ctx.obj.get("history_store"), create=False)
        try:
            report = store.verify()
        finally:
            store.close()
    except Error as exc:
        fail(exc, verbose)
    if fmt == "json":
        emit_json(
            {
                "store": store.display,
                "intact": report.intact,
                "runs": report.runs,
                "head": {"seq": report.head_seq, "hash": report.head_hash},
                "problems": [p.to_json() for p in report.problems],
            }
        )
    elif report.intact:
        click.echo(
            f"history intact: {report.runs} run(s), head #{report.head_seq} {report.head_hash} "
            f"({say(store.display)})"
        )
    else:
        click.echo(f"history NOT intact: {len(report.problems)} problem(s) in {report.runs} run(s)")
        for p in report.problems:
            where = f"run #{p.seq} {p.run_id}" if p.seq is not None else "store"
            click.echo(f"  x {say(where)}: {say(p.problem)}")
    sys.exit(0 if report.intact else 1)


@click.command()
@click.option(
    "--policies",
    "policy_dirs",
    type=EXISTING,
    multiple=True,
    help="Changed or new Rego policy folder, judged with the built-in rules (repeatable).",
)
@store_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def backtest(
    ctx: click.Context,
    policy_dirs: tuple[Path, ...],
    store_url: str | None,
    subject: str | None,
    environment: str | None,
    since: str | None,
    until: str | None,
    decision: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Judge recorded runs again with the built-in rules plus --policies: which decisions would change.

    Writes nothing. Each run is judged at its own time with its own rule data and waivers.
    """
    from affidavit.store.backtest import backtest as run_backtest

    verbose = bool(ctx.obj["verbose"])
    try:
        query = build_query(subject, environment, since, until, decision, limit)
        store = _open(store_url, create=False)
        try:
            results = run_backtest(store, query, policy_dirs)
        finally:
            store.close()
    except Error as exc:
        fail(exc, verbose)
    changed = [r for r in results if r.changed]
    if fmt == "json":
        emit_json(
            {
                "store": store.display,
                "runs": len(results),
                "changed": len(changed),
                "results": [r.to_json() for r in results],
            }
        )
        return
    for r in changed:
        after = r.after or "unknown"
        click.echo(f"{say(r.time)}  {say(r.run_id)}  {say(r.subject or '-')}  {r.before} -> {say(after)}")
        if r.error:
            click.echo(f"    ! could not judge again: {say(r.error)}")
        for c in r.changes:
            click.echo(f"    {say(c.rule_id)}: {c.before or 'absent'} -> {c.after or 'absent'}")
    click.echo(
        f"{len(results)} run(s) judged again, {len(changed)} would change "
        f"({sum(1 for r in changed if r.after != r.before)} decision(s)); nothing was written"
    )


def record_run(
    run: Run,
    evidence: Sequence[Evidence],
    bundle_path: Path,
    archive: Path,
    store_url: str | None,
    blobs: Mapping[str, RecordBlob] | None = None,
) -> Recorded:
    """Append a gate's run to the history (``gate`` calls this after the bundle is written); the
    ``Recorded`` result, or ``StoreError`` when the store cannot be reached or refuses the run.
    ``blobs``: the records' blobs the bundle writer made (``Bundle.record_blobs``)."""
    import os
    from datetime import UTC, datetime

    from affidavit.model.time import format_utc
    from affidavit.store.record import build_entry, bundle_digests, ci_context

    manifest, signature_files = bundle_digests(bundle_path)
    entry = build_entry(
        run,
        evidence,
        recorded_at=format_utc(datetime.now(tz=UTC).replace(microsecond=0)),
        bundle_path=str(bundle_path),
        archive_path=str(archive),
        manifest_sha256=manifest,
        signature_files=signature_files,
        ci=ci_context(os.environ),
        made=blobs,
    )
    store = _open(store_url, create=True)
    try:
        return store.record(entry)
    finally:
        store.close()
