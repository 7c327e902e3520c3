"""The part of `create_app` every service shares."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from tidekit.clock import ManualClock
from tidekit.heap import set_start_up_heap_aside
from tidekit.runtime import ServiceRuntime
from tidekit.telemetry import configure_logging, configure_tracing
from tidekit.web.clock import clock_router
from tidekit.web.ops import install_http_telemetry, ops_router
from tidekit.web.problems import install_problem_handlers
from tidekit.web.staff import StaffKeys, staff_dependency, staff_keys_of

log = logging.getLogger(__name__)

# FastAPI's own OpenTelemetry (0.16x) would open a span for every request, dependency and
# serialization once a tracer provider is set, beside HttpTelemetry's span and metrics:
# the same request traced twice, at a cost paid on every request. Ours stays (one span
# continuing the caller's traceparent, Prometheus counters by route template).
FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    admin_only: Callable[..., Any] | None = None,
) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops `runtime`, with ops routes mounted.

    `admin_only` guards the test clock's routes (mounted only with a test clock); by
    default an admin's staff key checked with intake, while intake brings its own check."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    settings.check_secrets()  # outside development: exits naming what is missing
    configure_tracing(settings.service_name, settings.otel_exporter, settings.otel_sample_ratio)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        set_start_up_heap_aside()  # out of every full collection's walk (tidekit.heap)
        try:
            yield
        finally:
            await runtime.stop()
            await app.state.staff_keys.close()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY,
    )
    app.state.runtime = runtime
    service_key = settings.service_key.get_secret_value() if settings.service_key else None
    app.state.staff_keys = StaffKeys(
        settings.intake_url,
        service_key,
        settings.staff_key_cache_seconds,
        settings.retry_after_seconds,
    )
    install_problem_handlers(app, settings.retry_after_seconds)
    install_http_telemetry(app)
    app.include_router(ops_router(runtime))
    if isinstance(runtime.clock, ManualClock):
        log.warning(
            "test clock in use: PUT /v1/admin/clock moves time", extra={"clock": settings.clock}
        )
        guard = admin_only or staff_dependency(staff_keys_of, "admin")
        app.include_router(clock_router(runtime.clock), dependencies=[Depends(guard)])
    return app
