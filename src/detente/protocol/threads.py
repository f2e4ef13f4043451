"""The rules engine: records from every log plus a clock in, thread states and due actions out.

A *thread* starts with a record addressed to other parties (``to``). For each recipient it has
obligations: a **receipt** (automatic, by the receiving node) within the agreement's
``receipt_within``, and, for types that need one, a **response** (a human acknowledgement, or an
answer) within the type's window. Replies count only if they reference the exact leaf (origin,
index and leaf hash) of the record they answer. "Received" and "answered" are distinct states,
and silence is never hidden: an unmet obligation past its due time is *missed*, and each party
of the thread records the miss in its own log. The sender then climbs the agreement's escalation
ladder. Reminders fall due at ``reminder_fraction`` of each window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from detente.protocol.agreement import Agreement
from detente.records.catalogue import ACK, ANSWER, DEADLINE_MISSED, ESCALATION, RECEIPT, spec_for
from detente.records.record import Record

__all__ = ["Action", "Evaluation", "Logged", "Obligation", "RecipientState", "Thread", "evaluate"]


@dataclass(frozen=True)
class Logged:
    """A record as it sits in a log: who logged it, where, and its leaf hash (hex)."""

    origin: str
    index: int
    leaf_hash: str
    record: Record

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.origin, self.index, self.leaf_hash)


class RecipientState(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    ANSWERED = "answered"


@dataclass
class Obligation:
    party: str
    kind: str  # "receipt" or "response"
    due: datetime
    window_start: datetime
    met_at: datetime | None = None
    met_by: Logged | None = None
    missed_recorded_by: set[str] = field(default_factory=set)

    def missed(self, now: datetime) -> bool:
        """Unmet at its due time (met late also counts as missed)."""
        if self.met_at is not None:
            return self.met_at > self.due
        return now >= self.due

    def reminder_at(self, fraction: float) -> datetime:
        return self.window_start + (self.due - self.window_start) * fraction


@dataclass
class Thread:
    subject: Logged
    obligations: list[Obligation]
    findings: list[str] = field(default_factory=list)
    escalations: dict[int, Logged] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        return self.subject.origin

    def state(self, party: str) -> RecipientState:
        mine = [o for o in self.obligations if o.party == party]
        if any(o.kind == "response" and o.met_at for o in mine):
            return RecipientState.ANSWERED
        if any(o.kind == "receipt" and o.met_at for o in mine):
            return RecipientState.RECEIVED
        responses = [o for o in mine if o.kind == "response"]
        if not responses and any(o.met_at for o in mine):
            return RecipientState.RECEIVED
        return RecipientState.SENT


@dataclass(frozen=True)
class Action:
    kind: str  # "remind", "record-miss", "escalate"
    subject: Logged
    party: str
    obligation: str
    due: datetime
    step: int = 0
    action: str = ""


@dataclass
class Evaluation:
    threads: list[Thread]
    actions: list[Action]


_REPLIES = (RECEIPT, ACK, ANSWER)


def evaluate(records: Iterable[Logged], agreement: Agreement, now: datetime, me: str) -> Evaluation:
    """Thread states for every addressed record, and the actions ``me`` owes now."""
    logged = list(records)
    threads: dict[tuple[str, int, str], Thread] = {}
    for item in logged:
        rec = item.record
        spec = spec_for(rec.type)
        if spec is None or not rec.to or rec.type in _REPLIES or rec.type in (DEADLINE_MISSED, ESCALATION):
            continue
        obligations = []
        for party in rec.to:
            obligations.append(Obligation(party, "receipt", rec.issued + agreement.receipt_within, rec.issued))
            window = agreement.response_window(rec.type, rec.body) if spec.response else None
            if window is not None:
                obligations.append(Obligation(party, "response", rec.issued + window, rec.issued))
        thread = Thread(item, obligations)
        lead = agreement.lead_time.get(rec.type)
        start = rec.body.get("window_start")
        if lead is not None and isinstance(start, str) and _parse_time(start) - rec.issued < lead:
            thread.findings.append("late-notice")
        threads[item.key] = thread
    for item in logged:
        rec = item.record
        for ref in rec.refs:
            target = threads.get((ref.origin, ref.index, ref.leaf_hash))
            if target is not None:  # only a reference to the exact leaf counts
                _apply(target, item, rec)
    actions: list[Action] = []
    for thread in threads.values():
        actions.extend(_due(thread, agreement, now, me))
    return Evaluation(list(threads.values()), actions)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _apply(thread: Thread, item: Logged, rec: Record) -> None:
    subject = thread.subject.record
    if rec.type in _REPLIES and item.origin in subject.to:
        wanted = spec.response if (spec := spec_for(subject.type)) else None
        answers = (rec.type == ACK and wanted == "ack") or (rec.type == ANSWER and wanted == "answer")
        for ob in thread.obligations:
            # any reply from a recipient proves receipt; only the right kind meets the response
            counts = ob.kind == "receipt" or answers
            if ob.party == item.origin and counts and (ob.met_at is None or rec.issued < ob.met_at):
                ob.met_at, ob.met_by = rec.issued, item
    elif rec.type == DEADLINE_MISSED:
        for ob in thread.obligations:
            if ob.party == rec.body.get("party") and ob.kind == rec.body.get("deadline"):
                ob.missed_recorded_by.add(item.origin)
    elif rec.type == ESCALATION and item.origin == thread.sender:
        step = rec.body.get("step")
        if isinstance(step, int):
            thread.escalations.setdefault(step, item)


def _due(thread: Thread, agreement: Agreement, now: datetime, me: str) -> list[Action]:
    out: list[Action] = []
    involved = me == thread.sender or me in thread.subject.record.to
    if not involved:
        return out
    for ob in thread.obligations:
        if ob.met_at is None and ob.party == me and ob.reminder_at(agreement.reminder_fraction) <= now < ob.due:
            out.append(Action("remind", thread.subject, ob.party, ob.kind, ob.due))
        if ob.missed(now) and me not in ob.missed_recorded_by:
            out.append(Action("record-miss", thread.subject, ob.party, ob.kind, ob.due))
        if me == thread.sender and ob.kind == "response" and ob.met_at is None and now >= ob.due:
            for number, step in enumerate(agreement.escalation, 1):
                if now >= ob.due + step.after and number not in thread.escalations:
                    out.append(Action("escalate", thread.subject, ob.party, ob.kind, ob.due, number, step.action))
                    break  # one step at a time: the next falls due after this one is recorded
    return out
