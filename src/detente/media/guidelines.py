"""Labeling guidelines as data: each party's rule set for synthetic-media labels, versioned.

A guideline names its regime (``c2pa`` or ``cn-aigc``), its version and date, and rules; each
rule is one check from a closed list (:data:`CHECKS`) with a level (``must`` or ``should``), the
media kinds it applies to, bilingual wording and its source. The packaged guidelines are the US
C2PA practice and China's GB 45438-2025; a party publishes its own (or a new version) as a
``label-guideline`` record, and the checker then names the exact rule a file fails.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json
from detente.errors import MalformedRecord

__all__ = ["CHECKS", "KINDS", "Check", "Guideline", "Kind", "LabelRule", "packaged_guidelines", "parse_guideline"]

Check = Literal[
    "c2pa-manifest",
    "c2pa-valid",
    "c2pa-trusted",
    "c2pa-ai-source-type",
    "aigc-present",
    "aigc-fields",
    "aigc-label-value",
    "explicit-text",
]
Kind = Literal["image", "video", "audio", "document", "text"]
CHECKS: tuple[str, ...] = get_args(Check)
KINDS: tuple[str, ...] = get_args(Kind)


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1, max_length=1000)
    zh: str = Field(default="", max_length=1000)


class LabelRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,63}$")
    check: Check
    level: Literal["must", "should"] = "must"
    applies_to: tuple[Kind, ...] = Field(min_length=1)
    params: dict[str, list[str]] = Field(default_factory=dict, description="e.g. the fields a label must fill")
    title: _Text
    source: str = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _known_text_rules(self) -> LabelRule:
        from detente.media.explicit import TEXT_RULES

        unknown = [r for r in self.params.get("text_rule", []) if r not in TEXT_RULES]
        if unknown:
            raise ValueError(f"unknown text_rule {', '.join(unknown)} (known: {', '.join(TEXT_RULES)})")
        return self


class Guideline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    guideline_id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,63}$")
    version: str = Field(min_length=1, max_length=32)
    party: str = Field(min_length=1, max_length=256)
    regime: Literal["c2pa", "cn-aigc"]
    effective: date
    title: _Text
    sources: tuple[str, ...] = ()
    rules: tuple[LabelRule, ...] = Field(min_length=1, max_length=200)

    def digest(self) -> str:
        """sha256 of the guideline's canonical JSON (RFC 8785): the identity a check cites."""
        import hashlib

        return "sha256:" + hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()


def parse_guideline(data: dict[str, Any] | bytes | str) -> Guideline:
    """A guideline from its JSON; a typed error that names the bad field otherwise."""
    try:
        raw = json.loads(data) if isinstance(data, bytes | str) else data
        return Guideline.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise MalformedRecord(f"a label guideline is not JSON: {exc.msg}", hint="check the file") from None
    except ValidationError as exc:
        raise MalformedRecord(
            describe_validation_error(exc, "label guideline"),
            hint=f"each rule's check is one of: {', '.join(CHECKS)}",
        ) from None


def packaged_guidelines() -> list[Guideline]:
    """The guidelines that ship with detente (US C2PA practice; China GB 45438-2025)."""
    folder = resources.files("detente.media") / "rulesets"
    return [
        parse_guideline(entry.read_bytes())
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]
