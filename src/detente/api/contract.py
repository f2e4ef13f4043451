"""The OpenAPI document as the node serves it: what each operation answers, errors included.

FastAPI documents the success answer of each route and a 422 in its own validation-error shape.
This module rewrites the document so that it says what the node really does:

* bearer authentication as the ``bearer`` security scheme, applied to every operation whose route
  declares a :class:`~detente.api.auth.RoleCheck` (with the role as ``x-detente-role``);
* every error status an operation can answer, each as ``application/problem+json`` with the one
  shared ``Problem`` schema that :func:`detente.api.problems.problem_response` writes (and
  FastAPI's ``HTTPValidationError`` removed: the node never sends it);
* the raw request bodies (uploads, STIX bundles, the witness's signed note) and the witness's own
  answers, as ``docs/node.md`` lists them.

tests/api/test_openapi_contract.py validates the document (openapi-spec-validator) and
tests/fuzz/test_openapi_fuzz.py checks served answers against it (status, media type, schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from detente.api.auth import RoleCheck
from detente.api.incidents import ImportIn
from detente.api.problems import PROBLEM

__all__ = ["PROBLEM_SCHEMA", "RAW_BODIES", "WITNESS_STATUSES", "error_statuses", "install_contract"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: a stable code, what went wrong, and how to fix it.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "description": "https://detente.dev/problems/<code>"},
        "title": {"type": "string", "description": "the code in words"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "code": {"type": "string", "pattern": "^[a-z0-9-]+$", "description": "stable; see docs/errors.md"},
        "hint": {"type": "string", "description": "how to fix it"},
    },
}

REASONS = {
    400: "Malformed input (a parser refused it)",
    401: "No valid bearer token",
    403: "The token's role may not do this",
    404: "Not found (a log, record, incident, document, …)",
    409: "Conflict with what the node holds (a pin, a quota, a log that moved on)",
    413: "Request body over this path's limit",
    422: "Refused input (schema, values, or a record that may not be signed)",
    429: "Rate limit: retry after Retry-After seconds",
    503: "Unavailable for now (store, a peer, or the node's configuration); Retry-After when transient",
}

WITNESS_STATUSES = (400, 403, 404, 409, 413, 422, 503)
"""The witness endpoint's error statuses (docs/node.md lists the same; a test compares them)."""

RAW_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/labels/check"): {
        "description": "the file (Content-Type or ?mime= names its type)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    ("POST", "/api/v1/labels/apply"): {
        "required": True,
        "description": "the file to label (Content-Type or ?mime= names its type)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    ("POST", "/api/v1/labels/propagate"): {
        "required": True,
        "description": "the file a platform passes on (Content-Type or ?mime= names its type)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    ("POST", "/api/v1/incidents/stix"): {
        "required": True,
        "description": "a STIX 2.1 bundle",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    ("POST", "/witness/add-checkpoint"): {
        "required": True,
        "description": "C2SP tlog-witness: old <size>, consistency proof lines, a blank line, the signed checkpoint",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
}
"""Routes that read their body themselves (FastAPI cannot see it): documented here."""

BODY_MODELS: tuple[type[BaseModel], ...] = (ImportIn,)
"""Models of bodies that routes parse themselves (off the event loop), named in the document by
``$ref`` (``openapi_extra``): their schemas are added to its components."""

PUBLIC_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/healthz"): (),
    ("GET", "/log/checkpoint"): (503,),
    ("GET", "/log/tile/{path}"): (400, 404, 503),
    ("POST", "/witness/add-checkpoint"): WITNESS_STATUSES,
    ("GET", "/console/{name}"): (404,),
}
"""Operations without a token: their errors, one by one."""

EXTRA_FORBIDDEN = {("POST", "/api/v1/labels/check")}
"""Viewer routes that still answer 403 (``record=true`` needs an officer)."""

QUERY_TOKEN = {("GET", "/api/v1/events")}
"""Routes that authenticate themselves (``?token=`` or the header)."""


def _role(dependant: Dependant) -> str | None:
    for dep in _walk(dependant):
        if isinstance(dep.call, RoleCheck):
            return dep.call.role
    return None


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for dep in dependant.dependencies:
        yield dep
        yield from _walk(dep)


def _takes_input(route: APIRoute) -> bool:
    d = route.dependant
    params = [*d.path_params, *d.query_params, *d.header_params, *d.body_params]
    for dep in _walk(d):
        if not isinstance(dep.call, RoleCheck):  # the token is the security scheme, not an input
            params += [*dep.path_params, *dep.query_params, *dep.header_params, *dep.body_params]
    return bool(params) or bool((route.methods or set()) & {"POST", "PUT"})


def error_statuses(route: APIRoute, method: str, rate_limited: bool) -> tuple[str | None, tuple[int, ...]]:
    """The role an operation needs (None: no token) and every error status it can answer."""
    key = (method, route.path_format)
    if key in PUBLIC_ERRORS:
        return None, PUBLIC_ERRORS[key]
    role = _role(route.dependant) or ("viewer" if key in QUERY_TOKEN else None)
    statuses = {503}
    if role is not None:
        statuses.add(401)
        if role != "viewer" or key in EXTRA_FORBIDDEN:
            statuses.add(403)
    if _takes_input(route):
        statuses |= {400, 404, 422}
    if method in ("POST", "PUT", "DELETE"):
        statuses |= {404, 409}
    if method in ("POST", "PUT"):
        statuses.add(413)
    if rate_limited:
        statuses.add(429)
    return role, tuple(sorted(statuses))


IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "draft-ietf-httpapi-idempotency-key-header: a retry with the same key and request gets the "
    "first answer and appends nothing; the same key with another request is 422, one still being answered 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e][\\x20-\\x7e]*$"},
}


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": REASONS[status],
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        answer["headers"] = {
            "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
        }
    return answer


def build(app: FastAPI, rate_limited: Callable[[str, str], bool]) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "dtk_<id>_<secret>",
            "description": "an operator token from `detente token create`; roles viewer < officer < admin",
        }
    }
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = spec["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            role, statuses = error_statuses(route, method, rate_limited(method, route.path_format))
            if role is not None:
                operation["security"] = [{"bearer": []}]
                operation["x-detente-role"] = role
                params = [p for p in operation.get("parameters", ()) if p["name"].lower() != "authorization"]
                if params:
                    operation["parameters"] = params
                else:
                    operation.pop("parameters", None)
            writes = method in ("POST", "PUT", "PATCH", "DELETE") and route.path_format.startswith("/api/")
            if role is not None and writes:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses = operation["responses"]
            responses.pop("422", None)  # FastAPI's validation shape: replaced by the Problem below
            for status in statuses:
                responses[str(status)] = _problem(status)
            raw = RAW_BODIES.get((method, route.path_format))
            if raw is not None:
                operation["requestBody"] = raw
    _witness(spec)
    return spec


def _witness(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/witness/add-checkpoint"]["post"]
    operation["responses"]["200"] = {
        "description": "the cosignature/v1 line",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    operation["responses"]["409"] = {
        "description": "the checkpoint's old size is not the size this witness holds: that size",
        "content": {"text/x.tlog.size": {"schema": {"type": "string"}}},
    }


def install_contract(app: FastAPI, rate_limited: Callable[[str, str], bool]) -> None:
    """Serve the rewritten document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, rate_limited)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
