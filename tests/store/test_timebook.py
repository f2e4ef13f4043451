"""The node's evidence of time (``detente.node.timebook``) on each driver: only cosignatures that
verify are kept, whoever serves them; first-mirrored times; a timeline read back from the store."""

from __future__ import annotations

from datetime import UTC, datetime

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner
from detente.node.timebook import TimeBook
from detente.protocol.timing import TimeRule
from detente.store.node_protocol import NodeStore
from detente.tlog.checkpoint import Checkpoint, sign_checkpoint
from detente.tlog.cosignature import cosign

CN, US, EU = "cn.example/log", "us.example/log", "eu.example/log"
T = 1_800_000_000


def _served(size: int, witnesses: list[tuple[Ed25519Identity, int]], *, forge: Ed25519Identity | None = None) -> bytes:
    cn = Ed25519Identity.generate(CN)
    cp = Checkpoint(CN, size, bytes([size]) * 32)
    note = sign_checkpoint(cp, [Ed25519NoteSigner(cn)])
    sigs = [cosign(cp, w, at) for w, at in witnesses]
    if forge is not None:  # a cosignature by ``forge`` over another root, attached to this checkpoint
        sigs.append(cosign(Checkpoint(CN, size, b"\x07" * 32), forge, T + 1))
    return note.with_signatures(sigs).to_bytes()


def test_only_cosignatures_from_known_witnesses_that_verify_are_kept(node_store: NodeStore) -> None:
    us, eu, stranger = Ed25519Identity.generate(US), Ed25519Identity.generate(EU), Ed25519Identity.generate("x.example")
    book = TimeBook(node_store)
    note = _served(5, [(us, T), (stranger, T - 100)], forge=eu)
    kept = book.served(note, [str(us.cosigner_vkey()), str(eu.cosigner_vkey())])
    assert kept == 1  # us's verifies; eu's is forged (refused); the stranger's key is not known
    assert [(r.size, r.source, r.at) for r in node_store.times(CN, "cosigned")] == [(5, US, T)]
    assert book.timeline(CN).interval(4).hi == datetime.fromtimestamp(T, UTC)
    assert book.served(b"not a note", [str(us.cosigner_vkey())]) == 0


def test_a_cosignature_this_node_made_and_first_mirrored_times(node_store: NodeStore) -> None:
    book = TimeBook(node_store)
    book.made(CN, 3, US, T + 5, "— us.example/log AAAA\n")
    assert node_store.times(CN, "cosigned")[0].line == "— us.example/log AAAA"
    book.mirrored(CN, 2, T + 1, US)
    book.mirrored(CN, 4, T + 9, US)
    assert book.first_mirrored(CN, 1) == datetime.fromtimestamp(T + 1, UTC)
    assert book.first_mirrored(CN, 3) == datetime.fromtimestamp(T + 9, UTC)
    assert book.first_mirrored(CN, 4) is None
    times = book.times(TimeRule(frozenset({EU})))  # only eu counts: us's cosignature does not
    from detente.protocol.threads import Logged
    from detente.records.record import Record

    item = Logged(CN, 0, "00", Record(type="detente.dev/statement/v1", party=CN, issued=datetime.now(UTC), body={}))
    assert times(item).hi is None
    assert book.times()(item).hi == datetime.fromtimestamp(T + 5, UTC)
