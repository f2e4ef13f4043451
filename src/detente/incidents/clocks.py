"""Regulatory reporting clocks, computed from an incident's staged reports. Pure: reports and a
clock in, the clocks that run and their state out.

Each report lists the ``jurisdictions`` whose rules apply to it; the clocks are:

- **EU** — AI Act (Regulation (EU) 2024/1689) Art. 73, for serious incidents: 15 days after
  awareness (73(2)); 2 days for a serious and irreversible disruption of critical infrastructure
  (73(3), Art. 3(49)(b)); 10 days for a death (73(4)). An incomplete initial report counts (73(5)).
- **CN** — National Cybersecurity Incident Reporting Measures (CAC, in force 2025-11-01) Art. 4:
  grades 较大 (``medium``) and above are reported within 1 hour by critical-information-
  infrastructure operators, 2 hours by central and state organs, 4 hours by other operators;
  Art. 8: a final summary within 30 days after handling ends.
- **US-CA** — SB 53, Bus. & Prof. Code §22757.13: a critical safety incident within 15 days of
  discovery; within 24 hours where there is an imminent risk of death or serious injury.
- **US-NY** — RAISE Act, GBL §1422: within 72 hours; 24 hours where there is an imminent risk of
  death or serious injury.

A deadline is met by a report logged at or before it (the boundary itself counts as in time).
A law's clock runs only for incidents the reporter became aware of once that law's reporting
obligation applies (:data:`APPLIES_FROM`); an earlier incident gets no clock of that law.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from detente.incidents.model import Category, HarmType, IncidentReport, ReporterType, Severity, Stage

__all__ = ["APPLIES_FROM", "OBLIGATIONS", "Clock", "ClockState", "Filed", "regulatory_clocks"]

APPLIES_FROM: dict[str, datetime] = {
    # Regulation (EU) 2024/1689 (AI Act) of 13 June 2024, OJ L of 12 July 2024, Art. 113: "It shall
    # apply from 2 August 2026", Chapter III (high-risk systems, Art. 73 among it) included; point
    # (c): Art. 6(1) and the corresponding obligations from 2 August 2027 (not told apart here).
    "EU": datetime(2026, 8, 2, tzinfo=timezone(timedelta(hours=2))),  # 00:00 in Brussels (CEST)
    # 国家网络安全事件报告管理办法 (National Cybersecurity Incident Reporting Measures), adopted by
    # the Cyberspace Administration of China on 11 September 2025: in force from 1 November 2025.
    "CN": datetime(2025, 11, 1, tzinfo=timezone(timedelta(hours=8))),  # 00:00 in Beijing
    # California SB 53 (Transparency in Frontier Artificial Intelligence Act), signed 29 September
    # 2025: Bus. & Prof. Code §22757.13 operative 1 January 2026.
    "US-CA": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-8))),  # 00:00 in California (PST)
}
"""When each law's reporting obligation starts to apply (its local midnight). Regimes not listed
(US-NY) run for every incident."""

OBLIGATIONS: dict[tuple[str, str], str] = {
    ("EU", "serious-incident report"): "report the serious incident to the market surveillance authorities of "
    "the Member States where it occurred (AI Act Art. 73(1))",
    ("CN", "final summary"): "send the summary report (cause, response, harm, accountability, remediation, "
    "lessons) through the channel of the initial report (Art. 8)",
    ("US-CA", "critical safety incident report"): "report the critical safety incident to the Office of "
    "Emergency Services (§22757.13)",
    ("US-CA", "disclosure"): "disclose the incident to an appropriate authority, such as a law enforcement or "
    "public safety agency with jurisdiction (§22757.13)",
    ("US-NY", "safety incident report"): "disclose the safety incident as GBL §1422 requires",
    ("US-NY", "law-enforcement report"): "disclose the incident as GBL §1422 requires",
}
"""What an official must do to meet each clock, by (regime, clock name); China's initial report
by reporter type (:data:`_CN_AUTHORITY`)."""


class ClockState(StrEnum):
    OPEN = "open"
    MET = "met"
    MET_LATE = "met-late"
    MISSED = "missed"
    WAITING = "waiting"  # its start time is not known yet (e.g. handling has not ended)


@dataclass(frozen=True, slots=True)
class Filed:
    """One stage as logged: the report and the time its record was issued."""

    at: datetime
    report: IncidentReport


@dataclass(frozen=True, slots=True)
class Clock:
    regime: str
    name: str
    basis: str
    starts: datetime | None
    due: datetime | None
    met_at: datetime | None
    state: ClockState
    obligation: str = ""
    """What must be done to meet it."""

    def as_dict(self) -> dict[str, object]:
        return {
            "regime": self.regime,
            "name": self.name,
            "obligation": self.obligation,
            "basis": self.basis,
            "starts": self.starts.isoformat() if self.starts else None,
            "due": self.due.isoformat() if self.due else None,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "state": self.state.value,
        }


_SERIOUS = {Category.SERIOUS_AI_INCIDENT, Category.AI_DISASTER}
_CN_AUTHORITY = {  # Art. 4
    ReporterType.CII_OPERATOR: "report the incident to the CII protection department and the public security organ",
    ReporterType.STATE_ORGAN: "report the incident to the department's own cyberspace affairs body",
    ReporterType.OTHER_OPERATOR: "report the incident to the provincial cyberspace administration where it operates",
}
_CN_WINDOWS = {
    ReporterType.CII_OPERATOR: (timedelta(hours=1), "Art. 4: CII operators, within 1 hour"),
    ReporterType.STATE_ORGAN: (timedelta(hours=2), "Art. 4: central and state organs, within 2 hours"),
    ReporterType.OTHER_OPERATOR: (timedelta(hours=4), "Art. 4: other network operators, within 4 hours"),
}


def regulatory_clocks(stages: Sequence[Filed], now: datetime) -> list[Clock]:
    """The clocks of one incident (all stages, any order) at ``now``; the latest stage decides
    which rules apply, the earliest logged report meets an initial deadline."""
    if not stages:
        return []
    ordered = sorted(stages, key=lambda f: f.at)
    latest = ordered[-1].report
    first_at = min(f.report.reported_at or f.at for f in ordered)
    aware = next((f.report.aware_at for f in reversed(ordered) if f.report.aware_at), None)
    aware = aware or next((f.report.occurred_at for f in reversed(ordered) if f.report.occurred_at), None)
    finals = [f.report.reported_at or f.at for f in ordered if f.report.stage == Stage.FINAL]
    out: list[Clock] = []
    for regime in latest.jurisdictions:
        applies = APPLIES_FROM.get(regime)
        if applies is not None and aware is not None and aware < applies:
            continue  # the law's obligation did not apply yet when the reporter became aware
        for name, basis, starts, window, met in _rules(regime, latest, aware, first_at, finals):
            clock = _clock(regime, name, basis, starts, window, met, now)
            out.append(replace(clock, obligation=_obligation(regime, name, latest)))
    return out


def _obligation(regime: str, name: str, r: IncidentReport) -> str:
    if (regime, name) == ("CN", "initial report"):
        return f"{_CN_AUTHORITY[r.reporter_type or ReporterType.OTHER_OPERATOR]} (Art. 4)"
    return OBLIGATIONS.get((regime, name), name)


def _imminent_harm(report: IncidentReport) -> bool:
    return report.deaths > 0 or report.injuries > 0


def _rules(
    regime: str, r: IncidentReport, aware: datetime | None, first: datetime, finals: list[datetime]
) -> list[tuple[str, str, datetime | None, timedelta, datetime | None]]:
    final = min(finals) if finals else None
    if regime == "EU":
        if r.category not in _SERIOUS:
            return []
        if r.deaths > 0:
            return [("serious-incident report", "AI Act Art. 73(4): death, 10 days", aware, timedelta(days=10), first)]
        if r.critical_infrastructure and HarmType.CRITICAL_INFRASTRUCTURE in r.harm_types:
            basis = "AI Act Art. 73(3): critical infrastructure disruption, 2 days"
            return [("serious-incident report", basis, aware, timedelta(days=2), first)]
        return [("serious-incident report", "AI Act Art. 73(2): 15 days", aware, timedelta(days=15), first)]
    if regime == "CN":
        if r.severity.rank < Severity.MEDIUM.rank:
            return []  # Art. 4: only 较大 (relatively major) and above must be reported
        window, basis = _CN_WINDOWS[r.reporter_type or ReporterType.OTHER_OPERATOR]
        summary = ("final summary", "Art. 8: within 30 days after handling ends", r.handling_ended_at)
        return [("initial report", basis, aware, window, first), (*summary, timedelta(days=30), final)]
    if regime == "US-CA":
        if _imminent_harm(r):
            basis = "SB 53 §22757.13: imminent risk of death or injury, 24 hours"
            return [("disclosure", basis, aware, timedelta(hours=24), first)]
        return [("critical safety incident report", "SB 53 §22757.13: 15 days", aware, timedelta(days=15), first)]
    if regime == "US-NY":
        if _imminent_harm(r):
            basis = "RAISE Act GBL §1422: imminent risk of death or injury, 24 hours"
            return [("law-enforcement report", basis, aware, timedelta(hours=24), first)]
        return [("safety incident report", "RAISE Act GBL §1422: 72 hours", aware, timedelta(hours=72), first)]
    return []


def _clock(
    regime: str,
    name: str,
    basis: str,
    starts: datetime | None,
    window: timedelta,
    met: datetime | None,
    now: datetime,
) -> Clock:
    if starts is None:
        return Clock(regime, name, basis, None, None, met, ClockState.WAITING)
    due = starts + window
    if met is not None:
        return Clock(regime, name, basis, starts, due, met, ClockState.MET if met <= due else ClockState.MET_LATE)
    return Clock(regime, name, basis, starts, due, None, ClockState.MISSED if now > due else ClockState.OPEN)
