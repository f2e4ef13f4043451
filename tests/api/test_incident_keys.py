"""An incident key no report can have is a typed 422 with a hint on every route that takes one as
query parameters, never a 500 (found by the OpenAPI fuzz run: ``/api/v1/incident/similar`` built
the key inside the handler)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient


@pytest.mark.parametrize("key", [{"origin": "", "id": ""}, {"origin": "us", "id": ""}, {"origin": "us", "id": "a b"}])
@pytest.mark.parametrize("path", ["/api/v1/incident/similar", "/api/v1/incident"])
def test_a_malformed_incident_key_is_a_422_with_a_hint(
    make_client: Callable[..., TestClient], path: str, key: dict[str, str]
) -> None:
    answer = make_client().get(path, params=key)
    assert answer.status_code in (404, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["hint"]
