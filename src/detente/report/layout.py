"""The report's content, independent of the output format: sections of facts, tables and charts
built from the figures in one language. ``html`` and ``pdf`` render the same :class:`Document`,
so both formats always say the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from detente.records.text import BilingualText
from detente.report.figures import Clock, DeadlineRow, QuarterlyFigures
from detente.report.labels import Label, label, value
from detente.report.quarter import short_type

CLOCK_COLOURS = ("#009E73", "#E69F00", "#D55E00", "#7A7A7A")
"""in time (green), late (orange), overdue (vermillion), pending (grey)."""
VERDICT_COLOURS = ("#009E73", "#D55E00", "#7A7A7A", "#0072B2", "#CC79A7")
"""pass, fail, not applicable, then any other verdict."""

__all__ = [
    "Bars",
    "Block",
    "Document",
    "Facts",
    "Lines",
    "Para",
    "RecordText",
    "Section",
    "Table",
    "build_document",
    "duration",
]


@dataclass(frozen=True)
class RecordText:
    """A party's own words: the authoritative original, and a translation into the reader's
    language when the record carries one."""

    original: str
    original_lang: str
    translation: str | None = None
    translation_lang: str | None = None


Cell = str | RecordText


@dataclass(frozen=True)
class Para:
    text: Label


@dataclass(frozen=True)
class Facts:
    rows: list[tuple[Label, str]]


@dataclass(frozen=True)
class Table:
    caption: Label
    columns: list[Label]
    rows: list[list[Cell]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Bars:
    """Horizontal bars: one group per category, one bar per series (or one stacked bar)."""

    title: Label
    categories: list[str]
    series: list[tuple[str, list[float]]]
    stacked: bool = False
    colours: tuple[str, ...] = ()
    """One colour per series where the meaning is fixed (in time, late...); default: the palette."""


@dataclass(frozen=True)
class Lines:
    title: Label
    x_labels: list[str]
    series: list[tuple[str, list[float]]]


Block = Para | Facts | Table | Bars | Lines


@dataclass(frozen=True)
class Section:
    id: str
    heading: Label
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    lang: str
    title: Label
    subtitle: str
    sections: list[Section]


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    units = ("s", "min", "h", "d") if lang == "en" else ("秒", "分钟", "小时", "天")
    if seconds < 120:
        return f"{seconds:.0f} {units[0]}"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} {units[1]}"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} {units[2]}"
    return f"{seconds / 86400:.1f} {units[3]}"


def when(at: datetime | None) -> str:
    return "–" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def record_text(text: BilingualText | None, lang: str) -> Cell:
    if text is None:
        return "–"
    original = text.original
    if original.lang.split("-")[0] == lang:
        return RecordText(original.text, original.lang)
    for tag, translated in text.translations.items():
        if tag.split("-")[0] == lang:
            return RecordText(original.text, original.lang, translated, tag)
    return RecordText(original.text, original.lang)


def build_document(f: QuarterlyFigures, lang: str) -> Document:
    """Every section of the report for figures ``f``, with ``lang`` as the primary language."""

    def lab(key: str) -> Label:
        return label(key, lang)

    def v(text: str) -> str:
        return value(text, lang)

    def n(x: int) -> str:
        return f"{x:,}"

    def yes(b: bool | None) -> str:
        return "–" if b is None else lab("yes" if b else "no").text

    def clock_cells(c: Clock) -> list[Cell]:
        return [
            n(c.total),
            n(c.in_time),
            n(c.late),
            n(c.overdue),
            n(c.pending),
            duration(c.median_seconds, lang),
            duration(c.p90_seconds, lang),
        ]

    clock_cols = [lab(k) for k in ("total", "in_time", "late", "overdue", "pending", "median", "p90")]

    def counts(caption: str, first: str, data: dict[str, int]) -> Table:
        return Table(lab(caption), [lab(first), lab("count")], [[v(k), n(c)] for k, c in data.items()], frozenset({1}))

    def single_bars(title: str, data: dict[str, int], series: str) -> Bars:
        return Bars(lab(title), [v(k) for k in data], [(lab(series).text, [float(c) for c in data.values()])])

    sections: list[Section] = []

    # --- summary ---
    facts = [
        (lab("period"), f"{f.period} ({f.start:%Y-%m-%d} – {f.end:%Y-%m-%d})"),
        (lab("party"), f.party),
        (lab("agreement"), f.agreement),
        (lab("parties"), ", ".join(f.parties)),
        (lab("records"), n(f.records)),
        (lab("as_of"), when(f.as_of)),
        (lab("generated_at"), when(f.generated_at)),
    ]
    summary: list[Block] = [Facts(facts)]
    if f.items_omitted:
        summary.append(Para(lab("items_omitted")))
    sections.append(Section("summary", lab("summary"), summary))

    # --- notices ---
    blocks: list[Block] = []
    if f.notices:
        types = [short_type(r.type) for r in f.notices]
        blocks.append(
            Bars(
                lab("notices_chart"),
                types,
                [
                    (lab("sent").text, [float(r.sent) for r in f.notices]),
                    (lab("received").text, [float(r.received) for r in f.notices]),
                ],
            )
        )
        blocks.append(
            Table(
                lab("notices"),
                [lab("type"), lab("sent"), lab("received"), lab("others")],
                [[short_type(r.type), n(r.sent), n(r.received), n(r.others)] for r in f.notices],
                frozenset({1, 2, 3}),
            )
        )
        blocks.append(
            Table(
                lab("exchanges"),
                [lab("counterpart"), lab("sent_to"), lab("received_from")],
                [[e.party, n(e.sent_to), n(e.received_from)] for e in f.exchanges],
                frozenset({1, 2}),
            )
        )
    else:
        blocks.append(Para(lab("none")))
    if f.weeks:
        blocks.append(
            Lines(
                lab("weeks_chart"),
                [f"{w.start:%m-%d}" for w in f.weeks],
                [
                    (lab("sent").text, [float(w.sent) for w in f.weeks]),
                    (lab("received").text, [float(w.received) for w in f.weeks]),
                    (lab("hotline_col").text, [float(w.hotline) for w in f.weeks]),
                    (lab("incidents_col").text, [float(w.incidents) for w in f.weeks]),
                ],
            )
        )
        blocks.append(
            Table(
                lab("weeks_chart"),
                [lab("week"), lab("sent"), lab("received"), lab("hotline_col"), lab("incidents_col")],
                [[f"{w.start:%Y-%m-%d}", n(w.sent), n(w.received), n(w.hotline), n(w.incidents)] for w in f.weeks],
                frozenset({1, 2, 3, 4}),
            )
        )
    sections.append(Section("notices", lab("notices"), blocks))

    # --- withheld notifications against the quota ---
    w = f.withheld
    blocks = []
    if w.total:
        blocks.append(
            Facts(
                [
                    (
                        lab("withheld_total"),
                        f"{n(w.total)} ({'; '.join(f'{p}: {n(c)}' for p, c in w.by_party.items())})",
                    ),
                    (lab("withheld_limit"), n(w.limit)),
                    (lab("over_quota"), n(w.over_quota)),
                ]
            )
        )
        if w.excesses:
            blocks.append(
                Table(
                    lab("withheld_excesses"),
                    [
                        lab("issued"),
                        lab("record"),
                        lab("number_of_year"),
                        lab("category"),
                        lab("reason_class"),
                        lab("declared"),
                    ],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            f"{i.number} / {i.limit} ({i.year})",
                            i.category,
                            i.reason_class,
                            yes(i.declared),
                        ]
                        for i in w.excesses
                    ],
                )
            )
    else:
        blocks.append(Para(lab("none")))
    sections.append(Section("withheld", lab("withheld"), blocks))

    # --- deadlines ---
    def deadline_rows(rows: Sequence[DeadlineRow], with_type: bool) -> list[list[Cell]]:
        out: list[list[Cell]] = []
        for r in rows:
            out.append([*([short_type(r.type)] if with_type else []), v(r.kind), r.party, *clock_cells(r)])
        return out

    blocks = []
    if f.deadline_totals:
        blocks.append(
            Bars(
                lab("deadline_chart"),
                [f"{v(r.kind)} · {r.party}" for r in f.deadline_totals],
                [
                    (v(k), [float(getattr(r, k)) for r in f.deadline_totals])
                    for k in ("in_time", "late", "overdue", "pending")
                ],
                stacked=True,
                colours=CLOCK_COLOURS,
            )
        )
        blocks.append(
            Table(
                lab("deadline_totals"),
                [lab("kind"), lab("owed_by"), *clock_cols],
                deadline_rows(f.deadline_totals, False),
                frozenset(range(2, 9)),
            )
        )
        blocks.append(
            Table(
                lab("deadlines"),
                [lab("type"), lab("kind"), lab("owed_by"), *clock_cols],
                deadline_rows(f.deadlines, True),
                frozenset(range(3, 10)),
            )
        )
    else:
        blocks.append(Para(lab("none")))
    sections.append(Section("deadlines", lab("deadlines"), blocks))

    # --- misses ---
    m = f.misses
    blocks = [
        Facts(
            [
                (lab("missed"), n(m.total)),
                (lab("misses_by_party"), "; ".join(f"{p}: {n(c)}" for p, c in m.by_party.items()) or "–"),
                (lab("kind"), "; ".join(f"{v(k)}: {n(c)}" for k, c in m.by_kind.items()) or "–"),
                (lab("miss_records"), n(m.deadline_missed_records)),
                (lab("escalation_records"), n(m.escalation_records)),
            ]
        )
    ]
    if m.items:
        blocks.append(
            Table(
                lab("misses"),
                [
                    lab("record"),
                    lab("type"),
                    lab("owed_by"),
                    lab("kind"),
                    lab("due"),
                    lab("met_at"),
                    lab("recorded_by"),
                    lab("escalation"),
                ],
                [
                    [
                        f"{i.origin}#{i.index}",
                        short_type(i.type),
                        i.party,
                        v(i.kind),
                        when(i.due),
                        when(i.met_at),
                        ", ".join(i.recorded_by) or "–",
                        ", ".join(map(str, i.escalation_steps)) or "–",
                    ]
                    for i in m.items
                ],
            )
        )
    sections.append(Section("misses", lab("misses"), blocks))

    # --- hotline ---
    h = f.hotline
    blocks = []
    if h.total:
        blocks.append(single_bars("hotline_priority", h.by_priority, "messages"))
        blocks.append(
            Table(
                lab("hotline_priority"),
                [lab("priority"), lab("messages"), *clock_cols],
                [[v(r.priority), n(r.messages), *clock_cells(r)] for r in h.acknowledgement],
                frozenset(range(1, 9)),
            )
        )
        blocks.append(counts("hotline_topic", "topic", h.by_topic))
        if h.items:
            blocks.append(
                Table(
                    lab("hotline_items"),
                    [lab("issued"), lab("record"), lab("priority"), lab("topic"), lab("state"), lab("text")],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            v(i.priority) + (f" ({i.code})" if i.code else ""),
                            v(i.topic),
                            ", ".join(f"{p}: {v(s)}" for p, s in i.state.items()),
                            record_text(i.text, lang),
                        ]
                        for i in h.items
                    ],
                )
            )
    else:
        blocks.append(Para(lab("none")))
    sections.append(Section("hotline", lab("hotline"), blocks))

    # --- incidents ---
    inc = f.incidents
    blocks = []
    if inc.reports:
        blocks.append(
            Facts(
                [
                    (lab("reports"), n(inc.reports)),
                    (lab("distinct"), n(inc.incidents)),
                    (lab("deaths"), n(inc.deaths)),
                    (lab("injuries"), n(inc.injuries)),
                    (lab("classifications"), n(inc.classifications)),
                    (lab("links"), n(inc.links)),
                    (lab("comments"), n(inc.comments)),
                ]
            )
        )
        for key, first, data in (
            ("incidents_harm", "harm_types", inc.by_harm_type),
            ("incidents_severity", "severity", inc.by_severity),
            ("incidents_sector", "sectors", inc.by_sector),
        ):
            blocks.append(single_bars(key, data, "incidents_col"))
            blocks.append(counts(key, first, data))
        blocks.append(counts("incidents_party", "party", inc.by_party))
        if inc.items:
            blocks.append(
                Table(
                    lab("incidents_items"),
                    [
                        lab("incident"),
                        lab("stage"),
                        lab("severity"),
                        lab("harm_types"),
                        lab("sectors"),
                        lab("title_col"),
                    ],
                    [
                        [
                            i.key,
                            v(i.stage),
                            v(i.severity),
                            ", ".join(v(x) for x in i.harm_types),
                            ", ".join(i.sectors) or "–",
                            record_text(i.title, lang),
                        ]
                        for i in inc.items
                    ],
                )
            )
    else:
        blocks.append(Para(lab("none")))
    sections.append(Section("incidents", lab("incidents"), blocks))

    # --- evaluations ---
    e = f.evaluations
    blocks = []
    if e.results or e.rechecks or e.preregistrations:
        blocks.append(
            Facts(
                [
                    (lab("results"), n(e.results)),
                    (lab("passed"), n(e.passed)),
                    (lab("failed"), n(e.failed)),
                    (lab("unreadable"), n(e.unreadable)),
                    (lab("preregistered"), n(e.preregistrations)),
                    (lab("rechecks"), "; ".join(f"{v(k)}: {n(c)}" for k, c in e.rechecks.items()) or "–"),
                ]
            )
        )
        if e.by_party:
            blocks.append(
                Bars(
                    lab("evaluations_party"),
                    list(e.by_party),
                    [
                        (lab("passed").text, [float(c["passed"]) for c in e.by_party.values()]),
                        (lab("failed").text, [float(c["failed"]) for c in e.by_party.values()]),
                    ],
                    stacked=True,
                    colours=VERDICT_COLOURS,
                )
            )
            blocks.append(
                Table(
                    lab("evaluations_party"),
                    [lab("party"), lab("results"), lab("passed"), lab("failed")],
                    [[p, n(c["results"]), n(c["passed"]), n(c["failed"])] for p, c in e.by_party.items()],
                    frozenset({1, 2, 3}),
                )
            )
        if e.items:
            blocks.append(
                Table(
                    lab("evaluations_items"),
                    [
                        lab("issued"),
                        lab("record"),
                        lab("suite"),
                        lab("model"),
                        lab("passed"),
                        lab("samples"),
                        lab("preregistered"),
                    ],
                    [
                        [
                            when(i.issued),
                            f"{i.origin}#{i.index}",
                            i.suite,
                            i.model,
                            yes(i.passed),
                            n(i.sample_count),
                            yes(i.preregistered),
                        ]
                        for i in e.items
                    ],
                    frozenset({5}),
                )
            )
    else:
        blocks.append(Para(lab("none")))
    sections.append(Section("evaluations", lab("evaluations"), blocks))

    # --- labels and takedowns ---
    lb, td = f.labels, f.takedowns
    blocks = []
    if lb.checks:
        verdicts = ["pass", "fail", "not-applicable"]
        verdicts += sorted({k for c in lb.by_regime.values() for k in c} - set(verdicts))
        blocks.append(
            Bars(
                lab("labels_regime"),
                list(lb.by_regime),
                [(v(k), [float(c.get(k, 0)) for c in lb.by_regime.values()]) for k in verdicts],
                stacked=True,
                colours=VERDICT_COLOURS,
            )
        )
        blocks.append(
            Table(
                lab("labels_regime"),
                [lab("regime"), lab("checks"), *[Label(v(k), lang, k, "en") for k in verdicts]],
                [[r, n(sum(c.values())), *[n(c.get(k, 0)) for k in verdicts]] for r, c in lb.by_regime.items()],
                frozenset(range(1, 2 + len(verdicts))),
            )
        )
    blocks.append(
        Table(
            lab("takedowns"),
            [lab("requested"), lab("acted"), lab("declined"), lab("missed"), lab("pending"), lab("median")],
            [
                [
                    n(td.requested),
                    n(td.acted),
                    n(td.declined),
                    n(td.missed),
                    n(td.pending),
                    duration(td.answer.median_seconds, lang),
                ]
            ],
            frozenset(range(6)),
        )
    )
    if td.by_category:
        blocks.append(counts("takedowns", "category", td.by_category))
    sections.append(Section("labels", lab("labels"), blocks))

    # --- export controls ---
    x = f.exportctl
    blocks = [
        Table(
            lab("disclosures"),
            [lab("disclosures"), *clock_cols, lab("narrative_records")],
            [[n(x.disclosures), *clock_cells(x.narratives), n(x.narrative_records)]],
            frozenset(range(9)),
        ),
        Facts(
            [
                (lab("listed"), n(x.suppliers_listed)),
                (lab("delisted"), n(x.suppliers_delisted)),
                (lab("signatures"), n(x.recognition_signatures)),
            ]
        ),
    ]
    if x.supplier_changes:
        blocks.append(
            Table(
                lab("suppliers"),
                [lab("issued"), lab("party"), lab("supplier"), lab("country"), lab("status"), lab("effective")],
                [
                    [when(c.issued), c.party, f"{c.name} ({c.supplier_id})", c.country, v(c.status), c.effective]
                    for c in x.supplier_changes
                ],
            )
        )
    if x.recognitions:
        blocks.append(
            Table(
                lab("recognitions"),
                [lab("arrangement"), lab("proposed_by"), lab("parties"), lab("signed_by"), lab("complete")],
                [
                    [
                        f"{r.arrangement_id} v{r.version}",
                        r.proposed_by,
                        ", ".join(r.parties),
                        ", ".join(r.signed_by),
                        yes(r.complete),
                    ]
                    for r in x.recognitions
                ],
            )
        )
    sections.append(Section("exportctl", lab("exportctl"), blocks))

    # --- verification ---
    ver = f.verification
    blocks = [Para(lab("verification_note"))]
    blocks.append(
        Table(
            lab("verification"),
            [
                lab("log"),
                lab("role"),
                lab("size"),
                lab("root"),
                lab("cosigned_by"),
                lab("last_sync"),
                lab("last_error"),
            ],
            [
                [
                    f"{g.name} ({g.origin})",
                    v(g.role),
                    n(g.size),
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
                lab("alarms"),
                [lab("origin"), lab("kind"), lab("detail"), lab("at")],
                [[a.origin, a.kind, a.detail, when(a.at)] for a in ver.alarms],
            )
        )
    else:
        blocks.append(Para(lab("no_alarms")))
    sections.append(Section("verification", lab("verification"), blocks))

    return Document(lang, lab("title"), f"{f.period} · {f.party}", sections)
