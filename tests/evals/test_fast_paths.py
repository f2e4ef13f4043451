"""The harness's fast paths give exactly the bytes of the plain ones: the written-out
``random.sample`` draws what CPython's does (and leaves the generator in the same state), and the
batched sample records equal ``sample_record`` and RFC 8785, whatever the strings."""

from __future__ import annotations

import json
import random
from json.encoder import encode_basestring

from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.canonical import canonical_json
from detente.evals.perturb import _sample
from detente.evals.run import _records, sample_record
from detente.evals.suite import Row


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=2**256), st.integers(min_value=1, max_value=400), st.data())
def test_sample_draws_what_random_sample_draws(seed: int, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    population = list(range(0, 3 * n, 3))
    ours, theirs = random.Random(seed), random.Random(seed)
    assert _sample(ours, population, k) == theirs.sample(population, k)
    assert ours.getrandbits(64) == theirs.getrandbits(64)  # the same state afterwards


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(), st.text(), st.integers(0, 1)), min_size=1, max_size=5), st.text(min_size=1))
def test_batched_records_equal_sample_record(samples: list[tuple[str, str, int]], name: str) -> None:
    rows = [Row(id=f"r{i}", input="") for i in range(len(samples))]
    texts = [t for t, _, _ in samples]
    preds = [p for _, p, _ in samples]
    scores = [s for _, _, s in samples]
    batched = _records([encode_basestring(r.id) for r in rows], rows, encode_basestring(name), name, texts, preds,
                       scores)  # fmt: skip
    plain = [sample_record(r.id, name, t, p, s) for r, t, p, s in zip(rows, texts, preds, scores, strict=True)]
    assert batched == plain
    for line in plain:
        assert line == canonical_json(json.loads(line))
