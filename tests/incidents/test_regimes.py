"""Every reporting regime is data with its source: the strictest EU trigger, NIS2's staged clocks,
the GPAI Code of Practice windows, CIRCIA as the proposed rule it is, and why each regime did or
did not apply to an incident. Each legal fact is quoted from its primary source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from detente.incidents.clocks import (
    CONDITIONS,
    ClockState,
    Filed,
    check_conditions,
    considered,
    regulatory_clocks,
    strictest,
)
from detente.incidents.model import IncidentReport
from detente.incidents.regimes import Regime, regime_ids, regimes

AWARE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def report(**over: object) -> IncidentReport:
    base: dict[str, object] = {
        "incident_id": "eu-2026-0001",
        "category": "serious-ai-incident",
        "title": {"original": {"lang": "en", "text": "Grid dispatch model outage"}},
        "description": {"original": {"lang": "en", "text": "A dispatch model failed."}},
        "ai_relation": "the model issued the dispatch orders",
        "submitter": "duty officer",
        "supporting_materials": ["https://example.org/r/1"],
        "severity": "high",
        "harm_types": ["critical-infrastructure", "health"],
        "aware_at": AWARE.isoformat(),
        "jurisdictions": ["EU"],
    }
    return IncidentReport.model_validate(base | over)


def clocks_of(regime: str, *filed: Filed, now: datetime = AWARE, **kw: object) -> dict[str, object]:
    return {c.name: c for c in regulatory_clocks(list(filed), now, **kw) if c.regime == regime}  # type: ignore[arg-type]


def test_every_regime_names_its_source_and_when_it_applies_and_only_known_conditions() -> None:
    assert regime_ids() == {"EU", "EU-GPAI", "EU-NIS2", "CN", "US-CA", "US-NY", "US-CIRCIA"}
    for regime in regimes():
        assert regime.citation and regime.url.startswith("http") and regime.applies_from_source
        for clock in regime.clocks:
            for window in clock.strictest_of:
                assert window.basis and window.when in CONDITIONS
        assert all(q.when in CONDITIONS and q.otherwise for q in regime.requires)


def test_data_naming_an_unknown_condition_is_refused() -> None:
    eu = next(r for r in regimes() if r.id == "EU")
    clock = eu.clocks[0]
    window = clock.strictest_of[0].model_copy(update={"when": "casualties-counted"})
    bad = eu.model_copy(update={"clocks": (clock.model_copy(update={"strictest_of": (window,)}),)})
    with pytest.raises(ValueError, match=r"EU names unknown conditions \['casualties-counted'\]"):
        check_conditions([bad])
    check_conditions(regimes())


def test_a_proposed_rule_carries_no_date_it_applies_from() -> None:
    circia = next(r for r in regimes() if r.id == "US-CIRCIA")
    assert circia.status == "proposed" and circia.applies_from is None
    with pytest.raises(ValidationError, match="a proposed rule has no date"):
        Regime.model_validate(circia.model_dump() | {"applies_from": "2026-05-01T00:00:00Z"})


def test_when_several_eu_triggers_hold_the_strictest_window_applies() -> None:
    """Regulation (EU) 2024/1689 (OJ L, 12.7.2024) Art. 73(3): "in the event of a widespread
    infringement or a serious incident as defined in Article 3, point (49)(b), the report ... shall
    be provided immediately, and not later than two days after the provider or, where applicable,
    the deployer becomes aware of that incident"; Art. 73(4): a death, "not later than 10 days".
    A death together with a serious and irreversible disruption of critical infrastructure: 2 days."""
    both = report(deaths=1, critical_infrastructure=True)
    eu = clocks_of("EU", Filed(AWARE, both))["serious-incident report"]
    assert eu.due == AWARE + timedelta(days=2)  # type: ignore[attr-defined]
    assert "73(3)" in eu.basis and "strictest of 3" in eu.basis  # type: ignore[attr-defined]
    # the choice does not depend on the order the data lists the windows in
    rule = next(r for r in regimes() if r.id == "EU").clocks[0]
    for order in (rule.strictest_of, tuple(reversed(rule.strictest_of))):
        chosen = strictest(order, both)
        assert chosen is not None and chosen.days == 2


def test_the_widespread_infringement_trigger_of_art_73_3() -> None:
    """AI Act Art. 73(3): "in the event of a widespread infringement ... not later than two days"."""
    plain = report(harm_types=["human-rights"])
    assert clocks_of("EU", Filed(AWARE, plain))["serious-incident report"].due == AWARE + timedelta(days=15)  # type: ignore[attr-defined]
    wide = report(harm_types=["human-rights"], widespread_infringement=True)
    eu = clocks_of("EU", Filed(AWARE, wide))["serious-incident report"]
    assert eu.due == AWARE + timedelta(days=2) and "widespread" in eu.basis  # type: ignore[attr-defined]


def test_nis2_early_warning_notification_and_final_report() -> None:
    """Directive (EU) 2022/2555 (OJ L 333, 27.12.2022) Art. 23(4): "(a) without undue delay and in any
    event within 24 hours of becoming aware of the significant incident, an early warning"; "(b)
    ... within 72 hours of becoming aware of the significant incident, an incident notification";
    "(d) a final report not later than one month after the submission of the incident notification
    under point (b)". Art. 41(1): Member States "shall apply those measures from 18 October 2024"."""
    aware = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
    initial = report(jurisdictions=["EU-NIS2"], significant_incident=True, aware_at=aware.isoformat())
    notified = aware + timedelta(days=1, hours=2)  # 31 January, 11:00
    update = initial.model_copy(update={"stage": "update"})
    got = clocks_of("EU-NIS2", Filed(aware + timedelta(hours=20), initial), Filed(notified, update), now=notified)
    assert got["early warning"].due == aware + timedelta(hours=24) and got["early warning"].state == ClockState.MET  # type: ignore[attr-defined]
    assert got["incident notification"].due == aware + timedelta(hours=72)  # type: ignore[attr-defined]
    assert got["incident notification"].met_at == notified  # type: ignore[attr-defined]  # the initial report does not meet it
    final = got["final report"]
    assert final.starts == notified and final.due == datetime(2026, 2, 28, 11, 0, tzinfo=UTC)  # type: ignore[attr-defined]  # a calendar month
    only_initial = clocks_of("EU-NIS2", Filed(aware + timedelta(hours=20), initial), now=aware + timedelta(days=4))
    assert only_initial["incident notification"].state == ClockState.MISSED  # type: ignore[attr-defined]
    assert only_initial["final report"].state == ClockState.WAITING  # type: ignore[attr-defined]
    assert clocks_of("EU-NIS2", Filed(aware, initial.model_copy(update={"significant_incident": False}))) == {}
    before = initial.model_copy(update={"aware_at": datetime(2024, 10, 17, 21, 59, tzinfo=UTC)})
    assert clocks_of("EU-NIS2", Filed(aware, before)) == {}  # before 18 October 2024 (CEST)


def test_gpai_systemic_risk_reporting_with_the_code_of_practice_windows() -> None:
    """AI Act Art. 55(1)(c): providers of general-purpose AI models with systemic risk "keep track of,
    document, and report, without undue delay, to the AI Office ... relevant information about
    serious incidents"; Art. 113(b): Chapter V applies from 2 August 2025. The day counts are the
    GPAI Code of Practice's (Safety and Security chapter, 10 July 2025): 2 / 5 / 10 / 15 days, which
    the research notes mark unverified; the basis says so."""
    breach = report(jurisdictions=["EU-GPAI"], harm_types=["human-rights"], serious_cybersecurity_breach=True)
    gpai = clocks_of("EU-GPAI", Filed(AWARE, breach))["AI Office serious-incident report"]
    assert gpai.due == AWARE + timedelta(days=5) and "unverified" in gpai.basis  # type: ignore[attr-defined]
    other = clocks_of("EU-GPAI", Filed(AWARE, report(jurisdictions=["EU-GPAI"], harm_types=["human-rights"])))
    assert other["AI Office serious-incident report"].due == AWARE + timedelta(days=15)  # type: ignore[attr-defined]
    early = report(jurisdictions=["EU-GPAI"], aware_at="2025-08-01T21:59:59+00:00")
    assert clocks_of("EU-GPAI", Filed(AWARE, early)) == {}


def test_circia_is_a_proposed_rule_and_runs_only_from_a_configured_date() -> None:
    """6 U.S.C. §681b(a)(1): a covered entity reports "not later than 72 hours after the covered entity
    reasonably believes that the covered cyber incident has occurred"; (a)(2): "not later than 24
    hours after the ransom payment has been made". The duties take effect with CISA's final rule;
    the research notes (incidents.md §6.3) say it is "still pending" (proposed rule: 89 FR 23644,
    4 April 2024). No date is invented: without a configured date CIRCIA does not apply."""
    paid = AWARE + timedelta(hours=30)
    r = report(jurisdictions=["US-CIRCIA"], covered_cyber_incident=True, ransom_paid_at=paid.isoformat())
    filed = [
        Filed(AWARE + timedelta(hours=10), r),
        Filed(paid + timedelta(hours=23), r.model_copy(update={"stage": "update"})),
    ]
    assert clocks_of("US-CIRCIA", *filed) == {}
    why = next(c for c in considered(filed, AWARE) if c.regime.id == "US-CIRCIA")
    assert why.code == "not-in-force" and "proposed" in why.reason and "89 FR 23644" in why.reason
    rule = {"US-CIRCIA": datetime(2026, 10, 1, tzinfo=UTC)}  # an operator's configuration, not a fact
    got = clocks_of("US-CIRCIA", *filed, applies_from=rule)
    assert got["covered cyber incident report"].due == AWARE + timedelta(hours=72)  # type: ignore[attr-defined]
    ransom = got["ransom payment report"]
    assert ransom.starts == paid and ransom.due == paid + timedelta(hours=24)  # type: ignore[attr-defined]
    assert ransom.met_at == paid + timedelta(hours=23) and ransom.state == ClockState.MET  # type: ignore[attr-defined]  # not the earlier report
    assert clocks_of("US-CIRCIA", *filed, applies_from={"US-CIRCIA": AWARE + timedelta(seconds=1)}) == {}


def test_every_regime_is_considered_with_the_reason_it_did_or_did_not_apply() -> None:
    r = report(
        jurisdictions=["EU", "CN", "US-CA", "EU-NIS2", "US-CIRCIA"], severity="low", aware_at="2025-12-01T00:00:00Z"
    )
    got = {c.regime.id: c for c in considered([Filed(AWARE, r)], AWARE)}
    assert list(got) == [x.id for x in regimes()]
    assert got["EU"].code == "before-applies" and "2026-08-02" in got["EU"].reason  # Art. 113
    assert got["CN"].code == "not-required" and "一般" in got["CN"].reason  # Art. 4: 较大 and above
    assert got["US-CA"].code == "before-applies" and "2026-01-01" in got["US-CA"].reason
    assert got["EU-NIS2"].code == "not-required" and "significant" in got["EU-NIS2"].reason
    assert got["US-CIRCIA"].code == "not-in-force"
    assert got["US-NY"].code == "not-named" and got["EU-GPAI"].code == "not-named"
    assert got["EU"].as_dict()["citation"] == got["EU"].regime.citation
    ca = {c.regime.id: c for c in considered([Filed(AWARE, r.model_copy(update={"aware_at": AWARE}))], AWARE)}["US-CA"]
    assert ca.applied and ca.reason == "applies: critical safety incident report"
    nothing = report(jurisdictions=["US-CIRCIA"])
    none = {c.regime.id: c for c in considered([Filed(AWARE, nothing)], AWARE, applies_from={"US-CIRCIA": AWARE})}
    assert none["US-CIRCIA"].code == "no-trigger" and "covered-cyber-incident" in none["US-CIRCIA"].reason
