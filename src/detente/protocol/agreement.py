"""Agreements as data: which parties, which record types, which deadlines, which escalation
ladder and quotas. Defaults come from the research note's anchors (cbm-protocols.md §7):
technical receipt within 15 minutes, clarification answered within 48 h, pre-test notice at
least 24 h ahead (1988 launch agreement), link test every 12 h, reminders at 50 %."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from detente.protocol.timing import TimeRule

__all__ = ["Agreement", "Contact", "EscalationStep", "default_agreement"]


class EscalationStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(description="resend, second-channel, clarification-request, consultation-meeting-request")
    after: timedelta = Field(description="time after the missed deadline when this step is due")


def _hours(table: dict[str, float]) -> dict[str, timedelta | None]:
    return {name: timedelta(hours=h) for name, h in table.items()}


class Contact(BaseModel):
    """A party's second channel, used by the ``second-channel`` escalation step (like the 1963
    hotline's backup radio circuit): an e-mail address that reaches its duty officers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = Field(default="", pattern=r"^$|^[^@\s]+@[^@\s]+$", description="duty officers' address")


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agreement_id: str = "detente-default"
    version: int = 1
    parties: tuple[str, ...] = ()
    receipt_within: timedelta = timedelta(minutes=15)
    response_within: dict[str, timedelta | None] = Field(
        default_factory=lambda: _hours(
            {
                "detente.dev/pre-test-notification/v1": 24,
                "detente.dev/observation-invitation/v1": 14 * 24,
                "detente.dev/clarification-request/v1": 48,
                "detente.dev/consultation-meeting-request/v1": 48,
                "detente.dev/link-test/v1": 1,
                "detente.dev/periodic-exchange/v1": 7 * 24,
                "detente.dev/hotline-message/v1": 48,
                "detente.dev/takedown-request/v1": 24,
                # 1971 Accidents Measures Agreement Art. 2 ("notify each other immediately"): answered at
                # immediate priority, as hotline_response_by_priority["immediate"]
                "detente.dev/unexplained-incident-notification/v1": 6,
            }
        ),
        description="answer window per record type; null: no answer due",
    )
    hotline_response_by_priority: dict[str, timedelta | None] = Field(
        default_factory=lambda: _hours({"flash": 1, "immediate": 6, "routine": 48}),
        description="answer window for hotline messages by priority (overrides response_within)",
    )
    lead_time: dict[str, timedelta | None] = Field(
        default_factory=lambda: _hours({"detente.dev/pre-test-notification/v1": 24}),
        description="how long before its window a notice must be sent",
    )
    follow_up_within: dict[str, timedelta | None] = Field(
        default_factory=lambda: _hours(
            {
                "detente.dev/hotline-message/v1#inadvertent-export-control-violation": 180 * 24,
                "detente.dev/eval-preregistration/v1": 30 * 24,
            }
        ),
        description="what the sender itself owes after a notice (TYPE or TYPE#TOPIC → window): the full narrative "
        "of an inadvertent export-control violation within 180 days of the hotline notice (15 CFR 764.5); the "
        "result of a pre-registered evaluation within 30 days of its pre-registration",
    )
    reminder_fraction: float = Field(default=0.5, gt=0, lt=1)
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(action="resend", after=timedelta(0)),
        EscalationStep(action="second-channel", after=timedelta(hours=1)),
        EscalationStep(action="clarification-request", after=timedelta(hours=24)),
        EscalationStep(action="consultation-meeting-request", after=timedelta(hours=48)),
    )
    withheld_per_year: int = Field(default=2, ge=0)
    codes: dict[str, str] = Field(
        default_factory=dict,
        description="pre-agreed short messages: a full code (AMBER-7) or a code word (AMBER) → meaning",
    )
    contacts: dict[str, Contact] = Field(
        default_factory=dict, description="each party's second channel, by log origin (for escalation)"
    )
    time_witnesses: tuple[str, ...] = Field(
        default=(),
        description="the witnesses whose cosignature timestamps establish when a record existed (their key "
        "names: the other party, a neutral auditor node); empty: any witness other than the record's signer",
    )
    time_quorum: int = Field(default=1, ge=1, le=16, description="how many of those witnesses must have cosigned")
    time_tolerance: timedelta = Field(
        default=timedelta(minutes=5),
        description="how far a record's claimed issued time may lie outside its witnessed interval before it is "
        "flagged time-claim-outside-witnessed-interval (clock skew)",
    )
    liveness_window: timedelta = Field(
        default=timedelta(hours=1),
        description="how long a peer may go unheard (no checkpoint served, no witness request) before it is "
        "reported silent and an alarm is logged",
    )

    def time_rule(self) -> TimeRule:
        """Which cosignatures establish time under this agreement."""
        return TimeRule(frozenset(self.time_witnesses), self.time_quorum)

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        """A deadline map in an agreement file overrides the defaults type by type (``null``
        removes one); naming one type does not silently drop the deadlines of all the others."""
        if isinstance(data, dict):
            data = dict(data)
            for name in ("response_within", "hotline_response_by_priority", "lead_time", "follow_up_within"):
                given = data.get(name)
                if isinstance(given, dict):
                    default = cls.model_fields[name].get_default(call_default_factory=True)
                    data[name] = {**default, **given}
        return data

    def response_window(self, record_type: str, body: dict[str, object]) -> timedelta | None:
        if record_type == "detente.dev/hotline-message/v1":
            window = self.hotline_response_by_priority.get(str(body.get("priority", "")))
            if window is not None:
                return window
        return self.response_within.get(record_type)

    def code_meaning(self, code: str) -> tuple[str, str] | None:
        """``(matched, meaning)`` for a message's code: the full code when the agreement defines it
        (``AMBER-7``), else its code word, the part before the first ``-`` (``AMBER``); ``None``
        when neither is in ``codes``."""
        for key in (code, code.split("-", 1)[0]):
            meaning = self.codes.get(key)
            if meaning is not None:
                return key, meaning
        return None

    def follow_up_window(self, record_type: str, body: dict[str, object]) -> timedelta | None:
        topic = body.get("topic")
        if isinstance(topic, str) and (window := self.follow_up_within.get(f"{record_type}#{topic}")) is not None:
            return window
        return self.follow_up_within.get(record_type)


def default_agreement(*parties: str) -> Agreement:
    return Agreement(parties=tuple(parties))
