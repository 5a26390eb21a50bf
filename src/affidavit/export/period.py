"""The period an export covers: a calendar quarter (``2026-Q3``) or a range of whole UTC days
(``2026-07-01..2026-09-30``, both ends included).

A run belongs to the period when its evaluation time (``run.time``, RFC 3339 UTC, the time the
store indexes) is at or after the first day's 00:00:00Z and before the day after the last day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from affidavit.errors import UsageError
from affidavit.model.time import format_utc

_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
#: The longest period one export covers (about a year and a half): bounds the per-day tables.
MAX_DAYS = 550


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days ``first`` .. ``last`` (inclusive) and the name the user gave them."""

    name: str
    first: date
    last: date

    @property
    def since(self) -> str:
        """The first moment of the period (RFC 3339 UTC)."""
        return format_utc(datetime.combine(self.first, datetime.min.time(), tzinfo=UTC))

    @property
    def until(self) -> str:
        """The first moment after the period (exclusive bound)."""
        return format_utc(datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=UTC))

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    def day_index(self, time: str) -> int:
        """The 0-based day of the period of an RFC 3339 UTC time inside it."""
        return (date.fromisoformat(time[:10]) - self.first).days

    def day(self, index: int) -> date:
        """The date of the period's day ``index``."""
        return self.first + timedelta(days=index)

    def to_json(self) -> dict[str, object]:
        """``{name, first_day, last_day, since, until, days}``."""
        return {
            "name": self.name,
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
            "since": self.since,
            "until": self.until,
            "days": self.days,
        }


def parse_period(text: str) -> Period:
    """``2026-Q3`` or ``YYYY-MM-DD..YYYY-MM-DD``; ``UsageError`` for anything else."""
    hint = "give a quarter (2026-Q3) or a range of days (2026-07-01..2026-09-30)"
    quarter = _QUARTER.fullmatch(text.strip())
    if quarter:
        year, q = int(quarter.group(1)), int(quarter.group(2))
        first = date(year, 3 * q - 2, 1)
        after = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return Period(f"{year}-Q{q}", first, after - timedelta(days=1))
    span = _RANGE.fullmatch(text.strip())
    if not span:
        raise UsageError("--period is neither a quarter nor a range of days", hint=hint)
    try:
        first, last = date.fromisoformat(span.group(1)), date.fromisoformat(span.group(2))
    except ValueError:
        raise UsageError("--period names a day that does not exist", hint=hint) from None
    if last < first:
        raise UsageError("--period ends before it starts", hint=hint)
    if (last - first).days + 1 > MAX_DAYS:
        raise UsageError(f"--period is longer than {MAX_DAYS} days", hint="export one quarter at a time")
    return Period(f"{first.isoformat()}..{last.isoformat()}", first, last)
