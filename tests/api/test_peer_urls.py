"""A peer's URL (or read URL) that no sync could use is refused at pin time, 422 pin-refused with a
hint: a malformed bracketed host was a 500 (urllib's ValueError), and a URL with a space, CR/LF
or a port past 65535 was pinned, every later sync then failing on it."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from detente.node.localnet import LocalNode

BAD = [
    "http://[::1",
    "http://[::1]x/",
    "http://cn.example/a b",
    "http://exa mple.org:99999/\r\nX: y",
    "http://cn.example\r\nX: y/",
    "http://cn.example:99999/",
    "http://cn.example:0/",
    "http://cn.example:port/",
    "http://cn\u200b.example/",
    "http:///no-host",
]


def test_a_url_no_sync_could_use_is_refused_at_pin_time(client: TestClient, tmp_path: Path) -> None:
    cn = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()
    wrong = []
    for field in ("url", "read_url"):
        for url in BAD:
            body = {"name": "cn", "url": cn.url, "vkey": cn.vkey, field: url}
            answer = client.post("/api/v1/peers", json=body)
            problem = answer.json()
            if answer.status_code != 422 or problem["code"] != "pin-refused" or not problem.get("hint"):
                wrong.append((field, url, answer.status_code, problem))
    assert not wrong, wrong
    assert client.get("/api/v1/peers").json() == []
    body = {"name": "cn", "url": "http://[::1]:8441/", "vkey": cn.vkey, "read_url": "https://例子.cn"}
    assert client.post("/api/v1/peers", json=body).status_code == 201  # a bracketed IPv6 host, an IDN
