"""The report's sections, one module each, in the order the report shows them. Each module's
``section(figures, cells)`` builds its :class:`~detente.report.blocks.Section`."""

from __future__ import annotations

from collections.abc import Callable

from detente.report.blocks import Section
from detente.report.figures import QuarterlyFigures
from detente.report.sections import (
    commitments,
    deadlines,
    evaluations,
    exportctl,
    hotline,
    incidents,
    labels,
    misses,
    notices,
    sealed,
    summary,
    time,
    verification,
    withheld,
)
from detente.report.sections.cells import Cells

__all__ = ["SECTIONS", "Cells"]

SECTIONS: tuple[Callable[[QuarterlyFigures, Cells], Section], ...] = (
    summary.section,
    notices.section,
    withheld.section,
    deadlines.section,
    time.section,
    sealed.section,
    misses.section,
    hotline.section,
    incidents.section,
    evaluations.section,
    labels.section,
    exportctl.section,
    commitments.section,
    verification.section,
)
