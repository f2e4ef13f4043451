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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from detente.incidents.model import Category, HarmType, IncidentReport, ReporterType, Severity, Stage

__all__ = ["Clock", "ClockState", "Filed", "regulatory_clocks"]


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

    def as_dict(self) -> dict[str, object]:
        return {
            "regime": self.regime,
            "name": self.name,
            "basis": self.basis,
            "starts": self.starts.isoformat() if self.starts else None,
            "due": self.due.isoformat() if self.due else None,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "state": self.state.value,
        }


_SERIOUS = {Category.SERIOUS_AI_INCIDENT, Category.AI_DISASTER}
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
        for name, basis, starts, window, met in _rules(regime, latest, aware, first_at, finals):
            out.append(_clock(regime, name, basis, starts, window, met, now))
    return out


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
