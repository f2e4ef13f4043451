"""The quarterly exchange report: figures computed from the logs (pure), rendered as a
self-contained bilingual HTML document and as a PDF, and published as a signed record.

Submodules are imported on first use, so ``detente.report.records`` (which the record catalogue
imports) does not pull in the protocol engine, nor reportlab."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["QuarterlyFigures", "parse_period", "period_name", "quarterly_figures"]

_WHERE = {
    "QuarterlyFigures": "detente.report.figures",
    "parse_period": "detente.report.period",
    "period_name": "detente.report.period",
    "quarterly_figures": "detente.report.quarter",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'detente.report' has no attribute {name!r}")
