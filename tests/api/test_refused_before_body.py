"""A label check that finds every heavy-work slot taken is refused before its body is read (issue
#21): the slot is taken first, so a client that sends its headers and then stalls still gets its
503 at once, and the event loop never reads 8 MiB only to refuse them. A real node process on
loopback, raw sockets (a client that stops mid-request is what is tested). Ordering, not
wall-clock: the probe is sent only once the node shows the only slot taken by the stalled upload."""

from __future__ import annotations

import json
import socket
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import tomli_w

from detente.node.localnet import LocalNode


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    local = LocalNode("us", "us.detente.example/log", tmp_path / "us").init()
    path = local.directory / "detente.toml"
    path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), "heavy_slots": 1}))
    local.start()
    yield local
    local.stop(kill=True)


def _upload(node: LocalNode, length: int, first: bytes = b"") -> socket.socket:
    """A label check's headers (and the first ``first`` bytes of its body), then nothing more."""
    url = urlsplit(node.url)
    assert url.hostname is not None and url.port is not None
    sock = socket.create_connection((url.hostname, url.port), timeout=120)  # a backstop, not a deadline
    head = (
        f"POST /api/v1/labels/check HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {node.token}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    """The status, headers and JSON body of the answer read from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the node closed the connection without an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "the node closed the connection mid-answer"
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body)


def _heavy(node: LocalNode) -> dict[str, int]:
    heavy: dict[str, int] = node.api("GET", "/api/v1/status").json()["heavy"]
    return heavy


def _until(node: LocalNode, reserved: int) -> dict[str, int]:
    for _ in range(1200):  # however loaded the machine: the node shows it once it has happened
        heavy = _heavy(node)
        if heavy["reserved"] == reserved:
            return heavy
        time.sleep(0.05)
    raise AssertionError(f"the node never showed {reserved} slot(s) reserved: {heavy}")


def test_a_refused_label_check_is_answered_before_its_body_is_sent(node: LocalNode) -> None:
    stalled = _upload(node, 1_000_000, b"x" * 1000)  # takes the only slot, then sends nothing more
    try:
        held = _until(node, 1)
        assert held["running"] == 0  # reading its body, no work started on it
        probe = _upload(node, 8 * 1024 * 1024)  # headers only: not one byte of its 8 MiB is sent
        try:
            status, headers, problem = _answer(probe)
        finally:
            probe.close()
        assert status == 503, problem
        assert problem["code"] == "heavy-work-busy" and headers["retry-after"].isdigit(), problem
        assert _heavy(node)["refused_busy"] == 1
    finally:
        stalled.close()
    _until(node, 0)  # the stalled client went away: its slot is given back, no work was started
    checked = node.api("POST", "/api/v1/labels/check", content="这段文字由AI生成。".encode(),
                       headers={"Content-Type": "text/plain"})  # fmt: skip
    assert checked.status_code == 200, checked.text[:300]
    assert checked.json()["explicit"]["checks"]
    assert _heavy(node)["finished"] == 1
