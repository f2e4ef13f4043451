"""Running tallies the quarterly report folds records into one at a time, so that a quarter is
read from the store page by page and never held whole: a deadline clock (counts and the waits its
percentiles need) and the first ``n`` items of a list in a given order. Pure."""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

from detente.protocol.threads import Obligation

__all__ = ["ClockTally", "Top", "nearest_rank"]

T = TypeVar("T")


def nearest_rank(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the values
    at or below it (the median of 1, 2, 3, 4 is 2)."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


class ClockTally:
    """How a group of obligations stands at ``as_of``: in time, late, overdue, pending, and the
    median and 90th percentile of the time taken to meet them. The waits are kept as 8-byte floats
    (an exact percentile needs every one): 8 bytes per obligation met, not the obligation."""

    __slots__ = ("as_of", "counts", "waits")

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.counts = dict.fromkeys(("in_time", "late", "overdue", "pending"), 0)
        self.waits = array("d")

    def add(self, ob: Obligation) -> None:
        if ob.met_at is not None:
            self.waits.append((ob.met_at - ob.window_start).total_seconds())
            self.counts["in_time" if ob.met_at <= ob.due else "late"] += 1
        elif self.as_of >= ob.due:
            self.counts["overdue"] += 1
        else:
            self.counts["pending"] += 1

    def add_all(self, obligations: Iterable[Obligation]) -> ClockTally:
        for ob in obligations:
            self.add(ob)
        return self

    def row(self) -> dict[str, Any]:
        c = self.counts
        waits = sorted(self.waits)
        return {
            "total": sum(c.values()),
            "in_time": c["in_time"],
            "late": c["late"],
            "overdue": c["overdue"],
            "pending": c["pending"],
            "missed": c["late"] + c["overdue"],
            "median_seconds": nearest_rank(waits, 0.5),
            "p90_seconds": nearest_rank(waits, 0.9),
        }


class Top(Generic[T]):
    """The first ``n`` of the items added, as ``sorted(items, key=key, reverse=reverse)[:n]`` would
    give them, holding at most ``2 n`` items: past that the list is sorted and cut back to ``n``
    (a stable sort, so items with equal keys keep the order they were added in, as in one sort)."""

    __slots__ = ("items", "key", "n", "reverse")

    def __init__(self, n: int, key: Callable[[T], Any], *, reverse: bool = False) -> None:
        self.n, self.key, self.reverse = n, key, reverse
        self.items: list[T] = []

    def add(self, item: T) -> None:
        self.items.append(item)
        if len(self.items) >= 2 * self.n + 1:
            self.items = self.first()

    def first(self) -> list[T]:
        return sorted(self.items, key=self.key, reverse=self.reverse)[: self.n]
