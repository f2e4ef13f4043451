"""in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md).

A Statement binds subjects (matched purely by digest) to a typed predicate. detente writes
Statements for results other tools should read (evaluation results, label verdicts) and wraps
them in DSSE with payload type ``application/vnd.in-toto+json``. Unknown fields are ignored when
reading, as the spec requires; digests are lowercase hex keyed by lowercase algorithm names.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json, parse_json
from detente.errors import MalformedEnvelope, MalformedJSON

__all__ = ["PAYLOAD_TYPE", "STATEMENT_TYPE", "ResourceDescriptor", "Statement"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_HEX = re.compile(r"\A[0-9a-f]+\Z")
_HEX_ALGOS = {
    "sha256",
    "sha224",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "shake128",
    "shake256",
    "blake2b",
    "blake2s",
    "ripemd160",
    "sm3",
    "gost",
    "sha1",
    "md5",
}


class ResourceDescriptor(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None
    uri: str | None = None
    digest: dict[str, str]

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a subject digest set must not be empty")
        for algo, hexval in value.items():
            if algo in _HEX_ALGOS and not _HEX.match(hexval):
                raise ValueError(f"digest {algo} must be lowercase hex")
        return value


class Statement(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type_: str = Field(default=STATEMENT_TYPE, alias="_type")
    subject: list[ResourceDescriptor] = Field(min_length=1)
    predicate_type: str = Field(alias="predicateType", min_length=1)
    predicate: dict[str, Any] | None = None

    @field_validator("type_")
    @classmethod
    def _type(cls, value: str) -> str:
        if value != STATEMENT_TYPE:
            raise ValueError(f"_type must be {STATEMENT_TYPE}")
        return value

    def to_json(self) -> bytes:
        return canonical_json(self.model_dump(by_alias=True, exclude_none=True, mode="json"))

    @classmethod
    def from_json(cls, data: bytes | str) -> Statement:
        try:
            obj = parse_json(data, what="in-toto Statement")
        except MalformedJSON as exc:
            raise MalformedEnvelope(exc.message) from None
        if not isinstance(obj, dict) or "_type" not in obj:
            raise MalformedEnvelope("not an in-toto Statement v1: _type is required")
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise MalformedEnvelope(describe_validation_error(exc, "in-toto Statement v1")) from None
