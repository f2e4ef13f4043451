"""The reporting regimes as data (``regimes.json``, shipped with the package): per regime its
primary source, the date its obligation applies from, its status (in force, or only proposed),
what must hold for it to apply, and its clocks, each a set of triggered windows of which the
strictest that holds applies. Pure: the file is read once, from the package."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ClockRule", "Regime", "Requirement", "Window", "regime_ids", "regimes"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Frozen):
    when: str
    otherwise: str = Field(description="why the regime does not apply when this does not hold")


class Window(_Frozen):
    when: str = Field(description="the condition that triggers this window (see clocks.CONDITIONS)")
    hours: int = 0
    days: int = 0
    months: int = 0
    basis: str
    quote: str = ""

    @model_validator(mode="after")
    def _one(self) -> Window:
        if sum(1 for n in (self.hours, self.days, self.months) if n) != 1:
            raise ValueError("a window is a number of hours, days or months")
        return self


class ClockRule(_Frozen):
    name: str
    obligation: str
    starts: str = Field(pattern=r"^(aware|ransom-paid|handling-ended|met:.+)$")
    met_by: Literal["first", "first-after-start", "update-or-final", "final"]
    strictest_of: tuple[Window, ...] = Field(min_length=1)


class Regime(_Frozen):
    id: str = Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]+)?$")
    name: str
    citation: str
    url: str
    status: Literal["in-force", "proposed"]
    applies_from: datetime | None
    applies_from_source: str
    verified: bool
    note: str = ""
    requires: tuple[Requirement, ...] = ()
    clocks: tuple[ClockRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _honest(self) -> Regime:
        if self.status == "proposed" and self.applies_from is not None:
            raise ValueError(f"{self.id}: a proposed rule has no date it applies from")
        return self


class _File(_Frozen):
    about: str
    regimes: tuple[Regime, ...]


@cache
def regimes() -> tuple[Regime, ...]:
    """Every regime in the packaged data, in file order."""
    text = (resources.files("detente.incidents") / "regimes.json").read_text(encoding="utf-8")
    return _File.model_validate(json.loads(text)).regimes


def regime_ids() -> frozenset[str]:
    return frozenset(r.id for r in regimes())
