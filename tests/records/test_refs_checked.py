"""A record's references are checked before it is signed: one into this party's own log names a
leaf the log holds, by that leaf's hash; one into a followed peer's log, by the hash this node
holds for that leaf. A reference to a record that does not exist is never signed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from detente.api.app import create_app
from detente.errors import LogNotFound, MalformedRecord
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token
from detente.records.record import Record
from detente.records.ref import RecordRef

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from hostile_peer import HostilePeer

STATEMENT = "detente.dev/statement/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, HostilePeer]]:
    """A node (us) that has mirrored two records of a peer (cn) and logged one of its own."""
    tmp = tmp_path_factory.mktemp("refs")
    peer = HostilePeer(tmp / "cn")
    peer.append(STATEMENT, {"n": 1}, n=2)
    local = LocalNode("us", "us.example/log", tmp / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    token = issue_token(node.state, "admin", "refs test", int(time.time()))
    try:
        with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as client:
            assert (
                client.post("/api/v1/peers", json={"name": "cn", "url": peer.url, "vkey": peer.vkey()}).status_code
                == 201
            )
            assert client.post("/api/v1/peers/cn/sync").json()["size"] == 2
        node.writer.append(_statement(node))
        yield node, peer
    finally:
        node.stop()
        peer.close()


def _statement(node: Node, *refs: RecordRef) -> Record:
    return Record(type=STATEMENT, party=node.signer.identity.name, issued=datetime.now(UTC), body={}, refs=refs)


def _leaf(node: Node, origin: str, index: int) -> str:
    (item,) = node.records.at(origin, index)
    return item.leaf_hash


def test_a_ref_into_the_own_log_with_a_wrong_hash_or_past_its_end_is_refused(served) -> None:  # type: ignore[no-untyped-def]
    node, _ = served
    me, size = node.signer.identity.name, node.log.size
    with pytest.raises(
        MalformedRecord, match=r"refs\[0\] names .*#0 with leaf hash 0{64}, but that leaf's hash is"
    ) as caught:
        node.writer.append(_statement(node, RecordRef(origin=me, index=0, leaf_hash="00" * 32)))
    assert caught.value.hint
    with pytest.raises(LogNotFound, match=r"refs\[1\] .* past the end of this party's log"):
        node.writer.append(_statement(node, RecordRef(origin=me, index=0, leaf_hash=_leaf(node, me, 0)),
                                      RecordRef(origin=me, index=size, leaf_hash="00" * 32)))  # fmt: skip
    assert node.log.size == size
    node.writer.append(_statement(node, RecordRef(origin=me, index=0, leaf_hash=_leaf(node, me, 0))))
    assert node.log.size == size + 1


def test_a_ref_into_a_mirrored_log_is_checked_against_the_held_leaf(served) -> None:  # type: ignore[no-untyped-def]
    node, peer = served
    size = node.log.size
    with pytest.raises(MalformedRecord, match=r"refs\[0\] names .*#1 with leaf hash"):
        node.writer.append(
            _statement(node, RecordRef(origin=peer.origin, index=1, leaf_hash=_leaf(node, peer.origin, 0)))
        )
    assert node.log.size == size
    node.writer.append(_statement(node, RecordRef(origin=peer.origin, index=1, leaf_hash=_leaf(node, peer.origin, 1))))
    # a leaf not mirrored yet, or of a log this node does not follow, cannot be checked here
    node.writer.append(_statement(node, RecordRef(origin=peer.origin, index=5, leaf_hash="00" * 32)))
    node.writer.append(_statement(node, RecordRef(origin="eu.example/log", index=0, leaf_hash="00" * 32)))
    assert node.log.size == size + 3
