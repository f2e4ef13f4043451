"""Hostile clients against a real node: oversized and endless bodies refused before anything
buffers them (and before the token is even looked at), slow-loris connections that do not stop
other clients from being served, garbage on every parser-facing public route, and every refusal
counted in the node's metrics."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx


def test_oversized_and_endless_bodies_are_refused_before_buffering(make_node) -> None:
    node = make_node("us").start()
    url = f"{node.url}/api/v1/records"
    big = b"{" + b" " * (5 << 20) + b"}"
    resp = httpx.post(url, content=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert resp.status_code == 413 and resp.json()["code"] == "entry-too-large"  # not 401: refused unread
    small = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}, timeout=30)
    assert small.status_code == 401

    def endless() -> Iterator[bytes]:  # chunked, no Content-Length: counted as it streams
        yield b'{"type": "detente.dev/statement/v1", "body": {"x": "'
        for _ in range(6 << 10):
            yield b"a" * 1024

    streamed = node.api("POST", "/api/v1/records", content=endless(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["code"] == "entry-too-large"
    # an upload route takes more, up to its own limit; the witness route far less
    witness = httpx.post(f"{node.url}/witness/add-checkpoint", content=b"x" * (70 << 10), timeout=30)
    assert witness.status_code == 413
    assert node.status()["size"] == 0  # nothing half-written
    metrics = node.api("GET", "/api/v1/metrics").json()["rejections"]
    assert metrics.get("413 entry-too-large", 0) >= 3
    assert metrics.get("401 unauthorized", 0) >= 1


def test_slow_loris_connections_do_not_stop_other_clients(make_node) -> None:
    node = make_node("us").start()
    host, port = node.url.removeprefix("http://").split(":")
    slow = []
    try:
        for _ in range(150):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            slow.append(s)
        times = []
        for i in range(20):
            for s in slow[i::20]:
                s.sendall(b"X-Slow: 1\r\n")  # keep dribbling
            t0 = time.perf_counter()
            resp = node.api("POST", "/api/v1/records", json={"type": "detente.dev/statement/v1", "body": {"n": i}})
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 201
        assert max(times) < 2.0, f"a normal request waited {max(times):.2f} s behind slow clients"
    finally:
        for s in slow:
            s.close()
    assert node.status()["size"] == 20


def test_garbage_on_public_routes_is_a_problem_never_a_crash(make_node) -> None:
    node = make_node("us").start()
    node.send("detente.dev/statement/v1", "one")
    junk = [b"", b"\x00" * 100, b"\xff\xfe garbage", b"old\n1\n" + b"A" * 5000, "☃\n".encode() * 50]
    for body in junk:
        resp = httpx.post(f"{node.url}/witness/add-checkpoint", content=body, timeout=10)
        assert 400 <= resp.status_code < 500, (body[:20], resp.status_code)
    for path in ("tile/0/-1", "tile/entries/999999999999", "tile/99/000", "tile/0/000.p/0", "tile/0/000.p/999",
                 "tile/%2e%2e/%2e%2e/etc/passwd", "tile/0/x/../../../../etc/passwd", "tile/" + "0/" * 200 + "000"):  # fmt: skip
        resp = httpx.get(f"{node.url}/log/{path}", timeout=10)
        assert resp.status_code in (400, 404), (path, resp.status_code)
    for body in (b"[]", b"null", b'{"type": 5}', b'{"type": "detente.dev/statement/v1", "party": "cn.example/log"}'):
        resp = node.api("POST", "/api/v1/records", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code in (400, 422), (body, resp.status_code)
    assert node.status()["size"] == 1
