"""The one timestamp rule: the spellings tools write in, the one spelling affidavit writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from affidavit.model.time import format_utc, normalise, parse_timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # what the scanners write (Trivy CreatedAt in nanoseconds, Grype with an offset, npm in ms)
        ("2021-08-25T12:20:30.000000005Z", "2021-08-25T12:20:30Z"),
        ("2023-09-01T08:13:42.20194-04:00", "2023-09-01T12:13:42Z"),
        ("2016-09-06T12:49:40.000Z", "2016-09-06T12:49:40Z"),
        ("2020-01-01 10:00:00+0530", "2020-01-01T04:30:00Z"),
        ("2024-06-12T07:24:34.999999999Z", "2024-06-12T07:24:34Z"),  # cut, never rounded up
        ("2026-11-20T08:30:00+01:00", "2026-11-20T07:30:00Z"),
        ("2026-11-20t08:30:00z", "2026-11-20T08:30:00Z"),
        ("2026-11-20T08:30Z", "2026-11-20T08:30:00Z"),
        ("2026-11-20T08:30:00,5+02", "2026-11-20T06:30:00Z"),
        ("2026-11-20T00:30:00+01:00", "2026-11-19T23:30:00Z"),  # the day changes too
        ("2026-11-20T12:00:00", "2026-11-20T12:00:00Z"),  # no zone: UTC
        ("  2026-11-20T12:00:00Z\n", "2026-11-20T12:00:00Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"),  # a leap second
        ("2025-06-18", "2025-06-18T00:00:00Z"),  # a date alone: midnight UTC
        # not a time
        ("0001-01-01T00:00:00Z", None),  # Go's zero time: "not set"
        ("2021-02-30T00:00:00Z", None),
        ("2021-01-01T25:00:00Z", None),
        ("2021-01-01T12:00:00+24:00", None),
        ("20210101T120000Z", None),
        ("yesterday", None),
        ("redacted", None),
        ("", None),
        ("2021-01-01T12:00:00Z" + " " * 60, None),  # longer than any timestamp
        (20210101, None),  # a number is not a time unless the format says it is Unix seconds
        (True, None),
        (None, None),
        ({"date": "2021-01-01"}, None),
    ],
)
def test_normalise(value: Any, expected: str | None) -> None:
    assert normalise(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, "2023-11-14T22:13:20Z"),  # Rekor's integratedTime
        ("1700000000", "2023-11-14T22:13:20Z"),  # the same as protobuf JSON writes an int64
        (1700000000.75, "2023-11-14T22:13:20Z"),
        (-1, None),
        (float("nan"), None),
        (float("inf"), None),
        (10**20, None),
        (True, None),
        ("2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z"),  # a format with epochs may still write text
    ],
)
def test_unix_seconds_only_where_the_format_uses_them(value: Any, expected: str | None) -> None:
    assert normalise(value, epoch=True) == expected


def test_parse_gives_an_aware_utc_datetime() -> None:
    moment = parse_timestamp("2023-09-01T08:13:42.201940-04:00")
    assert moment == datetime(2023, 9, 1, 12, 13, 42, 201940, tzinfo=UTC)
    assert moment is not None and moment.utcoffset() == timedelta(0)


def test_required_parts() -> None:
    assert parse_timestamp("2025-06-18", time_required=True) is None
    assert parse_timestamp("2025-06-18T10:00:00", zone_required=True) is None
    assert parse_timestamp("2025-06-18T10:00:00Z", time_required=True, zone_required=True) is not None
    assert parse_timestamp("2025-06-18", zone_required=True) is not None  # a date has no zone to give


def test_format_utc_writes_one_spelling() -> None:
    assert format_utc(datetime(2026, 11, 20, 12, 0, 0, 999999, tzinfo=UTC)) == "2026-11-20T12:00:00Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_utc(datetime(2026, 1, 1, 1, 0, tzinfo=plus_two)) == "2025-12-31T23:00:00Z"
    assert format_utc(datetime(33, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0033-01-02T03:04:05Z"


def test_format_utc_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_utc(datetime(2026, 11, 20, 12, 0))


def test_written_form_sorts_as_time() -> None:
    # the reason for one spelling: text order is time order, whatever the tools wrote
    raw = ["2026-11-20T08:40:00+01:00", "2026-11-20T07:45:00Z", "2026-11-20T07:30:00.5Z"]
    assert sorted(raw) != sorted(raw, key=lambda t: parse_timestamp(t) or datetime.min)  # as written: wrong
    written = sorted(normalise(t) or "" for t in raw)
    assert written == ["2026-11-20T07:30:00Z", "2026-11-20T07:40:00Z", "2026-11-20T07:45:00Z"]
