"""``affidavit export``: a period of the run history as an auditor's evidence folder (issue 13)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from affidavit.cli.common import FILE, PATH, emit_json, fail, say, verbose_option
from affidavit.cli.history import store_option
from affidavit.errors import Error

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.signatures.keys import PublicKey


@click.command("export")
@click.option(
    "--framework",
    required=True,
    type=click.Choice(["soc2", "iso27001", "ssdf"], case_sensitive=False),
    help="The framework whose controls the export reports.",
)
@click.option(
    "--period", "period_text", required=True, help="A quarter (2026-Q3) or days (2026-07-01..2026-09-30)."
)
@click.option("--environment", "-e", help="Only runs for this environment (default: every environment).")
@store_option
@click.option(
    "--deployments",
    "deployments",
    multiple=True,
    type=FILE,
    help="Deployments to reconcile with GO decisions (repeatable): GitHub deployments JSON, an Argo CD "
    "Application, or a CSV of digest,environment,time (optional commit, commit_time).",
)
@click.option(
    "--commits",
    "commits",
    multiple=True,
    type=FILE,
    help="When the deployed commits were made, for DORA lead time (repeatable): GitHub's commits JSON "
    "(GET /repos/{owner}/{repo}/commits) or the output of git log --format='%H %cI'.",
)
@click.option("--sample-seed", type=click.IntRange(0), required=True, help="Seed of the sample (recorded).")
@click.option("--sample-size", type=click.IntRange(0, 100000), help="Sample size (default: from the table).")
@click.option("--sign-key", type=FILE, help="Private key to sign the export with (as gate --sign-key).")
@click.option("--out", required=True, type=PATH, help="New folder for the export.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@verbose_option
@click.pass_context
def export(
    ctx: click.Context,
    framework: str,
    period_text: str,
    environment: str | None,
    store_url: str | None,
    deployments: tuple[Path, ...],
    commits: tuple[Path, ...],
    sample_seed: int,
    sample_size: int | None,
    sign_key: Path | None,
    out: Path,
    fmt: str,
) -> None:
    """Export a period of the run history for an auditor: population, per-control status, ledgers,
    sample, Merkle proofs, SHA256SUMS and a signature.

    Exit 0 when the folder was written; 2 for a usage error; 3 when the store or a run cannot be read.
    """
    from affidavit.bundle.sign import load_signing_key
    from affidavit.cli.progress import Progress
    from affidavit.export.deployments import CommitTimes, read_commits, read_deployments
    from affidavit.export.period import parse_period
    from affidavit.export.write import ExportRequest, export_period, framework_id
    from affidavit.store import default_store_url, open_store

    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    try:
        records = tuple(read_deployments(path, environment) for path in deployments)
        commit_times = None
        if commits:
            commit_times = CommitTimes()
            for path in commits:
                kind, found = read_commits(path)
                commit_times.add(kind, str(path), found)
        request = ExportRequest(
            period=parse_period(period_text),
            framework=framework_id(framework),
            environment=environment,
            out=out,
            sample_seed=sample_seed,
            sample_size=sample_size,
            signer=load_signing_key(sign_key) if sign_key else None,
            deployments=records,
            commits=commit_times,
        )
        store = open_store(store_url or default_store_url(), create=False)
        progress = None
        try:
            if fmt == "text" and sys.stderr.isatty():
                # The bar's total: the period's runs counted before the scan (runs recorded
                # meanwhile only make the scan longer; the bar stops at its end).
                total = store.count(request.period.since, request.period.until, request.environment)
                progress = Progress(sys.stderr, total)
            result = export_period(store, request, progress)
        finally:
            if progress is not None:
                progress.close()
            store.close()
    except Error as exc:
        fail(exc, verbose)
    doc = result.period
    if fmt == "json":
        emit_json(
            {
                "out": str(result.out),
                "period": doc["period"],
                "framework": doc["framework"],
                "population": doc["population"],
                "merkle": doc["merkle"],
                "sample": {k: doc["sample"][k] for k in ("seed", "frequency", "size")},
                "signed": request.signer is not None,
            }
        )
        return
    population = doc["population"]
    click.echo(
        say(
            f"EXPORTED  {result.out}  period={doc['period']['name']} framework={doc['framework']['label']} "
            f"runs={population['runs']} root={doc['merkle']['root'][:16]}"
        )
    )
    decisions = ", ".join(f"{k} {v}" for k, v in population["decisions"].items()) or "none"
    click.echo(say(f"  decisions: {decisions}; sample of {doc['sample']['size']} with seed {sample_seed}"))
    found = doc["deployments"]
    if found["checked"]:
        click.echo(
            say(
                f"  deployments: {found['checked']} in the period, {found['reconciled_count']} reconciled, "
                f"{len(found['exceptions'])} exception(s)"
            )
        )
    lead = doc["dora"]["lead_time_for_changes"]
    if lead["value"] is not None:
        click.echo(
            say(
                f"  lead time for changes: median {lead['value']} h, p90 {lead['p90']} h, from "
                f"{lead['counted']} of {lead['deployments']} deployment(s)"
            )
        )
    failing = [c["id"] for c in doc["controls"] if c["days"]["failed"]]
    if failing:
        click.echo(say(f"  controls with failed days: {', '.join(failing)}"))
    if request.signer is None:
        click.echo("  ! unsigned: pass --sign-key so the auditor can check who made the export")


def verify_period(
    folder: Path, key: PublicKey | None, run_id: str | None, allow_unsigned: bool, fmt: str, verbose: bool
) -> None:
    """``affidavit verify`` of a period export (or, with ``run_id``, of one run's proof); exits.

    Exit 0 when every check holds (and the export is signed by --key, unless --allow-unsigned, or
    the run's proof holds); 1 when anything was changed, added or removed, or the run is not in
    the period; 3 when the folder cannot be read as an export.
    """
    from affidavit.export.verify import INVALID, NOT_CHECKED, UNSIGNED, VERIFIED, verify_run
    from affidavit.export.verify import verify_period as check

    try:
        if run_id is not None:
            proof = verify_run(folder, run_id)
            if fmt == "json":
                emit_json(proof.to_json())
            else:
                state = "OK" if proof.ok else "NOT PROVEN"
                click.echo(
                    say(
                        f"{state}  run {run_id} in period {proof.period}: leaf {proof.leaf_index} of "
                        f"{proof.tree_size}, root {(proof.root or '')[:16]}"
                    )
                )
                for problem in proof.problems:
                    click.echo(f"  x {say(problem)}")
                if proof.ok:
                    click.echo(
                        "  ! the root is period.json's: check that with `affidavit verify DIR --key PUB`"
                    )
            sys.exit(0 if proof.ok else 1)
        report = check(folder, key)
    except Error as exc:
        fail(exc, verbose)
    accepted = report.accepted(allow_unsigned)
    if fmt == "json":
        emit_json({**report.to_json(), "accepted": accepted, "allow_unsigned": allow_unsigned})
        sys.exit(0 if accepted else 1)
    if accepted:
        state = {VERIFIED: "OK", UNSIGNED: "OK (UNSIGNED)"}.get(
            report.signature, "OK (SIGNATURE NOT CHECKED)"
        )
    elif report.signature == INVALID:
        state = "BAD SIGNATURE"
    elif not report.ok:
        state = "TAMPERED"
    else:
        state = "NOT VERIFIED"
    signed = {
        VERIFIED: f"signed by {report.key_id}",
        UNSIGNED: "unsigned",
        NOT_CHECKED: "signature not checked (no --key)",
    }.get(report.signature, "signature invalid")
    click.echo(
        say(
            f"{state}  {folder}  period={report.period} runs={report.runs} "
            f"root={(report.root or '')[:16]} files checked={report.checked}  {signed}"
        )
    )
    for problem in report.problems:
        click.echo(f"  x {say(problem)}")
    if report.ok and not accepted:
        click.echo("  ! not accepted: pass --key PUB.pem to check who signed it, or --allow-unsigned")
    sys.exit(0 if accepted else 1)
