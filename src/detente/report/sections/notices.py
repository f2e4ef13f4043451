"""Notices sent and received, by type, by counterpart and by week."""

from __future__ import annotations

from detente.report.blocks import Bars, Block, Lines, Para, Section, Table
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    blocks: list[Block] = []
    if f.notices:
        types = [t.rtype(r.type) for r in f.notices]
        blocks.append(
            Bars(
                t.lab("notices_chart"),
                types,
                [
                    (t.lab("sent").text, [float(r.sent) for r in f.notices]),
                    (t.lab("received").text, [float(r.received) for r in f.notices]),
                ],
            )
        )
        blocks.append(
            Table(
                t.lab("notices"),
                [t.lab("type"), t.lab("sent"), t.lab("received"), t.lab("others")],
                [[t.rtype(r.type), t.n(r.sent), t.n(r.received), t.n(r.others)] for r in f.notices],
                frozenset({1, 2, 3}),
            )
        )
        blocks.append(
            Table(
                t.lab("exchanges"),
                [t.lab("counterpart"), t.lab("sent_to"), t.lab("received_from")],
                [[e.party, t.n(e.sent_to), t.n(e.received_from)] for e in f.exchanges],
                frozenset({1, 2}),
            )
        )
        if f.pairs:
            blocks.append(
                Table(
                    t.lab("pairs"),
                    [
                        t.lab("pair"),
                        t.lab("notices_col"),
                        t.lab("received_in_time"),
                        t.lab("answered_in_time"),
                        t.lab("missed_col"),
                        t.lab("silent"),
                    ],
                    [
                        [
                            f"{p.sender} → {p.to}",
                            t.n(p.notices),
                            t.n(p.received_in_time),
                            f"{t.n(p.answered_in_time)} / {t.n(p.answers_owed)}",
                            t.n(p.missed),
                            t.yes(p.silent),
                        ]
                        for p in f.pairs
                    ],
                    frozenset({1, 2, 3, 4}),
                )
            )
    else:
        blocks.append(Para(t.lab("none")))
    if f.weeks:
        blocks.append(
            Lines(
                t.lab("weeks_chart"),
                [f"{w.start:%m-%d}" for w in f.weeks],
                [
                    (t.lab("sent").text, [float(w.sent) for w in f.weeks]),
                    (t.lab("received").text, [float(w.received) for w in f.weeks]),
                    (t.lab("hotline_col").text, [float(w.hotline) for w in f.weeks]),
                    (t.lab("incidents_col").text, [float(w.incidents) for w in f.weeks]),
                ],
            )
        )
        blocks.append(
            Table(
                t.lab("weeks_chart"),
                [t.lab("week"), t.lab("sent"), t.lab("received"), t.lab("hotline_col"), t.lab("incidents_col")],
                [
                    [f"{w.start:%Y-%m-%d}", t.n(w.sent), t.n(w.received), t.n(w.hotline), t.n(w.incidents)]
                    for w in f.weeks
                ],
                frozenset({1, 2, 3, 4}),
            )
        )
    return Section("notices", t.lab("notices"), blocks)
