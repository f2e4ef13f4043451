"""Export controls: disclosures, supplier list changes and recognition arrangements."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    x = f.exportctl
    blocks: list[Block] = [
        Table(
            t.lab("disclosures"),
            [t.lab("disclosures"), *t.clock_cols, t.lab("narrative_records")],
            [[t.n(x.disclosures), *t.clock_cells(x.narratives), t.n(x.narrative_records)]],
            frozenset(range(9)),
        ),
        Facts(
            [
                (t.lab("listed"), t.n(x.suppliers_listed)),
                (t.lab("delisted"), t.n(x.suppliers_delisted)),
                (t.lab("signatures"), t.n(x.recognition_signatures)),
            ]
        ),
    ]
    if x.supplier_changes:
        blocks.append(
            Table(
                t.lab("suppliers"),
                [
                    t.lab("issued"),
                    t.lab("party"),
                    t.lab("supplier"),
                    t.lab("country"),
                    t.lab("status"),
                    t.lab("effective"),
                ],
                [
                    [when(c.issued), c.party, f"{c.name} ({c.supplier_id})", c.country, t.v(c.status), c.effective]
                    for c in x.supplier_changes
                ],
            )
        )
    if x.recognitions:
        blocks.append(
            Table(
                t.lab("recognitions"),
                [t.lab("arrangement"), t.lab("proposed_by"), t.lab("parties"), t.lab("signed_by"), t.lab("complete")],
                [
                    [
                        f"{r.arrangement_id} v{r.version}",
                        r.proposed_by,
                        ", ".join(r.parties),
                        ", ".join(r.signed_by),
                        t.yes(r.complete),
                    ]
                    for r in x.recognitions
                ],
            )
        )
    return Section("exportctl", t.lab("exportctl"), blocks)
