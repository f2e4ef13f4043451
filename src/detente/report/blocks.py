"""The report's document model, independent of the output format: sections of facts, tables and
charts, and the cells a figure becomes. ``html`` and ``pdf`` render the same :class:`Document`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from detente.records.text import BilingualText
from detente.report.labels import Label

CLOCK_COLOURS = ("#009E73", "#E69F00", "#D55E00", "#7A7A7A")
"""in time (green), late (orange), overdue (vermillion), pending (grey)."""
VERDICT_COLOURS = ("#009E73", "#D55E00", "#7A7A7A", "#0072B2", "#CC79A7")
"""pass, fail, not applicable, then any other verdict."""

__all__ = [
    "CLOCK_COLOURS",
    "VERDICT_COLOURS",
    "Bars",
    "Block",
    "Cell",
    "Document",
    "Facts",
    "Lines",
    "Para",
    "RecordText",
    "Section",
    "Table",
    "duration",
    "record_text",
    "when",
]


@dataclass(frozen=True)
class RecordText:
    """A party's own words: the authoritative original, and a translation into the reader's
    language when the record carries one."""

    original: str
    original_lang: str
    translation: str | None = None
    translation_lang: str | None = None


Cell = str | RecordText


@dataclass(frozen=True)
class Para:
    text: Label


@dataclass(frozen=True)
class Facts:
    rows: list[tuple[Label, str]]


@dataclass(frozen=True)
class Table:
    caption: Label
    columns: list[Label]
    rows: list[list[Cell]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Bars:
    """Horizontal bars: one group per category, one bar per series (or one stacked bar)."""

    title: Label
    categories: list[str]
    series: list[tuple[str, list[float]]]
    stacked: bool = False
    colours: tuple[str, ...] = ()
    """One colour per series where the meaning is fixed (in time, late...); default: the palette."""


@dataclass(frozen=True)
class Lines:
    title: Label
    x_labels: list[str]
    series: list[tuple[str, list[float]]]


Block = Para | Facts | Table | Bars | Lines


@dataclass(frozen=True)
class Section:
    id: str
    heading: Label
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    lang: str
    title: Label
    subtitle: str
    sections: list[Section]


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    units = ("s", "min", "h", "d") if lang == "en" else ("秒", "分钟", "小时", "天")
    if seconds < 120:
        return f"{seconds:.0f} {units[0]}"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} {units[1]}"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} {units[2]}"
    return f"{seconds / 86400:.1f} {units[3]}"


def when(at: datetime | None) -> str:
    return "–" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def record_text(text: BilingualText | None, lang: str) -> Cell:
    if text is None:
        return "–"
    original = text.original
    if original.lang.split("-")[0] == lang:
        return RecordText(original.text, original.lang)
    for tag, translated in text.translations.items():
        if tag.split("-")[0] == lang:
            return RecordText(original.text, original.lang, translated, tag)
    return RecordText(original.text, original.lang)
