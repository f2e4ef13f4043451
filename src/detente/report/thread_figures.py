"""The quarterly report's figures about threads (notices, hotline messages, takedown requests and
violation disclosures with their obligations), folded one evaluated thread at a time: the threads of
a quarter are evaluated a page at a time and none is kept. What stays is counters, the deadline
clocks (:class:`~detente.report.tally.ClockTally`), the first ``LIST_LIMIT`` items of each list and
the time claims the witnesses contradict (a list the report shows whole; a finding per record).
Every figure is what the sorted list of the quarter's threads gave. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from detente.media.records import TAKEDOWN_REQUEST
from detente.protocol.threads import TIME_CLAIM, Logged, Thread
from detente.records.hotline import HotlineTopic, Priority
from detente.records.text import BilingualText, LangText
from detente.report.figures import (
    LIST_LIMIT,
    Clock,
    DeadlineRow,
    HotlineItem,
    MissItem,
    NoticeRow,
    PairResponsiveness,
    PartyExchange,
    PriorityRow,
    TimeClaim,
    TimeClaims,
)
from detente.report.tally import ClockTally, Top

__all__ = ["HOTLINE", "TEXT_LIMIT", "ThreadFigures", "short_text", "thread_key"]

HOTLINE = "detente.dev/hotline-message/v1"
VIOLATION_TOPIC = HotlineTopic.INADVERTENT_EXPORT_CONTROL_VIOLATION.value
TEXT_LIMIT = 160
"""Record texts are cut to this many characters in item lists (the full text is in the log)."""

_PAIR_FIELDS = ("n", "rec", "ans", "owed", "missed", "given")


def thread_key(t: Thread) -> tuple[datetime, str, int]:
    """The order the report lists threads in: by the subject's issue time, origin and index."""
    return (t.subject.record.issued, t.subject.origin, t.subject.index)


def short_text(text: BilingualText | None) -> BilingualText | None:
    if text is None:
        return None
    return BilingualText(
        original=LangText(lang=text.original.lang, text=text.original.text[:TEXT_LIMIT]),
        translations={lang: value[:TEXT_LIMIT] for lang, value in sorted(text.translations.items())},
    )


class ThreadFigures:
    """Every thread-based figure of one quarter, for ``me``, as of ``as_of``."""

    def __init__(self, me: str, start: datetime, end: datetime, as_of: datetime) -> None:
        self.me, self.start, self.as_of = me, start, as_of
        self.count = 0
        self.weeks_n = -(-(end - start) // timedelta(days=7))
        self.weeks = [Counter[str]() for _ in range(self.weeks_n)]
        self.notices: dict[str, Counter[str]] = {}
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.pairs: dict[tuple[str, str], dict[str, int]] = {}
        self.deadlines: dict[tuple[str, str, str], ClockTally] = {}
        self.totals: dict[tuple[str, str, str], ClockTally] = {}
        self.misses = Top[MissItem](LIST_LIMIT, lambda m: (m.due, m.origin, m.index, m.party, m.kind))
        self.miss_total = 0
        self.miss_party: Counter[str] = Counter()
        self.miss_kind: Counter[str] = Counter()
        self.claims: list[tuple[tuple[datetime, str, int], int, TimeClaim]] = []
        self.hotline = _HotlineTally(as_of)
        self.takedowns = _TakedownTally(as_of)
        self.disclosures = 0
        self.narratives = ClockTally(as_of)

    def week(self, at: datetime) -> Counter[str]:
        return self.weeks[min(self.weeks_n - 1, (at - self.start) // timedelta(days=7))]

    def add(self, t: Thread, known: Mapping[tuple[str, int], Logged]) -> None:
        """Fold in one thread of the quarter; ``known``: the records it was evaluated with."""
        rec, me = t.subject.record, self.me
        self.count += 1
        row = self.notices.setdefault(rec.type, Counter())
        if t.sender == me:
            row["sent"] += 1
            self.sent.update(set(rec.to))
            self.week(rec.issued)["sent"] += 1
        elif me in rec.to:
            row["received"] += 1
            self.received[t.sender] += 1
            self.week(rec.issued)["received"] += 1
        else:
            row["others"] += 1
        self._pairs(t)
        for ob in t.obligations:
            for groups, rtype in ((self.deadlines, rec.type), (self.totals, "*")):
                groups.setdefault((rtype, ob.kind, ob.party), ClockTally(self.as_of)).add(ob)
            if ob.missed(self.as_of):
                self._miss(t, ob)
        self._claims(t, known)
        if rec.type == HOTLINE:
            self.hotline.add(t)
            if rec.body.get("topic") == VIOLATION_TOPIC:
                self.disclosures += 1
                self.narratives.add_all(o for o in t.obligations if o.kind == "follow-up")
        elif rec.type == TAKEDOWN_REQUEST:
            self.takedowns.add(t)

    def _pairs(self, t: Thread) -> None:
        for to in t.subject.record.to:
            row = self.pairs.setdefault((t.sender, to), dict.fromkeys(_PAIR_FIELDS, 0))
            row["n"] += 1
            for ob in t.obligations:
                if ob.party != to:
                    continue
                in_time = ob.met_at is not None and ob.met_at <= ob.due
                if ob.kind == "receipt":
                    row["rec"] += in_time
                elif ob.kind == "response":
                    row["owed"] += 1
                    row["ans"] += in_time
                    row["given"] += ob.met_at is not None
                row["missed"] += ob.missed(self.as_of)

    def _miss(self, t: Thread, ob: Any) -> None:
        self.miss_total += 1
        self.miss_party[ob.party] += 1
        self.miss_kind[ob.kind] += 1
        self.misses.add(
            MissItem(
                origin=t.subject.origin,
                index=t.subject.index,
                type=t.subject.record.type,
                party=ob.party,
                kind=ob.kind,
                due=ob.due,
                met_at=ob.met_at,
                recorded_by=sorted(ob.missed_recorded_by),
                escalation_steps=sorted(t.escalations or ()) if ob.kind == "response" else [],
            )
        )

    def _claims(self, t: Thread, known: Mapping[tuple[str, int], Logged]) -> None:
        """Every record of the thread whose claimed time its witnessed interval contradicts."""
        for finding in t.findings:
            if not finding.startswith(TIME_CLAIM):
                continue
            _, _, where = finding.partition("@")
            origin, _, index = where.rpartition("#")
            item = known.get((origin, int(index))) if where else t.subject
            if item is None:
                continue
            w = (t.witnessed or {}).get(item.key)
            claim = TimeClaim(
                record=f"{item.origin}#{item.index}",
                thread=f"{t.subject.origin}#{t.subject.index}",
                issued=item.record.issued,
                witnessed_from=w.lo if w else None,
                witnessed_by=w.hi if w else None,
                witnesses=sorted({*(w.lo_by if w else ()), *(w.hi_by if w else ())}),
            )
            self.claims.append((thread_key(t), len(self.claims), claim))

    # --- the figures --------------------------------------------------------------------------

    def notice_rows(self) -> list[NoticeRow]:
        return [
            NoticeRow(type=rtype, sent=c["sent"], received=c["received"], others=c["others"])
            for rtype, c in sorted(self.notices.items())
        ]

    def exchanges(self) -> list[PartyExchange]:
        sent, received = self.sent, self.received
        return [
            PartyExchange(party=p, sent_to=sent[p], received_from=received[p])
            for p in sorted(set(sent) | set(received))
        ]

    def pair_rows(self) -> list[PairResponsiveness]:
        """Every (sender, recipient) pair among the quarter's threads: who answered whom, in time."""
        return [
            PairResponsiveness(
                sender=s,
                to=to,
                notices=r["n"],
                received_in_time=r["rec"],
                answered_in_time=r["ans"],
                answers_owed=r["owed"],
                missed=r["missed"],
                silent=r["owed"] > 0 and r["given"] == 0,
            )
            for (s, to), r in sorted(self.pairs.items())
        ]

    def deadline_rows(self, *, by_type: bool) -> list[DeadlineRow]:
        groups = self.deadlines if by_type else self.totals
        return [
            DeadlineRow(type=rtype, kind=kind, party=party, **clock.row())
            for (rtype, kind, party), clock in sorted(groups.items())
        ]

    def time_claims(self) -> TimeClaims:
        items = [claim for _, _, claim in sorted(self.claims, key=lambda c: (c[0], c[1]))]
        return TimeClaims(
            total=len(items), by_party=dict(Counter(i.record.rpartition("#")[0] for i in items)), items=items
        )


class _HotlineTally:
    """Hotline messages: counts by priority, topic, sender and code, the acknowledgement clock of
    each priority, and the newest ``LIST_LIMIT`` flash and immediate messages."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.total = 0
        self.by_priority: dict[str, int] = {p.value: 0 for p in Priority}
        self.first: dict[str, tuple[datetime, str, int]] = {}  # a priority outside the enum: its first thread
        self.clocks: dict[str, ClockTally] = {p.value: ClockTally(as_of) for p in Priority}
        self.topics: Counter[str] = Counter()
        self.senders: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.urgent = Top[HotlineItem](LIST_LIMIT, lambda i: (i.issued, i.origin, i.index), reverse=True)
        self.urgent_total = 0

    def add(self, t: Thread) -> None:
        body = t.subject.record.body
        priority = str(body.get("priority", ""))
        if priority not in self.by_priority or priority in self.first:
            key = thread_key(t)
            if priority not in self.first or key < self.first[priority]:
                self.first[priority] = key
        self.total += 1
        self.by_priority[priority] = self.by_priority.get(priority, 0) + 1
        self.clocks.setdefault(priority, ClockTally(self.as_of)).add_all(
            o for o in t.obligations if o.kind == "response"
        )
        self.topics[str(body.get("topic", ""))] += 1
        self.senders[t.sender] += 1
        code = body.get("code")
        if isinstance(code, str):
            self.codes[code.split("-")[0]] += 1
        if body.get("priority") in (Priority.FLASH, Priority.IMMEDIATE):
            self.urgent_total += 1
            rec = t.subject.record
            self.urgent.add(
                HotlineItem(
                    origin=t.subject.origin,
                    index=t.subject.index,
                    issued=rec.issued,
                    to=list(rec.to),
                    priority=str(body.get("priority")),
                    topic=str(body.get("topic")),
                    code=code if isinstance(code, str) else None,
                    state={p: t.state(p).value for p in rec.to},
                    text=short_text(rec.text),
                )
            )

    def figures(self) -> dict[str, Any]:
        """The :class:`~detente.report.figures.Hotline` fields: priorities in the enum's order, then
        any other in the order the sorted threads first showed it."""
        order = [p.value for p in Priority] + sorted(self.first, key=lambda p: self.first[p])
        return {
            "total": self.total,
            "by_priority": {p: self.by_priority[p] for p in order},
            "by_topic": dict(sorted(self.topics.items())),
            "by_sender": dict(sorted(self.senders.items())),
            "by_code": dict(sorted(self.codes.items())),
            "acknowledgement": [
                PriorityRow(priority=p, messages=self.by_priority[p], **self.clocks[p].row()) for p in order
            ],
            "items": self.urgent.first(),
            "items_total": self.urgent_total,
        }


class _TakedownTally:
    def __init__(self, as_of: datetime) -> None:
        self.requested = 0
        self.actions: Counter[str] = Counter()
        self.answer = ClockTally(as_of)
        self.categories: Counter[str] = Counter()
        self.requesters: Counter[str] = Counter()

    def add(self, t: Thread) -> None:
        self.requested += 1
        for o in t.obligations:
            if o.kind == "response":
                self.answer.add(o)
                if o.met_by is not None:
                    self.actions[str(o.met_by.record.body.get("action"))] += 1
        self.categories[str(t.subject.record.body.get("category"))] += 1
        self.requesters[t.sender] += 1

    def figures(self) -> dict[str, Any]:
        clock = self.answer.row()
        return {
            "requested": self.requested,
            "acted": self.actions["acted"],
            "declined": self.actions["declined"],
            "missed": clock["missed"],
            "pending": clock["pending"],
            "by_category": dict(sorted(self.categories.items())),
            "by_requester": dict(sorted(self.requesters.items())),
            "answer": Clock(**clock),
        }
