"""Compute a quarter's figures from the records of every log a node follows. Pure: the records,
the agreement, the clock (``now``) and the verification status are passed in; no I/O.

Only records *issued in the quarter* count. Threads (notices and their obligations) are evaluated
by the protocol engine as of the quarter's end, or as of ``now`` if that is earlier, so a reply
logged after the quarter closed does not change the quarter's figures. What each figure means:
``docs/report.md``.

The figures are folded (:class:`QuarterFold`): the quarter's records one at a time, its threads a
page at a time (each page evaluated with the records that refer to it), so a node reads a quarter
from its store in pages and holds only running counts, the first ``LIST_LIMIT`` items of each list,
and the few records a quarter is judged under (:data:`CONTEXT_TYPES`). Every figure is the one the
whole quarter read at once gives (:func:`quarterly_figures` folds a list in one go).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from detente.commitments.model import GLOSSARY, IMPLEMENTATION_REPORT
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
from detente.media.records import LABEL_CHECK
from detente.protocol.agreement import Agreement
from detente.protocol.threads import (
    COMMITMENT_TYPES,
    WITHHELD,
    Logged,
    Times,
    evaluate,
    opens_thread,
    withheld_counts,
)
from detente.records.catalogue import DEADLINE_MISSED, ESCALATION
from detente.records.text import BilingualText
from detente.report.commitments import commitments
from detente.report.figures import (
    LIST_LIMIT,
    Clock,
    EvalItem,
    Evaluations,
    ExportControls,
    Hotline,
    IncidentItem,
    Incidents,
    LabelChecks,
    Misses,
    QuarterlyFigures,
    RecognitionItem,
    SealedExchanges,
    SupplierChange,
    Takedowns,
    Verification,
    Week,
    Withheld,
    WithheldItem,
)
from detente.report.period import parse_period, period_name
from detente.report.tally import Top, nearest_rank
from detente.report.thread_figures import HOTLINE, TEXT_LIMIT, ThreadFigures, short_text

__all__ = [
    "CONTEXT_TYPES",
    "TEXT_LIMIT",
    "QuarterFold",
    "QuarterlyFigures",
    "nearest_rank",
    "parse_period",
    "quarterly_figures",
    "short_type",
]

EVAL_PREDICATE_TYPE = "https://detente.dev/eval-result/v1"  # detente.evals.attest.PREDICATE_TYPE
CONTEXT_TYPES = frozenset({*COMMITMENT_TYPES, GLOSSARY, RECOGNITION_SIGNATURE, WITHHELD})
"""The records before the quarter's end it is judged under, whenever they were issued: the
commitment ledger (documents, signatures, withdrawals, glossary definitions), arrangements'
signatures, and withheld notices (numbered within their calendar year against the quota)."""

Position = Any
"""Where a record sits in the order the records were given (a number, or (log rank, index)):
decides only which of two equal things a figure names first, as reading in that order did."""


def short_type(record_type: str) -> str:
    """``detente.dev/hotline-message/v1`` → ``hotline-message``."""
    parts = record_type.split("/")
    return parts[-2] if len(parts) >= 3 else record_type


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
    fold = QuarterFold(agreement, me, period, now=now, times=times)
    known = [x for x in records if fold.known(x)]
    fold.judge_under(known)
    for position, x in enumerate(known):
        fold.add(x, position)
    fold.add_threads(known, {x.key for x in known if fold.in_quarter(x) and opens_thread(x.record)})
    return fold.figures(verification)


class QuarterFold:
    """The figures of one quarter, folded: :meth:`judge_under` the context records, :meth:`add` each
    record of the quarter (any other is ignored), :meth:`add_threads` each page of its threads, then
    :meth:`figures`. Holds counters, the first ``LIST_LIMIT`` items of each list, one compact entry
    per incident (its latest report), per deadline-clock group the times taken (8 bytes each), the
    time claims, and the context records; never the quarter's records."""

    def __init__(
        self, agreement: Agreement, me: str, period: str, *, now: datetime, times: Times | None = None
    ) -> None:
        self.agreement, self.me, self.period, self.now, self.times = agreement, me, period, now, times
        self.start, self.end = parse_period(period)
        self.as_of = min(self.end, now)
        self.context: list[Logged] = []
        self.threads = ThreadFigures(me, self.start, self.end, self.as_of)
        self.records = 0
        self.parties: set[str] = {me}
        self.counts: Counter[str] = Counter()
        """Records of the quarter by type (and supplier changes by status)."""
        self.readable: Counter[str] = Counter()
        """The same, of the records whose body is not sealed."""
        self.sealed = {name: _FirstSeen() for name in ("tlp", "sender", "type")}
        self.incidents = _IncidentTally()
        self.evaluations = _EvalTally()
        self.regimes: dict[str, Counter[str]] = {}
        self.label_parties: Counter[str] = Counter()
        self.touched: set[tuple[str, Any]] = set()
        self.changes = Top[tuple[SupplierChange, int]](LIST_LIMIT, lambda c: (*_change_key(c[0]), c[1]))
        self.proposed = _Proposals()

    def known(self, x: Logged) -> bool:
        """Issued before the quarter's end, and not after ``now``: what the figures may see."""
        return x.record.issued < self.end and x.record.issued <= self.now

    def in_quarter(self, x: Logged) -> bool:
        return self.known(x) and self.start <= x.record.issued

    def judge_under(self, records: Iterable[Logged]) -> None:
        """Keep the records of :data:`CONTEXT_TYPES` among ``records`` (in their order)."""
        self.context += [x for x in records if x.record.type in CONTEXT_TYPES and self.known(x)]

    @property
    def commitment_records(self) -> list[Logged]:
        """What :meth:`add_threads` needs beside a page's threads and their replies."""
        return [x for x in self.context if x.record.type in COMMITMENT_TYPES]

    # --- records ------------------------------------------------------------------------------

    def add(self, x: Logged, position: Position) -> None:
        """Fold in one record; ``position``: its place in the order the records are read in."""
        if not self.in_quarter(x):
            return
        rec = x.record
        self.records += 1
        self.parties.add(x.origin)
        self.parties.update(rec.to)
        self.counts[rec.type] += 1
        if rec.type == HOTLINE:
            self.threads.week(rec.issued)["hotline"] += 1
        elif rec.type == INCIDENT:
            self.threads.week(rec.issued)["incidents"] += 1
        if rec.type == TRUSTED_SUPPLIER:
            change = _change(x)
            self.counts["supplier " + change.status] += 1
            self.changes.add((change, x.index))
        elif rec.type == RECOGNITION:
            self.proposed.add(x, position)
        if rec.sealed is not None:  # a sealed body is counted in `sealed` only
            for name, key in (("tlp", rec.tlp.value), ("sender", x.origin), ("type", short_type(rec.type))):
                self.sealed[name].add(key, position)
            return
        if rec.type == INCIDENT:
            self.incidents.add(x)
        elif rec.type == EVAL_RESULT:
            self.evaluations.add(_eval_item(x))
        elif rec.type == EVAL_RECHECK:
            self.evaluations.rechecks[str(rec.body.get("verdict"))] += 1
        elif rec.type == LABEL_CHECK:
            self.label_parties[x.origin] += 1
            for regime, verdict in (rec.body.get("verdicts") or {}).items():
                self.regimes.setdefault(str(regime), Counter())[str(verdict)] += 1
        elif rec.type in COMMITMENT_TYPES:
            self.touched.add((str(rec.body.get("document_id")), rec.body.get("version")))
        self.readable[rec.type] += 1

    # --- threads ------------------------------------------------------------------------------

    def add_threads(self, records: Sequence[Logged], subjects: Collection[tuple[str, int, str]]) -> None:
        """Evaluate and fold in the threads opened by ``subjects`` (records of the quarter, by key):
        ``records`` holds them, every record referring to them and the commitment records
        (:attr:`commitment_records`), in the order the records are read in (a thread's replies are
        applied in that order). Records issued after the quarter or after ``now`` are left out here."""
        known = [x for x in records if self.known(x)]
        evaluation = evaluate(known, self.agreement, self.as_of, self.me, self.times)
        by_key = {(x.origin, x.index): x for x in known}
        for t in evaluation.threads:
            if t.subject.key in subjects and self.in_quarter(t.subject):
                self.threads.add(t, by_key)

    # --- the figures --------------------------------------------------------------------------

    def figures(self, verification: Mapping[str, Any]) -> QuarterlyFigures:
        try:
            checked = Verification.model_validate(verification)
        except ValidationError as exc:
            raise MalformedError(f"verification status does not fit the report: {exc.errors()[0]['msg']}") from None
        t, n, readable = self.threads, self.counts, self.readable
        readable_context = [x for x in self.context if x.record.sealed is None]
        return QuarterlyFigures(
            period=period_name(self.period),
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            generated_at=self.now,
            party=self.me,
            agreement=f"{self.agreement.agreement_id} v{self.agreement.version}",
            parties=sorted(self.parties),
            records=self.records,
            notices=t.notice_rows(),
            exchanges=t.exchanges(),
            pairs=t.pair_rows(),
            weeks=[Week(start=self.start + timedelta(days=7 * i), **c) for i, c in enumerate(t.weeks)],
            deadlines=t.deadline_rows(by_type=True),
            deadline_totals=t.deadline_rows(by_type=False),
            withheld=self._withheld(),
            time_claims=t.time_claims(),
            sealed=SealedExchanges(
                total=self.sealed["tlp"].total,
                by_tlp=self.sealed["tlp"].counts(),
                by_sender=self.sealed["sender"].counts(),
                by_type=self.sealed["type"].counts(),
            ),
            misses=Misses(
                total=t.miss_total,
                by_party=dict(sorted(t.miss_party.items())),
                by_kind=dict(sorted(t.miss_kind.items())),
                deadline_missed_records=n[DEADLINE_MISSED],
                escalation_records=n[ESCALATION],
                items=t.misses.first(),
            ),
            hotline=Hotline(**t.hotline.figures()),
            incidents=self.incidents.figures(readable),
            evaluations=self.evaluations.figures(readable[EVAL_PREREGISTRATION]),
            labels=LabelChecks(
                checks=readable[LABEL_CHECK],
                by_regime={r: dict(sorted(c.items())) for r, c in sorted(self.regimes.items())},
                by_party=dict(sorted(self.label_parties.items())),
            ),
            takedowns=Takedowns(**t.takedowns.figures()),
            exportctl=self._exportctl(),
            commitments=commitments(
                readable_context,
                self.touched,
                {k: readable[k] for k in (*COMMITMENT_TYPES, IMPLEMENTATION_REPORT)},
                self.as_of,
            ),
            verification=checked,
        )

    def _withheld(self) -> Withheld:
        """The quarter's withheld notifications; each is numbered within its sender's calendar year
        (so the notices of the year's earlier quarters count towards the quota too)."""
        counts = withheld_counts(self.context, self.agreement)
        notices = [x for x in self.context if x.record.type == WITHHELD and self.in_quarter(x)]
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
            limit=self.agreement.withheld_per_year,
            over_quota=len(excesses),
            excesses=excesses[:LIST_LIMIT],
        )

    def _exportctl(self) -> ExportControls:
        n = self.counts
        return ExportControls(
            disclosures=self.threads.disclosures,
            narratives=Clock(**self.threads.narratives.row()),
            narrative_records=n[VIOLATION_NARRATIVE],
            suppliers_listed=n["supplier listed"],
            suppliers_delisted=n["supplier delisted"],
            supplier_changes=[c for c, _ in self.changes.first()],
            recognitions=self.proposed.items(self.context),
            recognition_signatures=n[RECOGNITION_SIGNATURE],
        )


# --- the tallies of record sections ---------------------------------------------------------


class _FirstSeen:
    """Counts by key, in the order the keys were first seen (their earliest position)."""

    def __init__(self) -> None:
        self.total = 0
        self.seen: dict[str, list[Any]] = {}  # key -> [count, earliest position]

    def add(self, key: str, position: Position) -> None:
        self.total += 1
        entry = self.seen.get(key)
        if entry is None:
            self.seen[key] = [1, position]
        else:
            entry[0] += 1
            entry[1] = min(entry[1], position)

    def counts(self) -> dict[str, int]:
        return {k: c for k, (c, _) in sorted(self.seen.items(), key=lambda kv: kv[1][1])}


def _change_key(c: SupplierChange) -> tuple[datetime, str, str]:
    return (c.issued, c.party, c.supplier_id)


def _change(x: Logged) -> SupplierChange:
    body = x.record.body
    return SupplierChange(
        party=x.origin,
        supplier_id=str(body.get("supplier_id")),
        name=str(body.get("name")),
        country=str(body.get("country")),
        status=str(body.get("status", "listed")),
        effective=str(body.get("effective")),
        issued=x.record.issued,
    )


class _Proposals:
    """Recognition arrangements proposed in the quarter: for each (arrangement, version), the first
    proposal by one of its parties (the earliest position); only the ``LIST_LIMIT`` first versions in
    (arrangement, version) order are kept, since only those are listed (a version past them never
    comes back: ``LIST_LIMIT`` smaller ones stay)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, int], tuple[Position, Logged, RecognitionArrangement]] = {}

    def add(self, x: Logged, position: Position) -> None:
        try:
            body = RecognitionArrangement.model_validate(x.record.body)
        except ValidationError:
            return
        if x.origin not in body.parties:
            return
        key = (body.arrangement_id, body.version)
        old = self.kept.get(key)
        if old is not None:
            if position < old[0]:
                self.kept[key] = (position, x, body)
            return
        if len(self.kept) >= LIST_LIMIT:
            last = max(self.kept)
            if key > last:
                return
            del self.kept[last]
        self.kept[key] = (position, x, body)

    def items(self, context: Iterable[Logged]) -> list[RecognitionItem]:
        """The kept arrangements, with who has signed them by the report's time."""
        digests = {k: arrangement_digest(body) for k, (_, _, body) in self.kept.items()}
        signed: dict[tuple[str, int], set[str]] = {k: {x.origin} for k, (_, x, _) in self.kept.items()}
        for x in context:
            if x.record.type == RECOGNITION_SIGNATURE:
                key = (str(x.record.body.get("arrangement_id")), int(x.record.body.get("version", 0)))
                found = self.kept.get(key)
                if found and x.record.body.get("digest") == digests[key] and x.origin in found[2].parties:
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
            for key, (_, x, body) in sorted(self.kept.items(), key=lambda kv: kv[0])
        ]


class _Incident:
    """The latest report of one incident, as the report counts and lists it."""

    __slots__ = ("at", "category", "deaths", "harm", "injuries", "sectors", "severity", "stage", "title")

    def __init__(self, x: Logged) -> None:
        body = x.record.body
        self.at = (x.record.issued, x.index)
        self.stage = str(body.get("stage", "initial"))
        self.category = str(body.get("category"))
        self.severity = str(body.get("severity"))
        self.harm = tuple(map(str, body.get("harm_types", [])))
        self.sectors = tuple(map(str, body.get("sectors") or []))
        self.deaths = int(body.get("deaths", 0))
        self.injuries = int(body.get("injuries", 0))
        title = body.get("title")
        self.title = short_text(BilingualText.model_validate(title)) if isinstance(title, dict) else None


class _IncidentTally:
    def __init__(self) -> None:
        self.reports = 0
        self.stages: Counter[str] = Counter()
        self.latest: dict[tuple[str, str], _Incident] = {}

    def add(self, x: Logged) -> None:
        self.reports += 1
        self.stages[str(x.record.body.get("stage", "initial"))] += 1
        key = (x.origin, str(x.record.body.get("incident_id")))
        old = self.latest.get(key)
        if old is None or (x.record.issued, x.index) >= old.at:
            self.latest[key] = _Incident(x)

    def figures(self, readable: Mapping[str, int]) -> Incidents:
        harm: Counter[str] = Counter()
        sectors: Counter[str] = Counter()
        deaths = injuries = 0
        for e in self.latest.values():
            harm.update(set(e.harm))
            sectors.update(set(e.sectors or ("unspecified",)))
            deaths += e.deaths
            injuries += e.injuries
        newest = sorted(self.latest.items(), key=lambda kv: (kv[1].at[0], f"{kv[0][0]}#{kv[0][1]}"), reverse=True)
        items = [
            IncidentItem(
                key=f"{origin}#{incident_id}",
                party=origin,
                stage=e.stage,
                category=e.category,
                severity=e.severity,
                harm_types=sorted(e.harm),
                sectors=sorted(e.sectors),
                issued=e.at[0],
                title=e.title,
            )
            for (origin, incident_id), e in newest[:LIST_LIMIT]
        ]
        latest = self.latest
        return Incidents(
            reports=self.reports,
            incidents=len(latest),
            by_harm_type=dict(sorted(harm.items())),
            by_sector=dict(sorted(sectors.items())),
            by_severity=dict(sorted(Counter(e.severity for e in latest.values()).items())),
            by_category=dict(sorted(Counter(e.category for e in latest.values()).items())),
            by_party=dict(sorted(Counter(origin for origin, _ in latest).items())),
            by_stage=dict(sorted(self.stages.items())),
            deaths=deaths,
            injuries=injuries,
            classifications=readable[CLASSIFICATION],
            links=readable[LINK],
            comments=readable[COMMENT],
            items=items,
        )


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


class _EvalTally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.by_party: dict[str, Counter[str]] = {}
        self.by_suite: dict[str, Counter[str]] = {}
        self.rechecks: Counter[str] = Counter()
        self.items = Top[EvalItem](LIST_LIMIT, lambda i: (i.issued, i.origin, i.index), reverse=True)

    def add(self, item: EvalItem) -> None:
        verdict = {True: "passed", False: "failed", None: "unreadable"}[item.passed]
        self.counts["results"] += 1
        self.counts[verdict] += 1
        for groups, key in ((self.by_party, item.origin), (self.by_suite, item.suite)):
            c = groups.setdefault(key, Counter())
            c["results"] += 1
            if item.passed is not None:
                c[verdict] += 1
        self.items.add(item)

    def figures(self, preregistrations: int) -> Evaluations:
        def table(t: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
            return {k: {f: c[f] for f in ("results", "passed", "failed")} for k, c in sorted(t.items())}

        return Evaluations(
            results=self.counts["results"],
            passed=self.counts["passed"],
            failed=self.counts["failed"],
            unreadable=self.counts["unreadable"],
            by_party=table(self.by_party),
            by_suite=table(self.by_suite),
            rechecks=dict(sorted(self.rechecks.items())),
            preregistrations=preregistrations,
            items=self.items.first(),
        )
