"""/healthz, /readyz and /metrics, mounted on every service."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidekit.runtime import ServiceRuntime
from tidekit.telemetry import span_from_headers

REQUESTS = Counter("tidemark_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("tidemark_http_request_seconds", "HTTP latency", ["method", "route"])
ReadinessCheck = Literal["database", "kafka"]


def ops_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @router.get("/readyz", summary="Its database and Kafka are reachable")
    async def readyz(
        require: Annotated[
            list[ReadinessCheck] | None,
            Query(
                description="Only these checks decide readiness (the others are still "
                "reported): intake accepts writes while Kafka is down (its outbox keeps "
                "them), so its readiness probe asks for `require=database` alone"
            ),
        ] = None,
    ) -> JSONResponse:
        checks = await runtime.readiness()
        deciding = set(require) if require else set(checks)
        ready = all(ok for name, ok in checks.items() if name in deciding)
        headers = {} if ready else {"Retry-After": str(runtime.settings.retry_after_seconds)}
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
            headers=headers,
        )

    @router.get("/metrics", summary="Prometheus text format", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_http_telemetry(app: FastAPI) -> None:
    """Count and time requests; continue the caller's trace (W3C traceparent)."""
    app.add_middleware(HttpTelemetry)


class HttpTelemetry:
    """A plain ASGI middleware, not `@app.middleware("http")`: Starlette's
    BaseHTTPMiddleware runs the rest of the app in a task of its own and streams the
    response through a memory channel, a cost paid on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app starts a response: an exception is a 500 to the caller

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with span_from_headers(f"{scope['method']} {scope['path']}", Headers(scope=scope)):
                await self.app(scope, receive, observed_send)
        finally:
            # The router wrote the matched route into this same scope.
            path = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
