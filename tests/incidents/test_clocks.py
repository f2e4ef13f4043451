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


def test_us_state_clocks_run_on_a_declared_imminent_risk_not_on_casualties_counted() -> None:
    """SB 53, Bus. & Prof. Code §22757.13 (signed 29 September 2025): a frontier developer "reports a
    critical safety incident to the Office of Emergency Services within 15 days of discovery"; "if
    there is an imminent risk of death or serious physical injury, it discloses to an appropriate
    authority within 24 hours". RAISE Act, GBL §1422: 72 hours; 24 hours on an imminent risk of death
    or serious injury. The 24-hour clock is triggered by the report's declaration, not by a count."""

    def dues(regime: str, **over: object) -> dict[str, datetime | None]:
        clocks = regulatory_clocks([Filed(AWARE, report(jurisdictions=[regime], **over))], AWARE)
        return {c.name: c.due for c in clocks}

    assert dues("US-CA") == {"critical safety incident report": AWARE + timedelta(days=15)}
    assert dues("US-CA", injuries=2, deaths=1, harm_types=["health"]) == dues("US-CA")  # casualties: not a proxy
    assert dues("US-CA", imminent_risk=True) == {
        "disclosure": AWARE + timedelta(hours=24),
        "critical safety incident report": AWARE + timedelta(days=15),
    }
    assert dues("US-NY", injuries=2) == {"safety incident report": AWARE + timedelta(hours=72)}
    assert dues("US-NY", imminent_risk=True)["law-enforcement report"] == AWARE + timedelta(hours=24)


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


@pytest.mark.parametrize(
    ("regime", "applies", "over"),
    [
        # Regulation (EU) 2024/1689, OJ L 12.7.2024, Art. 113: "It shall apply from 2 August 2026."
        ("EU", datetime(2026, 8, 1, 22, 0, tzinfo=UTC), {}),  # 00:00 CEST
        # 国家网络安全事件报告管理办法 (CAC, 11 September 2025): in force from 1 November 2025
        ("CN", datetime(2025, 10, 31, 16, 0, tzinfo=UTC), {"severity": "medium"}),  # 00:00 Beijing time
        # California SB 53 (signed 29 September 2025): §22757.13 operative 1 January 2026
        ("US-CA", datetime(2026, 1, 1, 8, 0, tzinfo=UTC), {}),  # 00:00 PST
    ],
)
def test_a_law_has_no_clock_for_incidents_before_its_obligation_applies(regime, applies, over) -> None:  # type: ignore[no-untyped-def]
    def clocks(aware: datetime) -> list[tuple[str, ClockState]]:
        r = report(jurisdictions=[regime], aware_at=aware.isoformat(), **over)
        return [(c.regime, c.state) for c in regulatory_clocks([Filed(aware + timedelta(hours=1), r)], aware)]

    assert clocks(applies - timedelta(seconds=1)) == []  # not "met-late": the law did not apply yet
    assert clocks(datetime(2024, 3, 1, tzinfo=UTC)) == []
    assert clocks(applies) and all(r == regime for r, _ in clocks(applies))


def test_an_incident_of_2024_gets_no_clock_of_the_three_laws_but_ny_still_runs() -> None:
    old = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    r = report(jurisdictions=["EU", "CN", "US-CA", "US-NY"], severity="high", aware_at=old.isoformat())
    assert [c.regime for c in regulatory_clocks([Filed(old, r)], old)] == ["US-NY"]  # no date known to detente


@pytest.mark.parametrize(
    ("reporter", "authority"),
    [
        ("cii-operator", "CII protection department and the public security organ"),
        ("state-organ", "department's own cyberspace affairs body"),
        ("other-operator", "provincial cyberspace administration"),
    ],
)
def test_each_clock_says_what_must_be_done(reporter, authority) -> None:  # type: ignore[no-untyped-def]
    r = report(jurisdictions=["CN", "EU", "US-CA"], reporter_type=reporter, severity="medium")
    by_name = {c.name: c for c in regulatory_clocks([Filed(AWARE, r)], AWARE)}
    assert authority in by_name["initial report"].obligation  # Art. 4, by reporter type
    assert by_name["final summary"].obligation.startswith("send the summary report")  # Art. 8
    assert "market surveillance authorities" in by_name["serious-incident report"].obligation  # Art. 73(1)
    assert "Office of Emergency Services" in by_name["critical safety incident report"].obligation  # §22757.13
    assert by_name["final summary"].as_dict()["obligation"] == by_name["final summary"].obligation
