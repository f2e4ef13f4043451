"""The figures of a quarterly exchange report, as one pydantic model (so it has a JSON Schema and
can travel inside a ``quarterly-report`` record). What each figure means: ``docs/report.md``.

Counts are plain integers; durations are seconds; times are UTC. Every mapping is sorted by key
and every list has a stable order, so the same logs always give the same JSON (and so the same
rendered report). Lists of individual items are capped at :data:`LIST_LIMIT` entries; the
``total`` beside each list says how many there were."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from detente.records.text import BilingualText

__all__ = [
    "LIST_LIMIT",
    "Alarm",
    "Clock",
    "DeadlineRow",
    "EvalItem",
    "Evaluations",
    "ExportControls",
    "Hotline",
    "HotlineItem",
    "IncidentItem",
    "Incidents",
    "LabelChecks",
    "LogStatus",
    "MissItem",
    "Misses",
    "NoticeRow",
    "PartyExchange",
    "PriorityRow",
    "QuarterlyFigures",
    "RecognitionItem",
    "SupplierChange",
    "Takedowns",
    "Verification",
    "Week",
    "Withheld",
    "WithheldItem",
]

LIST_LIMIT = 20
"""At most this many individual items per list (misses, messages, incidents, results...)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clock(_Model):
    """How a set of obligations (receipts, answers, narratives) went against their deadlines."""

    total: int = Field(default=0, ge=0, description="obligations owed")
    in_time: int = Field(default=0, ge=0, description="met at or before the due time")
    late: int = Field(default=0, ge=0, description="met, but after the due time")
    overdue: int = Field(default=0, ge=0, description="not met, and the due time has passed")
    pending: int = Field(default=0, ge=0, description="not met, not yet due")
    missed: int = Field(default=0, ge=0, description="late + overdue (the protocol's definition of a miss)")
    median_seconds: float | None = Field(default=None, description="median time to meet (met ones; nearest rank)")
    p90_seconds: float | None = Field(default=None, description="90th percentile time to meet (nearest rank)")


class DeadlineRow(Clock):
    type: str = Field(description="record type of the notice, or '*' for all types")
    kind: str = Field(description="receipt, response or follow-up")
    party: str = Field(description="the party that owes it")


class PriorityRow(Clock):
    priority: str
    messages: int = Field(ge=0)


class NoticeRow(_Model):
    type: str
    sent: int = Field(ge=0, description="sent by this party")
    received: int = Field(ge=0, description="addressed to this party")
    others: int = Field(ge=0, description="between other parties, seen in mirrored logs")


class PartyExchange(_Model):
    party: str
    sent_to: int = Field(ge=0, description="notices this party addressed to it")
    received_from: int = Field(ge=0, description="notices it addressed to this party")


class PairResponsiveness(_Model):
    """How one party answered another's notices in the quarter (every pair of parties, not only
    this party's): what ``to`` owed ``sender`` and how much of it came in time."""

    sender: str
    to: str
    notices: int = Field(ge=0, description="notices sender addressed to it")
    received_in_time: int = Field(ge=0, description="receipts witnessed by their deadline")
    answered_in_time: int = Field(ge=0, description="acknowledgements or answers owed and given by their deadline")
    answers_owed: int = Field(ge=0)
    missed: int = Field(ge=0, description="obligations missed (late included) as of the report")
    silent: bool = Field(description="it owed answers and gave none")


class Week(_Model):
    start: datetime
    sent: int = 0
    received: int = 0
    hotline: int = 0
    incidents: int = 0


class MissItem(_Model):
    origin: str
    index: int
    type: str
    party: str = Field(description="who missed it")
    kind: str
    due: datetime
    met_at: datetime | None = Field(default=None, description="when it was met late, if it was")
    recorded_by: list[str] = Field(default_factory=list, description="parties that logged a deadline-missed record")
    escalation_steps: list[int] = Field(default_factory=list)


class Misses(_Model):
    total: int = 0
    by_party: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)
    deadline_missed_records: int = Field(default=0, description="deadline-missed records issued in the quarter")
    escalation_records: int = Field(default=0, description="escalation records issued in the quarter")
    items: list[MissItem] = Field(default_factory=list)


class HotlineItem(_Model):
    origin: str
    index: int
    issued: datetime
    to: list[str]
    priority: str
    topic: str
    code: str | None = None
    state: dict[str, str] = Field(default_factory=dict, description="each recipient: sent, received or answered")
    text: BilingualText | None = None


class Hotline(_Model):
    total: int = 0
    by_priority: dict[str, int] = Field(default_factory=dict)
    by_topic: dict[str, int] = Field(default_factory=dict)
    by_sender: dict[str, int] = Field(default_factory=dict)
    by_code: dict[str, int] = Field(default_factory=dict, description="pre-agreed code words used")
    acknowledgement: list[PriorityRow] = Field(default_factory=list, description="acknowledgement clocks by priority")
    items: list[HotlineItem] = Field(default_factory=list, description="flash and immediate messages, newest first")
    items_total: int = 0


class IncidentItem(_Model):
    key: str = Field(description="origin#incident id")
    party: str
    stage: str
    category: str
    severity: str
    harm_types: list[str]
    sectors: list[str]
    issued: datetime
    title: BilingualText | None = None


class Incidents(_Model):
    reports: int = Field(default=0, description="incident-report records (every stage)")
    incidents: int = Field(default=0, description="distinct incidents reported in the quarter")
    by_harm_type: dict[str, int] = Field(default_factory=dict)
    by_sector: dict[str, int] = Field(default_factory=dict)
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    by_party: dict[str, int] = Field(default_factory=dict)
    by_stage: dict[str, int] = Field(default_factory=dict, description="report records by stage")
    deaths: int = 0
    injuries: int = 0
    classifications: int = 0
    links: int = 0
    comments: int = 0
    items: list[IncidentItem] = Field(default_factory=list)


class EvalItem(_Model):
    origin: str
    index: int
    issued: datetime
    suite: str
    model: str
    passed: bool | None = Field(default=None, description="null when the result could not be read")
    sample_count: int = 0
    preregistered: bool = False


class Evaluations(_Model):
    results: int = 0
    passed: int = 0
    failed: int = 0
    unreadable: int = 0
    by_party: dict[str, dict[str, int]] = Field(default_factory=dict, description="party → results, passed, failed")
    by_suite: dict[str, dict[str, int]] = Field(default_factory=dict, description="suite → results, passed, failed")
    rechecks: dict[str, int] = Field(default_factory=dict, description="re-check verdicts")
    preregistrations: int = 0
    items: list[EvalItem] = Field(default_factory=list)


class LabelChecks(_Model):
    checks: int = 0
    by_regime: dict[str, dict[str, int]] = Field(default_factory=dict, description="regime → verdict → count")
    by_party: dict[str, int] = Field(default_factory=dict)


class Takedowns(_Model):
    requested: int = 0
    acted: int = 0
    declined: int = 0
    missed: int = Field(default=0, description="answer not given by its deadline (late answers included)")
    pending: int = Field(default=0, description="no answer yet, not yet due")
    by_category: dict[str, int] = Field(default_factory=dict)
    by_requester: dict[str, int] = Field(default_factory=dict)
    answer: Clock = Field(default_factory=Clock)


class WithheldItem(_Model):
    """A withheld notification past the agreed quota."""

    origin: str
    index: int
    issued: datetime
    year: int
    number: int = Field(ge=1, description="the sender's n-th withheld notification of the calendar year")
    limit: int = Field(ge=0, description="withheld notifications the agreement allows a party each year")
    category: str
    reason_class: str
    declared: bool = Field(description="the notice itself says over_quota: true")


class Withheld(_Model):
    """Withheld notifications issued in the quarter, against the agreement's yearly quota
    (counted over the whole calendar year of each)."""

    total: int = 0
    by_party: dict[str, int] = Field(default_factory=dict)
    limit: int = Field(default=0, ge=0, description="withheld notifications allowed per party and calendar year")
    over_quota: int = Field(default=0, ge=0, description="those issued in the quarter past the yearly quota")
    excesses: list[WithheldItem] = Field(default_factory=list, description="the ones past the quota, oldest first")


class TimeClaim(_Model):
    """A record whose claimed ``issued`` time lies outside its witnessed interval (``docs/time.md``)."""

    record: str = Field(description="ORIGIN#INDEX")
    thread: str = Field(description="the thread it belongs to, ORIGIN#INDEX of its subject")
    issued: datetime = Field(description="the time the record claims")
    witnessed_from: datetime | None = Field(default=None, description="its log was cosigned without it at this time")
    witnessed_by: datetime | None = Field(default=None, description="a checkpoint holding it was cosigned by then")
    witnesses: list[str] = Field(default_factory=list, description="the witnesses that established the bounds")


class TimeClaims(_Model):
    """Claims of time that the witnesses' cosignatures contradict, among the quarter's threads."""

    total: int = 0
    by_party: dict[str, int] = Field(default_factory=dict)
    items: list[TimeClaim] = Field(default_factory=list)


class SealedExchanges(_Model):
    """Records sealed to their recipients (TLP:AMBER, AMBER+STRICT, RED) issued in the quarter:
    counted, never revealed (``docs/sealed.md``)."""

    total: int = 0
    by_tlp: dict[str, int] = Field(default_factory=dict)
    by_sender: dict[str, int] = Field(default_factory=dict)
    by_type: dict[str, int] = Field(default_factory=dict)


class SupplierChange(_Model):
    party: str
    supplier_id: str
    name: str
    country: str
    status: str
    effective: str
    issued: datetime


class RecognitionItem(_Model):
    arrangement_id: str
    version: int
    proposed_by: str
    parties: list[str]
    signed_by: list[str] = Field(description="parties that have signed its digest by the quarter's end (or now)")
    complete: bool


class ExportControls(_Model):
    disclosures: int = Field(default=0, description="inadvertent-violation notices (hotline)")
    narratives: Clock = Field(default_factory=Clock, description="the full narratives owed for those notices")
    narrative_records: int = Field(default=0, description="violation-narrative records issued in the quarter")
    suppliers_listed: int = 0
    suppliers_delisted: int = 0
    supplier_changes: list[SupplierChange] = Field(default_factory=list)
    recognitions: list[RecognitionItem] = Field(default_factory=list)
    recognition_signatures: int = Field(default=0, description="co-signatures logged in the quarter")


class LogStatus(_Model):
    name: str
    origin: str
    role: str = Field(pattern="^(own|peer)$")
    size: int = Field(ge=0)
    root: str = Field(default="", description="root hash (hex) of the latest checkpoint")
    cosigned_by: list[str] = Field(default_factory=list, description="witnesses whose cosignatures it carries")
    last_sync: datetime | None = None
    last_error: str | None = None
    witness_size: int | None = Field(default=None, description="the size of our log this peer last cosigned")


class Alarm(_Model):
    origin: str
    kind: str
    detail: str
    at: datetime


class Verification(_Model):
    """The state of every log the node follows when the report was made (not as of the quarter's end)."""

    logs: list[LogStatus] = Field(default_factory=list)
    alarms: list[Alarm] = Field(default_factory=list)


class CommitmentRow(_Model):
    document: str = Field(description="document id and version, e.g. ai-nc-2026 v2")
    kind: str
    title: BilingualText
    parties: list[str]
    rule: str = Field(description="all, or k of N")
    signed_by: list[str]
    status: str = Field(description="in-force, adopted (not yet in force), awaiting (signatures), or withdrawn")
    adopted_at: datetime | None = None


class Commitments(_Model):
    documents: int = Field(default=0, description="document versions drafted in the quarter")
    signatures: int = Field(default=0, description="signatures logged in the quarter")
    withdrawals: int = Field(default=0, description="withdrawals logged in the quarter")
    implementation_reports: int = Field(default=0, description="implementation reports logged in the quarter")
    in_force: int = Field(default=0, description="versions in force at the end of the period")
    items: list[CommitmentRow] = Field(
        default_factory=list, description="versions in force at the end, or drafted, signed or withdrawn in the quarter"
    )


class QuarterlyFigures(_Model):
    period: str = Field(pattern=r"^[0-9]{4}Q[1-4]$")
    start: datetime
    end: datetime
    as_of: datetime = Field(description="threads are evaluated as of this time: the quarter's end, or now if earlier")
    generated_at: datetime
    party: str = Field(description="the log origin of the party whose node made the report")
    agreement: str
    parties: list[str] = Field(description="every party seen in the quarter's records")
    records: int = Field(description="records issued in the quarter, in every followed log")
    items_omitted: bool = Field(default=False, description="item lists were left out to fit one log entry")
    notices: list[NoticeRow] = Field(default_factory=list)
    exchanges: list[PartyExchange] = Field(default_factory=list)
    pairs: list[PairResponsiveness] = Field(
        default_factory=list, description="responsiveness for every pair of parties, sender → recipient"
    )
    weeks: list[Week] = Field(default_factory=list)
    deadlines: list[DeadlineRow] = Field(default_factory=list, description="by type, kind and owing party")
    deadline_totals: list[DeadlineRow] = Field(default_factory=list, description="by kind and owing party")
    withheld: Withheld = Field(default_factory=Withheld)
    time_claims: TimeClaims = Field(default_factory=TimeClaims)
    sealed: SealedExchanges = Field(default_factory=SealedExchanges)
    misses: Misses = Field(default_factory=Misses)
    hotline: Hotline = Field(default_factory=Hotline)
    incidents: Incidents = Field(default_factory=Incidents)
    evaluations: Evaluations = Field(default_factory=Evaluations)
    labels: LabelChecks = Field(default_factory=LabelChecks)
    takedowns: Takedowns = Field(default_factory=Takedowns)
    exportctl: ExportControls = Field(default_factory=ExportControls)
    commitments: Commitments = Field(default_factory=Commitments)
    verification: Verification = Field(default_factory=Verification)

    def without_items(self) -> QuarterlyFigures:
        """The same figures with every list of individual items left out (counts stay)."""
        return self.model_copy(
            update={
                "items_omitted": True,
                "withheld": self.withheld.model_copy(update={"excesses": []}),
                "time_claims": self.time_claims.model_copy(update={"items": []}),
                "misses": self.misses.model_copy(update={"items": []}),
                "hotline": self.hotline.model_copy(update={"items": []}),
                "incidents": self.incidents.model_copy(update={"items": []}),
                "evaluations": self.evaluations.model_copy(update={"items": []}),
                "exportctl": self.exportctl.model_copy(update={"supplier_changes": []}),
                "commitments": self.commitments.model_copy(update={"items": []}),
            }
        )
