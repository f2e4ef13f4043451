"""Sealed content: readable only by the named recipients, bound to the sender by a commitment.

The content (canonical JSON bytes) is encrypted once with ChaCha20-Poly1305 under a fresh random
content key; the content key is encrypted to each recipient's X25519 key with HPKE (RFC 9180, base
mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), both from ``cryptography``: no
primitive is written here. HPKE's ``info`` and the content's associated data bind both to the
record's public header, so a sealed body cannot be moved into another record.

A salted SHA-256 commitment to the content is published beside the ciphertext (and signed with the
record): a recipient that later discloses the content and its salt lets anyone check that the
sender signed exactly that content; a recipient cannot forge another content for the commitment,
and every recipient checks it after decrypting, so a sender cannot show different recipients
different contents under one record.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from detente.errors import MalformedKey, SignatureError

__all__ = [
    "SUITE",
    "EncryptionKey",
    "WrappedKey",
    "commitment",
    "key_id",
    "open_content",
    "seal_content",
]

SUITE = "hpke-base-x25519-sha256-chacha20poly1305"
_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_COMMIT = b"detente sealed content v1\n"
SALT_BYTES = 16
NONCE_BYTES = 12
WRAPPED_BYTES = 32 + 32 + 16  # HPKE enc, the content key, the AEAD tag


def key_id(public_key: bytes) -> str:
    """A public key's short ID: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class EncryptionKey:
    """A party's X25519 private key for sealed records."""

    private: X25519PrivateKey

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, raw: bytes) -> EncryptionKey:
        if len(raw) != 32:
            raise MalformedKey("an X25519 private key is 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self.private.private_bytes_raw()

    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return key_id(self.public_bytes())


@dataclass(frozen=True)
class WrappedKey:
    """The content key, encrypted to one recipient's key."""

    recipient: str
    key_id: str
    wrapped: bytes


def commitment(content: bytes, salt: bytes) -> str:
    """The salted commitment to ``content`` (hex SHA-256)."""
    return hashlib.sha256(_COMMIT + salt + content).hexdigest()


def seal_content(
    content: bytes, recipients: list[tuple[str, bytes]], header: bytes
) -> tuple[str, bytes, bytes, list[WrappedKey]]:
    """Seal ``content`` to ``recipients`` (party, X25519 public key): its commitment, the nonce, the
    ciphertext (of the salt and the content) and each recipient's wrapped content key. ``header`` is
    what the seal is bound to."""
    if not recipients:
        raise MalformedKey("a sealed content needs at least one recipient")
    cek, nonce, salt = os.urandom(32), os.urandom(NONCE_BYTES), os.urandom(SALT_BYTES)
    ciphertext = ChaCha20Poly1305(cek).encrypt(nonce, salt + content, header)
    wrapped = []
    for party, public in recipients:
        if len(public) != 32:
            raise MalformedKey(f"the encryption key of {party} is not an X25519 public key")
        wrapped.append(
            WrappedKey(
                party, key_id(public), _HPKE.encrypt(cek, X25519PublicKey.from_public_bytes(public), info=header)
            )
        )
    return commitment(content, salt), nonce, ciphertext, wrapped


def open_content(
    wrapped: bytes, key: EncryptionKey, nonce: bytes, ciphertext: bytes, header: bytes
) -> tuple[bytes, bytes]:
    """Decrypt a sealed content with the recipient's key: its salt and the content. Raises
    :class:`SignatureError` when it does not decrypt (altered, or sealed to another key or record)."""
    try:
        cek = _HPKE.decrypt(wrapped, key.private, info=header)
        plain = ChaCha20Poly1305(cek).decrypt(nonce, ciphertext, header)
        if len(plain) < SALT_BYTES:
            raise ValueError("shorter than its salt")
        return plain[:SALT_BYTES], plain[SALT_BYTES:]
    except (InvalidTag, ValueError) as exc:
        raise SignatureError(
            f"the sealed content does not decrypt: {exc.__class__.__name__}",
            hint="it was altered, or sealed to another key or record; the sender's log holds it as signed",
        ) from None
