"""The harness's fast paths give exactly the bytes of the plain ones: the batched sample records
equal ``sample_record`` and RFC 8785, whatever the strings; and every built-in suite's perturbed
inputs are pinned, so a change to the generator (ours or CPython's ``random``) that would change a
suite's results fails here instead of silently."""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.canonical import canonical_json
from detente.evals.perturb import perturb
from detente.evals.run import _records, sample_record
from detente.evals.suite import Row, builtin_suite, load_dataset

# SHA-256 over every perturbed input of each built-in suite (each text, UTF-8, then NUL), as the
# perturbations were first published (a written-out random.sample, until 2026-12-04; the stdlib's
# random.Random and random.sample since, with the same outputs).
PERTURBED_INPUTS = {
    "langid-robustness": "b7d99802a200d5324d0a32ffddee06eb9eaea77b080de1b87e91a1387a637286",
    "en-sentiment-consistency": "bd8c758915e42610657f2d5492ee853941cab1b8363108060222685c0e9e042d",
    "zh-sentiment-robustness": "cda2b085810326e43689391f610ee1b10088b4a258e070d3d1607fd64fc4e66b",
}


@pytest.mark.parametrize("name", sorted(PERTURBED_INPUTS))
def test_the_perturbed_inputs_of_each_builtin_suite_are_pinned(name: str) -> None:
    suite = builtin_suite(name)
    data = load_dataset(suite.dataset)
    digest = hashlib.sha256()
    for p in suite.perturbations:
        for row in data.rows:
            digest.update(perturb(p.name, row.input, p.seed, p.rate).encode("utf-8", "surrogatepass") + b"\0")
    assert digest.hexdigest() == PERTURBED_INPUTS[name]


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
