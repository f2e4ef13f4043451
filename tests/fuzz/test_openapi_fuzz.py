"""schemathesis against the full OpenAPI document of a real node: every operation, as an admin and
without a token, with inputs generated from its schema (positive mode) and inputs that violate it
(negative mode: wrong types, missing required fields, values out of range, unexpected properties,
malformed query parameters). No request may get a 5xx: bad input is a 4xx problem. Every answer
must match the document (issue #21): its status is one the operation documents, its media type
the documented one for that status, its body valid against the documented schema (every error
against the one shared Problem schema), its documented headers present.

Two runs per driver. Positive, derandomized (the same examples every time). Negative,
derandomized locally and with a fresh random seed in CI (``CI`` set) or when
``DETENTE_FUZZ_RANDOM=1``, so CI explores new inputs on every run; ``DETENTE_FUZZ_SEED`` replays a
seed, and a failure names its seed. ``DETENTE_FUZZ_EXAMPLES`` (default 6) bounds the examples per
operation and run; docs/reliability.md records longer runs and what the fuzzing cannot reach."""

from __future__ import annotations

import os
import random
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

from detente.node.localnet import LocalNode  # noqa: E402

EXAMPLES = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "6"))
RANDOM = bool(os.environ.get("CI")) or os.environ.get("DETENTE_FUZZ_RANDOM") == "1" or "DETENTE_FUZZ_SEED" in os.environ
SEED = int(os.environ.get("DETENTE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
RUNS = {  # name: (generation mode, seed; None: derandomized)
    "positive": (GenerationMode.POSITIVE, None),
    "negative": (GenerationMode.NEGATIVE, SEED if RANDOM else None),
}
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_node(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    store, schema = "detente.db", ""
    if request.param == "postgres":
        import uuid

        import psycopg

        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            if os.environ.get("DETENTE_REQUIRE_PG") == "1":
                raise
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        schema = f"fuzz_{uuid.uuid4().hex[:10]}"
        store = f"{PG_URL}#{schema}"
    folder = Path(tmp_path_factory.mktemp("fuzz")) / "us"
    node = LocalNode("us", "us.detente.example/log", folder, store=store).init()
    config = node.directory / "detente.toml"  # no rate limit: every example reaches its handler
    settings_ = {**tomllib.loads(config.read_text()), "rate_limit_per_minute": 0.0, "rate_limit_peer_per_minute": 0.0}
    config.write_text(tomli_w.dumps(settings_))
    node.start()
    node.send("detente.dev/statement/v1", "a record to find")
    yield node
    node.stop(kill=True)
    if schema:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.parametrize("run", sorted(RUNS))
def test_no_operation_answers_5xx(fuzz_node: LocalNode, run: str) -> None:
    import requests
    from hypothesis import given

    mode, run_seed = RUNS[run]
    api = schemathesis.openapi.from_url(f"{fuzz_node.url}/openapi.json")
    failures: list[str] = []
    operations = sent = unsendable = nothing_to_violate = 0
    for result in api.get_all_operations():
        operation = result.ok()
        if operation.path in ("/api/v1/events",):
            continue  # a stream: it answers 200 and stays open
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=run_seed is None,
            database=None,
        )
        def probe(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal sent, unsendable
            for headers in ({"Authorization": f"Bearer {fuzz_node.token}"}, {}):
                try:
                    response = case.call(base_url=fuzz_node.url, headers=headers, timeout=30)
                except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeEncodeError):
                    unsendable += 1  # the client refuses to send it (e.g. a header with a newline)
                    continue
                sent += 1
                said = f"{case.method} {case.formatted_path}: {response.status_code} {response.content[:200]!r}"
                if response.status_code >= 500:
                    failures.append(f"{said} (request: {case.as_curl_command()[:300]})")
                    continue
                try:
                    case.validate_response(response, checks=CONFORMANCE)
                except (AssertionError, FailureGroup) as exc:
                    failures.append(f"{said}: not as documented: {str(exc)[:400]}")

        if run_seed is not None:
            probe = hypothesis_seed(run_seed)(probe)
        try:
            probe()
        except Unsatisfiable:
            if mode is not GenerationMode.NEGATIVE:
                raise
            nothing_to_violate += 1  # no parameters or body: no input can break its schema
    assert operations >= 60
    assert sent >= operations - nothing_to_violate, (sent, unsendable, nothing_to_violate)
    print(f"{run}: {operations} operations, {sent} requests sent, {unsendable} unsendable, "
          f"{nothing_to_violate} with nothing to violate")  # fmt: skip
    replay = f"; replay with DETENTE_FUZZ_SEED={run_seed}" if run_seed is not None else ""
    assert not failures, f"{run} run{replay}:\n" + "\n".join(failures[:20])
