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
* ``csv``: a CSV file with the header ``digest,environment,time`` (and optionally ``commit``),
  one deployment per row, ``time`` in RFC 3339.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json, load_yaml, read_user_file
from affidavit.errors import InputError, UsageError
from affidavit.model.time import normalise
from affidavit.policy.params import resolve_environment

if TYPE_CHECKING:
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
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class CommitTimes:
    """When commits were made (``--commits``): full commit sha to RFC 3339 UTC time, and the files."""

    times: dict[str, str]
    files: tuple[tuple[str, str, int], ...] = ()  # (source kind, file, commits read)


class Reconciler:
    """Deployments checked against the runs of the period as they stream by (see the module)."""

    def __init__(self, sources: list[tuple[str, list[Deployment]]], since: str, until: str) -> None:
        """The deployments of every ``--deployments`` file, for the period ``[since, until)``."""
        self.sources = sources
        self.since, self.until = since, until
        self.deployments = [d for _, ds in sources for d in ds if since <= d.time < until]
        self._keys = {k for d in self.deployments for k in _keys(d)}
        self._first_go: dict[tuple[str, str, str], tuple[str, str]] = {}  # key -> (time, run id)
        self._seen: set[tuple[str, str, str]] = set()

    def observe(
        self, environment: str, digest: str | None, commit: str | None, decision: str, time: str, run_id: str
    ) -> None:
        """Note one run of the period (oldest first)."""
        env = resolve_environment(environment)
        for key in ((env, "digest", digest or ""), (env, "commit", (commit or "").lower())):
            if key not in self._keys:
                continue
            self._seen.add(key)
            if decision == "GO" and key not in self._first_go:
                self._first_go[key] = (time, run_id)

    def dora(self, period: Period, environment: str | None, commits: CommitTimes | None) -> dict[str, Any]:
        """The DORA metrics of the period's deployments (``dora_metrics``), once every run was observed."""
        return dora_metrics(self.deployments, period.days, environment)

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


def dora_metrics(deployments: list[Deployment], days: int, environment: str | None) -> dict[str, Any]:
    """The four DORA metrics where the deployment records allow, each saying from what it was
    computed or why it was not (a GO decision is an approval, not a deployment: never counted)."""
    env = resolve_environment(environment) if environment else None
    chosen = sorted((d for d in deployments if env is None or d.environment == env), key=lambda d: d.time)
    out: dict[str, Any] = {}
    if not chosen:
        why = "no deployment records in the period (--deployments)"
        return {
            name: {"value": None, "why_not": why}
            for name in (
                "deployment_frequency",
                "lead_time_for_changes",
                "change_failure_rate",
                "time_to_restore",
            )
        }
    out["deployment_frequency"] = {
        "value": round(len(chosen) / days, 4),
        "unit": "deployments per day",
        "from": f"{len(chosen)} deployment record(s) over {days} day(s)",
    }
    out["lead_time_for_changes"] = {
        "value": None,
        "why_not": "no commit times: the deployment records and the stored runs name commits, not when they were made",
    }
    finished = [d for d in chosen if d.state in _DONE_STATES]
    if not finished:
        why = "no deployment with a final status (GitHub deployment statuses give them; Argo CD history and the CSV do not)"
        out["change_failure_rate"] = {"value": None, "why_not": why}
        out["time_to_restore"] = {"value": None, "why_not": why}
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
            from datetime import datetime

            start = datetime.fromisoformat(f.time.replace("Z", "+00:00"))
            end = datetime.fromisoformat(later.time.replace("Z", "+00:00"))
            restores.append((end - start).total_seconds() / 3600)
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
    return out
