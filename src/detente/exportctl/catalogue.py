"""Real accelerators with their public figures, each figure with its source.

The catalogue (``data/accelerators.json``) holds 21 real chips. Sources are tagged [M] primary
(a vendor datasheet or whitepaper), [S] secondary, [RUN] computed; each figure may give the
``url`` of the text read and the day it was ``checked``. A figure not verified against a primary
source carries ``unverified`` (the reason), and every classification of the chip says so.
Figures are datasheet *dense* rates; where a vendor quotes only sparse rates the entry says how
the dense one was derived.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from detente.errors import MalformedRecord
from detente.exportctl.item import DenseRate, Item
from detente.exportctl.packaged import load_packaged
from detente.exportctl.rules import ItemKind

__all__ = ["CatalogueEntry", "Figure", "Flag", "Rate", "catalogue", "lookup"]


class _Sourced(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1, max_length=1024)
    url: str | None = Field(default=None, max_length=1024)
    checked: date | None = Field(default=None, description="the day the text at url was read")
    unverified: str | None = Field(default=None, max_length=1024, description="why it is not verified")


class Figure(_Sourced):
    value: float = Field(ge=0)


class Flag(_Sourced):
    value: bool


class Rate(_Sourced):
    tops: float = Field(ge=0, description="dense peak TOPS/TFLOPS (no sparsity)")
    bits: int = Field(gt=0)
    format: str = Field(default="", max_length=16, description="e.g. FP8, INT8, BF16")


class CatalogueEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128)
    aliases: tuple[str, ...] = ()
    vendor: str = Field(min_length=1, max_length=64)
    kind: ItemKind = ItemKind.INTEGRATED_CIRCUIT
    dense: tuple[Rate, ...] = ()
    die_area_mm2: Figure | None = None
    dram_bandwidth_gbps: Figure | None = None
    io_bandwidth_gbps: Figure | None = None
    datacenter: Flag | None = None
    notes: str = Field(default="", max_length=4096)

    def item(self) -> Item:
        """The entry's figures as an :class:`Item` for :func:`~detente.exportctl.classify.classify`."""
        return Item(
            name=self.name,
            kind=self.kind,
            dense=tuple(DenseRate(r.tops, r.bits) for r in self.dense),
            die_area_mm2=self.die_area_mm2.value if self.die_area_mm2 else None,
            dram_bandwidth_gbps=self.dram_bandwidth_gbps.value if self.dram_bandwidth_gbps else None,
            io_bandwidth_gbps=self.io_bandwidth_gbps.value if self.io_bandwidth_gbps else None,
            datacenter=self.datacenter.value if self.datacenter else None,
            unverified=self.unverified(),
        )

    def _figures(self) -> list[tuple[str, str, _Sourced]]:
        """(item field, figure as shown, its record) for every figure."""
        out: list[tuple[str, str, _Sourced]] = [("dense", f"dense {r.tops:g}@{r.bits}", r) for r in self.dense]
        for name in ("die_area_mm2", "dram_bandwidth_gbps", "io_bandwidth_gbps", "datacenter"):
            figure = getattr(self, name)
            if figure is not None:
                shown = f"{figure.value:g}" if isinstance(figure, Figure) else str(figure.value)
                out.append((name, f"{name} = {shown}", figure))
        return out

    def unverified(self) -> tuple[tuple[str, str, str], ...]:
        """(item field, figure, reason) for each figure not verified against a primary source."""
        return tuple((field, shown, f.unverified) for field, shown, f in self._figures() if f.unverified)

    def sources(self) -> dict[str, str]:
        """Each figure's source, keyed by figure (dense rates as ``dense VALUE@BITS``)."""
        out = {f"dense {r.tops:g}@{r.bits}": r.source for r in self.dense}
        for name in ("die_area_mm2", "dram_bandwidth_gbps", "io_bandwidth_gbps", "datacenter"):
            figure = getattr(self, name)
            if figure is not None:
                out[name] = figure.source
        return out


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    accelerators: tuple[CatalogueEntry, ...]


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


@cache
def catalogue() -> tuple[CatalogueEntry, ...]:
    """Every catalogued accelerator, in file order."""
    return load_packaged(_Catalogue, "accelerators.json").accelerators


@cache
def _index() -> dict[str, CatalogueEntry]:
    out: dict[str, CatalogueEntry] = {}
    for entry in catalogue():
        bare = entry.name.removeprefix(entry.vendor).strip()  # "NVIDIA H20" is also "H20"
        for name in dict.fromkeys((entry.name, bare, *entry.aliases)):
            key = _key(name)
            if key in out and out[key] is not entry:
                raise RuntimeError(f"catalogue name {name!r} is ambiguous")
            out[key] = entry
    return out


def lookup(name: str) -> CatalogueEntry:
    """The entry named ``name`` (or one of its aliases), ignoring case, spaces and punctuation.

    Raises :class:`MalformedRecord` listing close names when there is no such entry.
    """
    key = _key(name)
    found = _index().get(key) if key else None
    if found is not None:
        return found
    names = [e.name for e in catalogue()]
    close = [n for n in names if key and key in _key(n)]
    close += [n for n in difflib.get_close_matches(name, names, n=5, cutoff=0.5) if n not in close]
    hint = f"did you mean: {'; '.join(close[:8])}" if close else "list the catalogue with: detente exportctl catalogue"
    raise MalformedRecord(f"no accelerator named {name!r} in the catalogue", hint=hint)
