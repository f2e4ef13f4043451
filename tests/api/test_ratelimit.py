"""The token buckets behind the API's rate limits (detente.node.ratelimit), on a clock the test
steps by hand: no sleeps, no wall clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detente.node.ratelimit import Buckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_refusals_until_the_bucket_refills() -> None:
    clock = Clock()
    buckets = Buckets(rate=0.5, burst=3, clock=clock)  # one request every 2 s, 3 at once
    assert [buckets.take("t").allowed for _ in range(4)] == [True, True, True, False]
    refused = buckets.take("t")
    assert not refused.allowed and refused.retry_after == pytest.approx(2.0)
    assert refused.retry_after_header == "2"
    clock.now += 1.0
    assert buckets.take("t").retry_after == pytest.approx(1.0)  # a refusal takes nothing
    clock.now += 1.0
    assert buckets.take("t").allowed
    assert not buckets.take("t").allowed


def test_keys_are_independent_and_the_bucket_never_overfills() -> None:
    clock = Clock()
    buckets = Buckets(rate=1.0, burst=2, clock=clock)
    assert buckets.take("a").allowed and buckets.take("a").allowed
    assert not buckets.take("a").allowed
    assert buckets.take("b").allowed  # another token, another bucket
    clock.now += 3600
    assert [buckets.take("a").allowed for _ in range(3)] == [True, True, False]  # at most burst after an hour


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    clock = Clock()
    buckets = Buckets(rate=3.0, burst=1, clock=clock)
    assert buckets.take("t").allowed
    refused = buckets.take("t")
    assert refused.retry_after == pytest.approx(1 / 3) and refused.retry_after_header == "1"


def test_rate_zero_is_no_limit_and_a_burst_below_one_is_refused() -> None:
    buckets = Buckets(rate=0, burst=1, clock=Clock())
    assert all(buckets.take("t").allowed for _ in range(1000))
    with pytest.raises(ValueError):
        Buckets(rate=1, burst=0, clock=Clock())


def test_forgotten_keys_start_full() -> None:
    clock = Clock()
    buckets = Buckets(rate=0.001, burst=1, clock=clock, max_keys=2)
    assert buckets.take("a").allowed and not buckets.take("a").allowed
    buckets.take("b")
    buckets.take("c")  # "a" was least recently used: forgotten
    assert buckets.take("a").allowed


@given(
    rate=st.floats(0.01, 100),
    burst=st.integers(1, 50),
    steps=st.lists(st.floats(0, 10), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(rate: float, burst: int, steps: list[float]) -> None:
    clock = Clock()
    start = clock.now
    buckets = Buckets(rate=rate, burst=burst, clock=clock)
    allowed = 0
    for step in steps:
        clock.now += step
        decision = buckets.take("t")
        allowed += decision.allowed
        assert decision.allowed or decision.retry_after > 0
        assert allowed <= burst + rate * (clock.now - start) + 1e-6
