"""``POST /api/v1/labels/propagate`` and the ``c2pa_tsa_url`` setting, on a real node (SQLite,
real keys) behind FastAPI's TestClient, with a real TSA on loopback (tests/media/tsa.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import read_c2pa
from detente.media.containers import read_aigc
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

pytest.importorskip("c2pa")
tsa_module = pytest.importorskip("tsa", reason="tests/media/tsa.py needs asn1crypto (dev extra)")

DATA = Path(__file__).parent.parent / "data" / "c2pa"
NOW = 1_796_126_400.0  # 2026-12-01 12:00 UTC


def test_propagate_through_the_node_with_a_time_stamp(tmp_path: Path) -> None:
    with tsa_module.local_tsa() as tsa:
        local = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()
        path = local.directory / "detente.toml"
        path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), "c2pa_tsa_url": tsa.url}))
        config, base = load_config(local.directory)
        node = Node(config, base, clock=lambda: NOW)
        try:
            token = issue_token(node.state, "officer", "media tests", int(NOW))
            with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as client:
                params = {"propagator": "001PLATFORM", "propagate_id": "share-1", "label": "2"}
                answer = client.post(
                    "/api/v1/labels/propagate",
                    content=(DATA / "C.jpg").read_bytes(),
                    params=params,
                    headers={"Content-Type": "image/jpeg"},
                )
                assert answer.status_code == 200, answer.text
                assert answer.headers["content-type"] == "image/jpeg"
                assert len(tsa.requests) == 1  # the node's signature was time-stamped by the configured TSA
                found = read_aigc(answer.content)
                assert found is not None
                assert found.label == AigcLabel(label="2", content_propagator="001PLATFORM", propagate_id="share-1")
                anchors = (DATA / "test_cert_root_bundle.pem").read_text() + node.media.chain().root_pem.decode()
                report = read_c2pa(answer.content, "image/jpeg", anchors_pem=anchors)
                assert report.state == "Trusted" and report.manifests == 2
                assert report.signature["issuer"] == "cn.detente.example/log"
                assert "timeStamp.validated" in report.success
                # A file without a label and no --label: a problem, nothing signed.
                refused = client.post(
                    "/api/v1/labels/propagate",
                    content=(DATA / "C.jpg").read_bytes(),
                    params={"propagator": "001PLATFORM", "propagate_id": "share-2"},
                )
                assert refused.status_code == 400, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert "--label 2" in refused.json()["hint"]
                assert len(tsa.requests) == 1
        finally:
            node.stop()
