"""Runs for the CI renderer tests: real gate runs on the demo releases, and hostile values.

``demo_run(tmp, which)`` runs the real gate (``tests/attacks/support.py``) on a copy of a demo
release from inside ``tmp``, naming the evidence folder relatively, as a CI job does from its
checkout: the records' sources are then paths relative to the working directory, which is what
GitHub code scanning and GitLab resolve. It returns the typed Run read back from the bundle's
``results.json`` and the bundle folder.

``HOSTILE`` are values an artefact can carry that each CI format must show as text: markup that
closes an XML element and opens a script, workflow commands, SARIF links and placeholders,
control characters XML 1.0 forbids, bidirectional overrides, a lone surrogate.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from affidavit.model import Outcome, Run, Violation
from tests.attacks.support import NOW, gate, release
from tests.model.runs import sample_run

HOSTILE: dict[str, str] = {
    "xml breakout": '</failure></testcase><testcase name="forged"/><script>alert(1)</script> ]]> & "quoted" \'single\'',
    "workflow command": "ok\n::error file=x,line=1::forged\r\n::add-mask::x %0A::warning::y ::set-output name=a::b",
    "sarif link": "see [click](https://evil.example) and [here](1) {0} {{1}} \\[x\\](2) \\",
    "controls": "a\x00b\x07c\x0bd\x0ce\x1b[2J\x1b]8;;https://evil.example\x07f\x7fg\x85h\x9bi",
    "bidi": "safe \u202eevil\u202c \u2066x\u2069 \u200b \u2028line \u2029para",
    "not characters": "\ufffe \uffff \ud800 \U0010ffff",
    "markdown": "# heading | cell | <img src=x onerror=alert(1)> **bold** `tick` [x](javascript:alert(1))",
}


@dataclass(frozen=True)
class DemoRun:
    """A gate run on a demo release: its Run and its bundle folder, and where the gate ran."""

    run: Run
    bundle: Path
    cwd: Path


def demo_run(tmp: Path, which: str, *extra: str, now: str | None = None) -> DemoRun:
    """The gate on demo release ``which`` (``go``/``no-go``), run from ``tmp`` with a relative evidence path."""
    evidence = release(tmp, which)
    with contextlib.chdir(tmp):
        result = gate(tmp, Path(evidence.name), *extra, now=now or NOW)
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    bundle = result.bundles[0]
    run = Run.from_json(json.loads((bundle / "results.json").read_text(encoding="utf-8")))
    return DemoRun(run, bundle, tmp)


def run_with_message(message: str, source: str = "in/trivy.json") -> Run:
    """``sample_run`` (one failing rule over one input) with this violation message and input path."""
    run = sample_run(message=message)
    inputs = tuple(replace(ref, source=source) for ref in run.inputs)
    return replace(run, inputs=inputs)


def many_findings(count: int) -> Run:
    """``sample_run`` whose one failing rule has ``count`` violations (``CVE-<n>`` each)."""
    run = sample_run()
    rule = run.rules[0]
    violations = tuple(Violation(f"CVE-2026-{n} in pkg{n}", rule.evidence_ids) for n in range(count))
    return replace(run, rules=(replace(rule, violations=violations),))


def outcomes_run() -> Run:
    """``tests.render.hostile``'s run: one rule of each outcome a renderer shows (plain values)."""
    from tests.render.hostile import hostile_run

    return hostile_run(None, "plain")


def of_outcome(run: Run, outcome: Outcome) -> list[str]:
    """The ids of the rules of ``run`` with this outcome."""
    return [r.id for r in run.rules if r.outcome is outcome]
