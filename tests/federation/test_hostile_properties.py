"""Property tests: no input to the public witness endpoint yields a 5xx, and nothing a peer serves
makes a sync raise anything but a typed error (issue #17). In-process (FastAPI's TestClient and
``sync_peer`` over real HTTP to a hostile peer), so hypothesis can try many inputs."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hostile_peer import HostilePeer, forged_checkpoint, padded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.api.app import create_app
from detente.errors import DetenteError
from detente.node.client import PeerClient
from detente.node.config import load_config
from detente.node.localnet import LocalNode, _run_cli
from detente.node.node import Node
from detente.node.sync import sync_peer
from detente.node.tilelog import TileLog
from detente.store.sqlite import SQLiteStore
from detente.tlog.witness import format_add_checkpoint

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostilePeer]:
    hostile = HostilePeer(tmp_path_factory.mktemp("hostile"))
    hostile.append("detente.dev/statement/v1", {"text": "hello"}, n=3)
    yield hostile
    hostile.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, peer: HostilePeer) -> Iterator[TestClient]:
    local = LocalNode("us", "us.detente.example/log", tmp_path_factory.mktemp("victim") / "us").init()
    _run_cli(["peer", "add", "cn", peer.url, "--vkey", peer.vkey(), "-n", str(local.directory)])
    config, base = load_config(local.directory)
    node = Node(config, base)
    with TestClient(create_app(node)) as test_client:
        yield test_client
    node.stop()


def _lines(draw: st.DrawFn, peer: HostilePeer) -> bytes:
    """An add-checkpoint body built from pieces that are each plausible, combined at random."""
    real = peer.signed_checkpoint()
    size = draw(st.sampled_from(["0", "3", "2", "01", "-1", "9" * 25, "1" * 5000, "", "x"]))
    proof = draw(st.lists(st.sampled_from([b"\x00" * 32, b"\x01" * 31, b""]), max_size=4))
    note = draw(
        st.sampled_from(
            [
                real,
                padded(real),
                forged_checkpoint(peer.identity, 3, b"\x05" * 32),
                forged_checkpoint(peer.identity, 2**64 - 1, b"\x05" * 32),
                real.replace(b"\n3\n", b"\n" + b"7" * 5000 + b"\n"),
                real[:-5],
                b"",
            ]
        )
    )
    head = f"old {size}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n"
    return head.encode() + note


@PROPS
@given(data=st.data())
def test_no_witness_request_is_answered_5xx(client: TestClient, peer: HostilePeer, data: st.DataObject) -> None:
    body = data.draw(
        st.one_of(st.binary(max_size=2048), st.builds(lambda: b"").flatmap(lambda _: st.just(b"old 0\n\n")))
    )
    if data.draw(st.booleans()):
        body = data.draw(st.composite(lambda draw: _lines(draw, peer))())
    resp = client.post("/witness/add-checkpoint", content=body)
    assert resp.status_code < 500, resp.text
    assert client.get("/healthz").status_code == 200


def test_a_well_formed_request_is_still_cosigned(client: TestClient, peer: HostilePeer) -> None:
    """The property above must not pass by refusing everything."""
    resp = client.post(
        "/witness/add-checkpoint", content=format_add_checkpoint(0, [], padded(peer.signed_checkpoint()))
    )
    assert resp.status_code in (200, 409), resp.text


@PROPS
@given(data=st.data())
def test_a_sync_raises_only_typed_errors(
    tmp_path_factory: pytest.TempPathFactory, peer: HostilePeer, data: st.DataObject
) -> None:
    mirror = TileLog.mirror(SQLiteStore(tmp_path_factory.mktemp("mirror") / "m.db", create=True), peer.identity.vkey())
    real = peer.signed_checkpoint()
    peer.checkpoint = data.draw(
        st.one_of(
            st.binary(max_size=512),
            st.sampled_from(
                [
                    padded(real),
                    forged_checkpoint(peer.identity, 1_000_000, b"\x02" * 32),
                    forged_checkpoint(peer.identity, 2**64 - 1, b"\x02" * 32),
                    real.replace(b"\n3\n", b"\n" + b"7" * 5000 + b"\n"),
                ]
            ),
        )
    )
    junk = data.draw(st.binary(max_size=4096))
    peer.bundle = (lambda path: junk) if data.draw(st.booleans()) else None
    try:
        sync_peer(mirror, peer.identity.vkey(), PeerClient(peer.url, timeout=5), lambda fork: None)
    except DetenteError:
        pass
    finally:
        peer.checkpoint, peer.bundle = None, None
    assert mirror.refresh().size in (0, 3)  # nothing, or exactly the real log


def test_the_real_log_still_syncs(tmp_path: Path, peer: HostilePeer) -> None:
    mirror = TileLog.mirror(SQLiteStore(tmp_path / "m.db", create=True), peer.identity.vkey())
    result = sync_peer(mirror, peer.identity.vkey(), PeerClient(peer.url), lambda fork: None)
    assert result.size == 3 and mirror.size == 3
