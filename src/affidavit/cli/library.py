"""Commands about the rule library and the matrices: ``controls``, ``explain``, ``policy test``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from affidavit.cli.common import (
    EXISTING,
    FILE,
    emit_json,
    fail,
    verbose_option,
)
from affidavit.errors import BundleError, Error, UsageError

if TYPE_CHECKING:
    from affidavit.controls.model import ControlMatrix, Crosswalk
    from affidavit.policy.loader import PolicySet


@click.command()
@click.option(
    "--framework",
    required=True,
    help="Framework id of a control matrix in force (built-in or --controls); an unknown id lists the known ones.",
)
@click.option(
    "--results", "results_file", type=FILE, help="results.json of a run: show each control's status."
)
@click.option(
    "--controls", "control_files", type=FILE, multiple=True, help="Extra or replacement control matrix."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@verbose_option
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
        fail(UsageError(exc.message, hint="give the results.json of a gate run"), bool(ctx.obj["verbose"]))
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(listing.to_json())
    else:
        click.echo(listing.to_text())


@click.command()
@click.argument("target")
@click.option(
    "--environment", "-e", default="prod", show_default=True, help="Show the rule data of this environment."
)
@click.option("--policies", "policy_dirs", type=EXISTING, multiple=True, help="Extra Rego policy folder.")
@click.option(
    "--controls", "control_files", type=FILE, multiple=True, help="Extra or replacement control matrix."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@verbose_option
@click.pass_context
def explain(
    ctx: click.Context,
    target: str,
    environment: str,
    policy_dirs: tuple[Path, ...],
    control_files: tuple[Path, ...],
    fmt: str,
) -> None:
    """Explain a rule (supply_chain.sbom_present) or a control of any framework (CC8.1, A.8.32, PW.4.1)."""
    from affidavit.controls.loader import load_crosswalk, load_matrices
    from affidavit.explain import explain as explain_target
    from affidavit.policy.loader import load_policy_set
    from affidavit.policy.params import load_params

    try:
        policy_set, matrices = load_policy_set(policy_dirs), load_matrices(control_files)
        crosswalk, params = load_crosswalk(), load_params(environment)
        text = explain_target(target, policy_set, matrices, crosswalk=crosswalk, params=params)
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(_explain_json(target, policy_set, matrices, crosswalk, params))
    else:
        click.echo(text)


def _explain_json(
    target: str,
    policy_set: PolicySet,
    matrices: tuple[ControlMatrix, ...],
    crosswalk: Crosswalk,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """``explain --format json``: the facts the text shows, for a rule or for each framework's
    control of that id (``explain`` has already refused a target that is neither)."""
    from affidavit.controls.links import display_order, rule_links
    from affidavit.controls.validate import attach_rules

    rules = {r.id: r for r in policy_set.rules}
    own = {r.id for r in policy_set.rules if not r.builtin}
    matrices = tuple(attach_rules(matrices, {r.id: r.controls for r in policy_set.rules}, own))
    if target in rules:
        rule = rules[target]
        links = rule_links(matrices).get(rule.id, {})
        area = rule.id.split(".", 1)[0]
        controls = []
        for matrix in display_order(matrices):
            for cid in links.get(matrix.framework, ()):
                control = matrix.get(cid)
                controls.append(
                    {
                        "framework": matrix.framework,
                        "label": matrix.label,
                        "id": cid,
                        "title": control.title if control else None,
                    }
                )
        return {
            "type": "rule",
            "id": rule.id,
            "title": rule.title,
            "description": rule.description.strip(),
            "severity": rule.severity.value,
            "requires": [k.value for k in rule.requires],
            "environments": list(rule.environments or ()),
            "effective_on": rule.effective_on.isoformat() if rule.effective_on else None,
            "file": rule.file,
            "builtin": rule.builtin,
            "controls": controls,
            "remediation": rule.remediation.strip(),
            "rule_data": params.get(area) if isinstance(params.get(area), Mapping) else None,
        }
    found = []
    for matrix in display_order(matrices):
        control = matrix.get(target)
        if control is None:
            continue
        found.append(
            {
                "framework": matrix.framework,
                "label": matrix.label,
                "id": control.id,
                "title": control.title,
                "description": control.description.strip(),
                "group": control.group,
                "coverage": control.coverage.value,
                "rules": [
                    {"id": rid, "title": rules[rid].title if rid in rules else None} for rid in control.rules
                ],
                "evidence": [k.value for k in control.evidence],
                "manual": control.manual.strip() if control.manual else None,
                "note": control.note.strip() if control.note else None,
                "counterparts": list(crosswalk.related(matrix.framework, target)),
            }
        )
    return {"type": "control", "id": target, "controls": found}


@click.group()
def policy() -> None:
    """Work with the Rego policy library."""


@policy.command("test")
@click.argument("dirs", type=EXISTING, nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--min-coverage",
    "min_coverage",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Fail (exit 1) when the tests reach less than PCT % of the rule modules' lines.",
)
@click.option(
    "--engine",
    type=click.Choice(["regorus", "opa", "all"]),
    default="regorus",
    show_default=True,
    help="Run the tests on regorus (the gate's engine), on OPA (the reference engine, an optional "
    "install), or on both: every test must pass on each.",
)
@verbose_option
@click.pass_context
def policy_test(
    ctx: click.Context, dirs: tuple[Path, ...], fmt: str, min_coverage: float | None, engine: str
) -> None:
    """Run every *_test.rego on an in-process engine (default: the built-in library) and measure
    the line coverage of the rule modules."""
    from affidavit.policy.testing import (
        TEST_ENGINES,
        EnginesReport,
        PolicyTestReport,
        engine_named,
        run_on_engines,
        run_policy_tests,
    )
    from affidavit.resources import builtin_policies_dir

    folders = list(dirs) or [builtin_policies_dir()]
    report: PolicyTestReport | EnginesReport
    try:
        if engine == "all":
            report = run_on_engines(folders, TEST_ENGINES, min_coverage=min_coverage)
        else:
            report = run_policy_tests(folders, engine=engine_named(engine), min_coverage=min_coverage)
    except Error as exc:
        fail(exc, bool(ctx.obj["verbose"]))
    if fmt == "json":
        emit_json(report.to_json())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)
