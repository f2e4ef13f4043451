"""Regulatory reporting clocks, computed from an incident's staged reports. Pure: reports and a
clock in, the regimes considered, the clocks that run and their state out.

Every regime is data (``regimes.json``, read by :mod:`detente.incidents.regimes`): its primary
source, the date its obligation applies from, its status, what must hold for it to apply and its
clocks. A clock is a set of triggered windows; when several triggers hold, the **strictest**
window applies (a death together with a serious and irreversible disruption of critical
infrastructure is 2 days under AI Act Art. 73(3), not 10). The regimes:

- **EU** — AI Act Art. 73 (high-risk systems): 15 days (73(2)); 2 days for a widespread
  infringement or a serious and irreversible disruption of critical infrastructure (73(3)); 10 days
  for a death (73(4)). From 2 August 2026 (Art. 113).
- **EU-GPAI** — AI Act Art. 55(1)(c) (general-purpose models with systemic risk), with the Code of
  Practice's windows (2 / 5 / 10 / 15 days, unverified in the research notes). From 2 August 2025.
- **EU-NIS2** — Directive (EU) 2022/2555 Art. 23(4): early warning 24 h, incident notification
  72 h, final report one month after the notification. From 18 October 2024 (Art. 41).
- **CN** — CAC's 2025 measures Art. 4 (1 / 2 / 4 hours by reporter type, grades 较大 and above) and
  Art. 8 (final summary 30 days after handling ends). From 1 November 2025.
- **US-CA** — SB 53 §22757.13: 15 days to the Office of Emergency Services; 24 hours to an
  authority where the report declares an imminent risk of death or serious physical injury
  (``imminent_risk``: a declaration, not inferred from casualties). From 1 January 2026.
- **US-NY** — RAISE Act GBL §1422: 72 hours; 24 hours on an imminent risk (no date recorded).
- **US-CIRCIA** — 6 U.S.C. §681b: 72 hours; 24 hours after a ransom payment. Only a *proposed*
  rule exists in the sources (89 FR 23644, 4 April 2024): it runs only where the operator
  configures the date the final rule applies (``applies_from``).

Each report lists the ``jurisdictions`` (regime ids) its reporter is under. A deadline is met by a
report logged at or before it (the boundary itself counts as in time). A regime runs only for
incidents the reporter became aware of once its obligation applies; :func:`considered` says, for
every regime, whether it applied and why or why not.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from detente.incidents.model import Category, HarmType, IncidentReport, ReporterType, Severity, Stage
from detente.incidents.regimes import ClockRule, Regime, Window, regimes

__all__ = [
    "APPLIES_FROM",
    "CONDITIONS",
    "OBLIGATIONS",
    "Clock",
    "ClockState",
    "Consideration",
    "Filed",
    "check_conditions",
    "considered",
    "regulatory_clocks",
    "strictest",
    "summarise",
]

_SERIOUS = {Category.SERIOUS_AI_INCIDENT, Category.AI_DISASTER}

CONDITIONS: dict[str, Callable[[IncidentReport], bool]] = {
    "always": lambda r: True,
    "serious-incident": lambda r: r.category in _SERIOUS,
    "death": lambda r: r.deaths > 0,
    "critical-infrastructure-disruption": lambda r: (
        r.critical_infrastructure and HarmType.CRITICAL_INFRASTRUCTURE in r.harm_types
    ),
    "widespread-infringement": lambda r: r.widespread_infringement,
    "serious-cybersecurity-breach": lambda r: r.serious_cybersecurity_breach,
    "imminent-risk": lambda r: r.imminent_risk,
    "severity-medium-or-above": lambda r: r.severity.rank >= Severity.MEDIUM.rank,
    "reporter-cii-operator": lambda r: r.reporter_type == ReporterType.CII_OPERATOR,
    "reporter-state-organ": lambda r: r.reporter_type == ReporterType.STATE_ORGAN,
    "reporter-other-operator": lambda r: r.reporter_type in (None, ReporterType.OTHER_OPERATOR),
    "significant-incident": lambda r: r.significant_incident,
    "covered-cyber-incident": lambda r: r.covered_cyber_incident,
    "ransom-payment": lambda r: r.ransom_paid_at is not None,
}
"""What each ``when`` of the regime data means, read from the latest stage of the report."""


def check_conditions(items: Sequence[Regime]) -> None:
    """Refuse regime data naming a condition this module does not define (checked on import)."""
    for regime in items:
        names = [q.when for q in regime.requires] + [w.when for c in regime.clocks for w in c.strictest_of]
        unknown = sorted(set(names) - set(CONDITIONS))
        if unknown:
            raise ValueError(f"regimes.json: {regime.id} names unknown conditions {unknown}")


check_conditions(regimes())

APPLIES_FROM: dict[str, datetime] = {r.id: r.applies_from for r in regimes() if r.applies_from is not None}
"""When each regime's reporting obligation starts to apply (its local midnight), from the data.
Regimes without a date either run for every incident (in force, no date recorded: US-NY) or
not at all unless configured (proposed: US-CIRCIA)."""

OBLIGATIONS: dict[tuple[str, str], str] = {
    (r.id, c.name): c.obligation for r in regimes() for c in r.clocks if c.obligation
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


@dataclass(frozen=True, slots=True)
class Consideration:
    """Whether one regime applied to an incident, and why or why not. ``code`` is one of
    ``applies``, ``not-named`` (not among the report's jurisdictions), ``not-in-force`` (a proposed
    rule with no configured date), ``before-applies`` (aware before the obligation applies),
    ``not-required`` (a requirement of the regime does not hold), ``no-trigger``."""

    regime: Regime
    code: str
    reason: str
    clocks: tuple[Clock, ...] = field(default=())

    @property
    def applied(self) -> bool:
        return self.code == "applies"

    def as_dict(self) -> dict[str, object]:
        return {
            "regime": self.regime.id,
            "name": self.regime.name,
            "citation": self.regime.citation,
            "status": self.regime.status,
            "applied": self.applied,
            "code": self.code,
            "reason": self.reason,
            "clocks": [c.as_dict() for c in self.clocks],
        }


_CN_AUTHORITY = {  # Art. 4
    ReporterType.CII_OPERATOR: "report the incident to the CII protection department and the public security organ",
    ReporterType.STATE_ORGAN: "report the incident to the department's own cyberspace affairs body",
    ReporterType.OTHER_OPERATOR: "report the incident to the provincial cyberspace administration where it operates",
}


def regulatory_clocks(
    stages: Sequence[Filed], now: datetime, *, applies_from: Mapping[str, datetime] | None = None
) -> list[Clock]:
    """The clocks of one incident (all stages, any order) at ``now``, in the order of the latest
    report's jurisdictions; the latest stage decides which rules apply, the earliest logged report
    meets an initial deadline. ``applies_from`` sets or overrides when a regime applies (a
    proposed rule runs only once it is given a date here)."""
    by_id = {c.regime.id: c for c in considered(stages, now, applies_from=applies_from)}
    if not stages:
        return []
    latest = max(stages, key=lambda f: f.at).report
    return [clock for regime in latest.jurisdictions for clock in by_id[regime].clocks]


def considered(
    stages: Sequence[Filed], now: datetime, *, applies_from: Mapping[str, datetime] | None = None
) -> list[Consideration]:
    """Every regime in the data, in its order, with whether it applied to this incident and why."""
    if not stages:
        return []
    ordered = sorted(stages, key=lambda f: f.at)
    latest = ordered[-1].report
    aware = next((f.report.aware_at for f in reversed(ordered) if f.report.aware_at), None)
    aware = aware or next((f.report.occurred_at for f in reversed(ordered) if f.report.occurred_at), None)
    configured = applies_from or {}
    return [_consider(regime, ordered, latest, aware, configured.get(regime.id), now) for regime in regimes()]


def _consider(
    regime: Regime,
    ordered: list[Filed],
    latest: IncidentReport,
    aware: datetime | None,
    configured: datetime | None,
    now: datetime,
) -> Consideration:
    if regime.id not in latest.jurisdictions:
        return Consideration(regime, "not-named", "not among the report's jurisdictions")
    applies = configured or regime.applies_from
    if regime.status == "proposed" and configured is None:
        reason = f"a proposed rule only, not applied: no date it applies from is configured ({regime.citation})"
        return Consideration(regime, "not-in-force", reason)
    if applies is not None and aware is not None and aware < applies:
        reason = f"the reporter became aware on {aware.date().isoformat()}, before the obligation applies"
        return Consideration(regime, "before-applies", f"{reason} ({applies.date().isoformat()})")
    for requirement in regime.requires:
        if not CONDITIONS[requirement.when](latest):
            return Consideration(regime, "not-required", requirement.otherwise)
    clocks: list[Clock] = []
    for rule in regime.clocks:
        clock = _run(regime.id, rule, ordered, latest, aware, clocks, now)
        if clock is not None:
            clocks.append(clock)
    if not clocks:
        triggers = sorted({w.when for c in regime.clocks for w in c.strictest_of})
        return Consideration(regime, "no-trigger", f"none of its triggers holds ({', '.join(triggers)})")
    return Consideration(regime, "applies", "applies: " + ", ".join(c.name for c in clocks), tuple(clocks))


def _run(
    regime: str,
    rule: ClockRule,
    ordered: list[Filed],
    latest: IncidentReport,
    aware: datetime | None,
    earlier: list[Clock],
    now: datetime,
) -> Clock | None:
    held = [w for w in rule.strictest_of if CONDITIONS[w.when](latest)]
    window = strictest(rule.strictest_of, latest)
    if window is None:
        return None
    basis = window.basis if len(held) == 1 else f"{window.basis} (the strictest of {len(held)} triggers that hold)"
    starts = _start(rule.starts, latest, aware, earlier)
    met = _met(rule.met_by, ordered, starts)
    obligation = rule.obligation
    if (regime, rule.name) == ("CN", "initial report"):
        obligation = f"{_CN_AUTHORITY[latest.reporter_type or ReporterType.OTHER_OPERATOR]} (Art. 4)"
    return replace(_clock(regime, rule.name, basis, starts, window, met, now), obligation=obligation or rule.name)


def strictest(windows: Sequence[Window], report: IncidentReport) -> Window | None:
    """The shortest of the windows whose trigger holds for ``report`` (in any order), or ``None``."""
    held = [w for w in windows if CONDITIONS[w.when](report)]
    return min(held, key=_length) if held else None


def _length(window: Window) -> timedelta:
    return timedelta(hours=window.hours, days=window.days + 31 * window.months)


def _start(starts: str, latest: IncidentReport, aware: datetime | None, earlier: list[Clock]) -> datetime | None:
    if starts == "aware":
        return aware
    if starts == "ransom-paid":
        return latest.ransom_paid_at
    if starts == "handling-ended":
        return latest.handling_ended_at
    name = starts.removeprefix("met:")
    return next((c.met_at for c in earlier if c.name == name), None)


def _met(met_by: str, ordered: list[Filed], starts: datetime | None) -> datetime | None:
    times = [(f.report.reported_at or f.at, f.report.stage) for f in ordered]
    if met_by == "first":
        chosen = [t for t, _ in times]
    elif met_by == "first-after-start":
        chosen = [t for t, _ in times if starts is not None and t >= starts]
    elif met_by == "update-or-final":
        chosen = [t for t, stage in times if stage in (Stage.UPDATE, Stage.FINAL)]
    else:
        chosen = [t for t, stage in times if stage == Stage.FINAL]
    return min(chosen) if chosen else None


def _add(start: datetime, window: Window) -> datetime:
    if not window.months:
        return start + timedelta(hours=window.hours, days=window.days)
    month = start.month - 1 + window.months
    year, month = start.year + month // 12, month % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def _clock(
    regime: str,
    name: str,
    basis: str,
    starts: datetime | None,
    window: Window,
    met: datetime | None,
    now: datetime,
) -> Clock:
    if starts is None:
        return Clock(regime, name, basis, None, None, met, ClockState.WAITING)
    due = _add(starts, window)
    if met is not None:
        return Clock(regime, name, basis, starts, due, met, ClockState.MET if met <= due else ClockState.MET_LATE)
    return Clock(regime, name, basis, starts, due, None, ClockState.MISSED if now > due else ClockState.OPEN)


def summarise(considerations: Iterable[Consideration]) -> list[dict[str, object]]:
    """Per regime in the data: its source and status, how many incidents it applied to, and for
    those it did not, how many for each reason (``code``) with up to three of the reasons given."""
    out: dict[str, dict[str, object]] = {}
    counts: dict[str, dict[str, int]] = {}
    reasons: dict[str, dict[str, list[str]]] = {}
    for regime in regimes():
        counts[regime.id], reasons[regime.id] = {}, {}
        out[regime.id] = {
            "regime": regime.id,
            "name": regime.name,
            "citation": regime.citation,
            "url": regime.url,
            "status": regime.status,
            "applies_from": regime.applies_from.isoformat() if regime.applies_from else None,
            "applies_from_source": regime.applies_from_source,
            "verified": regime.verified,
            "note": regime.note,
            "incidents": counts[regime.id],
            "why_not": reasons[regime.id],
        }
    for c in considerations:
        tally = counts[c.regime.id]
        tally[c.code] = tally.get(c.code, 0) + 1
        if not c.applied:
            given = reasons[c.regime.id].setdefault(c.code, [])
            if c.reason not in given and len(given) < 3:
                given.append(c.reason)
    return list(out.values())
