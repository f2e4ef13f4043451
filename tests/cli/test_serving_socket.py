"""The socket ``detente serve`` listens on (``detente.cli.serving.bind``): every connection it
accepts has TCP_NODELAY, so an answer leaves at once instead of waiting ~40 ms for the client's
delayed ACK. asyncio sets the option only on connections of sockets it made itself with proto
IPPROTO_TCP; this one is made by ``socket.create_server`` (proto 0), so the node sets it on the
listener and the accepted connections inherit it (every request to a node took 44 ms before)."""

from __future__ import annotations

import socket

from detente.cli.serving import bind


def test_accepted_connections_answer_without_nagle_delay() -> None:
    listener = bind("127.0.0.1", 0, where="test")
    try:
        assert listener.proto == 0  # asyncio's own nodelay would skip its connections
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            conn, _ = listener.accept()
            with conn:
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()
