"""schemathesis against the full OpenAPI document of a real node: every operation, with inputs
generated from its schema (and beyond it), as an admin and without a token. No request may get a
5xx: bad input is a 4xx problem. ``DETENTE_FUZZ_EXAMPLES`` (default 6) bounds the examples per
operation; docs/reliability.md records a longer run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from detente.node.localnet import LocalNode  # noqa: E402

EXAMPLES = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "6"))


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
    node = LocalNode("us", "us.detente.example/log", folder, store=store).init().start()
    node.send("detente.dev/statement/v1", "a record to find")
    yield node
    node.stop(kill=True)
    if schema:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_no_operation_answers_5xx(fuzz_node: LocalNode) -> None:
    from hypothesis import given

    api = schemathesis.openapi.from_url(f"{fuzz_node.url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        if operation.path in ("/api/v1/events",):
            continue  # a stream: it answers 200 and stays open
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def probe(case) -> None:  # type: ignore[no-untyped-def]
            for headers in ({"Authorization": f"Bearer {fuzz_node.token}"}, {}):
                response = case.call(base_url=fuzz_node.url, headers=headers, timeout=30)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                    )

        probe()
    assert operations >= 60
    assert not failures, "\n".join(failures[:20])
