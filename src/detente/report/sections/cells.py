"""How a figure becomes a cell or a label in the reader's language: the few helpers every section
of the report shares."""

from __future__ import annotations

from detente.report.blocks import Bars, Cell, Table, duration
from detente.report.figures import Clock
from detente.report.labels import Label, label, value
from detente.report.record_types import type_name

__all__ = ["Cells"]

_CLOCK_KEYS = ("total", "in_time", "late", "overdue", "pending", "median", "p90")


class Cells:
    """Labels, values and numbers in ``lang``, the report's primary language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.clock_cols = [self.lab(k) for k in _CLOCK_KEYS]
        """The column labels of :meth:`clock_cells`."""

    def lab(self, key: str) -> Label:
        return label(key, self.lang)

    def v(self, text: str) -> str:
        return value(text, self.lang)

    def rtype(self, record_type: str) -> str:
        """A record type (``detente.dev/hotline-message/v1`` or ``hotline-message``) named in the reader's language."""
        parts = record_type.split("/")
        return type_name(parts[-2] if len(parts) >= 3 else record_type, self.lang)

    @staticmethod
    def n(x: int) -> str:
        return f"{x:,}"

    def yes(self, b: bool | None) -> str:
        return "–" if b is None else self.lab("yes" if b else "no").text

    def clock_cells(self, c: Clock) -> list[Cell]:
        n = self.n
        return [
            n(c.total),
            n(c.in_time),
            n(c.late),
            n(c.overdue),
            n(c.pending),
            duration(c.median_seconds, self.lang),
            duration(c.p90_seconds, self.lang),
        ]

    def counts(self, caption: str, first: str, data: dict[str, int]) -> Table:
        rows: list[list[Cell]] = [[self.v(k), self.n(c)] for k, c in data.items()]
        return Table(self.lab(caption), [self.lab(first), self.lab("count")], rows, frozenset({1}))

    def single_bars(self, title: str, data: dict[str, int], series: str) -> Bars:
        return Bars(
            self.lab(title), [self.v(k) for k in data], [(self.lab(series).text, [float(c) for c in data.values()])]
        )
