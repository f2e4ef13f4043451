"""A peer that is slow, or that replays old answers, between real node processes on loopback.

``cn`` pulls ``us`` through a :class:`FaultProxy` (``us`` pushes its hints to ``cn`` directly), with
a 1.5 s ``peer_timeout``; the proxy slows or replays ``us``'s answers while the test watches ``cn``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from detente.crypto.keys import VerifierKey
from detente.node.localnet import LocalNode
from detente.node.tilelog import TileLog
from detente.store.open import open_store
from detente.tlog.checkpoint import Checkpoint

PEER_TIMEOUT = 1.5
GAVE_UP_IN_TIME = PEER_TIMEOUT + 3.5  # seconds: well under the 8 s delay and the ~30 s trickle
STATEMENT = "detente.dev/statement/v1"
T = TypeVar("T")


def _peer(node: LocalNode, name: str) -> dict[str, Any]:
    return dict(next(p for p in node.status()["peers"] if p["name"] == name))


def _configure(node: LocalNode, **values: float) -> None:
    """Set options in a stopped node's ``detente.toml``."""
    config = node.directory / "detente.toml"
    text = config.read_text()
    for key, value in values.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value!r}", text, flags=re.M)
        assert n == 1, key
    config.write_text(text)


def _behind_proxy(make_node, fault_proxy, *, http: bool = False, witness: bool = True):  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    proxy = fault_proxy(us.port, http=http)
    us.pin(cn)  # us -> cn direct: us's witness requests (the push hints) reach cn at once
    cn.pin(LocalNode(us.name, us.origin, us.directory, port=proxy.port, info=us.info), witness=witness)
    _configure(cn, peer_timeout=PEER_TIMEOUT, sync_interval=2.0)
    us.start()
    cn.start()
    return us, cn, proxy


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def _sync_now(cn: LocalNode) -> tuple[httpx.Response, float]:
    return _timed(lambda: cn.api("POST", "/api/v1/peers/us/sync"))


def _mirror_checkpoint(cn: LocalNode, us: LocalNode) -> Checkpoint:
    """The signed checkpoint of ``cn``'s mirror of ``us``, read from ``cn``'s store."""
    store = open_store(cn.store if "://" in cn.store else str(cn.directory / cn.store))
    try:
        return TileLog.mirror(store, VerifierKey.parse(us.vkey)).checkpoint
    finally:
        store.close()


def _assert_mirror_is_the_log(cn: LocalNode, us: LocalNode) -> None:
    """Same size, same root, and every record once, at its index, with its leaf hash."""
    source = us.status()
    mirrored = _mirror_checkpoint(cn, us)
    assert (mirrored.size, mirrored.root.hex()) == (source["size"], source["root"])
    own = us.api("GET", "/api/v1/records", params={"limit": 1000}).json()
    copy = cn.api("GET", "/api/v1/records", params={"origin": us.origin, "limit": 1000}).json()
    assert [r["index"] for r in copy] == list(range(source["size"]))
    assert [r["leaf_hash"] for r in copy] == [r["leaf_hash"] for r in own]
    assert len({r["leaf_hash"] for r in copy}) == source["size"]


def test_a_slow_peer_fails_its_sync_in_time_and_catches_up_when_fast_again(make_node, wait, fault_proxy) -> None:
    # witness=False: cn's publisher never calls us, so every connection through the proxy is a pull
    us, cn, proxy = _behind_proxy(make_node, fault_proxy, witness=False)
    us.send(STATEMENT, "before")
    wait("first mirror", lambda: _peer(cn, "us")["mirrored_size"] == 1)

    # 1. slower than the timeout: each chunk of us's answers waits 8 s, cn gives up after 1.5 s
    proxy.delay = 8.0
    for i in range(3):
        us.send(STATEMENT, f"while us is slow {i}")
    resp, took = _sync_now(cn)
    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "store-unavailable"
    assert "took over 1.5s to answer" in resp.json()["detail"]
    assert took < GAVE_UP_IN_TIME  # it did not wait for the 8 s answer
    seen = proxy.accepted
    wait("cn's syncer to fail and try again by itself", lambda: proxy.accepted >= seen + 2, timeout=15)
    assert "took over 1.5s to answer" in (_peer(cn, "us")["last_error"] or "")
    _, took = _timed(lambda: cn.send(STATEMENT, "cn's own operators are served"))
    assert took < 2.0
    assert _peer(cn, "us")["mirrored_size"] == 1

    # 2. a trickle: every few bytes arrive well within the timeout, but a whole answer takes seconds
    proxy.delay, proxy.rate = 0.0, 100
    resp, took = _sync_now(cn)
    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "store-unavailable"
    assert "took over 1.5s" in resp.json()["detail"]
    assert took < GAVE_UP_IN_TIME  # a request gives up after peer_timeout in all, not per read
    _, took = _timed(lambda: cn.send(STATEMENT, "still served"))
    assert took < 2.0
    assert _peer(cn, "us")["mirrored_size"] == 1

    # 3. slow, but under the timeout: each chunk of an answer waits 0.2 s, and cn's syncer gets through
    proxy.rate, proxy.delay = 0, 0.2
    wait("cn to catch up through the slow link", lambda: _peer(cn, "us")["mirrored_size"] == 4)
    us.send(STATEMENT, "while us is merely slow")
    wait("the next record, still slow", lambda: _peer(cn, "us")["mirrored_size"] == 5)
    _, took = _timed(lambda: cn.send(STATEMENT, "served while the sync is slow"))
    assert took < 2.0

    # 4. fast again: everything caught up, nothing lost or duplicated, and no alarm
    proxy.delay = 0.0
    for i in range(2):
        us.send(STATEMENT, f"after {i}")
    wait("catch-up", lambda: _peer(cn, "us")["mirrored_size"] == 7)
    wait("a clean sync", lambda: _peer(cn, "us")["last_error"] is None)
    _assert_mirror_is_the_log(cn, us)
    assert cn.api("GET", "/api/v1/alarms").json() == []


def test_a_peer_replaying_old_answers_never_moves_the_mirror_back(make_node, wait, fault_proxy) -> None:
    us, cn, proxy = _behind_proxy(make_node, fault_proxy, http=True)
    for i in range(3):
        us.send(STATEMENT, f"first {i}")
    wait("cn to mirror 3", lambda: _peer(cn, "us")["mirrored_size"] == 3)
    for i in range(3):
        us.send(STATEMENT, f"second {i}")
    wait("cn to mirror 6", lambda: _peer(cn, "us")["mirrored_size"] == 6)
    sizes = [int(r[3].split(b"\n")[1]) for r in proxy.recorded["/log/checkpoint"]]
    assert sizes == sorted(sizes) and 3 in sizes and sizes[-1] == 6, sizes  # cn stopped at 3, then at 6
    assert any(p.startswith("/log/tile/entries/000.p/") for p in proxy.recorded)

    watched: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            watched.append(_peer(cn, "us")["mirrored_size"])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # old checkpoints (consistent with the mirror), then the last one, already seen
        for which in ("oldest", sizes.index(3), "newest"):
            proxy.replay(which)
            resp = cn.api("POST", "/api/v1/peers/us/sync")
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"origin": us.origin, "old_size": 6, "size": 6, "records": 0, "fork": None}
        us.send(STATEMENT, "while old answers are replayed")  # us pushes a hint to cn: cn pulls, stale
        replays = proxy.replayed.count("/log/checkpoint")
        wait("cn's syncer to be answered stale", lambda: proxy.replayed.count("/log/checkpoint") > replays)
        assert _peer(cn, "us")["mirrored_size"] == 6
        assert _peer(cn, "us")["last_error"] is None  # an old, consistent checkpoint is no error

        # a fresh checkpoint, but the entries from an older, narrower bundle: refused, nothing written
        proxy.replay("newest", only="/log/tile/")
        resp = cn.api("POST", "/api/v1/peers/us/sync")
        assert resp.status_code == 400, resp.text
        assert resp.json()["code"] == "malformed-tile"
        assert "holds 6 entries, expected 7" in resp.json()["detail"]  # the bundle as it was at size 6
        assert "/log/tile/entries/000.p/7" in proxy.replayed
        assert _mirror_checkpoint(cn, us).size == 6

        proxy.fresh()
        wait("catch-up on fresh answers", lambda: _peer(cn, "us")["mirrored_size"] == 7)
        us.send(STATEMENT, "fresh again")
        wait("the next record", lambda: _peer(cn, "us")["mirrored_size"] == 8)
    finally:
        stop.set()
        watcher.join()
    assert watched and watched == sorted(watched), watched  # the mirror never went back
    assert min(watched) == 6
    _assert_mirror_is_the_log(cn, us)
    assert cn.api("GET", "/api/v1/alarms").json() == []
    assert cn.status()["alarms"] == 0


def test_a_witness_trickling_its_headers_does_not_hold_up_the_others(make_node, wait, trickler) -> None:  # type: ignore[no-untyped-def]
    from detente.crypto.keys import Ed25519Identity
    from detente.node.localnet import _run_cli

    us, cn = make_node("us"), make_node("cn")
    url = trickler(b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", 0.3)  # a header byte every 0.3 s, forever
    _configure(us, peer_timeout=PEER_TIMEOUT)
    bad = Ed25519Identity.generate("bad.example/log")  # pinned as a witness asked before cn
    _run_cli(["peer", "add", "a-bad", url, "--vkey", str(bad.vkey()),
              "--cosigner-vkey", str(bad.cosigner_vkey()), "-n", str(us.directory)])  # fmt: skip
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    us.send(STATEMENT, "to be cosigned")
    wait("cn to cosign us's checkpoint", lambda: cn.origin in us.status()["cosigned_by"], timeout=10)
    # cut off at peer_timeout by the client's deadline, headers included (before it, the publisher
    # stopped waiting after 2 x peer_timeout + 1 s and left the request hanging)
    wait(
        "the trickling witness to be given up on",
        lambda: "took over" in (_peer(us, "a-bad")["last_error"] or ""),
        timeout=15,
    )
    start = time.monotonic()
    us.send(STATEMENT, "the next one, while the bad witness is asked again")
    wait("cn to cosign the next checkpoint too", lambda: _peer(us, "cn")["witness_size"] >= 2, timeout=10)
    assert time.monotonic() - start < 10
