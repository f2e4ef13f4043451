"""Evaluation results, pre-registrations and rechecks, by party."""

from __future__ import annotations

from detente.report.blocks import VERDICT_COLOURS, Bars, Block, Facts, Para, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    e = f.evaluations
    blocks: list[Block] = []
    if e.results or e.rechecks or e.preregistrations:
        blocks.append(
            Facts(
                [
                    (t.lab("results"), t.n(e.results)),
                    (t.lab("passed"), t.n(e.passed)),
                    (t.lab("failed"), t.n(e.failed)),
                    (t.lab("unreadable"), t.n(e.unreadable)),
                    (t.lab("preregistered"), t.n(e.preregistrations)),
                    (t.lab("rechecks"), "; ".join(f"{t.v(k)}: {t.n(c)}" for k, c in e.rechecks.items()) or "–"),
                ]
            )
        )
        if e.by_party:
            blocks.append(
                Bars(
                    t.lab("evaluations_party"),
                    list(e.by_party),
                    [
                        (t.lab("passed").text, [float(c["passed"]) for c in e.by_party.values()]),
                        (t.lab("failed").text, [float(c["failed"]) for c in e.by_party.values()]),
                    ],
                    stacked=True,
                    colours=VERDICT_COLOURS,
                )
            )
            blocks.append(
                Table(
                    t.lab("evaluations_party"),
                    [t.lab("party"), t.lab("results"), t.lab("passed"), t.lab("failed")],
                    [[p, t.n(c["results"]), t.n(c["passed"]), t.n(c["failed"])] for p, c in e.by_party.items()],
                    frozenset({1, 2, 3}),
                )
            )
        if e.items:
            blocks.append(
                Table(
                    t.lab("evaluations_items"),
                    [
                        t.lab("issued"),
                        t.lab("record"),
                        t.lab("suite"),
                        t.lab("model"),
                        t.lab("passed"),
                        t.lab("samples"),
                        t.lab("preregistered"),
                    ],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            i.suite,
                            i.model,
                            t.yes(i.passed),
                            t.n(i.sample_count),
                            t.yes(i.preregistered),
                        ]
                        for i in e.items
                    ],
                    frozenset({5}),
                )
            )
    else:
        blocks.append(Para(t.lab("none")))
    return Section("evaluations", t.lab("evaluations"), blocks)
