"""GET /api/v1/evals/suites answers 200 listing every built-in suite and the extra it needs, with
or without that extra installed (issue #21: without snownlp it answered 422), and the hints of
the eval calls name only suites the same call accepts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from starlette.testclient import TestClient

from detente.api.evals import SUITE_EXTRAS
from detente.evals.suite import BUILTIN_SUITES


def test_every_suite_is_listed_with_its_extra(client: TestClient) -> None:
    resp = client.get("/api/v1/evals/suites")
    assert resp.status_code == 200, resp.text
    listed = {s["name"]: s for s in resp.json()}
    assert set(listed) == set(BUILTIN_SUITES)
    for name, suite in listed.items():
        assert suite["extra"] == SUITE_EXTRAS.get(name)
        if suite["available"]:
            assert len(suite["digest"]) == 64 and suite["manifest"]["name"] == name
        else:
            assert suite["digest"] is None and "detente[" in suite["hint"]


def test_an_unknown_suite_hint_names_suites_the_call_accepts(client: TestClient) -> None:
    resp = client.post("/api/v1/evals/preregister", json={"suite": "no-such-suite", "model": "vader"})
    assert resp.status_code == 422 and resp.json()["code"] == "malformed-record", resp.text
    hinted = resp.json()["hint"].removeprefix("suites this node runs: ").split(", ")
    available = [s["name"] for s in client.get("/api/v1/evals/suites").json() if s["available"]]
    assert hinted == available


MISSING_EXTRA = textwrap.dedent(
    """
    import json, sys, tempfile
    sys.modules["snownlp"] = None  # the evals extra's snownlp not installed: importing it fails
    from pathlib import Path
    from starlette.testclient import TestClient
    from detente.api.app import create_app
    from detente.node.config import load_config
    from detente.node.localnet import LocalNode
    from detente.node.node import Node
    from detente.node.tokens import issue_token

    local = LocalNode("us", "us.detente.example/log", Path(tempfile.mkdtemp()) / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    token = issue_token(node.state, "officer", "t", 1_796_126_400)
    with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as client:
        suites = client.get("/api/v1/evals/suites")
        unknown = client.post("/api/v1/evals/run", json={"suite": "nope", "model": "vader"})
        missing = client.post("/api/v1/evals/run", json={"suite": "zh-sentiment-robustness", "model": "snownlp"})
        for what in (suites, unknown, missing):
            print(json.dumps({"status": what.status_code, "body": what.json()}))
    node.stop()
    """
)


def test_without_the_extra_the_list_still_answers_and_says_what_to_install() -> None:
    out = subprocess.run([sys.executable, "-c", MISSING_EXTRA], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    suites, unknown, missing = (json.loads(line) for line in out.stdout.splitlines()[-3:])
    assert suites["status"] == 200, suites
    listed = {s["name"]: s for s in suites["body"]}
    assert set(listed) == set(BUILTIN_SUITES)
    zh = listed["zh-sentiment-robustness"]
    assert (zh["available"], zh["extra"]) == (False, "evals") and 'pip install "detente[evals]"' in zh["hint"]
    assert listed["langid-robustness"]["available"]
    # the hint of a refused run names only the suites this node runs, never the one it cannot
    assert unknown["status"] == 422 and "zh-sentiment-robustness" not in unknown["body"]["hint"]
    assert "langid-robustness" in unknown["body"]["hint"]
    assert missing["status"] == 503 and missing["body"]["code"] == "config-error"
    assert "zh-sentiment-robustness" not in missing["body"]["hint"].split("runs now:")[1]
