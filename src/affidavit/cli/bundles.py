"""Commands that read bundles: ``verify`` and ``diff``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from affidavit.cli.common import (
    EXISTING,
    FILE,
    emit_json,
    fail,
    say,
)
from affidavit.errors import Error, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.signatures.keys import PublicKey


def _verifying_key(key: Path | None, identity: str | None, issuer: str | None) -> PublicKey | None:
    """The public key of ``--key`` (``UsageError`` when unusable); keyless options are refused."""
    from affidavit.bundle.sign import check_verifying_key
    from affidavit.errors import InputError
    from affidavit.signatures.keys import load_public_key

    if identity or issuer:
        raise UsageError(
            "--identity/--issuer: keyless bundle signatures (a Fulcio certificate logged in Rekor) are "
            "not supported: affidavit signs bundles with a key (gate --sign-key)",
            hint="verify with --key and the public key of the --sign-key the gate used",
        )
    if key is None:
        return None
    try:
        loaded = load_public_key(key)
    except InputError as exc:
        raise UsageError(exc.message) from None
    if isinstance(loaded, str):
        raise UsageError(loaded)
    problem = check_verifying_key(loaded)
    if problem:
        raise UsageError(problem)
    return loaded


@click.command()
@click.argument("bundle", type=EXISTING)
@click.option("--key", "key", type=FILE, help="PEM public key the bundle must be signed with.")
@click.option("--identity", help="Keyless signer identity (not supported: bundles are signed with a key).")
@click.option("--issuer", help="OIDC issuer of that identity (not supported, as --identity).")
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept a bundle whose signature is absent or not checked: its integrity is checked, not who made it.",
)
@click.option("--run", "run_id", help="Period export: check one run's inclusion proof (offline).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def verify(
    ctx: click.Context,
    bundle: Path,
    key: Path | None,
    identity: str | None,
    issuer: str | None,
    allow_unsigned: bool,
    run_id: str | None,
    fmt: str,
) -> None:
    """Check a bundle (folder or .tar.gz): every hash, its listings, and its signature (--key).

    Exit 0 when every check holds and the bundle is signed by --key (or, with --allow-unsigned,
    when it is unsigned or its signature was not checked); 1 when anything was changed, added or
    removed, the signature is not --key's, or the bundle is unsigned; 3 when it cannot be read as
    a bundle at all.
    """
    from affidavit.bundle.verify import INVALID, NOT_CHECKED, UNSIGNED, VERIFIED, verify_bundle
    from affidavit.export import is_period_export

    verbose = bool(ctx.obj["verbose"])
    if run_id is not None or is_period_export(bundle):  # a period export (affidavit export)
        from affidavit.cli.export import verify_period

        try:
            period_key = _verifying_key(key, identity, issuer)
        except Error as exc:
            fail(exc, verbose)
        verify_period(bundle, period_key, run_id, allow_unsigned, fmt, verbose)
    try:
        public = _verifying_key(key, identity, issuer)
        report = verify_bundle(bundle, public)
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
    elif report.signature == UNSIGNED and (report.ok or public is not None):
        state = "UNSIGNED"
    elif not report.ok:
        state = "TAMPERED"
    else:
        state = "NOT VERIFIED"  # signed, but no --key to check it with
    signed = {
        VERIFIED: f"signed by {report.key_id}",
        UNSIGNED: "unsigned",
        NOT_CHECKED: f"signature by {report.key_id or 'an unnamed key'} not checked",
    }.get(report.signature, "signature invalid")
    click.echo(
        say(
            f"{state}  {bundle}  run={report.run_id} decision={report.decision} "
            f"files checked={report.checked}  {signed}"
        )
    )
    for problem in report.problems:
        click.echo(f"  x {say(problem)}")
    if report.ok and report.signature != VERIFIED:
        why = (
            "it carries no signature"
            if report.signature == UNSIGNED
            else "its signature was not checked (no --key given)"
        )
        click.echo(
            f"  ! every hash matches, so the bundle's integrity is checked, but not who made it: {why}"
        )
        if not accepted:
            click.echo("  ! not accepted: pass --key PUB.pem to check who signed it, or --allow-unsigned")
    sys.exit(0 if accepted else 1)


@click.command()
@click.argument("old", type=EXISTING)
@click.argument("new", type=EXISTING)
@click.option("--key", "key", type=FILE, help="PEM public key both bundles must be signed with.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def diff(ctx: click.Context, old: Path, new: Path, key: Path | None, fmt: str) -> None:
    """What changed between two runs (bundle folders or .tar.gz); exit 1 if anything got worse.

    Worse: the decision (GO < NO-GO < INCOMPLETE), or a rule's outcome (pass < not_applicable,
    waived < warn < insufficient_evidence < fail < error; a rule gone counts as worse, a new rule
    as worse when it warns or blocks). Both bundles are verified first (and with --key, must be
    signed by it).
    """
    from affidavit.bundle.diff import diff_runs
    from affidavit.bundle.verify import load_run

    try:
        public = _verifying_key(key, None, None)
        result = diff_runs(load_run(old, public), load_run(new, public))
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(result.to_json())
    else:
        click.echo(result.to_text())
    sys.exit(1 if result.regressions else 0)
