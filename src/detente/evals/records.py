"""Bodies of the evaluation records a node logs and exchanges.

A run is logged as its per-sample records, in chunks small enough for one log entry
(``eval-samples``), followed by the signed result (``eval-result``) that references every chunk;
so every party that mirrors the log holds everything needed to recompute the result's Merkle root
and to re-check any sample. A pre-registration commits to a suite, a model and pass criteria
before the run, fixes the run's perturbation seeds (:mod:`detente.evals.seeds`) and carries a
publication deadline; a re-check records what another party re-ran and whether it matched.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from detente.records.body import Body, UtcTime

__all__ = [
    "EVAL_PREREGISTRATION",
    "EVAL_RECHECK",
    "EVAL_RESULT",
    "EVAL_SAMPLES",
    "EvalPreregistration",
    "EvalRecheck",
    "EvalResult",
    "EvalSamples",
]

EVAL_SAMPLES = "detente.dev/eval-samples/v1"
EVAL_RESULT = "detente.dev/eval-result/v1"
EVAL_PREREGISTRATION = "detente.dev/eval-preregistration/v1"
EVAL_RECHECK = "detente.dev/eval-recheck/v1"


class EvalSamples(Body):
    samples_root: str = Field(pattern=r"^[0-9a-f]{64}$", description="the run's Merkle root")
    start: int = Field(ge=0, description="position of the first record in the run")
    records: list[str] = Field(min_length=1, max_length=2000, description="canonical JSON sample records")


class EvalResult(Body):
    envelope: dict[str, Any] = Field(description="DSSE envelope of the in-toto Statement (eval-result predicate)")
    sample_count: int = Field(ge=1)


class EvalPreregistration(Body):
    suite: dict[str, Any] = Field(description="the suite manifest")
    suite_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    model: dict[str, Any] = Field(description="the model subject (name, digest)")
    note: str = Field(default="", max_length=4096)
    publish_by: UtcTime | None = Field(
        default=None,
        description="when the result is due (the agreement's follow-up window for this type, from the "
        "record's time): a result not logged by then is a missed deadline, recorded in both logs",
    )


class EvalRecheck(Body):
    suite_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    positions: list[int] = Field(min_length=1, max_length=10_000)
    matched: int = Field(ge=0)
    mismatched: list[int] = Field(default_factory=list)
    root_recomputed: bool
    local_model: dict[str, Any]
    verdict: str = Field(pattern="^(consistent|inconsistent|not-comparable)$")
    detail: str = Field(default="", max_length=4096)
