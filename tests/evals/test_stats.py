"""The statistics results are judged by, against published values: McNemar (exact and with
continuity correction), Holm, Wilson (plain and Bonferroni-adjusted), detection power; and the
pass criteria judged on the Wilson bound, at the boundary."""

from __future__ import annotations

import json
import math

import pytest

from detente.errors import MalformedRecord, VerificationError
from detente.evals.models import CallableModel
from detente.evals.paired import compare_records, outcomes
from detente.evals.run import Metric, run_suite
from detente.evals.stats import binomial_power, detection_power, holm, mcnemar, wilson, z_for
from detente.evals.suite import Dataset, PassCriterion, Perturbation, Row, Suite

# --- McNemar ------------------------------------------------------------------------------------


def test_mcnemar_exact_matches_fagerland_2013() -> None:
    """Fagerland, Lydersen & Laake (2013), "The McNemar test for binary matched-pairs data",
    BMC Med Res Methodol 13:91, Table 1 (airway hyper-responsiveness before and after stem cell
    transplantation, 21 children): discordant pairs 1 and 7; "the McNemar exact conditional test
    gives p = 0.070". Exactly: 2 × (C(8,0) + C(8,1)) / 2⁸ = 18/256."""
    t = mcnemar(1, 7)
    assert t.test == "mcnemar-exact" and t.statistic is None
    assert t.p_value == 18 / 256 and round(t.p_value, 3) == 0.070
    assert mcnemar(7, 1).p_value == t.p_value  # two-sided: symmetric


def test_mcnemar_with_continuity_correction_matches_agresti() -> None:
    """Agresti, An Introduction to Categorical Data Analysis (2nd ed., 2007), §8.1, Table 8.1:
    presidential approval of 1600 people in two surveys, 150 approve→disapprove and 86
    disapprove→approve. R's ``mcnemar.test`` on that table (continuity correction, its default)
    prints "McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05"."""
    t = mcnemar(150, 86)
    assert t.test == "mcnemar-chi2-cc"
    assert t.statistic is not None and round(t.statistic, 3) == 16.818
    assert f"{t.p_value:.3e}" == "4.115e-05"


def test_mcnemar_switches_to_chi_square_at_25_discordant_pairs() -> None:
    assert mcnemar(12, 12).test == "mcnemar-exact" and mcnemar(12, 12).p_value == 1.0  # b+c = 24
    assert mcnemar(13, 12).test == "mcnemar-chi2-cc"  # b+c = 25
    assert mcnemar(0, 0).p_value == 1.0  # nothing differs
    # exact at 24: 2·P(X ≤ 5), X ~ Bin(24, ½), summed by hand
    assert mcnemar(5, 19).p_value == 2 * sum(math.comb(24, i) for i in range(6)) / 2**24
    with pytest.raises(ValueError):
        mcnemar(-1, 3)


def test_holm_matches_the_worked_example() -> None:
    """The worked example of the Holm–Bonferroni method (Wikipedia, "Holm–Bonferroni method",
    Example; the procedure of Holm 1979): p = 0.01, 0.04, 0.03, 0.005 at α = 0.05: H4 and H1 are
    rejected (0.005 < 0.05/4, 0.01 < 0.05/3), then 0.03 > 0.05/2 stops, so H3 and H2 are not."""
    out = holm({"H1": 0.01, "H2": 0.04, "H3": 0.03, "H4": 0.005})
    assert {n for n, (_, rejected) in out.items() if rejected} == {"H1", "H4"}
    adjusted = {n: round(p, 9) for n, (p, _) in out.items()}
    assert adjusted == {"H4": 0.02, "H1": 0.03, "H3": 0.06, "H2": 0.06}  # running maximum: H2 not 0.04


def test_holm_is_stricter_than_no_correction() -> None:
    out = holm({"a": 0.03, "b": 0.04})  # each < 0.05 alone; 0.03·2 > 0.05: neither survives
    assert not out["a"][1] and not out["b"][1]


# --- Wilson, Bonferroni -------------------------------------------------------------------------


def test_wilson_interval_and_bonferroni_quantile() -> None:
    low, high = wilson(8, 10)
    assert round(low, 3) == 0.490 and round(high, 3) == 0.943  # the textbook values for 8/10
    assert wilson(0, 0) == (0.0, 1.0)
    assert round(z_for(), 4) == 1.96
    assert round(z_for(tests=10), 3) == 2.807  # Φ⁻¹(1 − 0.05/20), any normal table


def test_the_minimum_has_a_simultaneous_interval() -> None:
    ms = [Metric.of(s, 100) for s in (90, 80, 95)]
    worst = Metric.minimum(ms)
    assert (worst.value, worst.successes, worst.family) == (0.8, 80, 3)
    z3 = z_for(tests=3)
    assert worst.ci95 == (wilson(80, 100, z3)[0], min(wilson(s, 100, z3)[1] for s in (90, 80, 95)))
    assert worst.ci95[0] < ms[1].ci95[0]  # wider than the worst one's own 95 % interval
    assert worst.as_dict()["bonferroni"] == 3 and "bonferroni" not in ms[0].as_dict()


# --- pass criteria on the lower bound -----------------------------------------------------------


def _data(n: int) -> Dataset:
    return Dataset("t", [Row(id=f"r{i:03d}", input=f"sample number {i} text", target="pos") for i in range(n)])


def _suite(data: Dataset, criteria: list[PassCriterion], names: tuple[str, ...] = ("clean",)) -> Suite:
    return Suite(
        name="t",
        version="1",
        dataset=data.ref,
        perturbations=tuple(Perturbation(name=n, seed=1) for n in names),
        pass_criteria=tuple(criteria),
    )


def _right(k: int) -> CallableModel:
    """Right on the rows whose number is below ``k`` (any perturbation keeps the number)."""

    def label(texts: list[str]) -> list[str]:
        out = []
        for t in texts:
            digits = "".join(ch for ch in t if ch.isdigit())
            out.append("pos" if digits and int(digits) < k else "neg")
        return out

    return CallableModel(f"right-{k}", label, version="1")


def test_criteria_are_judged_on_the_wilson_lower_bound() -> None:
    data = _data(100)
    low, high = wilson(95, 100)  # 0.95 point estimate, lower bound ≈ 0.888
    cases = [
        (PassCriterion(metric="accuracy:clean", comparator=">=", threshold=0.9), False),  # value passes, bound not
        (PassCriterion(metric="accuracy:clean", comparator=">=", threshold=low), True),  # exactly the bound
        (PassCriterion(metric="accuracy:clean", comparator=">", threshold=low), False),
        (PassCriterion(metric="accuracy:clean", comparator=">=", threshold=low + 1e-9), False),
        (PassCriterion(metric="accuracy:clean", comparator="<=", threshold=high), True),  # upper bound
        (PassCriterion(metric="accuracy:clean", comparator="<=", threshold=0.96), False),  # value 0.95 would pass
        (PassCriterion(metric="accuracy:clean", comparator="<", threshold=high), False),
    ]
    for criterion, passed in cases:
        result = run_suite(_suite(data, [criterion]), data, _right(95))
        (c,) = result.criteria
        assert c["passed"] is passed, criterion
        assert c["value"] == 0.95
        assert c["judged_on"] == ("wilson-95-lower" if criterion.comparator in (">=", ">") else "wilson-95-upper")


def test_min_criteria_use_the_bonferroni_adjusted_bound() -> None:
    """82/100 under every one of five perturbations: each one's own 95 % lower bound (0.733)
    clears 0.73, but the bound simultaneous over the five (z = 2.576) does not."""
    data = _data(100)
    names = ("clean", "swap", "delete", "insert", "substitute", "case")
    criterion = PassCriterion(metric="min_accuracy", threshold=0.73)
    result = run_suite(_suite(data, [criterion], names), data, _right(82))
    assert wilson(82, 100)[0] > 0.73 > wilson(82, 100, z_for(tests=5))[0]
    m = result.metrics["min_accuracy"]
    assert m.family == 5 and m.value == 0.82
    assert result.criteria[0]["passed"] is False and result.criteria[0]["bound"] < 0.73
    loose = run_suite(_suite(data, [PassCriterion(metric="min_accuracy", threshold=0.7)], names), data, _right(82))
    assert loose.criteria[0]["passed"] is True


# --- paired comparison --------------------------------------------------------------------------


def _metrics(result) -> dict:  # type: ignore[no-untyped-def]
    return {n: m.as_dict() for n, m in result.metrics.items()}


def test_two_runs_are_compared_sample_by_sample() -> None:
    data = _data(60)
    suite = _suite(data, [], ("clean", "case"))
    a, b = run_suite(suite, data, _right(60)), run_suite(suite, data, _right(45))
    out = compare_records(suite, a.records, b.records, _metrics(a), _metrics(b))
    rows = {r["metric"]: r for r in out["metrics"]}
    assert set(rows) == {"accuracy:clean", "accuracy:case", "consistency:case"}
    acc = rows["accuracy:clean"]
    assert (acc["only_a"], acc["only_b"], acc["test"]) == (15, 0, "mcnemar-exact")
    assert acc["p_value"] == 2 / 2**15 and acc["significant"] is True
    # three metrics tested; accuracy:case ties with it and comes first (× 3), the running maximum carries 3p
    assert acc["p_holm"] == 3 * acc["p_value"] == rows["accuracy:case"]["p_holm"]
    assert rows["consistency:case"]["only_a"] == rows["consistency:case"]["only_b"] == 0
    assert rows["consistency:case"]["significant"] is False
    assert "min_accuracy" in out["not_compared"] and "asr:case" in out["not_compared"]
    assert "McNemar" in out["method"] and "Holm" in out["method"]
    assert out["significant"] == ["accuracy:case", "accuracy:clean"]


def test_a_comparison_needs_the_same_samples_and_honest_metrics() -> None:
    data = _data(30)
    suite = _suite(data, [], ("clean", "case"))
    a, b = run_suite(suite, data, _right(30)), run_suite(suite, data, _right(20))
    moved = list(b.records)
    moved[0], moved[1] = moved[1], moved[0]
    with pytest.raises(MalformedRecord, match="sample 0 differs"):
        compare_records(suite, a.records, moved, _metrics(a), _metrics(b))
    with pytest.raises(MalformedRecord, match="scored"):
        compare_records(suite, a.records, b.records[:-1], _metrics(a), _metrics(b))
    lying = _metrics(b) | {"accuracy:clean": dict(_metrics(b)["accuracy:clean"], successes=30)}
    with pytest.raises(VerificationError, match="says 30/30"):
        compare_records(suite, a.records, b.records, _metrics(a), lying)
    broken = list(b.records)
    broken[0] = json.dumps({"sample": "r000"}).encode()
    with pytest.raises(VerificationError, match="malformed"):
        outcomes(suite, broken)


def test_runs_with_other_seeds_pair_only_where_the_inputs_agree() -> None:
    data = _data(40)
    suite = _suite(data, [], ("clean", "case", "swap"))
    reseeded = Suite.model_validate(
        suite.model_dump(mode="json") | {"perturbations": [{"name": n, "seed": 99} for n in ("clean", "case", "swap")]}
    )
    a, b = run_suite(suite, data, _right(40)), run_suite(reseeded, data, _right(30))
    out = compare_records(suite, a.records, b.records, _metrics(a), _metrics(b))
    assert [r["metric"] for r in out["metrics"]] == ["accuracy:clean"]
    assert out["metrics"][0]["only_a"] == 10 and out["significant"] == ["accuracy:clean"]
    assert "another seed" in out["not_compared"]["accuracy:case"]
    assert "another seed" in out["not_compared"]["consistency:swap"]


# --- detection power ----------------------------------------------------------------------------


def test_detection_power_is_hypergeometric() -> None:
    # 100 records, 5 fabricated, 10 drawn without replacement: 1 − (95·94·…·86)/(100·99·…·91)
    by_hand = 1 - math.prod(range(86, 96)) / math.prod(range(91, 101))
    assert detection_power(100, 0.05, 10) == pytest.approx(by_hand, abs=1e-12)
    assert round(by_hand, 4) == 0.4162 != round(binomial_power(0.05, 10), 4) == 0.4013
    assert detection_power(100, 0.01, 100) == 1.0  # every record re-run
    assert detection_power(100, 0.001, 1) == pytest.approx(0.01)  # at least one fabricated record: 1 in 100
    assert detection_power(0, 0.05, 10) == 0.0
