"""Run a suite against a model: every row under every perturbation, one per-sample record each,
and a Merkle root (RFC 9162, the same hashing as the logs) that commits to the whole run.

A per-sample record is the canonical JSON of ``{sample, perturbation, input_sha256, output,
score}``; its position is ``perturbation_index × rows + row_index``. Two runs of the same suite
on the same model give the same records and so the same root; a party re-checking a result
re-runs samples it picks and proves each against the root.

Metrics: accuracy under each perturbation (exact-label scorer), consistency with the clean
prediction, attack success rate (the share of clean-correct samples a perturbation flips), and
the minimum over perturbations; with ``crosslingual`` among the suite's metrics, the share of
``NN-en``/``NN-zh`` request pairs that get the same label under each perturbation; every
proportion with a Wilson 95 % interval. A ``min_*``
metric's interval is simultaneous over the perturbations it is the minimum of (Bonferroni: each
perturbation's Wilson interval at 95 % / k, and the minimum of their bounds).

A pass criterion is judged on the interval, not on the point estimate: ``>=``/``>`` on the lower
bound, ``<=``/``<`` on the upper bound; a result passes only when the data show, at 95 %, that
the criterion holds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from detente.crypto.canonical import canonical_json
from detente.evals.models import Model
from detente.evals.perturb import perturb
from detente.evals.refusal import language_pairs
from detente.evals.stats import wilson, z_for
from detente.evals.suite import Dataset, Perturbation, Suite
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import Node, inclusion_proof

__all__ = [
    "Metric",
    "RunResult",
    "merkle_root",
    "perturbed_inputs",
    "proof_for",
    "run_suite",
    "sample_record",
    "wilson",
]


@dataclass(frozen=True, slots=True)
class Metric:
    value: float
    successes: int
    n: int
    ci95: tuple[float, float]
    family: int = 1
    """How many proportions the interval is simultaneous over (a ``min_*`` metric: the
    perturbations it is the minimum of, Bonferroni-adjusted); 1 for a plain proportion."""

    @classmethod
    def of(cls, successes: int, n: int) -> Metric:
        return cls(successes / n if n else 0.0, successes, n, wilson(successes, n))

    @classmethod
    def minimum(cls, metrics: Sequence[Metric]) -> Metric:
        """The smallest of ``metrics`` with an interval for the minimum of their true proportions:
        each one's Wilson interval at 95 % / k (Bonferroni), and the minimum of the lower bounds
        and of the upper bounds (if every proportion lies in its interval, which happens with at
        least 95 % probability, their minimum lies in this one)."""
        k = len(metrics)
        z = z_for(tests=k)
        bounds = [wilson(m.successes, m.n, z) for m in metrics]
        low = min(lo for lo, _ in bounds)
        high = min(hi for _, hi in bounds)
        worst = min(metrics, key=lambda m: m.value)
        return cls(worst.value, worst.successes, worst.n, (low, high), k)

    def as_dict(self) -> dict[str, Any]:
        out = {"value": round(self.value, 6), "successes": self.successes, "n": self.n,
               "ci95": [round(self.ci95[0], 6), round(self.ci95[1], 6)]}  # fmt: skip
        if self.family > 1:
            out["bonferroni"] = self.family
        return out


_sha256 = hashlib.sha256
# {input_sha256, output, perturbation, sample, score} with the keys in RFC 8785 order; the values
# are filled in already JSON-encoded (``encode_basestring`` is what ``json.dumps`` with
# ``ensure_ascii=False`` writes strings with, the RFC 8785 escapes for these values).
_RECORD = '{{"input_sha256":"{}","output":{},"perturbation":{},"sample":{},"score":{}}}'.format


def sample_record(sample: str, perturbation: str, text: str, output: str, score: int) -> bytes:
    """The canonical JSON (RFC 8785) of one sample's outcome. Its keys are fixed ASCII and its
    values strings and a small integer, for which ``json.dumps`` with sorted keys and no ASCII
    escaping writes exactly the RFC 8785 bytes (same escapes, same order); a string it would
    write differently (a lone surrogate) goes through the general encoder instead."""
    digest = _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if type(score) is int and type(output) is str and type(perturbation) is str and type(sample) is str:
        try:
            return _RECORD(
                digest, encode_basestring(output), encode_basestring(perturbation), encode_basestring(sample), score
            ).encode()
        except UnicodeEncodeError:
            pass
    record = {"input_sha256": digest, "output": output, "perturbation": perturbation, "sample": sample,
              "score": score}  # fmt: skip
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return canonical_json(record)


def _fetcher(leaves: Sequence[bytes]) -> Callable[[Sequence[Node]], list[bytes]]:
    """Complete-subtree hashes for :func:`detente.tlog.proofs.inclusion_proof`, each the root of
    its slice of ``leaves``."""

    def fetch(nodes: Sequence[Node]) -> list[bytes]:
        return [merkle_root(leaves[index << level : (index + 1) << level]) for level, index in nodes]

    return fetch


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 root over leaf hashes, with the log's own compact range."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def proof_for(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of leaf ``index``, from the log's own proof code."""
    return inclusion_proof(index, len(leaves), _fetcher(leaves))


@dataclass
class RunResult:
    suite: Suite
    model: dict[str, Any]
    records: list[bytes]
    leaves: list[bytes] = field(default_factory=list)
    root: bytes = b""
    metrics: dict[str, Metric] = field(default_factory=dict)
    criteria: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c["passed"] for c in self.criteria)


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}  # fmt: skip


def _records(
    ids: list[str],
    rows: Sequence[Any],
    name_json: str,
    name: str,
    texts: Sequence[str],
    preds: list[str],
    scores: list[int],
    digests: Sequence[str] | None = None,
) -> list[bytes]:
    """``sample_record`` for one perturbation's samples, with the row ids and the perturbation's
    name JSON-encoded once and the inputs' SHA-256 taken from ``digests`` when given (the same
    bytes; anything unusual goes through ``sample_record``)."""
    sha, record = _sha256, _RECORD
    if digests is None:
        digests = [sha(text.encode("utf-8", "surrogatepass")).hexdigest() for text in texts]
    out = []
    for i, (text, digest, pred, score) in enumerate(zip(texts, digests, preds, scores, strict=True)):
        try:
            if type(pred) is not str:
                raise TypeError
            line = record(digest, encode_basestring(pred), name_json, ids[i], score).encode()
        except (TypeError, UnicodeEncodeError):
            line = sample_record(rows[i].id, name, text, pred, score)
        out.append(line)
    return out


_PERTURBED: OrderedDict[tuple[str, str, int, float], tuple[tuple[str, ...], tuple[str, ...]]] = OrderedDict()
_PERTURBED_MAX = 64  # perturbation × data-set lists kept (a built-in suite has 11 of about 240 rows)
_PERTURBED_LOCK = threading.Lock()


def perturbed_inputs(data: Dataset, p: Perturbation) -> list[str]:
    """Every row of ``data`` under ``p``: a pure function of the data set's digest and the
    perturbation (name, seed, rate), so it is computed once per process and reused by later runs
    of any suite that names the same data and perturbation (re-checks, other models)."""
    return list(_perturbed(data, p)[0])


def _perturbed(data: Dataset, p: Perturbation) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The perturbed texts and the hex SHA-256 of each (the records' ``input_sha256``), cached."""
    key = (data.ref.sha256, p.name, p.seed, p.rate)
    with _PERTURBED_LOCK:
        found = _PERTURBED.get(key)
        if found is not None:
            _PERTURBED.move_to_end(key)
            return found
    texts = tuple(perturb(p.name, r.input, p.seed, p.rate) for r in data.rows)
    sha = _sha256
    entry = texts, tuple(sha(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts)
    with _PERTURBED_LOCK:
        _PERTURBED[key] = entry
        while len(_PERTURBED) > _PERTURBED_MAX:
            _PERTURBED.popitem(last=False)
    return entry


def run_suite(suite: Suite, data: Dataset, model: Model, *, progress: Callable[[int], None] | None = None) -> RunResult:
    """Run every row under every perturbation of ``suite`` (``data`` must be the suite's)."""
    if data.ref != suite.dataset:
        raise ValueError("the data set is not the suite's")
    rows = data.rows
    texts, predictions = _predict(suite, data, model, progress)
    clean = predictions.get("clean") or model.predict([r.input for r in rows])
    records: list[bytes] = []
    metrics: dict[str, Metric] = {}
    size = len(rows)
    exact = suite.scorer == "exact-label"
    targets = [r.target for r in rows]
    correct = [i for i in range(size) if clean[i] == targets[i]] if exact else []
    reference = targets if exact else clean  # what a prediction is scored against
    ids = [encode_basestring(r.id) for r in rows]
    pairs = language_pairs([r.id for r in rows]) if "crosslingual" in suite.metrics else []
    for p in suite.perturbations:
        preds = predictions[p.name]
        scores = [int(a == b) for a, b in zip(preds, reference, strict=True)]
        metrics.update(_metrics(p.name, preds, scores, clean, targets if exact else None, correct))
        if pairs:
            same = sum(1 for en, zh in pairs if preds[en] == preds[zh])
            metrics[f"crosslingual:{p.name}"] = Metric.of(same, len(pairs))
        inputs, digests = texts[p.name]
        records += _records(ids, rows, encode_basestring(p.name), p.name, inputs, preds, scores, digests)
    metrics.update(_worst(suite, metrics, exact))
    leaves = [leaf_hash(r) for r in records]
    result = RunResult(suite, model.identity.as_subject(), records, leaves, merkle_root(leaves), metrics)
    result.criteria += _criteria(suite, metrics)
    return result


def _predict(
    suite: Suite, data: Dataset, model: Model, progress: Callable[[int], None] | None
) -> tuple[dict[str, tuple[tuple[str, ...], tuple[str, ...]]], dict[str, list[str]]]:
    """Each perturbation's (inputs, digests) and the model's predictions on its inputs."""
    predictions: dict[str, list[str]] = {}
    texts: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for p in suite.perturbations:
        texts[p.name] = _perturbed(data, p)
        predictions[p.name] = model.predict(list(texts[p.name][0]))
        if progress is not None:
            progress(len(data.rows))
    return texts, predictions


def _worst(suite: Suite, metrics: dict[str, Metric], exact: bool) -> dict[str, Metric]:
    """The lowest accuracy (exact-label scorers) and consistency over the attacked perturbations."""
    attacked = [p.name for p in suite.perturbations if p.name != "clean"]
    out: dict[str, Metric] = {}
    if attacked and exact:
        out["min_accuracy"] = Metric.minimum([metrics[f"accuracy:{n}"] for n in attacked])
    if attacked:
        out["min_consistency"] = Metric.minimum([metrics[f"consistency:{n}"] for n in attacked])
    if attacked and "crosslingual" in suite.metrics:
        out["min_crosslingual"] = Metric.minimum([metrics[f"crosslingual:{n}"] for n in attacked])
    return out


def _metrics(
    name: str,
    preds: list[str],
    scores: list[int],
    clean: list[str],
    targets: list[str | None] | None,
    correct: list[int],
) -> dict[str, Metric]:
    """One perturbation's metrics: accuracy and attack success rate against the targets (with an
    exact-label scorer, ``targets`` given), and consistency with the clean predictions."""
    size = len(scores)
    out: dict[str, Metric] = {}
    if targets is not None:
        out[f"accuracy:{name}"] = Metric.of(sum(scores), size)
        if name != "clean":
            flipped = sum(1 for i in correct if preds[i] != targets[i])
            out[f"asr:{name}"] = Metric.of(flipped, len(correct))
    if name != "clean":
        same = sum(scores) if targets is None else sum(1 for a, b in zip(preds, clean, strict=True) if a == b)
        out[f"consistency:{name}"] = Metric.of(same, size)
    return out


def _criteria(suite: Suite, metrics: dict[str, Metric]) -> list[dict[str, Any]]:
    """Each pass criterion with the metric's value, the interval bound it is judged on (the lower
    bound for ``>=`` and ``>``, the upper for ``<=`` and ``<``) and whether it passed (no metric:
    not passed)."""
    out: list[dict[str, Any]] = []
    for c in suite.pass_criteria:
        m = metrics.get(c.metric)
        lower = c.comparator in (">=", ">")
        bound = None if m is None else (m.ci95[0] if lower else m.ci95[1])
        out.append(
            {
                "metric": c.metric,
                "comparator": c.comparator,
                "threshold": c.threshold,
                "value": None if m is None else round(m.value, 6),
                "judged_on": "wilson-95-lower" if lower else "wilson-95-upper",
                "bound": None if bound is None else round(bound, 6),
                "passed": bound is not None and _OPS[c.comparator](bound, c.threshold),
            }
        )
    return out
