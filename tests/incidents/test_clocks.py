"""Regulatory clocks at their boundaries: EU AI Act Art. 73, China's 2025 measures, SB 53, RAISE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detente.incidents.clocks import ClockState, Filed, regulatory_clocks
from detente.incidents.model import IncidentReport

AWARE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def report(**over: object) -> IncidentReport:
    base: dict[str, object] = {
        "incident_id": "us-2026-0001",
        "category": "serious-ai-incident",
        "title": {"original": {"lang": "en", "text": "Grid dispatch model outage"}},
        "description": {"original": {"lang": "en", "text": "A dispatch model failed."}},
        "ai_relation": "the model issued the dispatch orders",
        "submitter": "duty officer",
        "supporting_materials": ["https://example.org/r/1"],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
        "aware_at": AWARE.isoformat(),
        "jurisdictions": ["EU"],
    }
    return IncidentReport.model_validate(base | over)


def only(clocks, regime):  # type: ignore[no-untyped-def]
    found = [c for c in clocks if c.regime == regime]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("over", "days"),
    [
        ({}, 15),  # 73(2)
        ({"critical_infrastructure": True}, 2),  # 73(3)
        ({"deaths": 1, "harm_types": ["health"]}, 10),  # 73(4): a death wins over the general rule
    ],
)
def test_eu_windows_and_the_boundary_itself_counts_as_in_time(over, days) -> None:  # type: ignore[no-untyped-def]
    due = AWARE + timedelta(days=days)
    on_time = only(regulatory_clocks([Filed(due, report(**over))], due), "EU")
    assert on_time.due == due and on_time.state == ClockState.MET
    late = only(regulatory_clocks([Filed(due + timedelta(seconds=1), report(**over))], due), "EU")
    assert late.state == ClockState.MET_LATE


def test_eu_only_for_serious_incidents() -> None:
    assert regulatory_clocks([Filed(AWARE, report(category="ai-incident"))], AWARE) == []


@pytest.mark.parametrize(
    ("reporter", "hours"), [("cii-operator", 1), ("state-organ", 2), ("other-operator", 4), (None, 4)]
)
def test_china_initial_report_by_reporter_type(reporter, hours) -> None:  # type: ignore[no-untyped-def]
    r = report(jurisdictions=["CN"], reporter_type=reporter, severity="medium")
    clocks = regulatory_clocks([Filed(AWARE + timedelta(hours=hours), r)], AWARE)
    initial = next(c for c in clocks if c.name == "initial report")
    assert initial.due == AWARE + timedelta(hours=hours) and initial.state == ClockState.MET
    late = regulatory_clocks([Filed(AWARE + timedelta(hours=hours, minutes=1), r)], AWARE)
    assert next(c for c in late if c.name == "initial report").state == ClockState.MET_LATE


def test_china_general_grade_is_not_reportable_and_final_summary_runs_30_days() -> None:
    assert regulatory_clocks([Filed(AWARE, report(jurisdictions=["CN"], severity="low"))], AWARE) == []
    ended = AWARE + timedelta(days=2)
    r = report(jurisdictions=["CN"], handling_ended_at=ended.isoformat())
    summary = next(c for c in regulatory_clocks([Filed(AWARE, r)], ended) if c.name == "final summary")
    assert summary.due == ended + timedelta(days=30) and summary.state == ClockState.OPEN
    missed = next(
        c for c in regulatory_clocks([Filed(AWARE, r)], ended + timedelta(days=31)) if c.name == "final summary"
    )
    assert missed.state == ClockState.MISSED
    final = r.model_copy(update={"stage": "final"})
    done = regulatory_clocks([Filed(AWARE, r), Filed(ended + timedelta(days=29), final)], ended + timedelta(days=40))
    assert next(c for c in done if c.name == "final summary").state == ClockState.MET
    waiting = regulatory_clocks([Filed(AWARE, report(jurisdictions=["CN"]))], AWARE)
    assert next(c for c in waiting if c.name == "final summary").state == ClockState.WAITING


def test_us_state_clocks() -> None:
    ca = only(regulatory_clocks([Filed(AWARE, report(jurisdictions=["US-CA"]))], AWARE), "US-CA")
    assert ca.due == AWARE + timedelta(days=15)
    ny = only(regulatory_clocks([Filed(AWARE, report(jurisdictions=["US-NY"], injuries=2))], AWARE), "US-NY")
    assert ny.due == AWARE + timedelta(hours=24)
    ny72 = only(regulatory_clocks([Filed(AWARE, report(jurisdictions=["US-NY"]))], AWARE), "US-NY")
    assert ny72.due == AWARE + timedelta(hours=72)


def test_the_earliest_stage_meets_the_initial_deadline_and_the_latest_decides_the_rules() -> None:
    first = report(category="ai-incident")  # not serious yet: no EU clock
    update = report(stage="update", category="serious-ai-incident", critical_infrastructure=True)
    clocks = regulatory_clocks(
        [Filed(AWARE + timedelta(days=1), first), Filed(AWARE + timedelta(days=5), update)], AWARE
    )
    eu = only(clocks, "EU")
    assert eu.due == AWARE + timedelta(days=2) and eu.met_at == AWARE + timedelta(days=1) and eu.state == ClockState.MET


def test_model_refuses_inconsistent_reports() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="aware_at is before occurred_at"):
        report(occurred_at=(AWARE + timedelta(days=1)).isoformat())
    with pytest.raises(ValidationError, match="unknown jurisdiction"):
        report(jurisdictions=["XX"])
    with pytest.raises(ValidationError, match="hazard"):
        report(category="ai-hazard", deaths=1)
