"""results.sarif: valid SARIF 2.1.0, within GitHub code scanning's upload rules, and never hostile.

Validated against the OASIS schema (``tests/render/schemas/sarif-schema-2.1.0.json``, draft-04,
with the ``jsonschema`` package) and against the rules GitHub documents for uploads
("SARIF support for code scanning": required properties, ``security-severity``, one location,
``partialFingerprints``; "SARIF results exceed one or more limits": 20 runs, 25,000 results and
rules per run, 20 tags per rule, 1,000 locations per result), checked by ``github_problems``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import pytest

from affidavit.model import Outcome, Run
from affidavit.model.waiver import AppliedWaiver, Waiver
from affidavit.render.escape import visible
from affidavit.render.sarif import MAX_RESULTS, SarifRenderer, sarif_text
from tests.render.ci_support import HOSTILE, DemoRun, demo_run, many_findings, outcomes_run, run_with_message
from tests.render.hostile import FIELDS, hostile_run
from tests.render.markdown_check import structure, to_html

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
#: Microsoft's SARIF validator (npm ``@microsoft/sarif-multitool-linux``), the tool GitHub's SARIF
#: documentation points to for checking a file against its ingestion rules (rule kind ``Gh``).
MULTITOOL = os.environ.get("AFFIDAVIT_SARIF_MULTITOOL") or shutil.which("Sarif.Multitool")
#: What the validator may still say: affidavit has no public information URI yet (SARIF2005), and a
#: finding about absent evidence points at a folder, which has no region (SARIF2017).
ALLOWED_ADVICE = {"SARIF2005", "SARIF2017"}
#: RFC 3986: the characters a URI reference may hold, and a percent sign only before two hex digits.
_URI = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _render(run: Run) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SarifRenderer().render(run))
    return doc


def _walk(value: Any, key: str = "") -> Any:
    """Every (key, value) pair of a JSON document, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)


def github_problems(doc: dict[str, Any]) -> list[str]:
    """What GitHub code scanning would refuse or not show in ``doc`` (its documented rules)."""
    problems = [f"schema: {list(e.path)}: {e.message}" for e in _validator().iter_errors(doc)]
    if not doc.get("$schema") or doc.get("version") != "2.1.0":
        problems.append("$schema and version 2.1.0 are required")
    runs = doc.get("runs") or []
    if not 1 <= len(runs) <= 20:
        problems.append("1 to 20 runs")
    for run in runs:
        driver = run["tool"]["driver"]
        rules = driver.get("rules") or []
        if not driver.get("name") or len(rules) > 25_000:
            problems.append("driver name and at most 25,000 rules")
        ids = [r["id"] for r in rules]
        if len(ids) != len(set(ids)):
            problems.append("rule ids repeat")
        for r in rules:
            for field in ("shortDescription", "fullDescription", "help"):
                text = r.get(field, {}).get("text")
                if not text or (field != "help" and len(text) > 1024):
                    problems.append(f"rule {r['id']}: {field}.text missing, empty or over 1,024")
            if len(r.get("name", "")) > 255:
                problems.append(f"rule {r['id']}: name over 255")
            props = r.get("properties", {})
            if len(props.get("tags", [])) > 20:
                problems.append(f"rule {r['id']}: more than 20 tags")
            severity = float(props.get("security-severity", "0"))
            if not 0.1 <= severity <= 10.0 or "security" not in props.get("tags", []):
                problems.append(f"rule {r['id']}: security-severity not in (0, 10] or no security tag")
        results = run.get("results")
        if results is None or len(results) > 25_000:
            problems.append("results required, at most 25,000")
        for n, res in enumerate(results or []):
            where = f"results[{n}]"
            if not res.get("message", {}).get("text"):
                problems.append(f"{where}: message.text required")
            if res.get("ruleId") not in ids or ids.index(res["ruleId"]) != res.get("ruleIndex"):
                problems.append(f"{where}: ruleId/ruleIndex do not name a rule of the driver")
            if res.get("level") not in ("error", "warning", "note"):
                problems.append(f"{where}: level")
            locations = res.get("locations") or []
            if len(locations) != 1 or len(res.get("relatedLocations", [])) + 1 > 1_000:
                problems.append(f"{where}: exactly one location (at most 1,000 in all)")
            for loc in locations:
                uri = loc.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
                if not uri:
                    problems.append(f"{where}: artifactLocation.uri required")
            if not re.fullmatch(
                r"[0-9a-f]{16}:\d+", res.get("partialFingerprints", {}).get("primaryLocationLineHash", "")
            ):
                problems.append(f"{where}: partialFingerprints.primaryLocationLineHash required")
    for key, value in _walk(doc):
        if key in ("uri", "$schema") and not _URI.match(value):
            problems.append(f"{key} is not an RFC 3986 URI reference")
        if key.endswith("TimeUtc"):
            dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    return problems


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The demo's NO-GO and GO releases through the real gate."""
    return {which: demo_run(tmp_path_factory.mktemp(which), which) for which in ("no-go", "go")}


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_the_bundle_holds_valid_sarif_that_github_accepts(demo: dict[str, DemoRun], which: str) -> None:
    run, bundle = demo[which].run, demo[which].bundle
    written = (bundle / "results.sarif").read_text(encoding="utf-8")
    assert written == SarifRenderer().render(run)  # the bundle's file is the rendering of its results.json
    doc = json.loads(written)
    assert github_problems(doc) == []
    props = doc["runs"][0]["properties"]
    assert props["decision"] == run.decision.value and props["runId"] == run.run_id
    assert doc["runs"][0]["invocations"][0]["exitCode"] == run.exit_code


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_one_error_result_per_blocking_finding_and_none_for_passing_rules(
    demo: dict[str, DemoRun], which: str
) -> None:
    run = demo[which].run
    results = _render(run)["runs"][0]["results"]
    blocking = [r for r in run.rules if r.outcome.blocks]
    assert blocking or which == "go"  # the NO-GO demo has failing rules
    errors = [r for r in results if r["level"] == "error"]
    assert len(errors) == sum(len(r.violations) + len(r.missing) for r in blocking)
    assert {r["ruleId"] for r in errors} == {r.id for r in blocking}
    passing = {r.id for r in run.rules if r.outcome in (Outcome.PASS, Outcome.NOT_APPLICABLE)}
    assert not passing & {r["ruleId"] for r in results}
    warned = {r.id for r in run.rules if r.outcome is Outcome.WARN}
    assert {r["ruleId"] for r in results if r["level"] == "warning"} == warned


def test_each_result_points_at_the_file_of_its_evidence(demo: dict[str, DemoRun]) -> None:
    # The gate ran in the job's working directory with a relative --evidence: every location is
    # relative to it (%SRCROOT%), and resolving it there finds the very file the evidence id hashes.
    cwd = demo["no-go"].cwd
    for result in _render(demo["no-go"].run)["runs"][0]["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not urllib.parse.urlsplit(artifact["uri"]).scheme
        path = cwd / urllib.parse.unquote(artifact["uri"])
        if artifact["uri"].endswith("/"):  # a finding about absent evidence: the evidence folder
            assert path.is_dir() and result["properties"]["evidenceIds"] == []
            continue
        assert path.is_file(), artifact["uri"]
        digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in result["properties"]["evidenceIds"]


def test_fingerprints_are_stable_across_folders_and_days(tmp_path: Path) -> None:
    # The same release judged in another folder one day later (ages in the messages change): the
    # same findings keep the same fingerprints, and no two findings of a run share one.
    first = demo_run(tmp_path / "a", "no-go")
    second = demo_run(tmp_path / "b", "no-go", now="2026-11-21T12:00:00Z")

    def prints(demo: DemoRun) -> dict[tuple[str, str], str]:
        results = _render(demo.run)["runs"][0]["results"]
        keys = [(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"]) for r in results]
        assert len(keys) == len(set(keys))
        return {
            (r["ruleId"], r["level"]): r["partialFingerprints"]["primaryLocationLineHash"] for r in results
        }

    one, two = prints(first), prints(second)
    messages = {r.id: r.first_message for r in first.run.rules}
    changed = [
        rid for rid, msg in ((r.id, r.first_message) for r in second.run.rules) if messages[rid] != msg
    ]
    assert changed  # the messages did change between the runs (an age, a folder)
    assert {k: v for k, v in one.items() if k in two} == {k: v for k, v in two.items() if k in one}
    assert one.keys() & two.keys()


def _links_and_placeholders(text: str) -> list[str]:
    """The embedded links and placeholders a SARIF viewer finds in a plain-text message (3.11.5, 3.11.6)."""
    found = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "\\[]":
            i += 2
            continue
        if c == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            found.append(f"placeholder at {i}")
        if c == "}" and text.startswith("}}", i):
            i += 2
            continue
        if c == "[":
            close = re.match(r"\[((?:\\.|[^\\\]])*)\]\(([^)]*)\)", text[i:])
            if close:
                found.append(f"link to {close.group(2)}")
        i += 1
    return found


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\\[\]])", r"\1", text.replace("{{", "{").replace("}}", "}"))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_message_stays_text_in_sarif(name: str) -> None:
    payload = HOSTILE[name]
    doc = _render(run_with_message(payload))
    assert github_problems(doc) == []
    result = doc["runs"][0]["results"][0]
    text = result["message"]["text"]
    assert _links_and_placeholders(text) == []
    assert _unescape(text) == visible(payload)  # what a viewer shows: exactly the visible characters
    assert all(c.isprintable() for c in text)


def test_sarif_text_escapes_what_sarif_interprets() -> None:
    assert sarif_text("[x](1) {0}") == "\\[x\\](1) {{0}}"
    assert sarif_text("a\\[b") == "a\\\\\\[b"
    assert sarif_text("line\nbreak \u202e") == "line\\\\nbreak \\\\u202e"  # shown as line\\nbreak \\u202e


@pytest.mark.parametrize(
    "source",
    [
        "evidence/has space#frag?q=1%41.json",
        "/abs/path/with space/trivy.json",
        "../outside/trivy.json",
        "javascript:alert(1)",
        "evidence/new\nline\u202e.json",
        "C:\\Windows\\trivy.json",
    ],
)
def test_a_hostile_evidence_path_is_one_encoded_uri(source: str) -> None:
    doc = _render(run_with_message("CVE-1 in pkg", source=source))
    assert github_problems(doc) == []
    artifact = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    parts = urllib.parse.urlsplit(artifact["uri"])
    assert parts.scheme in ("", "file") and not parts.query and not parts.fragment and not parts.netloc
    assert (parts.scheme == "file") == source.startswith("/")
    assert urllib.parse.unquote(parts.path) == visible(source)  # a control in a name is spelled out


@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_a_hostile_value_in_any_field_keeps_the_document_valid(field: str) -> None:
    check_sarif(
        field,
        "",
        "",
        hostile_run(field, "plain"),
        hostile_run(field, HOSTILE["sarif link"] + HOSTILE["controls"]),
    )


def check_sarif(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """The escaping check for ``tests/render/test_escaping.py``'s ``CHECKS``.

    The document stays valid and acceptable to GitHub, every message text is printable with no
    embedded link or placeholder a viewer would follow, every help Markdown has the elements of
    the plain run's, and the value is not lost: it changes no count of results.
    """
    doc = _render(run)
    plain = _render(plain_run)
    assert github_problems(doc) == []
    for key, value in _walk(doc):
        if key == "text":
            assert value.isprintable(), value
            assert _links_and_placeholders(value) == []
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    plain_rules = plain["runs"][0]["tool"]["driver"]["rules"]
    for rule, plain_rule in zip(rules, plain_rules, strict=True):
        kept = ("<code>", "</code>")  # a remediation's own code spans (tests/render/hostile.py)
        html, plain_html = to_html(rule["help"]["markdown"]), to_html(plain_rule["help"]["markdown"])
        assert [t for t in structure(html) if t not in kept] == [
            t for t in structure(plain_html) if t not in kept
        ]
    assert len(doc["runs"][0]["results"]) == len(plain["runs"][0]["results"])


def test_every_outcome_becomes_the_right_level() -> None:
    run = outcomes_run()
    results = _render(run)["runs"][0]["results"]
    levels: dict[str, set[str]] = {}
    for r in results:
        levels.setdefault(r["ruleId"], set()).add(r["level"])
    by_outcome = {r.outcome: r.id for r in run.rules}
    for outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.INSUFFICIENT_EVIDENCE):
        assert levels[by_outcome[outcome]] == {"error"}
    assert levels[by_outcome[Outcome.WARN]] == {"warning"}
    assert by_outcome[Outcome.PASS] not in levels


def test_what_a_waiver_hid_is_no_alert_but_is_listed_with_its_waiver() -> None:
    # GitHub ingests a result with ``suppressions`` as an open alert (github/codeql-action#1230),
    # so a waived finding is no result; the run's properties name the waiver and what it hid.
    run = sample_waived_run()
    doc = _render(run)
    assert github_problems(doc) == []
    assert doc["runs"][0]["results"] == []
    (waiver,) = doc["runs"][0]["properties"]["waivers"]
    assert waiver["rule"] == run.rules[0].id and waiver["findingsHidden"] == 1
    assert (waiver["owner"], waiver["approver"], waiver["reason"]) == ("sam", "dana", "fix lands in 1.4.3")


def sample_waived_run() -> Run:
    """``sample_run`` whose failing rule a waiver turned into waived."""
    run = many_findings(1)
    rule = run.rules[0]
    waiver = Waiver(
        rule=rule.id,
        reason="fix lands in 1.4.3",
        owner="sam",
        expires=dt.date(2026, 12, 5),
        approver="dana",
    )
    waived = replace(
        rule, outcome=Outcome.WAIVED, waiver=waiver, waived=(AppliedWaiver(waiver, rule.violations),)
    )
    return replace(run, rules=(waived,))


@pytest.mark.slow
def test_results_beyond_githubs_limit_are_left_out_and_counted() -> None:
    doc = _render(many_findings(MAX_RESULTS + 7))
    run = doc["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert run["properties"]["omitted"] == {"results": 7, "rules": 0}
    prints = {r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]}
    assert len(prints) == MAX_RESULTS
    run["results"] = run["results"][:100]  # every result has the same shape: the schema check of 100 says it
    assert github_problems(doc) == []


def test_the_same_run_gives_the_same_bytes(demo: dict[str, DemoRun]) -> None:
    run = demo["no-go"].run
    again = Run.from_json(json.loads((demo["no-go"].bundle / "results.json").read_text(encoding="utf-8")))
    assert SarifRenderer().render(run) == SarifRenderer().render(again)


def test_microsofts_sarif_validator_finds_nothing_github_would_refuse(
    demo: dict[str, DemoRun], tmp_path: Path
) -> None:
    """``Sarif.Multitool validate --rule-kind "Gh;Sarif"``: the SARIF rules and GitHub's ingestion
    rules (GH1xxx, GH2xxx) over the demo runs, a hostile run and a run with an absolute path."""
    if not MULTITOOL:
        message = (
            "Sarif.Multitool is missing: npm install @microsoft/sarif-multitool-linux@5.7.0 and set "
            "AFFIDAVIT_SARIF_MULTITOOL to its Sarif.Multitool"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    runs = {
        "no-go": demo["no-go"].run,
        "go": demo["go"].run,
        "hostile": hostile_run("*", HOSTILE["sarif link"] + HOSTILE["controls"] + HOSTILE["bidi"]),
        "absolute": run_with_message("CVE-1 in pkg", source="/builds/acme/shop/artefacts/trivy.json"),
    }
    for name, run in runs.items():
        (tmp_path / f"{name}.sarif").write_text(SarifRenderer().render(run), encoding="utf-8")
    report = tmp_path / "validation.sarif"
    done = subprocess.run(
        [
            MULTITOOL,
            "validate",
            "--rule-kind",
            "Gh;Sarif",
            "-o",
            str(report),
            *sorted(map(str, tmp_path.glob("*.sarif"))),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    assert report.is_file(), done.stdout + done.stderr
    findings = json.loads(report.read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    errors = [f["ruleId"] for f in findings if f.get("level", "warning") == "error"]
    assert errors == [], done.stdout
    assert {f["ruleId"] for f in findings} <= ALLOWED_ADVICE, done.stdout
