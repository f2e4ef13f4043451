"""The one place the API turns errors into RFC 9457 problem+json bodies with a stable code."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from detente.errors import ConfigError, DetenteError, RateLimited

__all__ = [
    "PROBLEM",
    "count_rejection",
    "error_response",
    "install_problem_handlers",
    "problem_response",
    "rejections",
]

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


_REJECTIONS: Counter[tuple[int, str]] = Counter()
_LOCK = threading.Lock()


def count_rejection(scope: Scope | None, status: int, code: str) -> None:
    """Count one refused request by status and problem code (the node's /api/v1/metrics shows them)."""
    with _LOCK:
        _REJECTIONS[(status, code)] += 1


def rejections() -> dict[str, int]:
    """``"<status> <code>"`` → how many requests this process refused that way."""
    with _LOCK:
        return {f"{status} {code}": n for (status, code), n in sorted(_REJECTIONS.items())}


def _encodable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate (a valid JSON escape, ``"\\ud800"``) that a
    refusal echoes back is written as its escape, so the refusal is not turned into a 500."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def problem_response(
    status: int, code: str, detail: str, hint: str | None = None, *, transient: bool = True
) -> JSONResponse:
    """The problem body; a 503 says ``Retry-After: 1`` unless it is not ``transient`` (a node
    configuration problem: retrying will not help until its operator fixes it)."""
    body: dict[str, object] = {
        "type": f"https://detente.dev/problems/{code}",
        "title": code.replace("-", " "),
        "status": status,
        "detail": _encodable(detail),
        "code": code,
    }
    if hint:
        body["hint"] = _encodable(hint)
    if status >= 400:
        count_rejection(None, status, code)
    headers = {"Retry-After": "1"} if status == 503 and transient else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def error_response(exc: DetenteError, path: str = "") -> JSONResponse:
    """The problem answer for a typed error (a 429 says when to retry)."""
    log.info("rejected path=%s code=%s status=%d", path, exc.code, exc.http_status)
    transient = not isinstance(exc, ConfigError)
    response = problem_response(exc.http_status, exc.code, exc.message, exc.hint, transient=transient)
    if isinstance(exc, RateLimited):  # HeavyWorkBusy too
        response.headers["Retry-After"] = exc.retry_after
    return response


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DetenteError)
    async def _detente(request: Request, exc: DetenteError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        return problem_response(
            422,
            "invalid-request",
            f"{loc}: {first.get('msg')}",
            f"see the OpenAPI document at {request.base_url}openapi.json",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A fault of this node (a bug, a store that failed in a way no driver names), never the
        # request's: the caller gets a problem body like every other error, with no trace of the
        # node's internals; the traceback goes to the node's log (Starlette logs it after this).
        log.error("internal error path=%s error=%s", request.url.path, type(exc).__name__)
        return problem_response(
            500,
            "internal-error",
            "the node failed to answer this request",
            "before retrying a write, read whether it took effect; "
            "if this happens again, send the node's log to its operator",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status_code, "http-error")
        return problem_response(exc.status_code, code, str(exc.detail))
