"""Record bodies for synthetic media: a party's labeling guideline, its C2PA trust anchor, its
watermark detection keys, and takedown requests with their answers.

A takedown request is addressed to the party whose platforms host the content; the protocol
engine runs its clocks (receipt, then an answer within the agreement's window) and escalation.
The answer is a ``takedown-response``: acted (with the measures taken) or declined (with the
reason); a plain acknowledgement only proves receipt.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from detente.media.guidelines import Guideline
from detente.records.body import Body, UtcTime

__all__ = [
    "C2PA_ANCHOR",
    "LABEL_CHECK",
    "LABEL_GUIDELINE",
    "TAKEDOWN_REQUEST",
    "TAKEDOWN_RESPONSE",
    "WATERMARK_KEY",
    "C2paTrustAnchor",
    "LabelCheck",
    "TakedownAction",
    "TakedownCategory",
    "TakedownRequest",
    "TakedownResponse",
    "WatermarkKey",
]

LABEL_GUIDELINE = "detente.dev/label-guideline/v1"
C2PA_ANCHOR = "detente.dev/c2pa-trust-anchor/v1"
WATERMARK_KEY = "detente.dev/watermark-key/v1"
TAKEDOWN_REQUEST = "detente.dev/takedown-request/v1"
TAKEDOWN_RESPONSE = "detente.dev/takedown-response/v1"
LABEL_CHECK = "detente.dev/label-check/v1"


LabelGuideline = Guideline  # the record body is the guideline itself


class C2paTrustAnchor(Body):
    """A root certificate a party signs Content Credentials under; peers add it to their anchors."""

    certificate_pem: str = Field(min_length=64, max_length=16384)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the certificate's DER")
    subject: str = Field(default="", max_length=512)

    @model_validator(mode="after")
    def _parses(self) -> C2paTrustAnchor:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            cert = x509.load_pem_x509_certificate(self.certificate_pem.encode())
        except ValueError:
            raise ValueError("certificate_pem is not a PEM X.509 certificate") from None
        if hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest() != self.sha256:
            raise ValueError("sha256 is not the certificate's DER digest")
        return self


class LabelCheck(Body):
    """A label check an operator chose to record: what was checked and each regime's verdict."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mime: str = Field(min_length=1, max_length=128)
    c2pa_state: str | None = Field(default=None, max_length=32)
    c2pa_failure: tuple[str, ...] = Field(default=(), max_length=100)
    verdicts: dict[str, str] = Field(description="regime → pass, fail, not-judged or not-applicable")
    failed: dict[str, list[str]] = Field(default_factory=dict, description="regime → the must rules failed")
    guidelines: dict[str, str] = Field(default_factory=dict, description="regime → guideline digest")


class WatermarkKey(Body):
    """A text-watermark detection scheme (and its key) shared so the other party can detect."""

    key_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    scheme: dict[str, Any] = Field(description="the scheme, as detente.media.watermark.WatermarkScheme")
    provider: str = Field(default="", max_length=256, description="the model or service whose output carries it")

    @model_validator(mode="after")
    def _scheme(self) -> WatermarkKey:
        from detente.media.watermark import WatermarkScheme

        WatermarkScheme.model_validate(self.scheme)
        return self


class TakedownCategory(StrEnum):
    UNLABELED_SYNTHETIC = "unlabeled-synthetic"
    DEEPFAKE_IMPERSONATION = "deepfake-impersonation"
    NON_CONSENSUAL_INTIMATE = "non-consensual-intimate-imagery"
    CHILD_SEXUAL_ABUSE = "child-sexual-abuse-material"
    ELECTION_DISINFORMATION = "election-disinformation"
    FRAUD = "fraud"
    CRITICAL_INFRASTRUCTURE = "critical-infrastructure-threat"
    OTHER = "other"


class TakedownRequest(Body):
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(min_length=1, max_length=2048)
    platform: str = Field(min_length=1, max_length=256)
    category: TakedownCategory
    legal_basis: str = Field(min_length=1, max_length=2048, description="the rule under the requester's law")
    evidence: dict[str, Any] | None = Field(default=None, description="a label check report (detente label check)")


class TakedownAction(StrEnum):
    ACTED = "acted"
    DECLINED = "declined"


class TakedownResponse(Body):
    action: TakedownAction
    measures: tuple[str, ...] = Field(default=(), max_length=20, description="e.g. removed, labelled, geo-blocked")
    reason: str = Field(default="", max_length=4096)
    acted_at: UtcTime | None = None

    @model_validator(mode="after")
    def _explained(self) -> TakedownResponse:
        if self.action == TakedownAction.DECLINED and not self.reason.strip():
            raise ValueError("a declined takedown gives its reason")
        if self.action == TakedownAction.ACTED and not self.measures:
            raise ValueError("an acted-on takedown names the measures taken")
        return self
