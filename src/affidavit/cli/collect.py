"""The ``collect`` command: the normalised evidence record of each artefact."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from affidavit.cli.common import (
    EXISTING,
    EXIT_INCOMPLETE,
    FILE,
    emit_json,
    exclude_option,
    fail,
    parse_now,
    say,
    verification_options,
)
from affidavit.errors import Error, UsageError
from affidavit.model.evidence import EvidenceKind


@click.command()
@click.argument("paths", type=EXISTING, nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in EvidenceKind]),
    help="Read the files as this kind (skips detection across kinds).",
)
@click.option("--artifact", type=FILE, help="The signed artefact, for signature bundles.")
@click.option("--digest", help="Digest of the signed artefact (sha256:<hex>) when the file is not at hand.")
@verification_options
@click.option("--now", help="Time recorded as collected_at (RFC 3339).")
@exclude_option
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
        fail(exc, verbose)
    records = [e.to_json() for e in collection.evidence]
    if fmt == "json":
        emit_json(records)
    else:
        for e in collection.evidence:
            click.echo("\n".join(say(line) for line in _record_line(e.to_json()).split("\n")))
    for left_out in collection.skipped:
        if left_out.action is not Action.REFUSED:  # a refused file is also an error, shown below
            click.echo(
                f"affidavit: {left_out.action.value}: {say(left_out.path)}: {say(left_out.reason)}",
                err=True,
            )
    for err in collection.errors:
        click.echo(f"affidavit: error: {say(err.diagnostics())}", err=True)
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
