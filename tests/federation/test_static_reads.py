"""Reads past one machine (issue #25): a node keeps its log's public side as static files
(``publish_dir``), Debian's nginx serves them with the caching each path allows, and a peer and an
outside auditor read the log there while the node is stopped, verifying everything: a tampered or
stale copy is caught like a tampered node."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from detente.node.auditor import run_audit
from detente.tlog.policy import parse_policy

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "detente", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def nginx_for() -> Iterator:  # type: ignore[type-arg]
    if NGINX is None:
        if os.environ.get("DETENTE_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed (scripts/test installs Debian's nginx as root)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    started: list[subprocess.Popen[bytes]] = []

    def start(conf: Path, port: int) -> str:
        with open(conf.parent / "stderr.log", "wb") as log:  # the child keeps its own copy
            proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(conf.parent)], stderr=log)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (conf.parent / "stderr.log").read_text()
            try:
                httpx.get(f"{url}/log/checkpoint", timeout=1)
                return url
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("nginx did not come up")

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_peer_and_an_auditor_read_a_published_log_from_nginx_while_its_node_is_down(
    make_node, wait, nginx_for, tmp_path: Path
) -> None:
    us, cn = make_node("us"), make_node("cn")
    config = us.directory / "detente.toml"
    config.write_text(config.read_text().replace('publish_dir = ""', 'publish_dir = "public"'))
    port = _free_port()
    conf = tmp_path / "nginx" / "nginx.conf"
    conf.parent.mkdir()
    user = ["--nginx-user", "root"] if os.geteuid() == 0 else []  # the test's folders are private to its user
    _cli("publish", "-n", str(us.directory), "--nginx-conf", str(conf), "--listen", f"127.0.0.1:{port}", *user)
    mirror = nginx_for(conf, port)
    _cli("peer", "add", "us", us.url, "--vkey", us.vkey, "--cosigner-vkey", us.cosigner_vkey,
         "--read-url", mirror, "-n", str(cn.directory))  # fmt: skip
    us.start()
    for i in range(5):
        us.send("detente.dev/statement/v1", f"published statement {i}")
    public = us.directory / "public" / "log"
    wait("the static copy at size 5", lambda: (public / "checkpoint").exists()
         and (public / "checkpoint").read_bytes().split(b"\n")[1] == b"5", timeout=60)  # fmt: skip
    stale = (public / "checkpoint").read_bytes()
    us.send("detente.dev/statement/v1", "one more")
    wait("the static copy at size 6", lambda: (public / "checkpoint").read_bytes().split(b"\n")[1] == b"6", timeout=60)
    us.stop()

    # Caching headers: the checkpoint never cached, a partial tile briefly, a full tile for good.
    head = httpx.get(f"{mirror}/log/checkpoint")
    assert head.status_code == 200 and head.headers["cache-control"] == "no-store"
    partial = httpx.get(f"{mirror}/log/tile/entries/000.p/6")
    assert partial.status_code == 200 and partial.headers["cache-control"] == "public, max-age=60"
    (public / "tile" / "0").mkdir(parents=True, exist_ok=True)
    (public / "tile" / "0" / "001").write_bytes(b"\0" * 32 * 256)  # a full tile's path (content irrelevant here)
    full = httpx.get(f"{mirror}/log/tile/0/001")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    (public / "tile" / "0" / "001").unlink()
    assert httpx.get(f"{mirror}/api/v1/status").status_code == 404  # only the log's public side is served

    # The peer syncs from nginx while us's node is down; the auditor audits from there.
    cn.start()
    cn.api("POST", "/api/v1/peers/us/sync")
    wait("cn mirrors us from nginx", lambda: next(p for p in cn.status()["peers"] if p["name"] == "us")
         ["mirrored_size"] == 6, timeout=60)  # fmt: skip
    texts = [r["record"]["text"]["original"]["text"] for r in cn.api(
        "GET", "/api/v1/records", params={"origin": us.origin}).json()]  # fmt: skip
    assert texts[-1] == "one more"
    policy = parse_policy(f"log {us.vkey} {mirror}\nquorum none\n")
    state = tmp_path / "audit.json"
    clean = run_audit(policy, state, records=[(us.origin, 3)])
    assert clean.clean and clean.logs[0].size == 6, clean.as_dict()

    # A stale copy (an older checkpoint) is a rollback to an auditor that remembers.
    current = (public / "checkpoint").read_bytes()
    (public / "checkpoint").write_bytes(stale)
    rolled = run_audit(policy, state)
    assert any("went back" in p for p in rolled.logs[0].problems), rolled.as_dict()
    (public / "checkpoint").write_bytes(current)

    # A tampered bundle is caught: the entries do not verify or do not hash to the signed root.
    bundle = public / "tile" / "entries" / "000.p" / "6"
    raw = bytearray(bundle.read_bytes())
    raw[-10] ^= 1
    bundle.write_bytes(bytes(raw))
    tampered = run_audit(policy, None)
    assert not tampered.clean and tampered.logs[0].problems, tampered.as_dict()
