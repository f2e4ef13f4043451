"""Helpers for the export-control tests: a synthetic-IC builder and a US classification shortcut."""

from __future__ import annotations

from datetime import date

from detente.exportctl import Classification, Item, builtin_pack, classify

NOW = date(2026, 6, 1)


def ic(tpp: float, area: float | None = None, *, datacenter: bool | None = True, **more: object) -> Item:
    """An IC whose only dense rate is ``tpp / 8`` TOPS at 8 bits (so its TPP is ``tpp``)."""
    return Item(f"test IC (TPP {tpp})", dense=((tpp / 8, 8),), die_area_mm2=area, datacenter=datacenter, **more)  # type: ignore[arg-type]


def us_result(item: Item, on: date = NOW) -> Classification:
    return classify(item, [builtin_pack("us-ear")], on)


def outcome(result: Classification, clause_id: str) -> str:
    return result.result(clause_id).outcome.value
