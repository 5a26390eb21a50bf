"""Change records: who asked for a change to an environment, and who approved or rejected it.

Two formats yield the ``change-record`` kind:

``affidavit-change-record``
    affidavit's own small JSON format ``affidavit.change-record/v1``, documented with an example
    in ``docs/change-record.md``. Because the format is ours it is read strictly: unknown keys,
    missing required keys, a decision other than ``approved``/``rejected`` or a time that is not
    RFC 3339 are errors, all reported together in one ``InputError``.
``github-deployment-approvals``
    The body of GitHub's ``GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals``: an array
    of ``{state, comment, environments[], user{login}}`` (``state`` is ``approved``,
    ``rejected`` or ``pending``). It does not say which run it is about, who started the run or
    when each review was given; those fields are ``null`` and the record says so in ``problems``.

The record's ``data``: ``id``, ``requested_at`` (the change's ``created_at`` in UTC, ``null`` when
not stated), ``environment``, ``approvals[] {approver, approved_at, decision, bot}`` (``bot``: the
approver is a bot account, by GitHub's user ``type`` or the ``[bot]`` login suffix)
(sorted by time, then approver; ``approved_at`` and the record's ``effective_at``, the change's
``created_at``, are written in UTC to the second by the one timestamp rule of ``model.time``, so
that an approval given at ``08:30+01:00`` sorts before one given at ``07:45Z``), ``approved`` (at least one approval and no rejection),
``self_approved`` (an approver is the requester, compared case-insensitively; ``null`` when the
requester is unknown, which a separation-of-duties policy must not read as "no"), ``ticket`` and
``requested_by``.

A change record is written by people and pipelines, and a ticket URL can carry a password
(``https://user:password@host/...``) or a comment a token: the record is masked like every other
(``kinds.secrets.mask_parsed``), and the raw copy a bundle stores is masked the same way
(``kinds.secrets.mask_document``, which ``bundle.redact`` applies to every format without a hook
of its own: these formats have no secret field of their own to redact).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from affidavit.collectors.interface import (
    DEFINITE,
    NO,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    json_type,
    require_mapping,
    shape_of,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject
from affidavit.model.digest import is_digest, normalise_digest
from affidavit.model.time import format_utc, parse_timestamp

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

SCHEMA = "affidavit.change-record/v1"
_SCHEMA_PREFIX = "affidavit.change-record/"
_TOP_REQUIRED = ("schema", "id", "environment", "requested_by", "approvals")
_TOP_OPTIONAL = ("title", "subject", "ticket", "created_at")
_APPROVAL_KEYS = ("approver", "approved_at", "decision")
_DECISIONS = ("approved", "rejected")
_ENV_URL = re.compile(r"/repos/([^/]+)/([^/]+)/environments/")
_DOC_HINT = "see docs/change-record.md for the format and an example"


def _digest_problem(value: Any) -> str | None:
    """Why ``value`` is not a digest in the one written form, in words (``None`` when it is one)."""
    if not isinstance(value, str):
        return f"expected a string, found {json_type(value)}"
    if is_digest(value):
        return None
    try:
        normalise_digest(value)
    except ValueError as exc:
        return str(exc)
    return "not in the written form"  # readable as a digest, but in upper case, bare or padded


def _rfc3339(value: Any) -> bool:
    """True when ``value`` is an RFC 3339 date-time with a time zone."""
    return parse_timestamp(value, time_required=True, zone_required=True) is not None


def _utc(value: Any) -> str | None:
    """A valid (``_rfc3339``) date-time in the one written form of ``model.time``; ``None`` stays."""
    moment = parse_timestamp(value, time_required=True, zone_required=True)
    return None if moment is None else format_utc(moment)


def _summarise(approvals: list[dict[str, Any]], requested_by: str | None) -> tuple[bool, bool | None]:
    """``(approved, self_approved)`` of a list of normalised approvals."""
    decisions = [a["decision"] for a in approvals]
    approved = "approved" in decisions and "rejected" not in decisions
    if requested_by is None:
        return approved, None
    requester = requested_by.casefold()
    self_approved = any(
        a["decision"] == "approved"
        and isinstance(a["approver"], str)
        and a["approver"].casefold() == requester
        for a in approvals
    )
    return approved, self_approved


def _is_bot(login: Any, account_type: Any) -> bool:
    """True for a bot account: GitHub's user ``type`` ``Bot`` (REST user object), or a login that
    ends in ``[bot]``, the suffix GitHub gives app accounts (``github-actions[bot]``)."""
    return account_type == "Bot" or (isinstance(login, str) and login.strip().casefold().endswith("[bot]"))


def _sorted(approvals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Approvals in a stable order: by time (unknown last), then approver, then decision."""
    return sorted(
        approvals,
        key=lambda a: (a["approved_at"] is None, a["approved_at"] or "", a["approver"] or "", a["decision"]),
    )


# ---------------------------------------------------------------------------------------------
# affidavit.change-record/v1


def _detect_own(doc: Artefact) -> int:
    """Our own format, by its ``schema`` marker."""
    value = doc.try_json()
    if (
        isinstance(value, dict)
        and isinstance(value.get("schema"), str)
        and value["schema"].startswith(_SCHEMA_PREFIX)
    ):
        return DEFINITE
    return NO


def _check_str(errors: list[str], record: dict[str, Any], key: str, path: str, *, required: bool) -> None:
    """Note an error when ``record[key]`` is not a non-empty string (or, if optional, null)."""
    value = record.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        found = "missing" if key not in record else f"{json_type(value)}"
        errors.append(f"{path}.{key}: expected a non-empty string, found {found}")


def _validate(record: dict[str, Any]) -> list[str]:
    """Every way ``record`` departs from ``affidavit.change-record/v1`` (empty when valid)."""
    errors: list[str] = []
    unknown = sorted(set(record) - set(_TOP_REQUIRED) - set(_TOP_OPTIONAL))
    if unknown:
        errors.append(f"$: unknown key(s) {', '.join(unknown)}")
    for key in ("id", "environment", "requested_by"):
        _check_str(errors, record, key, "$", required=True)
    for key in ("title", "ticket"):
        _check_str(errors, record, key, "$", required=False)
    created = record.get("created_at")
    if created is not None and not _rfc3339(created):
        errors.append(f"$.created_at: {shape_of(created)} is not an RFC 3339 date-time with a time zone")
    subject = record.get("subject")
    if subject is not None:
        if not isinstance(subject, dict):
            errors.append(f"$.subject: expected an object, found {json_type(subject)}")
        else:
            extra = sorted(set(subject) - {"name", "digest"})
            if extra:
                errors.append(f"$.subject: unknown key(s) {', '.join(extra)}")
            _check_str(errors, subject, "name", "$.subject", required=False)
            digest = subject.get("digest")
            problem = None if digest is None else _digest_problem(digest)
            if problem is not None:
                errors.append(
                    f"$.subject.digest: {problem}; write it as <algorithm>:<hex> in lower case "
                    "(sha256 and 64 hex digits, sha384 and 96, sha512 and 128)"
                )
    approvals = record.get("approvals")
    if not isinstance(approvals, list):
        found = "missing" if "approvals" not in record else json_type(approvals)
        errors.append(f"$.approvals: expected an array (possibly empty), found {found}")
        return errors
    for i, approval in enumerate(approvals):
        path = f"$.approvals[{i}]"
        if not isinstance(approval, dict):
            errors.append(f"{path}: expected an object, found {json_type(approval)}")
            continue
        extra = sorted(set(approval) - set(_APPROVAL_KEYS))
        if extra:
            errors.append(f"{path}: unknown key(s) {', '.join(extra)}")
        _check_str(errors, approval, "approver", path, required=True)
        if not _rfc3339(approval.get("approved_at")):
            errors.append(
                f"{path}.approved_at: {_found(approval, 'approved_at')} is not an RFC 3339 date-time "
                "with a time zone"
            )
        if approval.get("decision") not in _DECISIONS:
            errors.append(f"{path}.decision: {_found(approval, 'decision')} is not 'approved' or 'rejected'")
    return errors


def _found(mapping: dict[str, Any], key: str) -> str:
    """What ``mapping[key]`` is, described, never quoted: ``missing`` or its shape."""
    return "missing" if key not in mapping else shape_of(mapping[key])


def _parse_own(doc: Artefact, options: CollectOptions) -> Parsed:
    """Read (strictly) an ``affidavit.change-record/v1`` document."""
    record = require_mapping(doc, doc.json(), "$")
    if record.get("schema") != SCHEMA:
        raise InputError(
            doc.source,
            f"schema {_found(record, 'schema')} is not supported (this version reads {SCHEMA})",
            path="$.schema",
            hint=_DOC_HINT,
        )
    errors = _validate(record)
    if errors:
        raise InputError(
            doc.source,
            f"is not a valid {SCHEMA} record ({len(errors)} error{'s' if len(errors) > 1 else ''}): "
            + "; ".join(errors),
            hint=_DOC_HINT,
        )
    approvals = _sorted(
        [
            {
                "approver": a["approver"],
                "approved_at": _utc(a["approved_at"]),
                "decision": a["decision"],
                "bot": _is_bot(a["approver"], None),
            }
            for a in record["approvals"]
        ]
    )
    problems = Problems(doc.source)
    if not approvals:
        problems.add("$.approvals", "is empty: the change has not been approved")
    approved, self_approved = _summarise(approvals, record["requested_by"])
    subject = record.get("subject") or {}
    data = {
        "id": record["id"],
        "environment": record["environment"],
        "approvals": approvals,
        "approved": approved,
        "self_approved": self_approved,
        "ticket": record.get("ticket"),
        "requested_by": record["requested_by"],
        "requested_at": _utc(record.get("created_at")),
    }
    return Parsed(
        data=data,
        format_version=SCHEMA.rsplit("/", 1)[1],
        subject=Subject(name=subject.get("name"), digest=subject.get("digest")),
        effective_at=_utc(record.get("created_at")),
        problems=problems.items,
    )


# ---------------------------------------------------------------------------------------------
# GitHub deployment reviews of a workflow run


def _is_review(value: Any) -> bool:
    """True for one entry of GitHub's environment-approvals array."""
    return (
        isinstance(value, dict)
        and value.get("state") in ("approved", "rejected", "pending")
        and isinstance(value.get("user"), dict)
        and isinstance(value.get("environments"), list)
    )


def _detect_github(doc: Artefact) -> int:
    """GitHub's ``actions/runs/{run_id}/approvals`` response body."""
    value = doc.try_json()
    if isinstance(value, list) and value and all(_is_review(v) for v in value):
        return DEFINITE
    return NO


def _parse_github(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise GitHub's deployment reviews into change-record data."""
    problems = Problems(doc.source)
    reviews = doc.json()
    approvals: list[dict[str, Any]] = []
    environments: set[str] = set()
    repositories: set[str] = set()
    pending = 0
    for i, review in enumerate(reviews):
        if not _is_review(review):
            raise InputError(
                doc.source, "expected a review object with state, user and environments", path=f"$[{i}]"
            )
        for env in review["environments"]:
            if isinstance(env, dict) and isinstance(env.get("name"), str):
                environments.add(env["name"])
                match = _ENV_URL.search(str(env.get("url", "")))
                if match is not None:
                    repositories.add(f"{match.group(1)}/{match.group(2)}")
        if review["state"] == "pending":
            pending += 1
            continue
        login = review["user"].get("login")
        approvals.append(
            {
                "approver": login if isinstance(login, str) else None,
                "approved_at": None,
                "decision": review["state"],
                "bot": _is_bot(login, review["user"].get("type")),
            }
        )
    if pending:
        problems.add(
            "$", f"{pending} review(s) are 'pending' (a comment, not a decision) and were not counted"
        )
    environment = next(iter(environments)) if len(environments) == 1 else None
    if len(environments) > 1:
        problems.add(
            "$",
            f"the reviews cover several environments ({', '.join(sorted(environments))}); environment left null",
        )
    problems.add(
        "$",
        "GitHub's approvals response names neither the run, nor who started it, nor when each review was given: "
        "id, requested_by, approved_at and self_approved are null",
    )
    approvals = _sorted(approvals)
    approved, self_approved = _summarise(approvals, None)
    data = {
        "id": None,
        "environment": environment,
        "approvals": approvals,
        "approved": approved,
        "self_approved": self_approved,
        "ticket": None,
        "requested_by": None,
        "requested_at": None,
    }
    repository = next(iter(repositories)) if len(repositories) == 1 else None
    return Parsed(data=data, subject=Subject(name=repository), problems=problems.items)


FORMATS: tuple[Format, ...] = (
    Format(
        name="affidavit-change-record",
        kind=EvidenceKind.CHANGE_RECORD,
        detect=_detect_own,
        parse=_parse_own,
        description="affidavit change record (schema affidavit.change-record/v1, docs/change-record.md)",
    ),
    Format(
        name="github-deployment-approvals",
        kind=EvidenceKind.CHANGE_RECORD,
        detect=_detect_github,
        parse=_parse_github,
        description="GitHub Actions deployment reviews (GET .../actions/runs/{run_id}/approvals)",
    ),
)
