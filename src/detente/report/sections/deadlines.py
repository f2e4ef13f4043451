"""Response times against the agreement's deadlines, by kind and party, and by notice type."""

from __future__ import annotations

from collections.abc import Sequence

from detente.report.blocks import CLOCK_COLOURS, Bars, Block, Cell, Para, Section, Table
from detente.report.figures import DeadlineRow, QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    blocks: list[Block] = []
    if f.deadline_totals:
        blocks.append(
            Bars(
                t.lab("deadline_chart"),
                [f"{t.v(r.kind)} · {r.party}" for r in f.deadline_totals],
                [
                    (t.v(k), [float(getattr(r, k)) for r in f.deadline_totals])
                    for k in ("in_time", "late", "overdue", "pending")
                ],
                stacked=True,
                colours=CLOCK_COLOURS,
            )
        )
        blocks.append(
            Table(
                t.lab("deadline_totals"),
                [t.lab("kind"), t.lab("owed_by"), *t.clock_cols],
                _rows(t, f.deadline_totals, False),
                frozenset(range(2, 9)),
            )
        )
        blocks.append(
            Table(
                t.lab("deadlines"),
                [t.lab("type"), t.lab("kind"), t.lab("owed_by"), *t.clock_cols],
                _rows(t, f.deadlines, True),
                frozenset(range(3, 10)),
            )
        )
    else:
        blocks.append(Para(t.lab("none")))
    return Section("deadlines", t.lab("deadlines"), blocks)


def _rows(t: Cells, rows: Sequence[DeadlineRow], with_type: bool) -> list[list[Cell]]:
    out: list[list[Cell]] = []
    for r in rows:
        out.append([*([t.rtype(r.type)] if with_type else []), t.v(r.kind), r.party, *t.clock_cells(r)])
    return out
