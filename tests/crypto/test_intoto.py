"""detente.crypto.intoto against in-toto Statement v1 (in-toto/attestation spec/v1 and the golden
JSON of go/v1/statement_test.go)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.canonical import canonical_json
from detente.crypto.dsse import Ed25519DSSESigner, Ed25519DSSEVerifier, sign_envelope, verify_envelope
from detente.crypto.intoto import PAYLOAD_TYPE, STATEMENT_TYPE, ResourceDescriptor, Statement
from detente.crypto.keys import Ed25519Identity
from detente.errors import MalformedEnvelope

# in-toto/attestation go/v1/statement_test.go
GOLDEN = (
    '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"theSub","digest":{"alg1":"abc123"}}],'
    '"predicateType":"thePredicate","predicate":{"keyObj":{"subKey":"subVal"}}}'
)


def _golden(**changes: Any) -> str:
    return json.dumps({**json.loads(GOLDEN), **changes})


def test_golden_statement_parses() -> None:
    st_ = Statement.from_json(GOLDEN)
    assert st_.type_ == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert [(s.name, s.digest) for s in st_.subject] == [("theSub", {"alg1": "abc123"})]
    assert st_.predicate_type == "thePredicate"
    assert st_.predicate == {"keyObj": {"subKey": "subVal"}}
    assert PAYLOAD_TYPE == "application/vnd.in-toto+json"


def test_golden_statement_round_trips_to_its_canonical_bytes() -> None:
    st_ = Statement.from_json(GOLDEN.encode())
    out = st_.to_json()
    assert out == canonical_json(json.loads(GOLDEN))
    assert Statement.from_json(out) == st_


def test_statement_built_in_python_serialises_canonically() -> None:
    st_ = Statement(
        subject=[ResourceDescriptor(name="model.bin", digest={"sha256": "ab" * 32})],
        predicate_type="https://detente.dev/eval/v1",
    )
    assert st_.to_json() == (
        b'{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://detente.dev/eval/v1",'
        b'"subject":[{"digest":{"sha256":"' + b"ab" * 32 + b'"},"name":"model.bin"}]}'
    )


def test_unknown_fields_are_ignored_when_reading() -> None:
    obj = json.loads(GOLDEN)
    obj["futureField"] = [1, 2]
    obj["subject"][0]["annotations"] = {"x": "y"}
    obj["subject"][0]["uri"] = "https://example.com/artifact"
    st_ = Statement.from_json(json.dumps(obj))
    assert st_.subject[0].digest == {"alg1": "abc123"}
    assert st_.subject[0].uri == "https://example.com/artifact"


def test_predicate_is_optional() -> None:
    obj = json.loads(GOLDEN)
    del obj["predicate"]
    assert Statement.from_json(json.dumps(obj)).predicate is None


@pytest.mark.parametrize(
    "changes",
    [
        {"_type": "https://in-toto.io/Statement/v0.1"},
        {"_type": "https://in-toto.io/Statement/v1/"},
        {"_type": 1},
        {"subject": []},
        {"subject": None},
        {"subject": [{"name": "x"}]},  # no digest
        {"subject": [{"name": "x", "digest": {}}]},  # empty digest set
        {"subject": [{"name": "x", "digest": {"sha256": "ABCDEF"}}]},  # uppercase hex
        {"subject": [{"name": "x", "digest": {"sha256": "abcdeg"}}]},  # not hex
        {"subject": [{"name": "x", "digest": {"sha512": "Ab"}}]},
        {"subject": [{"name": "x", "digest": {"sha256": ""}}]},
        {"predicateType": ""},
        {"predicateType": None},
        {"predicate": "not an object"},
    ],
)
def test_invalid_statements_raise_malformed_envelope(changes: dict[str, Any]) -> None:
    with pytest.raises(MalformedEnvelope):
        Statement.from_json(_golden(**changes))


@pytest.mark.parametrize("field", ["_type", "subject", "predicateType"])
def test_required_fields_are_required(field: str) -> None:
    # statement.md: `_type`, `subject` and `predicateType` are required.
    obj = json.loads(GOLDEN)
    del obj[field]
    with pytest.raises(MalformedEnvelope):
        Statement.from_json(json.dumps(obj))


@pytest.mark.parametrize(
    "bad",
    [b"", b"[]", b"not json", b"\xff", GOLDEN.replace('"predicateType"', '"subject":[],"predicateType"').encode()],
)
def test_malformed_json_raises_malformed_envelope(bad: bytes) -> None:
    # the last case repeats "subject": duplicate keys are refused
    with pytest.raises(MalformedEnvelope):
        Statement.from_json(bad)


def test_statement_in_a_dsse_envelope() -> None:
    ident = Ed25519Identity.from_seed("a.example/party", bytes([1]) * 32)
    st_ = Statement.from_json(GOLDEN)
    env = sign_envelope(PAYLOAD_TYPE, st_.to_json(), [Ed25519DSSESigner(ident)])
    verified = verify_envelope(env, [Ed25519DSSEVerifier(ident.vkey())], payload_types=[PAYLOAD_TYPE])
    assert Statement.from_json(verified.payload) == st_


_hex = st.text("0123456789abcdef", min_size=1, max_size=64)


@settings(max_examples=100, deadline=None)
@given(
    subjects=st.lists(
        st.tuples(
            st.text(max_size=20), st.dictionaries(st.sampled_from(["sha256", "sha512", "gitCommit"]), _hex, min_size=1)
        ),
        min_size=1,
        max_size=4,
    ),
    predicate_type=st.text(min_size=1, max_size=30),
    predicate=st.none()
    | st.dictionaries(st.text(max_size=8), st.integers(-1000, 1000) | st.text(max_size=8), max_size=4),
)
def test_statements_round_trip(
    subjects: list[tuple[str, dict[str, str]]], predicate_type: str, predicate: dict[str, Any] | None
) -> None:
    obj: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": d} for n, d in subjects],
        "predicateType": predicate_type,
    }
    if predicate is not None:
        obj["predicate"] = predicate
    st_ = Statement.from_json(json.dumps(obj))
    assert st_.to_json() == canonical_json(obj)
    assert Statement.from_json(st_.to_json()) == st_


def test_only_the_known_hex_algorithms_must_be_lowercase_hex() -> None:
    digest = {"gitCommit": "Not Hex At All", "sha256": "ab" * 32, "dirHash": "ABC"}
    st_ = Statement.from_json(_golden(subject=[{"name": "x", "digest": digest}]))
    assert st_.subject[0].digest == digest
    for algo in ("sha256", "sha1", "md5", "sm3", "blake2b"):
        with pytest.raises(MalformedEnvelope, match=f"digest {algo} must be lowercase hex"):
            Statement.from_json(_golden(subject=[{"name": "x", "digest": {algo: "AB"}}]))


@pytest.mark.parametrize("bad", ['["_type"]', '"_type"', "{}", '{"subject": []}'])
def test_what_is_not_an_object_with_a_type_is_refused_as_such(bad: str) -> None:
    with pytest.raises(MalformedEnvelope, match=r"^not an in-toto Statement v1: _type is required$"):
        Statement.from_json(bad)
