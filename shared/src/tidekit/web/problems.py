"""RFC 9457 problem details for every error a service answers.

Invalid input is a 4xx that says what is wrong; a dependency outage is a 503 with
Retry-After; nothing else should ever surface, but if it does it is a problem+json 500
without internals.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidekit.errors import TRANSIENT_ERRORS, DependencyUnavailable
from tidekit.store.eventstore import ConcurrencyConflict

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


_PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}
_MEANING = {
    401: "No API key, or an unknown, malformed or revoked one",
    403: "A valid key without the right to do this",
    404: "No such resource, or not the caller's (the same answer)",
    409: "Not possible in the resource's present state; the detail says why",
    413: "The body is over the configured limit",
    422: "Invalid input; the detail (and `errors`) say what is wrong",
    503: "A dependency (database, or intake for API keys) is away; see Retry-After",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error answers, documented as what they are: problem
    documents (application/problem+json), so clients and fuzzers know their shape."""
    return {
        status: {
            "description": _MEANING[status],
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        out.append({"field": loc or "body", "message": err.get("msg", "invalid")})
    return out


def install_problem_handlers(app: FastAPI, retry_after: int = 5) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, request, exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}.get(
            exc.status_code, "Error"
        )
        return problem_response(
            exc.status_code, title, str(exc.detail), request, dict(exc.headers or {})
        )

    @app.exception_handler(ConcurrencyConflict)
    async def _busy(request: Request, exc: ConcurrencyConflict) -> JSONResponse:
        # The retry policy gave up: other writers kept winning the race for this stream.
        detail = "too many simultaneous changes; retry"
        return problem_response(503, "Busy ticket", detail, request, {"Retry-After": "1"})

    @app.exception_handler(DependencyUnavailable)
    async def _unavailable(request: Request, exc: DependencyUnavailable) -> JSONResponse:
        return _service_unavailable(request, exc.what, exc.retry_after)

    async def _transient(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable during request", extra={"error": repr(exc)})
        # One dead connection means the server went away: replace every pooled connection
        # on its next use, so the pool does not hand out the other dead ones one by one.
        pool = getattr(getattr(request.app.state, "runtime", None), "pool", None)
        if pool is not None:
            await pool.expire_connections()
        return _service_unavailable(request, "a dependency", retry_after)

    for exc_type in (*TRANSIENT_ERRORS, asyncpg.PostgresConnectionError):
        app.add_exception_handler(exc_type, _transient)

    async def _unstorable_text(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL keeps no NUL character in text or JSON: the input is refused, not lost.
        return problem_response(
            422,
            "Unprocessable text",
            "the request contains a character that cannot be stored (such as U+0000)",
            request,
        )

    for unstorable in (
        asyncpg.CharacterNotInRepertoireError,
        asyncpg.UntranslatableCharacterError,
    ):
        app.add_exception_handler(unstorable, _unstorable_text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(500, "Internal error", "the error was logged", request)


def _service_unavailable(request: Request, what: str, retry_after: int) -> JSONResponse:
    return problem_response(
        503,
        "Service unavailable",
        f"{what} is unreachable right now; nothing was changed, retry later",
        request,
        {"Retry-After": str(retry_after)},
    )
