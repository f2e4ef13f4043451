"""References between records: a record is named by its log origin, index and leaf hash, so a
reference can be checked against the referenced log with an inclusion proof."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RecordRef"]


class RecordRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str = Field(min_length=1, description="log origin of the party that logged the record")
    index: int = Field(ge=0, description="leaf index in that log")
    leaf_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="RFC 9162 leaf hash, hex")
    rel: str | None = Field(default=None, description="relation, e.g. 'receipt-of', 'reply-to'")
