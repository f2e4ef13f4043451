"""Withheld notifications against the agreed yearly quota."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Para, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    w = f.withheld
    blocks: list[Block] = []
    if w.total:
        blocks.append(
            Facts(
                [
                    (
                        t.lab("withheld_total"),
                        f"{t.n(w.total)} ({'; '.join(f'{p}: {t.n(c)}' for p, c in w.by_party.items())})",
                    ),
                    (t.lab("withheld_limit"), t.n(w.limit)),
                    (t.lab("over_quota"), t.n(w.over_quota)),
                ]
            )
        )
        if w.excesses:
            blocks.append(
                Table(
                    t.lab("withheld_excesses"),
                    [
                        t.lab("issued"),
                        t.lab("record"),
                        t.lab("number_of_year"),
                        t.lab("category"),
                        t.lab("reason_class"),
                        t.lab("declared"),
                    ],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            f"{i.number} / {i.limit} ({i.year})",
                            i.category,
                            i.reason_class,
                            t.yes(i.declared),
                        ]
                        for i in w.excesses
                    ],
                )
            )
    else:
        blocks.append(Para(t.lab("none")))
    return Section("withheld", t.lab("withheld"), blocks)
