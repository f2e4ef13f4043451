"""The HTTP client a node uses towards its peers bounds each answer in time and size, not only
each read: a peer that trickles its answer cannot hold a sync or the witness publisher."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from detente.errors import StoreUnavailable
from detente.node.client import PeerClient


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server that answers 200 at once, then one byte of body every 0.1 s (each read well
    within any timeout, the whole answer 100 s)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n")
            for _ in range(1000):
                if stop.is_set():
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.1)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


@pytest.mark.parametrize("call", ["checkpoint", "add_checkpoint"])
def test_a_trickled_answer_is_cut_off_at_the_timeout(trickler: str, call: str) -> None:
    client = PeerClient(trickler, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="took over 1s"):
        client.checkpoint() if call == "checkpoint" else client.add_checkpoint(b"old 0\n")
    assert time.monotonic() - start < 3.0  # not the 100 s the peer would take
    client.close()
