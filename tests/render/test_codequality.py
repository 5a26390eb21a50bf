"""The GitLab Code Quality report: the keys GitLab requires, unique stable fingerprints, text only.

GitLab's documentation ("Code Quality", section "Implement a custom tool",
doc/ci/testing/code_quality.md in gitlab-org/gitlab) requires a JSON array of objects with
``description``, ``check_name``, ``fingerprint``, ``severity`` (``info``, ``minor``, ``major``,
``critical`` or ``blocker``), ``location.path`` and ``location.lines.begin``, and no byte order
mark; findings with the same fingerprint are shown as one in the merge request widget.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.render.codequality import CodeQualityRenderer
from affidavit.render.escape import visible
from tests.render.ci_support import HOSTILE, DemoRun, demo_run, many_findings, run_with_message
from tests.render.hostile import FIELDS, hostile_run

if TYPE_CHECKING:
    from affidavit.model import Run

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def gitlab_problems(text: str) -> list[str]:
    """What GitLab's Code Quality parser would refuse or merge in the report ``text``."""
    problems = []
    if text.startswith("\ufeff"):
        problems.append("byte order mark")
    report = json.loads(text)
    if not isinstance(report, list):
        return ["not a JSON array"]
    prints = [issue.get("fingerprint") for issue in report]
    if len(prints) != len(set(prints)):
        problems.append("two issues share a fingerprint (GitLab shows them as one)")
    for n, issue in enumerate(report):
        problems += [
            f"[{n}].{key} is not a non-empty string"
            for key in ("description", "check_name", "fingerprint")
            if not isinstance(issue.get(key), str) or not issue[key]
        ]
        if issue.get("severity") not in SEVERITIES:
            problems.append(f"[{n}].severity is not one of {sorted(SEVERITIES)}")
        location: dict[str, Any] = issue.get("location") or {}
        if not isinstance(location.get("path"), str) or not location["path"]:
            problems.append(f"[{n}].location.path is not a non-empty string")
        begin = (location.get("lines") or {}).get("begin")
        if not isinstance(begin, int) or isinstance(begin, bool) or begin < 1:
            problems.append(f"[{n}].location.lines.begin is not a line number")
    return problems


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The demo's NO-GO and GO releases through the real gate."""
    return {which: demo_run(tmp_path_factory.mktemp(which), which) for which in ("no-go", "go")}


@pytest.mark.parametrize("which", ["no-go", "go"])
def test_a_demo_run_gives_one_issue_per_open_finding(demo: dict[str, DemoRun], which: str) -> None:
    run, cwd = demo[which].run, demo[which].cwd
    text = CodeQualityRenderer().render(run)
    assert gitlab_problems(text) == []
    report = json.loads(text)
    blocking = [r for r in run.rules if r.outcome.blocks]
    assert blocking or which == "go"  # the NO-GO demo has failing rules
    blockers = [i for i in report if i["severity"] != "minor"]
    assert len(blockers) == sum(len(r.violations) + len(r.missing) for r in blocking)
    assert {i["check_name"] for i in blockers} == {r.id for r in blocking}
    warned = {r.id for r in run.rules if r.outcome.value == "warn"}
    assert {i["check_name"] for i in report if i["severity"] == "minor"} == warned
    for issue in report:  # relative to the job's directory: an evidence file, or the folder when it is absent
        assert not issue["location"]["path"].startswith("/")
        assert (cwd / issue["location"]["path"]).exists()
    critical = {r.id for r in blocking if r.severity == "critical"}
    assert {i["check_name"] for i in report if i["severity"] == "blocker"} == critical


def test_fingerprints_are_unique_and_stable_across_folders(tmp_path: Path) -> None:
    first = json.loads(CodeQualityRenderer().render(demo_run(tmp_path / "a", "no-go").run))
    second = json.loads(CodeQualityRenderer().render(demo_run(tmp_path / "b", "no-go").run))
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in second]
    # many findings of one rule that differ only in numbers: still one fingerprint each
    report = CodeQualityRenderer().render(many_findings(50))
    assert gitlab_problems(report) == []
    assert len(json.loads(report)) == 50


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_message_stays_text(name: str) -> None:
    payload = HOSTILE[name]
    text = CodeQualityRenderer().render(run_with_message(payload, source=f"in/{payload}.json"))
    assert gitlab_problems(text) == []
    assert text.isascii()  # every non-ASCII character is a JSON escape
    (issue,) = json.loads(text)
    assert visible(payload) in issue["description"]
    for value in (
        issue["description"],
        issue["check_name"],
        issue["location"]["path"],
        issue["content"]["body"],
    ):
        assert value.isprintable()


@pytest.mark.parametrize("field", [*FIELDS, "*"])
def test_a_hostile_value_in_any_field_keeps_the_report_valid(field: str) -> None:
    payload = HOSTILE["xml breakout"] + HOSTILE["bidi"] + HOSTILE["not characters"]
    check_codequality(
        field, payload, visible(payload), hostile_run(field, "plain"), hostile_run(field, payload)
    )


def check_codequality(field: str, payload: str, seen: str, plain_run: Run, run: Run) -> None:
    """The escaping check for ``tests/render/test_escaping.py``'s ``CHECKS``: accepted, as many
    issues as the plain run, every string printable."""
    text = CodeQualityRenderer().render(run)
    assert gitlab_problems(text) == []
    report = json.loads(text)
    assert len(report) == len(json.loads(CodeQualityRenderer().render(plain_run)))
    for issue in report:
        for value in (issue["description"], issue["check_name"], issue["location"]["path"]):
            assert value.isprintable()


def test_the_same_run_gives_the_same_bytes() -> None:
    assert CodeQualityRenderer().render(many_findings(3)) == CodeQualityRenderer().render(many_findings(3))
