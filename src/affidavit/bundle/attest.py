"""The decision as an in-toto Statement v1 with a SLSA Verification Summary Attestation predicate.

The statement a signed bundle carries (``attestation.intoto.jsonl``, see ``bundle.sign``)::

    _type          https://in-toto.io/Statement/v1
    subject        the promoted artefact (name and digest, when the run has a digest), then every
                   file of the bundle by its path in the bundle and sha256 (manifest.json included;
                   not SHA256SUMS, its signature or the envelope itself)
    predicateType  https://slsa.dev/verification_summary/v1
    predicate      built from the typed Run only (``vsa_predicate``)

The predicate's fields (https://slsa.dev/spec/v1.0/verification_summary; ``verifier.version`` as
in v1.1):

* ``verifier``: ``{"id": "urn:affidavit:gate", "version": {"affidavit": ..., <engine>: ...}}``.
* ``timeVerified``: when the run was made (``wall_time``; the evaluation time for a run that
  records none). A replay's evaluated moment is in the annotations, never here.
* ``resourceUri``: the promoted artefact: a ``pkg:oci`` package URL (``pkg:oci/<last path
  part>@<digest>?repository_url=<name>``) when the run names an image and its digest; ``urn:<alg>:<hex>``
  for a bare digest; ``urn:affidavit:run:<run-id>`` when the run promotes nothing named.
* ``policy``: ``{"uri": "urn:affidavit:policy:<policy digest>", "digest": {"sha256": ...},
  "annotations": {...}}``: the digest is the sha256 of the canonical JSON of the annotations,
  which hold the policy set's digest, every control matrix (framework, version, sha256), the
  sha256 of the rule data in force and of the waivers, and the environment. Anything of these
  that changes changes the digest, so a consumer can pin the policy it trusts.
* ``inputAttestations``: one entry per evidence record judged: ``name`` (its source path),
  ``digest`` (``sha256`` of the artefact as read) and annotations (kind, format).
* ``verificationResult``: ``PASSED`` for GO, ``FAILED`` for NO-GO and INCOMPLETE.
* ``verifiedLevels``: ``["FAILED"]`` when the result is FAILED. When it is PASSED:
  ``SLSA_BUILD_LEVEL_<n>`` where ``supply_chain.slsa_level`` passed, ``n`` being the rule data's
  ``supply_chain.min_slsa_level`` (the level the gate checked the build reaches), and nothing
  otherwise: affidavit claims no SLSA level it did not check.
* ``slsaVersion``: ``1.0``.
* ``urn:affidavit:run`` (an extension field, named by a URI as the VSA allows): the run id, the
  decision, the evaluated moment and whether the run was a replay.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from affidavit.model import Decision, Outcome

if TYPE_CHECKING:
    from collections.abc import Iterable

    from affidavit.model import Run

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VSA_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "urn:affidavit:gate"
SLSA_RULE = "supply_chain.slsa_level"
#: The predicate's one extension field (the VSA allows fields named by a URI): the run it records.
RUN_FIELD = "urn:affidavit:run"


def _canonical(value: Any) -> bytes:
    """Compact canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def statement(run: Run, files: Iterable[tuple[str, str]]) -> bytes:
    """The in-toto statement (compact canonical JSON) over ``files`` (name, sha256 hex)."""
    subjects: list[dict[str, Any]] = []
    artefact = artefact_subject(run)
    if artefact is not None:
        subjects.append(artefact)
    subjects.extend({"name": name, "digest": {"sha256": digest}} for name, digest in files)
    return _canonical(
        {
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": VSA_TYPE,
            "predicate": vsa_predicate(run),
        }
    )


def artefact_subject(run: Run) -> dict[str, Any] | None:
    """The promoted artefact as a statement subject (``None`` when the run has no digest)."""
    digest = run.subject.digest
    if not digest or ":" not in digest:
        return None
    algorithm, _, value = digest.partition(":")
    return {"name": run.subject.name or digest, "digest": {algorithm: value}}


def resource_uri(run: Run) -> str:
    """The promoted artefact as a URI (see the module docstring)."""
    name, digest = run.subject.name, run.subject.digest
    if name and digest:
        repository = name.split("@", 1)[0]
        last = repository.rsplit("/", 1)[-1]
        if ":" in last:  # a tag: the digest names the image, the tag says nothing more
            repository = repository.rsplit(":", 1)[0]
            last = last.split(":", 1)[0]
        return f"pkg:oci/{quote(last.lower(), safe='')}@{quote(digest, safe='')}?repository_url={quote(repository, safe='/')}"
    if digest:
        return f"urn:{digest}"
    return f"urn:affidavit:run:{run.run_id}"


def policy_document(run: Run) -> dict[str, Any]:
    """What the decision was judged against: the policy set, matrices, rule data and waivers."""
    return {
        "environment": run.environment,
        "policy_set_sha256": run.policy_digest,
        "matrices": [
            {"framework": m.framework, "version": m.version, "sha256": m.sha256} for m in run.matrices
        ],
        "rule_data_sha256": hashlib.sha256(_canonical(run.params)).hexdigest(),
        "waivers_sha256": hashlib.sha256(_canonical([w.to_json() for w in run.waivers])).hexdigest(),
    }


def vsa_predicate(run: Run) -> dict[str, Any]:
    """The SLSA VSA v1 predicate for ``run`` (see the module docstring for each field)."""
    passed = run.decision is Decision.GO
    policy = policy_document(run)
    annotations: dict[str, Any] = {
        "run_id": run.run_id,
        "decision": run.decision.value,
        "evaluated_at": run.time,
        "replay": run.replay,
    }
    return {
        "verifier": {
            "id": VERIFIER_ID,
            "version": {"affidavit": run.affidavit_version, run.engine.name: run.engine.version or "unknown"},
        },
        "timeVerified": run.wall_time or run.time,
        "resourceUri": resource_uri(run),
        "policy": {
            "uri": f"urn:affidavit:policy:{run.policy_digest}",
            "digest": {"sha256": hashlib.sha256(_canonical(policy)).hexdigest()},
            "annotations": policy,
        },
        "inputAttestations": [
            {
                "name": ref.source,
                "digest": _digest_set(ref.id),
                "annotations": {"kind": ref.kind, "format": ref.format},
            }
            for ref in sorted(run.inputs, key=lambda r: (r.source, r.id))
        ],
        "verificationResult": "PASSED" if passed else "FAILED",
        "verifiedLevels": _levels(run) if passed else ["FAILED"],
        "slsaVersion": "1.0",
        RUN_FIELD: annotations,
    }


def _digest_set(digest: str) -> dict[str, str]:
    """``sha256:<hex>`` as an in-toto DigestSet ``{"sha256": "<hex>"}``."""
    algorithm, _, value = digest.partition(":")
    return {algorithm: value} if value else {"sha256": algorithm}


def _levels(run: Run) -> list[str]:
    """The SLSA build level the gate checked (see the module docstring), or none."""
    rule = run.rule(SLSA_RULE)
    if rule is None or rule.outcome is not Outcome.PASS:
        return []
    chain = run.params.get("supply_chain")
    level = chain.get("min_slsa_level") if isinstance(chain, dict) else None
    if isinstance(level, int) and not isinstance(level, bool) and 0 <= level <= 4:
        return [f"SLSA_BUILD_LEVEL_{level}"]
    return []
