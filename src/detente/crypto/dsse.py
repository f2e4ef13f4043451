"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).

``SIGNATURE = Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY))`` with
``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``.

Envelopes are written as canonical JSON with standard base64; both the standard and the URL-safe
alphabets are accepted when reading, as the spec requires. Unknown fields are ignored. ``keyid``
is an unauthenticated hint and is never used for a security decision: every trusted verifier is
tried against every signature, and a threshold counts *distinct* verifiers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from detente._internal.encoding import b64decode, b64encode
from detente.crypto.canonical import canonical_json, parse_json
from detente.crypto.ed25519_verify import Ed25519Verify, ed25519_verifier
from detente.crypto.keys import SIG_ED25519, Ed25519Identity, VerifierKey
from detente.errors import MalformedEnvelope, MalformedJSON, MalformedKey, SignatureError, UnknownKey

__all__ = [
    "DSSESigner",
    "DSSEVerifier",
    "ECDSAP256Verifier",
    "Ed25519DSSESigner",
    "Ed25519DSSEVerifier",
    "Envelope",
    "EnvelopeSignature",
    "VerifiedPayload",
    "pae",
    "sign_envelope",
    "verify_envelope",
]


def pae(payload_type: str, body: bytes) -> bytes:
    """Pre-Authentication Encoding, exactly as DSSE v1 specifies."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


@dataclass(frozen=True)
class EnvelopeSignature:
    sig: bytes
    keyid: str | None = None


@dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str
    signatures: tuple[EnvelopeSignature, ...]

    def to_dict(self) -> dict[str, Any]:
        sigs: list[dict[str, str]] = []
        for s in self.signatures:
            item = {"sig": b64encode(s.sig)}
            if s.keyid:
                item["keyid"] = s.keyid
            sigs.append(item)
        return {"payload": b64encode(self.payload), "payloadType": self.payload_type, "signatures": sigs}

    def to_json(self) -> bytes:
        """Canonical JSON (RFC 8785) of the envelope: the exact bytes detente logs."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: Any) -> Envelope:
        if not isinstance(obj, dict):
            raise MalformedEnvelope("DSSE envelope is not a JSON object")
        payload, ptype, sigs = obj.get("payload"), obj.get("payloadType"), obj.get("signatures")
        if not isinstance(payload, str):
            raise MalformedEnvelope("DSSE envelope has no string 'payload'")
        if not isinstance(ptype, str):
            raise MalformedEnvelope("DSSE envelope has no string 'payloadType'")
        if not isinstance(sigs, list):
            raise MalformedEnvelope("DSSE envelope has no 'signatures' list")
        parsed: list[EnvelopeSignature] = []
        for item in sigs:
            if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
                raise MalformedEnvelope("DSSE signature entry has no string 'sig'")
            keyid = item.get("keyid")
            if keyid is not None and not isinstance(keyid, str):
                raise MalformedEnvelope("DSSE signature 'keyid' is not a string")
            sig = b64decode(item["sig"], error=MalformedEnvelope, what="DSSE sig", urlsafe_ok=True)
            parsed.append(EnvelopeSignature(sig, keyid or None))
        body = b64decode(payload, error=MalformedEnvelope, what="DSSE payload", urlsafe_ok=True)
        return cls(body, ptype, tuple(parsed))

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        try:
            obj = parse_json(data, what="DSSE envelope")
        except MalformedJSON as exc:
            raise MalformedEnvelope(exc.message) from None
        return cls.from_dict(obj)


class DSSESigner(Protocol):
    @property
    def keyid(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


class DSSEVerifier(Protocol):
    @property
    def keyid(self) -> str: ...

    def verify(self, message: bytes, signature: bytes) -> None: ...


@dataclass(frozen=True)
class Ed25519DSSESigner:
    identity: Ed25519Identity

    @property
    def keyid(self) -> str:
        vk = self.identity.vkey()
        return f"{vk.name}+{vk.key_id:08x}"

    def sign(self, message: bytes) -> bytes:
        return self.identity.sign(message)


@dataclass(frozen=True)
class Ed25519DSSEVerifier:
    """Verifies DSSE signatures made by the Ed25519 party key named by a (type 0x01) vkey."""

    vkey: VerifierKey

    def __post_init__(self) -> None:
        if self.vkey.sig_type != SIG_ED25519:
            raise MalformedKey(f"{self.vkey.name}: DSSE needs an Ed25519 (type 0x01) key")
        try:  # parse the key once, not per signature
            object.__setattr__(self, "_verify", ed25519_verifier(self.vkey.key))
        except ValueError:
            raise MalformedKey(f"{self.vkey.name}: not an Ed25519 public key") from None

    _verify: Ed25519Verify = field(init=False, repr=False, compare=False)

    @property
    def keyid(self) -> str:
        return f"{self.vkey.name}+{self.vkey.key_id:08x}"

    def verify(self, message: bytes, signature: bytes) -> None:
        if not self._verify(signature, message):
            raise SignatureError(f"DSSE signature by {self.keyid} does not verify")


@dataclass(frozen=True)
class ECDSAP256Verifier:
    """ECDSA P-256 / SHA-256; accepts DER or raw ``r‖s`` signatures (the DSSE spec vector)."""

    key: ec.EllipticCurvePublicKey

    @property
    def keyid(self) -> str:
        """SHA-256 of the DER public key: the same key always has the same id."""
        der = self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "sha256:" + hashlib.sha256(der).hexdigest()

    def verify(self, message: bytes, signature: bytes) -> None:
        sig = signature
        if len(sig) == 64:
            sig = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            self.key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise SignatureError("DSSE ECDSA signature does not verify") from None


@dataclass(frozen=True)
class VerifiedPayload:
    payload_type: str
    payload: bytes
    keyids: tuple[str, ...]


def sign_envelope(payload_type: str, body: bytes, signers: Sequence[DSSESigner]) -> Envelope:
    if not signers:
        raise MalformedEnvelope("a DSSE envelope needs at least one signer")
    message = pae(payload_type, body)
    return Envelope(body, payload_type, tuple(EnvelopeSignature(s.sign(message), s.keyid) for s in signers))


def verify_envelope(
    envelope: Envelope,
    verifiers: Sequence[DSSEVerifier],
    *,
    threshold: int = 1,
    payload_types: Sequence[str] | None = None,
) -> VerifiedPayload:
    """Verify ``envelope``; return its payload if at least ``threshold`` distinct trusted keys signed.

    Raises :class:`UnknownKey` when too few trusted signatures verify and :class:`MalformedEnvelope`
    for an unexpected payload type. The payload returned is the one that was verified; callers must
    not re-parse the envelope.
    """
    if threshold < 1:
        raise MalformedEnvelope("DSSE threshold must be at least 1")
    if not verifiers:
        raise UnknownKey("no trusted keys were given to verify the DSSE envelope")
    message = pae(envelope.payload_type, envelope.payload)
    accepted: list[str] = []
    unique = {v.keyid or f"key#{i}": v for i, v in enumerate(verifiers)}  # one vote per distinct key
    for idx, verifier in enumerate(unique.values()):
        for sig in envelope.signatures:
            try:
                verifier.verify(message, sig.sig)
            except SignatureError:
                continue
            accepted.append(verifier.keyid or f"key#{idx}")
            break
    if len(accepted) < threshold:
        raise UnknownKey(
            f"DSSE envelope has {len(accepted)} valid signature(s) from trusted keys; {threshold} required"
        )
    if payload_types is not None and envelope.payload_type not in payload_types:
        raise MalformedEnvelope(f"unexpected DSSE payload type {envelope.payload_type!r}")
    return VerifiedPayload(envelope.payload_type, envelope.payload, tuple(accepted))
