"""In-process nodes for the API's contract tests: a real node (SQLite file, real keys) behind
FastAPI's TestClient, with an admin token."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

NOW = 1_796_126_400.0  # 2026-12-01 12:00 UTC


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**config)``: a node whose detente.toml takes ``config`` (field = value),
    served in process; the client sends an admin token."""
    nodes: list[Node] = []
    clients: list[TestClient] = []

    def make(**config: object) -> TestClient:
        local = LocalNode("us", "us.detente.example/log", tmp_path / f"us{len(nodes)}").init()
        if config:
            path = local.directory / "detente.toml"
            path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), **config}))
        loaded, base = load_config(local.directory)
        node = Node(loaded, base, clock=lambda: NOW)
        nodes.append(node)
        token = issue_token(node.state, "admin", "api tests", int(NOW))
        client = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    for node in nodes:
        node.stop()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def pinned(make_client: Callable[..., TestClient], tmp_path: Path) -> TestClient:
    """A node (us) that follows a second party, cn (initialised, never started). The client does not
    raise the node's exceptions: a fault is seen as the 500 problem an operator gets."""
    client = make_client()
    cn = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()
    body = {"name": "cn", "url": cn.url, "vkey": cn.vkey, "cosigner_vkey": cn.cosigner_vkey}
    answer = client.post("/api/v1/peers", json=body)
    assert answer.status_code == 201, answer.text
    return TestClient(client.app, raise_server_exceptions=False, headers=dict(client.headers))
