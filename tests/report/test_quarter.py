"""The quarter's figures equal the numbers counted by hand from the busy quarter in conftest.py
(each expected value says where it comes from)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from report_data import CN, US, VERIFICATION, withheld_quarter

from detente.errors import MalformedError
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged
from detente.report.figures import QuarterlyFigures
from detente.report.quarter import nearest_rank, quarterly_figures

AFTER = datetime(2027, 1, 10, tzinfo=UTC)
HOTLINE, PRE_TEST = "detente.dev/hotline-message/v1", "detente.dev/pre-test-notification/v1"
TAKEDOWN = "detente.dev/takedown-request/v1"


def figures(records: list[Logged], now: datetime = AFTER, **kw: object) -> QuarterlyFigures:
    return quarterly_figures(
        records, default_agreement(US, CN), US, "2026Q4", verification=kw.get("verification", VERIFICATION), now=now
    )


@pytest.fixture(scope="module")
def f(busy: list[Logged]) -> QuarterlyFigures:
    return figures(busy)


def row(rows: list, **match: object):  # type: ignore[no-untyped-def,type-arg]
    found = [r for r in rows if all(getattr(r, k) == v for k, v in match.items())]
    assert len(found) == 1, match
    return found[0]


def test_period_and_scope(f: QuarterlyFigures) -> None:
    assert (f.period, f.start, f.end) == ("2026Q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert f.as_of == f.end  # the quarter is over: evaluated as of its end
    assert f.parties == [CN, US]
    # notices 10 + hotline 15 + takedowns 8 + incidents 6 + evals 4 + labels 3 + export 5 (by hand);
    # the 4 records before 1 October and the 3 from 1 January on are not counted
    assert f.records == 10 + 15 + 8 + 6 + 4 + 3 + 5 == 51


def test_notices_sent_and_received(f: QuarterlyFigures) -> None:
    got = {r.type.split("/")[1]: (r.sent, r.received, r.others) for r in f.notices}
    assert got == {
        "hotline-message": (3, 1, 0),  # H1, H3, H4 sent; H2 received (the 2 January flash is outside)
        "policy-development-notification": (0, 1, 0),
        "pre-test-notification": (2, 0, 0),  # N1, N2 (not the September one)
        "takedown-request": (2, 1, 0),
        "violation-narrative": (1, 0, 0),
    }
    assert [(e.party, e.sent_to, e.received_from) for e in f.exchanges] == [(CN, 8, 3)]
    assert len(f.weeks) == 14  # 92 days: 13 full weeks and one day
    assert sum(w.sent for w in f.weeks) == 8 and sum(w.received for w in f.weeks) == 3
    assert sum(w.hotline for w in f.weeks) == 4 and sum(w.incidents for w in f.weeks) == 4
    assert f.weeks[13].received == 1  # the takedown request of 31 December, 20:00
    assert (f.weeks[1].sent, f.weeks[1].hotline, f.weeks[1].incidents) == (1, 1, 1)  # 8–14 October: H1, inc-1


def test_response_times_against_deadlines(f: QuarterlyFigures) -> None:
    # pre-test receipts by CN: 300 s in time (N1), 1200 s late (N2, 15 min allowed)
    r = row(f.deadlines, type=PRE_TEST, kind="receipt", party=CN)
    assert (r.total, r.in_time, r.late, r.overdue, r.pending, r.missed) == (2, 1, 1, 0, 0, 1)
    assert (r.median_seconds, r.p90_seconds) == (300, 1200)
    # pre-test acknowledgements by CN: 7200 s (N1), none for N2 (overdue)
    r = row(f.deadlines, type=PRE_TEST, kind="response", party=CN)
    assert (r.total, r.in_time, r.overdue, r.missed, r.median_seconds) == (2, 1, 1, 1, 7200)
    # hotline acknowledgements by CN: 1800 (H1), 86400 (H3), 3600 (H4), all in time
    r = row(f.deadlines, type=HOTLINE, kind="response", party=CN)
    assert (r.total, r.in_time, r.median_seconds, r.p90_seconds) == (3, 3, 3600, 86400)
    # hotline receipts by CN: 120, 180, 240
    r = row(f.deadlines, type=HOTLINE, kind="receipt", party=CN)
    assert (r.total, r.in_time, r.median_seconds, r.p90_seconds) == (3, 3, 180, 240)
    # US acknowledged H2 (immediate: 6 h) after 8 h
    r = row(f.deadlines, type=HOTLINE, kind="response", party=US)
    assert (r.total, r.late, r.missed, r.median_seconds) == (1, 1, 1, 28800)
    # the narrative US owed for H4 came after 10 days (180 allowed)
    r = row(f.deadlines, type=HOTLINE, kind="follow-up", party=US)
    assert (r.total, r.in_time, r.median_seconds) == (1, 1, 864000)
    # T3 (31 December 20:00): US's answer is due 1 January 20:00, after the quarter: pending;
    # the answer US gave on 1 January is after the quarter and does not count
    r = row(f.deadlines, type=TAKEDOWN, kind="response", party=US)
    assert (r.total, r.pending, r.in_time, r.median_seconds) == (1, 1, 0, None)
    # all CN receipts: N1 300, N2 1200 (late), H1 120, H3 180, H4 240, V1 300, T1 300, T2 300
    t = row(f.deadline_totals, kind="receipt", party=CN)
    assert (t.total, t.in_time, t.late, t.median_seconds, t.p90_seconds) == (8, 7, 1, 300, 1200)
    # all CN answers: N1 7200, N2 overdue, H1 1800, H3 86400, H4 3600, T1 10800, T2 172800 (late)
    t = row(f.deadline_totals, kind="response", party=CN)
    assert (t.total, t.in_time, t.late, t.overdue, t.missed) == (7, 5, 1, 1, 2)
    assert (t.median_seconds, t.p90_seconds) == (7200, 172800)


def test_misses(f: QuarterlyFigures) -> None:
    m = f.misses
    assert m.total == 4  # N2 receipt (late), N2 answer (never), H2 answer (late, by US), T2 answer (late)
    assert m.by_party == {CN: 3, US: 1}
    assert m.by_kind == {"receipt": 1, "response": 3}
    assert (m.deadline_missed_records, m.escalation_records) == (3, 1)
    got = [(i.type, i.party, i.kind, i.met_at is not None, i.recorded_by, i.escalation_steps) for i in m.items]
    assert got == [
        (PRE_TEST, CN, "receipt", True, [US], []),
        (PRE_TEST, CN, "response", False, [US], [1]),
        (HOTLINE, US, "response", True, [CN], []),
        (TAKEDOWN, CN, "response", True, [], []),
    ]


def test_hotline(f: QuarterlyFigures) -> None:
    h = f.hotline
    assert h.total == 4
    assert h.by_priority == {"flash": 1, "immediate": 2, "routine": 1}
    assert h.by_topic == {
        "crisis": 1,
        "critical-infrastructure-early-warning": 1,
        "inadvertent-export-control-violation": 1,
        "urgent-concern": 1,
    }
    assert h.by_sender == {CN: 1, US: 3}
    assert h.by_code == {"ALPHA": 1}
    ack = {r.priority: (r.messages, r.in_time, r.late, r.median_seconds, r.p90_seconds) for r in h.acknowledgement}
    assert ack == {
        "flash": (1, 1, 0, 1800, 1800),
        "immediate": (2, 1, 1, 3600, 28800),  # H4 3600 in time, H2 28800 late
        "routine": (1, 1, 0, 86400, 86400),
    }
    assert h.items_total == 3  # flash and immediate, newest first
    assert [i.priority for i in h.items] == ["immediate", "immediate", "flash"]
    h2 = h.items[1]
    assert h2.origin == CN and h2.state == {US: "answered"}
    assert (
        h2.text is not None and h2.text.original.text == "电网异常" and h2.text.translations == {"en": "Grid anomaly"}
    )


def test_incidents(f: QuarterlyFigures) -> None:
    i = f.incidents
    assert (i.reports, i.incidents) == (4, 3)  # inc-1 twice, cn-7, cn-8; inc-0 and inc-1 final outside
    assert i.by_harm_type == {"critical-infrastructure": 1, "health": 1, "human-rights": 1, "society": 1}
    assert i.by_sector == {"energy": 1, "healthcare": 1, "transport": 1, "unspecified": 1}
    assert i.by_severity == {"critical": 1, "high": 1, "low": 1}  # inc-1's update (high), not its initial medium
    assert i.by_category == {"ai-hazard": 1, "ai-incident": 1, "serious-ai-incident": 1}
    assert i.by_party == {CN: 2, US: 1}
    assert i.by_stage == {"initial": 3, "update": 1}
    assert (i.deaths, i.injuries, i.classifications, i.links, i.comments) == (0, 3, 1, 0, 1)
    assert [x.key for x in i.items] == [f"{CN}#cn-8", f"{CN}#cn-7", f"{US}#inc-1"]


def test_evaluations_labels_takedowns(f: QuarterlyFigures) -> None:
    e = f.evaluations
    assert (e.results, e.passed, e.failed, e.unreadable) == (3, 1, 1, 1)
    assert e.by_party == {CN: {"results": 1, "passed": 1, "failed": 0}, US: {"results": 2, "passed": 0, "failed": 1}}
    assert e.by_suite["cyber-uplift@1.0"] == {"results": 2, "passed": 1, "failed": 1}
    assert e.rechecks == {"consistent": 1}
    got = [(x.origin, x.model, x.passed, x.preregistered) for x in e.items]
    assert got == [(US, "?", None, False), (US, "us-model-y", False, True), (CN, "cn-model-x", True, False)]

    assert f.labels.checks == 3
    assert f.labels.by_regime == {
        "c2pa": {"fail": 1, "not-applicable": 1, "pass": 1},
        "cn-aigc": {"fail": 2, "pass": 1},
    }
    assert f.labels.by_party == {CN: 1, US: 2}

    t = f.takedowns
    # T1 acted in 3 h; T2 declined after 48 h (24 h allowed); T3 unanswered within the quarter
    assert (t.requested, t.acted, t.declined, t.missed, t.pending) == (3, 1, 1, 1, 1)
    assert t.by_category == {"deepfake-impersonation": 1, "election-disinformation": 1, "fraud": 1}
    assert t.by_requester == {CN: 1, US: 2}
    assert (t.answer.median_seconds, t.answer.p90_seconds) == (10800, 172800)


def test_export_controls_and_verification(f: QuarterlyFigures) -> None:
    x = f.exportctl
    assert x.disclosures == 1  # H4
    assert (x.narratives.total, x.narratives.in_time, x.narratives.pending, x.narrative_records) == (1, 1, 0, 1)
    assert (x.suppliers_listed, x.suppliers_delisted) == (2, 1)
    assert [(c.party, c.supplier_id, c.status) for c in x.supplier_changes] == [
        (US, "acme-fab", "listed"),
        (CN, "hx-semi", "listed"),
        (US, "acme-fab", "delisted"),
    ]
    assert [(r.arrangement_id, r.proposed_by, r.signed_by, r.complete) for r in x.recognitions] == [
        ("mra-1", US, [CN, US], True)
    ]
    assert x.recognition_signatures == 1

    v = f.verification
    assert [(g.origin, g.role, g.size) for g in v.logs] == [(US, "own", 61), (CN, "peer", 33)]
    assert v.logs[1].last_sync == datetime(2027, 1, 1, tzinfo=UTC)
    assert [a.kind for a in v.alarms] == ["equivocation"]


def test_mid_quarter_evaluates_as_of_now(busy: list[Logged]) -> None:
    now = datetime(2026, 11, 10, tzinfo=UTC)
    f = figures(busy, now)
    assert f.as_of == now
    assert f.hotline.total == 1  # only H1 so far
    assert f.takedowns.requested == 1
    r = row(f.deadlines, type=PRE_TEST, kind="response", party=CN)
    assert (r.in_time, r.overdue) == (1, 1)  # N2's acknowledgement was due 3 November


def test_empty_quarter() -> None:
    f = figures([], verification={"logs": [], "alarms": []})
    assert f.records == 0 and f.notices == [] and f.misses.total == 0 and f.hotline.total == 0
    assert f.hotline.by_priority == {"flash": 0, "immediate": 0, "routine": 0}
    assert f.incidents.incidents == 0 and f.evaluations.results == 0 and f.takedowns.requested == 0
    assert all(w.sent == w.received == 0 for w in f.weeks)
    assert f.parties == [US]


def test_records_outside_the_quarter_only(busy: list[Logged]) -> None:
    outside = [x for x in busy if not datetime(2026, 10, 1, tzinfo=UTC) <= x.record.issued < f_end()]
    assert len(outside) == 7
    f = figures(outside)
    assert f.records == 0 and f.notices == [] and f.incidents.reports == 0 and f.hotline.total == 0


def f_end() -> datetime:
    return datetime(2027, 1, 1, tzinfo=UTC)


def test_figures_are_deterministic_and_schema_valid(busy: list[Logged], f: QuarterlyFigures) -> None:
    again = figures(list(reversed(busy)))
    assert again.model_dump_json() == f.model_dump_json()
    assert QuarterlyFigures.model_validate_json(f.model_dump_json()) == f
    schema = QuarterlyFigures.model_json_schema()
    assert {"notices", "deadlines", "misses", "hotline", "incidents", "verification"} <= set(schema["properties"])


def test_bad_verification_is_a_typed_error() -> None:
    with pytest.raises(MalformedError):
        figures([], verification={"logs": [{"name": "x"}]})


def test_nearest_rank() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([1, 2, 3, 4], 0.5) == 2
    assert nearest_rank([1, 2, 3, 4], 0.9) == 4
    assert nearest_rank([5], 0.9) == 5
    assert nearest_rank([float(i) for i in range(1, 11)], 0.9) == 9


def test_withheld_notifications_over_the_yearly_quota_are_listed() -> None:
    f = figures(withheld_quarter().records)
    w = f.withheld
    # in the quarter: US's 2nd and 3rd of 2026, CN's 1st; the 2027 one is after the quarter
    assert (w.total, w.by_party, w.limit, w.over_quota) == (3, {CN: 1, US: 2}, 2, 1)
    [item] = w.excesses
    assert (item.origin, item.index, item.year, item.number, item.limit) == (US, 2, 2026, 3, 2)
    assert (item.category, item.reason_class, item.declared) == ("frontier-model-evaluation", "national-security", True)
    assert f.without_items().withheld.over_quota == 1 and f.without_items().withheld.excesses == []
    # the quota is the agreement's: with 3 a year nothing is over
    roomy = default_agreement(US, CN).model_copy(update={"withheld_per_year": 3})
    g = quarterly_figures(withheld_quarter().records, roomy, US, "2026Q4", verification=VERIFICATION, now=AFTER)
    assert (g.withheld.over_quota, g.withheld.excesses, g.withheld.limit) == (0, [], 3)
