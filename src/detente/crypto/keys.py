"""Party identities (Ed25519) and C2SP signed-note verifier keys.

A verifier key ("vkey") is ``<name>+<hex key ID>+<base64(type byte ‖ public key)>``
(https://c2sp.org/signed-note). For Ed25519 the key ID is
``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pub)[:4]``; a cosigner key (tlog-cosignature) uses type 0x04.

The private-key text format is Go's ``golang.org/x/mod/sumdb/note`` signer key,
``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 ‖ 32-byte seed)``, so keys move between detente
and the Go tooling (``note.NewSigner``) unchanged. Reading and writing key *files* is I/O and
lives in :mod:`detente.node.keyfile`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from detente._internal.encoding import b64decode, b64encode
from detente.errors import MalformedKey

__all__ = [
    "SIG_COSIGNATURE_V1",
    "SIG_ECDSA",
    "SIG_ED25519",
    "SIG_RFC6962",
    "Ed25519Identity",
    "VerifierKey",
    "check_key_name",
    "key_id",
]

SIG_ED25519 = 0x01
SIG_ECDSA = 0x02
SIG_COSIGNATURE_V1 = 0x04
SIG_RFC6962 = 0x05

_SIGNER_PREFIX = "PRIVATE+KEY+"


def check_key_name(name: str) -> str:
    """Return ``name`` if it is a valid signed-note key name, else raise :class:`MalformedKey`."""
    if not name:
        raise MalformedKey("key name is empty")
    if "+" in name:
        raise MalformedKey(f"key name {name!r} contains '+'")
    for ch in name:
        if ch.isspace() or unicodedata.category(ch) == "Zs" or ord(ch) < 0x20 or ch == "\x7f":
            raise MalformedKey(f"key name {name!r} contains a space or control character")
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` as a big-endian integer."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def ecdsa_key_id(spki_der: bytes) -> int:
    """Key ID of an ECDSA (type 0x02) key: ``SHA-256(DER SPKI)[:4]`` (no name, no type byte).

    An RFC 6962 (type 0x05) key's ID is instead ``SHA-256(name ‖ 0x0A ‖ 0x05 ‖ LogID)[:4]``
    with ``LogID = SHA-256(DER SPKI)`` (c2sp.org/static-ct-api)."""
    return int.from_bytes(hashlib.sha256(spki_der).digest()[:4], "big")


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey. ``key`` holds the bytes after the type byte."""

    name: str
    key_id: int
    sig_type: int
    key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``name+hexid+base64`` and check the key ID against the key where it is defined."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise MalformedKey(f"verifier key {text.strip()[:80]!r} does not have three '+' parts")
        name, hexid, b64 = parts
        check_key_name(name)
        if len(hexid) != 8 or any(c not in "0123456789abcdef" for c in hexid):
            raise MalformedKey(f"key ID {hexid!r} is not 8 lowercase hex digits")
        raw = b64decode(b64, error=MalformedKey, what="verifier key")
        if len(raw) < 2:
            raise MalformedKey("verifier key has no key material")
        vk = cls(name=name, key_id=int(hexid, 16), sig_type=raw[0], key=raw[1:])
        expected = vk.expected_key_id()
        if expected is not None and expected != vk.key_id:
            raise MalformedKey(
                f"key ID {hexid} does not match the key (expected {expected:08x})",
                hint="the vkey was altered or its name changed; ask the key holder for it again",
            )
        if vk.sig_type in (SIG_ED25519, SIG_COSIGNATURE_V1) and len(vk.key) != 32:
            raise MalformedKey(f"Ed25519 verifier key must hold 32 bytes, got {len(vk.key)}")
        return vk

    def expected_key_id(self) -> int | None:
        if self.sig_type in (SIG_ED25519, SIG_COSIGNATURE_V1):
            return key_id(self.name, self.sig_type, self.key)
        if self.sig_type == SIG_ECDSA:
            return ecdsa_key_id(self.key)
        if self.sig_type == SIG_RFC6962:
            return key_id(self.name, SIG_RFC6962, hashlib.sha256(self.key).digest())
        return None

    def as_cosigner(self) -> VerifierKey:
        """The same Ed25519 key as a checkpoint cosigner (type 0x04): a party's witness key,
        which follows its log key (type 0x01) through a rotation."""
        if self.sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise MalformedKey(f"{self.name}: only an Ed25519 key has a cosigner form")
        return VerifierKey(self.name, key_id(self.name, SIG_COSIGNATURE_V1, self.key), SIG_COSIGNATURE_V1, self.key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(bytes([self.sig_type]) + self.key)}"


class Ed25519Identity:
    """An Ed25519 key pair with a signed-note key name: a party's signing identity."""

    __slots__ = ("_private", "_public", "name")

    def __init__(self, name: str, private_key: ed25519.Ed25519PrivateKey) -> None:
        self.name = check_key_name(name)
        self._private = private_key
        self._public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @classmethod
    def generate(cls, name: str) -> Ed25519Identity:
        return cls(name, ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519Identity:
        if len(seed) != 32:
            raise MalformedKey(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
        return cls(name, ed25519.Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def parse_signer_key(cls, text: str) -> Ed25519Identity:
        """Parse Go's ``PRIVATE+KEY+name+hexid+base64(0x01 ‖ seed)`` signer key."""
        text = text.strip()
        if not text.startswith(_SIGNER_PREFIX):
            raise MalformedKey("signer key does not start with PRIVATE+KEY+")
        parts = text[len(_SIGNER_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise MalformedKey("signer key does not have name, key ID and key parts")
        name, hexid, b64 = parts
        raw = b64decode(b64, error=MalformedKey, what="signer key")
        if len(raw) != 33 or raw[0] != SIG_ED25519:
            raise MalformedKey("signer key is not an Ed25519 (type 0x01) 32-byte seed")
        ident = cls.from_seed(name, raw[1:])
        if f"{ident.vkey().key_id:08x}" != hexid:
            raise MalformedKey("signer key ID does not match its key")
        return ident

    def signer_key(self) -> str:
        """The private key in Go's signer-key text format. Secret: store with mode 0600."""
        seed = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        vk = self.vkey()
        return f"{_SIGNER_PREFIX}{self.name}+{vk.key_id:08x}+{b64encode(bytes([SIG_ED25519]) + seed)}"

    @property
    def public_bytes(self) -> bytes:
        return self._public

    def vkey(self) -> VerifierKey:
        """This identity as a log / note signer (type 0x01)."""
        return VerifierKey(self.name, key_id(self.name, SIG_ED25519, self._public), SIG_ED25519, self._public)

    def cosigner_vkey(self) -> VerifierKey:
        """This identity as a checkpoint cosigner (type 0x04, c2sp.org/tlog-cosignature)."""
        return self.vkey().as_cosigner()

    def sign(self, message: bytes) -> bytes:
        """A raw 64-byte Ed25519 signature over ``message``."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Identity({self.name!r}, {self.vkey()})"
