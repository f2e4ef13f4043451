"""detente.crypto.dsse against the DSSE v1 protocol (secure-systems-lab/dsse protocol.md and
envelope.md): the PAE and ECDSA P-256 test vector, both base64 alphabets, thresholds over
distinct keys, and the envelope parser."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.dsse import (
    ECDSAP256Verifier,
    Ed25519DSSESigner,
    Ed25519DSSEVerifier,
    Envelope,
    EnvelopeSignature,
    pae,
    sign_envelope,
    verify_envelope,
)
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.errors import MalformedEnvelope, MalformedKey, UnknownKey, VerificationError

# DSSE protocol.md "Test Vectors" (secure-systems-lab/dsse @ eebf7b5)
PAYLOAD_TYPE = "http://example.com/HelloWorld"
BODY = b"hello world"
PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SIG = "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
ENVELOPE = {"payload": "aGVsbG8gd29ybGQ=", "payloadType": PAYLOAD_TYPE, "signatures": [{"sig": SIG}]}


def _spec_verifier() -> ECDSAP256Verifier:
    return ECDSAP256Verifier(ec.EllipticCurvePublicNumbers(X, Y, ec.SECP256R1()).public_key())


def _envelope(**changes: object) -> Envelope:
    return Envelope.from_json(json.dumps({**ENVELOPE, **changes}))


def _urlsafe(b64: str, *, padded: bool) -> str:
    out = base64.urlsafe_b64encode(base64.b64decode(b64)).decode()
    return out if padded else out.rstrip("=")


A = Ed25519Identity.from_seed("a.example/party", bytes([1]) * 32)
B = Ed25519Identity.from_seed("b.example/party", bytes([2]) * 32)
C = Ed25519Identity.from_seed("c.example/party", bytes([3]) * 32)


# --- PAE -------------------------------------------------------------------------------------------


def test_pae_is_exactly_the_spec_bytes() -> None:
    assert pae(PAYLOAD_TYPE, BODY) == PAE


@pytest.mark.parametrize(
    ("payload_type", "body", "expected"),
    [
        ("", b"", b"DSSEv1 0  0 "),
        ("é", b"\x00\n", b"DSSEv1 2 \xc3\xa9 2 \x00\n"),  # lengths count bytes, not characters
        ("t", b"x" * 100, b"DSSEv1 1 t 100 " + b"x" * 100),  # decimal, no leading zeros
    ],
)
def test_pae_lengths(payload_type: str, body: bytes, expected: bytes) -> None:
    assert pae(payload_type, body) == expected


# --- the spec vector --------------------------------------------------------------------------------


def test_spec_envelope_verifies() -> None:
    env = Envelope.from_json(json.dumps(ENVELOPE))
    assert (env.payload, env.payload_type) == (BODY, PAYLOAD_TYPE)
    assert len(env.signatures[0].sig) == 64  # raw r ‖ s
    verified = verify_envelope(env, [_spec_verifier()])
    assert (verified.payload_type, verified.payload) == (PAYLOAD_TYPE, BODY)


def test_spec_envelope_in_the_url_safe_alphabet_verifies() -> None:
    assert "+" in SIG  # so the URL-safe spelling really differs
    env = _envelope(
        payload=_urlsafe(ENVELOPE["payload"], padded=True),
        signatures=[{"sig": _urlsafe(SIG, padded=True)}],
    )
    assert verify_envelope(env, [_spec_verifier()]).payload == BODY


def _accepted(**changes: object) -> bool:
    try:
        _envelope(**changes)
    except MalformedEnvelope:
        return False
    return True


def test_unpadded_base64_is_treated_alike_whatever_characters_it_contains() -> None:
    # Unpadded URL-safe text that happens to use '-' or '_' must not be treated differently from
    # unpadded text that does not: either both parse or both are refused.
    sig_unpadded = _urlsafe(SIG, padded=False)  # contains '-' and '_'
    payload_unpadded = _urlsafe(ENVELOPE["payload"], padded=False)  # "aGVsbG8gd29ybGQ": no '-' or '_'
    assert {"-", "_"} & set(sig_unpadded) and not {"-", "_"} & set(payload_unpadded)
    verdicts = {
        "sig": _accepted(signatures=[{"sig": sig_unpadded}]),
        "payload": _accepted(payload=payload_unpadded),
    }
    assert verdicts["sig"] == verdicts["payload"], verdicts


def test_spec_signature_in_der_form_verifies() -> None:
    raw = base64.b64decode(SIG)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    env = _envelope(signatures=[{"sig": base64.b64encode(der).decode()}])
    assert verify_envelope(env, [_spec_verifier()]).payload == BODY


@pytest.mark.parametrize("index", range(len(BODY)))
def test_one_changed_payload_byte_fails(index: int) -> None:
    body = bytearray(BODY)
    body[index] ^= 0x01
    with pytest.raises(VerificationError):
        verify_envelope(_envelope(payload=base64.b64encode(bytes(body)).decode()), [_spec_verifier()])


@pytest.mark.parametrize("index", [0, 1, 31, 32, 33, 63])
def test_one_changed_signature_byte_fails(index: int) -> None:
    sig = bytearray(base64.b64decode(SIG))
    sig[index] ^= 0x01
    with pytest.raises(VerificationError):
        verify_envelope(_envelope(signatures=[{"sig": base64.b64encode(bytes(sig)).decode()}]), [_spec_verifier()])


def test_changed_payload_type_fails() -> None:
    with pytest.raises(VerificationError):
        verify_envelope(_envelope(payloadType="http://example.com/HelloWorle"), [_spec_verifier()])


def test_other_key_does_not_verify_the_spec_envelope() -> None:
    with pytest.raises(UnknownKey):
        verify_envelope(Envelope.from_json(json.dumps(ENVELOPE)), [Ed25519DSSEVerifier(A.vkey())])


def test_unknown_fields_are_ignored() -> None:
    obj = json.loads(json.dumps(ENVELOPE))
    obj["extra"] = {"nested": [1, 2]}
    obj["signatures"][0]["keyid"] = "not used for security"
    obj["signatures"][0]["cert"] = "ignored"
    env = Envelope.from_json(json.dumps(obj))
    assert env.signatures[0].keyid == "not used for security"
    assert verify_envelope(env, [_spec_verifier()]).payload == BODY


def test_keyid_is_only_a_hint() -> None:
    # a wrong keyid does not stop the right key from verifying the signature
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A)])
    relabelled = Envelope(env.payload, env.payload_type, (EnvelopeSignature(env.signatures[0].sig, "b.example"),))
    assert verify_envelope(relabelled, [Ed25519DSSEVerifier(A.vkey())]).payload == b"body"


# --- signing, thresholds ------------------------------------------------------------------------------


def test_sign_to_json_and_back() -> None:
    env = sign_envelope("application/vnd.in-toto+json", b'{"a":1}', [Ed25519DSSESigner(A)])
    keyid = f"a.example/party+{A.vkey().key_id:08x}"
    sig = env.signatures[0].sig
    assert len(sig) == 64
    data = env.to_json()
    assert json.loads(data) == {
        "payload": base64.b64encode(b'{"a":1}').decode(),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}],
    }
    # the signature is Ed25519 over the PAE, checked with the library directly
    Ed25519PublicKey.from_public_bytes(A.public_bytes).verify(sig, pae("application/vnd.in-toto+json", b'{"a":1}'))
    again = Envelope.from_json(data)
    assert again == env
    assert verify_envelope(again, [Ed25519DSSEVerifier(A.vkey())]).keyids == (keyid,)


def test_threshold_counts_distinct_keys() -> None:
    twice = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A), Ed25519DSSESigner(A)])
    verifiers = [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey()), Ed25519DSSEVerifier(C.vkey())]
    assert len(verify_envelope(twice, verifiers).keyids) == 1
    with pytest.raises(UnknownKey):
        verify_envelope(twice, verifiers, threshold=2)
    two = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A), Ed25519DSSESigner(B)])
    assert set(verify_envelope(two, verifiers, threshold=2).keyids) == {
        f"a.example/party+{A.vkey().key_id:08x}",
        f"b.example/party+{B.vkey().key_id:08x}",
    }
    with pytest.raises(UnknownKey):
        verify_envelope(two, verifiers, threshold=3)


def test_the_same_trusted_key_listed_twice_counts_once() -> None:
    # DSSE protocol.md: a (t, n) threshold counts *unique* trusted keys whose signatures verify.
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A)])
    with pytest.raises(UnknownKey):
        verify_envelope(env, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(A.vkey())], threshold=2)


def test_untrusted_signatures_do_not_count() -> None:
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A), Ed25519DSSESigner(C)])
    with pytest.raises(UnknownKey):
        verify_envelope(env, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey())], threshold=2)


def test_no_verifiers_no_signatures_and_bad_thresholds() -> None:
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A)])
    with pytest.raises(UnknownKey):
        verify_envelope(env, [])
    with pytest.raises(UnknownKey):
        verify_envelope(Envelope(b"body", "application/x", ()), [Ed25519DSSEVerifier(A.vkey())])
    with pytest.raises(MalformedEnvelope):
        verify_envelope(env, [Ed25519DSSEVerifier(A.vkey())], threshold=0)
    with pytest.raises(MalformedEnvelope):
        sign_envelope("application/x", b"body", [])


def test_payload_type_allow_list() -> None:
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A)])
    v = [Ed25519DSSEVerifier(A.vkey())]
    assert verify_envelope(env, v, payload_types=["application/x"]).payload == b"body"
    with pytest.raises(MalformedEnvelope):
        verify_envelope(env, v, payload_types=["application/vnd.in-toto+json"])


def test_ed25519_verifier_needs_a_type_1_key() -> None:
    with pytest.raises(MalformedKey):
        Ed25519DSSEVerifier(A.cosigner_vkey())


# --- malformed envelopes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        b"not json",
        b"",
        b"\xff\xfe",
        b"[]",
        b'"envelope"',
        b"{}",
        b'{"payloadType": "x", "signatures": []}',  # no payload
        b'{"payload": "aGk=", "signatures": []}',  # no payloadType
        b'{"payload": "aGk=", "payloadType": "x"}',  # no signatures
        b'{"payload": null, "payloadType": "x", "signatures": []}',
        b'{"payload": "aGk=", "payloadType": 7, "signatures": []}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": {}}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": ["c2ln"]}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [{"keyid": "k"}]}',  # no sig
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [{"sig": 5}]}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [{"sig": "c2ln", "keyid": 5}]}',
        b'{"payload": "a", "payloadType": "x", "signatures": []}',  # bad base64
        b'{"payload": "aGk!", "payloadType": "x", "signatures": []}',
        b'{"payload": "aG k=", "payloadType": "x", "signatures": []}',
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [{"sig": "c2l*"}]}',
        b'{"payload": "aGk=", "payload": "aGk=", "payloadType": "x", "signatures": []}',  # duplicate key
        b'{"payload": "aGk=", "payloadType": "x", "signatures": [], "n": NaN}',
    ],
)
def test_malformed_envelopes_raise_malformed_envelope(bad: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        Envelope.from_json(bad)


def test_empty_payload_and_empty_signature_list_are_well_formed() -> None:
    env = Envelope.from_json(b'{"payload": "", "payloadType": "", "signatures": []}')
    assert (env.payload, env.payload_type, env.signatures) == (b"", "", ())


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(payload_type=st.text(max_size=40), body=st.binary(max_size=200))
def test_sign_serialise_parse_verify_round_trip(payload_type: str, body: bytes) -> None:
    env = sign_envelope(payload_type, body, [Ed25519DSSESigner(A), Ed25519DSSESigner(B)])
    again = Envelope.from_json(env.to_json())
    assert again == env
    verified = verify_envelope(again, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey())], threshold=2)
    assert (verified.payload_type, verified.payload) == (payload_type, body)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["payload", "payloadType", "signatures", "sig", "keyid", "x"]), inner, max_size=4
            )
        ),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode())
)
def test_arbitrary_input_parses_or_raises_malformed_envelope(data: bytes) -> None:
    try:
        env = Envelope.from_json(data)
    except MalformedEnvelope:
        return
    assert Envelope.from_json(env.to_json()) == env


# --- found by mutation testing ---------------------------------------------------------------------


def test_a_trusted_signature_after_an_untrusted_one_still_counts() -> None:
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(C), Ed25519DSSESigner(B), Ed25519DSSESigner(A)])
    verified = verify_envelope(env, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey())], threshold=2)
    assert verified.keyids == (f"a.example/party+{A.vkey().key_id:08x}", f"b.example/party+{B.vkey().key_id:08x}")


def test_an_empty_keyid_is_no_keyid() -> None:
    sig = base64.b64encode(bytes(64)).decode()
    env = Envelope.from_json(json.dumps({"payload": "", "payloadType": "x", "signatures": [{"sig": sig, "keyid": ""}]}))
    assert env.signatures[0].keyid is None
    assert json.loads(env.to_json())["signatures"] == [{"sig": sig}]


def test_too_few_signatures_say_how_many_verified_and_how_many_were_needed() -> None:
    env = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A)])
    with pytest.raises(UnknownKey, match=r"^DSSE envelope has 1 valid signature\(s\) from trusted keys; 2 required$"):
        verify_envelope(env, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey())], threshold=2)
    with pytest.raises(MalformedEnvelope, match=r"^DSSE threshold must be at least 1$"):
        verify_envelope(env, [Ed25519DSSEVerifier(A.vkey())], threshold=-1)


@pytest.mark.parametrize("sig_type", [0x00, 0x02, 0x04, 0x05])
def test_a_dsse_verifier_takes_only_a_type_1_key(sig_type: int) -> None:
    with pytest.raises(MalformedKey, match=r"^a.example/party: DSSE needs an Ed25519 \(type 0x01\) key$"):
        Ed25519DSSEVerifier(VerifierKey("a.example/party", 0, sig_type, A.public_bytes))


def test_a_type_1_key_that_is_not_an_ed25519_public_key_is_refused() -> None:
    for key in (b"", b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(MalformedKey, match=r"^a.example/party: not an Ed25519 public key$"):
            Ed25519DSSEVerifier(VerifierKey("a.example/party", 0, 0x01, key))


def test_more_signatures_than_the_threshold_are_all_reported() -> None:
    two = sign_envelope("application/x", b"body", [Ed25519DSSESigner(A), Ed25519DSSESigner(B)])
    verified = verify_envelope(two, [Ed25519DSSEVerifier(A.vkey()), Ed25519DSSEVerifier(B.vkey())])  # threshold 1
    assert len(verified.keyids) == 2


def test_an_ecdsa_key_is_named_by_the_hash_of_its_der_public_key() -> None:
    verifier = _spec_verifier()
    der = verifier.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyid = "sha256:" + hashlib.sha256(der).hexdigest()
    assert verifier.keyid == keyid
    assert verify_envelope(Envelope.from_json(json.dumps(ENVELOPE)), [verifier]).keyids == (keyid,)


def test_verifiers_and_verified_payloads_are_frozen_values() -> None:
    assert Ed25519DSSEVerifier(A.vkey()) == Ed25519DSSEVerifier(A.vkey())  # compared by key, not by closure
    verified = verify_envelope(
        sign_envelope("application/x", b"b", [Ed25519DSSESigner(A)]), [Ed25519DSSEVerifier(A.vkey())]
    )
    for obj, field in [
        (Ed25519DSSEVerifier(A.vkey()), "vkey"),
        (_spec_verifier(), "key"),
        (verified, "payload"),
        (Ed25519DSSESigner(A), "identity"),
        (envelope := sign_envelope("application/x", b"b", [Ed25519DSSESigner(A)]), "payload"),
        (envelope.signatures[0], "sig"),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, None)
