"""China's export-control lists as dated data a classification cites (``data/cn-lists.json``).

Beyond the legal bases and the technology catalogue in the ``cn-ecl`` pack, an export from China
is checked against the **Dual-Use Items Export Control List** (items, in force 1 Dec 2024), the
**export-control control list** of controlled parties (出口管制管控名单) and the **Unreliable
Entity List** (不可靠实体清单). detente does not screen parties; each ``cn-ecl`` answer names the
lists in effect on its date, with the announcements (number, date, what it did, source) up to
that date, so an officer can check the item and the end user against them.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detente.exportctl.packaged import load_packaged
from detente.exportctl.provenance import Unverified

__all__ = ["Announcement", "PartyList", "lists", "lists_for"]


class Announcement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(min_length=1, max_length=256, description="e.g. MOFCOM Announcement 2024 No. 51")
    published: date
    effective: date | None = None
    what: str = Field(min_length=1, max_length=2048)
    quality: Literal["M", "S"] = Field(description="M the announcement's text (or a verbatim reprint); S a report")
    source: str = Field(min_length=1, max_length=512)
    url: str | None = Field(default=None, max_length=1024)
    checked: date | None = None


class PartyList(BaseModel):
    """One list: what it is, what listing means, its AI relevance and its announcements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,63}$")
    regime: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    kind: Literal["items", "parties"]
    title: str = Field(min_length=1, max_length=256)
    title_zh: str = Field(min_length=1, max_length=256)
    authority: str = Field(min_length=1, max_length=512)
    legal_basis: str = Field(min_length=1, max_length=512)
    since: date = Field(description="the first announcement recorded here")
    meaning: str = Field(min_length=1, max_length=2048)
    ai_relevance: str = Field(min_length=1, max_length=2048)
    announcements: tuple[Announcement, ...] = Field(min_length=1)
    unverified: tuple[Unverified, ...] = ()

    def as_of(self, on: date) -> tuple[Announcement, ...]:
        return tuple(a for a in self.announcements if a.published <= on)

    def as_answer(self, on: date) -> dict[str, object]:
        out: dict[str, object] = self.model_dump(mode="json", exclude={"announcements", "unverified"})
        out["announcements"] = [a.model_dump(mode="json", exclude_none=True) for a in self.as_of(on)]
        out["unverified"] = [u.model_dump() for u in self.unverified]
        return out

    def describe(self, on: date) -> list[str]:
        screen = "check the item against it" if self.kind == "items" else "screen the end user against it"
        lines = [f"    {self.id}: {self.title} ({self.title_zh}), since {self.since} — {screen}"]
        lines.append(f"      {self.meaning}")
        lines.append(f"      AI: {self.ai_relevance}")
        for a in self.as_of(on):
            lines.append(f"      {a.published}: {a.number} [{a.quality}] — {a.what} (source: {a.source})")
        return lines


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["detente.exportctl.lists/1"]
    description: str = ""
    lists: tuple[PartyList, ...]


@cache
def lists() -> tuple[PartyList, ...]:
    """Every recorded list, in file order."""
    return load_packaged(_Lists, "cn-lists.json").lists


def lists_for(regime: str, on: date) -> tuple[PartyList, ...]:
    """The lists of ``regime`` with an announcement on or before ``on``."""
    return tuple(x for x in lists() if x.regime == regime and x.since <= on)
