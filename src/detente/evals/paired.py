"""Two results of one suite compared sample by sample.

Both runs scored the same samples under the same perturbations (one suite, up to the seeds a
pre-registration derives; each record names the same sample and perturbation at the same
position), so each metric whose inputs are the same in both runs is a pair of 0/1 outcomes per
sample: McNemar's test on the discordant pairs says whether the two
proportions differ, and Holm's correction holds the family-wise error at 5 % across the metrics
compared. Non-overlap of the two intervals is not a test (it is far too conservative, and
ignores the pairing); it is not used.

Compared: ``accuracy:<perturbation>`` (exact-label scorers: the record's score) and
``consistency:<perturbation>`` (the output equals the clean output of the same sample; with a
consistency scorer, the record's score). Not compared: ``asr:*`` (conditioned on the samples each
model got right when clean: not the same samples) and ``min_*`` (the minimum may fall on another
perturbation in each run), nor any metric whose inputs differ between the runs (two
pre-registered runs perturb with different seeds: their clean accuracy still pairs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from detente.errors import MalformedRecord, VerificationError
from detente.evals.stats import ALPHA, EXACT_BELOW, holm, mcnemar
from detente.evals.suite import Suite

__all__ = ["METHOD", "compare_records", "outcomes"]

METHOD = (
    f"McNemar's paired test per metric (exact binomial when the discordant samples number fewer than "
    f"{EXACT_BELOW}, else chi-square with continuity correction), Holm-corrected across the metrics "
    f"compared at alpha {ALPHA}"
)


def _parse(records: Sequence[bytes]) -> list[dict[str, Any]]:
    try:
        parsed = [json.loads(r) for r in records]
        for p in parsed:
            (p["sample"], p["perturbation"], p["input_sha256"], p["output"], int(p["score"]))
    except (ValueError, KeyError, TypeError):
        raise VerificationError(
            "a logged sample record is malformed", hint="the party that logged it must publish a corrected run"
        ) from None
    return parsed


def outcomes(suite: Suite, records: Sequence[bytes]) -> dict[str, list[int]]:
    """Each pairable metric's 0/1 outcome per sample, from a run's per-sample records (position
    ``perturbation_index × rows + row_index``)."""
    parsed = _parse(records)
    k = len(suite.perturbations)
    if k == 0 or len(parsed) % k:
        raise VerificationError("the sample records do not cover every perturbation of the suite equally")
    size = len(parsed) // k
    by_name = {p.name: parsed[i * size : (i + 1) * size] for i, p in enumerate(suite.perturbations)}
    clean = by_name.get("clean")
    exact = suite.scorer == "exact-label"
    out: dict[str, list[int]] = {}
    for name, recs in by_name.items():
        if exact:
            out[f"accuracy:{name}"] = [int(r["score"]) for r in recs]
        if name == "clean":
            continue
        if not exact:
            out[f"consistency:{name}"] = [int(r["score"]) for r in recs]
        elif clean is not None:
            out[f"consistency:{name}"] = [int(r["output"] == c["output"]) for r, c in zip(recs, clean, strict=True)]
    return out


def _same_inputs(suite: Suite, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> set[str]:
    """The perturbations under which both runs scored the same inputs. Each position must name
    the same sample and perturbation in both (else the runs are not of one suite); the inputs
    differ under a perturbation whose seed differs (two pre-registered runs: each has its own)."""
    if len(a) != len(b):
        raise MalformedRecord(f"the two runs scored {len(a)} and {len(b)} samples", hint="compare runs of one suite")
    differ: set[str] = set()
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if (x["sample"], x["perturbation"]) != (y["sample"], y["perturbation"]):
            raise MalformedRecord(
                f"sample {i} differs between the two runs ({x['sample']}/{x['perturbation']} vs "
                f"{y['sample']}/{y['perturbation']})",
                hint="a paired test needs the same samples under the same perturbations",
            )
        if x["input_sha256"] != y["input_sha256"]:
            differ.add(str(x["perturbation"]))
    return {p.name for p in suite.perturbations} - differ


def _check_signed(name: str, got: list[int], signed: dict[str, Any]) -> None:
    """The signed metric must count what the records show (fails closed)."""
    try:
        successes, n = int(signed["successes"]), int(signed["n"])
    except (KeyError, TypeError, ValueError):
        raise VerificationError(f"the signed metric {name} is malformed (successes, n)") from None
    if (successes, n) != (sum(got), len(got)):
        raise VerificationError(
            f"the signed metric {name} says {successes}/{n}, its sample records {sum(got)}/{len(got)}",
            hint="the party that signed it must publish a corrected result",
        )


def compare_records(
    suite: Suite,
    records_a: Sequence[bytes],
    records_b: Sequence[bytes],
    metrics_a: dict[str, Any],
    metrics_b: dict[str, Any],
) -> dict[str, Any]:
    """Every metric both results report that pairs sample by sample: each side's signed metric,
    the difference, the discordant counts, McNemar's test and p-value, the Holm-adjusted p-value
    and the decision (``significant``); the metrics not compared, with why."""
    same = _same_inputs(suite, _parse(records_a), _parse(records_b))
    oa, ob = outcomes(suite, records_a), outcomes(suite, records_b)
    exact = suite.scorer == "exact-label"
    unpaired = {
        n for n in oa if not _needs(n, exact) <= same
    }  # a metric over inputs that differ between the runs (another seed) has no pairs
    names = sorted((set(oa) & set(metrics_a) & set(metrics_b)) - unpaired)
    tests = {}
    for name in names:
        _check_signed(name, oa[name], metrics_a[name])
        _check_signed(name, ob[name], metrics_b[name])
        only_a = sum(1 for x, y in zip(oa[name], ob[name], strict=True) if x and not y)
        only_b = sum(1 for x, y in zip(oa[name], ob[name], strict=True) if y and not x)
        tests[name] = mcnemar(only_a, only_b)
    adjusted = holm({n: t.p_value for n, t in tests.items()})
    rows = []
    for name in names:
        t = tests[name]
        p_holm, significant = adjusted[name]
        x, y = metrics_a[name], metrics_b[name]
        rows.append(
            {
                "metric": name,
                "a": x,
                "b": y,
                "difference": round(float(x["value"]) - float(y["value"]), 6),
                "only_a": t.b,
                "only_b": t.c,
                "test": t.test,
                "statistic": None if t.statistic is None else round(t.statistic, 6),
                "p_value": t.p_value,
                "p_holm": p_holm,
                "significant": significant,
            }
        )
    skipped = sorted((set(metrics_a) & set(metrics_b)) - set(names))
    return {
        "method": METHOD,
        "alpha": ALPHA,
        "metrics": rows,
        "significant": [r["metric"] for r in rows if r["significant"]],
        "not_compared": {n: _why(n, n in unpaired) for n in skipped},
    }


def _needs(metric: str, exact: bool) -> set[str]:
    """The perturbations whose inputs a metric's outcomes depend on."""
    name = metric.split(":", 1)[1]
    return {name, "clean"} if metric.startswith("consistency:") and exact else {name}


def _why(name: str, unpaired: bool) -> str:
    if unpaired:
        return "the runs perturbed the inputs differently (another seed: each pre-registered run has its own)"
    if name.startswith("asr:"):
        return "conditioned on the samples each model got right when clean: not the same samples"
    if name.startswith("min_"):
        return "a minimum over perturbations: it may fall on another perturbation in each run"
    return "not derivable per sample from the records"
