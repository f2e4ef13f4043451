"""Incident records: staged reports, classifications, cross-party links and their confirmations,
comments. Pure models (pydantic, so each has a JSON Schema); no I/O.

An incident is named by its *key*: the log origin of the party that reports it and that party's
permanent incident id. Only the originator writes reports for its key (its log holds only its own
records), so nobody else can change its incident; others attach classifications, comments and
links, each a record in their own log. Nothing is merged away or deleted: a duplicate is a link.

Fields follow the OECD common reporting framework (2025; its seven mandatory criteria are
required here: title, description, how the AI system is related, submitter, supporting material,
severity, harm type) and the OECD definitions of AI incident, serious AI incident, AI disaster,
AI hazard and serious AI hazard (OECD AI Papers, May 2024). See ``docs/incidents.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from detente.incidents.regimes import regime_ids
from detente.records.body import Body, UtcTime
from detente.records.text import BilingualText

__all__ = [
    "CLASSIFICATION",
    "COMMENT",
    "INCIDENT",
    "LINK",
    "LINK_CONFIRMATION",
    "AISystem",
    "Category",
    "Classification",
    "Comment",
    "HarmType",
    "IncidentKey",
    "IncidentLink",
    "IncidentReport",
    "LinkConfirmation",
    "LinkRelation",
    "ReporterType",
    "Severity",
    "SourceRef",
    "Stage",
]

INCIDENT = "detente.dev/incident-report/v1"
CLASSIFICATION = "detente.dev/incident-classification/v1"
LINK = "detente.dev/incident-link/v1"
LINK_CONFIRMATION = "detente.dev/incident-link-confirmation/v1"
COMMENT = "detente.dev/incident-comment/v1"


class Stage(StrEnum):
    """EU AI Act Art. 73(5) and China's 2025 measures Art. 7–8: an initial (possibly incomplete)
    report, updates, then a final report."""

    INITIAL = "initial"
    UPDATE = "update"
    FINAL = "final"


class Category(StrEnum):
    """OECD (2024) definitions."""

    AI_INCIDENT = "ai-incident"
    SERIOUS_AI_INCIDENT = "serious-ai-incident"
    AI_DISASTER = "ai-disaster"
    AI_HAZARD = "ai-hazard"
    SERIOUS_AI_HAZARD = "serious-ai-hazard"


class HarmType(StrEnum):
    """The OECD harm categories (a)–(e): health; critical infrastructure; human rights and
    obligations protecting fundamental, labour and IP rights; property, communities or the
    environment; the functioning of a community or society (serious hazards)."""

    HEALTH = "health"
    CRITICAL_INFRASTRUCTURE = "critical-infrastructure"
    HUMAN_RIGHTS = "human-rights"
    PROPERTY_COMMUNITIES_ENVIRONMENT = "property-communities-environment"
    SOCIETY = "society"


class Severity(StrEnum):
    """Four grades, in the order of China's 2025 grading guide (一般, 较大, 重大, 特别重大)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class ReporterType(StrEnum):
    """Who reports, for China's clocks (Art. 4): a critical-information-infrastructure operator
    (1 h), a central or state organ (2 h), any other network operator (4 h)."""

    CII_OPERATOR = "cii-operator"
    STATE_ORGAN = "state-organ"
    OTHER_OPERATOR = "other-operator"


class IncidentKey(Body):
    origin: str = Field(min_length=1, max_length=256, description="log origin of the reporting party")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$", description="the reporter's permanent id")

    def __str__(self) -> str:
        return f"{self.origin}#{self.id}"


class AISystem(Body):
    name: str = Field(min_length=1, max_length=256)
    version: str = Field(default="", max_length=128)


class SourceRef(Body):
    """Where an imported incident came from (AIID, AVID, ATLAS, ...)."""

    database: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=128)
    url: str = Field(default="", max_length=1024)


class IncidentReport(Body):
    """One stage of a party's report of an incident or hazard."""

    incident_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
    stage: Stage = Stage.INITIAL
    category: Category
    title: BilingualText
    description: BilingualText
    ai_relation: str = Field(min_length=1, max_length=4096, description="how the AI system is related (OECD 3)")
    submitter: str = Field(min_length=1, max_length=256, description="OECD 4")
    supporting_materials: list[str] = Field(min_length=1, max_length=200, description="URLs or hashes (OECD 7)")
    severity: Severity
    harm_types: list[HarmType] = Field(min_length=1, max_length=5)
    occurred_at: UtcTime | None = Field(default=None, description="first known occurrence (OECD 5)")
    aware_at: UtcTime | None = Field(default=None, description="when the reporter became aware")
    reported_at: UtcTime | None = Field(default=None, description="when first reported; default: record time")
    countries: list[str] = Field(default_factory=list, max_length=250, description="ISO 3166-1 alpha-2")
    ai_systems: list[AISystem] = Field(default_factory=list, max_length=50)
    developers: list[str] = Field(default_factory=list, max_length=100)
    deployers: list[str] = Field(default_factory=list, max_length=100)
    harmed_parties: list[str] = Field(default_factory=list, max_length=100)
    sectors: list[str] = Field(default_factory=list, max_length=50)
    critical_infrastructure: bool = False
    deaths: int = Field(default=0, ge=0)
    injuries: int = Field(default=0, ge=0)
    imminent_risk: bool = Field(
        default=False,
        description="an imminent risk of death or serious physical injury (SB 53 §22757.13, RAISE GBL §1422): "
        "declared, not inferred from casualties already counted",
    )
    widespread_infringement: bool = Field(default=False, description="a widespread infringement (AI Act Art. 73(3))")
    serious_cybersecurity_breach: bool = Field(
        default=False, description="a serious cybersecurity breach (GPAI Code of Practice, Art. 55(1)(c))"
    )
    significant_incident: bool = Field(default=False, description="a significant incident (NIS2 Art. 23(3))")
    covered_cyber_incident: bool = Field(default=False, description="a covered cyber incident (CIRCIA, 6 U.S.C. §681b)")
    ransom_paid_at: UtcTime | None = Field(default=None, description="when a ransom was paid (CIRCIA 24-hour clock)")
    jurisdictions: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="reporting regimes the reporter is under: EU, EU-GPAI, EU-NIS2, CN, US-CA, US-NY, US-CIRCIA "
        "(detente.incidents.regimes)",
    )
    reporter_type: ReporterType | None = None
    handling_ended_at: UtcTime | None = Field(default=None, description="for China's 30-day final report")
    actions_taken: str = Field(default="", max_length=8192)
    source: SourceRef | None = None
    extra: dict[str, Any] = Field(default_factory=dict, description="other OECD criteria, by name")

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 2 or not code.isalpha() or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code such as 'US' or 'CN'")
        return value

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: list[str]) -> list[str]:
        known = regime_ids()
        for item in value:
            if item not in known:
                raise ValueError(f"unknown jurisdiction {item!r}; known: {', '.join(sorted(known))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> IncidentReport:
        if self.occurred_at and self.aware_at and self.aware_at < self.occurred_at:
            raise ValueError("aware_at is before occurred_at")
        if self.category in (Category.AI_HAZARD, Category.SERIOUS_AI_HAZARD) and (self.deaths or self.injuries):
            raise ValueError("a hazard has not caused deaths or injuries; report it as an incident")
        return self

    def key(self, origin: str) -> IncidentKey:
        return IncidentKey(origin=origin, id=self.incident_id)


class Classification(Body):
    """One party's classification of an incident under a namespaced, versioned taxonomy."""

    incident: IncidentKey
    namespace: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$", description="e.g. CSETv1, MIT, OECD")
    taxonomy_version: str = Field(min_length=1, max_length=32)
    attributes: dict[str, Any] = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=4096)


class LinkRelation(StrEnum):
    SAME_AS = "same-as"
    DUPLICATE_OF = "duplicate-of"
    RELATED_TO = "related-to"


class IncidentLink(Body):
    """``source`` is ``relation`` ``target``, as asserted by the record's party (which owns the link)."""

    source: IncidentKey
    target: IncidentKey
    relation: LinkRelation
    note: str = Field(default="", max_length=4096)

    @model_validator(mode="after")
    def _distinct(self) -> IncidentLink:
        if self.source == self.target:
            raise ValueError("an incident is not linked to itself")
        return self


class LinkConfirmation(Body):
    """The other party's answer to a link; it references the link record's exact leaf."""

    verdict: str = Field(pattern="^(confirm|dispute)$")
    note: str = Field(default="", max_length=4096)


class Comment(Body):
    incident: IncidentKey
    comment: BilingualText
