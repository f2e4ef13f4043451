"""Which facts a classification relies on that were not verified against a primary source.

Every fact in the rule packs, the accelerator catalogue and the letters carries its source (a URL
and a date where there is one). A fact that could not be checked against a primary text (a
Federal Register document, eCFR, a MOFCOM announcement, a vendor datasheet) is marked
``unverified`` with the reason; :func:`unverified_facts` gathers those an answer relies on, so
that every answer (text, JSON, console) says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from detente.exportctl.classify import Classification, ClauseResult

__all__ = ["UNVERIFIED_WARNING", "Unverified", "UnverifiedFact", "unverified_facts"]

UNVERIFIED_WARNING: dict[str, str] = {
    "en": (
        "This answer relies on facts that were not verified against a primary source (listed under "
        "'unverified'): check each one against the rule text before relying on the answer."
    ),
    "zh": "本结果依赖未经原始来源核实的事实（见“unverified”列表）：依赖本结果之前，请逐项对照法规原文核实。",
}
"""Said by every answer that relies on an unverified fact, in English and Chinese."""


class Unverified(BaseModel):
    """A fact of a source that was not verified against a primary text, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: str = Field(min_length=1, max_length=512, description="the fact, e.g. 'published 5 Dec 2024'")
    reason: str = Field(min_length=1, max_length=1024, description="why it could not be verified")


@dataclass(frozen=True, slots=True)
class UnverifiedFact:
    """An unverified fact that one answer relies on, and where it comes from."""

    where: str  # e.g. "us-ear 3A090.c", "catalogue NVIDIA H20: die_area_mm2", "letter BIS-2025-04-NVIDIA-H20"
    fact: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "fact": self.fact, "reason": self.reason}

    def describe(self) -> str:
        return f"{self.where}: {self.fact} — {self.reason}"


def _clause_facts(regime: str, result: ClauseResult) -> list[UnverifiedFact]:
    clause = result.clause
    where = f"{regime} {clause.id} (version {clause.version})"
    out = [UnverifiedFact(where, u.fact, u.reason) for u in clause.source.unverified]
    change = clause.status_on(result.status_since) if result.status_since else None
    if change is not None and change.source is not None:
        since = f"{where}, status since {change.since}"
        out += [UnverifiedFact(since, u.fact, u.reason) for u in change.source.unverified]
    for req in clause.requirements or ():
        if not req.verified:
            out.append(UnverifiedFact(f"{where}, condition {req.id}", req.text, f"[{req.quality}] {req.citation}"))
    return out


def unverified_facts(c: Classification) -> tuple[UnverifiedFact, ...]:
    """Every unverified fact the answer ``c`` relies on: the item's catalogue figures, each clause it
    reports (controls, exclusions, licence exceptions, licensing policies and their conditions, legal
    bases, the status in force), and the is-informed letters it names. No duplicates, in order."""
    item = f"catalogue {c.item.name}"
    out: list[UnverifiedFact] = [UnverifiedFact(item, fact, reason) for _, fact, reason in c.item.unverified]
    for regime in c.regimes:
        name = regime.pack.regime
        for result in regime.controls + regime.exclusions + regime.exceptions + regime.policies:
            out += _clause_facts(name, result)
        for basis in regime.legal_basis:
            where = f"{name} {basis.id} (legal basis)"
            out += [UnverifiedFact(where, u.fact, u.reason) for u in basis.source.unverified]
            change = basis.status_on(c.as_of)
            if change is not None and change.source is not None:
                out += [UnverifiedFact(where, u.fact, u.reason) for u in change.source.unverified]
        for match in regime.letters:
            if match.unverified:
                out.append(UnverifiedFact(f"letter {match.letter.id}", match.letter.requirement, match.quality_note()))
        for party_list in regime.party_lists:
            out += [UnverifiedFact(f"{name} list {party_list.id}", u.fact, u.reason) for u in party_list.unverified]
    return _merge(out)


def _merge(facts: list[UnverifiedFact]) -> tuple[UnverifiedFact, ...]:
    """One entry per (fact, reason), naming every place it comes from, in first-seen order."""
    places: dict[tuple[str, str], list[str]] = {}
    for f in facts:
        where = places.setdefault((f.fact, f.reason), [])
        if f.where not in where:
            where.append(f.where)
    return tuple(UnverifiedFact("; ".join(w), fact, reason) for (fact, reason), w in places.items())
