"""Record bodies for export controls: trusted-supplier lists, mutual-recognition arrangements
co-signed by the parties, and the full narrative account of an inadvertent violation.

- A party lists (or delists) a supplier with a ``trusted-supplier`` record; the newest record per
  (party, supplier id) is the supplier's status.
- A ``supplier-recognition`` record proposes an arrangement: the parties, whose lists each party
  recognizes, the scope and the dates. Its proposer signs it by logging it; every other party
  co-signs the exact digest with a ``supplier-recognition-signature`` record. The arrangement is
  in force from its effective date once every party has signed.
- An inadvertent violation is disclosed first through the hotline (a hotline message with topic
  ``inadvertent-export-control-violation``), as soon as possible; the disclosing party then owes a
  ``violation-narrative`` referencing that message within 180 days (the US voluntary
  self-disclosure rule, 15 CFR 764.5(c)(2)(iv): a full narrative account within 180 days of the
  initial notification). The protocol engine runs that clock.
"""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import Field, model_validator

from detente.crypto.canonical import canonical_json
from detente.records.body import Body, UtcTime
from detente.records.text import BilingualText

__all__ = [
    "RECOGNITION",
    "RECOGNITION_SIGNATURE",
    "RULE_PACK",
    "TRUSTED_SUPPLIER",
    "VIOLATION_NARRATIVE",
    "RecognitionArrangement",
    "RecognitionSignature",
    "TrustedSupplier",
    "ViolationNarrative",
    "arrangement_digest",
]

TRUSTED_SUPPLIER = "detente.dev/trusted-supplier/v1"
RECOGNITION = "detente.dev/supplier-recognition/v1"
RECOGNITION_SIGNATURE = "detente.dev/supplier-recognition-signature/v1"
VIOLATION_NARRATIVE = "detente.dev/violation-narrative/v1"
RULE_PACK = "detente.dev/export-rule-pack/v1"
"""A party's own rule pack (the body is the pack itself, :class:`detente.exportctl.rules.RulePack`)."""


class TrustedSupplier(Body):
    supplier_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str = Field(min_length=1, max_length=256)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    items: tuple[str, ...] = Field(default=(), max_length=100, description="ECCNs, catalogue entries or item names")
    status: str = Field(default="listed", pattern="^(listed|delisted)$")
    effective: date
    basis: str = Field(default="", max_length=2048, description="why the party trusts (or no longer trusts) it")


class RecognitionArrangement(Body):
    arrangement_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    version: int = Field(default=1, ge=1)
    parties: tuple[str, ...] = Field(min_length=2, max_length=8, description="log origins")
    recognizes: dict[str, tuple[str, ...]] = Field(
        description="party → the parties whose trusted-supplier lists it recognizes"
    )
    scope: BilingualText
    items: tuple[str, ...] = Field(default=(), max_length=100, description="ECCNs or item classes covered; empty: all")
    effective: date
    expires: date | None = None
    quorum: int | None = Field(
        default=None,
        ge=2,
        description="in force once this many of the parties have signed (k of N); empty: once all have. Only "
        "the parties that signed recognize anyone under it",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RecognitionArrangement:
        if len(set(self.parties)) != len(self.parties):
            raise ValueError("parties are listed twice")
        if self.quorum is not None and self.quorum > len(self.parties):
            raise ValueError(f"quorum {self.quorum} is more than the {len(self.parties)} parties")
        for party, others in self.recognizes.items():
            if party not in self.parties or any(o not in self.parties or o == party for o in others):
                raise ValueError(f"recognizes[{party!r}] must name other parties of the arrangement")
        if self.expires is not None and self.expires <= self.effective:
            raise ValueError("expires must be after effective")
        return self


def arrangement_digest(arrangement: RecognitionArrangement) -> str:
    """SHA-256 (hex) of the arrangement's canonical JSON: what each party co-signs. An arrangement
    without a quorum is digested without the field, as before it existed (signatures stay valid)."""
    dumped = arrangement.model_dump(mode="json", exclude={"quorum"} if arrangement.quorum is None else None)
    return hashlib.sha256(canonical_json(dumped)).hexdigest()


class RecognitionSignature(Body):
    arrangement_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    version: int = Field(ge=1)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class ViolationNarrative(Body):
    discovered_at: UtcTime
    items: tuple[str, ...] = Field(min_length=1, max_length=100, description="ECCNs or items involved")
    parties_involved: tuple[str, ...] = Field(default=(), max_length=50)
    account: BilingualText = Field(description="what happened, how it was found, who was involved")
    corrective_actions: BilingualText
    classification: dict[str, object] | None = Field(
        default=None, description="the item's classification at the time (detente exportctl classify --json)"
    )
