"""The sealed part of a record (TLP:AMBER, TLP:AMBER+STRICT, TLP:RED): what every reader of the
log sees of a confidential record (``docs/sealed.md``). The content itself is readable only by
the recipients (:mod:`detente.crypto.sealing`, :mod:`detente.records.sealing`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Sealed", "SealedTo"]

_B64 = r"^[A-Za-z0-9+/]*={0,2}$"


class SealedTo(BaseModel):
    """The content key, encrypted to one recipient's published encryption key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: str = Field(min_length=1, max_length=256, description="the recipient's log origin")
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$", description="the ID of the recipient's encryption key")
    wrapped: str = Field(pattern=_B64, min_length=108, max_length=108, description="HPKE enc ‖ ciphertext, base64")


class Sealed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str = Field(pattern=r"^hpke-base-x25519-sha256-chacha20poly1305$")
    commitment: str = Field(pattern=r"^[0-9a-f]{64}$", description="salted SHA-256 of the content (disclosure)")
    nonce: str = Field(pattern=_B64, min_length=16, max_length=16, description="ChaCha20-Poly1305 nonce, base64")
    ciphertext: str = Field(pattern=_B64, max_length=1_500_000, description="the content, encrypted, base64")
    to: tuple[SealedTo, ...] = Field(min_length=1, max_length=64)
