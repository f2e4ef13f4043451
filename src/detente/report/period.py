"""Calendar quarters: ``2026Q4`` is 1 October 2026 00:00 UTC (inclusive) to 1 January 2027 00:00
UTC (exclusive). Pure; raises :class:`~detente.errors.MalformedError` with a hint on bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from detente.errors import MalformedError

__all__ = ["parse_period", "period_name"]

_PERIOD = re.compile(r"\A([0-9]+)[Qq]([0-9]+)\Z")
MIN_YEAR, MAX_YEAR = 1900, 2999


def parse_period(text: str) -> tuple[datetime, datetime]:
    """``(start, end)`` of a quarter such as ``2026Q4``: UTC, start inclusive, end exclusive."""
    given = text.strip()
    match = _PERIOD.match(given)
    if match is None:
        raise MalformedError(
            f"{text!r} is not a quarter", hint="write the year and the quarter number, e.g. 2026Q4 (Q1 to Q4)"
        )
    year_text, quarter_text = match.groups()
    if len(year_text) != 4:
        example = f"20{year_text[-2:]:0>2}Q{quarter_text}" if len(year_text) <= 2 else "2026Q4"
        raise MalformedError(f"{text!r} does not give a four-digit year", hint=f"write e.g. {example}")
    year, quarter = int(year_text), int(quarter_text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise MalformedError(f"year {year} is out of range", hint=f"give a year from {MIN_YEAR} to {MAX_YEAR}")
    if not 1 <= quarter <= 4:
        raise MalformedError(
            f"{text!r} names quarter {quarter}; a year has four", hint=f"write {year}Q1, {year}Q2, {year}Q3 or {year}Q4"
        )
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if quarter == 4 else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC)
    return start, end


def period_name(text: str) -> str:
    """The canonical spelling of a quarter (``2026q4`` → ``2026Q4``); raises like :func:`parse_period`."""
    start, _ = parse_period(text)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"
