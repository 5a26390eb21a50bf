"""Waivers under governance: which waivers a run accepts, and what each one hides.

Waivers are applied after the rules have judged the evidence, in Python, under the rule data of
the run's environment (``params["waivers"]``, documented in docs/params.md)::

    waivers:
      require_approver: true             # an approver (never the owner) on every waiver in force
      require_scope: true                # every waiver names a subject, an evidence id or findings
      max_days: 30                       # expiry at most this many days after the evaluation time
      max_active: 5                      # waivers in force at the evaluation time, at most
      allow_insufficient_evidence: false # may a waiver stand in for missing evidence?
      unwaivable: [...]                  # rule ids no waiver may name

``WaiverRules.from_params`` reads that block; a missing or mistyped key is a usage error when the
run has waivers (waivers are never judged without their rule data). ``check_waivers`` refuses a
waivers file that breaks it (``UsageError``, exit 2, naming the file and the waiver, never quoting
it): too many waivers in force; a waiver in force that names an unknown or unwaivable rule, lacks
a required approver or scope, or lasts too long. An expired waiver is not refused: it is ignored,
and the rule's reason says so.

``apply_waivers`` then decides one rule's outcome. A waiver in force covers:

* every blocking result of the rule when it has no ``evidence_id`` and no ``findings``;
* with ``evidence_id``, the results that cite that record;
* with ``findings``, the results whose finding id (``finding_ids``) it lists;
* with ``subject``, nothing at all unless the run promotes that digest.

Failures (``deny``) can be covered; missing evidence (``missing`` results, and a required kind
nobody supplied, which only an unscoped waiver can cover) only where
``allow_insufficient_evidence`` is true. The rule is ``waived`` when everything that blocked it is
covered; otherwise it keeps a blocking outcome, and the waivers that covered part of it are still
reported with what they hid. ``error``, ``warn``, ``pass`` and ``not_applicable`` are never
changed, and when the run judged no evidence at all no waiver applies (an empty evidence folder is
never GO through waivers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.errors import UsageError
from affidavit.model import Outcome
from affidavit.model.time import format_utc
from affidavit.model.waiver import AppliedWaiver

if TYPE_CHECKING:
    from collections.abc import Collection

    from affidavit.model import Violation
    from affidavit.model.waiver import Waiver

#: The outcomes a waiver can turn into ``waived``.
WAIVABLE = (Outcome.FAIL, Outcome.INSUFFICIENT_EVIDENCE)
#: Bounds of the numbers in the rule data.
MAX_DAYS_LIMIT = 3650
MAX_ACTIVE_LIMIT = 1000
_PARAMS_HINT = "the waivers area of the rule data is documented in docs/params.md ('waivers')"
_SCOPE_HINT = (
    "name the release (subject: sha256:...), the evidence record (evidence_id) or the findings "
    "(findings: [...]) the waiver accepts"
)


# ---------------------------------------------------------------------------------------------
# The rule data


@dataclass(frozen=True, slots=True)
class WaiverRules:
    """The waiver rule data of one environment (see the module docstring)."""

    require_approver: bool
    require_scope: bool
    max_days: int
    max_active: int
    allow_insufficient_evidence: bool
    unwaivable: frozenset[str]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> WaiverRules:
        """The ``waivers`` block of the run's rule data; ``UsageError`` naming the key when a value
        is missing or of the wrong type."""
        block = params.get("waivers")
        if not isinstance(block, Mapping):
            raise UsageError(
                "the rule data has no 'waivers' mapping, so no waiver can be judged", hint=_PARAMS_HINT
            )

        def flag(key: str) -> bool:
            value = block.get(key)
            if not isinstance(value, bool):
                raise UsageError(f"rule data waivers.{key} must be true or false", hint=_PARAMS_HINT)
            return value

        def number(key: str, low: int, high: int) -> int:
            value = block.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UsageError(
                    f"rule data waivers.{key} must be a whole number from {low} to {high}", hint=_PARAMS_HINT
                )
            return value

        listed = block.get("unwaivable")
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            raise UsageError("rule data waivers.unwaivable must be a list of rule ids", hint=_PARAMS_HINT)
        return cls(
            require_approver=flag("require_approver"),
            require_scope=flag("require_scope"),
            max_days=number("max_days", 1, MAX_DAYS_LIMIT),
            max_active=number("max_active", 0, MAX_ACTIVE_LIMIT),
            allow_insufficient_evidence=flag("allow_insufficient_evidence"),
            unwaivable=frozenset(listed),
        )


def latest_expiry(rules: WaiverRules, now: dt.datetime) -> dt.datetime:
    """The latest instant a waiver may expire at when judged at ``now``."""
    try:
        return now + dt.timedelta(days=rules.max_days)
    except OverflowError:  # an evaluation time within max_days of year 9999: no tighter bound
        return dt.datetime.max.replace(tzinfo=dt.UTC)


def _too_long(waiver: Waiver, latest: dt.datetime) -> bool:
    """Whether ``waiver`` outlives ``latest``; a date (which lasts its whole day) counts by day."""
    if isinstance(waiver.expires, dt.datetime):
        return waiver.expires > latest
    return waiver.expires > latest.astimezone(dt.UTC).date()


def check_waivers(
    waivers: Sequence[Waiver], rules: WaiverRules, now: dt.datetime, rule_ids: Collection[str]
) -> None:
    """Refuse ``waivers`` (``UsageError``) unless every waiver in force at ``now`` keeps ``rules``.

    Checked in this order, so that the first message is the most telling: the number in force;
    then per waiver, in file order: a known rule, an approver, the lifetime, a waivable rule, a scope.
    """
    active = [w for w in waivers if w.active_at(now)]
    if len(active) > rules.max_active:
        extra = active[rules.max_active]
        allowed = (
            "allows no waiver" if rules.max_active == 0 else f"allows at most {rules.max_active} in force"
        )
        raise UsageError(
            f"{extra.where}: one waiver too many: {len(active)} are in force at the evaluation time and "
            f"the rule data of this environment {allowed} (waivers.max_active)",
            hint="fix the findings instead, or remove waivers that are no longer needed",
        )
    latest = latest_expiry(rules, now)
    for waiver in waivers:
        if waiver.rule not in rule_ids:
            raise UsageError(
                f"{waiver.where}.rule names no rule of the policies in force",
                hint="affidavit explain <rule id> shows a rule; the ids are listed in docs/reference.md",
            )
        if not waiver.active_at(now):
            continue
        if rules.require_approver and waiver.approver is None:
            raise UsageError(
                f"{waiver.where} needs an approver in this environment (waivers.require_approver): "
                "someone other than the owner who accepted the risk",
                hint="add 'approver: <name>'",
            )
        if _too_long(waiver, latest):
            raise UsageError(
                f"{waiver.where} expires more than {rules.max_days} days after the evaluation time "
                f"({format_utc(now)}), the longest a waiver may last in this environment (waivers.max_days)",
                hint=f"set 'expires' no later than {latest.date().isoformat()} and renew the waiver if it is still needed",
            )
        if waiver.rule in rules.unwaivable:
            raise UsageError(
                f"{waiver.where}: rule {waiver.rule} cannot be waived in this environment (waivers.unwaivable)",
                hint="this rule's evidence must be fixed, not accepted",
            )
        if rules.require_scope and not waiver.scoped:
            raise UsageError(
                f"{waiver.where} needs a scope in this environment (waivers.require_scope)", hint=_SCOPE_HINT
            )


# ---------------------------------------------------------------------------------------------
# Finding ids

#: Keys of a result's ``details`` that are, on their own, the id of one finding: a vulnerability id
#: (CVE, GHSA ...), a secret scanner's fingerprint, a Terraform address, a package URL, a provider.
FINDING_ID_KEYS = ("id", "fingerprint", "address", "resource", "purl", "provider")


def finding_ids(violation: Violation) -> tuple[str, ...]:
    """The ids by which a waiver's ``findings`` can name one result of a rule.

    From the result's ``details``: each string under ``FINDING_ID_KEYS``; and a tool's rule id
    with its location, ``<rule_id>@<file>:<line>`` (``py/sql-injection@shop/api/search.py:41``),
    or ``<rule_id>@<file>`` without a line, or the bare rule id when the result has no file.
    A result without details has no finding id: only an unscoped or evidence-scoped waiver
    covers it.
    """
    details = violation.details or {}
    ids: list[str] = [
        value.strip()
        for key in FINDING_ID_KEYS
        if isinstance(value := details.get(key), str) and value.strip()
    ]
    rule_id = details.get("rule_id")
    if isinstance(rule_id, str) and rule_id.strip():
        where = details.get("file")
        line = details.get("line")
        if isinstance(where, str) and where.strip():
            located = f"{rule_id.strip()}@{where.strip()}"
            if isinstance(line, int) and not isinstance(line, bool):
                located += f":{line}"
            ids.append(located)
        else:
            ids.append(rule_id.strip())
    return tuple(dict.fromkeys(ids))


def _covers(waiver: Waiver, violation: Violation) -> bool:
    """Whether ``waiver``'s evidence and finding scopes take in ``violation``."""
    if waiver.evidence_id is not None and waiver.evidence_id not in violation.evidence_ids:
        return False
    return not waiver.findings or any(i in waiver.findings for i in finding_ids(violation))


# ---------------------------------------------------------------------------------------------
# Applying waivers to one rule


@dataclass(frozen=True, slots=True)
class WaiverDecision:
    """A rule's outcome after waivers, what each used waiver hid, and notes on waivers not used."""

    outcome: Outcome
    applied: tuple[AppliedWaiver, ...]
    notes: tuple[str, ...]
    #: The blocking results no waiver covered (for the reason's count).
    remaining: int = 0

    @property
    def waiver(self) -> Waiver | None:
        """The waiver that waived the rule (the first, when several shared it); ``None`` unless the
        outcome is ``waived``."""
        if self.outcome is not Outcome.WAIVED or not self.applied:
            return None
        return self.applied[0].waiver

    @property
    def reason(self) -> str | None:
        """What the result's reason says about the waivers used (``None`` when none was)."""
        if not self.applied:
            return None
        parts: list[str] = []
        total = sum(len(a.findings) for a in self.applied) + self.remaining
        for applied in self.applied:
            w = applied.waiver
            approved = f" (approved by {w.approver})" if w.approver else ""
            if self.outcome is Outcome.WAIVED:
                what = "waived"
            else:
                what = f"{len(applied.findings)} of {total} finding(s) waived"
            parts.append(f"{what} by {w.owner} until {w.expires_text}{approved}: {w.reason}")
        if self.outcome is not Outcome.WAIVED:
            parts.append(
                f"{self.remaining} still block(s)" if self.remaining else "missing evidence still blocks"
            )
        return "; ".join(parts)


def _scope_text(waiver: Waiver) -> str:
    parts = []
    if waiver.evidence_id is not None:
        parts.append(f"evidence {waiver.evidence_id}")
    if waiver.findings:
        parts.append(f"{len(waiver.findings)} named finding(s)")
    return " and ".join(parts)


def apply_waivers(
    rule_id: str,
    outcome: Outcome,
    waivers: Sequence[Waiver],
    now: dt.datetime,
    rules: WaiverRules,
    *,
    failures: Sequence[Violation] = (),
    missing: Sequence[Violation] = (),
    absent: Sequence[str] = (),
    subject: str | None = None,
    judged_evidence: bool = True,
) -> WaiverDecision:
    """The outcome of rule ``rule_id`` after ``waivers`` at ``now`` (see the module docstring).

    ``failures`` are the rule's blocking ``deny`` results (none during a grace period), ``missing``
    its ``missing`` results, ``absent`` the kinds it requires that no record supplied; ``subject``
    is the digest the run promotes; ``judged_evidence`` is false when the run had no evidence.
    """
    notes: list[str] = []
    usable: list[Waiver] = []
    for waiver in waivers:
        if waiver.rule != rule_id:
            continue
        if not waiver.active_at(now):
            notes.append(f"waiver ignored: it expired at {waiver.ended_at()} (owner {waiver.owner})")
            continue
        if waiver.subject is not None and waiver.subject != subject:
            run = "this run's" if subject else "this run, which names no subject digest"
            notes.append(f"waiver not used: it is for subject {waiver.subject}, not {run}")
            continue
        usable.append(waiver)
    if outcome not in WAIVABLE or not usable:
        return WaiverDecision(outcome, (), tuple(notes))
    if not judged_evidence:
        notes.append(
            "waiver not used: the run judged no evidence at all, and waivers never stand in for all of it"
        )
        return WaiverDecision(outcome, (), tuple(notes))

    allowed = rules.allow_insufficient_evidence
    if (missing or absent) and not allowed:
        notes.append(
            "waiver not used for missing evidence: missing evidence cannot be waived in this environment "
            "(waivers.allow_insufficient_evidence)"
        )

    def first_cover(violation: Violation) -> int | None:
        return next((n for n, w in enumerate(usable) if _covers(w, violation)), None)

    # Each blocking result is hidden by the first waiver (in file order) whose scope takes it in.
    hidden: dict[int, list[Violation]] = {}
    left: dict[str, int] = {"failures": 0, "missing": 0}
    for group, results, coverable in (("failures", failures, True), ("missing", missing, allowed)):
        for violation in results:
            n = first_cover(violation) if coverable else None
            if n is None:
                left[group] += 1
            else:
                hidden.setdefault(n, []).append(violation)
    # A kind nobody supplied has no result to scope: only a waiver without evidence or finding
    # scope stands in for it.
    absence_by: int | None = None
    if absent and allowed:
        absence_by = next((n for n, w in enumerate(usable) if w.evidence_id is None and not w.findings), None)

    applied = tuple(
        AppliedWaiver(waiver, tuple(hidden.get(n, ())), absent_evidence=absence_by == n)
        for n, waiver in enumerate(usable)
        if n in hidden or absence_by == n
    )
    only_absence = bool(absent) and not failures and not missing
    for n, waiver in enumerate(usable):
        if n not in hidden and absence_by != n and (waiver.evidence_id is not None or waiver.findings):
            target = "the missing evidence" if only_absence else "any of the rule's blocking results"
            notes.append(f"waiver for {_scope_text(waiver)} does not cover {target}")

    if absent and absence_by is None:
        result = Outcome.INSUFFICIENT_EVIDENCE
    elif left["failures"]:
        result = Outcome.FAIL
    elif left["missing"]:
        result = Outcome.INSUFFICIENT_EVIDENCE
    else:
        result = Outcome.WAIVED
    return WaiverDecision(result, applied, tuple(notes), remaining=left["failures"] + left["missing"])
