"""junit.xml: valid against the Apache Ant JUnit XSD (checked with the real ``xmllint --schema``),
one test case per rule, and no artefact text that closes or opens an element.

The XSD is windyroad's ``JUnit.xsd`` (``tests/render/schemas``), the schema Jenkins and most CI
report viewers follow. ``xmllint`` is Debian's ``libxml2-utils``; CI must install it (these tests
fail, never skip, without it).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from affidavit.model import Outcome, Run
from affidavit.render.escape import visible
from affidavit.render.junit import JunitRenderer
from tests.render.ci_support import HOSTILE, DemoRun, demo_run, outcomes_run, run_with_message
from tests.render.hostile import FIELDS, hostile_run

XSD = Path(__file__).parent / "schemas" / "JUnit.xsd"
#: XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_CHARS = (0x9, 0xA, 0xD)


def xmllint(document: str, tmp_path: Path, name: str = "junit.xml") -> str:
    """``xmllint --noout --schema JUnit.xsd`` on ``document``: its complaints ('' when valid)."""
    tool = shutil.which("xmllint")
    assert tool, "xmllint is missing: apt-get install -y libxml2-utils (CI installs it)"
    path = tmp_path / name
    path.write_text(document, encoding="utf-8")
    done = subprocess.run(
        [tool, "--noout", "--nonet", "--schema", str(XSD), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "" if done.returncode == 0 else done.stderr


def _xml_char(c: str) -> bool:
    point = ord(c)
    return (
        point in _XML_CHARS
        or 0x20 <= point <= 0xD7FF
        or 0xE000 <= point <= 0xFFFD
        or 0x10000 <= point <= 0x10FFFF
    )


def _cases(document: str) -> dict[str, ET.Element]:
    root = ET.fromstring(document.encode("utf-8"))
    return {case.attrib["name"]: case for case in root.iter("testcase")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The demo's NO-GO and GO releases through the real gate."""
    return {which: demo_run(tmp_path_factory.mktemp(which), which) for which in ("no-go", "go")}


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_the_bundle_holds_junit_that_the_xsd_accepts(
    demo: dict[str, DemoRun], which: str, tmp_path: Path
) -> None:
    run, bundle = demo[which].run, demo[which].bundle
    written = (bundle / "junit.xml").read_text(encoding="utf-8")
    assert written == JunitRenderer().render(run)
    assert xmllint(written, tmp_path) == ""
    cases = _cases(written)
    assert sorted(cases) == sorted(r.id for r in run.rules)  # one test case per rule
    root = ET.fromstring(written.encode())
    suite = root.find("testsuite")
    assert suite is not None
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert properties["affidavit.decision"] == run.decision.value
    assert properties["affidavit.run_id"] == run.run_id
    failing = [r for r in run.rules if r.outcome in (Outcome.FAIL, Outcome.INSUFFICIENT_EVIDENCE)]
    assert int(suite.attrib["failures"]) == len(failing) == len(list(root.iter("failure")))
    assert int(suite.attrib["tests"]) == len(run.rules)


def test_the_no_go_demo_fails_each_failing_rule_with_its_messages_and_fix(demo: dict[str, DemoRun]) -> None:
    run = demo["no-go"].run
    cases = _cases(JunitRenderer().render(run))
    for rule in run.rules:
        failure = cases[rule.id].find("failure")
        if rule.outcome is Outcome.FAIL:
            assert failure is not None and failure.attrib["type"] == "fail"
            assert failure.attrib["message"] == visible(rule.first_message)
            body = failure.text or ""
            assert all(visible(v.msg) in body for v in rule.violations)
            assert f"fix: {visible(rule.remediation)}" in body
        else:
            assert failure is None


def test_every_outcome_has_its_element(tmp_path: Path) -> None:
    run = outcomes_run()
    document = JunitRenderer().render(run)
    assert xmllint(document, tmp_path) == ""
    cases = _cases(document)
    expected = {
        Outcome.FAIL: ("failure", "fail"),
        Outcome.INSUFFICIENT_EVIDENCE: ("failure", "insufficient_evidence"),
        Outcome.ERROR: ("error", "error"),
        Outcome.WAIVED: ("skipped", None),
        Outcome.PASS: (None, None),
        Outcome.WARN: (None, None),
    }
    for rule in run.rules:
        element, kind = expected[rule.outcome]
        children = list(cases[rule.id])
        if element is None:
            assert children == [], rule.outcome
        else:
            assert [c.tag for c in children] == [element]
            assert children[0].attrib.get("type") == kind
    waived = next(r for r in run.rules if r.outcome is Outcome.WAIVED)
    skipped = cases[waived.id].find("skipped")
    assert skipped is not None and "waived by sam, approved by dana until" in skipped.attrib["message"]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_message_stays_text_in_junit(name: str, tmp_path: Path) -> None:
    payload = HOSTILE[name]
    document = JunitRenderer().render(run_with_message(payload))
    assert all(_xml_char(c) for c in document)  # nothing XML 1.0 forbids
    assert xmllint(document, tmp_path) == ""  # still well-formed and valid
    (case,) = _cases(document).values()  # no forged test case
    failure = case.find("failure")
    assert failure is not None and failure.attrib["message"] == visible(payload)  # shown as written
    assert [e.tag for e in case.iter()] == ["testcase", "failure"]  # no element from the text
    assert "<script" not in document


@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_a_hostile_value_in_any_field_keeps_the_report_valid(field: str, tmp_path: Path) -> None:
    payload = HOSTILE["xml breakout"] + HOSTILE["controls"] + HOSTILE["not characters"]
    check_junit(
        field, payload, visible(payload), hostile_run(field, "plain"), hostile_run(field, payload), tmp_path
    )


def check_junit(
    field: str, payload: str, seen: str, plain_run: Run, run: Run, tmp_path: Path | None = None
) -> None:
    """The escaping check for ``tests/render/test_escaping.py``'s ``CHECKS``.

    Only XML 1.0 characters; the same elements as the report of the plain run (no element closed
    or opened by the value); valid against the XSD when ``tmp_path`` is given.
    """
    document = JunitRenderer().render(run)
    assert all(_xml_char(c) for c in document)
    tags = [e.tag for e in ET.fromstring(document.encode()).iter()]
    plain = [e.tag for e in ET.fromstring(JunitRenderer().render(plain_run).encode()).iter()]
    assert tags == plain
    if tmp_path is not None:
        assert xmllint(document, tmp_path) == ""


def test_the_same_run_gives_the_same_bytes() -> None:
    assert JunitRenderer().render(outcomes_run()) == JunitRenderer().render(outcomes_run())
