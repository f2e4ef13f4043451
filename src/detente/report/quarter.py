"""Compute a quarter's figures from the records of every log a node follows. Pure: the records,
the agreement, the clock (``now``) and the verification status are passed in; no I/O.

Only records *issued in the quarter* count. Threads (notices and their obligations) are evaluated
by the protocol engine as of the quarter's end, or as of ``now`` if that is earlier, so a reply
logged after the quarter closed does not change the quarter's figures. What each figure means:
``docs/report.md``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from detente.crypto.dsse import Envelope
from detente.errors import DetenteError, MalformedError
from detente.evals.records import EVAL_PREREGISTRATION, EVAL_RECHECK, EVAL_RESULT
from detente.exportctl.records import (
    RECOGNITION,
    RECOGNITION_SIGNATURE,
    TRUSTED_SUPPLIER,
    VIOLATION_NARRATIVE,
    RecognitionArrangement,
    arrangement_digest,
)
from detente.incidents.model import CLASSIFICATION, COMMENT, INCIDENT, LINK
from detente.media.records import LABEL_CHECK, TAKEDOWN_REQUEST
from detente.protocol.agreement import Agreement
from detente.protocol.threads import (
    WITHHELD,
    Logged,
    Obligation,
    Thread,
    Times,
    evaluate,
    withheld_counts,
)
from detente.records.catalogue import DEADLINE_MISSED, ESCALATION
from detente.records.hotline import HotlineTopic, Priority
from detente.records.text import BilingualText, LangText
from detente.report.commitments import commitments
from detente.report.figures import (
    LIST_LIMIT,
    Clock,
    DeadlineRow,
    EvalItem,
    Evaluations,
    ExportControls,
    Hotline,
    HotlineItem,
    IncidentItem,
    Incidents,
    LabelChecks,
    Misses,
    MissItem,
    NoticeRow,
    PartyExchange,
    PriorityRow,
    QuarterlyFigures,
    RecognitionItem,
    SupplierChange,
    Takedowns,
    Verification,
    Week,
    Withheld,
    WithheldItem,
)
from detente.report.parties import pairs, sealed, time_claims
from detente.report.period import parse_period, period_name

__all__ = ["QuarterlyFigures", "nearest_rank", "parse_period", "quarterly_figures", "short_type"]

HOTLINE = "detente.dev/hotline-message/v1"
VIOLATION_TOPIC = HotlineTopic.INADVERTENT_EXPORT_CONTROL_VIOLATION.value
EVAL_PREDICATE_TYPE = "https://detente.dev/eval-result/v1"  # detente.evals.attest.PREDICATE_TYPE
TEXT_LIMIT = 160
"""Record texts are cut to this many characters in item lists (the full text is in the log)."""


def short_type(record_type: str) -> str:
    """``detente.dev/hotline-message/v1`` → ``hotline-message``."""
    parts = record_type.split("/")
    return parts[-2] if len(parts) >= 3 else record_type


def nearest_rank(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the values
    at or below it (the median of 1, 2, 3, 4 is 2)."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def quarterly_figures(
    records: Iterable[Logged],
    agreement: Agreement,
    me: str,
    period: str,
    *,
    verification: Mapping[str, Any],
    now: datetime,
    times: Times | None = None,
) -> QuarterlyFigures:
    """Every figure of the quarter ``period`` (e.g. ``2026Q4``), from this party's point of view;
    with ``times`` (each record's witnessed interval), deadlines are judged on witnessed time and
    claims the evidence contradicts are listed."""
    start, end = parse_period(period)
    as_of = min(end, now)
    try:
        checked = Verification.model_validate(verification)
    except ValidationError as exc:
        raise MalformedError(f"verification status does not fit the report: {exc.errors()[0]['msg']}") from None
    known = [x for x in records if x.record.issued < end and x.record.issued <= now]
    quarter = [x for x in known if start <= x.record.issued]
    threads = [
        t for t in evaluate(known, agreement, as_of, me, times).threads if start <= t.subject.record.issued < end
    ]
    threads.sort(key=lambda t: (t.subject.record.issued, t.subject.origin, t.subject.index))
    parties = {x.origin for x in quarter} | {p for x in quarter for p in x.record.to} | {me}
    readable = [x for x in quarter if x.record.sealed is None]  # a sealed body is counted in `sealed` only
    return QuarterlyFigures(
        period=period_name(period),
        start=start,
        end=end,
        as_of=as_of,
        generated_at=now,
        party=me,
        agreement=f"{agreement.agreement_id} v{agreement.version}",
        parties=sorted(parties),
        records=len(quarter),
        notices=_notices(threads, me),
        exchanges=_exchanges(threads, me),
        pairs=pairs(threads, as_of),
        weeks=_weeks(start, end, threads, quarter, me),
        deadlines=_deadlines(threads, as_of, by_type=True),
        deadline_totals=_deadlines(threads, as_of, by_type=False),
        withheld=_withheld(quarter, known, agreement),
        time_claims=time_claims(threads, known),
        sealed=sealed(quarter),
        misses=_misses(threads, quarter, as_of),
        hotline=_hotline(threads, as_of),
        incidents=_incidents(readable),
        evaluations=_evaluations(readable),
        labels=_labels(readable),
        takedowns=_takedowns(threads, as_of),
        exportctl=_exportctl(threads, quarter, known, as_of),
        commitments=commitments([x for x in known if x.record.sealed is None], readable, as_of),
        verification=checked,
    )


# --- notices ------------------------------------------------------------------------------


def _notices(threads: list[Thread], me: str) -> list[NoticeRow]:
    rows: dict[str, Counter[str]] = {}
    for t in threads:
        c = rows.setdefault(t.subject.record.type, Counter())
        if t.sender == me:
            c["sent"] += 1
        elif me in t.subject.record.to:
            c["received"] += 1
        else:
            c["others"] += 1
    return [
        NoticeRow(type=rtype, sent=c["sent"], received=c["received"], others=c["others"])
        for rtype, c in sorted(rows.items())
    ]


def _exchanges(threads: list[Thread], me: str) -> list[PartyExchange]:
    sent: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for t in threads:
        if t.sender == me:
            sent.update(set(t.subject.record.to))
        elif me in t.subject.record.to:
            received[t.sender] += 1
    return [
        PartyExchange(party=p, sent_to=sent[p], received_from=received[p]) for p in sorted(set(sent) | set(received))
    ]


def _weeks(start: datetime, end: datetime, threads: list[Thread], quarter: list[Logged], me: str) -> list[Week]:
    n = math.ceil((end - start) / timedelta(days=7))
    counts = [Counter[str]() for _ in range(n)]

    def bucket(at: datetime) -> Counter[str]:
        return counts[min(n - 1, (at - start) // timedelta(days=7))]

    for t in threads:
        if t.sender == me:
            bucket(t.subject.record.issued)["sent"] += 1
        elif me in t.subject.record.to:
            bucket(t.subject.record.issued)["received"] += 1
    for x in quarter:
        if x.record.type == HOTLINE:
            bucket(x.record.issued)["hotline"] += 1
        elif x.record.type == INCIDENT:
            bucket(x.record.issued)["incidents"] += 1
    return [Week(start=start + timedelta(days=7 * i), **c) for i, c in enumerate(counts)]


def _withheld(quarter: list[Logged], known: list[Logged], agreement: Agreement) -> Withheld:
    """The quarter's withheld notifications; each is numbered within its sender's calendar year
    (so the notices of the year's earlier quarters count towards the quota too)."""
    counts = withheld_counts(known, agreement)
    notices = [x for x in quarter if x.record.type == WITHHELD]
    excesses = [
        WithheldItem(
            origin=x.origin,
            index=x.index,
            issued=x.record.issued,
            year=c.year,
            number=c.number,
            limit=c.limit,
            category=str(x.record.body.get("category")),
            reason_class=str(x.record.body.get("reason_class")),
            declared=x.record.body.get("over_quota") is True,
        )
        for x in notices
        if (c := counts[x.key]).over_quota
    ]
    excesses.sort(key=lambda i: (i.issued, i.origin, i.index))
    return Withheld(
        total=len(notices),
        by_party=dict(sorted(Counter(x.origin for x in notices).items())),
        limit=agreement.withheld_per_year,
        over_quota=len(excesses),
        excesses=excesses[:LIST_LIMIT],
    )


# --- clocks -------------------------------------------------------------------------------


def _clock(obligations: list[Obligation], as_of: datetime) -> dict[str, Any]:
    c: Counter[str] = Counter()
    waits: list[float] = []
    for ob in obligations:
        if ob.met_at is not None:
            waits.append((ob.met_at - ob.window_start).total_seconds())
            c["in_time" if ob.met_at <= ob.due else "late"] += 1
        elif as_of >= ob.due:
            c["overdue"] += 1
        else:
            c["pending"] += 1
    waits.sort()
    return {
        "total": len(obligations),
        "in_time": c["in_time"],
        "late": c["late"],
        "overdue": c["overdue"],
        "pending": c["pending"],
        "missed": c["late"] + c["overdue"],
        "median_seconds": nearest_rank(waits, 0.5),
        "p90_seconds": nearest_rank(waits, 0.9),
    }


def _deadlines(threads: list[Thread], as_of: datetime, *, by_type: bool) -> list[DeadlineRow]:
    groups: dict[tuple[str, str, str], list[Obligation]] = {}
    for t in threads:
        rtype = t.subject.record.type if by_type else "*"
        for ob in t.obligations:
            groups.setdefault((rtype, ob.kind, ob.party), []).append(ob)
    return [
        DeadlineRow(type=rtype, kind=kind, party=party, **_clock(obs, as_of))
        for (rtype, kind, party), obs in sorted(groups.items())
    ]


def _misses(threads: list[Thread], quarter: list[Logged], as_of: datetime) -> Misses:
    items: list[MissItem] = []
    for t in threads:
        for ob in t.obligations:
            if ob.missed(as_of):
                items.append(
                    MissItem(
                        origin=t.subject.origin,
                        index=t.subject.index,
                        type=t.subject.record.type,
                        party=ob.party,
                        kind=ob.kind,
                        due=ob.due,
                        met_at=ob.met_at,
                        recorded_by=sorted(ob.missed_recorded_by),
                        escalation_steps=sorted(t.escalations or ()) if ob.kind == "response" else [],
                    )
                )
    items.sort(key=lambda m: (m.due, m.origin, m.index, m.party, m.kind))
    return Misses(
        total=len(items),
        by_party=dict(sorted(Counter(m.party for m in items).items())),
        by_kind=dict(sorted(Counter(m.kind for m in items).items())),
        deadline_missed_records=sum(1 for x in quarter if x.record.type == DEADLINE_MISSED),
        escalation_records=sum(1 for x in quarter if x.record.type == ESCALATION),
        items=items[:LIST_LIMIT],
    )


# --- hotline ------------------------------------------------------------------------------


def _short_text(text: BilingualText | None) -> BilingualText | None:
    if text is None:
        return None
    return BilingualText(
        original=LangText(lang=text.original.lang, text=text.original.text[:TEXT_LIMIT]),
        translations={lang: value[:TEXT_LIMIT] for lang, value in sorted(text.translations.items())},
    )


def _hotline(threads: list[Thread], as_of: datetime) -> Hotline:
    messages = [t for t in threads if t.subject.record.type == HOTLINE]
    by_priority: dict[str, list[Thread]] = {p.value: [] for p in Priority}
    for t in messages:
        by_priority.setdefault(str(t.subject.record.body.get("priority", "")), []).append(t)
    rows = [
        PriorityRow(
            priority=priority,
            messages=len(group),
            **_clock([o for t in group for o in t.obligations if o.kind == "response"], as_of),
        )
        for priority, group in by_priority.items()
    ]
    urgent = [t for t in messages if t.subject.record.body.get("priority") in (Priority.FLASH, Priority.IMMEDIATE)]
    urgent.sort(key=lambda t: (t.subject.record.issued, t.subject.origin, t.subject.index), reverse=True)
    codes = Counter(
        str(code).split("-")[0] for t in messages if isinstance(code := t.subject.record.body.get("code"), str)
    )
    return Hotline(
        total=len(messages),
        by_priority={p: len(g) for p, g in by_priority.items()},
        by_topic=dict(sorted(Counter(str(t.subject.record.body.get("topic", "")) for t in messages).items())),
        by_sender=dict(sorted(Counter(t.sender for t in messages).items())),
        by_code=dict(sorted(codes.items())),
        acknowledgement=rows,
        items=[
            HotlineItem(
                origin=t.subject.origin,
                index=t.subject.index,
                issued=t.subject.record.issued,
                to=list(t.subject.record.to),
                priority=str(t.subject.record.body.get("priority")),
                topic=str(t.subject.record.body.get("topic")),
                code=code if isinstance(code := t.subject.record.body.get("code"), str) else None,
                state={p: t.state(p).value for p in t.subject.record.to},
                text=_short_text(t.subject.record.text),
            )
            for t in urgent[:LIST_LIMIT]
        ],
        items_total=len(urgent),
    )


# --- incidents ----------------------------------------------------------------------------


def _incidents(quarter: list[Logged]) -> Incidents:
    reports = [x for x in quarter if x.record.type == INCIDENT]
    latest: dict[tuple[str, str], Logged] = {}
    for x in sorted(reports, key=lambda x: (x.record.issued, x.index)):
        latest[(x.origin, str(x.record.body.get("incident_id")))] = x
    harm: Counter[str] = Counter()
    sectors: Counter[str] = Counter()
    items: list[IncidentItem] = []
    deaths = injuries = 0
    for (origin, incident_id), x in sorted(latest.items()):
        body = x.record.body
        harm.update(set(map(str, body.get("harm_types", []))))
        sectors.update(set(map(str, body.get("sectors") or ["unspecified"])))
        deaths += int(body.get("deaths", 0))
        injuries += int(body.get("injuries", 0))
        title = body.get("title")
        items.append(
            IncidentItem(
                key=f"{origin}#{incident_id}",
                party=origin,
                stage=str(body.get("stage", "initial")),
                category=str(body.get("category")),
                severity=str(body.get("severity")),
                harm_types=sorted(map(str, body.get("harm_types", []))),
                sectors=sorted(map(str, body.get("sectors", []))),
                issued=x.record.issued,
                title=_short_text(BilingualText.model_validate(title)) if isinstance(title, dict) else None,
            )
        )
    items.sort(key=lambda i: (i.issued, i.key), reverse=True)
    newest = list(latest.values())
    return Incidents(
        reports=len(reports),
        incidents=len(latest),
        by_harm_type=dict(sorted(harm.items())),
        by_sector=dict(sorted(sectors.items())),
        by_severity=dict(sorted(Counter(str(x.record.body.get("severity")) for x in newest).items())),
        by_category=dict(sorted(Counter(str(x.record.body.get("category")) for x in newest).items())),
        by_party=dict(sorted(Counter(x.origin for x in newest).items())),
        by_stage=dict(sorted(Counter(str(x.record.body.get("stage", "initial")) for x in reports).items())),
        deaths=deaths,
        injuries=injuries,
        classifications=sum(1 for x in quarter if x.record.type == CLASSIFICATION),
        links=sum(1 for x in quarter if x.record.type == LINK),
        comments=sum(1 for x in quarter if x.record.type == COMMENT),
        items=items[:LIST_LIMIT],
    )


# --- evaluations, labels, takedowns -------------------------------------------------------


def _predicate(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The eval-result predicate, read (not verified: ``detente eval verify`` does that) from the
    record's DSSE envelope; ``None`` if it cannot be read."""
    try:
        envelope = Envelope.from_dict(body.get("envelope"))
        statement = json.loads(envelope.payload)
    except (DetenteError, ValueError):
        return None
    if not isinstance(statement, dict) or statement.get("predicateType") != EVAL_PREDICATE_TYPE:
        return None
    predicate = statement.get("predicate")
    return predicate if isinstance(predicate, dict) else None


def _eval_item(x: Logged) -> EvalItem:
    """One eval-result record as a row; a predicate it cannot read gives "?" and no verdict."""
    p = _predicate(x.record.body)
    try:
        suite = f"{p['suite']['name']}@{p['suite']['version']}" if p else "?"
        model = str(p["model"]["name"]) if p else "?"
        passed = p.get("passed") if p else None
    except (KeyError, TypeError):
        suite, model, passed = "?", "?", None
    return EvalItem(
        origin=x.origin,
        index=x.index,
        issued=x.record.issued,
        suite=suite,
        model=model,
        passed=passed if isinstance(passed, bool) else None,
        sample_count=int(x.record.body.get("sample_count", 0)),
        preregistered=bool(p and "preregistration" in p),
    )


def _evaluations(quarter: list[Logged]) -> Evaluations:
    items = [_eval_item(x) for x in quarter if x.record.type == EVAL_RESULT]
    by_party: dict[str, Counter[str]] = {}
    by_suite: dict[str, Counter[str]] = {}
    for item in items:
        for groups, key in ((by_party, item.origin), (by_suite, item.suite)):
            c = groups.setdefault(key, Counter())
            c["results"] += 1
            if item.passed is not None:
                c["passed" if item.passed else "failed"] += 1
    rechecks = Counter(str(x.record.body.get("verdict")) for x in quarter if x.record.type == EVAL_RECHECK)

    def table(t: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
        return {k: {f: c[f] for f in ("results", "passed", "failed")} for k, c in sorted(t.items())}

    return Evaluations(
        results=len(items),
        passed=sum(1 for i in items if i.passed is True),
        failed=sum(1 for i in items if i.passed is False),
        unreadable=sum(1 for i in items if i.passed is None),
        by_party=table(by_party),
        by_suite=table(by_suite),
        rechecks=dict(sorted(rechecks.items())),
        preregistrations=sum(1 for x in quarter if x.record.type == EVAL_PREREGISTRATION),
        items=sorted(items, key=lambda i: (i.issued, i.origin, i.index), reverse=True)[:LIST_LIMIT],
    )


def _labels(quarter: list[Logged]) -> LabelChecks:
    checks = [x for x in quarter if x.record.type == LABEL_CHECK]
    regimes: dict[str, Counter[str]] = {}
    for x in checks:
        verdicts = x.record.body.get("verdicts") or {}
        for regime, verdict in verdicts.items():
            regimes.setdefault(str(regime), Counter())[str(verdict)] += 1
    return LabelChecks(
        checks=len(checks),
        by_regime={r: dict(sorted(c.items())) for r, c in sorted(regimes.items())},
        by_party=dict(sorted(Counter(x.origin for x in checks).items())),
    )


def _takedowns(threads: list[Thread], as_of: datetime) -> Takedowns:
    requests = [t for t in threads if t.subject.record.type == TAKEDOWN_REQUEST]
    answers = [o for t in requests for o in t.obligations if o.kind == "response"]
    actions = Counter(str(o.met_by.record.body.get("action")) for o in answers if o.met_by is not None)
    clock = _clock(answers, as_of)
    return Takedowns(
        requested=len(requests),
        acted=actions["acted"],
        declined=actions["declined"],
        missed=clock["missed"],
        pending=clock["pending"],
        by_category=dict(sorted(Counter(str(t.subject.record.body.get("category")) for t in requests).items())),
        by_requester=dict(sorted(Counter(t.sender for t in requests).items())),
        answer=Clock(**clock),
    )


# --- export controls ----------------------------------------------------------------------


def _exportctl(threads: list[Thread], quarter: list[Logged], known: list[Logged], as_of: datetime) -> ExportControls:
    notices = [
        t for t in threads if t.subject.record.type == HOTLINE and t.subject.record.body.get("topic") == VIOLATION_TOPIC
    ]
    owed = [o for t in notices for o in t.obligations if o.kind == "follow-up"]
    changes = [
        SupplierChange(
            party=x.origin,
            supplier_id=str(x.record.body.get("supplier_id")),
            name=str(x.record.body.get("name")),
            country=str(x.record.body.get("country")),
            status=str(x.record.body.get("status", "listed")),
            effective=str(x.record.body.get("effective")),
            issued=x.record.issued,
        )
        for x in quarter
        if x.record.type == TRUSTED_SUPPLIER
    ]
    changes.sort(key=lambda c: (c.issued, c.party, c.supplier_id))
    return ExportControls(
        disclosures=len(notices),
        narratives=Clock(**_clock(owed, as_of)),
        narrative_records=sum(1 for x in quarter if x.record.type == VIOLATION_NARRATIVE),
        suppliers_listed=sum(1 for c in changes if c.status == "listed"),
        suppliers_delisted=sum(1 for c in changes if c.status == "delisted"),
        supplier_changes=changes[:LIST_LIMIT],
        recognitions=_recognitions(quarter, known),
        recognition_signatures=sum(1 for x in quarter if x.record.type == RECOGNITION_SIGNATURE),
    )


def _recognitions(quarter: list[Logged], known: list[Logged]) -> list[RecognitionItem]:
    """Arrangements proposed in the quarter, with who has signed them by the report's time."""
    proposed: dict[tuple[str, int], tuple[Logged, RecognitionArrangement, str]] = {}
    in_quarter = {(x.origin, x.index) for x in quarter}
    for x in known:
        if x.record.type != RECOGNITION or (x.origin, x.index) not in in_quarter:
            continue
        try:
            body = RecognitionArrangement.model_validate(x.record.body)
        except ValidationError:
            continue
        if x.origin in body.parties:
            proposed.setdefault((body.arrangement_id, body.version), (x, body, arrangement_digest(body)))
    signed: dict[tuple[str, int], set[str]] = {k: {x.origin} for k, (x, _, _) in proposed.items()}
    for x in known:
        if x.record.type == RECOGNITION_SIGNATURE:
            key = (str(x.record.body.get("arrangement_id")), int(x.record.body.get("version", 0)))
            found = proposed.get(key)
            if found and x.record.body.get("digest") == found[2] and x.origin in found[1].parties:
                signed[key].add(x.origin)
    return [
        RecognitionItem(
            arrangement_id=body.arrangement_id,
            version=body.version,
            proposed_by=x.origin,
            parties=list(body.parties),
            signed_by=sorted(signed[key]),
            complete=signed[key] >= set(body.parties),
        )
        for key, (x, body, _) in sorted(proposed.items())
    ][:LIST_LIMIT]
