"""Commitment records: documents (joint statements, human-control principles, moratoria,
agreements, glossary entries), their signatures, withdrawals and implementation reports. Pure.

A document version is identified by the SHA-256 of its body's canonical JSON (RFC 8785). A party
signs a version by naming that digest; a version is *adopted* once every party it names has
signed that exact digest. A new version is a new record with a higher ``version``; a
withdrawal is a record too. Nothing is edited or deleted.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from detente.commitments.vocabulary import TERM_ID
from detente.crypto.canonical import canonical_json
from detente.records.body import Body, UtcTime
from detente.records.notices import HumanControlMode
from detente.records.text import BilingualText, LangTag, VisibleText

__all__ = [
    "CONTROL_MODE_TERMS",
    "DOCUMENT",
    "GLOSSARY",
    "IMPLEMENTATION_REPORT",
    "SIGNATURE",
    "WITHDRAWAL",
    "Clause",
    "CommitmentDocument",
    "CommitmentSignature",
    "DocumentKind",
    "GlossaryDefinition",
    "ImplementationReport",
    "Withdrawal",
    "control_rank",
    "document_digest",
]

DOCUMENT = "detente.dev/commitment-document/v1"
SIGNATURE = "detente.dev/commitment-signature/v1"
WITHDRAWAL = "detente.dev/commitment-withdrawal/v1"
IMPLEMENTATION_REPORT = "detente.dev/implementation-report/v1"
GLOSSARY = "detente.dev/glossary-definition/v1"


class DocumentKind(StrEnum):
    STATEMENT = "statement"
    PRINCIPLES = "principles"
    MORATORIUM = "moratorium"
    AGREEMENT = "agreement"
    GLOSSARY = "glossary"


TermId = Annotated[str, StringConstraints(pattern=TERM_ID)]


class Clause(Body):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    text: BilingualText
    categories: list[TermId] = Field(
        default_factory=list,
        max_length=50,
        description="moratoria: the categories this clause halts, as glossary term ids (a controlled vocabulary, "
        "named in both languages by the glossary's entries)",
    )
    min_human_control: HumanControlMode | None = Field(
        default=None, description="principles: the weakest human-control mode a notice in scope may declare"
    )
    scope: list[TermId] = Field(
        default_factory=list,
        max_length=50,
        description="principles: the notice categories (glossary term ids) this clause covers, e.g. "
        "nuclear-weapons-employment-decision; only notices in scope are checked against it",
    )
    term: dict[str, str] = Field(default_factory=dict, description="glossary: the term in each language")

    @model_validator(mode="after")
    def _scoped(self) -> Clause:
        if self.min_human_control is not None and not self.scope:
            raise ValueError(
                f"clause {self.id}: a human-control principle names the notice categories it covers in 'scope' "
                "(glossary term ids, e.g. nuclear-weapons-employment-decision)"
            )
        return self


class CommitmentDocument(Body):
    document_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    version: int = Field(ge=1)
    kind: DocumentKind
    title: BilingualText
    parties: list[str] = Field(
        min_length=2, max_length=20, description="log origins of the parties it is open to (all must sign, by default)"
    )
    quorum: int | None = Field(
        default=None,
        ge=1,
        description="adopted once this many of the parties have signed (k of N); it then binds the parties that "
        "signed, each from its signature; default: every party must sign",
    )
    clauses: list[Clause] = Field(min_length=1, max_length=500)
    effective_from: UtcTime | None = Field(default=None, description="default: when the last party signs")
    agreement: dict[str, Any] | None = Field(
        default=None, description="agreements: the protocol rules (detente.protocol.agreement.Agreement) it sets"
    )
    annual_report: bool = Field(default=False, description="each party reports on implementation every year")

    @model_validator(mode="after")
    def _consistent(self) -> CommitmentDocument:
        if len(set(self.parties)) != len(self.parties):
            raise ValueError("a party is named twice")
        if self.quorum is not None and self.quorum > len(self.parties):
            raise ValueError(f"a quorum of {self.quorum} cannot be met by {len(self.parties)} parties")
        ids = [c.id for c in self.clauses]
        if len(set(ids)) != len(ids):
            raise ValueError("clause ids must be unique")
        if (self.kind == DocumentKind.AGREEMENT) != (self.agreement is not None):
            raise ValueError("an agreement document, and only one, carries 'agreement'")
        if self.kind == DocumentKind.MORATORIUM and not any(c.categories for c in self.clauses):
            raise ValueError("a moratorium names the categories it halts in at least one clause")
        if self.kind == DocumentKind.PRINCIPLES and any(c.categories for c in self.clauses):
            raise ValueError("categories belong in a moratorium")
        if self.kind != DocumentKind.PRINCIPLES and any(c.scope or c.min_human_control for c in self.clauses):
            raise ValueError("a human-control floor and its scope belong in principles")
        return self


def document_digest(document: CommitmentDocument) -> str:
    return hashlib.sha256(canonical_json(document.model_dump(mode="json", exclude_none=True))).hexdigest()


class CommitmentSignature(Body):
    document_id: str
    version: int = Field(ge=1)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the exact version signed")


class Withdrawal(Body):
    document_id: str
    version: int = Field(ge=1)
    effective: UtcTime
    reason: BilingualText


class ImplementationReport(Body):
    document_id: str
    year: int = Field(ge=2000, le=2200)
    report: BilingualText


class GlossaryDefinition(Body):
    """One party's own definition of a term, in its own language (translations optional)."""

    term_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    term: dict[LangTag, VisibleText] = Field(
        min_length=1, description="the term in each language, e.g. {en: ..., zh: ...}"
    )
    definition: BilingualText


CONTROL_MODE_TERMS: dict[HumanControlMode, str] = {
    HumanControlMode.IN_THE_LOOP: "human-in-the-loop",
    HumanControlMode.ON_THE_LOOP: "human-on-the-loop",
    HumanControlMode.OUT_OF_THE_LOOP: "human-out-of-the-loop",
}
"""The glossary term id whose entries say what each control mode means: each party's own
definition (``GlossaryDefinition``), not a text one of the parties never signed."""

_CONTROL = {
    HumanControlMode.IN_THE_LOOP: 2,
    HumanControlMode.ON_THE_LOOP: 1,
    HumanControlMode.OUT_OF_THE_LOOP: 0,
}


def control_rank(mode: HumanControlMode) -> int | None:
    """In the loop (2) > on the loop (1) > out of the loop (0); not applicable: ``None``."""
    return _CONTROL.get(mode)
