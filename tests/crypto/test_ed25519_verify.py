"""The hot-path Ed25519 verifier (libsodium through PyNaCl) agrees with pyca/cryptography on the
RFC 8032 vectors, on random signatures, and on every single-bit alteration; it never accepts what
OpenSSL refuses."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from detente.crypto import ed25519_verify
from detente.crypto.ed25519_verify import _openssl, ed25519_verifier

RFC8032 = [  # section 7.1, TEST 1 and TEST 2: (public key, message, signature)
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


def test_the_fast_backend_is_in_use() -> None:
    assert ed25519_verify.BACKEND == "libsodium"


@pytest.mark.parametrize(("pk", "msg", "sig"), RFC8032)
def test_rfc8032_vectors(pk: str, msg: str, sig: str) -> None:
    fast, slow = ed25519_verifier(bytes.fromhex(pk)), _openssl(bytes.fromhex(pk))
    assert fast(bytes.fromhex(sig), bytes.fromhex(msg)) and slow(bytes.fromhex(sig), bytes.fromhex(msg))
    assert not fast(bytes.fromhex(sig), b"other") and not slow(bytes.fromhex(sig), b"other")


def test_both_agree_on_random_and_altered_signatures() -> None:
    rng = random.Random(8032)
    for _ in range(40):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        message = rng.randbytes(rng.randrange(0, 300))
        signature = key.sign(message)
        fast, slow = ed25519_verifier(public), _openssl(public)
        assert fast(signature, message) and slow(signature, message)
        for bit in rng.sample(range(512), 24):
            bad = bytearray(signature)
            bad[bit // 8] ^= 1 << (bit % 8)
            assert fast(bytes(bad), message) == slow(bytes(bad), message) == False  # noqa: E712
        for wrong in (signature[:63], signature + b"\0", b""):
            assert not fast(wrong, message) and not slow(wrong, message)


def test_malformed_keys_are_refused() -> None:
    for key in (b"", b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(ValueError):
            ed25519_verifier(key)
    if ed25519_verify.BACKEND == "libsodium":  # its own length check comes first, with its own message
        for key in (b"\x01" * 31, b"\x01" * 33):
            with pytest.raises(ValueError, match=r"^an Ed25519 public key is 32 bytes$"):
                ed25519_verifier(key)


def test_a_signature_of_63_or_65_bytes_cannot_borrow_from_or_lend_to_the_message() -> None:
    # libsodium reads signature ‖ message as one buffer: only the 64-byte length check keeps a
    # signature over one message from verifying another whose bytes straddle the boundary
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    fast = ed25519_verifier(public)
    message = b"the message"
    lent = key.sign(b"\x00" + message)  # 64 bytes over 0x00 ‖ message
    assert fast(lent, b"\x00" + message)
    assert not fast(lent + b"\x00", message)  # 65 bytes: the extra byte is not the message's
    borrowed = key.sign(message)
    assert fast(borrowed, message)
    assert not fast(borrowed[:63], borrowed[63:] + message)  # 63 bytes: the 64th taken from the message
    assert not _openssl(public)(lent + b"\x00", message) and not _openssl(public)(
        borrowed[:63], borrowed[63:] + message
    )
