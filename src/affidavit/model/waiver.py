"""A waiver: a named person's time-limited acceptance, approved by another, that a rule's findings
may block no release.

The waivers file (``--waivers``) is a YAML list, or a mapping ``{waivers: [...]}``, of::

    - rule: vulnerabilities.fixable_within_window   # the rule id
      reason: "the fix lands in 1.4.3; no exposed endpoint uses JWT until then"
      owner: sam.release-manager                     # who answers for it
      approver: dana.security                        # who accepted the risk: not the owner
      expires: 2026-12-05                            # a date lasts until the end of that day (UTC),
                                                     # or an RFC 3339 time (no zone means UTC)
      subject: sha256:9fb8...                        # scope: only runs promoting this digest
      evidence_id: sha256:e97e...                    # scope: only results about this record
      findings: [CVE-2026-28877]                     # scope: only these findings of the rule
      ticket: https://tracker.example/RISK-12        # optional: where the acceptance is recorded

``rule``, ``reason``, ``owner`` and ``expires`` are always required; the approver (never the owner:
names are compared trimmed and case-insensitively) and the scope are optional here, and the rule
data of the run's environment decides whether they are required, how long a waiver may last, how
many may be in force and which rules cannot be waived (``affidavit.policy.waivers``,
``waivers:`` in docs/params.md).

``parse_waivers`` turns the already-loaded value into ``Waiver`` objects or refuses it with a
``UsageError`` that names the source and the waiver's index (``waivers[2].owner ...``) and never
quotes the file's values. Reading the file is the caller's business: this module does no I/O.
Whether a waiver applies to a result is ``affidavit.policy.waivers``; what an applied waiver hid
is an ``AppliedWaiver``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.errors import UsageError
from affidavit.model.digest import is_digest, normalise_digest
from affidavit.model.time import format_utc, parse_timestamp

if TYPE_CHECKING:
    from affidavit.model.results import Violation

#: The keys of a waiver, in the order ``to_json`` writes them.
WAIVER_KEYS = (
    "rule",
    "reason",
    "owner",
    "expires",
    "evidence_id",
    "approver",
    "ticket",
    "subject",
    "findings",
)
_REQUIRED = ("rule", "reason", "owner", "expires")
_OPTIONAL_TEXT = ("approver", "ticket")
#: At most this many finding ids per waiver, each at most this long.
MAX_FINDINGS = 100
_MAX_FINDING_ID = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RULE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_EVIDENCE_ID = re.compile(r"sha256:[0-9a-f]{64}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]{1,40}\Z")
_MAX_RULE_ID = 200
_HINT = (
    "each waiver is {rule, reason, owner, expires} (and optionally approver, subject, evidence_id, "
    "findings, ticket); see 'Waivers' in the README"
)


def _finding_id(value: Any) -> bool:
    """Whether ``value`` is a finding id as the parser keeps it: stripped, short, printable."""
    return (
        isinstance(value, str)
        and bool(value)
        and value == value.strip()
        and len(value) <= _MAX_FINDING_ID
        and not _CONTROL.search(value)
    )


def same_person(one: str, other: str) -> bool:
    """Whether two names are the same person's: compared trimmed, blanks collapsed, case-folded."""
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


@dataclass(frozen=True, slots=True)
class Waiver:
    """One waiver, checked: every text is non-empty, ``expires`` is a date or an aware UTC time.

    ``expires`` as a ``date`` means "until the end of that day, UTC" (no instant is computed from
    it until one is needed, so ``9999-12-31`` is valid); as a ``datetime`` it is the instant, in UTC.
    """

    rule: str
    reason: str
    owner: str
    expires: dt.date
    evidence_id: str | None = None
    approver: str | None = None
    ticket: str | None = None
    subject: str | None = None
    findings: tuple[str, ...] = ()
    #: Where the waiver was written (``waivers.yaml: waivers[2]``), for messages; not part of it.
    origin: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Refuse a waiver built in code that the parser would refuse."""
        if not _RULE_ID.match(self.rule):
            raise ValueError("Waiver.rule must be a rule id")
        for name in ("reason", "owner"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Waiver.{name} must be a non-empty string")
        # Read as Any: a waiver built in code may carry any value, whatever the annotations say.
        approver: Any = self.approver
        if approver is not None and (
            not isinstance(approver, str) or not approver.strip() or same_person(self.owner, approver)
        ):
            raise ValueError("Waiver.approver must be a non-empty name other than the owner's")
        if self.subject is not None and not is_digest(self.subject):
            raise ValueError("Waiver.subject must be a digest in its written form (sha256:<64 hex>)")
        findings: Any = self.findings
        if not isinstance(findings, tuple) or not all(_finding_id(f) for f in findings):
            raise ValueError("Waiver.findings must be a tuple of finding ids")
        if isinstance(self.expires, dt.datetime):
            if self.expires.utcoffset() != dt.timedelta(0):
                raise ValueError("Waiver.expires must be a date or a UTC datetime")
            # The one timestamp rule keeps times to the second: cut (never round up) the expiry.
            object.__setattr__(self, "expires", self.expires.replace(microsecond=0))
        elif not isinstance(self.expires, dt.date):
            raise ValueError("Waiver.expires must be a date or a UTC datetime")
        if self.evidence_id is not None and not _EVIDENCE_ID.match(self.evidence_id):
            raise ValueError("Waiver.evidence_id must be sha256:<64 hex>")

    @property
    def where(self) -> str:
        """How messages name the waiver: its place in the file, else its rule."""
        return self.origin or f"the waiver for {self.rule}"

    @property
    def scoped(self) -> bool:
        """True when the waiver names a subject, an evidence record or findings."""
        return self.subject is not None or self.evidence_id is not None or bool(self.findings)

    @property
    def expires_text(self) -> str:
        """``expires`` as written in reports: ``2026-12-05`` or ``2026-12-05T10:00:00Z``."""
        if isinstance(self.expires, dt.datetime):
            return format_utc(self.expires)
        return self.expires.isoformat()

    def active_at(self, now: dt.datetime) -> bool:
        """True while the waiver has not expired at ``now`` (an aware time)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the time a waiver is checked against must be timezone-aware")
        if isinstance(self.expires, dt.datetime):
            return now < self.expires
        return now.astimezone(dt.UTC).date() <= self.expires

    def ended_at(self) -> str:
        """The instant the waiver stopped applying, RFC 3339 (for an expired waiver's note).

        A date ends at midnight UTC after it; only ``9999-12-31`` has no such instant, and a
        waiver with that date never expires.
        """
        if isinstance(self.expires, dt.datetime):
            return format_utc(self.expires)
        if self.expires == dt.date.max:
            return "never"
        return format_utc(dt.datetime.combine(self.expires + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))

    def to_json(self) -> dict[str, Any]:
        """The waiver as JSON, keys in ``WAIVER_KEYS`` order, optional keys only when set."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires_text,
        }
        for key in ("evidence_id", "approver", "ticket", "subject"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.findings:
            out["findings"] = list(self.findings)
        return out

    @classmethod
    def from_json(cls, value: Any, source: str = "waiver") -> Waiver:
        """A waiver from its JSON form (``to_json``'s output); ``UsageError`` when it is not one."""
        return parse_waiver(value, source, None)


def _type_name(value: Any) -> str:
    """A JSON/YAML name for the type of ``value`` (never the value itself)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dt.datetime | dt.date):
        return "a date"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    return "a value of another type"


class _Where:
    """Builds messages that name the source and the waiver (``waivers.yaml: waivers[2].owner``)."""

    def __init__(self, source: str, index: int | None) -> None:
        self.source = source
        self.prefix = "waiver" if index is None else f"waivers[{index}]"

    def error(self, key: str | None, problem: str) -> UsageError:
        where = self.prefix if key is None else f"{self.prefix}.{key}"
        return UsageError(f"{self.source}: {where} {problem}", hint=_HINT)


def _text(where: _Where, item: Mapping[Any, Any], key: str) -> str:
    """A required (or present optional) non-empty string field, stripped."""
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise where.error(key, f"must be a non-empty string, not {_type_name(value)}")
    return value.strip()


def _expires(where: _Where, value: Any) -> dt.date:
    """``expires`` as a date, or an aware UTC datetime (``affidavit.model.time``'s reading of a time)."""
    if isinstance(value, dt.datetime):
        moment = value if value.utcoffset() is not None else value.replace(tzinfo=dt.UTC)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise where.error("expires", "is a time that cannot be expressed in UTC (out of range)") from None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise where.error(
            "expires", f"must be a date (YYYY-MM-DD) or an RFC 3339 time, not {_type_name(value)}"
        )
    text = value.strip()
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise where.error("expires", "is not a calendar date") from None
    parsed = parse_timestamp(text, time_required=True)
    if parsed is None:
        raise where.error(
            "expires", "is not a date (YYYY-MM-DD) or an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ) in range"
        )
    return parsed


def parse_waiver(item: Any, source: str, index: int | None) -> Waiver:
    """One waiver from a loaded mapping; ``UsageError`` naming ``source`` and ``index`` otherwise."""
    where = _Where(source, index)
    if not isinstance(item, Mapping):
        raise where.error(None, f"must be a mapping of {', '.join(_REQUIRED)}, not {_type_name(item)}")
    unknown = [key for key in item if key not in WAIVER_KEYS]
    if unknown:
        # A key is named only when it is a misspelling of a known one: any other key could be
        # content (a value pasted one line too high) and is not echoed.
        import difflib  # only for this message: importing it costs every run a few milliseconds

        first = unknown[0]
        close = (
            difflib.get_close_matches(first, WAIVER_KEYS, n=1, cutoff=0.75) if isinstance(first, str) else []
        )
        named = f" '{first}' (did you mean {close[0]}?)" if close and _PLAIN_KEY.match(first) else ""
        raise where.error(None, f"has an unknown key{named}; a waiver's keys are {', '.join(WAIVER_KEYS)}")
    missing = [key for key in _REQUIRED if key not in item]
    if missing:
        raise where.error(None, f"lacks {', '.join(missing)}")
    rule = _text(where, item, "rule")
    if len(rule) > _MAX_RULE_ID or not _RULE_ID.match(rule):
        raise where.error(
            "rule", "is not a rule id (dotted names such as vulnerabilities.fixable_within_window)"
        )
    reason = _text(where, item, "reason")
    owner = _text(where, item, "owner")
    expires = _expires(where, item.get("expires"))
    evidence_id: str | None = None
    if item.get("evidence_id") is not None:
        evidence_id = _text(where, item, "evidence_id").lower()
        if not _EVIDENCE_ID.match(evidence_id):
            raise where.error("evidence_id", "is not an evidence id (sha256:<64 hex digits>)")
    extra = {key: _text(where, item, key) if item.get(key) is not None else None for key in _OPTIONAL_TEXT}
    approver = extra["approver"]
    if approver is not None and same_person(owner, approver):
        raise where.error(
            "approver", "must be someone other than the owner: nobody approves a risk they accept themselves"
        )
    subject: str | None = None
    if item.get("subject") is not None:
        try:
            subject = normalise_digest(_text(where, item, "subject"), reference=True)
        except ValueError as exc:
            raise where.error("subject", f"is not the digest of a promoted artefact ({exc})") from None
    return Waiver(
        rule=rule,
        reason=reason,
        owner=owner,
        expires=expires,
        evidence_id=evidence_id,
        approver=approver,
        ticket=extra["ticket"],
        subject=subject,
        findings=_findings(where, item.get("findings")) if "findings" in item else (),
        origin=where.prefix if index is None else f"{source}: {where.prefix}",
    )


def _findings(where: _Where, value: Any) -> tuple[str, ...]:
    """``findings``: a non-empty list of finding ids (strings without control characters), in order,
    each once."""
    if not isinstance(value, list) or not value:
        raise where.error("findings", f"must be a non-empty list of finding ids, not {_type_name(value)}")
    if len(value) > MAX_FINDINGS:
        raise where.error("findings", f"lists more than {MAX_FINDINGS} finding ids")
    out: list[str] = []
    for n, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            raise where.error(f"findings[{n}]", f"must be a non-empty string, not {_type_name(entry)}")
        text = entry.strip()
        if not _finding_id(text):
            raise where.error(
                f"findings[{n}]",
                f"is not a finding id (at most {_MAX_FINDING_ID} characters, no control characters)",
            )
        if text not in out:
            out.append(text)
    return tuple(out)


def parse_waivers(loaded: Any, source: str) -> tuple[Waiver, ...]:
    """Every waiver of a loaded waivers document (see the module docstring), in file order.

    ``loaded`` is what the YAML (or JSON) loader returned; ``source`` names it in messages. An empty
    document, or ``waivers:`` with nothing under it, holds no waiver.
    """
    items = loaded
    if isinstance(loaded, Mapping):
        extra = [key for key in loaded if key != "waivers"]
        if extra:
            raise UsageError(
                f"{source}: a waivers file is a list of waivers, or a mapping with the one key 'waivers'",
                hint=_HINT,
            )
        items = loaded.get("waivers")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise UsageError(f"{source}: waivers must be a list, not {_type_name(items)}", hint=_HINT)
    return tuple(parse_waiver(item, source, index) for index, item in enumerate(items))


@dataclass(frozen=True, slots=True)
class AppliedWaiver:
    """What one waiver hid in one rule's result.

    ``findings`` are the blocking results (the rule's failures, or its missing-evidence results)
    the waiver turned into waived; they stay in the rule's result as well, so the facts remain
    visible. ``absent_evidence`` is true when the waiver also stood in for a kind of evidence the
    rule requires and nobody supplied (only where the rule data allows it).
    """

    waiver: Waiver
    findings: tuple[Violation, ...] = ()
    absent_evidence: bool = False

    def to_json(self) -> dict[str, Any]:
        """``{waiver, findings, absent_evidence}`` (results.json shape)."""
        return {
            "waiver": self.waiver.to_json(),
            "findings": [v.to_json() for v in self.findings],
            "absent_evidence": self.absent_evidence,
        }
