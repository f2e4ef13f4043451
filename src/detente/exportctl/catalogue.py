"""Real accelerators with their public figures, each figure with its source.

The catalogue (``data/accelerators.json``) holds at least every chip of the research table
(``shared/specs/media-export.md`` §B5). Sources are tagged like the research: [M] primary,
[S] secondary, [MEM] from memory and not re-verified, [RUN] computed. Figures are datasheet
*dense* rates; where a vendor quotes only sparse rates the entry says how the dense one was
derived.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import MalformedRecord
from detente.exportctl.item import DenseRate, Item
from detente.exportctl.rules import ItemKind

__all__ = ["CatalogueEntry", "Figure", "Flag", "Rate", "catalogue", "lookup"]


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(ge=0)
    source: str = Field(min_length=1, max_length=1024)


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: bool
    source: str = Field(min_length=1, max_length=1024)


class Rate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tops: float = Field(ge=0, description="dense peak TOPS/TFLOPS (no sparsity)")
    bits: int = Field(gt=0)
    format: str = Field(default="", max_length=16, description="e.g. FP8, INT8, BF16")
    source: str = Field(min_length=1, max_length=1024)


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
        )

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
    path = resources.files("detente.exportctl") / "data" / "accelerators.json"
    try:
        data = _Catalogue.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValidationError as exc:  # a packaging bug, not user input: fail loudly
        raise RuntimeError(describe_validation_error(exc, "accelerator catalogue")) from None
    return data.accelerators


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
