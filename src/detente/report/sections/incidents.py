"""Incident reports by harm type, severity, sector and party."""

from __future__ import annotations

from detente.report.blocks import Block, Facts, Para, Section, Table, record_text
from detente.report.figures import QuarterlyFigures
from detente.report.sections.cells import Cells


def section(f: QuarterlyFigures, t: Cells) -> Section:
    inc = f.incidents
    blocks: list[Block] = []
    if inc.reports:
        blocks.append(
            Facts(
                [
                    (t.lab("reports"), t.n(inc.reports)),
                    (t.lab("distinct"), t.n(inc.incidents)),
                    (t.lab("deaths"), t.n(inc.deaths)),
                    (t.lab("injuries"), t.n(inc.injuries)),
                    (t.lab("classifications"), t.n(inc.classifications)),
                    (t.lab("links"), t.n(inc.links)),
                    (t.lab("comments"), t.n(inc.comments)),
                ]
            )
        )
        for key, first, data in (
            ("incidents_harm", "harm_types", inc.by_harm_type),
            ("incidents_severity", "severity", inc.by_severity),
            ("incidents_sector", "sectors", inc.by_sector),
        ):
            blocks.append(t.single_bars(key, data, "incidents_col"))
            blocks.append(t.counts(key, first, data))
        blocks.append(t.counts("incidents_party", "party", inc.by_party))
        if inc.items:
            blocks.append(
                Table(
                    t.lab("incidents_items"),
                    [
                        t.lab("incident"),
                        t.lab("stage"),
                        t.lab("severity"),
                        t.lab("harm_types"),
                        t.lab("sectors"),
                        t.lab("title_col"),
                    ],
                    [
                        [
                            i.key,
                            t.v(i.stage),
                            t.v(i.severity),
                            ", ".join(t.v(x) for x in i.harm_types),
                            ", ".join(i.sectors) or "–",
                            record_text(i.title, t.lang),
                        ]
                        for i in inc.items
                    ],
                )
            )
    else:
        blocks.append(Para(t.lab("none")))
    return Section("incidents", t.lab("incidents"), blocks)
