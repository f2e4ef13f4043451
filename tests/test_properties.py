"""Property tests (hypothesis): every parser either parses or raises its typed error, formats
round-trip, and proofs verify exactly when they should."""

from __future__ import annotations

import contextlib
import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.crypto.dsse import Envelope
from detente.crypto.intoto import Statement
from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.crypto.note import Ed25519NoteSigner, open_note, parse_note, sign_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import (
    InclusionError,
    MalformedCheckpoint,
    MalformedEnvelope,
    MalformedError,
    MalformedKey,
    MalformedNote,
    MalformedRecord,
    MalformedTile,
    VerificationError,
)
from detente.records.record import Record
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.compact import CompactRange
from detente.tlog.integrate import integrate
from detente.tlog.proofs import consistency_proof, inclusion_proof, verify_consistency, verify_inclusion
from detente.tlog.tiles import (
    TileID,
    decode_entry_bundle,
    encode_entry_bundle,
    nodes_from_tiles,
    parse_tile_path,
)

IDENT = Ed25519Identity.from_seed("prop.example/log", bytes(range(32)))
anything = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode))


def _only(error: type[MalformedError], fn, data):  # type: ignore[no-untyped-def]
    with contextlib.suppress(error):
        fn(data)


@given(anything)
def test_parse_note_parses_or_raises_malformed_note(data: bytes) -> None:
    _only(MalformedNote, parse_note, data)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.just("\n"), min_size=0, max_size=200))
def test_sign_then_open_round_trips(text: str) -> None:
    text = text + "\n"
    note = sign_note(text, [Ed25519NoteSigner(IDENT)])
    opened = open_note(note.to_bytes(), [verifier_for(IDENT.vkey())])
    assert opened.text == text


@given(anything)
def test_checkpoint_parse(data: bytes) -> None:
    _only(MalformedCheckpoint, lambda d: Checkpoint.parse(d.decode("utf-8", "replace")), data)


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: "\n" not in s),
    st.integers(0, 2**63),
    st.binary(min_size=32, max_size=32),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes) -> None:
    cp = Checkpoint(origin, size, root)
    assert Checkpoint.parse(cp.body()) == cp


@given(st.text(max_size=120))
def test_vkey_parse(text: str) -> None:
    try:
        vk = VerifierKey.parse(text)
    except MalformedKey:
        return
    assert VerifierKey.parse(str(vk)) == vk


@given(anything)
def test_envelope_parse(data: bytes) -> None:
    _only(MalformedEnvelope, Envelope.from_json, data)


@given(st.binary(max_size=200), st.text(max_size=40))
def test_envelope_round_trip(payload: bytes, ptype: str) -> None:
    from detente.crypto.dsse import EnvelopeSignature

    env = Envelope(payload, ptype, (EnvelopeSignature(b"sig", "k"),))
    assert Envelope.from_json(env.to_json()) == env


@given(anything)
def test_statement_parse(data: bytes) -> None:
    _only(MalformedEnvelope, Statement.from_json, data)


@given(anything)
def test_record_parse(data: bytes) -> None:
    _only(MalformedRecord, Record.from_json, data)


@given(st.text(alphabet="tile/entriesx0123456789.p%", max_size=40))
def test_tile_path_parse(path: str) -> None:
    try:
        tid = parse_tile_path(path)
    except MalformedTile:
        return
    assert tid.path() == path


@given(st.integers(-1, 63), st.integers(0, 10**12), st.integers(1, 256))
def test_tile_path_round_trip(level: int, index: int, width: int) -> None:
    tid = TileID(level, index, width)
    assert parse_tile_path(tid.path()) == tid


@given(st.lists(st.binary(max_size=300), max_size=40))
def test_entry_bundle_round_trip(entries: list[bytes]) -> None:
    assert decode_entry_bundle(encode_entry_bundle(entries)) == entries


@given(st.binary(max_size=400))
def test_entry_bundle_parse(data: bytes) -> None:
    _only(MalformedTile, decode_entry_bundle, data)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 600), min_size=1, max_size=6), st.data())
def test_proofs_verify_and_any_change_fails(batches: list[int], data: st.DataObject) -> None:
    tiles: dict[tuple[int, int], tuple[bytes, int]] = {}
    size, leaves, roots = 0, [], {}
    from detente.tlog.integrate import edge_tiles

    for n in batches:
        entries = [b"%d" % (size + i) for i in range(n)]
        edge = {t: tiles[(t.level, t.index)][0] for t in edge_tiles(size)}
        res = integrate(size, edge, entries)
        for t, blob in {**res.tiles, **res.bundles}.items():
            tiles[(t.level, t.index)] = (blob, t.width)
        leaves += res.leaf_hashes
        size = res.size
        roots[size] = res.root
    cr = CompactRange()
    for h in leaves:
        cr.append(h)
    assert cr.root() == roots[size]

    def fetch(nodes):  # type: ignore[no-untyped-def]
        return nodes_from_tiles(nodes, tiles.__getitem__)

    m = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(m, size, fetch)
    verify_inclusion(leaves[m], m, size, proof, roots[size])
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        try:
            verify_inclusion(leaves[m], m, size, bad, roots[size])
        except InclusionError:
            pass
        else:
            raise AssertionError("a changed proof verified")
    old = data.draw(st.sampled_from(sorted(roots)))
    cproof = consistency_proof(old, size, fetch)
    verify_consistency(old, size, roots[old], roots[size], cproof)
    if old < size:
        try:
            verify_consistency(old, size, roots[old], hashlib.sha256(roots[size]).digest(), cproof)
        except VerificationError:
            pass
        else:
            raise AssertionError("a wrong root verified")


@given(
    st.lists(st.binary(min_size=32, max_size=32), max_size=8),
    st.integers(0, 40),
    st.integers(0, 40),
    st.binary(min_size=0, max_size=40),
    st.binary(min_size=0, max_size=40),
)
def test_garbage_proofs_raise_only_typed_errors(
    proof: list[bytes], index: int, size: int, leaf: bytes, root: bytes
) -> None:
    with contextlib.suppress(VerificationError):
        verify_inclusion(leaf, index, size, proof, root)
    with contextlib.suppress(VerificationError):
        verify_consistency(index, size, leaf, root, proof)
