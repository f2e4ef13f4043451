"""``POST /api/v1/exportctl/classify`` on a real in-process node (SQLite file, real keys, admin
token): the is-informed letters, the destination and the reminder travel through the API.

Source: NVIDIA Form 8-K filed 15 Apr 2025, as quoted by Tom's Hardware [S]: "On April 9, 2025, the
U.S. government informed Nvidia that the USG requires a license for export to China (including Hong
Kong and Macau) and D:5 countries [...] of the company's H20"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.exportctl.classify import REMINDER
from detente.exportctl.letters import ADDRESSEE_ONLY
from detente.exportctl.provenance import UNVERIFIED_WARNING
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

NOW = 1_796_126_400.0  # 2026-12-01 12:00 UTC


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    local = LocalNode("us", "us.detente.example/log", tmp_path / "us").init()
    loaded, base = load_config(local.directory)
    node = Node(loaded, base, clock=lambda: NOW)
    token = issue_token(node.state, "admin", "exportctl api tests", int(NOW))
    try:
        with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as c:
            yield c
    finally:
        node.stop()


def test_classify_h20_through_the_api_names_the_letter_for_the_destination(client: TestClient) -> None:
    body = {"name": "H20", "as_of": "2025-06-01", "regimes": ["us-ear"], "destination": "HK"}
    resp = client.post("/api/v1/exportctl/classify", json=body)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    (regime,) = data["regimes"]
    assert "BIS-2025-04-NVIDIA-H20" in regime["verdict"]
    (letter,) = regime["is_informed_letters"]
    assert letter["reach"] == "named" and letter["binds"] == ADDRESSEE_ONLY and letter["verified"] is False
    assert data["destination"] == "HK" and data["reminder"] == REMINDER
    assert REMINDER["zh"] in data["text"] and "Form 8-K, filed 15 Apr 2025" in data["text"]
    # the answer relies on unverified facts (the H20's die area, the letter): the JSON and text say so
    assert data["unverified_warning"] == UNVERIFIED_WARNING
    assert any(u["where"] == "catalogue NVIDIA H20" for u in data["unverified"])
    assert UNVERIFIED_WARNING["en"] in data["text"]


def test_a_destination_that_is_not_a_country_code_is_refused(client: TestClient) -> None:
    body = {"name": "H20", "as_of": "2025-06-01", "destination": "China"}
    assert client.post("/api/v1/exportctl/classify", json=body).status_code == 422
