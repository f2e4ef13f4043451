"""The protocol loop's schedule (issue #26): between now and a thread's next evaluation, evaluating
it again gives the same due actions, so a node that evaluates it only then (or when a record
referring to it arrives) acts exactly as one that evaluates every thread on every turn."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detente.protocol.agreement import default_agreement
from detente.protocol.schedule import next_evaluation, provisional
from detente.protocol.threads import Logged, evaluate
from detente.protocol.timing import NOTHING, Witnessed
from detente.records.catalogue import ACK, DEADLINE_MISSED, ESCALATION, RECEIPT
from detente.records.record import Record
from detente.records.ref import RecordRef

US, CN = "us.example/log", "cn.example/log"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGREEMENT = default_agreement(US, CN)
HOTLINE = "detente.dev/hotline-message/v1"


def _logged(origin: str, index: int, rtype: str, at: datetime, body: dict, to=(), refs=()) -> Logged:  # type: ignore[no-untyped-def]
    rec = Record(type=rtype, party=origin, issued=at, body=body, to=to, refs=refs)
    return Logged(origin, index, hashlib.sha256(rec.to_json()).hexdigest(), rec)


def _ref(item: Logged, rel: str) -> RecordRef:
    return RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel=rel)


def _kinds(actions) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    return sorted((a.kind, a.party, a.obligation, a.step) for a in actions)


MINUTES = st.integers(min_value=0, max_value=60 * 72)


@st.composite
def threads(draw: st.DrawFn) -> tuple[list[Logged], str, datetime]:
    """A hotline message between the two parties and a random history of replies, misses and
    escalations; the party evaluating; now."""
    sender = draw(st.sampled_from([US, CN]))
    other = CN if sender == US else US
    subject = _logged(sender, 0, HOTLINE, T0, {"priority": "routine", "topic": "urgent-concern"}, to=(other,))
    records = [subject]
    n = {US: 1, CN: 1}

    def add(origin: str, rtype: str, body: dict, rel: str) -> None:  # type: ignore[type-arg]
        at = T0 + timedelta(minutes=draw(MINUTES))
        records.append(_logged(origin, n[origin], rtype, at, body, to=(sender,), refs=(_ref(subject, rel),)))
        n[origin] += 1

    if draw(st.booleans()):
        add(other, RECEIPT, {}, "receipt-of")
    if draw(st.booleans()):
        add(other, ACK, {}, "ack-of")
    for party in draw(st.lists(st.sampled_from([US, CN]), max_size=2)):
        deadline = draw(st.sampled_from(["receipt", "response"]))
        add(party, DEADLINE_MISSED, {"deadline": deadline, "party": other, "due": T0.isoformat()}, "missed")
    for step in draw(st.lists(st.integers(min_value=1, max_value=4), max_size=3, unique=True)):
        add(sender, ESCALATION, {"step": step, "action": "resend", "outcome": "x"}, "escalation-of")
    me = draw(st.sampled_from([US, CN]))
    now = T0 + timedelta(seconds=draw(st.integers(min_value=0, max_value=72 * 3600)))
    return records, me, now


@settings(max_examples=300, deadline=None)
@given(threads(), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_nothing_a_party_owes_changes_before_the_next_evaluation(
    case: tuple[list[Logged], str, datetime], fraction: float
) -> None:
    records, me, now = case
    evaluation = evaluate(records, AGREEMENT, now, me)
    thread = next(t for t in evaluation.threads if t.subject.index == 0 and t.subject.record.type == HOTLINE)
    when = next_evaluation(thread, AGREEMENT, now)
    assert when is None or when > now  # claims are taken as they are: nothing provisional
    horizon = (when - now) if when is not None else timedelta(days=400)
    later = now + min(horizon * fraction, horizon - timedelta(microseconds=1))  # (timedelta rounds)
    again = [a for a in evaluate(records, AGREEMENT, later, me).actions if a.subject.key == thread.subject.key]
    mine = [a for a in evaluation.actions if a.subject.key == thread.subject.key]
    assert _kinds(again) == _kinds(mine)  # (an instant may come early for nothing: that only costs a read)


def test_a_thread_awaiting_its_witnesses_is_evaluated_on_every_turn() -> None:
    subject = _logged(US, 0, HOTLINE, T0, {"priority": "routine", "topic": "urgent-concern"}, to=(CN,))
    witnessed = Witnessed(hi=T0 + timedelta(seconds=30), hi_by=("w",))
    now = T0 + timedelta(minutes=1)
    unwitnessed = evaluate([subject], AGREEMENT, now, US, lambda item: NOTHING).threads[0]
    assert provisional(unwitnessed) and next_evaluation(unwitnessed, AGREEMENT, now) == now
    thread = evaluate([subject], AGREEMENT, now, US, lambda item: witnessed).threads[0]
    assert not provisional(thread)
    assert next_evaluation(thread, AGREEMENT, now) == witnessed.hi + AGREEMENT.receipt_within * 0.5  # a reminder


def test_a_thread_with_every_obligation_met_or_missed_and_escalated_waits_for_a_record() -> None:
    subject = _logged(US, 0, HOTLINE, T0, {"priority": "routine", "topic": "urgent-concern"}, to=(CN,))
    receipt = _logged(CN, 0, RECEIPT, T0, {}, to=(US,), refs=(_ref(subject, "receipt-of"),))
    ack = _logged(CN, 1, ACK, T0, {}, to=(US,), refs=(_ref(subject, "ack-of"),))
    thread = evaluate([subject, receipt, ack], AGREEMENT, T0, US).threads[0]
    assert next_evaluation(thread, AGREEMENT, T0) is None
