"""The false-verdict suite's one shape (issue 10): the demo GO release with one artefact changed.

Each scenario is a realistic release that a real pipeline could produce, written in the real tool's
documented shape (``cite`` names the document or source the shape comes from). It starts from a
private copy of the demo GO release (``evidence/demo/go``), which is GO as shipped, changes one
thing, runs the whole gate in-process, and asserts what the named rule must say and that the
decision is not a prod GO when the defect is real.

A scenario module lists its scenarios as ``SCENARIOS: list[Scenario]`` and tests them with
``check(tmp_path, scenario)``. ``tests/verdicts/test_suite_size.py`` counts them per area.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.attacks.support import GateResult, gate, release
from tests.conftest import SHARED

#: Real tools' outputs kept beside the corpus (``../shared/samples``), read in place.
SAMPLES = SHARED / "samples"

#: The decision the gate must not reach when a scenario's defect is real.
GO = "GO"

Change = Callable[[Path], None]


@dataclass(frozen=True)
class Scenario:
    """One crafted release: what is changed, which rule must notice, and what it must say.

    ``outcome``: the rule's required outcome (``fail``, ``insufficient_evidence``, ``pass`` ...), or a
    tuple of acceptable outcomes where the answer is debatable (say why in ``why``).
    ``decision``: the required decision; by default anything but GO when the outcome is not a pass.
    ``options``: extra gate options (``--branch main`` ...).
    """

    id: str
    area: str
    rule: str
    change: Change
    outcome: str | tuple[str, ...]
    cite: str
    why: str = ""
    decision: str | None = None
    options: tuple[str, ...] = ()
    params: dict[str, Any] | None = field(default=None)

    def __str__(self) -> str:  # pytest ids
        return self.id


def check(tmp_path: Path, scenario: Scenario) -> GateResult:
    """Run the gate on the demo GO release changed by ``scenario`` and assert what it must say."""
    evidence = release(tmp_path, "go")
    scenario.change(evidence)
    extra = list(scenario.options)
    if scenario.params is not None:
        extra_params = tmp_path / "scenario-params.yaml"
        extra_params.write_text(json.dumps(scenario.params))  # JSON is YAML
        extra += ["--params", str(extra_params)]
    result = gate(tmp_path, evidence, *extra)
    assert result.exit_code in (0, 1, 3), (result.exit_code, result.stderr)
    decision = result.results["decision"]
    got = result.outcome(scenario.rule)
    wanted = scenario.outcome if isinstance(scenario.outcome, tuple) else (scenario.outcome,)
    assert got in wanted, f"{scenario.id}: {scenario.rule} is {got}, wanted {' or '.join(wanted)}"
    if scenario.decision is not None:
        assert decision == scenario.decision, f"{scenario.id}: decision {decision}"
    elif "pass" not in wanted:
        assert decision != GO, f"{scenario.id}: a false GO"
    return result


def edit_json(name: str, edit: Callable[[Any], Any]) -> Change:
    """A change that loads ``name`` from the release, applies ``edit`` (which may mutate in place and
    return None, or return a replacement document) and writes it back."""

    def change(folder: Path) -> None:
        path = folder / name
        document = json.loads(path.read_text())
        replaced = edit(document)
        path.write_text(json.dumps(document if replaced is None else replaced, indent=2))

    return change


def write_file(name: str, content: str | bytes) -> Change:
    """A change that puts ``content`` at ``name`` in the release (replacing any file there)."""

    def change(folder: Path) -> None:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return change


def remove_file(name: str) -> Change:
    """A change that takes ``name`` out of the release."""

    def change(folder: Path) -> None:
        (folder / name).unlink()

    return change


def both(*changes: Change) -> Change:
    """Several changes applied in order."""

    def change(folder: Path) -> None:
        for one in changes:
            one(folder)

    return change


def ids(scenarios: Sequence[Scenario]) -> list[str]:
    """pytest ids for a list of scenarios (unique, checked)."""
    names = [s.id for s in scenarios]
    assert len(names) == len(set(names)), "scenario ids must be unique"
    return names


def trivy_results(*results: dict[str, Any], name: str = "trivy-image.json") -> Change:
    """A change that appends ``results`` (each one ``Results[]`` entry of Trivy's JSON report: Target,
    Class, Type, MisconfSummary, Misconfigurations ...) to the release's Trivy report ``name``."""

    def append(document: Any) -> None:
        document.setdefault("Results", []).extend(json.loads(json.dumps(results)))

    return edit_json(name, append)


def shared_sample(folder: str, file: str, name: str | None = None) -> Change:
    """A change that puts the shared sample ``../shared/samples/<folder>/<file>`` (a real tool's
    output, see its SOURCES.md) into the release as ``name`` (default: its own name). The sample
    is read where it lies; only the test's private copy of the release receives it."""

    def change(target: Path) -> None:
        source = SAMPLES / folder / file
        assert source.is_file(), f"{source} is missing: the shared samples must sit beside the repository"
        (target / (name or file)).write_bytes(source.read_bytes())

    return change
