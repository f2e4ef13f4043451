"""A witnessing peer cannot grow our served checkpoint: it may answer a cosigning request with
many lines, all validly signed by its pinned cosigner key (each with its own time), but only its
newest is kept, so the note stays within the 100 signature lines every reader parses. A saved
note that no longer parses does not stop the node from starting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hostile_peer import HostilePeer

from detente.crypto.note import NoteSignature, parse_note
from detente.node.config import load_config
from detente.node.localnet import LocalNode, _run_cli
from detente.node.node import Node
from detente.tlog.cosignature import cosign
from detente.tlog.witness import parse_add_checkpoint

NOW = int(time.time())


class Witness(HostilePeer):
    """Serves an empty log and cosigns every checkpoint ``lines`` times, a second apart."""

    lines = 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler()
        peer = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                cp = parse_add_checkpoint(body).checkpoint
                lines = [cosign(cp, peer.identity, NOW - i).line() for i in range(peer.lines)]
                self._send(200, "".join(lines).encode())

        return Handler


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[tuple[Witness, Witness]]:
    flood, honest = (
        Witness(tmp_path / "a", origin="a.detente.example/log"),
        Witness(tmp_path / "b", "b.detente.example/log"),
    )
    flood.lines = 99
    yield flood, honest
    flood.close()
    honest.close()


def _node(tmp_path: Path, witnesses: tuple[Witness, ...]) -> Node:
    local = LocalNode("us", "us.detente.example/log", tmp_path / "us").init()
    for name, w in zip("ab", witnesses, strict=False):
        _run_cli(["peer", "add", name, w.url, "--vkey", w.vkey(), "--cosigner-vkey", w.cosigner_vkey(),
                  "-n", str(local.directory)])  # fmt: skip
    loaded, base = load_config(local.directory)
    return Node(loaded, base)


def test_a_witness_answering_with_99_cosignatures_leaves_one_line_its_newest(
    tmp_path: Path, witnesses: tuple[Witness, Witness]
) -> None:
    flood, honest = witnesses
    node = _node(tmp_path, witnesses)
    try:
        assert node.publisher.publish()
        served = parse_note(node.publisher.cosigned_checkpoint())
        by_name = [s.name for s in served.signatures]
        assert len(served.signatures) == 3  # our own, and one per witness
        assert by_name.count(flood.identity.name) == 1 and by_name.count(honest.identity.name) == 1
        (kept,) = [s for s in served.signatures if s.name == flood.identity.name]
        assert int.from_bytes(kept.signature[:8], "big") == NOW  # the newest of the 99
        assert parse_note(node.state.load_cosigned(node.log.origin) or b"").signatures == served.signatures
    finally:
        node.stop()


def test_a_saved_note_that_no_longer_parses_is_dropped_and_the_node_starts(tmp_path: Path) -> None:
    node = _node(tmp_path, ())
    own = node.log.signed_checkpoint()
    flooded = parse_note(own).with_signatures([NoteSignature("w.example", i, bytes(72)) for i in range(100)])
    node.state.save_cosigned(node.log.origin, flooded.to_bytes())  # 101 lines: parse_note refuses it
    node.stop()
    again = Node(*load_config(tmp_path / "us"))
    try:
        assert again.publisher.cosigned_checkpoint() == own
    finally:
        again.stop()


def test_the_served_note_stays_within_100_lines_however_many_witnesses_cosign(tmp_path: Path) -> None:
    node = _node(tmp_path, ())
    try:
        own = node.log.signed_checkpoint()
        many = [NoteSignature(f"w{i}.example", i, bytes(72)) for i in range(150)]  # 150 pinned witnesses
        node.publisher._cosigs = (own, many)
        served = parse_note(node.publisher.cosigned_checkpoint())  # what every reader does with it
        assert len(served.signatures) == 100 and served.signatures[0] == parse_note(own).signatures[0]
    finally:
        node.stop()


class _Ahead(Witness):
    """Answers every cosigning request 409: it claims to hold a larger checkpoint of our log."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler()

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(409, b"1000000\n")

        return Handler


def test_a_witness_claiming_a_larger_size_of_our_log_is_an_error_not_a_cosigned_size(tmp_path: Path) -> None:
    ahead = _Ahead(tmp_path / "a", origin="a.detente.example/log")
    node = _node(tmp_path, (ahead,))
    try:
        assert not node.publisher.publish()
        status = node.peering.status["a"]
        assert status.witness_size == 0 and "says it holds size 1000000" in (status.last_error or "")
    finally:
        node.stop()
        ahead.close()
