"""The one base of every record body: a frozen pydantic model that refuses unknown fields, so a
body means exactly what its schema says and cannot change after it is validated; and the one type
of a time in a body, :data:`UtcTime`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

__all__ = ["Body", "UtcTime", "to_utc"]


def to_utc(value: datetime) -> datetime:
    """An aware time as UTC; one out of range once converted is a ``ValueError`` (a validation error)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError("the time is out of range once converted to UTC") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""A time in a record body: it must carry a time zone (a naive time is an instant read differently
by parties in different zones, and compares with no aware time), and is kept as UTC."""


class Body(BaseModel):
    """A record body (or a part of one): unknown fields are refused and instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
