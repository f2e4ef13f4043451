"""Missed deadlines, the records that say so, and escalations."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    m = f.misses
    blocks: list[Block] = [
        Facts(
            [
                (t.lab("missed"), t.n(m.total)),
                (t.lab("misses_by_party"), "; ".join(f"{p}: {t.n(c)}" for p, c in m.by_party.items()) or "–"),
                (t.lab("kind"), "; ".join(f"{t.v(k)}: {t.n(c)}" for k, c in m.by_kind.items()) or "–"),
                (t.lab("miss_records"), t.n(m.deadline_missed_records)),
                (t.lab("escalation_records"), t.n(m.escalation_records)),
            ]
        )
    ]
    if m.items:
        blocks.append(
            Table(
                t.lab("misses"),
                [
                    t.lab("record"),
                    t.lab("type"),
                    t.lab("owed_by"),
                    t.lab("kind"),
                    t.lab("due"),
                    t.lab("met_at"),
                    t.lab("recorded_by"),
                    t.lab("escalation"),
                ],
                [
                    [
                        f"{i.origin}#{i.index}",
                        t.rtype(i.type),
                        i.party,
                        t.v(i.kind),
                        when(i.due),
                        when(i.met_at),
                        ", ".join(i.recorded_by) or "–",
                        ", ".join(map(str, i.escalation_steps)) or "–",
                    ]
                    for i in m.items
                ],
            )
        )
    return Section("misses", t.lab("misses"), blocks)
