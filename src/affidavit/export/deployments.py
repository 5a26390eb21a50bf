"""Deployment records read for reconciliation: every deployment in the period must follow a GO.

A deployment is reconciled when the store holds a run with decision ``GO``, for the same
environment (aliases resolved as the gate resolves them: ``production`` is ``prod``), evaluated at
or before the deployment's time, and

* for the same **image digest** (``sha256:<hex>``) when the record names one, or else
* for the same **source commit** (the gate's ``--commit``) when the record names only a commit
  (GitHub deployments name ``sha``; Argo CD history names a git ``revision``).

Every other deployment in the period is an **exception**, listed with the reason (no GO at all,
a GO only after it, a NO-GO only, no digest or commit named). Deployments outside the period are
not reconciled and are counted as such.

Sources, detected by content (``read_deployments``):

* ``github``: GitHub's REST deployments (``GET /repos/{owner}/{repo}/deployments``: a JSON list of
  objects with ``sha``, ``environment``, ``created_at``; docs.github.com "REST API endpoints for
  deployments"), or one ``deployment`` / ``deployment_status`` webhook payload (an object with a
  ``deployment``). A deployment may carry its statuses (``statuses``: the list of
  ``GET .../deployments/{id}/statuses``, or the webhook's ``deployment_status``); the newest
  status's ``state`` is recorded. The image digest is read from ``payload.digest`` or from an image
  reference ``name@sha256:<hex>`` in ``payload.image``; else the commit ``sha`` is used.
* ``argocd``: an Argo CD ``Application`` (``kind: Application``, YAML or JSON as
  ``kubectl get application -o yaml`` prints it): each ``status.history[]`` entry is a deployment of
  ``revision`` (a commit) at ``deployedAt``. An Application names no environment of affidavit's,
  so its deployments are taken as being to the export's ``--environment`` (and refused without one).
* ``csv``: a CSV file with the header ``digest,environment,time`` (and optionally ``commit`` and
  ``commit_time``, the time the deployed commit was made), one deployment per row, times in RFC 3339.

**Commit times** (``read_commits``, ``--commits``, repeatable) give DORA's lead time for changes:
GitHub's REST commits (``sha``, ``commit.committer.date``) or ``git log --format='%H %cI'``. None
of the deployment records above carries the time of the commit it deployed (GitHub deployments
name a ``sha``, Argo CD history a ``revision``, DevLake's ``cicd_deployments`` table a commit in
``name``), nor do the stored runs (the gate records ``--commit``, not its date): without a commit
time the metric says so and is not computed. Lead time is, per deployment in the environment, its
time minus the committer date of the commit it deployed (the record's ``sha``/``revision``/
``commit``; for a record naming an image digest only, the commit the GO run before it recorded),
counted once per commit (its first deployment), never for a deployment whose newest GitHub status
says it failed or has not finished; every deployment not counted is listed with why.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import re
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json, load_yaml, read_user_file
from affidavit.errors import InputError, UsageError
from affidavit.model.time import normalise
from affidavit.policy.params import resolve_environment

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from affidavit.export.period import Period

SOURCES = ("github", "argocd", "csv")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{7,64}")
MAX_DEPLOYMENT_FILE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Deployment:
    """One deployment: where it came from, to where, of what, when, and its last known state."""

    source: str
    file: str
    ref: str
    environment: str
    digest: str | None
    commit: str | None
    time: str
    state: str | None
    commit_time: str | None = None  # the CSV's optional commit_time column: when the commit was made

    def to_json(self) -> dict[str, Any]:
        """The deployment as the export lists it."""
        return {
            "source": self.source,
            "file": self.file,
            "ref": self.ref,
            "environment": self.environment,
            "digest": self.digest,
            "commit": self.commit,
            "time": self.time,
            "state": self.state,
        }


def read_deployments(path: Path, environment: str | None) -> tuple[str, list[Deployment]]:
    """The source kind and the deployments of one file; ``InputError`` naming the file when it is
    none of the sources (never quoting its content)."""
    name = str(path)
    raw = read_user_file(path, MAX_DEPLOYMENT_FILE)
    text = raw.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        doc = load_json(raw, name)
        if isinstance(doc, dict) and doc.get("kind") == "Application":
            return "argocd", _argocd(doc, name, environment)
        return "github", _github(doc, name)
    first = stripped.splitlines()[0].strip().lower() if stripped else ""
    if first.replace(" ", "").startswith("digest,environment,time"):
        return "csv", _csv(text, name)
    doc = load_yaml(text, name)
    if isinstance(doc, dict) and doc.get("kind") == "Application":
        return "argocd", _argocd(doc, name, environment)
    raise InputError(
        name,
        "is not a deployment record affidavit reads (GitHub deployments JSON, an Argo CD Application, "
        "or a CSV with the header digest,environment,time)",
    )


def _time(value: Any, name: str, where: str) -> str:
    """An RFC 3339 time, or ``InputError``."""
    moment = normalise(value)
    if moment is None:
        raise InputError(name, f"{where}: the deployment's time is missing or not a time")
    return moment


def _digest_of(payload: Any) -> str | None:
    """An image digest named in a GitHub deployment's ``payload``."""
    if not isinstance(payload, dict):
        return None
    for key in ("digest", "image"):
        value = payload.get(key)
        if isinstance(value, str):
            found = _DIGEST.search(value)
            if found and (
                key == "digest" and value == found.group(0) or value.endswith("@" + found.group(0))
            ):
                return found.group(0)
    return None


def _github(doc: Any, name: str) -> list[Deployment]:
    """GitHub deployments: a list from the REST API, or one webhook payload."""
    items: list[tuple[Any, list[Any]]]
    if isinstance(doc, list):
        items = [(d, d.get("statuses") or [] if isinstance(d, dict) else []) for d in doc]
    elif isinstance(doc, dict) and isinstance(doc.get("deployment"), dict):
        status = doc.get("deployment_status")
        items = [(doc["deployment"], [status] if isinstance(status, dict) else [])]
    elif isinstance(doc, dict) and "sha" in doc:  # one deployment (POST .../deployments answers one)
        items = [(doc, doc.get("statuses") or [])]
    else:
        raise InputError(
            name, "is JSON but neither a list of GitHub deployments nor a deployment webhook payload"
        )
    out: list[Deployment] = []
    for n, (item, statuses) in enumerate(items):
        where = f"deployment [{n}]"
        if not isinstance(item, dict) or "sha" not in item or not isinstance(item.get("environment"), str):
            raise InputError(
                name,
                f"{where} is not a GitHub deployment (a deployment has a sha and an environment; "
                "a list of deployment statuses is given inside its deployment as 'statuses')",
            )
        sha = item.get("sha")
        commit = sha.lower() if isinstance(sha, str) and _COMMIT.fullmatch(sha.lower()) else None
        states = sorted(
            (normalise(s.get("created_at")) or "", str(s.get("state")))
            for s in statuses
            if isinstance(s, dict)
        )
        out.append(
            Deployment(
                source="github",
                file=name,
                ref=str(item.get("id", n)),
                environment=resolve_environment(item["environment"]),
                digest=_digest_of(item.get("payload")),
                commit=commit,
                time=_time(item.get("created_at"), name, where),
                state=states[-1][1] if states else None,
            )
        )
    return out


def _argocd(doc: dict[str, Any], name: str, environment: str | None) -> list[Deployment]:
    """An Argo CD Application's ``status.history``."""
    if environment is None:
        raise UsageError(
            f"{name}: an Argo CD Application names no environment",
            hint="pass --environment so its history is reconciled against that environment's runs",
        )
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    history = status.get("history") if isinstance(status, dict) else None
    if not isinstance(history, list):
        raise InputError(name, "is an Argo CD Application without status.history")
    out: list[Deployment] = []
    for n, entry in enumerate(history):
        where = f"status.history[{n}]"
        if not isinstance(entry, dict):
            raise InputError(name, f"{where} is not an object")
        revision = str(entry.get("revision") or "").lower()
        out.append(
            Deployment(
                source="argocd",
                file=name,
                ref=str(entry.get("id", n)),
                environment=resolve_environment(environment),
                digest=None,
                commit=revision if _COMMIT.fullmatch(revision) else None,
                time=_time(entry.get("deployedAt"), name, where),
                state=None,
            )
        )
    return out


def _csv(text: str, name: str) -> list[Deployment]:
    """The documented CSV: ``digest,environment,time[,commit]``."""
    reader = csv.DictReader(io.StringIO(text))
    out: list[Deployment] = []
    for n, row in enumerate(reader, 2):
        digest = (row.get("digest") or "").strip().lower()
        environment = (row.get("environment") or "").strip()
        if not environment:
            raise InputError(name, f"line {n}: no environment")
        commit = (row.get("commit") or "").strip().lower()
        commit_time = (row.get("commit_time") or "").strip()
        out.append(
            Deployment(
                source="csv",
                file=name,
                ref=f"line {n}",
                environment=resolve_environment(environment),
                digest=digest if _DIGEST.fullmatch(digest) else None,
                commit=commit if _COMMIT.fullmatch(commit) else None,
                time=_time((row.get("time") or "").strip(), name, f"line {n}"),
                state=None,
                commit_time=_commit_time(commit_time, name, f"line {n}") if commit_time else None,
            )
        )
    return out


def _commit_time(value: str, name: str, where: str) -> str:
    """The CSV's ``commit_time``: an RFC 3339 time, or ``InputError`` (never a guess)."""
    moment = normalise(value)
    if moment is None:
        raise InputError(name, f"{where}: commit_time is not a time (RFC 3339, or leave it empty)")
    return moment


_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: One line of ``git log --format='%H %cI'`` (full hash, committer date in strict ISO 8601).
_GIT_LOG_LINE = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})[ \t]+(\S+)")
MAX_COMMIT_FILE = 256 * 1024 * 1024
COMMIT_SOURCES = ("github", "git-log")


class CommitTimes:
    """When commits were made, from ``--commits`` files: a full commit hash to its committer date
    (RFC 3339 UTC), and which files said so. Read by ``read_commits``; see the module docstring."""

    def __init__(self) -> None:
        """No commit known yet."""
        self.times: dict[str, str] = {}
        self._where: dict[str, str] = {}
        self.files: list[dict[str, Any]] = []
        self._sorted: list[str] | None = None

    def add(self, kind: str, name: str, found: list[tuple[str, str, str]]) -> None:
        """The commits of one file: ``(sha, time, where in the file)``. A commit that another entry
        gives another time is refused (a commit's committer date is part of the commit: two times
        mean a file is not what it claims), naming both places and no content."""
        for sha, moment, where in found:
            held = self.times.get(sha)
            if held is not None and held != moment:
                raise InputError(
                    name,
                    f"{where}: the commit has another committer date than {self._where[sha]} gives "
                    "(a commit has one); check that both files come from the same repository",
                )
            self.times[sha] = moment
            self._where.setdefault(sha, f"{name} {where}")
        self.files.append({"source": kind, "file": name, "commits": len(found)})
        self._sorted = None

    def time_of(self, commit: str) -> tuple[str | None, str | None, str | None]:
        """``(full sha, committer date, None)`` for a known commit (a unique abbreviation too), or
        ``(None, None, why not)``."""
        if commit in self.times:
            return commit, self.times[commit], None
        if len(commit) < 40:
            if self._sorted is None:
                self._sorted = sorted(self.times)
            at = bisect.bisect_left(self._sorted, commit)
            matches = [s for s in self._sorted[at : at + 2] if s.startswith(commit)]
            if len(matches) == 1:
                return matches[0], self.times[matches[0]], None
            if matches:
                return None, None, "its abbreviated commit matches several commits of --commits"
        return None, None, "its commit is in no --commits file"


def read_commits(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """The source kind and the ``(sha, committer date, where)`` of one ``--commits`` file:

    * ``github``: GitHub's REST commits as ``GET /repos/{owner}/{repo}/commits`` ("List commits")
      answers, a list of commit objects (``pulls/{n}/commits`` answers the same shape), one commit
      object (``GET .../commits/{ref}``, "Get a commit"), or a comparison (``GET .../compare/
      {base}...{head}``) whose ``base_commit``, ``merge_base_commit`` and ``commits`` are read;
      each commit's ``sha`` and
      ``commit.committer.date`` (docs.github.com, "REST API endpoints for commits");
    * ``git-log``: the lines ``git log --format='%H %cI'`` prints (``%H`` the full hash, ``%cI`` the
      committer date, strict ISO 8601; git-log(1) "PRETTY FORMATS").

    Anything else is an ``InputError`` naming the file and the entry, never quoting it."""
    name = str(path)
    raw = read_user_file(path, MAX_COMMIT_FILE)
    text = raw.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "github", _github_commits(load_json(raw, name), name)
    found: list[tuple[str, str, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _GIT_LOG_LINE.fullmatch(line.strip())
        moment = normalise(match.group(2)) if match else None
        if match is None or moment is None:
            raise InputError(
                name,
                f"line {n} is not a full commit hash and its committer date as "
                "git log --format='%H %cI' prints them, nor is the file GitHub commits JSON",
            )
        found.append((match.group(1), moment, f"line {n}"))
    if not found:
        raise InputError(name, "holds no commit (GitHub commits JSON, or git log --format='%H %cI')")
    return "git-log", found


def _github_commits(doc: Any, name: str) -> list[tuple[str, str, str]]:
    """GitHub commit objects: a list, one commit, or a comparison's ``commits``."""
    items: list[tuple[str, Any]]
    if isinstance(doc, dict) and isinstance(doc.get("commits"), list) and "commit" not in doc:
        items = [(key, doc[key]) for key in ("base_commit", "merge_base_commit") if key in doc]
        items += [(f"commits[{n}]", c) for n, c in enumerate(doc["commits"])]
    elif isinstance(doc, dict):
        items = [("the commit", doc)]
    elif isinstance(doc, list):
        items = [(f"entry [{n}]", c) for n, c in enumerate(doc)]
    else:
        raise InputError(name, "is JSON but not GitHub commits (a list, a commit or a comparison)")
    found: list[tuple[str, str, str]] = []
    for where, item in items:
        sha = item.get("sha") if isinstance(item, dict) else None
        commit = item.get("commit") if isinstance(item, dict) else None
        committer = commit.get("committer") if isinstance(commit, dict) else None
        date = committer.get("date") if isinstance(committer, dict) else None
        if not isinstance(sha, str) or not _FULL_SHA.fullmatch(sha.lower()) or not isinstance(date, str):
            raise InputError(
                name,
                f"{where} is not a GitHub commit (a full sha and commit.committer.date, as "
                "GET /repos/{owner}/{repo}/commits answers)",
            )
        moment = normalise(date)
        if moment is None:
            raise InputError(name, f"{where}: commit.committer.date is not a time")
        found.append((sha.lower(), moment, where))
    if not found:
        raise InputError(name, "holds no commit")
    return found


class Reconciler:
    """Deployments checked against the runs of the period as they stream by (see the module)."""

    def __init__(self, sources: list[tuple[str, list[Deployment]]], since: str, until: str) -> None:
        """The deployments of every ``--deployments`` file, for the period ``[since, until)``."""
        self.sources = sources
        self.since, self.until = since, until
        self.deployments = [d for _, ds in sources for d in ds if since <= d.time < until]
        self._keys = {k for d in self.deployments for k in _keys(d)}
        # key -> (time, run id, the commit the run recorded)
        self._first_go: dict[tuple[str, str, str], tuple[str, str, str | None]] = {}
        self._seen: set[tuple[str, str, str]] = set()

    def observe(
        self, environment: str, digest: str | None, commit: str | None, decision: str, time: str, run_id: str
    ) -> None:
        """Note one run of the period (oldest first)."""
        if not self._keys:  # no deployment to reconcile
            return
        env = resolve_environment(environment)
        for key in ((env, "digest", digest or ""), (env, "commit", (commit or "").lower())):
            if key not in self._keys:
                continue
            self._seen.add(key)
            if decision == "GO" and key not in self._first_go:
                self._first_go[key] = (time, run_id, commit.lower() if commit else None)

    def part(
        self,
    ) -> tuple[dict[tuple[str, str, str], tuple[str, str, str | None]], set[tuple[str, str, str]]]:
        """What the runs observed so far left (for ``absorb`` in another process)."""
        return self._first_go, self._seen

    def absorb(
        self, part: tuple[dict[tuple[str, str, str], tuple[str, str, str | None]], set[tuple[str, str, str]]]
    ) -> None:
        """Take in what another reconciler of the same deployments observed of the runs that follow
        every run this one observed (``part``): as if this one had observed them."""
        first_go, seen = part
        for key, first in first_go.items():
            self._first_go.setdefault(key, first)
        self._seen |= seen

    def go_commit(self, d: Deployment) -> tuple[str, str] | None:
        """For a deployment named by image digest only: ``(commit, run id)`` of the GO of the period
        that preceded it, when that run recorded its commit (the gate's ``--commit``)."""
        keys = _keys(d)
        first = self._first_go.get(keys[0]) if keys and keys[0][1] == "digest" else None
        if first is None or first[0] > d.time or not first[2]:
            return None
        return first[2], first[1]

    def dora(self, period: Period, environment: str | None, commits: CommitTimes | None) -> dict[str, Any]:
        """The DORA metrics of the period's deployments (``dora_metrics``), once every run was observed."""
        return dora_metrics(self.deployments, period, environment, commits, self.go_commit)

    def result(self, earlier_go: Any) -> dict[str, Any]:
        """The reconciliation for period.json. ``earlier_go(digest, environment, before)`` answers
        the run id of a GO for a digest made before the period (the store), or ``None``."""
        exceptions: list[dict[str, Any]] = []
        reconciled = 0
        for d in sorted(self.deployments, key=lambda d: (d.time, d.file, d.ref)):
            key = _keys(d)[0] if _keys(d) else None
            if key is None:
                exceptions.append(
                    {**d.to_json(), "reason": "the record names neither an image digest nor a commit"}
                )
                continue
            first = self._first_go.get(key)
            if first is not None and first[0] <= d.time:
                reconciled += 1
                continue
            if key[1] == "digest" and earlier_go(key[2], key[0], self.since):
                reconciled += 1
                continue
            if first is not None:
                reason = (
                    f"the first GO for this {key[1]} in {key[0]} was made after the deployment ({first[1]})"
                )
            elif key in self._seen:
                reason = f"no GO for this {key[1]} in {key[0]}: only other decisions"
            else:
                reason = f"no run for this {key[1]} in {key[0]} in the store"
            exceptions.append({**d.to_json(), "reason": reason})
        given = sorted({kind for kind, _ in self.sources})
        return {
            "reconciled": given,
            "not_given": [s for s in SOURCES if s not in given],
            "files": [
                {
                    "source": kind,
                    "file": ds[0].file if ds else None,
                    "deployments": len(ds),
                    "in_period": sum(1 for d in ds if self.since <= d.time < self.until),
                }
                for kind, ds in self.sources
            ],
            "checked": len(self.deployments),
            "reconciled_count": reconciled,
            "exceptions": exceptions,
        }


def _keys(d: Deployment) -> list[tuple[str, str, str]]:
    """What a deployment is matched by: its digest when it names one, else its commit."""
    if d.digest:
        return [(d.environment, "digest", d.digest)]
    if d.commit:
        return [(d.environment, "commit", d.commit)]
    return []


#: GitHub deployment status states (docs.github.com, "Create a deployment status": ``state``).
_FAILED_STATES = frozenset({"failure", "error"})
_DONE_STATES = frozenset({"success", "failure", "error", "inactive"})


METRICS = ("deployment_frequency", "lead_time_for_changes", "change_failure_rate", "time_to_restore")
_NO_COMMIT_TIMES = (
    "no commit times: pass --commits with GitHub's commits (GET /repos/{owner}/{repo}/commits) or "
    "the output of git log --format='%H %cI', or give the CSV a commit_time column; the deployment "
    "records given (GitHub deployments, Argo CD history) and the stored runs name commits, not when "
    "they were made"
)


def dora_metrics(
    deployments: list[Deployment],
    period: Period,
    environment: str | None,
    commits: CommitTimes | None = None,
    go_commit: Callable[[Deployment], tuple[str, str] | None] | None = None,
) -> dict[str, Any]:
    """The four DORA metrics where the deployment records allow, each saying from what it was
    computed or why it was not (a GO decision is an approval, not a deployment: never counted),
    and their weekly series (weeks of the period from its first day, as the controls' pass rates).

    ``commits`` gives commit times (lead time); ``go_commit`` the commit a GO run recorded for a
    deployment named by image digest only (``Reconciler.go_commit``)."""
    env = resolve_environment(environment) if environment else None
    chosen = sorted(
        (d for d in deployments if env is None or d.environment == env), key=lambda d: (d.time, d.file, d.ref)
    )
    weeks = (period.days + 6) // 7
    if not chosen:
        why = "no deployment records in the period (--deployments)"
        out: dict[str, Any] = {name: {"value": None, "why_not": why} for name in METRICS}
        out["weekly"] = _weekly(period, weeks, [], {})
        return out
    out = {
        "deployment_frequency": {
            "value": round(len(chosen) / period.days, 4),
            "unit": "deployments per day",
            "from": f"{len(chosen)} deployment record(s) over {period.days} day(s)",
        }
    }
    leads, lead = _lead_time(chosen, commits, go_commit)
    out["lead_time_for_changes"] = lead
    finished = [d for d in chosen if d.state in _DONE_STATES]
    if not finished:
        why = "no deployment with a final status (GitHub deployment statuses give them; Argo CD history and the CSV do not)"
        out["change_failure_rate"] = {"value": None, "why_not": why}
        out["time_to_restore"] = {"value": None, "why_not": why}
        out["weekly"] = _weekly(period, weeks, chosen, leads)
        return out
    failed = [d for d in finished if d.state in _FAILED_STATES]
    out["change_failure_rate"] = {
        "value": round(len(failed) / len(finished), 4),
        "from": f"{len(failed)} of {len(finished)} deployment(s) with a final GitHub status ended in failure or error",
    }
    restores: list[float] = []
    for f in failed:
        later = next(
            (
                d
                for d in finished
                if d.time > f.time and d.environment == f.environment and d.state == "success"
            ),
            None,
        )
        if later is not None:
            restores.append(_hours(f.time, later.time))
    if restores:
        restores.sort()
        out["time_to_restore"] = {
            "value": round(restores[len(restores) // 2], 2),
            "unit": "hours (median)",
            "from": f"{len(restores)} failed deployment(s) followed by a successful one in the same environment",
        }
    else:
        out["time_to_restore"] = {
            "value": None,
            "why_not": "no failed deployment was followed by a successful one",
        }
    out["weekly"] = _weekly(period, weeks, chosen, leads)
    return out


def _hours(start: str, end: str) -> float:
    """Hours from one RFC 3339 UTC time to another."""
    a = datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return (b - a).total_seconds() / 3600


def _p90(values: list[float]) -> float:
    """The 90th percentile by nearest rank (the smallest value at or above 90 % of them)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _lead_time(
    chosen: list[Deployment],
    commits: CommitTimes | None,
    go_commit: Callable[[Deployment], tuple[str, str] | None] | None,
) -> tuple[dict[int, float], dict[str, Any]]:
    """Lead time for changes: each deployment's time minus the committer date of the commit it
    deployed, for the first deployment of each commit that is not known to have failed; the
    deployments not counted, each with why. Returns the hours by deployment (its index in
    ``chosen``) and the metric."""
    hours: dict[int, float] = {}
    skipped: list[dict[str, Any]] = []
    first_deployed: dict[str, str] = {}
    via_run = 0
    for i, d in enumerate(chosen):
        commit, named_by = d.commit, "the deployment record"
        why: str | None = None
        if d.state is not None and d.state not in _DONE_STATES:
            why = f"its newest GitHub status is {d.state!r}: not known to have reached the environment"
        elif d.state in _FAILED_STATES:
            why = f"its newest GitHub status is {d.state!r}: the change did not reach the environment"
        if why is None and commit is None and go_commit is not None:
            found = go_commit(d)
            if found is not None:
                commit, named_by = found[0], f"gate run {found[1]}"
        moment, full = d.commit_time, commit
        if why is None and moment is None:
            if commit is None:
                why = "the record names an image digest only, and no GO of the period before it recorded a commit"
            elif commits is None:
                why = "no commit time: no --commits file was given and the record has no commit_time"
            else:
                full, moment, why = commits.time_of(commit)
        entry = {
            "source": d.source,
            "file": d.file,
            "ref": d.ref,
            "time": d.time,
            "commit": full or commit,
            "commit_named_by": named_by if commit else None,
            "commit_time": moment,
        }
        if why is None and moment is not None:
            key = full or commit or d.digest or f"{d.file}#{d.ref}"
            if key in first_deployed:
                why = (
                    f"a redeployment of a commit first deployed at {first_deployed[key]}: a change's lead "
                    "time ends at its first deployment"
                )
            elif moment > d.time:
                why = "the commit time is after the deployment (clock skew, or not the commit deployed)"
            else:
                first_deployed[key] = d.time
                hours[i] = _hours(moment, d.time)
                via_run += named_by != "the deployment record"
        if why is not None:
            skipped.append({**entry, "why": why})
    sources = [f"the commit_time column of {n}" for n in sorted({d.file for d in chosen if d.commit_time})]
    if commits is not None:
        sources += [f"{f['source']} commits in {f['file']} ({f['commits']})" for f in commits.files]
    counted = {
        "deployments": len(chosen),
        "counted": len(hours),
        "not_counted": skipped,
        "commit_sources": sources,
    }
    if not hours:
        reasons = sorted({s["why"] for s in skipped})
        why_not = (
            _NO_COMMIT_TIMES
            if not sources
            else f"no deployment of {len(chosen)} has a known commit time: " + "; ".join(reasons[:3])
        )
        if not sources:  # every deployment lacks the same thing: said once
            counted["not_counted"] = [x for x in skipped if not x["why"].startswith("no commit time:")]
        return hours, {"value": None, "why_not": why_not, **counted}
    values = list(hours.values())
    said = f"{len(hours)} of {len(chosen)} deployment(s): deployment time minus the committer date of the deployed commit"
    if via_run:
        said += f" ({via_run} deployed by image digest: the commit the GO run recorded)"
    return hours, {
        "value": round(statistics.median(values), 2),
        "p90": round(_p90(values), 2),
        "unit": "hours (median)",
        "from": f"{said}; commit times from {', '.join(sources)}",
        **counted,
    }


def _weekly(period: Period, weeks: int, chosen: list[Deployment], leads: dict[int, float]) -> dict[str, Any]:
    """Per week of the period: deployments, change failure rate (``None``: no final status that
    week) and median lead time in hours (``None``: no counted deployment that week)."""
    count = [0] * weeks
    done = [0] * weeks
    bad = [0] * weeks
    lead: list[list[float]] = [[] for _ in range(weeks)]
    for i, d in enumerate(chosen):
        w = min(weeks - 1, max(0, period.day_index(d.time) // 7))
        count[w] += 1
        if d.state in _DONE_STATES:
            done[w] += 1
            bad[w] += d.state in _FAILED_STATES
        if i in leads:
            lead[w].append(leads[i])
    return {
        "weeks": weeks,
        "from": period.first.isoformat(),
        "deployments": count,
        "change_failure_rate": [round(bad[w] / done[w], 4) if done[w] else None for w in range(weeks)],
        "lead_time_hours": [round(statistics.median(x), 2) if x else None for x in lead],
    }
