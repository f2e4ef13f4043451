"""Ed25519 signature verification for the hot paths (syncing a peer's log verifies one signature
per record).

libsodium's verifier (through PyNaCl, PyCA's binding) is about twice as fast as OpenSSL's on the
machines measured (docs/performance.md), and stricter: it also refuses small-order public keys
and points and non-canonical encodings, so every signature it accepts, OpenSSL accepts too (it
never widens what verifies; ``tests/crypto/test_ed25519_verify.py`` checks both agree on the RFC
8032 vectors and on altered signatures). Without PyNaCl, pyca/cryptography verifies.
Signing always uses pyca/cryptography. ``DETENTE_ED25519_BACKEND=openssl`` forces OpenSSL (to
compare the two).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

__all__ = ["BACKEND", "Ed25519Verify", "ed25519_verifier"]

Ed25519Verify = Callable[[bytes, bytes], bool]
"""``verify(signature, message) -> bool`` for one public key."""


def _openssl(public_key: bytes) -> Ed25519Verify:
    key = ed25519.Ed25519PublicKey.from_public_bytes(public_key)  # parsed once (pyca/cryptography#9463)

    def verify(signature: bytes, message: bytes) -> bool:
        try:
            key.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify


try:
    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import BadSignatureError
    from nacl.exceptions import ValueError as NaclValueError

    def _libsodium(public_key: bytes) -> Ed25519Verify:
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        _openssl(public_key)  # the same key checks as without PyNaCl

        def verify(signature: bytes, message: bytes) -> bool:
            if len(signature) != 64:
                return False
            try:
                crypto_sign_open(signature + message, public_key)
            except (BadSignatureError, NaclValueError, ValueError):
                return False
            return True

        return verify

    BACKEND = "libsodium"
    _make: Callable[[bytes], Ed25519Verify] = _libsodium
except ImportError:  # pragma: no cover - PyNaCl is a dependency; kept working without it
    BACKEND = "openssl"
    _make = _openssl
if os.environ.get("DETENTE_ED25519_BACKEND") == "openssl":  # to compare the two (bench/federation_bench.py)
    BACKEND = "openssl"
    _make = _openssl


def ed25519_verifier(public_key: bytes) -> Ed25519Verify:
    """A verifier for one 32-byte public key; raises ``ValueError`` for a malformed key."""
    return _make(public_key)
