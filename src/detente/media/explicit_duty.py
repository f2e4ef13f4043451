"""Whether China's Measures require an *explicit* label, given the situation a checker declares.

Art. 4 of the Measures for Labeling AI-Generated Synthetic Content asks for an explicit label only
where the service falls under a situation of Art. 17(1) of the Deep Synthesis Provisions
(dialogue or writing simulating a person, voice, faces, immersive scenes, other services that
generate or significantly alter content); the implicit label of Art. 5 is owed for all generated
content. A file does not say which service made it, so the situation is declared
(``situation``), and ``unknown`` (the default) means the duty is *not judged*, never silently
passed or failed.

The situations and the provisions they rest on are data (``situations/cn-measures-art4.json``):
each fact carries its source, the date of its instrument and a quality mark (``verified`` against
the official text, or ``unverified`` with its basis: quoted by third parties, a summary, memory),
and an answer that relies on an unverified fact says so (:attr:`ExplicitDuty.unverified`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json
from detente.errors import MalformedRecord

__all__ = ["UNKNOWN", "ExplicitDuty", "Fact", "Situation", "SituationTable", "duty_for", "situation_table"]

UNKNOWN = "unknown"
_DATA = "cn-measures-art4.json"


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1, max_length=1000)
    zh: str = Field(min_length=1, max_length=1000)


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    date: dt.date
    in_force: dt.date
    url: str
    note: str = ""


class Fact(BaseModel):
    """One provision as the data holds it: where it is, its wording, and how far it was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: str
    at: str
    zh: str
    en: str
    quality: Literal["verified", "unverified"]
    basis: str = Field(min_length=1)


class Situation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    name: _Text
    explicit_label: Literal["required", "not-required", "unknown"]
    facts: tuple[str, ...]


class SituationTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str
    compiled: dt.date
    title: _Text
    quality_marks: dict[str, str]
    sources: tuple[Source, ...]
    facts: tuple[Fact, ...]
    situations: tuple[Situation, ...]

    @model_validator(mode="after")
    def _consistent(self) -> SituationTable:
        sources = {s.id for s in self.sources}
        facts = {f.id for f in self.facts}
        if bad := [f.id for f in self.facts if f.source not in sources]:
            raise ValueError(f"facts cite no listed source: {', '.join(bad)}")
        if bad := [f"{s.id}: {f}" for s in self.situations for f in s.facts if f not in facts]:
            raise ValueError(f"situations cite unknown facts: {', '.join(bad)}")
        ids = [s.id for s in self.situations]
        if len(set(ids)) != len(ids) or UNKNOWN not in ids:
            raise ValueError(f"situation ids must be unique and include {UNKNOWN!r}")
        if bad := [s.id for s in self.situations if (s.id == UNKNOWN) != (s.explicit_label == "unknown")]:
            raise ValueError(f"only {UNKNOWN!r} leaves the duty unknown: {', '.join(bad)}")
        return self

    def situation(self, situation_id: str) -> Situation:
        for s in self.situations:
            if s.id == situation_id:
                return s
        raise MalformedRecord(
            f"no situation {situation_id!r} in {self.id}",
            hint=f"declare one of: {', '.join(s.id for s in self.situations)}",
        )

    def fact(self, fact_id: str) -> Fact:
        return next(f for f in self.facts if f.id == fact_id)

    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()


@cache
def situation_table() -> SituationTable:
    """The packaged situations (``situations/cn-measures-art4.json``)."""
    raw = (resources.files("detente.media") / "situations" / _DATA).read_bytes()
    try:
        return SituationTable.model_validate_json(raw)
    except ValidationError as exc:  # a packaging bug, not the caller's input
        raise RuntimeError(describe_validation_error(exc, f"detente/media/situations/{_DATA}")) from None


_NOT_CHECKED = {"image": "visible", "video": "visible or audible", "audio": "audible"}


class ExplicitDuty:
    """The explicit-label duty in one declared situation."""

    def __init__(self, table: SituationTable, situation: Situation) -> None:
        self.table = table
        self.situation = situation

    @property
    def required(self) -> bool | None:
        """True or False when the situation decides it; None when it is not judged."""
        return {"required": True, "not-required": False}.get(self.situation.explicit_label)

    @property
    def facts(self) -> list[Fact]:
        return [self.table.fact(f) for f in self.situation.facts]

    @property
    def unverified(self) -> list[Fact]:
        """The facts this answer relies on that were not checked against the official text."""
        return [f for f in self.facts if f.quality != "verified"]

    def mark(self) -> str:
        """The quality mark to show beside the answer (empty when it relies on nothing unverified)."""
        if not self.unverified:
            return ""
        cites = "; ".join(f"{f.at} ({f.basis.split(':', 1)[0]})" for f in self.unverified)
        return f"[unverified / 未经官方原文核实: {cites}]"

    def note(self, kind: str) -> str:
        """What the answer means for content of ``kind``, in both languages."""
        s = self.situation
        if self.required is None:
            values = ", ".join(x.id for x in self.table.situations if x.id != UNKNOWN)
            return (
                "the explicit-label duty could not be judged: Art. 4 of the Measures requires an explicit label "
                f"only in the situations of Art. 17(1) of the Deep Synthesis Provisions; declare one ({values}) / "
                "未声明服务情形，无法判断是否须添加显式标识"
            )
        where = f"situation {s.id} ({s.name.en} / {s.name.zh})"
        if not self.required:
            return (
                f"Art. 4 requires no explicit label in {where}; the implicit label (Art. 5) is still required / "
                "该情形下第四条不要求显式标识，隐式标识（第五条）仍须添加"
            )
        if kind == "text":
            return (
                f"Art. 4 requires an explicit label in {where}: the text's label was checked / 须添加显式标识，已检查"
            )
        what = _NOT_CHECKED.get(kind, "perceivable")
        return (
            f"Art. 4 requires an explicit label in {where}: {'an' if what[0] in 'aeiou' else 'a'} {what} label, which "
            "detente did NOT check (it reads "
            "metadata, not pixels or sound) / 须添加显式标识，detente 未检查（仅读元数据）"
        )

    def as_dict(self, kind: str) -> dict[str, Any]:
        return {
            "situation": self.situation.id,
            "name": self.situation.name.model_dump(),
            "required": self.required,
            "judged": self.required is not None,
            "note": self.note(kind),
            "quality": "unverified" if self.unverified else ("verified" if self.facts else None),
            "mark": self.mark(),
            "basis": [
                {"fact": f.id, "source": f.source, "at": f.at, "quality": f.quality, "basis": f.basis}
                for f in self.facts
            ],
            "data": {"id": self.table.id, "version": self.table.version, "digest": self.table.digest()},
        }


def duty_for(situation_id: str = UNKNOWN) -> ExplicitDuty:
    """The duty in the declared situation; a typed error naming the known ones otherwise."""
    table = situation_table()
    return ExplicitDuty(table, table.situation(situation_id))
