"""/healthz, /readyz and /metrics, mounted on every service."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

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

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        with span_from_headers(f"{request.method} {request.url.path}", request.headers):
            response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        return response
