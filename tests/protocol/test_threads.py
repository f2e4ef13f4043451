"""The rules engine with a fake clock: receipts, responses, misses, reminders, escalation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.errors import MalformedRecord
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged, RecipientState, evaluate
from detente.records.catalogue import (
    ACK,
    ANSWER,
    CATALOGUE,
    DEADLINE_MISSED,
    ESCALATION,
    RECEIPT,
    json_schemas,
    validate_record,
)
from detente.records.record import Record
from detente.records.ref import RecordRef

US, CN = "us.example/log", "cn.example/log"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGREEMENT = default_agreement(US, CN)
NOTICE = "detente.dev/pre-test-notification/v1"
_counter = {US: 0, CN: 0}


def logged(
    origin: str,
    rtype: str,
    at: datetime,
    body: dict | None = None,
    to: tuple[str, ...] = (),
    refs: tuple[RecordRef, ...] = (),
) -> Logged:
    rec = Record(type=rtype, party=origin, issued=at, body=body or {}, to=to, refs=refs)
    index = _counter[origin]
    _counter[origin] += 1
    return Logged(origin, index, hashlib.sha256(rec.to_json()).hexdigest(), rec)


def ref(item: Logged, rel: str) -> RecordRef:
    return RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel=rel)


def notice(at: datetime = T0, lead: timedelta = timedelta(hours=48)) -> Logged:
    body = {
        "test_id": "T-1",
        "category": "frontier-model-evaluation",
        "window_start": (at + lead).isoformat(),
        "window_end": (at + lead + timedelta(hours=6)).isoformat(),
        "location": "cluster-7",
        "human_control_mode": "not-applicable",
        "contact": "duty officer",
    }
    return logged(US, NOTICE, at, body, to=(CN,))


def kinds(actions) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return sorted((a.kind, a.party, a.obligation) for a in actions)


def test_silence_is_recorded_by_both_sides_and_the_sender_escalates() -> None:
    n = notice()
    early = evaluate([n], AGREEMENT, T0 + timedelta(minutes=10), CN)
    assert early.threads[0].state(CN) == RecipientState.SENT
    assert kinds(early.actions) == [("remind", CN, "receipt")]  # half of the 15-minute receipt window
    late = T0 + timedelta(hours=24, seconds=1)
    for me in (US, CN):
        ev = evaluate([n], AGREEMENT, late, me)
        assert ("record-miss", CN, "receipt") in kinds(ev.actions)
        assert ("record-miss", CN, "response") in kinds(ev.actions)
    us_actions = evaluate([n], AGREEMENT, late, US).actions
    assert [(a.step, a.action) for a in us_actions if a.kind == "escalate"] == [(1, "resend")]
    assert not [a for a in evaluate([n], AGREEMENT, late, CN).actions if a.kind == "escalate"]


def test_escalation_climbs_one_recorded_step_at_a_time() -> None:
    n = notice()
    due = T0 + timedelta(hours=24)
    step1 = logged(US, ESCALATION, due, {"step": 1, "action": "resend"}, refs=(ref(n, "escalation-of"),))
    just_after = evaluate([n, step1], AGREEMENT, due + timedelta(minutes=30), US)
    assert not [a for a in just_after.actions if a.kind == "escalate"]  # step 2 waits an hour
    later = evaluate([n, step1], AGREEMENT, due + timedelta(hours=1, seconds=1), US)
    assert [(a.step, a.action) for a in later.actions if a.kind == "escalate"] == [(2, "second-channel")]


def test_receipt_then_acknowledgement() -> None:
    n = notice()
    receipt = logged(
        CN,
        RECEIPT,
        T0 + timedelta(minutes=1),
        {"received_at": (T0 + timedelta(minutes=1)).isoformat()},
        refs=(ref(n, "receipt-of"),),
    )
    mid = evaluate([n, receipt], AGREEMENT, T0 + timedelta(hours=13), CN)
    assert mid.threads[0].state(CN) == RecipientState.RECEIVED
    assert kinds(mid.actions) == [("remind", CN, "response")]
    assert (
        kinds(evaluate([n, receipt], AGREEMENT, T0 + timedelta(hours=13), US).actions) == []
    )  # reminders are the recipient's
    ack = logged(CN, ACK, T0 + timedelta(hours=2), {"note": "noted"}, refs=(ref(n, "ack-of"),))
    done = evaluate([n, receipt, ack], AGREEMENT, T0 + timedelta(days=3), US)
    assert done.threads[0].state(CN) == RecipientState.ANSWERED
    assert done.actions == []


def test_a_late_answer_still_counts_as_a_miss_until_recorded() -> None:
    n = notice()
    ack = logged(CN, ACK, T0 + timedelta(hours=30), refs=(ref(n, "ack-of"),))
    ev = evaluate([n, ack], AGREEMENT, T0 + timedelta(hours=31), US)
    assert ev.threads[0].state(CN) == RecipientState.ANSWERED
    assert ("record-miss", CN, "response") in kinds(ev.actions)
    assert not [a for a in ev.actions if a.kind == "escalate"]  # answered: no escalation
    missed = logged(
        US,
        DEADLINE_MISSED,
        T0 + timedelta(hours=31),
        {"deadline": "response", "party": CN, "due": (T0 + timedelta(hours=24)).isoformat()},
        refs=(ref(n, "missed"),),
    )
    assert ("record-miss", CN, "response") not in kinds(
        evaluate([n, ack, missed], AGREEMENT, T0 + timedelta(hours=32), US).actions
    )


def test_replies_count_only_from_recipients_and_to_the_exact_leaf() -> None:
    n = notice()
    wrong_leaf = RecordRef(origin=n.origin, index=n.index, leaf_hash="0" * 64, rel="ack-of")
    forged = logged(CN, ACK, T0 + timedelta(minutes=1), refs=(wrong_leaf,))
    stranger = logged(US, ACK, T0 + timedelta(minutes=1), refs=(ref(n, "ack-of"),))  # the sender acking itself
    ev = evaluate([n, forged, stranger], AGREEMENT, T0 + timedelta(minutes=2), CN)
    assert ev.threads[0].state(CN) == RecipientState.SENT


def test_clarification_needs_an_answer_not_an_acknowledgement() -> None:
    req = logged(US, "detente.dev/clarification-request/v1", T0, {"question": "What was tested?"}, to=(CN,))
    ack = logged(CN, ACK, T0 + timedelta(minutes=5), refs=(ref(req, "ack-of"),))
    ev = evaluate([req, ack], AGREEMENT, T0 + timedelta(hours=49), US)
    assert ev.threads[0].state(CN) == RecipientState.RECEIVED
    assert ("record-miss", CN, "response") in kinds(ev.actions)
    answer = logged(
        CN, ANSWER, T0 + timedelta(hours=3), {"answer": "A robustness suite."}, refs=(ref(req, "answer-to"),)
    )
    assert (
        evaluate([req, ack, answer], AGREEMENT, T0 + timedelta(hours=49), US).threads[0].state(CN)
        == RecipientState.ANSWERED
    )


def test_flash_hotline_messages_have_a_one_hour_window() -> None:
    msg = logged(US, "detente.dev/hotline-message/v1", T0, {"priority": "flash", "topic": "crisis"}, to=(CN,))
    (thread,) = evaluate([msg], AGREEMENT, T0, CN).threads
    assert {o.kind: o.due for o in thread.obligations}["response"] == T0 + timedelta(hours=1)


def test_late_notice_is_a_finding() -> None:
    assert evaluate([notice(lead=timedelta(hours=2))], AGREEMENT, T0, CN).threads[0].findings == ("late-notice",)
    assert evaluate([notice(lead=timedelta(hours=25))], AGREEMENT, T0, CN).threads[0].findings == ()


def test_catalogue_validation() -> None:
    good = notice().record
    assert validate_record(good) is not None
    with pytest.raises(MalformedRecord, match="human_control_mode"):
        validate_record(
            good.model_copy(update={"body": {k: v for k, v in good.body.items() if k != "human_control_mode"}})
        )
    with pytest.raises(MalformedRecord, match="window_end"):
        validate_record(good.model_copy(update={"body": {**good.body, "window_end": good.body["window_start"]}}))
    with pytest.raises(MalformedRecord, match="recipients"):
        validate_record(good.model_copy(update={"to": ()}))
    with pytest.raises(MalformedRecord, match="own sender"):
        validate_record(good.model_copy(update={"to": (US,)}))
    with pytest.raises(MalformedRecord):
        validate_record(
            Record(
                type="detente.dev/hotline-message/v1",
                party=US,
                issued=T0,
                to=(CN,),
                body={"priority": "whenever", "topic": "crisis"},
            )
        )
    assert validate_record(Record(type="example.org/custom/v1", party=US, issued=T0)) is None
    schemas = json_schemas()
    assert set(schemas) == set(CATALOGUE) and len(schemas) >= 17
    assert "human_control_mode" in schemas[NOTICE]["required"]


REPLY_TYPES = [RECEIPT, ACK, ANSWER, DEADLINE_MISSED, ESCALATION]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [NOTICE, "detente.dev/clarification-request/v1", "detente.dev/hotline-message/v1", "detente.dev/test-update/v1"]
    ),
    st.lists(
        st.tuples(st.sampled_from(REPLY_TYPES), st.sampled_from([US, CN]), st.integers(0, 200), st.booleans()),
        max_size=12,
    ),
    st.integers(0, 300),
    st.sampled_from([US, CN]),
)
def test_no_sequence_of_records_leaves_a_thread_in_an_impossible_state(subject_type, replies, now_h, me) -> None:
    bodies = {
        NOTICE: notice().record.body,
        "detente.dev/clarification-request/v1": {"question": "q"},
        "detente.dev/hotline-message/v1": {"priority": "routine", "topic": "urgent-concern"},
        "detente.dev/test-update/v1": {"test_id": "T-1", "change": "moved"},
    }
    subject = logged(US, subject_type, T0, bodies[subject_type], to=(CN,))
    items = [subject]
    for rtype, origin, hours, exact in replies:
        r = ref(subject, "x") if exact else RecordRef(origin=US, index=subject.index, leaf_hash="f" * 64)
        body = (
            {"deadline": "response", "party": CN, "due": T0.isoformat()}
            if rtype == DEADLINE_MISSED
            else ({"step": 1, "action": "resend"} if rtype == ESCALATION else {})
        )
        items.append(logged(origin, rtype, T0 + timedelta(hours=hours), body, refs=(r,)))
    now = T0 + timedelta(hours=now_h)
    ev = evaluate(items, AGREEMENT, now, me)
    (thread,) = ev.threads
    state = thread.state(CN)
    assert state in set(RecipientState)
    receipt = next(o for o in thread.obligations if o.kind == "receipt")
    response = [o for o in thread.obligations if o.kind == "response"]
    if state == RecipientState.ANSWERED:
        assert response and response[0].met_at is not None and receipt.met_at is not None
    if state == RecipientState.SENT:
        assert receipt.met_at is None
    for ob in thread.obligations:
        assert ob.party == CN
        if ob.met_by is not None:
            assert ob.met_by.origin == CN and ob.met_at == ob.met_by.record.issued
        if ob.met_at is not None and ob.met_at <= ob.due:
            assert not ob.missed(now)
    for action in ev.actions:
        assert action.party == CN
        if action.kind == "escalate":
            assert me == US and action.obligation == "response"
        if action.kind == "record-miss":
            assert now >= action.due or any(o.met_at and o.met_at > o.due for o in thread.obligations)
        if action.kind == "remind":
            assert me == CN and now < action.due


def test_code_words_and_withheld_quota() -> None:
    from detente.protocol.threads import quota_findings

    agreement = AGREEMENT.model_copy(
        update={"codes": {"BLUEFIN": "link test, no action needed"}, "withheld_per_year": 1}
    )
    known = logged(
        US,
        "detente.dev/hotline-message/v1",
        T0,
        {"priority": "routine", "topic": "crisis", "code": "BLUEFIN-1"},
        to=(CN,),
    )
    unknown = logged(
        US,
        "detente.dev/hotline-message/v1",
        T0,
        {"priority": "routine", "topic": "crisis", "code": "REDFOX-7"},
        to=(CN,),
    )
    findings = {t.subject.index: t.findings for t in evaluate([known, unknown], agreement, T0, CN).threads}
    assert findings == {known.index: (), unknown.index: ("unknown-code",)}
    withheld = [
        logged(
            CN,
            "detente.dev/withheld-notification/v1",
            T0 + timedelta(days=d),
            {"category": "test", "reason_class": "national-security", "occurred": T0.isoformat()},
        )
        for d in (0, 10, 400)
    ]
    assert quota_findings(withheld, agreement) == [(CN, 2026, 2, 1)]
    assert quota_findings(withheld[:1], agreement) == []


def test_full_codes_match_first_then_the_code_word_and_withheld_notices_are_numbered_per_year() -> None:
    from detente.protocol.threads import withheld_counts

    agreement = AGREEMENT.model_copy(
        update={"codes": {"AMBER": "stand by", "AMBER-7": "drill over", "BRAVO-1": "all clear"}, "withheld_per_year": 1}
    )
    assert agreement.code_meaning("AMBER-7") == ("AMBER-7", "drill over")  # the full code, exactly
    assert agreement.code_meaning("AMBER-3") == ("AMBER", "stand by")  # else the word before the first "-"
    assert agreement.code_meaning("AMBER") == ("AMBER", "stand by")
    assert agreement.code_meaning("AMBERX-7") is None and agreement.code_meaning("RED-AMBER-7") is None
    # a full code the agreement defines is known even when its word alone is not
    full = logged(US, "detente.dev/hotline-message/v1", T0, {"priority": "routine", "code": "BRAVO-1"}, to=(CN,))
    other = logged(US, "detente.dev/hotline-message/v1", T0, {"priority": "routine", "code": "BRAVO-2"}, to=(CN,))
    findings = {t.subject.index: t.findings for t in evaluate([full, other], agreement, T0, CN).threads}
    assert findings == {full.index: (), other.index: ("unknown-code",)}

    body = {"category": "test", "reason_class": "national-security", "occurred": T0.isoformat()}
    notices = [
        logged(party, "detente.dev/withheld-notification/v1", T0 + timedelta(days=d), body)
        for party, d in ((CN, 0), (US, 1), (CN, 10), (CN, 400))
    ]
    counts = withheld_counts(notices, agreement)
    numbers = [(counts[x.key].party, counts[x.key].year, counts[x.key].number) for x in notices]
    assert numbers == [(CN, 2026, 1), (US, 2026, 1), (CN, 2026, 2), (CN, 2027, 1)]
    assert [counts[x.key].over_quota for x in notices] == [False, False, True, False]


def test_requests_sent_by_the_ladder_are_not_escalated_again() -> None:
    n = notice()
    request = logged(
        US,
        "detente.dev/clarification-request/v1",
        T0 + timedelta(hours=48),
        {"question": "Please respond", "urgent": True},
        to=(CN,),
        refs=(ref(n, "escalation-of"),),
    )
    plain = logged(US, "detente.dev/clarification-request/v1", T0, {"question": "Why?"}, to=(CN,))
    late = T0 + timedelta(days=10)
    actions = evaluate([request, plain], AGREEMENT, late, US).actions
    escalated = {a.subject.index for a in actions if a.kind == "escalate"}
    missed = {a.subject.index for a in actions if a.kind == "record-miss"}
    assert escalated == {plain.index}  # the ladder's own request: its miss is recorded, no new ladder
    assert missed == {plain.index, request.index}


def test_an_agreement_overrides_deadlines_type_by_type() -> None:
    from detente.protocol.agreement import Agreement

    agreement = Agreement.model_validate(
        {"response_within": {"detente.dev/link-test/v1": 120, "detente.dev/periodic-exchange/v1": None}}
    )
    assert agreement.response_within["detente.dev/link-test/v1"] == timedelta(minutes=2)
    assert agreement.response_within["detente.dev/clarification-request/v1"] == timedelta(hours=48)  # default kept
    exchange = logged(
        US, "detente.dev/periodic-exchange/v1", T0, {"period": "2026Q4", "valid_as_of": T0.isoformat()}, to=(CN,)
    )
    thread = evaluate([exchange], agreement, T0, CN).threads[0]
    assert [o.kind for o in thread.obligations] == ["receipt"]  # null: no answer due
