"""Bodies of hotline records: messages, clarifications, consultations, link tests, quarterly
exchanges, and the protocol's own records (receipts, acknowledgements, missed deadlines,
escalations)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from detente.records.body import Body, UtcTime
from detente.records.text import VisibleText

__all__ = [
    "AGREED_PRIORITY",
    "Acknowledgement",
    "ClarificationRequest",
    "ClarificationResponse",
    "ConsultationMeetingRequest",
    "DeadlineMissed",
    "Escalation",
    "HotlineMessage",
    "HotlineTopic",
    "LinkTest",
    "PeriodicExchange",
    "Priority",
    "Receipt",
]


class Priority(StrEnum):
    FLASH = "flash"
    IMMEDIATE = "immediate"
    ROUTINE = "routine"


AGREED_PRIORITY = "priority"
"""A level between IMMEDIATE and ROUTINE (the PRIORITY of military precedence), for agreements that
name one: a message at this level is answered within the agreement's
``hotline_response_by_priority["priority"]``. The schema accepts it under any agreement; one that
names no window for it judges it on the hotline message's own window (``response_within``, 48 h
by default: as routine), so naming the level buys nothing unless the parties agreed its window."""


class HotlineTopic(StrEnum):
    URGENT_CONCERN = "urgent-concern"
    CRITICAL_INFRASTRUCTURE_EARLY_WARNING = "critical-infrastructure-early-warning"
    INADVERTENT_EXPORT_CONTROL_VIOLATION = "inadvertent-export-control-violation"
    CRISIS = "crisis"


class HotlineMessage(Body):
    # priority: flash, immediate, priority (AGREED_PRIORITY: answered within the agreement's window
    # for it where it names one, else as routine) or routine
    priority: Literal["flash", "immediate", "priority", "routine"]
    topic: HotlineTopic
    code: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3,12}-[0-9]{1,4}$",
        description="pre-agreed short message: code word and number (1976 protocol)",
        examples=["AMBER-7"],
    )
    sector: str = Field(default="", max_length=128, description="for critical-infrastructure early warnings")


class ClarificationRequest(Body):
    question: VisibleText = Field(min_length=1, max_length=4096)
    concern_basis: str = Field(default="", max_length=4096)
    urgent: bool = False


class ClarificationResponse(Body):
    answer: VisibleText = Field(min_length=1, max_length=8192)


class ConsultationMeetingRequest(Body):
    purpose: str = Field(min_length=1, max_length=2048)
    proposed_start: UtcTime | None = None


class LinkTest(Body):
    test_text: str = Field(default="The quick brown fox jumped over the lazy dog's back 1234567890", max_length=512)


class PeriodicExchange(Body):
    period: str = Field(pattern=r"^[0-9]{4}Q[1-4]$", description="e.g. 2026Q4")
    valid_as_of: UtcTime
    tests: list[dict[str, str]] = Field(default_factory=list, max_length=1000)
    incidents_summary: str = Field(default="", max_length=8192)


class Receipt(Body):
    """Automatic proof of delivery, by the receiving node (not a human answer); ``received_at`` is
    when that node first held the record (its own observation, noted when it mirrored it)."""

    received_at: UtcTime


class Acknowledgement(Body):
    """A human's acknowledgement: read and understood (not agreement)."""

    note: str = Field(default="", max_length=2048)


class DeadlineMissed(Body):
    deadline: str = Field(pattern="^(receipt|response|follow-up|lead-time|link-test)$")
    party: str = Field(min_length=1, description="the party that missed it")
    due: UtcTime


class Escalation(Body):
    step: int = Field(ge=1, le=10)
    action: str = Field(min_length=1, max_length=128)
    outcome: str = Field(default="", max_length=2048, description="what the sending node did, and how it went")
