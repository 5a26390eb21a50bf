"""``assessment-results.json`` of the period: OSCAL 1.1.3 assessment results, from period.json only.

One ``result`` spans the period (``start``/``end``: its first moment and the moment after it) and
holds:

* an **observation of the population**: every run of the period, their count, decisions, the
  population's sha256 and the Merkle root (method ``EXAMINE``, evidence ``population.jsonl``);
* an **observation per sampled run** (method ``TEST``: the run the auditor re-performs), with its
  decision and bundle digest, evidence its inclusion proof;
* an **observation per deployment exception** (method ``EXAMINE``);
* a **finding per control** of the framework, its target the control's objective
  (``<control>_obj``): ``satisfied`` only when no day of the period failed, at least one day
  operated and the control has rules (unknown is never pass: a manual control, one never
  assessed, one that failed on any day, or a period without promotions is ``not-satisfied``,
  reason ``fail`` for a failed day and ``other`` otherwise).

``import-ap`` points at a back-matter resource naming the policy sets and matrices in force (the
policy change ledger), as the gate's own OSCAL document does. Every string from a run is escaped
Markdown (``md_text``) in markup fields and a single line in properties; UUIDs are version 5 from
the population's sha256, so the same export gives the same document.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from affidavit.export.proofs import shard_of
from affidavit.jsonwrite import indented_json
from affidavit.render.escape import Md, md_text, visible
from affidavit.render.oscal import NS, OSCAL_VERSION, token

_ROOT = uuid.UUID("2b0f6c1e-8d4a-5e7b-9c3f-1a6d4e8b0c52")


def _md(value: object) -> Md:
    """Escaped one-line Markdown, ``-`` when blank."""
    return md_text(value) or Md("-")


def _prop(name: str, value: object | None) -> list[dict[str, str]]:
    """One affidavit property, none when ``value`` is absent."""
    if value is None or value == "":
        return []
    return [{"name": name, "ns": NS, "value": visible(" ".join(str(value).split())) or "-"}]


def _props(*groups: list[dict[str, str]]) -> dict[str, Any]:
    """``{"props": [...]}``, or nothing (OSCAL forbids an empty list)."""
    props = [p for g in groups for p in g]
    return {"props": props} if props else {}


def _matrices(matrices: list[dict[str, Any]]) -> str:
    """``framework sha256`` of each matrix, comma-separated."""
    return ", ".join(f"{m.get('framework')} {m.get('sha256')}" for m in matrices)


def _sampled(s: dict[str, Any], ids: Any, shard_size: int) -> dict[str, Any]:
    """The observation of one sampled run."""
    return {
        "uuid": ids("sample", s["run_id"]),
        "title": Md(f"Sampled run {_md(s['run_id'])}"),
        "description": Md(
            f"Run {_md(s['run_id'])} at {_md(s['time'])}: {_md(s['decision'])} for "
            f"{_md((s['subject'] or {}).get('name'))}; re-perform it from its bundle."
        ),
        **_props(
            _prop("run-id", s["run_id"]),
            _prop("decision", s["decision"]),
            _prop("bundle-digest", s.get("bundle_digest")),
        ),
        "methods": ["TEST"],
        "relevant-evidence": [_proof_evidence(s["position"], shard_size)],
        "collected": s["time"],
    }


def _proof_evidence(position: int, shard_size: int) -> dict[str, str]:
    """Where a run's inclusion proof is (``proofs.shard_of``)."""
    name, line = shard_of(position, shard_size)
    return {"href": f"proofs/{name}", "description": f"Its inclusion proof: line {line + 1} of the file."}


def render_period_oscal(doc: dict[str, Any]) -> str:
    """The period's OSCAL assessment results (JSON text, sorted keys)."""
    population, period, framework = doc["population"], doc["period"], doc["framework"]
    space = uuid.uuid5(_ROOT, json.dumps([population["sha256"], framework["id"], doc["environment"]]))

    def ids(*name: object) -> str:
        """The UUID of the object called ``name`` in this export."""
        return str(uuid.uuid5(space, json.dumps([str(n) for n in name])))

    until = period["until"]
    observations: list[dict[str, Any]] = [
        {
            "uuid": ids("population"),
            "title": "The population: every run of the period",
            "description": Md(
                f"{population['runs']} run(s) of {_md(doc['environment'] or 'every environment')} from "
                f"{_md(period['first_day'])} to {_md(period['last_day'])}; decisions: "
                f"{_md(', '.join(f'{k} {v}' for k, v in population['decisions'].items()) or 'none')}."
            ),
            **_props(
                _prop("population-sha256", population["sha256"]),
                _prop("merkle-root", doc["merkle"]["root"]),
                _prop("runs", population["runs"]),
            ),
            "methods": ["EXAMINE"],
            "relevant-evidence": [
                {"href": population["file"], "description": "One line per run, oldest first."}
            ],
            "collected": until,
        }
    ]
    shard_size = doc["merkle"]["proof_shard_size"]
    observations.extend(_sampled(s, ids, shard_size) for s in doc["sample"]["runs"])
    for n, e in enumerate(doc["deployments"]["exceptions"]):
        observations.append(
            {
                "uuid": ids("deployment-exception", n),
                "title": Md(f"Deployment without a prior GO: {_md(e['source'])} {_md(e['ref'])}"),
                "description": Md(
                    f"Deployed to {_md(e['environment'])} at {_md(e['time'])}: {_md(e['reason'])}."
                ),
                **_props(_prop("digest", e.get("digest")), _prop("commit", e.get("commit"))),
                "methods": ["EXAMINE"],
                "collected": until,
            }
        )
    population_obs = observations[0]["uuid"]
    findings = []
    for c in doc["controls"]:
        days = c["days"]
        if c["rules"] and not days["failed"] and days["operated"] and not days["not_assessed"]:
            state, reason = "satisfied", "pass"
        else:
            state, reason = "not-satisfied", "fail" if days["failed"] else "other"
        findings.append(
            {
                "uuid": ids("finding", c["id"]),
                "title": Md(f"{_md(framework['label'])} {_md(c['id'])} {_md(c['title'])}"),
                "description": Md(
                    f"Over {period['days']} day(s): operated {days['operated']}, failed {days['failed']}, "
                    f"manual only {days['manual']}, not assessed {days['not_assessed']}, no promotion "
                    f"{days['no_promotion']}. Promotions {c['counts']['gated_promotions']}, passed "
                    f"{c['counts']['passed']}, failed {c['counts']['failed']}, waived {c['counts']['waived']}."
                    + ("" if c["rules"] else " No rule tests this control: it needs a manual assessment.")
                ),
                **_props(
                    _prop("control-id", c["id"]),
                    _prop("coverage", c["coverage"]),
                    *(_prop("rule", r) for r in c["rules"]),
                ),
                "target": {
                    "type": "objective-id",
                    "target-id": f"{token(c['id'])}_obj",
                    "status": {"state": state, "reason": reason},
                },
                "related-observations": [{"observation-uuid": population_obs}],
            }
        )
    plan = ids("plan")
    plan_lines = [
        Md(
            f"Policy set {_md(p['policy_set_sha256'])} with matrices {_md(_matrices(p['matrices']))}: "
            f"{p['runs']} run(s) from {_md(p['first_use']['time'])} to {_md(p['last_use']['time'])}."
        )
        for p in doc["policy_changes"]
    ] or [Md("No run in the period.")]
    selection: dict[str, Any] = {"description": Md(f"{_md(framework['label'])} controls seen in the period.")}
    if doc["controls"]:
        selection["include-controls"] = [{"control-id": token(c["id"])} for c in doc["controls"]]
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": Md(f"{_md(framework['label'])}, {_md(period['name'])}"),
        "description": Md(
            f"Did each control operate over {_md(period['name'])}: its status per day over every run "
            "the history holds for the period."
        ),
        "start": period["since"],
        "end": until,
        "reviewed-controls": {"control-selections": [selection]},
        "observations": observations,
    }
    if findings:
        result["findings"] = findings
    document = {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": Md(f"affidavit audit period: {_md(framework['label'])}, {_md(period['name'])}"),
                "last-modified": until,
                "version": population["sha256"],
                "oscal-version": OSCAL_VERSION,
                **_props(_prop("affidavit-version", doc["affidavit"])),
            },
            "import-ap": {
                "href": f"#{plan}",
                "remarks": "affidavit has no separate assessment plan: the policy sets and control "
                "matrices in force over the period are the plan.",
            },
            "results": [result],
            "back-matter": {
                "resources": [
                    {
                        "uuid": plan,
                        "title": "The assessment plan: the policy sets and control matrices in force",
                        "description": Md("\n\n".join(plan_lines)),
                    }
                ]
            },
        }
    }
    return indented_json(document, sort_keys=True, ensure_ascii=False) + "\n"
