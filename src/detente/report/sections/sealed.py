"""Sealed exchanges: counted, never revealed (``docs/sealed.md``)."""

from __future__ import annotations

from collections.abc import Callable

from detente.report.blocks import Block, Facts, Para, Section
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    s = f.sealed
    blocks: list[Block] = [Para(t.lab("sealed_model"))]
    if not s.total:
        blocks.append(Para(t.lab("none")))
        return Section("sealed", t.lab("sealed"), blocks)

    def counts(d: dict[str, int], name: Callable[[str], str] = str) -> str:
        return "; ".join(f"{name(k)}: {t.n(n)}" for k, n in sorted(d.items()))

    blocks.append(
        Facts(
            [
                (t.lab("sealed_total"), t.n(s.total)),
                (t.lab("sealed_by_tlp"), counts(s.by_tlp)),
                (t.lab("sealed_by_sender"), counts(s.by_sender)),
                (t.lab("sealed_by_type"), counts(s.by_type, t.rtype)),
            ]
        )
    )
    return Section("sealed", t.lab("sealed"), blocks)
