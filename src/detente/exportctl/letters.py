"""Licence requirements set by letters to individual companies ("is-informed" letters), as dated data.

BIS does not publish these letters; what is known comes from the addressees' own disclosures (SEC
filings). ``data/letters.json`` holds each letter with its addressee, the products it names, the
destinations, its dates and its sources, each source marked by quality: ``M`` (the primary text
read), ``S`` (the primary text as quoted by a secondary source) or ``MEM`` (memory, not
re-verified). A letter binds only its addressee.

:func:`letters_for` answers which letters bear on an item (matched by the product names the letter
gives, as whole words of the item's name), on a date, for a destination (ISO 3166-1 alpha-2; when
none is given, every destination the letter names is listed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detente.errors import MalformedRecord
from detente.exportctl.packaged import load_packaged

__all__ = ["ADDRESSEE_ONLY", "Letter", "LetterMatch", "LetterSource", "Reach", "letters", "letters_for"]

ADDRESSEE_ONLY = (
    "an is-informed letter binds only its addressee; other exporters of the same item are not bound by it, "
    "though knowing of it may be a red flag"
)

_COUNTRY = r"^[A-Z]{2}$"


class LetterSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    citation: str = Field(min_length=1, max_length=256, description="e.g. NVIDIA Corp., Form 8-K, filed 31 Aug 2022")
    filed: date | None = None
    quote: str = Field(default="", max_length=2048, description="the sentence relied on, verbatim or marked paraphrase")
    quality: Literal["M", "S", "MEM"]
    url: str | None = Field(default=None, max_length=1024)
    notes: str = Field(default="", max_length=2048)


class Letter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,63}$")
    regime: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    addressee: str = Field(min_length=1, max_length=128)
    informed: date
    effective: date
    until: date | None = None
    products: tuple[str, ...] = Field(min_length=1)
    also_covers: str = Field(default="", max_length=2048)
    destinations: tuple[str, ...] = Field(default=(), description="ISO 3166-1 alpha-2 codes the letter names")
    destination_groups: tuple[str, ...] = Field(default=(), description="EAR country groups it names, e.g. D:5")
    headquartered_parties: bool = Field(default=False, description="also parties headquartered in those, anywhere")
    requirement: str = Field(min_length=1, max_length=2048)
    sources: tuple[LetterSource, ...] = Field(min_length=1)

    @property
    def verified(self) -> bool:
        """Whether a primary text was read for it (some source of quality ``M``)."""
        return any(s.quality == "M" for s in self.sources)

    def names(self, item_name: str) -> str | None:
        """The product this letter names that ``item_name`` is (as whole words), or ``None``."""
        words = _words(item_name)
        for product in self.products:
            want = _words(product)
            if any(words[i : i + len(want)] == want for i in range(len(words) - len(want) + 1)):
                return product
        return None

    def in_effect(self, on: date) -> bool:
        return self.effective <= on and (self.until is None or on < self.until)


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.casefold())


class Reach(StrEnum):
    NAMED = "named"  # the destination is one the letter names
    NOT_GIVEN = "destination-not-given"  # no destination asked: the letter's are listed
    CHECK = "check"  # the letter names country groups or headquartered parties: check the destination


@dataclass(frozen=True)
class LetterMatch:
    letter: Letter
    product: str
    destination: str | None
    reach: Reach

    @property
    def unverified(self) -> bool:
        return not self.letter.verified

    def quality_note(self) -> str:
        marks = sorted({s.quality for s in self.letter.sources})
        if self.letter.verified:
            return "primary text read [M]"
        what = (
            "from memory, not re-verified [MEM]"
            if marks == ["MEM"]
            else "secondary source only [" + "/".join(marks) + "]"
        )
        return f"UNVERIFIED: {what}; the letter itself is not public"

    def where(self) -> str:
        letter = self.letter
        places = ", ".join(letter.destinations)
        if letter.destination_groups:
            places += (", " if places else "") + "country groups " + ", ".join(letter.destination_groups)
        if letter.headquartered_parties:
            places += "; and parties headquartered (or with an ultimate parent) there, wherever located"
        if self.reach == Reach.NAMED:
            return f"applies to exports to {self.destination} (letter names: {places})"
        if self.reach == Reach.CHECK:
            return f"may apply to {self.destination}: check it against {places}"
        return f"applies to exports to {places} (no destination given)"

    def as_dict(self) -> dict[str, object]:
        letter = self.letter
        return {
            "id": letter.id,
            "addressee": letter.addressee,
            "product": self.product,
            "informed": letter.informed.isoformat(),
            "effective": letter.effective.isoformat(),
            "until": letter.until.isoformat() if letter.until else None,
            "requirement": letter.requirement,
            "also_covers": letter.also_covers,
            "destinations": list(letter.destinations),
            "destination_groups": list(letter.destination_groups),
            "headquartered_parties": letter.headquartered_parties,
            "destination": self.destination,
            "reach": self.reach.value,
            "binds": ADDRESSEE_ONLY,
            "verified": letter.verified,
            "quality": self.quality_note(),
            "sources": [s.model_dump(mode="json", exclude_none=True) for s in letter.sources],
        }

    def describe(self) -> list[str]:
        letter = self.letter
        until = f" until {letter.until}" if letter.until else ""
        lines = [
            f"    {letter.id}: licence required by a letter to {letter.addressee} (informed {letter.informed}, "
            f"effective {letter.effective}{until}) — names {self.product}",
            f"      {letter.requirement}",
            f"      {self.where()}",
        ]
        if letter.also_covers:
            lines.append(f"      also: {letter.also_covers}")
        lines.append(f"      binds: {ADDRESSEE_ONLY}")
        for s in letter.sources:
            lines.append(f"      source: {s.citation} [{s.quality}]" + (f" — {s.quote}" if s.quote else ""))
        lines.append(f"      quality: {self.quality_note()}")
        return lines


class _Letters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["detente.exportctl.letters/1"]
    description: str = ""
    letters: tuple[Letter, ...]


@cache
def letters() -> tuple[Letter, ...]:
    """Every recorded letter, in file order."""
    return load_packaged(_Letters, "letters.json").letters


def letters_for(
    item_name: str, on: date, destination: str | None = None, regimes: tuple[str, ...] | None = None
) -> tuple[LetterMatch, ...]:
    """The letters that name ``item_name`` and are in effect ``on``, for ``destination`` (ISO
    alpha-2, or ``None`` for any); only those of ``regimes`` when given."""
    if destination is not None and not re.match(_COUNTRY, destination):
        raise MalformedRecord(
            f"destination {destination!r} is not an ISO 3166-1 alpha-2 code", hint="e.g. CN, HK, MO, RU, US"
        )
    out: list[LetterMatch] = []
    for letter in letters():
        if regimes is not None and letter.regime not in regimes:
            continue
        product = letter.names(item_name)
        if product is None or not letter.in_effect(on):
            continue
        if destination is None:
            reach = Reach.NOT_GIVEN
        elif destination in letter.destinations:
            reach = Reach.NAMED
        elif letter.destination_groups or letter.headquartered_parties:
            reach = Reach.CHECK
        else:
            continue
        out.append(LetterMatch(letter, product, destination, reach))
    return tuple(out)
