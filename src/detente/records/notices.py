"""Bodies of notification records: tests, reports, invitations, policy notices, withheld notices.

Field names and defaults follow the research note's proposed catalogue (cbm-protocols.md §7),
anchored in the 1971 Accidents Measures Agreement, the 1988 launch-notification agreement, the
1989 exercise agreement, the Vienna Document and the 2014 US–China MOU annexes.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from detente.records.body import Body, UtcTime

__all__ = [
    "HumanControlMode",
    "ObservationInvitation",
    "PolicyDevelopmentNotification",
    "PostTestReport",
    "PreTestNotification",
    "TestCancel",
    "TestUpdate",
    "UnexplainedIncidentNotification",
    "WithheldNotification",
]


class HumanControlMode(StrEnum):
    """How a human controls the system under test. What each mode means is each party's own
    glossary entry for it (``detente.commitments.model.CONTROL_MODE_TERMS``), not a text one party
    never signed: the 2023 Political Declaration on Responsible Military Use of AI and Autonomy
    (which speaks of "appropriate levels of human judgment") and the 2024 REAIM Blueprint for
    Action were not endorsed by China."""

    IN_THE_LOOP = "in-the-loop"  # a human approves each consequential action
    ON_THE_LOOP = "on-the-loop"  # a human supervises and can intervene
    OUT_OF_THE_LOOP = "out-of-the-loop"
    NOT_APPLICABLE = "not-applicable"  # e.g. a model evaluation with no effects outside the lab


class PreTestNotification(Body):
    test_id: str = Field(min_length=1, max_length=128)
    category: str = Field(
        min_length=1, max_length=128, description="e.g. frontier-model-evaluation, ai-enabled-weapon-test"
    )
    test_class: str = Field(default="single-test", description="single-test, exercise, major-activity")
    window_start: UtcTime = Field(description="UTC start of the test window")
    window_end: UtcTime = Field(description="UTC end of the test window")
    location: str = Field(min_length=1, max_length=512, description="facility, region, cluster ID, or coordinates")
    affected_area: str = Field(default="", max_length=1024, description="networks, airspace, sea areas affected")
    crosses_border: bool = False
    live_effects: bool = False
    compute_scale: str = Field(default="", max_length=128, description="e.g. '3e25 FLOP' or a cluster size")
    human_control_mode: HumanControlMode
    contact: str = Field(min_length=1, max_length=256, description="point of contact for the test")

    @model_validator(mode="after")
    def _window(self) -> PreTestNotification:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class TestUpdate(Body):
    test_id: str = Field(min_length=1, max_length=128)
    window_start: UtcTime | None = None
    window_end: UtcTime | None = None
    change: str = Field(min_length=1, max_length=2048)


class TestCancel(Body):
    test_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=2048)


class PostTestReport(Body):
    test_id: str = Field(min_length=1, max_length=128)
    outcome: str = Field(min_length=1, max_length=4096)
    anomalies: str = Field(default="", max_length=4096)
    effects_within_declared_area: bool = True
    artefact_hashes: list[str] = Field(default_factory=list, description="sha256 hex of data artefacts")


class ObservationInvitation(Body):
    event: str = Field(min_length=1, max_length=512)
    start: UtcTime
    end: UtcTime
    place: str = Field(min_length=1, max_length=512)
    observers: int = Field(ge=1, le=100)
    conditions: str = Field(default="", max_length=2048)


class PolicyDevelopmentNotification(Body):
    document_title: str = Field(min_length=1, max_length=512)
    issuing_body: str = Field(min_length=1, max_length=256)
    publication_date: UtcTime
    summary: str = Field(default="", max_length=4096)
    link_or_hash: str = Field(default="", max_length=512)


class WithheldNotification(Body):
    """A notification the sender chose to withhold; it counts against the agreed quota."""

    category: str = Field(min_length=1, max_length=128)
    reason_class: str = Field(min_length=1, max_length=128)
    occurred: UtcTime
    over_quota: bool = Field(
        default=False,
        description="the sender knows this exceeds the agreed yearly quota and records it anyway (flagged to all)",
    )


class UnexplainedIncidentNotification(Body):
    """An unexplained incident involving an AI-enabled system (after the 1971 Accidents Measures).

    After the 1971 Accidents Measures Agreement (Art. 2: the parties "notify each other immediately in the
    event of an accidental, unauthorized or any other unexplained incident involving a possible
    detonation of a nuclear weapon"): the system, the place, the time, whether it was deactivated
    and what was done. An acknowledgement is due within the agreement's window for this type
    (immediate priority by default)."""

    system: str = Field(min_length=1, max_length=512, description="the AI-enabled system involved: name, type, unit")
    place: str = Field(min_length=1, max_length=512, description="where: facility, region, or coordinates")
    occurred_at: UtcTime = Field(description="when it happened (UTC), as far as known")
    deactivated: bool | None = Field(description="whether the system was deactivated; null: not known yet")
    actions_taken: str = Field(min_length=1, max_length=4096, description="what was done about it")
    nature: str = Field(default="", max_length=4096, description="what happened, as far as known")
    cross_border_effects: bool = Field(default=False, description="whether effects may reach the other party")
    contact: str = Field(default="", max_length=256, description="point of contact for questions")
