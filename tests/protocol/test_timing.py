"""Witnessed time (issue #19): intervals from cosignature timestamps, and deadlines, lateness and
lead times judged on them rather than on the records' own ``issued`` claims."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detente.protocol.agreement import default_agreement
from detente.protocol.threads import TIME_CLAIM, Logged, RecipientState, evaluate
from detente.protocol.timing import Cosigned, Timeline, TimeRule, Witnessed, claim_outside
from detente.records.catalogue import ACK, RECEIPT
from detente.records.record import Record
from detente.records.ref import RecordRef

US, CN, NEUTRAL = "us.example/log", "cn.example/log", "auditor.example/log"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LINK = "detente.dev/link-test/v1"
NOTICE = "detente.dev/pre-test-notification/v1"
AGREEMENT = default_agreement(US, CN)


def ts(at: datetime) -> int:
    return int(at.timestamp())


# --- the interval itself -------------------------------------------------------------------------


def test_upper_bound_is_the_first_cosignature_that_includes_the_entry_and_lower_the_last_without() -> None:
    rows = [
        Cosigned(CN, 3, US, ts(T0)),
        Cosigned(CN, 5, US, ts(T0 + timedelta(minutes=2))),
        Cosigned(CN, 8, US, ts(T0 + timedelta(minutes=9))),
    ]
    line = Timeline(CN, rows)
    w = line.interval(4)  # in size 5 and 8, not in size 3
    assert (w.lo, w.hi) == (T0, T0 + timedelta(minutes=2))
    assert (w.lo_by, w.hi_by) == ((US,), (US,))
    assert line.interval(2).lo is None and line.interval(2).hi == T0  # before the first: no lower bound
    assert line.interval(8).hi is None and line.interval(8).lo == T0 + timedelta(minutes=9)  # not yet witnessed


def test_a_log_never_vouches_for_its_own_time_and_an_agreement_can_name_the_witnesses() -> None:
    rows = [Cosigned(CN, 5, CN, ts(T0)), Cosigned(CN, 5, US, ts(T0 + timedelta(minutes=1)))]
    rows.append(Cosigned(CN, 5, NEUTRAL, ts(T0 + timedelta(minutes=3))))
    assert Timeline(CN, rows).interval(0).hi == T0 + timedelta(minutes=1)  # cn's own cosignature ignored
    neutral_only = TimeRule(frozenset({NEUTRAL}))
    w = Timeline(CN, rows, neutral_only).interval(0)
    assert (w.hi, w.hi_by) == (T0 + timedelta(minutes=3), (NEUTRAL,))
    both = Timeline(CN, rows, TimeRule(frozenset({US, NEUTRAL}), quorum=2)).interval(0)
    assert (both.hi, both.hi_by) == (T0 + timedelta(minutes=3), (US, NEUTRAL))  # when the second had cosigned
    assert Timeline(CN, rows, TimeRule(frozenset({US}), quorum=2)).interval(0).hi is None  # quorum unmet
    assert Timeline(US, rows).interval(0) == Witnessed()  # rows of another log do not count


rows_strategy = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from([US, NEUTRAL, CN, "other"]), st.integers(1, 10_000)),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, quorum=st.integers(1, 3), index=st.integers(0, 31))
def test_the_interval_is_exactly_what_the_evidence_allows(rows, quorum, index) -> None:  # type: ignore[no-untyped-def]
    """Brute force: per counting witness its earliest cosignature including the entry (latest
    excluding it); the bound is the quorum-th of those. Never narrower than the evidence."""
    evidence = [Cosigned(CN, s, w, t) for s, w, t in rows]
    line = Timeline(CN, evidence, TimeRule(quorum=quorum))
    firsts, lasts = {}, {}
    for c in evidence:
        if c.witness == CN:
            continue
        if c.size > index:
            firsts[c.witness] = min(firsts.get(c.witness, c.timestamp), c.timestamp)
        else:
            lasts[c.witness] = max(lasts.get(c.witness, c.timestamp), c.timestamp)
    w = line.interval(index)
    hi = sorted(firsts.values())[quorum - 1] if len(firsts) >= quorum else None
    lo = sorted(lasts.values(), reverse=True)[quorum - 1] if len(lasts) >= quorum else None
    assert (w.hi.timestamp() if w.hi else None) == hi
    assert (w.lo.timestamp() if w.lo else None) == lo
    for c in evidence:  # no counting cosignature contradicts a bound of a single witness
        if quorum == 1 and c.witness != CN and w.hi is not None and c.size > index:
            assert w.hi.timestamp() <= c.timestamp
        if quorum == 1 and c.witness != CN and w.lo is not None and c.size <= index:
            assert w.lo.timestamp() >= c.timestamp


@settings(max_examples=200, deadline=None)
@given(rows=rows_strategy, quorum=st.integers(1, 3), i=st.integers(0, 31), j=st.integers(0, 31))
def test_the_bounds_are_monotone_in_the_log_index(rows, quorum, i, j) -> None:  # type: ignore[no-untyped-def]
    line = Timeline(CN, [Cosigned(CN, s, w, t) for s, w, t in rows], TimeRule(quorum=quorum))
    a, b = line.interval(min(i, j)), line.interval(max(i, j))
    if a.hi is not None and b.hi is not None:
        assert a.hi <= b.hi
    if b.hi is not None:  # a later entry witnessed implies an earlier one is
        assert a.hi is not None
    if a.lo is not None and b.lo is not None:
        assert a.lo <= b.lo
    if a.lo is not None:
        assert b.lo is not None


def test_a_claim_is_outside_only_beyond_the_tolerance() -> None:
    w = Witnessed(lo=T0, hi=T0 + timedelta(minutes=1))
    five = timedelta(minutes=5)
    assert not claim_outside(T0 - timedelta(minutes=5), w, five)
    assert claim_outside(T0 - timedelta(minutes=5, seconds=1), w, five)
    assert not claim_outside(T0 + timedelta(minutes=6), w, five)
    assert claim_outside(T0 + timedelta(minutes=6, seconds=1), w, five)
    assert not claim_outside(T0 - timedelta(days=9), Witnessed(), five)  # no evidence: nothing to contradict


# --- deadlines judged on witnessed time ----------------------------------------------------------


class Logs:
    """Records as two parties log them, and the cosignatures each log gets, entry by entry."""

    def __init__(self) -> None:
        self.count = {US: 0, CN: 0}
        self.evidence: list[Cosigned] = []

    def log(self, origin: str, rtype: str, issued: datetime, *, witnessed: datetime | None, **kw: object) -> Logged:
        """Append a record claiming ``issued``; the log's next checkpoint is cosigned by the other
        party at ``witnessed`` (``None``: not yet)."""
        rec = Record(type=rtype, party=origin, issued=issued, **kw)  # type: ignore[arg-type]
        index = self.count[origin]
        self.count[origin] += 1
        if witnessed is not None:
            other = CN if origin == US else US
            self.evidence.append(Cosigned(origin, index + 1, other, ts(witnessed)))
        return Logged(origin, index, hashlib.sha256(rec.to_json()).hexdigest(), rec)

    def cosign(self, origin: str, size: int, at: datetime, witness: str | None = None) -> None:
        self.evidence.append(Cosigned(origin, size, witness or (CN if origin == US else US), ts(at)))

    def times(self):  # type: ignore[no-untyped-def]
        lines = {o: Timeline(o, self.evidence) for o in (US, CN)}
        return lambda item: lines[item.origin].interval(item.index)


def ref(item: Logged, rel: str) -> RecordRef:
    return RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel=rel)


def link_test(logs: Logs, issued: datetime, witnessed: datetime | None) -> Logged:
    return logs.log(US, LINK, issued, witnessed=witnessed, to=(CN,), body={"test_text": "The quick brown fox 0123"})


def ack_thread(logs: Logs, subject: Logged, issued: datetime, witnessed: datetime | None) -> list[Logged]:
    receipt = logs.log(
        CN, RECEIPT, issued, witnessed=witnessed, to=(US,), body={"received_at": issued.isoformat()},
        refs=(ref(subject, "receipt-of"),),
    )  # fmt: skip
    ack = logs.log(CN, ACK, issued, witnessed=witnessed, to=(US,), refs=(ref(subject, "ack-of"),))
    return [receipt, ack]


def test_a_back_dated_answer_witnessed_after_the_deadline_is_late_and_flagged() -> None:
    logs = Logs()
    subject = link_test(logs, T0, witnessed=T0 + timedelta(seconds=20))
    logs.cosign(CN, 0, T0 + timedelta(minutes=30))  # cn's log seen empty well after the notice
    # The link test's answer is due 1 h after it was witnessed; cn answers 3 h later, claiming T0+10 min.
    replies = ack_thread(logs, subject, T0 + timedelta(minutes=10), witnessed=T0 + timedelta(hours=3))
    now = T0 + timedelta(hours=4)
    claimed = evaluate([subject, *replies], AGREEMENT, now, US)  # the claims alone: on time
    assert not any(o.missed(now) for o in claimed.threads[0].obligations)
    judged = evaluate([subject, *replies], AGREEMENT, now, US, logs.times())
    thread = judged.threads[0]
    response = next(o for o in thread.obligations if o.kind == "response")
    assert response.window_start == T0 + timedelta(seconds=20)  # the window starts when the notice was witnessed
    assert response.met_at == T0 + timedelta(hours=3) and response.met_witnessed
    assert response.missed(now)
    assert any(a.kind == "record-miss" and a.obligation == "response" for a in judged.actions)
    assert f"{TIME_CLAIM}@{CN}#0" in thread.findings and f"{TIME_CLAIM}@{CN}#1" in thread.findings
    assert thread.witnessed is not None and thread.witnessed[replies[1].key].hi_by == (US,)


def test_a_clock_ten_minutes_behind_is_flagged_but_judged_right() -> None:
    logs = Logs()
    logs.cosign(US, 0, T0 - timedelta(minutes=1))
    subject = link_test(logs, T0, witnessed=T0 + timedelta(seconds=5))
    logs.cosign(CN, 0, T0 + timedelta(minutes=11))  # cn's log was seen without the replies at T0+11 min
    # cn answers at T0+12 min by witnessed time, but its clock says T0+2 min.
    replies = ack_thread(logs, subject, T0 + timedelta(minutes=2), witnessed=T0 + timedelta(minutes=12))
    now = T0 + timedelta(hours=2)
    thread = evaluate([subject, *replies], AGREEMENT, now, US, logs.times()).threads[0]
    assert thread.state(CN) is RecipientState.ANSWERED
    assert not any(o.missed(now) for o in thread.obligations)  # answered within the hour: met
    assert f"{TIME_CLAIM}@{CN}#0" in thread.findings  # its claims lie 10 min before the witnessed interval
    assert TIME_CLAIM not in thread.findings  # the subject's own claim is fine


def test_an_answer_after_the_deadline_with_issued_before_it_is_late_for_both_parties() -> None:
    logs = Logs()
    subject = link_test(logs, T0, witnessed=T0 + timedelta(seconds=2))
    replies = ack_thread(logs, subject, T0 + timedelta(minutes=59), witnessed=T0 + timedelta(hours=1, minutes=30))
    now = T0 + timedelta(hours=2)
    for me in (US, CN):
        judged = evaluate([subject, *replies], AGREEMENT, now, me, logs.times())
        response = next(o for o in judged.threads[0].obligations if o.kind == "response")
        assert response.missed(now), me
        assert any(a.kind == "record-miss" for a in judged.actions), me


def test_a_pre_dated_notice_is_judged_on_its_lead_time_from_witnessed_time() -> None:
    logs = Logs()
    window = T0 + timedelta(hours=30)
    body = {
        "test_id": "T-1",
        "category": "frontier-model-evaluation",
        "window_start": window.isoformat(),
        "window_end": (window + timedelta(hours=6)).isoformat(),
        "location": "cluster-7",
        "human_control_mode": "not-applicable",
        "contact": "duty officer",
    }
    # Claimed 30 h ahead of its window; witnessed only 10 h ahead: late under a 24 h lead time. The
    # log was cosigned without it at T0+19 h, so the claim of T0 is also outside its interval.
    logs.cosign(US, 0, T0 + timedelta(hours=19))
    notice = logs.log(US, NOTICE, T0, witnessed=T0 + timedelta(hours=20), to=(CN,), body=body)
    assert "late-notice" not in evaluate([notice], AGREEMENT, T0, CN).threads[0].findings
    thread = evaluate([notice], AGREEMENT, T0 + timedelta(hours=21), CN, logs.times()).threads[0]
    assert "late-notice" in thread.findings
    assert TIME_CLAIM in thread.findings


def test_an_answer_not_yet_witnessed_meets_provisionally_and_never_settles_as_witnessed() -> None:
    logs = Logs()
    subject = link_test(logs, T0, witnessed=T0 + timedelta(seconds=2))
    logs.cosign(CN, 0, T0 + timedelta(minutes=1))
    replies = ack_thread(logs, subject, T0 + timedelta(minutes=5), witnessed=None)
    now = T0 + timedelta(minutes=6)
    thread = evaluate([subject, *replies], AGREEMENT, now, US, logs.times()).threads[0]
    response = next(o for o in thread.obligations if o.kind == "response")
    assert response.met_at == T0 + timedelta(minutes=5) and not response.met_witnessed
    # Still unwitnessed past the deadline: provisionally met at its claim (clamped to the lower bound).
    later = evaluate([subject, *replies], AGREEMENT, T0 + timedelta(hours=3), US, logs.times())
    assert not any(a.kind == "record-miss" for a in later.actions)
    # Its claim before the lower bound is clamped: a reply claimed before cn's log was seen without it.
    early = ack_thread(logs, subject, T0 - timedelta(minutes=30), witnessed=None)
    thread = evaluate([subject, *early], AGREEMENT, now, US, logs.times()).threads[0]
    assert next(o for o in thread.obligations if o.kind == "receipt").met_at == T0 + timedelta(minutes=1)
