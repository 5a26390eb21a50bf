"""The one timestamp rule: how affidavit reads the times tools write, and how it writes its own.

Written form (``format_utc``)
    RFC 3339 in UTC with a ``Z``, to the second: ``2026-11-20T12:00:00Z``. Every time affidavit
    records (``collected_at``, ``effective_at``, ``published_at``, ``approved_at`` ...) has this one
    spelling, so two of them compare correctly as text as well as as times. Fractions of a second
    are dropped (truncated, never rounded up: a time is never moved later than the tool said), and
    so are offsets: ``08:30:00+01:00`` is written ``07:30:00Z``.

Read forms (``parse_timestamp``), giving an aware UTC ``datetime`` or ``None``
    * RFC 3339 / ISO 8601 extended date-times: ``2024-05-01T12:00:00Z``, with a ``+02:00``,
      ``+0200`` or ``+02`` offset, a lower-case ``t``/``z``, a space instead of the ``T`` (RFC 3339
      allows it; Go and Python print it), seconds left out (``12:00Z``), and a fraction of any
      length after a ``.`` or ``,`` (Go writes nanoseconds; they are cut to microseconds);
    * a date alone (``2024-05-01``): midnight UTC;
    * a date-time without a zone: read as UTC (what the tools that omit it mean), unless the
      caller requires a zone (``zone_required``);
    * Unix seconds (an integer or a decimal number, or a string of digits), only where the caller
      says the format uses them (``epoch=True``): elsewhere a number is not a time.

    Not a time, so ``None``: anything else (``redacted``, ``N/A``, a date with no separators), a
    value out of range for its field (month 13, 25 o'clock), a year before 2 (Go writes its zero
    time, ``0001-01-01T00:00:00Z``, for "not set"), and strings longer than 64 characters. A
    leap second (``23:59:60``) is read as ``23:59:59``.

This module does no I/O and imports nothing of affidavit.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

_MAX_LENGTH = 64

_TIMESTAMP = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_DIGITS = re.compile(r"\d{1,12}(?:\.\d+)?")


def format_utc(moment: datetime) -> str:
    """``moment`` as RFC 3339 UTC to the second (``2026-11-20T12:00:00Z``).

    A naive ``datetime`` has no zone to convert from: it is refused with a ``ValueError``.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no time zone; give it one (datetime.UTC) first")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def parse_timestamp(
    value: object,
    *,
    epoch: bool = False,
    time_required: bool = False,
    zone_required: bool = False,
) -> datetime | None:
    """The moment ``value`` names, as an aware UTC ``datetime``; ``None`` when it names none.

    ``epoch``: the format writes Unix seconds (a number, or a string of digits). ``time_required``:
    a date alone is not enough. ``zone_required``: a date-time without ``Z`` or an offset is not
    enough (a date alone still needs ``time_required`` to be refused).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value) if epoch else None
    if not isinstance(value, str) or len(value) > _MAX_LENGTH:
        return None
    text = value.strip()
    if epoch and _DIGITS.fullmatch(text):
        return _from_epoch(float(text) if "." in text else int(text))
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["year"])
    if year < 2:
        return None
    if parts["hour"] is None:
        if time_required:
            return None
        try:
            return datetime(year, int(parts["month"]), int(parts["day"]), tzinfo=UTC)
        except ValueError:
            return None
    zone = parts["zone"]
    if zone is None and zone_required:
        return None
    second = min(int(parts["second"] or 0), 59)
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    try:
        moment = datetime(
            year,
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            second,
            int(fraction),
            tzinfo=_zone(zone),
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def normalise(value: object, *, epoch: bool = False) -> str | None:
    """``value`` read by ``parse_timestamp`` and written by ``format_utc``; ``None`` if not a time."""
    moment = parse_timestamp(value, epoch=epoch)
    return None if moment is None else format_utc(moment)


def _zone(text: str | None) -> timezone:
    """The offset a zone designator names (``Z``, ``+02:00``, ``-0530``, ``+02``; none: UTC)."""
    if text is None or text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _from_epoch(seconds: float) -> datetime | None:
    """Unix seconds as a UTC ``datetime`` (``None`` when not finite, negative or out of range)."""
    if not math.isfinite(seconds):
        return None
    if seconds < 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
