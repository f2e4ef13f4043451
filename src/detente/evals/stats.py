"""The statistics the shared testing tools judge by: Wilson score intervals (Bonferroni-adjusted
for a minimum over several perturbations), McNemar's paired test with Holm's correction across
the metrics compared, and the detection power of a re-check's sample count.

Pure functions of counts (stdlib ``math`` and ``statistics`` only): the same answer on every
machine, so two parties judging the same counts reach the same decision.

- Wilson (1927), "Probable inference, the law of succession, and statistical inference",
  JASA 22:209–212; Brown, Cai & DasGupta (2001), Statistical Science 16:101–133.
- McNemar (1947), Psychometrika 12:153–157. Exact form: the two-sided binomial test of the
  discordant counts ``b`` and ``c`` with p = 1/2 (the conditional test); asymptotic form: the
  chi-square statistic with Edwards's continuity correction, (|b − c| − 1)² / (b + c), one degree
  of freedom. Fagerland, Lydersen & Laake (2013), BMC Medical Research Methodology 13:91.
- Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
  6:65–70.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "ALPHA",
    "EXACT_BELOW",
    "McNemar",
    "binomial_power",
    "detection_power",
    "holm",
    "mcnemar",
    "wilson",
    "z_for",
]

ALPHA = 0.05
"""The family-wise error rate of every interval and test (two-sided)."""
EXACT_BELOW = 25
"""McNemar is exact (binomial) when the discordant pairs ``b + c`` are fewer than this."""


def z_for(alpha: float = ALPHA, tests: int = 1) -> float:
    """The two-sided normal quantile for ``alpha`` shared by ``tests`` intervals (Bonferroni:
    each at ``alpha / tests``)."""
    if not 0 < alpha < 1 or tests < 1:
        raise ValueError("alpha must lie in (0, 1) and tests be at least 1")
    return NormalDist().inv_cdf(1 - alpha / (2 * tests))


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a proportion (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class McNemar:
    """McNemar's test on ``b`` pairs where only the first result succeeded and ``c`` where only
    the second did (the concordant pairs carry no information about a difference)."""

    b: int
    c: int
    test: str  # "mcnemar-exact" or "mcnemar-chi2-cc"
    statistic: float | None  # the chi-square statistic (asymptotic form only)
    p_value: float


def _binomial_tail(k: int, n: int) -> float:
    """P(X ≤ k) for X ~ Binomial(n, 1/2), exactly (integer arithmetic, one division)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / (1 << n)


def mcnemar(b: int, c: int, *, exact_below: int = EXACT_BELOW) -> McNemar:
    """Two-sided McNemar test: exact binomial when ``b + c < exact_below``, else chi-square with
    continuity correction. No discordant pairs: nothing differs, p = 1."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts are never negative")
    n = b + c
    if n == 0:
        return McNemar(b, c, "mcnemar-exact", None, 1.0)
    if n < exact_below:
        return McNemar(b, c, "mcnemar-exact", None, min(1.0, 2 * _binomial_tail(min(b, c), n)))
    statistic = (abs(b - c) - 1) ** 2 / n
    # chi-square with one degree of freedom: P(X > s) = P(|Z| > √s) = erfc(√(s/2))
    return McNemar(b, c, "mcnemar-chi2-cc", statistic, math.erfc(math.sqrt(statistic / 2)))


def holm(p_values: Mapping[str, float], alpha: float = ALPHA) -> dict[str, tuple[float, bool]]:
    """Holm's step-down correction: each name → (adjusted p-value, rejected at ``alpha``).

    The smallest p-value is compared with alpha/m, the next with alpha/(m−1), …, stopping at the
    first that is not rejected; the adjusted p-value of the i-th smallest is the running maximum
    of (m − j)·p₍ⱼ₎ for j ≤ i, capped at 1 (rejected exactly when it is at most ``alpha``)."""
    ordered = sorted(p_values.items(), key=lambda kv: (kv[1], kv[0]))
    m = len(ordered)
    out: dict[str, tuple[float, bool]] = {}
    running = 0.0
    for i, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - i) * p))
        out[name] = (running, running <= alpha)
    return out


def detection_power(population: int, fabricated_share: float, drawn: int) -> float:
    """The chance that ``drawn`` samples picked without replacement from ``population`` records
    include at least one of the fabricated ones, when ``fabricated_share`` of them (rounded up:
    at least one) are fabricated: the hypergeometric 1 − C(N − K, n) / C(N, n)."""
    if population <= 0 or drawn <= 0:
        return 0.0
    drawn = min(drawn, population)
    bad = min(population, max(1, math.ceil(fabricated_share * population - 1e-9)))
    if drawn > population - bad:
        return 1.0
    return 1.0 - math.comb(population - bad, drawn) / math.comb(population, drawn)


def binomial_power(fabricated_share: float, drawn: int) -> float:
    """The same chance when samples are drawn with replacement (or the run is large): 1 − (1 − f)ⁿ."""
    return 1.0 - (1.0 - fabricated_share) ** drawn
