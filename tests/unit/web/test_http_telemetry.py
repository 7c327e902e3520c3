"""Every request is counted and timed under its route's template and its status."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import REGISTRY

from tidekit.telemetry import current_trace_headers, sampler_for
from tidekit.web.app import FASTAPI_TELEMETRY
from tidekit.web.ops import install_http_telemetry


def _count(route: str, status: str, method: str = "GET") -> float:
    value = REGISTRY.get_sample_value(
        "tidemark_http_requests_total", {"method": method, "route": route, "status": status}
    )
    return value or 0.0


def _app() -> FastAPI:
    app = FastAPI()
    install_http_telemetry(app)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    return app


async def test_requests_are_counted_by_route_template_and_status() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    before_ok = _count("/things/{thing_id}", "200")
    before_missing = _count("unmatched", "404")
    before_error = _count("/broken", "500")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/things/a")).status_code == 200
        assert (await client.get("/things/b")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.get("/broken")).status_code == 500
    assert _count("/things/{thing_id}", "200") == before_ok + 2
    assert _count("unmatched", "404") == before_missing + 1
    assert _count("/broken", "500") == before_error + 1


def test_sampling_follows_the_parent_and_samples_new_traces_by_ratio() -> None:
    def decide(ratio: float, parent_sampled: bool | None, trace_id: int) -> Decision:
        parent = None
        if parent_sampled is not None:
            flags = TraceFlags(TraceFlags.SAMPLED if parent_sampled else TraceFlags.DEFAULT)
            span = NonRecordingSpan(SpanContext(trace_id, 1, is_remote=True, trace_flags=flags))
            parent = trace.set_span_in_context(span)
        return sampler_for(ratio, "otlp").should_sample(parent, trace_id, "x").decision

    low_id, high_id = 1, (1 << 128) - 1  # ratio sampling keeps ids below ratio * 2^64
    assert decide(0.0, True, high_id) == Decision.RECORD_AND_SAMPLE  # a sampled parent wins
    assert decide(1.0, False, low_id) == Decision.DROP  # so does an unsampled one
    assert decide(0.5, None, low_id) == Decision.RECORD_AND_SAMPLE
    assert decide(0.5, None, high_id) == Decision.DROP


def test_without_an_exporter_nothing_is_recorded_yet_the_trace_id_travels_on() -> None:
    """Spans that go nowhere are not recorded (each recorded span costs its attributes and
    a processor call on every request), but the caller's trace id still reaches the
    events' headers and the logs."""
    provider = TracerProvider(sampler=sampler_for(1.0, "none"))
    trace_id = 0x0AF7651916CD43DD8448EB211C80319C
    incoming = {"traceparent": f"00-{trace_id:032x}-b7ad6b7169203331-01"}  # sampled upstream
    with provider.get_tracer("t").start_as_current_span(
        "POST /v1/tickets", context=propagate.extract(incoming)
    ) as span:
        assert not span.is_recording()
        assert span.get_span_context().trace_id == trace_id
        assert current_trace_headers()["traceparent"].startswith(f"00-{trace_id:032x}-")


async def test_fastapis_own_request_spans_are_off_ours_are_the_ones() -> None:
    """FastAPI (0.16x) opens spans of its own for every request, dependency and
    serialization once a tracer provider is set: a second set beside HttpTelemetry's."""

    async def spans_of(telemetry: dict[str, Any]) -> int:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app = FastAPI(telemetry={**telemetry, "tracer_provider": provider})

        @app.get("/ping")
        async def ping() -> dict[str, str]:
            return {"ok": "yes"}

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/ping")).status_code == 200
        return len(exporter.get_finished_spans())

    assert await spans_of({}) > 0  # FastAPI's default, as a control
    assert await spans_of(dict(FASTAPI_TELEMETRY)) == 0
