"""Each signature checker of ``detente.crypto.note_verifiers`` at its boundaries: signature
lengths, the cosignature timestamp's range, and what an RFC 6962 tree-head signature may be
attached to (it covers neither the origin nor extension lines, so the text must be exactly a
three-line checkpoint of the key's own log). Each refusal is a ``SignatureError`` with its own
message (issue #18: the tests the mutation run of ``crypto/note_verifiers.py`` needs)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest

from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.crypto.note import CosignatureSigner, parse_note, sign_note
from detente.crypto.note_verifiers import MAX_TIMESTAMP, NoteVerifier, verifier_for
from detente.errors import MalformedKey, SignatureError

ROME = json.loads((Path(__file__).parent.parent / "vectors" / "notes" / "rfc6962-rome-2024h1.json").read_text())
ROME_NOTE = parse_note(ROME["note"])
ROME_TEXT = ROME_NOTE.text.encode()
ROME_SIG = ROME_NOTE.signatures[0].signature
ROME_NAME = "rome.ct.filippo.io/2024h1"
WITNESS = Ed25519Identity.from_seed("witness.example", bytes(range(32)))
TEXT = b"example.com/log\n5\n" + base64.b64encode(bytes(32)) + b"\n"


def _rome() -> NoteVerifier:
    return verifier_for(ROME["vkeys"][0])


def test_the_rome_vector_verifies_as_it_is() -> None:
    _rome().verify(ROME_TEXT, ROME_SIG)


# --- Ed25519 and cosignature/v1 -------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_an_ed25519_signature_of_other_than_64_bytes_is_refused_as_such(length: int) -> None:
    verifier = verifier_for(WITNESS.vkey())
    with pytest.raises(SignatureError, match=r"^Ed25519 signature by witness.example is not 64 bytes$"):
        verifier.verify(TEXT, bytes(length))


@pytest.mark.parametrize(("length", "said"), [(71, 75), (73, 77), (0, 4), (64, 68)])
def test_a_cosignature_of_other_than_72_bytes_is_refused_with_its_length(length: int, said: int) -> None:
    # the message counts the key ID's 4 bytes too: a cosignature line holds 76
    verifier = verifier_for(WITNESS.cosigner_vkey())
    with pytest.raises(SignatureError, match=f"^cosignature by witness.example is {said} bytes, not 76$"):
        verifier.verify(TEXT, bytes(length))


@pytest.mark.parametrize("timestamp", [0, 1, 2**62, 2**63 - 1])
def test_a_cosignature_timestamp_up_to_2_to_the_63_minus_1_verifies(timestamp: int) -> None:
    (sig,) = sign_note(TEXT.decode(), [CosignatureSigner(WITNESS, timestamp)]).signatures
    assert sig.signature[:8] == struct.pack(">Q", timestamp)
    verifier_for(WITNESS.cosigner_vkey()).verify(TEXT, sig.signature)


@pytest.mark.parametrize("timestamp", [2**63, 2**63 + 1, 2**64 - 1])
def test_a_cosignature_timestamp_past_2_to_the_63_minus_1_is_refused(timestamp: int) -> None:
    assert MAX_TIMESTAMP == 2**63 - 1
    (sig,) = sign_note(TEXT.decode(), [CosignatureSigner(WITNESS, timestamp)]).signatures  # validly signed
    with pytest.raises(SignatureError, match=r"^cosignature by witness.example has an out-of-range timestamp$"):
        verifier_for(WITNESS.cosigner_vkey()).verify(TEXT, sig.signature)


def test_an_ed25519_key_that_is_not_a_public_key_is_refused() -> None:
    for sig_type in (0x01, 0x04):
        with pytest.raises(MalformedKey, match=r"^witness.example: not an Ed25519 public key$"):
            verifier_for(VerifierKey("witness.example", 0, sig_type, b"\x01" * 31))


def test_an_ecdsa_key_that_is_not_der_is_refused() -> None:
    for sig_type in (0x02, 0x05):
        with pytest.raises(MalformedKey, match=r"^a.example: key is not a DER SubjectPublicKeyInfo$"):
            verifier_for(VerifierKey("a.example", 0, sig_type, b"not a DER public key"))


# --- RFC 6962 tree-head signatures ----------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 11])
def test_an_rfc6962_signature_shorter_than_12_bytes_is_truncated(length: int) -> None:
    with pytest.raises(SignatureError, match=f"^RFC 6962 signature by {ROME_NAME} is truncated$"):
        _rome().verify(ROME_TEXT, ROME_SIG[:length])


def test_an_rfc6962_signature_of_12_bytes_is_read_and_does_not_verify() -> None:
    header = ROME_SIG[:10] + b"\x00\x00"  # timestamp, sha256, ecdsa, an empty DER signature
    with pytest.raises(SignatureError, match=f"^RFC 6962 tree head signature by {ROME_NAME} does not verify$"):
        _rome().verify(ROME_TEXT, header)


@pytest.mark.parametrize(("hash_alg", "sig_alg"), [(4, 2), (3, 3), (4, 4), (5, 3), (0, 0)])
def test_an_rfc6962_signature_must_say_sha256_and_ecdsa(hash_alg: int, sig_alg: int) -> None:
    sig = ROME_SIG[:8] + bytes([hash_alg, sig_alg]) + ROME_SIG[10:]
    with pytest.raises(SignatureError, match=f"^RFC 6962 signature by {ROME_NAME} is not ECDSA-SHA256$"):
        _rome().verify(ROME_TEXT, sig)


@pytest.mark.parametrize("delta", [-1, 1])
def test_an_rfc6962_signature_must_hold_exactly_its_stated_length(delta: int) -> None:
    sig = ROME_SIG[:10] + struct.pack(">H", len(ROME_SIG) - 12 + delta) + ROME_SIG[12:]
    with pytest.raises(SignatureError, match=r"is not ECDSA-SHA256$"):
        _rome().verify(ROME_TEXT, sig)


@pytest.mark.parametrize(
    "text",
    [
        ROME_TEXT + b"\n",  # a fourth, empty line
        ROME_TEXT + b"extension\n",  # an extension line
        ROME_TEXT + b"extension",  # four lines, the last one not ended
        ROME_TEXT[:-1],  # three lines, the last one not ended
        ROME_TEXT.replace(b"\n115474666\n", b"\n0x1c\n"),  # the size not decimal
    ],
)
def test_an_rfc6962_signature_signs_only_a_three_line_checkpoint(text: bytes) -> None:
    # the signature covers the size and root alone, so a text with more in it must be refused
    with pytest.raises(SignatureError, match=r"^RFC 6962 signatures only sign checkpoints without extension lines$"):
        _rome().verify(text, ROME_SIG)


@pytest.mark.parametrize("origin", [b"rome.ct.filippo.io/2024h0", b"rome.ct.filippo.io/2024h2", b"a", b"z"])
def test_an_rfc6962_signature_signs_only_its_own_logs_origin(origin: bytes) -> None:
    text = ROME_TEXT.replace(ROME_NAME.encode(), origin, 1)
    with pytest.raises(SignatureError, match=f"^RFC 6962 signed checkpoint origin is not the key name {ROME_NAME}$"):
        _rome().verify(text, ROME_SIG)


def test_an_rfc6962_checkpoint_root_must_be_32_bytes_of_base64() -> None:
    lines = ROME_TEXT.split(b"\n")
    for root, message in [
        (b"!!!!", r"^RFC 6962 signed checkpoint has a malformed root$"),
        (base64.b64encode(bytes(33)), "^checkpoint root is not 32 bytes$"),
        (base64.b64encode(bytes(31)), "^checkpoint root is not 32 bytes$"),
    ]:
        text = b"\n".join([lines[0], lines[1], root, b""])
        with pytest.raises(SignatureError, match=message):
            _rome().verify(text, ROME_SIG)
