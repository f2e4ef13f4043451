"""Table column widths for the PDF that never force a word apart.

reportlab cuts a word that is wider than its column (``splitLongWords``), and in its ``CJK`` mode
it may cut a Latin word that runs past the line end. So each column gets at least its
*min-content* width, the widest unbreakable piece of any of its cells (a Latin word, a number, an
identifier such as ``us.example/log``; a Chinese character, since Chinese breaks between
characters) plus padding; what is left of the page width goes to the columns in proportion to
the layout's preferred widths. When even the min-content widths do not fit, the table's font is
made smaller until they do (down to :data:`MIN_SIZE`; past that the widths are scaled to the page
and a word wider than its column is cut, as reportlab does). Pure: texts and sizes in, widths and
a size out."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["MIN_SIZE", "fit_columns", "pieces"]

MIN_SIZE = 5.5
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_PIECE = re.compile(f"[{_WIDE}]|[^\\s{_WIDE}]+")


def pieces(text: str) -> list[str]:
    """The unbreakable pieces of ``text``: each Chinese character or punctuation mark, and each
    run of other non-space characters (a word)."""
    return _PIECE.findall(text)


def _need(
    cells: Sequence[Sequence[str]], n: int, size: float, padding: float, measure: Callable[[str, float], float]
) -> list[float]:
    """Each column's min-content width at ``size``."""
    need = [padding] * n
    for row in cells:
        for i, text in enumerate(row[:n]):
            for piece in pieces(text):
                need[i] = max(need[i], measure(piece, size) + padding)
    return need


def _share(preferred: Sequence[float], need: Sequence[float]) -> list[float]:
    """``preferred`` widths with each raised to its ``need``, the excess taken from the columns with
    room in proportion to their room; scaled to the total when the needs alone exceed it."""
    total, n = sum(preferred), len(preferred)
    widths = [max(w, m) for w, m in zip(preferred, need, strict=True)]
    excess = sum(widths) - total
    room = sum(w - m for w, m in zip(widths, need, strict=True) if w > m)
    if excess > 1e-6 and room > 0:
        take = min(excess, room)
        widths = [w - take * (w - m) / room if w > m else w for w, m in zip(widths, need, strict=True)]
    if sum(widths) > total + 1e-6:  # the min-content widths do not fit even at MIN_SIZE: scale them
        widths = [w * total / sum(widths) for w in widths]
    return widths[:n]


def fit_columns(
    cells: Sequence[Sequence[str]],
    preferred: Sequence[float],
    *,
    size: float,
    padding: float,
    measure: Callable[[str, float], float],
) -> tuple[list[float], float]:
    """Widths (summing to ``sum(preferred)``) and a font size such that every piece of every
    cell of each column (``cells[row][column]``, all rows including the header) fits its column.
    ``measure(text, size)`` is the text's width at ``size``."""
    n = len(preferred)
    current = size
    need = _need(cells, n, current, padding, measure)
    while sum(need) > sum(preferred) and current > MIN_SIZE:
        current = max(MIN_SIZE, round(current * 0.92, 2))
        need = _need(cells, n, current, padding, measure)
    return _share(preferred, need), current
