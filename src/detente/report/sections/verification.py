"""Verification: each log's checkpoint, cosigners and sync, and any alarms."""

from __future__ import annotations

from detente.report.blocks import Block, Para, Section, Table, when
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    ver = f.verification
    blocks: list[Block] = [Para(t.lab("verification_note"))]
    blocks.append(
        Table(
            t.lab("verification"),
            [
                t.lab("log"),
                t.lab("role"),
                t.lab("size"),
                t.lab("root"),
                t.lab("cosigned_by"),
                t.lab("last_sync"),
                t.lab("last_error"),
            ],
            [
                [
                    f"{g.name} ({g.origin})",
                    t.v(g.role),
                    t.n(g.size),
                    g.root[:16] + ("…" if g.root else "–"),
                    ", ".join(g.cosigned_by) or "–",
                    when(g.last_sync),
                    g.last_error or "–",
                ]
                for g in ver.logs
            ],
            frozenset({2}),
        )
    )
    if ver.alarms:
        blocks.append(
            Table(
                t.lab("alarms"),
                [t.lab("origin"), t.lab("kind"), t.lab("detail"), t.lab("at")],
                [[a.origin, a.kind, a.detail, when(a.at)] for a in ver.alarms],
            )
        )
    else:
        blocks.append(Para(t.lab("no_alarms")))
    return Section("verification", t.lab("verification"), blocks)
