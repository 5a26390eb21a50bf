"""The gate runs with Python's cyclic garbage collector paused (issue 14), so nothing large may be
held in a reference cycle: such a value would stay alive until the end of the gate.

Each test here would fail on the code before the pause: the plan redaction's walkers held every
string of the plan in a cycle, and an artefact kept its parse error with the traceback that held
the artefact itself and the whole text.
"""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import affidavit.pipeline
from affidavit.artefact import Artefact
from affidavit.cli import main
from affidavit.collectors.kinds.terraform import redact_plan_value
from affidavit.errors import InputError
from tests.conftest import CORPUS, REPO


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The cyclic collector off, as in a gate; what it finds afterwards is kept in ``gc.garbage``."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


def _cyclic_lists_holding(marker: str) -> list[list[object]]:
    """The lists only a reference cycle kept alive that hold ``marker``."""
    gc.collect()
    return [o for o in gc.garbage if type(o) is list and marker in o]


def test_the_plan_redaction_leaves_no_cycle_holding_the_plan_strings(collector_off: None) -> None:
    plan = json.loads((CORPUS / "terraform-plan" / "checkov-plan_tags-tfplan.json").read_bytes())
    marker = "a string of this plan only, 7c1f0e"
    plan.setdefault("variables", {})["probe"] = {"value": marker}
    redacted = json.loads(redact_plan_value(plan))
    assert redacted["variables"]["probe"]["value"] == marker  # it was walked
    del plan, redacted
    assert _cyclic_lists_holding(marker) == []


def test_an_artefact_that_is_not_json_is_freed_at_once(collector_off: None) -> None:
    doc = Artefact("broken.json", b'{"a": 1, "a": 2}')
    for _ in range(3):
        assert doc.try_json() is None
    with pytest.raises(InputError, match="same key twice") as caught:
        doc.json()
    assert caught.value.source == "broken.json"
    del caught
    ref = weakref.ref(doc)
    del doc
    assert ref() is None  # no cycle through the kept parse error


def test_each_raise_of_a_kept_parse_error_is_its_own() -> None:
    doc = Artefact("broken.json", b'{"a": ')
    with pytest.raises(InputError) as first:
        doc.json()
    first.value.kind = "sbom"  # what collectors._collect notes on the error it caught
    with pytest.raises(InputError) as second:
        doc.json()
    assert second.value is not first.value
    assert second.value.kind is None
    assert second.value.message == first.value.message


def test_the_gate_pauses_the_collector_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    inner = affidavit.pipeline.run_gate

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return inner(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(affidavit.pipeline, "run_gate", spy)
    assert gc.isenabled()
    _gate_on_the_demo(tmp_path)
    assert seen == [False]
    assert gc.isenabled()


def _gate_on_the_demo(out: Path) -> None:
    """The gate on the demo release, in this process; it must decide (GO or NO-GO) and write its bundle."""
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(REPO / "evidence" / "demo" / "go"),
            "--out",
            str(out),
            "--no-record",
            "-q",
        ],
    )
    assert result.exit_code in (0, 1), result.output


class _Watched(dict):  # type: ignore[type-arg]
    """A dict that can be watched with a weak reference (a plain dict cannot)."""


def test_the_gate_lets_its_run_go_before_the_collector_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gate ends with sys.exit, whose traceback holds the gate's frame and so the whole run.
    # Were the collector switched back on while that exit was in flight, its first pass would walk
    # every record of the run (0.12 s of the 1x benchmark's gate): the run must be gone by then.
    watched: list[weakref.ref[_Watched]] = []
    inner = affidavit.pipeline.run_gate

    def spy(*args: object, **kwargs: object) -> object:
        judged = inner(*args, **kwargs)  # type: ignore[arg-type]
        judged.stored = _Watched(judged.stored)
        watched.append(weakref.ref(judged.stored))
        return judged

    alive_when_enabled: list[bool] = []
    enable = gc.enable

    def spy_enable() -> None:
        alive_when_enabled.append(bool(watched) and watched[0]() is not None)
        enable()

    monkeypatch.setattr(affidavit.pipeline, "run_gate", spy)
    monkeypatch.setattr(gc, "enable", spy_enable)
    _gate_on_the_demo(tmp_path)
    assert len(watched) == 1
    assert alive_when_enabled == [False]
    assert gc.isenabled()
