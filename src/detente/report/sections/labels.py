"""AIGC label checks by regime, and takedown requests."""

from __future__ import annotations

from detente.report.blocks import VERDICT_COLOURS, Bars, Block, Section, Table, duration
from detente.report.figures import QuarterlyFigures
from detente.report.labels import Label
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    lb, td = f.labels, f.takedowns
    blocks: list[Block] = []
    if lb.checks:
        verdicts = ["pass", "fail", "not-applicable"]
        verdicts += sorted({k for c in lb.by_regime.values() for k in c} - set(verdicts))
        blocks.append(
            Bars(
                t.lab("labels_regime"),
                list(lb.by_regime),
                [(t.v(k), [float(c.get(k, 0)) for c in lb.by_regime.values()]) for k in verdicts],
                stacked=True,
                colours=VERDICT_COLOURS,
            )
        )
        blocks.append(
            Table(
                t.lab("labels_regime"),
                [t.lab("regime"), t.lab("checks"), *[Label(t.v(k), t.lang, k, "en") for k in verdicts]],
                [[r, t.n(sum(c.values())), *[t.n(c.get(k, 0)) for k in verdicts]] for r, c in lb.by_regime.items()],
                frozenset(range(1, 2 + len(verdicts))),
            )
        )
    blocks.append(
        Table(
            t.lab("takedowns"),
            [t.lab("requested"), t.lab("acted"), t.lab("declined"), t.lab("missed"), t.lab("pending"), t.lab("median")],
            [
                [
                    t.n(td.requested),
                    t.n(td.acted),
                    t.n(td.declined),
                    t.n(td.missed),
                    t.n(td.pending),
                    duration(td.answer.median_seconds, t.lang),
                ]
            ],
            frozenset(range(6)),
        )
    )
    if td.by_category:
        blocks.append(t.counts("takedowns", "category", td.by_category))
    return Section("labels", t.lab("labels"), blocks)
