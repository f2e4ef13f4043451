"""The record envelope every party statement shares.

A record names its ``type`` (a versioned type URI such as ``detente.dev/hotline-message/v1``),
the issuing ``party`` (its log origin), when it was issued, a type-specific ``body``, optional
bilingual ``text``, references to other records, and a TLP 2.0 marking. Later domains add typed
bodies; the core only fixes this frame.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json, parse_json
from detente.errors import MalformedJSON, MalformedRecord
from detente.records.body import to_utc
from detente.records.ref import RecordRef
from detente.records.seal import Sealed
from detente.records.text import BilingualText

__all__ = ["RECORD_SCHEMA", "TLP", "Record"]

RECORD_SCHEMA = "detente.dev/record/v1"


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 (FIRST) markings."""

    CLEAR = "TLP:CLEAR"
    GREEN = "TLP:GREEN"
    AMBER = "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT"
    RED = "TLP:RED"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str = Field(default=RECORD_SCHEMA, alias="schema")
    type: str = Field(pattern=r"^[a-z0-9.-]+(/[a-z0-9._-]+)+/v[0-9]+$", description="versioned record type")
    party: str = Field(min_length=1, description="log origin of the issuing party")
    issued: datetime = Field(description="UTC time the party issued the record")
    to: tuple[str, ...] = Field(default=(), description="log origins of the parties the record is addressed to")
    body: dict[str, Any] = Field(default_factory=dict)
    text: BilingualText | None = None
    refs: tuple[RecordRef, ...] = ()
    tlp: TLP = TLP.CLEAR
    sealed: Sealed | None = Field(
        default=None, description="TLP:AMBER and TLP:RED records: the content sealed to the recipients (docs/sealed.md)"
    )

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value: str) -> str:
        if value != RECORD_SCHEMA:
            raise ValueError(f"schema must be {RECORD_SCHEMA}")
        return value

    @field_validator("issued")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("issued must carry a time zone (UTC)")
        return to_utc(value)

    @field_serializer("issued")
    def _ser_issued(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def to_json(self) -> bytes:
        """Canonical JSON (RFC 8785): the bytes the party signs."""
        return canonical_json(self.model_dump(by_alias=True, mode="json", exclude_none=True))

    @classmethod
    def from_json(cls, data: bytes | str) -> Record:
        try:
            return cls.model_validate(parse_json(data, what="record"))
        except MalformedJSON as exc:
            raise MalformedRecord(exc.message) from None
        except ValidationError as exc:
            raise MalformedRecord(describe_validation_error(exc, "record")) from None
