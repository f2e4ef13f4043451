"""The HTTP client a node uses towards its peers bounds each answer in time and size, not only
each read: a peer that trickles its answer (or its headers) cannot hold a sync or the witness
publisher, and a compressed answer is refused before anything inflates it."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from detente.errors import DetenteError, StoreUnavailable
from detente.node.client import MAX_CHECKPOINT, PeerClient


@pytest.mark.parametrize("call", ["checkpoint", "add_checkpoint"])
def test_a_trickled_answer_is_cut_off_at_the_timeout(trickler, call: str) -> None:  # type: ignore[no-untyped-def]
    # 200 at once, then one byte of body every 0.1 s: each read well within the timeout
    url = trickler(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n", b"x", 0.1)
    client = PeerClient(url, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="took over 1s"):
        client.checkpoint() if call == "checkpoint" else client.add_checkpoint(b"old 0\n")
    assert time.monotonic() - start < 3.0  # not the 100 s the peer would take
    client.close()


@pytest.mark.parametrize("call", ["checkpoint", "add_checkpoint"])
def test_trickled_headers_are_cut_off_at_the_timeout(trickler, call: str) -> None:  # type: ignore[no-untyped-def]
    # a status line, then a header line every 0.1 s: each read well within the timeout, and no
    # read timeout ever fires (httpx bounds each read, not the exchange)
    url = trickler(b"HTTP/1.1 200 OK\r\n", b"X-Pad: a\r\n", 0.1)
    client = PeerClient(url, timeout=1.0)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            client.checkpoint() if call == "checkpoint" else client.add_checkpoint(b"old 0\n")
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)  # far past the 1 s deadline: without it, the peer holds the call for ~17 min
    assert not worker.is_alive(), "the exchange was not cut off"
    assert isinstance(outcome[0], StoreUnavailable) and "took over 1s" in outcome[0].message
    client.close()


class _Compressing(BaseHTTPRequestHandler):
    """Answers every request with a gzip body that inflates to 64 MiB, and notes the request's
    Accept-Encoding."""

    BODY = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    asked: ClassVar[list[str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        type(self).asked.append(self.headers.get("Accept-Encoding"))
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    do_GET = do_POST = _answer


@pytest.fixture
def compressing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Compressing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("call", ["checkpoint", "add_checkpoint"])
def test_a_compressed_answer_is_refused_before_it_is_inflated(compressing: str, call: str) -> None:
    assert len(_Compressing.BODY) < MAX_CHECKPOINT  # what travels is under the checkpoint's limit
    client = PeerClient(compressing, timeout=30.0)
    _Compressing.asked.clear()
    tracemalloc.start()
    try:
        with pytest.raises(DetenteError, match="Content-Encoding 'gzip'"):
            client.checkpoint() if call == "checkpoint" else client.add_checkpoint(b"old 0\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert _Compressing.asked == ["identity"]  # and it asked for none
    assert peak < 4 * MAX_CHECKPOINT  # nothing was inflated (64 MiB if it had been)
