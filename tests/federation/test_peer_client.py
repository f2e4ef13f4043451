"""The HTTP client a node uses towards its peers bounds each answer in time and size, not only
each read: a peer that trickles its answer cannot hold a sync or the witness publisher."""

from __future__ import annotations

import time

import pytest

from detente.errors import StoreUnavailable
from detente.node.client import PeerClient


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
