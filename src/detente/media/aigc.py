"""China's implicit AIGC label: the seven-key JSON object of GB 45438-2025 Annex E.

The Measures for Labeling AI-Generated Synthetic Content (CAC et al., effective 1 Sep 2025) and
the mandatory standard GB 45438-2025 put an *implicit* label into a file's metadata: a JSON
object whose values are strings, under the keys ``Label`` (``"1"`` is AI-generated, ``"2"``
possibly, ``"3"`` suspected), ``ContentProducer``, ``ProduceID``, ``ReservedCode1`` (the
generation side), ``ContentPropagator``, ``PropagateID``, ``ReservedCode2`` (the dissemination
side). Files in the wild also wrap it as ``{"AIGC": {...}}`` (TC260-PG-20259A Annex B); both
forms parse.

The exact character-set clause of Annex E (clause j) was not available to us; this model refuses
what no conforming label can hold (control characters, unpaired surrogates, noncharacters, values over
:data:`AIGC_VALUE_MAX_CHARS`) and bounds the serialized object at :data:`AIGC_JSON_MAX_BYTES`.
Everything here is pure: bytes and strings in, a model or a typed error out.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detente._internal.validation import describe_validation_error
from detente.errors import MalformedError, MalformedJSON, MetadataTooLarge

__all__ = [
    "AIGC_JSON_MAX_BYTES",
    "AIGC_KEYS",
    "AIGC_VALUE_MAX_CHARS",
    "LABEL_MEANINGS",
    "AigcLabel",
    "parse_aigc_json",
]

AIGC_KEYS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
"""The Annex E keys (value1 … value7), in the order the standard lists them and we write them."""

LABEL_MEANINGS = {"1": "AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}

AIGC_JSON_MAX_BYTES = 4096
"""Largest serialized label (UTF-8) we read or write; real labels are a few hundred bytes."""

AIGC_VALUE_MAX_CHARS = 1024
"""Longest single value; ReservedCode1/2 carry signatures or hashes (~100–300 characters seen)."""

_JSON_HINT = (
    'an AIGC label is a JSON object of strings: {"Label":"1","ContentProducer":…,"ProduceID":…,'
    '"ReservedCode1":…,"ContentPropagator":…,"PropagateID":…,"ReservedCode2":…} (GB 45438-2025 Annex E)'
)


def _check_chars(value: str) -> str:
    if len(value) > AIGC_VALUE_MAX_CHARS:
        raise ValueError(f"longer than {AIGC_VALUE_MAX_CHARS} characters")
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc":
            raise ValueError(f"control character U+{ord(ch):04X} is not allowed")
        if category == "Cs":
            raise ValueError(f"unpaired surrogate U+{ord(ch):04X} is not allowed")
        if 0xFDD0 <= ord(ch) <= 0xFDEF or ord(ch) & 0xFFFE == 0xFFFE:
            raise ValueError(f"noncharacter U+{ord(ch):04X} is not allowed")
    return value


class AigcLabel(BaseModel):
    """One implicit label. Field names are Pythonic; the JSON keys are the Annex E names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    label: Literal["1", "2", "3"] = Field(alias="Label", description="1 AI-generated, 2 possibly, 3 suspected")
    content_producer: str = Field(default="", alias="ContentProducer", description="generating service name or code")
    produce_id: str = Field(default="", alias="ProduceID", description="content production ID")
    reserved_code1: str = Field(default="", alias="ReservedCode1", description="producer-side reserved field")
    content_propagator: str = Field(default="", alias="ContentPropagator", description="platform name or code")
    propagate_id: str = Field(default="", alias="PropagateID", description="dissemination ID")
    reserved_code2: str = Field(default="", alias="ReservedCode2", description="propagator-side reserved field")

    @field_validator(
        "content_producer",
        "produce_id",
        "reserved_code1",
        "content_propagator",
        "propagate_id",
        "reserved_code2",
    )
    @classmethod
    def _charset(cls, value: str) -> str:
        return _check_chars(value)

    @property
    def meaning(self) -> str:
        """``Label`` in words."""
        return LABEL_MEANINGS[self.label]

    def to_dict(self) -> dict[str, str]:
        """The Annex E object, keys in standard order."""
        dumped = self.model_dump(by_alias=True)
        return {key: dumped[key] for key in AIGC_KEYS}

    def to_json(self) -> str:
        """Compact JSON (no spaces, UTF-8 characters kept), the form written into files.

        Raises :class:`MalformedError` if it would exceed :data:`AIGC_JSON_MAX_BYTES`.
        """
        text = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
        if size > AIGC_JSON_MAX_BYTES:
            raise MetadataTooLarge(
                f"AIGC label is {size} bytes as JSON; the limit is {AIGC_JSON_MAX_BYTES}",
                hint="shorten ReservedCode1/ReservedCode2; put large signatures elsewhere",
            )
        return text


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def parse_aigc_json(data: str | bytes) -> AigcLabel:
    """Parse an AIGC label from its JSON text, bare or wrapped as ``{"AIGC": {...}}``.

    Raises :class:`MalformedJSON` when the text is not JSON or not an AIGC object (wrong type,
    unknown key, non-string value, bad ``Label``, bad characters), and :class:`MalformedError`
    when it is larger than :data:`AIGC_JSON_MAX_BYTES`.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > AIGC_JSON_MAX_BYTES:
        raise MalformedError(
            f"AIGC label JSON is {len(raw)} bytes; the limit is {AIGC_JSON_MAX_BYTES}",
            hint="a conforming label is a few hundred bytes; this metadata is not a plausible AIGC label",
        )
    try:
        text = raw.decode("utf-8-sig")
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise MalformedJSON(f"AIGC label repeats the key {exc}", hint=_JSON_HINT) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJSON(f"AIGC label is not UTF-8 JSON: {exc}", hint=_JSON_HINT) from None
    if isinstance(obj, dict) and set(obj) == {"AIGC"}:
        obj = obj["AIGC"]
    if not isinstance(obj, dict):
        raise MalformedJSON(f"AIGC label is a JSON {type(obj).__name__}, not an object", hint=_JSON_HINT)
    unknown = sorted(set(obj) - set(AIGC_KEYS))
    if unknown:
        raise MalformedJSON(f"AIGC label has keys outside GB 45438 Annex E: {', '.join(unknown)}", hint=_JSON_HINT)
    if "Label" not in obj:
        raise MalformedJSON("AIGC label has no Label key", hint=_JSON_HINT)
    try:
        return AigcLabel.model_validate(obj)
    except ValidationError as exc:
        raise MalformedJSON(describe_validation_error(exc, "AIGC label"), hint=_JSON_HINT) from None
