"""EPCIS timestamps are read to the same instant as by building the datetime from the parts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from txng.epcis.timestamps import parse_timestamp

_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))\Z",
    re.ASCII,
)


def _by_parts(value: str) -> datetime:
    """The reading the storage used before (datetime built from the matched parts)."""
    match = _PARTS.match(value)
    if match is None:
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone, sign, oh, om = match.groups()
    tz = UTC
    if zone != "Z":
        delta = timedelta(hours=int(oh), minutes=int(om))
        if delta > timedelta(hours=14) or int(om) >= 60:
            raise ValueError(value)
        tz = timezone(-delta if sign == "-" else delta)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
        )
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(value) from exc


def _outcome(fn, value: str) -> datetime | str:  # type: ignore[no-untyped-def]
    try:
        return fn(value)  # type: ignore[no-any-return]
    except ValueError:
        return "refused"


_TIMESTAMPS = st.builds(
    lambda y, mo, d, h, mi, s, frac, zone: (
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}" + (f".{frac}" if frac else "") + zone
    ),
    st.sampled_from([1, 2, 1999, 2024, 2026, 9998, 9999]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 61),
    st.text("0123456789", max_size=12),
    st.one_of(
        st.just("Z"),
        st.builds(
            lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
            st.sampled_from("+-"),
            st.integers(0, 23),
            st.integers(0, 61),
        ),
    ),
)


@settings(max_examples=600, deadline=None, database=None)
@given(_TIMESTAMPS)
def test_same_instant_or_same_refusal_as_building_from_the_parts(value: str) -> None:
    assert _outcome(parse_timestamp, value) == _outcome(_by_parts, value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-01T08:00:00.000+07:00", datetime(2026, 6, 1, 1, 0, tzinfo=UTC)),
        ("2026-06-01T08:00:00.1234567Z", datetime(2026, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2026-06-01T08:00:00+14:00", datetime(2026, 5, 31, 18, 0, tzinfo=UTC)),
    ],
)
def test_known_instants(value: str, expected: datetime) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-01T08:00:00",  # no time zone
        "2026-06-01 08:00:00Z",  # a space for the T
        "2026-02-30T08:00:00Z",  # no such day
        "2026-06-01T08:00:00+14:30",  # beyond +14:00
        "9999-12-31T23:00:00-05:00",  # past year 9999 in UTC
        "２０２６-06-01T08:00:00Z",  # not ASCII digits
    ],
)
def test_refused(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is a ValueError, its text varies
        parse_timestamp(value)
