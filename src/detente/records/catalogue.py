"""The versioned catalogue of record types: each type's body model (and so its JSON Schema),
and what the protocol expects in return (a receipt always; an acknowledgement or an answer for
some types). ``detente.dev/<name>/v<major>``; a new major version is a new type."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from detente.commitments import model as commitments
from detente.errors import MalformedRecord, UnknownRecordType
from detente.evals import records as evals
from detente.exportctl import records as exportctl
from detente.exportctl.rules import RulePack
from detente.incidents import model as incidents
from detente.media import records as media
from detente.records import hotline, keys, notices
from detente.records.fields import describe_body_errors
from detente.records.record import Record
from detente.records.sealing import ENCRYPTION_KEY, EncryptionKeyBody, check_sealed_frame
from detente.report import records as report

__all__ = [
    "ACK",
    "ANSWER",
    "ANSWER_TYPES",
    "CATALOGUE",
    "DEADLINE_MISSED",
    "ESCALATION",
    "FOLLOW_UP",
    "FREE_FORM",
    "LOG_ALARM",
    "RECEIPT",
    "STATEMENT",
    "TypeSpec",
    "check_type",
    "json_schemas",
    "spec_for",
    "suggest_types",
    "validate_record",
]

RECEIPT = "detente.dev/receipt/v1"
ACK = "detente.dev/acknowledgement/v1"
ANSWER = "detente.dev/clarification-response/v1"
DEADLINE_MISSED = "detente.dev/deadline-missed/v1"
ESCALATION = "detente.dev/escalation/v1"
STATEMENT = "detente.dev/statement/v1"
LOG_ALARM = "detente.dev/log-alarm/v1"

FREE_FORM: dict[str, str] = {
    STATEMENT: "a free-form statement: any JSON object as body, usually with a bilingual text; "
    "no recipients are owed anything (no receipt, acknowledgement or answer)",
    LOG_ALARM: "a fork alarm with its signed evidence; the node writes it itself when it sees a peer's "
    "log fork (docs/security.md)",
}
"""The types outside the catalogue that a node still signs, with what each is. Every other type
outside the catalogue is refused before signing (:func:`check_type`); a peer's record of such a
type is still carried (it is in the peer's log) and read as an uncatalogued record."""


@dataclass(frozen=True)
class TypeSpec:
    record_type: str
    body: type[BaseModel]
    response: str | None = None
    """``"ack"``: a human acknowledgement is due; ``"answer"``: an answer record is due."""
    answer_type: str | None = None
    addressed: bool = True
    """Whether records of this type name recipients (and get receipts)."""


_SPECS = [
    TypeSpec("detente.dev/pre-test-notification/v1", notices.PreTestNotification, "ack"),
    TypeSpec("detente.dev/test-update/v1", notices.TestUpdate),
    TypeSpec("detente.dev/test-cancel/v1", notices.TestCancel),
    TypeSpec("detente.dev/post-test-report/v1", notices.PostTestReport),
    TypeSpec("detente.dev/observation-invitation/v1", notices.ObservationInvitation, "ack"),
    TypeSpec("detente.dev/policy-development-notification/v1", notices.PolicyDevelopmentNotification),
    TypeSpec("detente.dev/withheld-notification/v1", notices.WithheldNotification, addressed=False),
    TypeSpec("detente.dev/unexplained-incident-notification/v1", notices.UnexplainedIncidentNotification, "ack"),
    TypeSpec("detente.dev/hotline-message/v1", hotline.HotlineMessage, "ack"),
    TypeSpec("detente.dev/clarification-request/v1", hotline.ClarificationRequest, "answer", ANSWER),
    TypeSpec(ANSWER, hotline.ClarificationResponse),
    TypeSpec("detente.dev/consultation-meeting-request/v1", hotline.ConsultationMeetingRequest, "ack"),
    TypeSpec("detente.dev/link-test/v1", hotline.LinkTest, "ack"),
    TypeSpec("detente.dev/periodic-exchange/v1", hotline.PeriodicExchange, "ack"),
    TypeSpec(RECEIPT, hotline.Receipt),
    TypeSpec(ACK, hotline.Acknowledgement),
    TypeSpec(DEADLINE_MISSED, hotline.DeadlineMissed),
    TypeSpec(ESCALATION, hotline.Escalation),
    TypeSpec(incidents.INCIDENT, incidents.IncidentReport, addressed=False),
    TypeSpec(incidents.CLASSIFICATION, incidents.Classification, addressed=False),
    TypeSpec(incidents.LINK, incidents.IncidentLink, addressed=False),
    TypeSpec(incidents.LINK_CONFIRMATION, incidents.LinkConfirmation, addressed=False),
    TypeSpec(incidents.COMMENT, incidents.Comment, addressed=False),
    TypeSpec(evals.EVAL_SAMPLES, evals.EvalSamples, addressed=False),
    TypeSpec(evals.EVAL_RESULT, evals.EvalResult, addressed=False),
    TypeSpec(evals.EVAL_PREREGISTRATION, evals.EvalPreregistration, addressed=False),
    TypeSpec(evals.EVAL_RECHECK, evals.EvalRecheck, addressed=False),
    TypeSpec(commitments.DOCUMENT, commitments.CommitmentDocument, addressed=False),
    TypeSpec(commitments.SIGNATURE, commitments.CommitmentSignature, addressed=False),
    TypeSpec(commitments.WITHDRAWAL, commitments.Withdrawal, addressed=False),
    TypeSpec(commitments.IMPLEMENTATION_REPORT, commitments.ImplementationReport, addressed=False),
    TypeSpec(commitments.GLOSSARY, commitments.GlossaryDefinition, addressed=False),
    TypeSpec(media.LABEL_GUIDELINE, media.LabelGuideline, addressed=False),
    TypeSpec(media.C2PA_ANCHOR, media.C2paTrustAnchor, addressed=False),
    TypeSpec(media.LABEL_CHECK, media.LabelCheck, addressed=False),
    TypeSpec(media.WATERMARK_KEY, media.WatermarkKey, addressed=False),
    TypeSpec(media.TAKEDOWN_REQUEST, media.TakedownRequest, "answer", media.TAKEDOWN_RESPONSE),
    TypeSpec(media.TAKEDOWN_RESPONSE, media.TakedownResponse),
    TypeSpec(exportctl.TRUSTED_SUPPLIER, exportctl.TrustedSupplier, addressed=False),
    TypeSpec(exportctl.RECOGNITION, exportctl.RecognitionArrangement, addressed=False),
    TypeSpec(exportctl.RECOGNITION_SIGNATURE, exportctl.RecognitionSignature, addressed=False),
    TypeSpec(exportctl.VIOLATION_NARRATIVE, exportctl.ViolationNarrative),
    TypeSpec(exportctl.RULE_PACK, RulePack, addressed=False),
    TypeSpec(report.QUARTERLY_REPORT, report.QuarterlyReport, addressed=False),
    TypeSpec(keys.KEY_ROTATION, keys.KeyRotation, addressed=False),
    TypeSpec(ENCRYPTION_KEY, EncryptionKeyBody, addressed=False),
    TypeSpec(keys.KEY_REVOCATION, keys.KeyRevocation, addressed=False),
]

CATALOGUE: dict[str, TypeSpec] = {s.record_type: s for s in _SPECS}
FOLLOW_UP = exportctl.VIOLATION_NARRATIVE
"""The record a sender owes after its own notice (see ``Agreement.follow_up_within``)."""
ANSWER_TYPES = frozenset(s.answer_type for s in _SPECS if s.answer_type)
"""Record types that answer another type (a clarification response, a takedown response)."""


def spec_for(record_type: str) -> TypeSpec | None:
    return CATALOGUE.get(record_type)


def suggest_types(record_type: str, n: int = 3) -> list[str]:
    """The known types closest to ``record_type`` (by full name, and by short name: the part
    between ``detente.dev/`` and the version)."""
    known = [*CATALOGUE, *FREE_FORM]
    short = {t.split("/")[1]: t for t in known if t.count("/") == 2}
    name = record_type.split("/")[1] if record_type.count("/") == 2 else record_type
    close = difflib.get_close_matches(record_type, known, n=n, cutoff=0.9)
    close += [short[s] for s in difflib.get_close_matches(name, list(short), n=n, cutoff=0.75)]
    close += [t for s, t in short.items() if len(name) >= 4 and s.startswith(name)]
    return list(dict.fromkeys(close))[:n]


def check_type(record_type: str) -> None:
    """Refuse a type this node does not sign: neither catalogued nor free-form (see :data:`FREE_FORM`)."""
    if record_type in CATALOGUE or record_type in FREE_FORM:
        return
    close = suggest_types(record_type)
    hint = "did you mean " + " or ".join(close) + "? " if close else ""
    raise UnknownRecordType(
        f"{record_type} is not a record type this node signs (not in the catalogue)",
        hint=hint + "list every record type and its fields with: detente catalogue",
    )


@cache
def _schema(record_type: str) -> dict[str, Any]:
    return CATALOGUE[record_type].body.model_json_schema()


def validate_record(record: Record) -> BaseModel | None:
    """Check a catalogued record's body against its schema and addressing rules; return the
    parsed body (``None`` for types outside the catalogue, which the core still carries)."""
    spec = CATALOGUE.get(record.type)
    if spec is None:
        return None
    check_sealed_frame(record)
    if record.sealed is not None:  # its body is sealed: its recipients check it when they open it
        if record.party in record.to:
            raise MalformedRecord("a record is not addressed to its own sender")
        return None
    try:
        body: BaseModel = spec.body.model_validate(record.body)
    except ValidationError as exc:
        raise MalformedRecord(
            describe_body_errors(exc, record.type, _schema(record.type)),
            hint=f"see every field of the type with: detente catalogue {record.type.split('/')[1]}",
        ) from None
    if spec.addressed and spec.response and not record.to:
        raise MalformedRecord(
            f"a {record.type} record must name its recipients in 'to'", hint="add the recipient parties' log origins"
        )
    if record.party in record.to:
        raise MalformedRecord("a record is not addressed to its own sender")
    return body


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every catalogued type's body."""
    return {t: _schema(t) for t in sorted(CATALOGUE)}
