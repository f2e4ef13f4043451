"""Agreements as data: which parties, which record types, which deadlines, which escalation
ladder and quotas. Defaults come from the research note's anchors (cbm-protocols.md §7):
technical receipt within 15 minutes, clarification answered within 48 h, pre-test notice at
least 24 h ahead (1988 launch agreement), link test every 12 h, reminders at 50 %."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Agreement", "EscalationStep", "default_agreement"]


class EscalationStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(description="resend, second-channel, clarification-request, consultation-meeting-request")
    after: timedelta = Field(description="time after the missed deadline when this step is due")


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agreement_id: str = "detente-default"
    version: int = 1
    parties: tuple[str, ...] = ()
    receipt_within: timedelta = timedelta(minutes=15)
    response_within: dict[str, timedelta] = Field(
        default_factory=lambda: {
            "detente.dev/pre-test-notification/v1": timedelta(hours=24),
            "detente.dev/observation-invitation/v1": timedelta(days=14),
            "detente.dev/clarification-request/v1": timedelta(hours=48),
            "detente.dev/consultation-meeting-request/v1": timedelta(hours=48),
            "detente.dev/link-test/v1": timedelta(hours=1),
            "detente.dev/periodic-exchange/v1": timedelta(days=7),
            "detente.dev/hotline-message/v1": timedelta(hours=48),
        }
    )
    hotline_response_by_priority: dict[str, timedelta] = Field(
        default_factory=lambda: {
            "flash": timedelta(hours=1),
            "immediate": timedelta(hours=6),
            "routine": timedelta(hours=48),
        }
    )
    lead_time: dict[str, timedelta] = Field(
        default_factory=lambda: {
            "detente.dev/pre-test-notification/v1": timedelta(hours=24),
        }
    )
    reminder_fraction: float = Field(default=0.5, gt=0, lt=1)
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(action="resend", after=timedelta(0)),
        EscalationStep(action="second-channel", after=timedelta(hours=1)),
        EscalationStep(action="clarification-request", after=timedelta(hours=24)),
        EscalationStep(action="consultation-meeting-request", after=timedelta(hours=48)),
    )
    withheld_per_year: int = Field(default=2, ge=0)
    codes: dict[str, str] = Field(default_factory=dict, description="pre-agreed short messages: code word → meaning")

    def response_window(self, record_type: str, body: dict[str, object]) -> timedelta | None:
        if record_type == "detente.dev/hotline-message/v1":
            window = self.hotline_response_by_priority.get(str(body.get("priority", "")))
            if window is not None:
                return window
        return self.response_within.get(record_type)


def default_agreement(*parties: str) -> Agreement:
    return Agreement(parties=tuple(parties))
