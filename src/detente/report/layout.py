"""The report's content, independent of the output format: sections of facts, tables and charts
built from the figures in one language. ``html`` and ``pdf`` render the same :class:`Document`,
so both formats always say the same thing.

The document model is :mod:`detente.report.blocks`; each section is built by its own module under
:mod:`detente.report.sections`, in the order of :data:`~detente.report.sections.SECTIONS`."""

from __future__ import annotations

from detente.report.blocks import Bars, Block, Document, Facts, Lines, Para, RecordText, Section, Table, duration
from detente.report.figures import QuarterlyFigures
from detente.report.sections import SECTIONS, Cells

__all__ = [
    "Bars",
    "Block",
    "Document",
    "Facts",
    "Lines",
    "Para",
    "RecordText",
    "Section",
    "Table",
    "build_document",
    "duration",
]


def build_document(f: QuarterlyFigures, lang: str) -> Document:
    """Every section of the report for figures ``f``, with ``lang`` as the primary language."""
    cells = Cells(lang)
    return Document(lang, cells.lab("title"), f"{f.period} · {f.party}", [section(f, cells) for section in SECTIONS])
