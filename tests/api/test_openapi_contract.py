"""The OpenAPI document describes the node as it is (issue #21): a valid OpenAPI document
(openapi-spec-validator), bearer authentication as a security scheme on every operation that
needs a token, every error as application/problem+json with the one shared Problem schema, the
Problem bodies the node serves valid against that schema (a 422 included), and the witness
endpoint's statuses as docs/node.md lists them. tests/fuzz checks every operation's answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from detente.api.contract import PROBLEM_SCHEMA

DOCS = Path(__file__).resolve().parents[2] / "docs" / "node.md"
METHODS = {"get", "post", "put", "delete", "patch"}
PROBLEM_REF = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items() if m in METHODS]


def test_the_document_is_valid_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_bearer_security_on_every_operator_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, op in _operations(spec):
        operator = path.startswith("/api/v1/")
        assert ("security" in op) == operator, (method, path)
        if operator:
            assert op["security"] == [{"bearer": []}]
            assert op["x-detente-role"] in ("viewer", "officer", "admin")
            assert "401" in op["responses"], (method, path)
            params = op.get("parameters", [])
            assert not any(p["in"] == "header" and p["name"].lower() == "authorization" for p in params)
    roles = {(m, p): op["x-detente-role"] for m, p, op in _operations(spec) if "x-detente-role" in op}
    assert roles[("POST", "/api/v1/tokens")] == "admin"
    assert roles[("POST", "/api/v1/records")] == "officer"
    assert roles[("GET", "/api/v1/status")] == "viewer"
    assert "403" in spec["paths"]["/api/v1/records"]["post"]["responses"]
    assert "403" not in spec["paths"]["/api/v1/status"]["get"]["responses"]  # a viewer route: no lower role


def test_every_error_is_a_problem_with_the_one_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    errors = 0
    for method, path, op in _operations(spec):
        for status, answer in op["responses"].items():
            if int(status) < 400 or (path, status) == ("/witness/add-checkpoint", "409"):
                continue
            assert answer["content"] == PROBLEM_REF, (method, path, status)
            errors += 1
    assert errors > 300


def test_served_problems_match_the_schema(client: TestClient) -> None:
    """The bodies the node sends for FastAPI's validation errors (422), a bad token, an unknown
    route, a wrong method, a parser's refusal and a typed error validate against the schema."""
    answers = [
        client.post("/api/v1/records", json={"type": 5}),
        client.get("/api/v1/records", params={"start": "x"}),
        client.get("/api/v1/status", headers={"Authorization": "Bearer nope"}),
        client.get("/api/v1/no-such-route"),
        client.put("/api/v1/records"),
        client.get("/log/tile/0/x000/001"),
        client.delete("/api/v1/tokens/nope"),
    ]
    for resp in answers:
        assert resp.headers["content-type"] == "application/problem+json", resp.text
        jsonschema.validate(resp.json(), PROBLEM_SCHEMA)
    assert [r.status_code for r in answers] == [422, 422, 401, 404, 405, 400, 404]


def test_raw_bodies_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/labels/check", "/api/v1/labels/apply", "/api/v1/incidents/stix", "/witness/add-checkpoint"):
        assert "requestBody" in spec["paths"][path]["post"], path


def test_witness_statuses_are_those_docs_node_md_lists(client: TestClient) -> None:
    row = next(line for line in DOCS.read_text().splitlines() if line.startswith("| `POST /witness/add-checkpoint`"))
    documented = {int(s) for s in re.findall(r"\b([2-5]\d\d)\b", row)}
    spec = client.get("/openapi.json").json()
    answers = spec["paths"]["/witness/add-checkpoint"]["post"]["responses"]
    assert {int(s) for s in answers} == documented
    assert set(answers["409"]["content"]) == {"text/x.tlog.size"}
    assert set(answers["200"]["content"]) == {"text/plain"}


def test_writes_declare_the_idempotency_key_header(client: TestClient) -> None:
    """Issue #21: the header the CLI and console send on every write is in the contract."""
    spec = client.get("/openapi.json").json()
    for method, path, op in _operations(spec):
        names = [p["name"] for p in op.get("parameters", ())]
        if method == "POST" and path.startswith("/api/") and "security" in op:
            assert "Idempotency-Key" in names, (method, path)
        if method == "GET":
            assert "Idempotency-Key" not in names, (method, path)


def test_every_documented_role_is_the_one_docs_node_md_gives(client: TestClient) -> None:
    """x-detente-role is the role the route enforces, as docs/node.md's table says (POST /api/v1/audit
    said viewer while it refused viewers 403)."""
    table = {
        (method, path.rstrip()): role
        for method, path, role in re.findall(
            r"^\| `(GET|POST|DELETE|PUT) (/api/v1/[^`?]*)[^`]*` \| (\w+)", DOCS.read_text(), re.M
        )
    }
    spec = client.get("/openapi.json").json()
    roles = {(m, p): op["x-detente-role"] for m, p, op in _operations(spec) if "x-detente-role" in op}
    differ = {key: (role, table[key]) for key, role in roles.items() if key in table and table[key] != role}
    assert not differ, differ
    assert roles[("POST", "/api/v1/audit")] == "officer"
    viewer = client.post("/api/v1/tokens", json={"role": "viewer"}).json()["token"]
    assert client.post("/api/v1/audit", headers={"Authorization": f"Bearer {viewer}"}).status_code == 403


def test_paged_lists_declare_their_total_count_header(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/inbox", "/api/v1/exportctl/disclosures"):
        assert "x-total-count" in client.get(path, params={"limit": 1}).headers
        ok = spec["paths"][path]["get"]["responses"]["200"]
        assert ok["headers"]["X-Total-Count"]["schema"]["type"] == "integer", path
        assert "application/json" in ok["content"], path  # the body's schema is kept beside it
