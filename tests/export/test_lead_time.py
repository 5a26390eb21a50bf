"""DORA lead time for changes: commit times read from real GitHub answers and from git itself,
joined to the deployed commits of a quarter of real gate runs; every deployment not counted is
listed with why, and no time is ever invented."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import pytest
from click.testing import CliRunner

from affidavit.cli import main
from affidavit.errors import Error
from affidavit.export.deployments import CommitTimes, Deployment, dora_metrics, read_commits
from affidavit.export.period import parse_period
from tests.conftest import CORPUS
from tests.export.test_export import SCHEMA
from tests.store.conftest import DEMO

if TYPE_CHECKING:
    from tests.export.conftest import Quarter

DATA = Path(__file__).parent / "data"


def test_github_commits_are_read_with_their_committer_date() -> None:
    """GitHub's real "List commits" answer (30 commits): each sha with commit.committer.date. The
    commit whose author date is six seconds earlier is dated by its committer date."""
    kind, found = read_commits(DATA / "octokit-rb-list-commits-2013.json")
    assert kind == "github" and len(found) == 30
    times = {sha: moment for sha, moment, _ in found}
    assert times["a4cbb4c7d2bcf260984c400c7b4c9fdc3f67b872"] == "2013-06-02T22:31:17Z"  # author: 22:31:11
    assert times["d0af3380182ed7b991a9a23eae3c114b88fe0a14"] == "2013-06-24T11:50:20Z"
    kind, one = read_commits(DATA / "octokit-rb-get-commit-2013.json")  # "Get a commit"
    assert (kind, one) == (
        "github",
        [("3cdfabd973bc3caac209cba903cfdb3bf6636bcd", "2011-01-21T19:23:58Z", "the commit")],
    )
    _, compared = read_commits(
        DATA / "octokit-rb-compare-commits-2013.json"
    )  # nothing ahead: base and merge base
    assert [where for _, _, where in compared] == ["base_commit", "merge_base_commit"]
    assert compared[0] == ("0e0d7ae299514da692eb1cab741562c253d44188", "2012-07-27T17:31:34Z", "base_commit")


def test_git_log_lines_are_read_and_their_offsets_made_utc(tmp_path: Path) -> None:
    """The output of the real ``git log --format='%H %cI'`` of a repository whose commits were made
    at +02:00 and -05:30: every hash with its committer date in UTC; an abbreviation finds it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "c",
        "GIT_COMMITTER_EMAIL": "c@example.org",
        "HOME": str(tmp_path),
    }
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    for n, when in enumerate(("2026-11-19T10:00:00+02:00", "2026-11-20T06:30:00-05:30")):
        (repo / "f").write_text(str(n))
        subprocess.run(["git", "-C", str(repo), "add", "f"], check=True, env=env)
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "-m", f"c{n}"],
            check=True,
            env={**env, "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE": when},
        )
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%H %cI"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    (tmp_path / "commits.txt").write_text(log)
    kind, found = read_commits(tmp_path / "commits.txt")
    assert kind == "git-log"
    assert [moment for _, moment, _ in found] == ["2026-11-20T12:00:00Z", "2026-11-19T08:00:00Z"]
    times = CommitTimes()
    times.add(kind, "commits.txt", found)
    assert times.time_of(found[1][0][:10]) == (found[1][0], "2026-11-19T08:00:00Z", None)
    assert times.time_of("0" * 40) == (None, None, "its commit is in no --commits file")
    twins = CommitTimes()
    twins.add(
        "git-log",
        "twins.txt",
        [
            ("abcdef0" + "0" * 33, "2026-01-01T00:00:00Z", "line 1"),
            ("abcdef0" + "1" * 33, "2026-01-02T00:00:00Z", "line 2"),
        ],
    )
    assert twins.time_of("abcdef0") == (
        None,
        None,
        "its abbreviated commit matches several commits of --commits",
    )
    assert twins.time_of("abcdef01") == ("abcdef0" + "1" * 33, "2026-01-02T00:00:00Z", None)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        # GitHub deployments are not commits: they name a sha but no commit date.
        (
            str(CORPUS / "deployments-github/github-openapi-deployment-items.json"),
            "entry [0] is not a GitHub commit",
        ),
        # Apache DevLake's deployments table: a CSV, not git log lines.
        (str(CORPUS / "deployments-github/devlake-github_graphql-cicd_deployments.csv"), "line 1 is not"),
    ],
)
def test_files_that_are_not_commit_times_are_refused_by_name(name: str, problem: str) -> None:
    """Sloppy: a deployments file passed as --commits would date nothing; it is refused naming the
    file and the entry, quoting none of it."""
    with pytest.raises(Error) as caught:
        read_commits(Path(name))
    said = caught.value.diagnostics()
    assert name in said and problem in said
    assert "octocat" not in said and "OpenBIC" not in said


def test_a_commit_dated_twice_differently_is_refused(tmp_path: Path) -> None:
    """Hostile: a second file giving a known commit another date (a commit has one) is refused,
    naming both places; nothing is averaged or picked."""
    kind, found = read_commits(DATA / "octokit-rb-list-commits-2013.json")
    times = CommitTimes()
    times.add(kind, "list.json", found)
    forged = tmp_path / "forged.txt"
    forged.write_text(f"{found[0][0]} 2013-06-24T01:00:00Z\n")
    kind, again = read_commits(forged)
    with pytest.raises(Error) as caught:
        times.add(kind, str(forged), again)
    assert (
        "line 1: the commit has another committer date than list.json entry [0] gives"
        in caught.value.diagnostics()
    )
    assert times.times[found[0][0]] == "2013-06-24T11:50:20Z"


def _deployment(
    ref: str, commit: str | None, time: str, state: str | None = "success", **extra: str
) -> Deployment:
    """A GitHub deployment to prod."""
    return Deployment(
        "github", "d.json", ref, "prod", extra.get("digest"), commit, time, state, extra.get("commit_time")
    )


def test_lead_time_counts_each_commit_once_and_says_why_for_every_other_deployment() -> None:
    """Median and p90 from the first deployment of each commit; a failed, an unfinished, a
    redeployed, an unknown and a time-travelling commit are listed, never guessed."""
    times = CommitTimes()
    times.add(
        "git-log",
        "log.txt",
        [
            ("a" * 40, "2026-07-01T00:00:00Z", "line 1"),
            ("b" * 40, "2026-07-02T00:00:00Z", "line 2"),
            ("c" * 40, "2026-07-20T00:00:00Z", "line 3"),
            ("e" * 40, "2026-07-09T00:00:00Z", "line 4"),
        ],
    )
    deployments = [
        _deployment("1", "a" * 40, "2026-07-01T10:00:00Z"),  # 10 h
        _deployment("2", "a" * 40, "2026-07-03T00:00:00Z"),  # redeployment
        _deployment("3", "b" * 40, "2026-07-02T04:00:00Z", "failure"),  # failed: not running
        _deployment("4", "b" * 40, "2026-07-02T06:00:00Z"),  # 6 h (the failed one did not count)
        _deployment("5", "c" * 40, "2026-07-10T00:00:00Z"),  # committed after: refused
        _deployment("6", "d" * 40, "2026-07-10T00:00:00Z"),  # unknown commit
        _deployment("7", "e" * 12, "2026-07-10T00:00:00Z", "in_progress"),  # not finished
        _deployment("8", "e" * 12, "2026-07-10T02:00:00Z", None),  # 26 h, by abbreviation
        _deployment(
            "9",
            None,
            "2026-07-15T00:00:00Z",
            None,
            digest="sha256:" + "0" * 64,
            commit_time="2026-07-14T22:00:00Z",
        ),  # 2 h: the CSV's commit_time
    ]
    dora = dora_metrics(deployments, parse_period("2026-Q3"), "prod", times)
    lead = dora["lead_time_for_changes"]
    assert (lead["deployments"], lead["counted"]) == (9, 4)
    assert lead["value"] == 8.0 and lead["p90"] == 26.0  # median of 2, 6, 10, 26; nearest-rank p90
    why = {e["ref"]: e["why"] for e in lead["not_counted"]}
    assert set(why) == {"2", "3", "5", "6", "7"}
    assert "redeployment" in why["2"] and "'failure'" in why["3"] and "after the deployment" in why["5"]
    assert "in no --commits file" in why["6"] and "'in_progress'" in why["7"]
    assert "4 of 9 deployment(s)" in lead["from"] and "git-log commits in log.txt (4)" in lead["from"]
    weekly = dora["weekly"]
    assert weekly["weeks"] == 14 and weekly["from"] == "2026-07-01"
    assert weekly["deployments"][:3] == [4, 4, 1] and sum(weekly["deployments"]) == 9
    assert weekly["lead_time_hours"][:3] == [8.0, 26.0, 2.0] and weekly["lead_time_hours"][3] is None
    assert weekly["change_failure_rate"][:3] == [0.25, 0.0, None]


def test_without_commit_times_lead_time_is_not_computed_and_says_how_to_give_them() -> None:
    """No --commits and no commit_time: no value, one reason naming the sources to give."""
    deployments = [_deployment("1", "a" * 40, "2026-07-01T10:00:00Z")]
    lead = dora_metrics(deployments, parse_period("2026-Q3"), "prod")["lead_time_for_changes"]
    assert lead["value"] is None and "--commits" in lead["why_not"] and "commit_time" in lead["why_not"]
    assert lead["not_counted"] == [] and lead["counted"] == 0


def test_the_export_computes_lead_time_from_real_runs_deployments_and_commits(
    quarter: Quarter, tmp_path: Path
) -> None:
    """The quarter of real gate runs with GitHub deployments, a CSV naming an image digest only and
    another with commit_time, and commit times from git log and GitHub JSON: the image deployment
    takes the commit its GO run recorded; period.json validates; the report and page show it with
    every value escaped."""
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    commit = (DEMO / "COMMIT").read_text().strip()
    csv = tmp_path / "deployments.csv"
    csv.write_text(
        "digest,environment,time,commit,commit_time\n"
        f"{digest},production,2026-11-20T13:00:00Z,,\n"  # after the first GO (12:00): the GO's commit
        f"sha256:{'0' * 64},prod,2026-12-01T10:00:00Z,,2026-12-01T04:00:00+00:00\n"
    )
    github = tmp_path / "github.json"
    deployments = [
        ("7", commit, "2026-11-21T10:00:00Z", "success"),  # redeployment of the demo commit
        ("8", "a" * 40, "2026-11-21T11:00:00Z", "success"),
        ("9", "b" * 40, "2026-11-22T10:00:00Z", "failure"),
        ("10", "c" * 40, "2026-11-22T12:00:00Z", "success"),
        ("<b>11</b>", "d" * 40, "2026-11-23T12:00:00Z", "success"),  # hostile id; no commit time known
    ]
    github.write_text(
        json.dumps(
            [
                {
                    "id": ref,
                    "sha": sha,
                    "environment": "production",
                    "created_at": at,
                    "statuses": [{"state": state, "created_at": at}],
                }
                for ref, sha, at, state in deployments
            ]
        )
    )
    log = tmp_path / "commits.txt"
    log.write_text(f"{commit} 2026-11-19T09:00:00+01:00\n{'a' * 40} 2026-11-21T09:00:00Z\n")
    listed = tmp_path / "commits.json"  # GitHub's shape, as GET /repos/{o}/{r}/commits answers
    listed.write_text(
        json.dumps(
            [
                {
                    "sha": "c" * 40,
                    "commit": {
                        "author": {"date": "2026-11-01T00:00:00Z"},
                        "committer": {"date": "2026-11-21T12:00:00Z"},
                    },
                }
            ]
        )
    )
    out = tmp_path / "audit"
    args = [
        "export",
        "--framework",
        "soc2",
        "--period",
        "2026-Q4",
        "--environment",
        "prod",
        "--store",
        quarter.url,
    ]
    args += ["--sample-seed", "1", "--out", str(out), "--deployments", str(csv), "--deployments", str(github)]
    args += ["--commits", str(log), "--commits", str(listed)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "lead time for changes: median 15.0 h, p90 29.0 h, from 4 of 7 deployment(s)" in result.output
    doc = json.loads((out / "period.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    lead = doc["dora"]["lead_time_for_changes"]
    # 29 h (demo commit, deployed by image), 2 h (a), 24 h (c), 6 h (commit_time): median 15.0
    assert (lead["value"], lead["p90"], lead["counted"], lead["deployments"]) == (15.0, 29.0, 4, 7)
    assert "1 deployed by image digest: the commit the GO run recorded" in lead["from"]
    why = {e["ref"]: e for e in lead["not_counted"]}
    assert set(why) == {"7", "9", "<b>11</b>"}
    assert (
        why["7"]["commit_time"] == "2026-11-19T08:00:00Z"
        and "first deployed at 2026-11-20T13:00:00Z" in why["7"]["why"]
    )
    assert why["<b>11</b>"]["commit_time"] is None and "in no --commits file" in why["<b>11</b>"]["why"]
    weekly = doc["dora"]["weekly"]  # 2026-11-20..23 are in week 8 of the quarter, 12-01 in week 9
    assert weekly["deployments"][7:9] == [6, 1] and sum(weekly["deployments"]) == 7
    assert weekly["change_failure_rate"][7:9] == [0.2, None]
    assert weekly["lead_time_hours"][7:9] == [24.0, 6.0]
    report = (out / "AUDIT_PERIOD_EVIDENCE.md").read_text()
    assert "- lead time for changes: 15.0 hours (median), p90 29.0 hours (nearest rank)" in report
    assert "- median lead time, hours: " + " ".join(["-"] * 7) + " 24 6 " in report
    assert "Deployments the lead time did not count: 3." in report
    assert "- github deployment `<b>11</b>` at 2026-11-23T12:00:00Z" in report  # a code span: shown as text
    page = (out / "audit-period.html").read_text()
    assert "&lt;b&gt;11&lt;/b&gt;" in page and "<b>11" not in page
    assert "median lead time per week, hours (longest week: 24.00 h)" in page
