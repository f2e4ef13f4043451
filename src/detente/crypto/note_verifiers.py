"""Signature checkers for every signed-note signature type a log or witness key can have.

- 0x01 Ed25519 over the note text (c2sp.org/signed-note);
- 0x02 ECDSA (P-256/384/521, SHA-256) as transparency-dev/witness and Google's logs use it: the
  vkey holds the DER SubjectPublicKeyInfo, the key ID is ``SHA-256(SPKI)[:4]``, the signature is
  ASN.1 DER;
- 0x04 timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature, cosignature/v1): the signature
  is ``u64be timestamp ‖ Ed25519(msg)`` where msg is ``"cosignature/v1\\ntime <ts>\\n" ‖ text``;
- 0x05 RFC 6962 TreeHeadSignature (c2sp.org/static-ct-api): the signature is
  ``u64be timestamp (ms) ‖ TLS DigitallySigned{sha256, ecdsa, u16 len, DER}`` over the RFC 6962
  tree head ``0x00 ‖ 0x01 ‖ timestamp ‖ size ‖ root``. It does not cover the origin, so the
  checkpoint must be exactly three lines whose origin is the key name.

Each verifier raises :class:`~detente.errors.SignatureError`; none returns a bool.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from detente._internal.encoding import b64decode
from detente.crypto.keys import (
    SIG_COSIGNATURE_V1,
    SIG_ECDSA,
    SIG_ED25519,
    SIG_RFC6962,
    VerifierKey,
)
from detente.errors import MalformedError, MalformedKey, SignatureError

__all__ = ["NoteVerifier", "cosignature_message", "verifier_for"]

COSIGNATURE_HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1


class NoteVerifier(Protocol):
    """Checks one key's signature over a note text. Raises ``SignatureError`` on failure."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    @property
    def vkey(self) -> VerifierKey: ...

    def verify(self, text: bytes, signature: bytes) -> None: ...


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 Ed25519 signature covers."""
    return COSIGNATURE_HEADER + b"time %d\n" % timestamp + text


@dataclass(frozen=True)
class _Verifier:
    vkey: VerifierKey

    @property
    def name(self) -> str:
        return self.vkey.name

    @property
    def key_id(self) -> int:
        return self.vkey.key_id


@dataclass(frozen=True)
class _Ed25519Verifier(_Verifier):
    _key: ed25519.Ed25519PublicKey

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise SignatureError(f"Ed25519 signature by {self.name} is not 64 bytes")
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            raise SignatureError(f"signature by {self.name} does not verify") from None


@dataclass(frozen=True)
class _CosignatureV1Verifier(_Ed25519Verifier):
    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != 72:
            raise SignatureError(f"cosignature by {self.name} is {len(signature) + 4} bytes, not 76")
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > MAX_TIMESTAMP:
            raise SignatureError(f"cosignature by {self.name} has an out-of-range timestamp")
        try:
            self._key.verify(signature[8:], cosignature_message(text, timestamp))
        except InvalidSignature:
            raise SignatureError(f"cosignature by {self.name} does not verify") from None


@dataclass(frozen=True)
class _ECDSAVerifier(_Verifier):
    _key: ec.EllipticCurvePublicKey

    def verify(self, text: bytes, signature: bytes) -> None:
        try:
            self._key.verify(signature, text, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise SignatureError(f"ECDSA signature by {self.name} does not verify") from None


@dataclass(frozen=True)
class _RFC6962Verifier(_ECDSAVerifier):
    def verify(self, text: bytes, signature: bytes) -> None:
        # signature = u64 timestamp ‖ DigitallySigned{hash=4 (sha256), sig=3 (ecdsa), u16 len, der}
        if len(signature) < 12:
            raise SignatureError(f"RFC 6962 signature by {self.name} is truncated")
        timestamp = struct.unpack(">Q", signature[:8])[0]
        hash_alg, sig_alg, length = signature[8], signature[9], struct.unpack(">H", signature[10:12])[0]
        if (hash_alg, sig_alg) != (4, 3) or length != len(signature) - 12:
            raise SignatureError(f"RFC 6962 signature by {self.name} is not ECDSA-SHA256")
        size, root = _checkpoint_size_root(text, self.name)
        tree_head = struct.pack(">BBQQ", 0, 1, timestamp, size) + root
        try:
            self._key.verify(signature[12:], tree_head, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise SignatureError(f"RFC 6962 tree head signature by {self.name} does not verify") from None


def _checkpoint_size_root(text: bytes, name: str) -> tuple[int, bytes]:
    lines = text.split(b"\n")
    if len(lines) != 4 or lines[3] or not lines[1].isdigit():
        raise SignatureError("RFC 6962 signatures only sign checkpoints without extension lines")
    if lines[0] != name.encode("utf-8"):
        raise SignatureError(f"RFC 6962 signed checkpoint origin is not the key name {name}")
    try:
        root = b64decode(lines[2], what="checkpoint root")
    except MalformedError:
        raise SignatureError("RFC 6962 signed checkpoint has a malformed root") from None
    if len(root) != 32:
        raise SignatureError("checkpoint root is not 32 bytes")
    return int(lines[1]), root


def verifier_for(vkey: VerifierKey | str) -> NoteVerifier:
    """Build the verifier for a vkey of any supported type. Raises ``MalformedKey``."""
    vk = VerifierKey.parse(vkey) if isinstance(vkey, str) else vkey
    if vk.sig_type in (SIG_ED25519, SIG_COSIGNATURE_V1):
        try:
            key = ed25519.Ed25519PublicKey.from_public_bytes(vk.key)
        except ValueError:
            raise MalformedKey(f"{vk.name}: not an Ed25519 public key") from None
        cls = _Ed25519Verifier if vk.sig_type == SIG_ED25519 else _CosignatureV1Verifier
        return cls(vk, key)
    if vk.sig_type in (SIG_ECDSA, SIG_RFC6962):
        try:
            pub = serialization.load_der_public_key(vk.key)
        except (ValueError, UnsupportedAlgorithm):
            raise MalformedKey(f"{vk.name}: key is not a DER SubjectPublicKeyInfo") from None
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise MalformedKey(f"{vk.name}: key is not an elliptic-curve public key")
        return (_ECDSAVerifier if vk.sig_type == SIG_ECDSA else _RFC6962Verifier)(vk, pub)
    raise MalformedKey(
        f"{vk.name}: signature type 0x{vk.sig_type:02x} is not supported",
        hint="detente verifies types 0x01 (Ed25519), 0x02 (ECDSA), 0x04 (cosignature/v1) and 0x05 (RFC 6962)",
    )
