"""The CLI's writes carry an ``Idempotency-Key``, one per write of an invocation, and a write whose
answer was lost (the connection dropped before the answer) is sent once more with the same key;
against a real HTTP server on loopback that drops the first answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from detente.cli.notices import _call
from detente.node.config import CONFIG_NAME, NodeConfig


class _Node(BaseHTTPRequestHandler):
    """Answers every write 201, except that it drops the connection on the first one it is sent."""

    seen: ClassVar[list[tuple[str, str | None]]] = []
    drop_first = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((self.path, self.headers.get("Idempotency-Key")))
        if type(self).drop_first and len(type(self).seen) == 1:
            self.close_connection = True
            self.connection.close()  # the request arrived; its answer never does
            return
        body = json.dumps({"index": len(type(self).seen)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Idempotency-Key")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def node_dir(tmp_path: Path) -> Iterator[Path]:
    _Node.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = NodeConfig(name="us", origin="us.example/log", public_url=f"http://127.0.0.1:{server.server_port}")
    (tmp_path / CONFIG_NAME).write_text(config.to_toml(), encoding="utf-8")
    yield tmp_path
    server.shutdown()
    server.server_close()


def test_a_write_whose_answer_was_lost_is_sent_again_with_the_same_key(node_dir: Path) -> None:
    answer = _call(node_dir, "dtk_x_y", "POST", "/api/v1/records", json={"type": "t"})
    assert answer == {"index": 2}
    [(_, first), (_, again)] = _Node.seen
    assert first is not None and first.startswith("detente-cli-") and again == first


def test_each_write_of_an_invocation_has_its_own_key_and_reads_have_none(node_dir: Path) -> None:
    _Node.drop_first = False
    try:
        _call(node_dir, "dtk_x_y", "POST", "/api/v1/records", json={"type": "t"})
        _call(node_dir, "dtk_x_y", "POST", "/api/v1/records", json={"type": "u"})
        _call(node_dir, "dtk_x_y", "GET", "/api/v1/status")
    finally:
        _Node.drop_first = True
    keys = [key for _, key in _Node.seen]
    assert keys[0] and keys[1] and keys[0] != keys[1] and keys[2] is None
    assert keys[0].rsplit("-", 1)[0] == keys[1].rsplit("-", 1)[0]  # one invocation
