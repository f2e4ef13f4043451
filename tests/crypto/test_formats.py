"""Keys, DSSE, in-toto, canonical JSON and cosignatures against published vectors."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from detente.crypto.canonical import canonical_json, parse_json
from detente.crypto.dsse import (
    ECDSAP256Verifier,
    Ed25519DSSESigner,
    Ed25519DSSEVerifier,
    Envelope,
    pae,
    sign_envelope,
    verify_envelope,
)
from detente.crypto.intoto import Statement
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedEnvelope, MalformedJSON, MalformedKey, UnknownKey, VerificationError
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import cosign, verify_cosignatures

VECTORS = Path(__file__).parent.parent / "vectors"
DSSE = json.loads((VECTORS / "dsse" / "hello-world.json").read_text())


# --- keys --------------------------------------------------------------------------------------


def test_go_signer_key_gives_the_published_vkey() -> None:
    ident = Ed25519Identity.parse_signer_key(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    )
    assert str(ident.vkey()) == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert ident.signer_key() == "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"


def test_sigsum_seed_gives_the_published_cosigner_and_log_keys() -> None:
    ident = Ed25519Identity.from_seed("example.org/witness", b"\x11" + bytes(31))
    assert ident.public_bytes.hex() == "66e0b858e462a609e66fe71370c816d8846ff103d5499a22a7fec37fdbc424a7"
    assert str(ident.cosigner_vkey()) == "example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    ],
)
def test_vkey_round_trip(vkey: str) -> None:
    assert str(VerifierKey.parse(vkey)) == vkey


@pytest.mark.parametrize(
    "bad",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong key ID
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  # bad base64
        "example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # space in name
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # empty name
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # uppercase hex
        "example.com/foo+530d903a",
        "example.com/foo+530d903a+AQ==",  # no key
    ],
)
def test_malformed_vkeys_are_refused(bad: str) -> None:
    with pytest.raises(MalformedKey):
        verifier_for(bad)


# --- DSSE --------------------------------------------------------------------------------------


def _spec_verifier() -> ECDSAP256Verifier:
    nums = ec.EllipticCurvePublicNumbers(int(DSSE["public_key"]["x"]), int(DSSE["public_key"]["y"]), ec.SECP256R1())
    return ECDSAP256Verifier(nums.public_key())


def test_pae_matches_the_spec() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == DSSE["pae"].encode()


def test_spec_envelope_verifies_in_both_base64_alphabets() -> None:
    env = Envelope.from_dict(DSSE["envelope"])
    assert verify_envelope(env, [_spec_verifier()]).payload == b"hello world"
    urlsafe = dict(DSSE["envelope"])
    urlsafe["signatures"] = [
        {"sig": base64.urlsafe_b64encode(base64.b64decode(s["sig"])).decode().rstrip("=")}
        for s in DSSE["envelope"]["signatures"]
    ]
    urlsafe["extra"] = "ignored"
    assert verify_envelope(Envelope.from_dict(urlsafe), [_spec_verifier()]).payload == b"hello world"


@pytest.mark.parametrize("field", ["payload", "sig", "payloadType"])
def test_one_changed_byte_in_the_spec_envelope_fails(field: str) -> None:
    obj = json.loads(json.dumps(DSSE["envelope"]))
    if field == "payload":
        obj["payload"] = base64.b64encode(b"hello worle").decode()
    elif field == "sig":
        raw = bytearray(base64.b64decode(obj["signatures"][0]["sig"]))
        raw[5] ^= 1
        obj["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    else:
        obj["payloadType"] = "http://example.com/HelloWorle"
    with pytest.raises(VerificationError):
        verify_envelope(Envelope.from_dict(obj), [_spec_verifier()])


def test_threshold_counts_distinct_keys() -> None:
    a = Ed25519Identity.from_seed("a.example/log", bytes([1]) * 32)
    b = Ed25519Identity.from_seed("b.example/log", bytes([2]) * 32)
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(a), Ed25519DSSESigner(a)])
    verifiers = [Ed25519DSSEVerifier(a.vkey()), Ed25519DSSEVerifier(b.vkey())]
    assert verify_envelope(env, verifiers).keyids == (f"a.example/log+{a.vkey().key_id:08x}",)
    with pytest.raises(UnknownKey):
        verify_envelope(env, verifiers, threshold=2)
    both = sign_envelope("application/x", b"body", [Ed25519DSSESigner(a), Ed25519DSSESigner(b)])
    assert len(verify_envelope(Envelope.from_json(both.to_json()), verifiers, threshold=2).keyids) == 2


@pytest.mark.parametrize(
    "bad",
    [
        b"[]",
        b"{}",
        b'{"payload": "aGk=", "payloadType": "x"}',
        b'{"payload": "a", "payloadType": "x", "signatures": []}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [{"keyid": "k"}]}',
        b"not json",
    ],
)
def test_malformed_envelopes(bad: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        Envelope.from_json(bad)


# --- in-toto -----------------------------------------------------------------------------------

GOLDEN = (
    '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"theSub","digest":{"alg1":"abc123"}}],'
    '"predicateType":"thePredicate","predicate":{"keyObj":{"subKey":"subVal"}}}'
)


def test_intoto_golden_statement_round_trips() -> None:
    st = Statement.from_json(GOLDEN)
    assert st.subject[0].digest == {"alg1": "abc123"}
    assert json.loads(st.to_json()) == json.loads(GOLDEN)


@pytest.mark.parametrize(
    "change",
    [
        {"_type": "https://in-toto.io/Statement/v0.1"},
        {"subject": []},
        {"subject": [{"name": "x", "digest": {"sha256": "ABCDEF"}}]},
        {"predicateType": ""},
    ],
)
def test_intoto_rejects(change: dict) -> None:
    obj = {**json.loads(GOLDEN), **change}
    with pytest.raises(MalformedEnvelope):
        Statement.from_json(json.dumps(obj))


# --- canonical JSON ----------------------------------------------------------------------------


def test_rfc8785_examples() -> None:
    # RFC 8785 §3.2.3 sorting (UTF-16 code units) and §3.2.2.3 numbers
    assert canonical_json({"\u20ac": 1, "\r": 2, "1": 3, "\U0001f600": 4, "\u00f6": 5}) == (
        '{"\\r":2,"1":3,"\u00f6":5,"\u20ac":1,"\U0001f600":4}'.encode()
    )
    assert (
        canonical_json([1e21, 1e-7, -0.0, 0.000001, 333333333.3333333]) == b"[1e+21,1e-7,0,0.000001,333333333.3333333]"
    )
    assert canonical_json({"b": [True, None], "a": "\u2028"}) == '{"a":"\u2028","b":[true,null]}'.encode()


@pytest.mark.parametrize("bad", [b'{"a": NaN}', b'{"a": 1, "a": 2}', b"\xff", b"[1,", b"Infinity"])
def test_parse_json_is_strict(bad: bytes) -> None:
    with pytest.raises(MalformedJSON):
        parse_json(bad)


def test_canonical_json_refuses_unrepresentable_numbers() -> None:
    with pytest.raises(MalformedJSON):
        canonical_json({"n": 2**64})


# --- cosignatures ------------------------------------------------------------------------------


def test_sigsum_cosignature_is_reproduced_byte_for_byte() -> None:
    ident = Ed25519Identity.from_seed("example.org/witness", b"\x11" + bytes(31))
    cp = Checkpoint("example.org/log", 10, base64.b64decode("HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    line = cosign(cp, ident, 1234).line()
    assert line == (
        "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbofIz0"
        "LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n"
    )
    raw = base64.b64decode(line.split(" ")[-1])
    assert len(raw) == 76
    assert struct.unpack(">IQ", raw[:12]) == (0xCACF2E50, 1234)
    note = parse_note(cp.body() + "\n" + line)
    (c,) = verify_cosignatures(note, [verifier_for(ident.cosigner_vkey())])
    assert (c.witness, c.timestamp) == ("example.org/witness", 1234)


# --- signed notes with many signatures ----------------------------------------------------------


@pytest.mark.parametrize("count", [16, 100])
def test_notes_with_many_signatures_verify(count: int) -> None:
    from detente.crypto.note import Ed25519NoteSigner, open_note, sign_note

    idents = [Ed25519Identity.from_seed(f"w{i}.example", bytes([i]) * 32) for i in range(count)]
    note = sign_note("many signers\n", [Ed25519NoteSigner(i) for i in idents])
    opened = open_note(note.to_bytes(), [verifier_for(idents[-1].vkey())])
    assert opened.verified_names == (idents[-1].name,)
    assert len(opened.unverified) == count - 1


def test_a_note_with_101_signatures_is_refused() -> None:
    from detente.crypto.note import Ed25519NoteSigner, sign_note
    from detente.errors import MalformedNote

    idents = [Ed25519Identity.from_seed(f"w{i}.example", bytes([i]) * 32) for i in range(101)]
    note = sign_note("too many\n", [Ed25519NoteSigner(i) for i in idents])
    with pytest.raises(MalformedNote):
        parse_note(note.to_bytes())
