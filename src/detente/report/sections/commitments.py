"""Commitments: document versions drafted, signed, withdrawn and in force, with their adoption rule."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Para, Section, Table, record_text, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    c = f.commitments
    blocks: list[Block] = [
        Facts(
            [
                (t.lab("cm_in_force"), t.n(c.in_force)),
                (t.lab("cm_documents"), t.n(c.documents)),
                (t.lab("cm_signatures"), t.n(c.signatures)),
                (t.lab("cm_withdrawals"), t.n(c.withdrawals)),
                (t.lab("cm_reports"), t.n(c.implementation_reports)),
            ]
        )
    ]
    if not c.items:
        blocks.append(Para(t.lab("none")))
        return Section("commitments", t.lab("commitments"), blocks)
    blocks.append(
        Table(
            t.lab("commitments"),
            [
                t.lab("cm_document"),
                t.lab("title_col"),
                t.lab("cm_kind"),
                t.lab("cm_rule"),
                t.lab("signed_by"),
                t.lab("status"),
                t.lab("cm_adopted"),
            ],
            [
                [
                    i.document,
                    record_text(i.title, t.lang),
                    t.v(i.kind),
                    _rule(i.rule, t),
                    ", ".join(i.signed_by) or "–",
                    t.v(i.status),
                    when(i.adopted_at),
                ]
                for i in c.items
            ],
            frozenset(),
        )
    )
    return Section("commitments", t.lab("commitments"), blocks)


def _rule(rule: str, t: Cells) -> str:
    """``all`` (every party) or ``k of N``, in the reader's language."""
    if rule == "all" or t.lang == "en":
        return t.v(rule)
    k, _, n = rule.partition(" of ")
    return f"{n} 方中的 {k} 方"
