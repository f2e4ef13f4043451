"""Hotline messages by priority and topic, with acknowledgement times."""

from __future__ import annotations

from detente.report.blocks import Block, Para, Section, Table, record_text, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    h = f.hotline
    blocks: list[Block] = []
    if h.total:
        blocks.append(t.single_bars("hotline_priority", h.by_priority, "messages"))
        blocks.append(
            Table(
                t.lab("hotline_priority"),
                [t.lab("priority"), t.lab("messages"), *t.clock_cols],
                [[t.v(r.priority), t.n(r.messages), *t.clock_cells(r)] for r in h.acknowledgement],
                frozenset(range(1, 9)),
            )
        )
        blocks.append(t.counts("hotline_topic", "topic", h.by_topic))
        if h.items:
            blocks.append(
                Table(
                    t.lab("hotline_items"),
                    [
                        t.lab("issued"),
                        t.lab("record"),
                        t.lab("priority"),
                        t.lab("topic"),
                        t.lab("state"),
                        t.lab("text"),
                    ],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            t.v(i.priority) + (f" ({i.code})" if i.code else ""),
                            t.v(i.topic),
                            ", ".join(f"{p}: {t.v(s)}" for p, s in i.state.items()),
                            record_text(i.text, t.lang),
                        ]
                        for i in h.items
                    ],
                )
            )
    else:
        blocks.append(Para(t.lab("none")))
    return Section("hotline", t.lab("hotline"), blocks)
