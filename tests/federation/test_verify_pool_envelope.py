"""The verify pool's envelope parse (``detente.node.verify_pool._envelope_parts``) is
:meth:`Envelope.from_json`: the same envelope for every entry, or the same typed error.

It reads the usual entry (canonical JSON, one signature) with one regular expression instead of
the strict JSON parse; these entries are built to sit on each edge of that expression: escapes,
control characters, bytes that are not UTF-8, URL-safe, unpadded and over-padded base64, a second
signature, no key id, duplicate keys, whitespace."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.dsse import Envelope, EnvelopeSignature
from detente.errors import DetenteError
from detente.node.verify_pool import _envelope_parts


def _envelope(entry: bytes) -> Envelope:
    payload, payload_type, sigs = _envelope_parts(entry)
    return Envelope(payload, payload_type, tuple(EnvelopeSignature(sig, keyid) for sig, keyid in sigs))


def _same(entry: bytes) -> Envelope | None:
    try:
        expected: Envelope | DetenteError = Envelope.from_json(entry)
    except DetenteError as exc:
        expected = exc
    if isinstance(expected, DetenteError):
        with pytest.raises(type(expected)) as got:
            _envelope(entry)
        assert got.value.message == expected.message
        return None
    assert _envelope(entry) == expected
    return expected


def _entry(payload: bytes, ptype: bytes, keyid: bytes, sig: bytes) -> bytes:
    return b'{"payload":"%s","payloadType":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}' % (
        payload,
        ptype,
        keyid,
        sig,
    )


SIG = b"A" * 86 + b"=="  # 64 bytes, as an Ed25519 signature
CASES = [
    _entry(b"eyJhIjoxfQ==", b"application/vnd.detente.record+json", b"us.example/log+0a1b2c3d", SIG),
    _entry(b"", b"", b"k", b""),
    _entry(b"eyJhIjoxfQ", b"t", b"k", SIG),  # unpadded: the general parse accepts it (URL-safe rules)
    _entry(b"eyJhIjoxfQ=", b"t", b"k", SIG),  # one pad short
    _entry(b"eyJhIjoxfQ===", b"t", b"k", SIG),  # one pad too many
    _entry(b"AAAA=", b"t", b"k", SIG),  # an extra pad after a full quantum
    _entry(b"AAAAA", b"t", b"k", SIG),
    _entry(b"AB==AB==", b"t", b"k", SIG),  # padding in the middle
    _entry(b"ey-_", b"t", b"k", SIG),  # URL-safe alphabet
    _entry(b"eyJhIjoxfQ==", b"t", b"k", b"A" * 87 + b"="),
    _entry(b"eyJhIjoxfQ==", b"t\\u0041", b"k", SIG),  # an escape: the general parse decodes it
    _entry(b"eyJhIjoxfQ==", b't\\"', b"k", SIG),
    _entry(b"eyJhIjoxfQ==", b"t\x01", b"k", SIG),  # a raw control character: not JSON
    _entry(b"eyJhIjoxfQ==", "t\u00e9\u4e2d".encode(), b"k", SIG),  # UTF-8
    _entry(b"eyJhIjoxfQ==", b"t\xff", b"k", SIG),  # not UTF-8
    _entry(b"eyJhIjoxfQ==", b"t", b"\xc3", SIG),  # a cut UTF-8 sequence
    _entry(b"eyJhIjoxfQ==", b"t", b"", SIG),  # empty key id: None
    b'{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[{"sig":"%s"}]}' % SIG,
    b'{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[{"keyid":"a","sig":"%s"},{"keyid":"b","sig":"%s"}]}'
    % (SIG, SIG),
    b'{"payload":"eyJhIjoxfQ==","payload":"AAAA","payloadType":"t","signatures":[{"keyid":"k","sig":"%s"}]}' % SIG,
    b'{"payload": "eyJhIjoxfQ==","payloadType":"t","signatures":[{"keyid":"k","sig":"%s"}]}' % SIG,
    _entry(b"eyJhIjoxfQ==", b"t", b"k", SIG) + b"\n",
    b"\xef\xbb\xbf" + _entry(b"eyJhIjoxfQ==", b"t", b"k", SIG),
    b'{"payloadType":"t","payload":"eyJhIjoxfQ==","signatures":[{"keyid":"k","sig":"%s"}]}' % SIG,
    b'{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[],"x":1}',
    b"[]",
    b"",
]


@pytest.mark.parametrize("entry", CASES)
def test_the_fast_parse_gives_what_the_strict_one_gives(entry: bytes) -> None:
    _same(entry)


def test_the_usual_entry_takes_the_fast_parse_and_reads_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = CASES[0]
    env = _same(entry)
    monkeypatch.setattr(Envelope, "from_json", None)  # not called for this entry
    assert _envelope(entry) == env
    assert env is not None and env.payload == b'{"a":1}' and env.signatures[0].keyid == "us.example/log+0a1b2c3d"
    assert env.payload_type == "application/vnd.detente.record+json" and env.signatures[0].sig == bytes(64)


_B64 = st.text(alphabet="AB+/=-_", max_size=12).map(str.encode)
_TEXT = st.binary(max_size=6) | st.text(max_size=6).map(str.encode)


@settings(max_examples=400, deadline=None)
@given(_B64, _TEXT, _TEXT, _B64)
def test_any_entry_of_the_canonical_shape_parses_alike(payload: bytes, ptype: bytes, keyid: bytes, sig: bytes) -> None:
    _same(_entry(payload, ptype, keyid, sig))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=120))
def test_an_entry_with_bytes_put_in_parses_alike(junk: bytes, at: int) -> None:
    entry = CASES[0]
    at = min(at, len(entry))
    _same(entry[:at] + junk + entry[at:])


def test_json_written_by_the_standard_library_parses_alike() -> None:
    obj = {"payload": "eyJhIjoxfQ==", "payloadType": "t/é", "signatures": [{"keyid": "k\u2028", "sig": SIG.decode()}]}
    for text in (json.dumps(obj), json.dumps(obj, separators=(",", ":")), json.dumps(obj, ensure_ascii=False)):
        _same(text.encode())
