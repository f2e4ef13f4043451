"""Quarters: boundaries, canonical names, and a typed error with a hint for every bad spelling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detente.errors import MalformedError
from detente.report.period import parse_period, period_name


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026Q1", utc(2026, 1, 1), utc(2026, 4, 1)),
        ("2026Q2", utc(2026, 4, 1), utc(2026, 7, 1)),
        ("2026Q3", utc(2026, 7, 1), utc(2026, 10, 1)),
        ("2026Q4", utc(2026, 10, 1), utc(2027, 1, 1)),
        (" 2028q1 ", utc(2028, 1, 1), utc(2028, 4, 1)),
    ],
)
def test_quarters(text: str, start: datetime, end: datetime) -> None:
    assert parse_period(text) == (start, end)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("2026Q5", "2026Q1, 2026Q2, 2026Q3 or 2026Q4"),
        ("2026Q0", "2026Q1"),
        ("26Q4", "2026Q4"),
        ("026Q4", "2026Q4"),
        ("20260Q4", "2026Q4"),
        ("2026-Q4", "e.g. 2026Q4"),
        ("Q4 2026", "e.g. 2026Q4"),
        ("2026", "e.g. 2026Q4"),
        ("", "e.g. 2026Q4"),
        ("1800Q1", "from 1900 to 2999"),
        ("２０２６Q4", "e.g. 2026Q4"),
    ],
)
def test_bad_quarters_raise_a_typed_error_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(MalformedError) as err:
        parse_period(text)
    assert err.value.hint is not None and hint in err.value.hint


@given(st.integers(1900, 2999), st.integers(1, 4))
def test_round_trip(year: int, quarter: int) -> None:
    name = f"{year}Q{quarter}"
    start, end = parse_period(name)
    assert period_name(name.lower()) == name
    assert start < end and start.tzinfo is UTC and (end - start).days in (90, 91, 92)
    if quarter < 4:
        assert parse_period(f"{year}Q{quarter + 1}")[0] == end


@given(st.text(max_size=12))
def test_any_text_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        start, end = parse_period(text)
    except MalformedError:
        return
    assert start < end
