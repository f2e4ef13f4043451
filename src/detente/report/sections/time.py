"""Claims of time the witnesses contradict (``docs/time.md``)."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Para, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    c = f.time_claims
    blocks: list[Block] = [Para(t.lab("time_model"))]
    if not c.total:
        blocks.append(Para(t.lab("none")))
        return Section("time_claims", t.lab("time_claims"), blocks)
    by_party = "; ".join(f"{p}: {t.n(n)}" for p, n in c.by_party.items())
    blocks.append(Facts([(t.lab("time_claims_total"), f"{t.n(c.total)} ({by_party})")]))
    if c.items:
        blocks.append(
            Table(
                t.lab("time_claims_items"),
                [
                    t.lab("record"),
                    t.lab("thread"),
                    t.lab("issued"),
                    t.lab("witnessed_from"),
                    t.lab("witnessed_by"),
                    t.lab("witnesses"),
                ],
                [
                    [
                        i.record,
                        i.thread,
                        when(i.issued),
                        when(i.witnessed_from) if i.witnessed_from else "-",
                        when(i.witnessed_by) if i.witnessed_by else "-",
                        ", ".join(i.witnesses) or "-",
                    ]
                    for i in c.items
                ],
            )
        )
    return Section("time_claims", t.lab("time_claims"), blocks)
