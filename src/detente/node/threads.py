"""The protocol engine's side of a node: evaluates every thread this party is part of
(:func:`detente.protocol.threads.evaluate`, pure) and carries out what is due — records misses,
escalates one recorded step at a time, reminds and flags operators — and answers the inbox and
replies to records addressed to this party."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from detente._internal.origins import resolve_origin
from detente.errors import AlreadyAnswered, LogNotFound, MalformedRecord
from detente.node.alerts import Alerter, send_email
from detente.node.config import NodeConfig
from detente.node.liveness import Liveness
from detente.node.loops import Loops
from detente.node.peers import Peers
from detente.node.publisher import Publisher
from detente.node.records import RecordBook
from detente.node.sequencer import Sequenced
from detente.node.tilelog import TileLog
from detente.node.timebook import TimeBook
from detente.node.writer import Writer
from detente.protocol.agreement import Agreement
from detente.protocol.schedule import next_evaluation
from detente.protocol.threads import (
    COMMITMENT_TYPES,
    WITHHELD,
    Action,
    Evaluation,
    Logged,
    Obligation,
    RecipientState,
    Thread,
    Times,
    WithheldCount,
    evaluate,
    withheld_counts,
)
from detente.protocol.timing import NOTHING
from detente.records.catalogue import ACK, ANSWER_TYPES, DEADLINE_MISSED, ESCALATION, LOG_ALARM
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.records.text import BilingualText, LangText
from detente.store.node_protocol import NEVER, DueThread, RecordRow

__all__ = ["ProtocolDesk"]

_FLAGGED = ("moratorium:", "moratorium-review:", "human-control:")
"""Findings operators are alerted to at both ends, once per thread."""

_HUMAN_REPLIES = frozenset({ACK, *ANSWER_TYPES})

_CHUNK = 500
"""Threads evaluated together (with their replies) in one turn of the loop: what a turn holds."""
_PARSED_KEPT = 4096
"""Parsed records the inbox keeps between calls (the oldest go first): a logged record never
changes, and parsing it again was a third of each inbox answer (issue #21)."""
_PAGES_KEPT = 8
_ROWS_KEPT = 10_000
"""Inbox pages whose evaluation is kept: at most this many pages, of this many threads in all
(the oldest go first; a larger page is evaluated on each answer, as before: memory stays bounded
however many threads a node holds)."""
_AGREEMENT = "protocol-agreement"
"""The cursor holding a digest of the agreement the stored schedule was computed under."""


class ProtocolDesk:
    def __init__(
        self,
        me: str,
        config: NodeConfig,
        agreement: Agreement,
        log: TileLog,
        writer: Writer,
        records: RecordBook,
        peers: Peers,
        publisher: Publisher,
        alerts: Alerter,
        clock: Callable[[], float],
    ) -> None:
        self.me = me
        self.config = config
        self.agreement = agreement
        self.log = log
        self.writer = writer
        self.records = records
        self.timebook = TimeBook(records.state)
        self.liveness = Liveness(
            peers, records.state, writer.appender(LOG_ALARM, clock), alerts, clock, agreement.liveness_window
        )
        self.peers = peers
        self.publisher = publisher
        self.alerts = alerts
        self.clock = clock
        self._reminded: set[tuple[str, int, str]] = set()
        self._replying = threading.Lock()
        self._parsed: dict[tuple[str, int, str], Record] = {}
        self._parsed_lock = threading.Lock()
        self._pages: dict[tuple[object, ...], _Page] = {}
        self._pages_lock = threading.Lock()
        self.examined = 0
        """How many records the last evaluation read (the threads due and their replies)."""
        digest = _digest(agreement)
        if records.state.get_cursor(_AGREEMENT) != digest:  # deadlines may have moved: every thread is due
            records.state.touch_threads()
            records.state.set_cursor(_AGREEMENT, digest)

    def loop(self, loops: Loops) -> None:
        """Run the protocol every ``protocol_interval``; back off while it fails."""
        interval = self.config.protocol_interval
        while not loops.stopping.wait(loops.backoff("protocol", interval * 8) or interval):
            loops.run("protocol", self.run_once)

    def run_once(self) -> list[Action]:
        """One turn of the protocol loop (see :meth:`run_protocol`)."""
        return self.run_protocol()

    def run_protocol(self) -> list[Action]:
        """Evaluate the threads we are part of that are due (new, replied to, or at a deadline) and
        carry out what is due: record misses, escalate, and alert on reminders. Returns the actions
        taken."""
        self.liveness.run_once()  # a silent peer is an alarm before its deadlines are judged
        now = datetime.fromtimestamp(self.clock(), UTC)
        actions: list[Action] = []
        for evaluation in self._evaluate_due(now, schedule=True):
            for action in evaluation.actions:
                self._carry_out(action, now)
            for thread in evaluation.threads:  # moratorium and human-control flags: alert once, at both ends
                flags = [f for f in thread.findings if f.startswith(_FLAGGED)]
                key = (thread.subject.origin, thread.subject.index, "flags")
                if flags and key not in self._reminded:
                    self._reminded.add(key)
                    self.alerts.alert("flag", origin=thread.subject.origin, index=thread.subject.index, findings=flags)
            actions.extend(evaluation.actions)
        return actions

    def _carry_out(self, action: Action, now: datetime) -> None:
        subject = RecordRef(
            origin=action.subject.origin,
            index=action.subject.index,
            leaf_hash=action.subject.leaf_hash,
            rel="missed",
        )
        others = tuple(sorted(p for p in {action.subject.origin, *action.subject.record.to} if p != self.me))
        if action.kind == "record-miss":
            missed = {"deadline": action.obligation, "party": action.party, "due": action.due.isoformat()}
            self._protocol_record(DEADLINE_MISSED, missed, others, subject, now)
            self.alerts.alert(
                "miss",
                origin=subject.origin,
                index=subject.index,
                party=action.party,
                deadline=action.obligation,
                due=action.due.isoformat(),
            )
        elif action.kind == "escalate":
            ref = subject.model_copy(update={"rel": "escalation-of"})
            outcome = self._escalate(action, ref, now)
            body = {"step": action.step, "action": action.action, "outcome": outcome[:2048]}
            self._protocol_record(ESCALATION, body, others, ref, now)
            self.alerts.alert(
                "escalation",
                origin=subject.origin,
                index=subject.index,
                step=action.step,
                action=action.action,
                outcome=outcome,
            )
        else:
            self._remind(action, subject)

    def _protocol_record(
        self,
        record_type: str,
        body: Mapping[str, object],
        to: tuple[str, ...],
        ref: RecordRef,
        now: datetime,
        text: BilingualText | None = None,
    ) -> Sequenced:
        record = Record(type=record_type, party=self.me, issued=now, to=to, body=dict(body), refs=(ref,), text=text)
        return self.writer.append(record)

    def _escalate(self, action: Action, ref: RecordRef, now: datetime) -> str:
        """Carry out one step of the escalation ladder towards the silent party; say what happened.

        ``resend`` pushes our checkpoint to the party again (the push makes it pull at once);
        ``second-channel`` e-mails the unanswered record, signed envelope and all, to the duty
        officers' address the agreement names for that party; ``clarification-request`` and
        ``consultation-meeting-request`` send that record, which has its own deadline. A step
        that cannot be done here is still recorded, with the reason, so operators see it.
        """
        party, subject = action.party, action.subject
        what = f"{subject.record.type} {subject.origin}#{subject.index}"
        due = f"{action.obligation} due {action.due.isoformat()}"
        if action.action == "resend":
            row = self.peers.by_origin(party)
            if row is None:
                return f"not resent: {party} is not a peer of this node"
            return self.publisher.push(row)
        if action.action == "second-channel":
            return self._second_channel(party, subject, what, due)
        if action.action in ("clarification-request", "consultation-meeting-request"):
            record_type = f"detente.dev/{action.action}/v1"
            if action.action == "clarification-request":
                body: dict[str, object] = {
                    "question": f"Please confirm receipt of and respond to {what} ({due}).",
                    "concern_basis": f"escalation step {action.step} of agreement {self.agreement.agreement_id}",
                    "urgent": True,
                }
            else:
                body = {"purpose": f"Consultations on the unanswered {what} ({due})."}
            text = BilingualText(
                original=LangText(lang="en", text=str(next(iter(body.values())))),
                translations={"zh": f"请确认收到并答复 {what}（{due}）。"},
            )
            seq = self._protocol_record(record_type, body, (party,), ref, now, text)
            return f"sent {record_type} as {self.me}#{seq.index}"
        return f"no automatic action for {action.action!r}; recorded for operators"

    def _second_channel(self, party: str, subject: Logged, what: str, due: str) -> str:
        contact = self.agreement.contacts.get(party)
        if contact is None or not contact.email:
            return f"no second channel: the agreement names no e-mail contact for {party}"
        if not self.config.smtp:
            return "no second channel: this node has no SMTP server configured (smtp)"
        envelope = self.log.entries(subject.index, subject.index + 1)[0] if subject.origin == self.me else b""
        zh_kind = "答复" if due.startswith("response") else "回执"
        msg = EmailMessage()
        msg["Subject"] = f"[detente] unanswered / 未答复: {what}"
        msg["From"], msg["To"] = self.alerts.email_from, contact.email
        msg.set_content(
            f"{self.me} has had no {due.split()[0]} from {party} to {what} ({due}).\n"
            f"{self.me} 尚未收到 {party} 对 {what} 的{zh_kind}（{due}）。\n\n"
            "The record as logged (DSSE envelope signed by the sender's log key):\n" + envelope.decode()
        )
        error = send_email(self.config.smtp, msg)
        if error is not None:
            return f"second channel failed: {contact.email} via {self.config.smtp}: {error}"
        return f"second channel: e-mailed {contact.email} via {self.config.smtp}"

    def reply(
        self, origin: str, index: int, record_type: str, body: dict[str, object], text: BilingualText | None = None
    ) -> Sequenced:
        """Acknowledge or answer a record addressed to us, referencing its exact leaf. A reply this
        party has already logged is not logged again: a second acknowledgement (or one after an
        answer), or a second answer, is refused with the record that already answered."""
        names = {s.name: s.origin for s in self.peers.status.values() if s.name not in self.peers.bad}
        origin = resolve_origin(origin, self.me, names | {self.config.name: self.me})  # cn#12 too
        with self._replying:  # the check and the append, one reply at a time
            item = next(iter(self.records.at(origin, index)), None)
            if item is None:
                raise LogNotFound(f"no record {origin}#{index} in this node's logs")
            if self.me not in item.record.to:
                raise MalformedRecord(f"{origin}#{index} is not addressed to {self.me}")
            self._check_not_answered(item, record_type)
            rel = "answer-to" if record_type in ANSWER_TYPES else "ack-of"
            return self.writer.append(
                Record(
                    type=record_type,
                    party=self.me,
                    issued=datetime.fromtimestamp(self.clock(), UTC),
                    to=(origin,),
                    body=body,
                    text=text,
                    refs=(RecordRef(origin=origin, index=index, leaf_hash=item.leaf_hash, rel=rel),),
                )
            )

    def _check_not_answered(self, subject: Logged, record_type: str) -> None:
        """Refuse a reply that repeats one this party has logged: the same kind again, or an
        acknowledgement after an answer (an answer may follow an acknowledgement)."""
        mine = [r for r in self._replies(subject) if r.origin == self.me]
        done = [
            r for r in mine if r.record.type == record_type or (record_type == ACK and r.record.type in ANSWER_TYPES)
        ]
        if done:
            first = done[0]
            what = "answered" if first.record.type in ANSWER_TYPES else "acknowledged"
            raise AlreadyAnswered(
                f"{subject.origin}#{subject.index} is already {what} by {self.me} "
                f"as {first.origin}#{first.index}; nothing was signed",
                hint=f"see the reply with: detente inbox --json (thread {subject.origin}#{subject.index}); "
                "a further message goes as a new record: detente notice send hotline-message --to …",
            )

    def _replies(self, subject: Logged) -> list[Logged]:
        """The acknowledgements and answers that refer to ``subject``'s exact leaf (as far as the
        index goes: the caller has just caught up)."""
        rows = self.records.state.referrers([(subject.origin, subject.index)])
        out = []
        for row in rows:
            if row.type not in _HUMAN_REPLIES:
                continue
            item = Logged(row.origin, row.index, row.leaf_hash, Record.from_json(row.record))
            if any((ref.origin, ref.index, ref.leaf_hash) == subject.key for ref in item.record.refs):
                out.append(item)
        return out

    def inbox(self, *, open_only: bool = False) -> list[dict[str, object]]:
        """Every thread this party is part of, newest first, with each recipient's state and
        clocks; with ``open_only``, only those with an obligation not yet met (missed included)."""
        return self.inbox_page(open_only=open_only)[1]

    def inbox_page(
        self, *, open_only: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[dict[str, object]]]:
        """The number of threads :meth:`inbox` would list, and the page ``offset`` … ``offset +
        limit`` of them (only that page is turned into answers)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        if open_only:
            for _ in self._evaluate_due(now, schedule=False):  # settle what the last tick has not seen yet
                pass  # so that the count is exact
        self.records.catch_up()  # as RecordBook.threads and .with_replies do, their records parsed once
        total, rows = self.records.state.threads(unsettled=open_only, limit=limit, offset=offset)
        subjects = [self._parse(r) for r in rows]
        referring = [self._parse(r) for r in self.records.state.referrers([(x.origin, x.index) for x in subjects])]
        records = [*subjects, *referring, *self.records.indexed(COMMITMENT_TYPES)]
        page = self._page(subjects, records, now)
        withheld = withheld_counts(self.records.indexed([WITHHELD]), self.agreement)  # threads() caught up
        return total, [self._inbox_row(row, withheld.get(row.thread.subject.key), now) for row in page.rows]

    def _page(self, subjects: list[Logged], records: list[Logged], now: datetime) -> _Page:
        """The threads of ``subjects`` evaluated over ``records`` (their replies, misses,
        escalations and the commitments in force), with what of each row the clock does not
        change; kept, and reused while the records and the evidence of time are the same.

        A thread's state depends on the records read with it, the agreement and the witnessed
        times, never on ``now`` (only the actions due do, which the inbox does not show): so the
        key is every record's leaf (a new reply, miss, escalation or commitment changes it), the
        agreement, and the time book's generation (read first: a cosignature kept while this
        page is evaluated moves it on, and what was evaluated is then never found again)."""
        generation = self.timebook.generation
        key = (generation, id(self.agreement), len(subjects), tuple(x.key for x in records))
        with self._pages_lock:
            page = self._pages.get(key)
        if page is not None and page.agreement is self.agreement:
            return page
        by_key = {t.subject.key: t for t in evaluate(records, self.agreement, now, self.me, self._times()).threads}
        threads = [by_key.get(x.key) or Thread(x, []) for x in subjects]  # a withheld notice owes nothing
        replies = _replies_by_subject(records, subjects)
        page = _Page(self.agreement, [self._fixed_row(t, replies.get(t.subject.key, [])) for t in threads])
        if len(threads) <= _ROWS_KEPT:
            with self._pages_lock:
                self._pages.pop(key, None)
                while self._pages and (
                    len(self._pages) >= _PAGES_KEPT
                    or sum(len(p.rows) for p in self._pages.values()) + len(threads) > _ROWS_KEPT
                ):
                    del self._pages[next(iter(self._pages))]
                self._pages[key] = page
        return page

    def _parse(self, row: RecordRow) -> Logged:
        """``row``'s record, parsed once: its leaf hash names the exact entry, which never changes."""
        key = (row.origin, row.index, row.leaf_hash)
        with self._parsed_lock:
            record = self._parsed.get(key)
        if record is None:
            record = Record.from_json(row.record)
            with self._parsed_lock:
                while len(self._parsed) >= _PARSED_KEPT:
                    del self._parsed[next(iter(self._parsed))]
                self._parsed[key] = record
        return Logged(row.origin, row.index, row.leaf_hash, record)

    def _evaluate_due(self, now: datetime, *, schedule: bool) -> Iterator[Evaluation]:
        """Evaluate the unsettled threads this party is in that are due (read with their replies
        from the store, :data:`_CHUNK` at a time: one evaluation each), and settle those whose
        every obligation is now met. With ``schedule``, once the caller has carried out a chunk's
        actions, store when each of its threads is next due: a thread that owes a miss or an
        escalation stays due (the record it gets makes it due anyway, and a failed step is tried
        again), one with only a reminder is due at its next instant (the reminder is sent once)."""
        self.records.catch_up()
        times = self._times()
        at = int(now.timestamp() * 1_000_000)
        after: tuple[int, str, int] | None = None
        self.examined = 0
        while due := self.records.state.due_threads(at, after=after, limit=_CHUNK):
            after = (due[-1].due, due[-1].row.origin, due[-1].row.index)
            subjects = [Logged(d.row.origin, d.row.index, d.row.leaf_hash, Record.from_json(d.row.record)) for d in due]
            records = self.records.with_replies(subjects)
            self.examined += len(records)
            wanted = {x.key for x in subjects}  # a reply that opens a thread of its own is judged with its own replies
            evaluation = evaluate(records, self.agreement, now, self.me, times)
            threads = [t for t in evaluation.threads if t.subject.key in wanted]
            actions = [a for a in evaluation.actions if a.subject.key in wanted]
            settled = [  # settled once every obligation is met by witnessed time (a provisional one may turn late)
                (t.subject.origin, t.subject.index)
                for t in threads
                if t.obligations and all(o.met_at is not None and o.met_witnessed for o in t.obligations)
            ]
            if settled:
                self.records.settle(settled)
            yield Evaluation(threads, actions)
            if schedule:
                self.records.state.reschedule(self._schedule(due, subjects, threads, actions, set(settled), now))

    def _schedule(
        self,
        due: list[DueThread],
        subjects: list[Logged],
        threads: list[Thread],
        actions: list[Action],
        settled: set[tuple[str, int]],
        now: datetime,
    ) -> list[tuple[str, int, int, int]]:
        """``(origin, index, touched, due)`` for each thread of a chunk that is not due again now."""
        by_key = {t.subject.key: t for t in threads}
        acting = {a.subject.key for a in actions if a.kind != "remind"}
        out = []
        for row, subject in zip(due, subjects, strict=True):
            if subject.key in acting or (subject.origin, subject.index) in settled:
                continue
            thread = by_key.get(subject.key)
            when = next_evaluation(thread, self.agreement, now) if thread is not None else None
            if when is None:
                out.append((subject.origin, subject.index, row.touched, NEVER))
            elif when > now:
                out.append((subject.origin, subject.index, row.touched, int(when.timestamp() * 1_000_000)))
        return out

    def _unanswered(self, thread: Thread, now: datetime) -> dict[str, str]:
        """Why each recipient with a missed obligation has not answered: ``unreachable`` (nothing
        received, and its node silent since before the receipt was due), ``not-received`` (nothing
        received although its node was heard from), ``received-not-answered`` (its node received
        the record; no answer came)."""
        out: dict[str, str] = {}
        by_origin = {s.origin: s for s in self.peers.status.values()}
        for ob in thread.obligations:
            if ob.party == thread.sender or not ob.missed(now) or ob.party in out:
                continue
            if thread.state(ob.party) is RecipientState.SENT:
                status = by_origin.get(ob.party)
                since = self.liveness.silent_since(status) if status is not None else None
                out[ob.party] = "unreachable" if since is not None and since <= ob.due.timestamp() else "not-received"
            elif ob.kind == "response":
                out[ob.party] = "received-not-answered"
        return out

    def _times(self) -> Times:
        """Each record's witnessed interval, under the agreement's rule of which witnesses count."""
        return self.timebook.times(self.agreement.time_rule())

    def _inbox_row(self, fixed: _Row, quota: WithheldCount | None, now: datetime) -> dict[str, object]:
        """One thread as the inbox shows it: who, what, each recipient's state and clock, findings
        (``fixed``: what of it the clock does not change, from :meth:`_fixed_row`; a new dict each
        answer, its nested values shared and never changed)."""
        thread = fixed.thread
        row = fixed.row.copy()  # the keys in place, in their order
        row["unanswered"] = self._unanswered(thread, now)
        row["obligations"] = [
            _obligation_row(o, now, f) for o, f in zip(thread.obligations, fixed.obligations, strict=True)
        ]
        row["findings"] = [*thread.findings, *(["over-quota"] if quota and quota.over_quota else [])]
        row["quota"] = quota.as_dict() if quota else None
        return row

    def _fixed_row(self, thread: Thread, replies: list[dict[str, object]]) -> _Row:
        """What of a thread's inbox row depends only on its records, the agreement and the evidence
        of time; the clock's fields (and the quota's) are filled in by :meth:`_inbox_row`."""
        rec = thread.subject.record
        code = rec.body.get("code") if isinstance(rec.body.get("code"), str) else None
        matched = self.agreement.code_meaning(code) if code else None
        row: dict[str, object] = {
            "id": f"{thread.subject.origin}#{thread.subject.index}",
            "origin": thread.subject.origin,
            "index": thread.subject.index,
            "leaf_hash": thread.subject.leaf_hash,
            "type": rec.type,
            "from": thread.sender,
            "to": list(rec.to),
            "issued": rec.issued.isoformat(),
            "witnessed": (thread.witnessed or {}).get(thread.subject.key, NOTHING).as_dict(),
            "incoming": self.me in rec.to,
            "priority": rec.body.get("priority"),
            "code": code,
            "code_matched": matched[0] if matched else None,
            "code_meaning": matched[1] if matched else None,
            "text": rec.text.model_dump(mode="json") if rec.text else None,
            "states": {p: thread.state(p).value for p in rec.to},
            "unanswered": None,
            "obligations": None,
            "findings": None,
            "quota": None,
            "agreement": thread.agreement_id(self.agreement),
            "escalations": sorted(thread.escalations or ()),
            "replies": replies,
        }
        return _Row(thread, row, [_obligation_fixed(o) for o in thread.obligations])

    def _remind(self, action: Action, subject: RecordRef) -> None:
        key = (subject.origin, subject.index, action.obligation)
        if key not in self._reminded:  # one reminder per obligation, not one per tick
            self._reminded.add(key)
            self.alerts.alert(
                "reminder",
                origin=subject.origin,
                index=subject.index,
                deadline=action.obligation,
                due=action.due.isoformat(),
            )


@dataclass(frozen=True, slots=True)
class _Row:
    """One evaluated thread with what of its inbox row (and of each obligation's) the clock does
    not change; none of it is changed once made."""

    thread: Thread
    row: dict[str, object]
    obligations: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class _Page:
    """An inbox page as evaluated: its rows, and the agreement it was evaluated under."""

    agreement: Agreement
    rows: list[_Row]


def _digest(agreement: Agreement) -> int:
    """A digest of everything in ``agreement`` (as a cursor value: 62 bits)."""
    return int.from_bytes(hashlib.sha256(agreement.model_dump_json().encode()).digest()[:8], "big") >> 2


def _obligation_fixed(o: Obligation) -> dict[str, object]:
    """What of an obligation's row the clock does not change (:func:`_obligation_row` adds the rest)."""
    return {
        "party": o.party,
        "kind": o.kind,
        "due": o.due.isoformat(),
        "met_at": o.met_at.isoformat() if o.met_at else None,
        "met_by": f"{o.met_by.origin}#{o.met_by.index}" if o.met_by else None,
        "met_witnessed": o.met_witnessed if o.met_at else None,
        "start_witnessed": o.start_witnessed,
        "missed": None,
        "seconds_left": None,
    }


def _obligation_row(o: Obligation, now: datetime, fixed: dict[str, object]) -> dict[str, object]:
    row = fixed.copy()  # the keys in place, in their order
    row["missed"] = o.missed(now)
    row["seconds_left"] = max(0.0, (o.due - now).total_seconds()) if o.met_at is None else 0.0
    return row


def _replies_by_subject(
    records: list[Logged], subjects: list[Logged]
) -> dict[tuple[str, int, str], list[dict[str, object]]]:
    """The acknowledgements and answers among ``records``, by the thread they answer: each with
    its record ID, who sent it, when, and what it says (the note, the answer, the text), oldest
    first. Only a recipient's reply to the exact leaf counts, as in the protocol engine."""
    wanted = {x.key: x for x in subjects}
    out: dict[tuple[str, int, str], list[dict[str, object]]] = {}
    for item in records:
        rec = item.record
        if rec.type not in _HUMAN_REPLIES:
            continue
        for ref in rec.refs:
            subject = wanted.get((ref.origin, ref.index, ref.leaf_hash))
            if subject is not None and item.origin in subject.record.to:
                out.setdefault(subject.key, []).append(_reply_row(item))
    for rows in out.values():
        rows.sort(key=lambda r: (str(r["issued"]), str(r["id"])))
    return out


def _reply_row(item: Logged) -> dict[str, object]:
    rec = item.record
    answer = rec.body.get("answer")
    note = rec.body.get("note")
    return {
        "id": f"{item.origin}#{item.index}",
        "origin": item.origin,
        "index": item.index,
        "leaf_hash": item.leaf_hash,
        "type": rec.type,
        "kind": "answer" if rec.type in ANSWER_TYPES else "acknowledgement",
        "from": item.origin,
        "issued": rec.issued.isoformat(),
        "note": note if isinstance(note, str) else None,
        "answer": answer if isinstance(answer, str) else None,
        "text": rec.text.model_dump(mode="json") if rec.text else None,
    }
