"""Model-free detection of green-list text watermarks (Kirchenbauer et al. 2023, "KGW").

A KGW watermark splits the vocabulary, for every context, into a *green list* of ``⌊γ·V⌋`` tokens
and a red rest; the generator adds ``δ`` to the green logits, so watermarked text holds more green
tokens than chance. A detector needs no model: given the token ids, the key and the scheme it counts
the green tokens ``s`` among the ``T`` scored ones and computes ``z = (s − γT) / sqrt(T·γ·(1−γ))``.

**Not bit-compatible with the reference implementation.** ``jwkirchenbauer/lm-watermarking``
(``seeding_scheme="simple_1"``) draws its green list from ``torch.randperm`` seeded with
``hash_key * prev_token``, so its lists exist only inside torch (and MarkLLM's KGW differs again).
This module keeps KGW's parameters, seeding (the previous token only) and score, but defines its
own PRF, :data:`SCHEME_ID`, specified here so that any implementation can reproduce it.

The PRF (``detente.dev/kgw-simple1-hmac-sha256/v1``)
------------------------------------------------------

Inputs: the key ``K`` (1–64 bytes), the vocabulary size ``V`` (2 ≤ V ≤ 2³¹), ``γ``, the previous
token ``p`` and the token ``t`` (both in ``[0, V)``). All integers are unsigned; ``u64be`` is the
8-byte big-endian encoding; arithmetic on 64-bit words is modulo 2⁶⁴.

1. ``G = floor(γ·V)``, the IEEE-754 double product (as the reference's ``int(vocab_size * gamma)``);
   a scheme must have ``1 ≤ G ≤ V − 1``.
2. Context seed: ``S = HMAC-SHA256(K, "detente.dev/kgw-simple1-hmac-sha256/v1" ‖ 0x00 ‖ u64be(p))``;
   the four round keys are ``k_i = u64be⁻¹(S[8i : 8i+8])``, ``i = 0..3``.
3. Half width ``b = max(1, ceil(bitlen(V − 1) / 2))`` (so ``2^(2b) ≥ V``), mask ``m = 2^b − 1``.
4. Round function (the SplitMix64 finaliser, keeping the top ``b`` bits)::

       F(k, r): z = k + r·0x9E3779B97F4A7C15
                z = (z ⊕ (z >> 30))·0xBF58476D1CE4E5B9
                z = (z ⊕ (z >> 27))·0x94D049BB133111EB
                return (z ⊕ (z >> 31)) >> (64 − b)

5. A balanced 4-round Feistel permutation on ``[0, 2^(2b))``: ``L = x >> b``, ``R = x & m``; for
   ``i = 0..3``: ``(L, R) ← (R, L ⊕ F(k_i, R))``; ``E(x) = (L << b) | R``.
6. Cycle walking (Black–Rogaway) restricts it to ``[0, V)``: ``π(t) = E(t)``, then while
   ``π(t) ≥ V``: ``π(t) ← E(π(t))``. Since ``E`` is a bijection, so is ``π`` on ``[0, V)``.
7. ``t`` is green after ``p`` iff ``π(t) < G``. Every context therefore has exactly ``G`` green
   tokens, and the z-score uses the exact green fraction ``γ' = G / V`` (not the nominal ``γ``).

Cost: one HMAC per context and, on average ``2^(2b)/V < 4`` Feistel passes per token, so scoring a
token never needs the whole vocabulary (the reference's permutation is ``O(V)`` per context). The
round keys come from a keyed cryptographic hash, but the Feistel rounds are a fast mixer, not a
cryptographic PRP: someone who sees many green lists of one context may learn that context's
rounds (they learn its green list anyway); other contexts stay independent through the HMAC.

Scoring follows the reference: token ``i ≥ 1`` is scored against token ``i − 1``, so ``T = n − 1``
for ``n`` tokens; with ``ignore_repeated_bigrams`` each distinct ``(prev, token)`` pair counts once.
The p-value is the one-sided normal tail ``erfc(z/√2)/2``; the verdict is ``watermarked`` iff
``z > z_threshold`` (4.0, p ≈ 3.17·10⁻⁵), and ``too-short`` when fewer than
``min_scored_tokens`` (16 by default) were scored: the normal approximation is poor below that, and
for ``γ = 0.5`` even all-green text reaches only ``z = √T`` (4 at T = 16).

Pure: no I/O. numpy, when importable, speeds up :func:`detect` and :func:`green_list`; everything
works without it (``backend="python"``), bit for bit the same.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
import operator
import random
import struct
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, SupportsIndex, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from detente._internal.validation import describe_validation_error
from detente.crypto.canonical import canonical_json, parse_json
from detente.errors import ConfigError, MalformedError, MalformedJSON, MalformedRecord

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "MAX_DELTA",
    "SCHEME_ID",
    "BigramDistribution",
    "Detection",
    "TokenDistribution",
    "Verdict",
    "WatermarkScheme",
    "ZipfDistribution",
    "detect",
    "detect_text",
    "generate",
    "green_list",
    "is_green",
    "tokenizer_identity",
]

SCHEME_ID: Final = "detente.dev/kgw-simple1-hmac-sha256/v1"
MAX_DELTA = 10.0

_TAG = SCHEME_ID.encode("ascii") + b"\x00"
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_MAX_VOCAB = 1 << 31
_ROUNDS = struct.Struct(">4Q")

Backend = Literal["auto", "python", "numpy"]


class Verdict(StrEnum):
    WATERMARKED = "watermarked"
    NOT_WATERMARKED = "not-watermarked"
    TOO_SHORT = "too-short"


class WatermarkScheme(BaseModel):
    """Everything two parties must share to detect each other's watermark. :meth:`digest` names it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["detente.dev/kgw-simple1-hmac-sha256/v1"] = "detente.dev/kgw-simple1-hmac-sha256/v1"
    gamma: float = Field(gt=0.0, lt=1.0, allow_inf_nan=False, description="nominal green-list fraction γ")
    delta: float = Field(default=2.0, ge=0.0, le=MAX_DELTA, allow_inf_nan=False, description="logit bias δ (generator)")
    key: str = Field(description="the watermark key, lowercase hex (1–64 bytes); an int is accepted as input")
    vocab_size: int = Field(ge=2, le=_MAX_VOCAB)
    seeding: Literal["previous-token"] = "previous-token"
    z_threshold: float = Field(default=4.0, gt=0.0, allow_inf_nan=False)
    ignore_repeated_bigrams: bool = False
    min_scored_tokens: int = Field(default=16, ge=1)
    tokenizer: str = Field(min_length=1, description="the tokenizer's identity, e.g. sha256:<hex of tokenizer.json>")

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise ValueError("an integer key must be non-negative")
            return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big").hex()
        if isinstance(value, str) and (len(value) % 2 or not 2 <= len(value) <= 128 or value.strip("0123456789abcdef")):
            raise ValueError("the key must be 1 to 64 bytes of lowercase hex")
        return value

    @model_validator(mode="after")
    def _green_count(self) -> WatermarkScheme:
        if not 1 <= self.green_count <= self.vocab_size - 1:
            raise ValueError(f"floor(gamma * vocab_size) = {self.green_count} leaves an empty green or red list")
        return self

    @property
    def green_count(self) -> int:
        """``G = floor(γ·V)``: the number of green tokens in every context."""
        return math.floor(self.gamma * self.vocab_size)

    @property
    def green_fraction(self) -> float:
        """``γ' = G / V``, the exact chance that an unwatermarked token is green; the z-score uses it."""
        return self.green_count / self.vocab_size

    def to_json(self) -> bytes:
        """Canonical JSON (RFC 8785)."""
        return canonical_json(self.model_dump(mode="json"))

    def digest(self) -> str:
        """``sha256:<hex>`` of :meth:`to_json`: the scheme's identity (it covers the key)."""
        return "sha256:" + hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_json(cls, data: bytes | str) -> WatermarkScheme:
        """Parse a scheme; raises :class:`~detente.errors.MalformedRecord` for anything invalid."""
        try:
            return cls.model_validate(parse_json(data, what="watermark scheme"))
        except MalformedJSON as exc:
            raise MalformedRecord(exc.message) from None
        except ValidationError as exc:
            raise MalformedRecord(describe_validation_error(exc, "watermark scheme")) from None


class Detection(BaseModel):
    """The outcome of :func:`detect`. ``z`` and ``p_value`` are ``None`` when nothing was scored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme_digest: str
    tokens: int = Field(description="token ids given")
    scored: int = Field(description="T: tokens scored (distinct bigrams with ignore_repeated_bigrams)")
    green: int = Field(description="s: green tokens among the scored")
    green_fraction: float = Field(description="γ' = G / V used in the z-score")
    z: float | None
    p_value: float | None = Field(description="one-sided normal tail P(Z ≥ z)")
    z_threshold: float
    verdict: Verdict


def tokenizer_identity(tokenizer_json: bytes) -> str:
    """``sha256:<hex>`` of a tokenizer file's bytes, for :attr:`WatermarkScheme.tokenizer`."""
    return "sha256:" + hashlib.sha256(tokenizer_json).hexdigest()


# --- the PRF ------------------------------------------------------------------------------------


class _Prf:
    """The scheme's PRF with its constants worked out once."""

    def __init__(self, scheme: WatermarkScheme) -> None:
        self.key = bytes.fromhex(scheme.key)
        self.vocab = scheme.vocab_size
        self.green_count = scheme.green_count
        self.half = max(1, ((self.vocab - 1).bit_length() + 1) // 2)
        self.mask = (1 << self.half) - 1
        self.shift = 64 - self.half
        self.digest = scheme.digest()
        # HMAC-SHA256 with its keyed inner and outer states computed once (the key is at most one
        # 64-byte block): the same bytes as hmac.digest, five times faster per context
        block = self.key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def seed(self, prev: int) -> bytes:
        """``HMAC-SHA256(K, tag ‖ 0x00 ‖ u64be(prev))``."""
        inner = self._inner.copy()
        inner.update(_TAG + prev.to_bytes(8, "big"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def round_keys(self, prev: int) -> tuple[int, int, int, int]:
        keys: tuple[int, int, int, int] = _ROUNDS.unpack(self.seed(prev))
        return keys

    def permute(self, keys: tuple[int, int, int, int], x: int) -> int:
        half, mask, shift, vocab = self.half, self.mask, self.shift, self.vocab
        while True:
            left, right = x >> half, x & mask
            for k in keys:
                z = (k + right * _GOLDEN) & _M64
                z = ((z ^ (z >> 30)) * _MIX1) & _M64
                z = ((z ^ (z >> 27)) * _MIX2) & _M64
                left, right = right, left ^ ((z ^ (z >> 31)) >> shift)
            x = (left << half) | right
            if x < vocab:
                return x


@functools.lru_cache(maxsize=32)
def _prf(scheme: WatermarkScheme) -> _Prf:
    return _Prf(scheme)


def _np() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _permute_np(prf: _Prf, keys: NDArray[np.uint64], x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """:meth:`_Prf.permute` over arrays: ``keys`` is (n, 4) or (1, 4), ``x`` is (n,)."""
    xp = _np()
    u = xp.uint64
    half, mask, shift = u(prf.half), u(prf.mask), u(prf.shift)
    golden, mix1, mix2 = u(_GOLDEN), u(_MIX1), u(_MIX2)
    s30, s27, s31 = u(30), u(27), u(31)
    vocab = u(prf.vocab)
    per_token = len(keys) > 1
    ks = [xp.ascontiguousarray(keys[:, i]) for i in range(4)]
    out = x  # replaced (not written) by the first pass
    todo = None  # indices into out still to be walked; None: all of them
    cur = x
    while True:
        left, right = cur >> half, cur & mask
        for k in ks:
            z = right * golden
            z += k
            z ^= z >> s30
            z *= mix1
            z ^= z >> s27
            z *= mix2
            z ^= z >> s31
            z >>= shift
            z ^= left
            left, right = right, z
        left <<= half
        left |= right
        outside = left >= vocab
        if todo is None:
            out = left
            todo = xp.flatnonzero(outside)
        else:
            out[todo] = left
            todo = todo[outside]
        if not len(todo):
            result: NDArray[np.uint64] = out
            return result
        cur = out[todo]
        if per_token:
            ks = [k[outside] for k in ks]


def _check_id(value: object, vocab: int, what: str) -> int:
    if type(value) is int and 0 <= value < vocab:
        return value
    if isinstance(value, bool) or not isinstance(value, SupportsIndex):
        raise MalformedError(
            f"{what} {value!r} is not an integer token id", hint="pass the token ids the tokenizer produced"
        )
    token = operator.index(value)
    if not 0 <= token < vocab:
        raise MalformedError(
            f"{what} {token} is outside the vocabulary [0, {vocab})",
            hint="the text was tokenized with another tokenizer than the scheme's, or vocab_size is wrong",
        )
    return token


def is_green(scheme: WatermarkScheme, prev: int, token: int) -> bool:
    """Whether ``token`` is on the green list that follows ``prev`` (see the module docstring)."""
    prf = _prf(scheme)
    prev = _check_id(prev, prf.vocab, "previous token id")
    token = _check_id(token, prf.vocab, "token id")
    return prf.permute(prf.round_keys(prev), token) < prf.green_count


def green_list(scheme: WatermarkScheme, prev: int, *, backend: Backend = "auto") -> list[int]:
    """The ``G`` green token ids after ``prev``, ascending. ``O(V)``: for generators and audits."""
    prf = _prf(scheme)
    prev = _check_id(prev, prf.vocab, "previous token id")
    keys = prf.round_keys(prev)
    np = _resolve(backend)
    if np is None:
        return [t for t in range(prf.vocab) if prf.permute(keys, t) < prf.green_count]
    ranks = _permute_np(prf, np.array([keys], dtype=np.uint64), np.arange(prf.vocab, dtype=np.uint64))
    return [int(t) for t in np.flatnonzero(ranks < np.uint64(prf.green_count))]


def _resolve(backend: Backend) -> Any:
    if backend == "python":
        return None
    np = _np()
    if np is None and backend == "numpy":
        raise ConfigError("numpy is not installed", hint="install numpy, or use backend='python'")
    return np


# --- detection ----------------------------------------------------------------------------------


def _bigrams(ids: list[int], distinct: bool) -> list[tuple[int, int]]:
    pairs = list(itertools.pairwise(ids))
    return list(dict.fromkeys(pairs)) if distinct else pairs


def _count_green_python(prf: _Prf, pairs: list[tuple[int, int]]) -> int:
    rounds: dict[int, tuple[int, int, int, int]] = {}
    green = 0
    for prev, token in pairs:
        keys = rounds.get(prev)
        if keys is None:
            keys = rounds[prev] = prf.round_keys(prev)
        if prf.permute(keys, token) < prf.green_count:
            green += 1
    return green


def _count_green_numpy(np: Any, prf: _Prf, pairs: list[tuple[int, int]]) -> int:
    if not pairs:
        return 0
    seeds: dict[int, bytes] = {}
    for prev, _ in pairs:
        if prev not in seeds:
            seeds[prev] = prf.seed(prev)
    keys = np.frombuffer(b"".join(seeds[prev] for prev, _ in pairs), dtype=">u8").reshape(-1, 4).astype(np.uint64)
    tokens = np.fromiter((token for _, token in pairs), dtype=np.uint64, count=len(pairs))
    return int(np.count_nonzero(_permute_np(prf, keys, tokens) < np.uint64(prf.green_count)))


def detect(token_ids: Sequence[int], scheme: WatermarkScheme, *, backend: Backend = "auto") -> Detection:
    """Score ``token_ids`` against ``scheme``.

    Raises :class:`~detente.errors.MalformedError` for an id that is not an integer in
    ``[0, vocab_size)``. ``backend`` picks numpy (``"auto"``: when importable) or pure Python; both
    give the same result.
    """
    prf = _prf(scheme)
    ids = [_check_id(t, prf.vocab, "token id") for t in token_ids]
    pairs = _bigrams(ids, scheme.ignore_repeated_bigrams)
    np = _resolve(backend)
    green = _count_green_python(prf, pairs) if np is None else _count_green_numpy(np, prf, pairs)
    scored = len(pairs)
    gamma = scheme.green_fraction
    z: float | None = None
    p_value: float | None = None
    if scored:
        z = (green - gamma * scored) / math.sqrt(scored * gamma * (1.0 - gamma))
        p_value = 0.5 * math.erfc(z / math.sqrt(2.0))
    if scored < scheme.min_scored_tokens:
        verdict = Verdict.TOO_SHORT
    elif z is not None and z > scheme.z_threshold:
        verdict = Verdict.WATERMARKED
    else:
        verdict = Verdict.NOT_WATERMARKED
    return Detection(
        scheme_digest=prf.digest,
        tokens=len(ids),
        scored=scored,
        green=green,
        green_fraction=gamma,
        z=z,
        p_value=p_value,
        z_threshold=scheme.z_threshold,
        verdict=verdict,
    )


@runtime_checkable
class _HFTokenizer(Protocol):
    """The part of a ``tokenizers.Tokenizer`` this module uses."""

    @property
    def truncation(self) -> Any: ...

    @property
    def padding(self) -> Any: ...

    def encode(self, sequence: str, *, add_special_tokens: bool = ...) -> Any: ...


def detect_text(
    text: str,
    scheme: WatermarkScheme,
    tokenizer: Callable[[str], Iterable[int]] | _HFTokenizer,
    *,
    backend: Backend = "auto",
) -> Detection:
    """Tokenize ``text`` and :func:`detect` it.

    ``tokenizer`` is a callable from text to token ids, or a ``tokenizers.Tokenizer``, which is
    used without special tokens ([CLS]/[SEP] are not generated text) and must have truncation and
    padding switched off (this function does not reconfigure a shared tokenizer); otherwise it
    raises :class:`~detente.errors.ConfigError`. The scheme's ``tokenizer`` field is not checked
    here: the caller knows which tokenizer it passes.
    """
    if isinstance(tokenizer, _HFTokenizer):
        if tokenizer.truncation is not None or tokenizer.padding is not None:
            raise ConfigError(
                "the tokenizer truncates or pads its output, which would change the token ids scored",
                hint="call tokenizer.no_truncation() and tokenizer.no_padding() once after loading it",
            )
        ids: Iterable[int] = tokenizer.encode(text, add_special_tokens=False).ids
    elif callable(tokenizer):
        ids = tokenizer(text)
    else:
        raise ConfigError(f"{type(tokenizer).__name__} is not a tokenizer", hint="pass a callable text -> token ids")
    return detect(list(ids), scheme, backend=backend)


# --- a reference generator, for tests and demos -------------------------------------------------


class TokenDistribution(Protocol):
    """A language model stand-in: a next-token distribution that can be sampled."""

    @property
    def vocab_size(self) -> int: ...

    def sample(self, prev: int | None, rng: random.Random) -> int:
        """One token id in ``[0, vocab_size)`` given the previous one (``None`` at the start)."""
        ...


class ZipfDistribution:
    """Unigram ``P(rank r) ∝ 1 / (r + 1)^exponent``; the ranks are a shuffle of the vocabulary by ``seed``."""

    def __init__(self, vocab_size: int, *, exponent: float = 1.0, seed: int = 0) -> None:
        if vocab_size < 2:
            raise ValueError("vocab_size must be at least 2")
        self._vocab = vocab_size
        order = list(range(vocab_size))
        random.Random(seed).shuffle(order)
        self._order = order
        total = 0.0
        cum: list[float] = []
        for r in range(vocab_size):
            total += 1.0 / (r + 1) ** exponent
            cum.append(total)
        self._cum = cum
        self._total = total

    @property
    def vocab_size(self) -> int:
        return self._vocab

    def sample(self, prev: int | None, rng: random.Random) -> int:
        return self._order[min(bisect.bisect(self._cum, rng.random() * self._total), self._vocab - 1)]


class BigramDistribution:
    """The empirical bigram model of some token ids, mixed with their unigram frequencies.

    ``P(t | p) = (1 − λ)·count(p, t)/count(p, ·) + λ·count(t)/n``, and the unigram alone after an
    unseen ``p``. Sampling draws uniformly from the stored followers, so it is exact and ``O(1)``.
    """

    def __init__(self, token_ids: Sequence[int], vocab_size: int, *, unigram_weight: float = 0.1) -> None:
        if len(token_ids) < 2:
            raise ValueError("need at least two token ids")
        if not 0.0 <= unigram_weight <= 1.0:
            raise ValueError("unigram_weight must be in [0, 1]")
        if any(not 0 <= t < vocab_size for t in token_ids):
            raise ValueError("token id outside the vocabulary")
        self._vocab = vocab_size
        self._unigram = list(token_ids)
        self._followers: dict[int, list[int]] = {}
        for prev, token in itertools.pairwise(token_ids):
            self._followers.setdefault(prev, []).append(token)
        self._weight = unigram_weight

    @property
    def vocab_size(self) -> int:
        return self._vocab

    def sample(self, prev: int | None, rng: random.Random) -> int:
        followers = self._followers.get(prev) if prev is not None else None
        if followers is None or rng.random() < self._weight:
            return rng.choice(self._unigram)
        return rng.choice(followers)


def generate(
    scheme: WatermarkScheme,
    length: int,
    rng: random.Random,
    *,
    delta: float | None = None,
    base_distribution: TokenDistribution,
) -> list[int]:
    """``length`` token ids sampled from ``base_distribution`` with KGW's soft watermark.

    The next token is drawn from ``P'(t) ∝ P(t | prev)·exp(δ·[t green after prev])`` (δ added to
    the green logits), exactly, by rejection: propose ``t ~ P``, keep it if green, else keep it with
    probability ``exp(−δ)``. The first token has no predecessor and is drawn unmarked. ``delta``
    defaults to ``scheme.delta``; ``delta=0`` gives unwatermarked text from the same model.
    Deterministic given the state of ``rng``.
    """
    delta = scheme.delta if delta is None else delta
    if not 0.0 <= delta <= MAX_DELTA:
        raise ValueError(f"delta must be in [0, {MAX_DELTA}]")
    if base_distribution.vocab_size != scheme.vocab_size:
        raise ValueError("the base distribution's vocabulary is not the scheme's")
    if length < 0:
        raise ValueError("length must be non-negative")
    prf = _prf(scheme)
    keep_red = math.exp(-delta)
    rounds: dict[int, tuple[int, int, int, int]] = {}
    out: list[int] = []
    prev: int | None = None
    for _ in range(length):
        while True:
            token = base_distribution.sample(prev, rng)
            if prev is None or delta == 0.0:
                break
            keys = rounds.get(prev)
            if keys is None:
                keys = rounds[prev] = prf.round_keys(prev)
            if prf.permute(keys, token) < prf.green_count or rng.random() < keep_red:
                break
        out.append(token)
        prev = token
    return out
