"""The one base of every record body: a frozen pydantic model that refuses unknown fields, so a
body means exactly what its schema says and cannot change after it is validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Body"]


class Body(BaseModel):
    """A record body (or a part of one): unknown fields are refused and instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
