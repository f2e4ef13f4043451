"""detente.tlog.checkpoint and detente.tlog.cosignature against C2SP tlog-checkpoint and
tlog-cosignature: a real sum.golang.org checkpoint, the spec example, and the sigsum-go
cosignature/v1 vector reproduced byte for byte."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner, Note, NoteSignature, parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import (
    DetenteError,
    MalformedCheckpoint,
    MalformedError,
    MalformedNote,
    SignatureError,
    UnknownKey,
    VerificationError,
)
from detente.tlog.checkpoint import (
    MAX_CHECKPOINT_TEXT,
    MAX_SIZE,
    Checkpoint,
    open_checkpoint,
    parse_size,
    sign_checkpoint,
)
from detente.tlog.cosignature import cosign, verify_cosignatures

# transparency-dev/formats log/note_test.go (TestSumDBNoteParsing); key from Go's cmd/go
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_TEXT = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
SUMDB_SIG = (
    "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)
SUMDB_NOTE = SUMDB_TEXT + "\n" + SUMDB_SIG

# C2SP tlog-checkpoint.md example
SOFA_NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

# sigsum/sigsum-go pkg/checkpoint/checkpoint_test.go
SEED_11 = b"\x11" + bytes(31)
SIGSUM_ROOT = base64.b64decode("HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
SIGSUM_WITNESS_VKEY = "example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
SIGSUM_COSIG_LINE = (
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0"
    "LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n"
)
SIGSUM_LOG_ORIGIN = "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
SIGSUM_LOG_VKEY = SIGSUM_LOG_ORIGIN + "+809da1a3+AWbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
SIGSUM_LOG_SIG = f"— {SIGSUM_LOG_ORIGIN} gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n"

ROOT = bytes(range(32))


# --- parse / format ----------------------------------------------------------------------------


def test_body_format() -> None:
    cp = Checkpoint("example.com/log", 42, ROOT, ("ext one", "ext two"))
    assert cp.body() == "example.com/log\n42\n" + base64.b64encode(ROOT).decode() + "\next one\next two\n"
    assert Checkpoint.parse(cp.body()) == cp
    assert Checkpoint("o", 0, ROOT).body() == "o\n0\n" + base64.b64encode(ROOT).decode() + "\n"


@settings(max_examples=200, deadline=None)
@given(
    origin=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1, max_size=30),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    ext=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1, max_size=10),
        max_size=3,
    ),
)
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse(cp.body()) == cp


@pytest.mark.parametrize(
    "text",
    [
        "o\n010\n" + base64.b64encode(ROOT).decode() + "\n",  # leading zero
        "o\n00\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n+1\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n1 \n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n\n" + base64.b64encode(ROOT).decode() + "\n",  # empty size
        "o\n0x10\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n1_000\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n\u0661\n" + base64.b64encode(ROOT).decode() + "\n",  # non-ASCII digit
        "o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",  # 31-byte root
        "o\n1\n" + base64.b64encode(ROOT + b"\x00").decode() + "\n",  # 33-byte root
        "o\n1\n\n",  # empty root
        "o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",  # missing padding
        "o\n1\n" + ROOT.hex() + "\n",  # hex, not base64
        "o\n1\n",  # missing root line
        "o\n",
        "",
        "o\n1\n" + base64.b64encode(ROOT).decode(),  # no final newline
        "\n1\n" + base64.b64encode(ROOT).decode() + "\n",  # empty origin
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",  # empty extension line
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\next\n\n",
    ],
)
def test_malformed_checkpoint_texts(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_constructor_checks() -> None:
    for args in [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31])]:
        with pytest.raises(MalformedCheckpoint):
            Checkpoint(*args)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o", 1, ROOT, ("",))


# --- real and spec checkpoints --------------------------------------------------------------------


def test_sum_golang_org_checkpoint_verifies() -> None:
    verified = open_checkpoint(SUMDB_NOTE.encode(), [verifier_for(SUMDB_VKEY)], origin="go.sum database tree")
    cp = verified.checkpoint
    assert (cp.origin, cp.size, cp.extensions) == ("go.sum database tree", 6476701, ())
    assert base64.b64encode(cp.root).decode() == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="
    assert verified.note.verified_names == ("sum.golang.org",)  # key name differs from the origin
    assert verified.to_bytes() == SUMDB_NOTE.encode()
    assert cp.body() == SUMDB_TEXT


def test_sum_golang_org_checkpoint_for_another_origin_is_refused() -> None:
    with pytest.raises(UnknownKey):
        open_checkpoint(SUMDB_NOTE, [verifier_for(SUMDB_VKEY)], origin="sum.golang.org")


def _xor(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


def test_every_one_byte_change_to_the_sum_golang_org_text_fails() -> None:
    raw = SUMDB_NOTE.encode()
    text_len = len(SUMDB_TEXT.encode())
    for i in range(text_len + 1):  # the text and the blank line after it
        with pytest.raises((MalformedError, VerificationError)):
            open_checkpoint(_xor(raw, i), [verifier_for(SUMDB_VKEY)])


def test_every_one_byte_change_to_the_sum_golang_org_signature_fails() -> None:
    (sig,) = parse_note(SUMDB_NOTE).signatures
    packed = struct.pack(">I", sig.key_id) + sig.signature
    for i in range(len(packed)):
        changed = _xor(packed, i)
        bad = NoteSignature(sig.name, struct.unpack(">I", changed[:4])[0], changed[4:])
        with pytest.raises(SignatureError if i >= 4 else UnknownKey):
            open_checkpoint(Note(SUMDB_TEXT, (bad,)).to_bytes(), [verifier_for(SUMDB_VKEY)])


def test_c2sp_behind_the_sofa_example() -> None:
    note = parse_note(SOFA_NOTE)
    cp = Checkpoint.parse(note.text)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert base64.b64encode(cp.root).decode() == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    (sig,) = note.signatures
    assert (sig.name, len(sig.signature)) == ("example.com/behind-the-sofa", 64)
    assert cp.body() == note.text
    # the spec publishes no key for this log: a checkpoint signed by nobody we trust is refused
    with pytest.raises(UnknownKey):
        open_checkpoint(SOFA_NOTE, [verifier_for(SUMDB_VKEY)])


def test_malformed_notes_are_malformed_checkpoints() -> None:
    for bad in [
        SUMDB_TEXT,
        SUMDB_TEXT + "\n",
        b"\xff" + SUMDB_NOTE.encode(),
        "go.sum database tree\n6476701\n\n" + SUMDB_SIG,
    ]:
        with pytest.raises(MalformedCheckpoint):
            open_checkpoint(bad, [verifier_for(SUMDB_VKEY)])


def test_sign_and_open_a_checkpoint() -> None:
    log = Ed25519Identity.from_seed("example.com/log", bytes([9]) * 32)
    cp = Checkpoint("example.com/log", 5, ROOT, ("extension",))
    note = sign_checkpoint(cp, [Ed25519NoteSigner(log)]).to_bytes()
    verified = open_checkpoint(note, [verifier_for(log.vkey())], origin="example.com/log")
    assert verified.checkpoint == cp
    with pytest.raises(UnknownKey):
        open_checkpoint(note, [verifier_for(SUMDB_VKEY)])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=120).map(lambda s: (s + "\n\n" + SUMDB_SIG).encode()))
def test_open_checkpoint_raises_only_typed_errors(data: bytes) -> None:
    try:
        open_checkpoint(data, [verifier_for(SUMDB_VKEY)])
    except DetenteError as exc:
        assert isinstance(exc, (MalformedError, VerificationError))
        return
    raise AssertionError("arbitrary bytes verified as a sum.golang.org checkpoint")


# --- cosignature/v1 ------------------------------------------------------------------------------


def test_sigsum_cosignature_is_reproduced_byte_for_byte() -> None:
    witness = Ed25519Identity.from_seed("example.org/witness", SEED_11)
    assert str(witness.cosigner_vkey()) == SIGSUM_WITNESS_VKEY
    cp = Checkpoint("example.org/log", 10, SIGSUM_ROOT)
    assert cp.body() == "example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    sig = cosign(cp, witness, 1234)
    assert sig.line() == SIGSUM_COSIG_LINE

    raw = base64.b64decode(SIGSUM_COSIG_LINE.rstrip("\n").split(" ")[2])
    assert len(raw) == 76  # key ID[4] ‖ u64be timestamp ‖ Ed25519 signature[64]
    key_id, timestamp = struct.unpack(">IQ", raw[:12])
    assert (key_id, timestamp) == (0xCACF2E50, 1234)
    # the signature covers "cosignature/v1\ntime 1234\n" ‖ checkpoint body
    Ed25519PublicKey.from_public_bytes(witness.public_bytes).verify(
        raw[12:], b"cosignature/v1\ntime 1234\n" + cp.body().encode()
    )

    note = parse_note(cp.body() + "\n" + SIGSUM_COSIG_LINE)
    (c,) = verify_cosignatures(note, [verifier_for(SIGSUM_WITNESS_VKEY)])
    assert (c.witness, c.timestamp, c.signature) == ("example.org/witness", 1234, sig)


def test_sigsum_log_signature_on_the_same_checkpoint_verifies() -> None:
    body = f"{SIGSUM_LOG_ORIGIN}\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    verified = open_checkpoint(body + "\n" + SIGSUM_LOG_SIG, [verifier_for(SIGSUM_LOG_VKEY)], origin=SIGSUM_LOG_ORIGIN)
    assert (verified.checkpoint.size, verified.checkpoint.root) == (10, SIGSUM_ROOT)
    ident = Ed25519Identity.from_seed(SIGSUM_LOG_ORIGIN, SEED_11)
    assert sign_checkpoint(verified.checkpoint, [Ed25519NoteSigner(ident)]).signatures[0].line() == SIGSUM_LOG_SIG


def _cosigned(*lines: str) -> Note:
    cp = Checkpoint("example.org/log", 10, SIGSUM_ROOT)
    return parse_note(cp.body() + "\n" + "".join(lines))


def test_cosignature_with_a_changed_timestamp_or_text_fails() -> None:
    witness = verifier_for(SIGSUM_WITNESS_VKEY)
    raw = bytearray(base64.b64decode(SIGSUM_COSIG_LINE.rstrip("\n").split(" ")[2]))
    raw[11] ^= 0x01  # timestamp 1234 -> 1235
    line = "— example.org/witness " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(SignatureError):
        verify_cosignatures(_cosigned(line), [witness])
    other = Note(
        "example.org/log\n11\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", _cosigned(SIGSUM_COSIG_LINE).signatures
    )
    with pytest.raises(SignatureError):
        verify_cosignatures(other, [witness])


def test_cosignatures_from_other_keys_are_ignored() -> None:
    other = Ed25519Identity.from_seed("other.example/witness", bytes([7]) * 32)
    cp = Checkpoint("example.org/log", 10, SIGSUM_ROOT)
    note = _cosigned(cosign(cp, other, 99).line(), SIGSUM_COSIG_LINE)
    (c,) = verify_cosignatures(note, [verifier_for(SIGSUM_WITNESS_VKEY)])
    assert c.witness == "example.org/witness"
    assert verify_cosignatures(_cosigned(cosign(cp, other, 99).line()), [verifier_for(SIGSUM_WITNESS_VKEY)]) == []


def test_witness_keys_must_be_cosigner_keys() -> None:
    witness = Ed25519Identity.from_seed("example.org/witness", SEED_11)
    with pytest.raises(UnknownKey):
        verify_cosignatures(_cosigned(SIGSUM_COSIG_LINE), [verifier_for(witness.vkey())])


@pytest.mark.parametrize("timestamp", [0, -1, 2**63])
def test_cosign_refuses_out_of_range_timestamps(timestamp: int) -> None:
    witness = Ed25519Identity.from_seed("example.org/witness", SEED_11)
    with pytest.raises(SignatureError):
        cosign(Checkpoint("example.org/log", 10, SIGSUM_ROOT), witness, timestamp)


def test_cosignature_of_the_wrong_length_fails() -> None:
    witness = verifier_for(SIGSUM_WITNESS_VKEY)
    raw = base64.b64decode(SIGSUM_COSIG_LINE.rstrip("\n").split(" ")[2])
    for bad in (raw[:-1], raw + b"\x00", raw[:12]):
        line = "— example.org/witness " + base64.b64encode(bad).decode() + "\n"
        with pytest.raises(SignatureError):
            verify_cosignatures(_cosigned(line), [witness])


# --- limits (found by mutation testing: each boundary on both sides) -----------------------------

B64_ROOT = base64.b64encode(ROOT).decode()


def test_the_largest_size_is_2_to_the_64_minus_1() -> None:
    top = str(2**64 - 1)
    assert parse_size(top, "size") == 2**64 - 1 == MAX_SIZE
    assert Checkpoint.parse(f"o\n{top}\n{B64_ROOT}\n").size == 2**64 - 1
    for over in (str(2**64), str(2**64 + 1), "99999999999999999999"):  # 20 digits, one past the cap
        with pytest.raises(MalformedCheckpoint, match=re.escape(f"size '{over}' is over 18446744073709551615")):
            parse_size(over, "size")
        with pytest.raises(MalformedCheckpoint, match="is over 18446744073709551615"):
            Checkpoint.parse(f"o\n{over}\n{B64_ROOT}\n")
    assert parse_size(str(2**63), "size") == 2**63  # past a signed 64-bit integer
    assert parse_size(str(2**64 - 2), "size") == 2**64 - 2


def test_a_size_of_more_than_20_digits_is_refused_before_it_is_converted() -> None:
    for text in ("1" + "0" * 20, "1" * 21, "9" * 5000):
        with pytest.raises(MalformedCheckpoint, match="is not a decimal size without leading zeros") as info:
            parse_size(text, "size")
        # the message quotes the first 30 characters of the text, never more (it may be hostile)
        assert f"'{text[:30]}'" in info.value.message
    for text in ("0", "7", "10"):
        assert parse_size(text, "size") == int(text)


def test_parse_size_raises_the_callers_error_type() -> None:
    with pytest.raises(MalformedNote):
        parse_size("01", "index", MalformedNote)
    with pytest.raises(MalformedNote, match="index '18446744073709551616' is over"):
        parse_size(str(2**64), "index", MalformedNote)


def _text_of(length: int, filler: str = "x") -> str:
    """A checkpoint text of exactly *length* UTF-8 bytes (an extension line pads it)."""
    head = f"o\n1\n{B64_ROOT}\n"
    pad = length - len(head.encode()) - 1  # the extension line's final newline
    unit = len(filler.encode())
    text = head + filler * (pad // unit) + "y" * (pad % unit) + "\n"
    assert len(text.encode()) == length
    return text


def test_a_checkpoint_text_of_4096_bytes_parses_and_4097_does_not() -> None:
    assert MAX_CHECKPOINT_TEXT == 4096
    for filler in ("x", "é", "€"):  # counted in UTF-8 bytes, not characters
        assert Checkpoint.parse(_text_of(4096, filler)).size == 1
        assert Checkpoint.parse(_text_of(4095, filler)).size == 1
        with pytest.raises(MalformedCheckpoint, match="checkpoint text is over 4096 bytes"):
            Checkpoint.parse(_text_of(4097, filler))
    with pytest.raises(MalformedCheckpoint, match="checkpoint text is over 4096 bytes"):
        Checkpoint.parse(_text_of(20_000))


def test_checkpoints_are_frozen() -> None:
    log = Ed25519Identity.from_seed("example.com/log", bytes([9]) * 32)
    cp = Checkpoint("example.com/log", 5, ROOT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cp.size = 6  # type: ignore[misc]
    verified = open_checkpoint(sign_checkpoint(cp, [Ed25519NoteSigner(log)]).to_bytes(), [verifier_for(log.vkey())])
    with pytest.raises(dataclasses.FrozenInstanceError):
        verified.checkpoint = Checkpoint("example.com/log", 6, ROOT)  # type: ignore[misc]


@pytest.mark.parametrize("expected", ["a.example/log", "example.com/lo", "example.com/log2", "z.example/log"])
def test_an_expected_origin_sorting_before_or_after_the_checkpoints_is_refused(expected: str) -> None:
    log = Ed25519Identity.from_seed("example.com/log", bytes([9]) * 32)
    note = sign_checkpoint(Checkpoint("example.com/log", 5, ROOT), [Ed25519NoteSigner(log)]).to_bytes()
    with pytest.raises(UnknownKey, match=re.escape(f"checkpoint is for log 'example.com/log', expected {expected!r}")):
        open_checkpoint(note, [verifier_for(log.vkey())], origin=expected)
    assert open_checkpoint(note, [verifier_for(log.vkey())], origin="example.com/log").checkpoint.size == 5


@pytest.mark.parametrize("timestamp", [1, 2, 2**62, 2**63 - 2, 2**63 - 1])
def test_cosign_takes_every_timestamp_from_1_to_2_to_the_63_minus_1(timestamp: int) -> None:
    witness = Ed25519Identity.from_seed("example.org/witness", SEED_11)
    cp = Checkpoint("example.org/log", 10, SIGSUM_ROOT)
    note = Note(cp.body(), (cosign(cp, witness, timestamp),))
    [found] = verify_cosignatures(note, [verifier_for(witness.cosigner_vkey())])
    assert (found.witness, found.timestamp) == ("example.org/witness", timestamp)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.timestamp = 0  # type: ignore[misc]


def test_witness_keys_of_any_type_but_0x04_are_refused() -> None:
    rome = json.loads((Path(__file__).parent.parent / "vectors" / "notes" / "rfc6962-rome-2024h1.json").read_text())
    witness = Ed25519Identity.from_seed("example.org/witness", SEED_11)
    note = Note(Checkpoint("example.org/log", 10, SIGSUM_ROOT).body())
    for key in (witness.vkey(), rome["vkeys"][0]):  # type 0x01 (below 0x04) and type 0x05 (above)
        with pytest.raises(UnknownKey, match=r"^witness keys must be cosigner keys \(signature type 0x04\)$"):
            verify_cosignatures(note, [verifier_for(witness.cosigner_vkey()), verifier_for(key)])
