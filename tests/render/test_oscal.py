"""``assessment-results.json`` is OSCAL 1.1.3 assessment results that OSCAL readers accept.

Two independent readers check every document: compliance-trestle's ``AssessmentResults`` pydantic
model (the OSCAL library GRC pipelines use; it does not check ``oscal-version`` and reads the
formats of date-times and UUIDs only loosely) and NIST's published JSON Schema of the model,
v1.1.3 (``tests/render/oscal/``, see SOURCES.md there), plus what neither checks: every UUID
referenced is defined in the document. The model is NIST's "OSCAL Assessment Results Model"
reference, v1.1.3 (https://pages.nist.gov/OSCAL-Reference/models/v1.1.3/assessment-results/).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import pytest
import regex

from affidavit.model import ControlStatus, Decision, Outcome, Run
from affidavit.render import registry
from affidavit.render.oscal import OscalRenderer, assessment_results, token
from tests.attacks.support import gate, release
from tests.model.runs import EVIDENCE_ID, sample_run
from tests.render.hostile import FIELDS, hostile_run
from tests.render.markdown_check import structure, to_html

HERE = Path(__file__).resolve().parent / "oscal"
SCHEMA = HERE / "oscal_assessment-results_schema.json"
SCHEMA_SHA256 = "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3"
#: OSCAL fields whose value is Markdown (markup-line or markup-multiline in the metaschema).
MARKUP = {"title", "description", "remarks", "statement"}


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    """``pattern`` read as ECMA-262 with Unicode classes (``\\p{L}``), which ``re`` cannot read."""
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _schema_validator() -> Any:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the vendored NIST schema was changed"
    schema = json.loads(raw)
    assert schema["$id"] == "http://csrc.nist.gov/ns/oscal/1.1.3/oscal-ar-schema.json"
    checker = jsonschema.FormatChecker()
    checker.checks("regex", raises=regex.error)(regex.compile)
    jsonschema.Draft7Validator.check_schema(schema, format_checker=checker)
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})
    return cls(schema, format_checker=checker)


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(key, value)`` pair of a JSON value, depth first."""
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def validated(run: Run) -> dict[str, Any]:
    """The run's document after both readers and the reference check accepted it."""
    text = OscalRenderer().render(run)
    text.encode("utf-8")  # the bundle writes it as UTF-8: no lone surrogate may reach it
    doc: dict[str, Any] = json.loads(text)
    from trestle.oscal.assessment_results import Model

    Model.parse_obj(doc)  # raises pydantic's ValidationError naming each wrong field
    errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]]
    defined = [v for k, v in _walk(doc) if k == "uuid"]
    assert len(defined) == len(set(defined)), "a UUID is defined twice"
    referenced = {v for k, v in _walk(doc) if k.endswith("-uuid")}
    assert referenced <= set(defined), referenced - set(defined)
    href = doc["assessment-results"]["import-ap"]["href"]
    assert href.startswith("#") and href[1:] in defined
    return doc


def _result(doc: dict[str, Any]) -> dict[str, Any]:
    (result,) = doc["assessment-results"]["results"]
    value: dict[str, Any] = result
    return value


def _props(item: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in item.get("props", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


# ---------------------------------------------------------------------------------------------
# Hostile text first


HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> [x](javascript:alert(1)) '
    "![i](https://evil.example/p.png) # heading\n- item\n\n<!-- hide --> \u202eevil\u2028\x1b[2J ../../etc \ud800"
)


@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_hostile_text_in_any_field_stays_text_and_the_document_stays_valid(field: str) -> None:
    """Titles, descriptions and remarks of OSCAL are Markdown (markup-line and markup-multiline in
    the OSCAL metaschema: https://pages.nist.gov/metaschema/specification/datatypes/#markup-data-types),
    so a value from an artefact must render as its text: no link, image, raw HTML, heading or list.
    Property values are single-line strings (pattern ``^\\S(.*\\S)?$``) and control ids tokens."""
    run = hostile_run(field, HOSTILE)
    if field in ("time", "*"):
        # OSCAL has no "unknown time": the document is refused, never given another time.
        with pytest.raises(ValueError, match="not an RFC 3339 UTC time") as refused:
            OscalRenderer().render(run)
        assert "<script" not in str(refused.value)
        run = replace(run, time="2026-11-20T12:00:00Z")
    doc = validated(run)
    for key, value in _walk(doc):
        if key in MARKUP and isinstance(value, str):
            tags = [t for t in structure(to_html(value)) if t not in ("<p>", "</p>", "<strong>", "</strong>")]
            assert tags == [], (key, tags)
        if isinstance(value, str):
            assert "\u202e" not in value and "\x1b" not in value and "\u2028" not in value
    result = _result(doc)
    for observation in result["observations"]:
        for evidence in observation.get("relevant-evidence", []):
            assert ".." not in evidence["href"] and evidence["href"].startswith("evidence/")


def test_a_malformed_evidence_id_names_no_file() -> None:
    """results.json is read back by ``Run.from_json`` with any string as an evidence id; only a
    ``sha256:<64 hex>`` id may become a path, so ``../`` cannot point a reader out of the bundle."""
    run = sample_run()
    bad = replace(run.inputs[0], id="sha256:../../../../etc/passwd")
    doc = validated(replace(run, inputs=(bad,)))
    (observation,) = _result(doc)["observations"]
    assert "relevant-evidence" not in observation
    assert _props(observation)["evidence-id"] == ["sha256:../../../../etc/passwd"]


def test_a_control_id_that_is_no_token_becomes_one_and_is_kept_exactly_in_a_property() -> None:
    """target-id and control-id are OSCAL tokens (``^(\\p{L}|_)(\\p{L}|\\p{N}|[.\\-_])*$``)."""
    assert token("CC7.1") == "CC7.1"
    assert token("1.2 <b>") == "_1.2__b_"
    run = hostile_run("control.id", "1 <x> CC7.1")
    doc = validated(run)
    ids = {f["target"]["target-id"] for f in _result(doc)["findings"]}
    assert "_1__x__CC7.1_obj" in ids
    assert any(_props(f)["control-id"] == ["1 <x> CC7.1"] for f in _result(doc)["findings"])


# ---------------------------------------------------------------------------------------------
# The mapping


def test_one_observation_per_record_and_one_finding_per_control() -> None:
    run = sample_run()
    doc = validated(run)
    meta = doc["assessment-results"]["metadata"]
    assert meta["oscal-version"] == "1.1.3" and meta["last-modified"] == run.time
    result = _result(doc)
    assert _props(result)["decision"] == ["NO-GO"] and _props(result)["run-id"] == [run.run_id]
    (observation,) = result["observations"]
    assert observation["methods"] == ["TEST"]  # a vulnerability scan is a test
    assert observation["collected"] == run.time
    assert _props(observation)["evidence-id"] == [EVIDENCE_ID]
    assert observation["relevant-evidence"][0]["href"] == f"evidence/{EVIDENCE_ID[7:19]}.record.json"
    findings = result["findings"]
    assert [f["target"]["target-id"] for f in findings] == ["CC7.1_obj", "A.8.8_obj"]
    for finding in findings:
        assert finding["target"]["type"] == "objective-id"
        assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
        assert finding["related-observations"] == [{"observation-uuid": observation["uuid"]}]
    assert [
        s["control-id"] for s in result["reviewed-controls"]["control-selections"][0]["include-controls"]
    ] == ["CC7.1"]
    passing = _result(validated(sample_run(outcome=Outcome.PASS)))
    assert {f["target"]["status"]["state"] for f in passing["findings"]} == {"satisfied"}


def test_the_promoted_subject_is_the_assessment_subject_and_the_subject_of_its_evidence() -> None:
    run = sample_run()
    result = _result(validated(run))
    components = result["local-definitions"]["components"]
    promoted = components[0]
    assert _props(promoted)["digest"] == [run.subject.digest] and _props(promoted)["role"] == [
        "promoted-subject"
    ]
    (task,) = result["local-definitions"]["tasks"]
    (subject,) = task["subjects"]
    assert subject["include-subjects"] == [{"subject-uuid": promoted["uuid"], "type": "component"}]
    (observation,) = result["observations"]
    assert observation["subjects"][0]["subject-uuid"] == promoted["uuid"]
    # The tool that made the evidence is the observation's origin, beside affidavit itself.
    tools = {c["uuid"]: c["title"] for c in result["local-definitions"]["assessment-assets"]["components"]}
    actors = [tools[a["actor-uuid"]] for a in observation["origins"][0]["actors"]]
    assert actors == ["trivy 0.58.0", "affidavit 0.1.0"]


def test_unknown_is_never_satisfied() -> None:
    """Manual controls, missing evidence and errors are not-satisfied; a waiver is a deviation."""
    run = hostile_run(None, "plain")
    rules = {r.id: r for r in run.rules}
    statuses = []
    for outcome, rid in (
        (Outcome.ERROR, "code_analysis.tool_error"),
        (Outcome.INSUFFICIENT_EVIDENCE, "supply_chain.signed"),
        (Outcome.WAIVED, "secrets.no_secrets"),
        (Outcome.NOT_APPLICABLE, "iac.encrypted"),
        (Outcome.WARN, "vulnerabilities.database_fresh"),
        (None, None),
    ):
        cid = f"X.{len(statuses)}"
        statuses.append(
            ControlStatus(
                "soc2", cid, "t", outcome, (rid,) if rid else (), (), "automated" if rid else "manual"
            )
        )
    run = replace(run, controls={"soc2": tuple(statuses), "iso27001-2022": ()})
    result = _result(validated(run))
    states = {
        f["target"]["target-id"]: (f["target"]["status"]["state"], f["target"].get("implementation-status"))
        for f in result["findings"]
    }
    assert states == {
        "X.0_obj": ("not-satisfied", None),
        "X.1_obj": ("not-satisfied", None),
        "X.2_obj": ("not-satisfied", None),
        "X.3_obj": ("satisfied", {"state": "not-applicable"}),
        "X.4_obj": ("satisfied", None),
        "X.5_obj": ("not-satisfied", None),
    }
    (risk,) = result["risks"]
    waiver = rules["secrets.no_secrets"].waiver
    assert waiver is not None
    assert risk["status"] == "deviation-approved" and risk["deadline"] == waiver.ended_at()
    waived = next(f for f in result["findings"] if f["target"]["target-id"] == "X.2_obj")
    assert waived["related-risks"] == [{"risk-uuid": risk["uuid"]}]
    manual = next(f for f in result["findings"] if f["target"]["target-id"] == "X.5_obj")
    assert _props(manual)["outcome"] == ["not-assessed"] and "manual assessment" in manual["description"]


def test_uuids_are_deterministic_per_run_and_differ_between_runs() -> None:
    one = OscalRenderer().render(sample_run())
    assert one == OscalRenderer().render(sample_run())
    other = json.loads(OscalRenderer().render(sample_run(run_id="20261120T120000Z-ba9876543210")))
    uuids = {v for k, v in _walk(json.loads(one)) if k == "uuid"}
    assert uuids.isdisjoint({v for k, v in _walk(other) if k == "uuid"})
    for value in uuids:
        assert value[14] == "5"  # name-based (uuid5), so a bundle re-rendered is byte-identical


def test_the_renderer_is_registered_for_every_bundle() -> None:
    renderer = registry.renderer("oscal")
    assert renderer.filename == "assessment-results.json"
    assert renderer in registry.bundle_renderers()


def test_every_decision_is_stated() -> None:
    for decision in Decision:
        doc = assessment_results(replace(sample_run(), decision=decision))
        assert _props(_result(doc))["decision"] == [decision.value]


# ---------------------------------------------------------------------------------------------
# Real runs of the gate on the demo releases


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_a_real_gate_run_is_valid_oscal(tmp_path: Path, which: str) -> None:
    result = gate(tmp_path, release(tmp_path, which))
    assert result.exit_code == (1 if which == "no-go" else 0), result.stdout[-2000:]
    run = Run.from_json(result.results)
    doc = validated(run)
    res = _result(doc)
    assert len(res["observations"]) == len(run.inputs) >= 5
    assert len(res["findings"]) == sum(len(s) for s in run.controls.values())
    methods = {o["methods"][0] for o in res["observations"]}
    assert methods == {"TEST", "EXAMINE"}
    states = {f["target"]["status"]["state"] for f in res["findings"]}
    if which == "no-go":
        assert _props(res)["decision"] == ["NO-GO"] and "not-satisfied" in states
    else:
        assert _props(res)["decision"] == ["GO"] and "satisfied" in states
    # The bundle holds the same document, rendered from the gate's own Run.
    written = result.bundles[0] / "assessment-results.json"
    assert json.loads(written.read_text()) == doc
    # Each observation's relevant evidence is a file of the bundle.
    for observation in res["observations"]:
        (evidence,) = observation["relevant-evidence"]
        assert (result.bundles[0] / evidence["href"]).is_file(), evidence["href"]


def test_the_schema_catches_what_trestle_lets_through() -> None:
    """Why two readers: trestle reads a date-time with any offset, NIST's schema only real zone
    offsets (its DateTimeWithTimezoneDatatype pattern); a document must pass both."""
    from trestle.oscal.assessment_results import Model

    doc = json.loads(OscalRenderer().render(sample_run()))
    _result(doc)["observations"][0]["collected"] = "2026-11-20T12:00:00+01:15"
    Model.parse_obj(doc)
    assert list(_schema_validator().iter_errors(doc))


def check_oscal(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """For the cross-renderer escaping suite (``tests/render/test_escaping.py`` CHECKS): the
    document stays valid OSCAL and its Markdown fields make no element; a run whose time is not a
    time is refused (OSCAL cannot say "unknown time")."""
    if field in ("time", "*"):
        with pytest.raises(ValueError, match="not an RFC 3339 UTC time"):
            OscalRenderer().render(run)
        run = replace(run, time="2026-11-20T12:00:00Z")
    doc = validated(run)
    for key, value in _walk(doc):
        if key in MARKUP and isinstance(value, str):
            tags = [t for t in structure(to_html(value)) if t not in ("<p>", "</p>", "<strong>", "</strong>")]
            assert tags == [], (key, tags)
