"""The summary: the period, the parties and the records issued."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Para, Section, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    facts = [
        (t.lab("period"), f"{f.period} ({f.start:%Y-%m-%d} – {f.end:%Y-%m-%d})"),
        (t.lab("party"), f.party),
        (t.lab("agreement"), f.agreement),
        (t.lab("parties"), ", ".join(f.parties)),
        (t.lab("records"), t.n(f.records)),
        (t.lab("as_of"), when(f.as_of)),
        (t.lab("generated_at"), when(f.generated_at)),
    ]
    summary: list[Block] = [Facts(facts)]
    if f.items_omitted:
        summary.append(Para(t.lab("items_omitted")))
    return Section("summary", t.lab("summary"), summary)
