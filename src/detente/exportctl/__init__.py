"""Export controls on AI items: rule packs as versioned data, a classifier and a chip catalogue.

Pure: figures and packs in, an explanation out. The only files read are the package's own packs
(``packs/*.json``), catalogue (``data/accelerators.json``) and letters (``data/letters.json``).

- :mod:`detente.exportctl.rules` — rule packs (regime, version, clauses with conditions as data,
  effective dates, status history and sources), their JSON Schema, loader and digest.
- :mod:`detente.exportctl.item` — an item's figures (dense rates, die area, bandwidths, …) and
  the derived metrics (TPP, performance density, HBM bandwidth density).
- :mod:`detente.exportctl.classify` — ``classify(item, packs, as_of)``: which clauses matched or
  nearly matched, with the numbers compared, as text an export officer can check and as JSON.
- :mod:`detente.exportctl.catalogue` — real accelerators with their public figures and sources.
- :mod:`detente.exportctl.letters` — licence requirements BIS set by letters to individual
  companies ("is-informed" letters, ``data/letters.json``), dated, with their sources.
"""

from __future__ import annotations

from detente.exportctl.catalogue import CatalogueEntry, catalogue, lookup
from detente.exportctl.classify import Classification, ClauseResult, Outcome, TestResult, classify
from detente.exportctl.item import DenseRate, Item, ItemKind, parse_dense_rate
from detente.exportctl.rules import (
    Clause,
    ClauseKind,
    Comparator,
    Condition,
    Parameter,
    RulePack,
    Status,
    builtin_pack,
    builtin_packs,
    load_pack,
    pack_json_schema,
)

__all__ = [
    "CatalogueEntry",
    "Classification",
    "Clause",
    "ClauseKind",
    "ClauseResult",
    "Comparator",
    "Condition",
    "DenseRate",
    "Item",
    "ItemKind",
    "Outcome",
    "Parameter",
    "RulePack",
    "Status",
    "TestResult",
    "builtin_pack",
    "builtin_packs",
    "catalogue",
    "classify",
    "load_pack",
    "lookup",
    "pack_json_schema",
    "parse_dense_rate",
]
