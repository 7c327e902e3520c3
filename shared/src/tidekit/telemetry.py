"""Structured logging (JSON lines) and OpenTelemetry tracing, set up once per process.

Each log line carries the service, the ticket id being worked on (a context variable set
by handlers and routes) and the current trace id. Trace context travels HTTP → Kafka
headers (W3C traceparent) → consumer, so one ticket's path can be followed across services.

Work that no request or record started opens a trace of its own where it begins: a message
taken over SMTP (`start_trace`), a warning or breach fired by the sla-timer's scheduler
(`detached_traces`, a trace per ticket; it joins the ticket's chain through its correlation
id).
Calls to other services carry the current trace along (`current_trace_headers`).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased

current_tid: contextvars.ContextVar[str | None] = contextvars.ContextVar("tid", default=None)
Exporter = Literal["none", "console", "otlp"]
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonLineFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        tid = current_tid.get()
        if tid:
            line["tid"] = tid
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


_tracing_configured = False


def configure_tracing(service: str, exporter: Exporter = "none", sample_ratio: float = 1.0) -> None:
    """Install the SDK tracer provider once; `exporter` picks where spans go.

    Sampling is parent-based: a trace that arrives (HTTP traceparent, Kafka headers) keeps
    its sampled flag, so every service records all of a sampled ticket's trace or none of
    it; only traces begun here are sampled at `sample_ratio`."""
    global _tracing_configured
    if _tracing_configured:
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"tidemark-{service}"}),
        sampler=sampler_for(sample_ratio, exporter),
    )
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        except ImportError as exc:
            raise RuntimeError(
                "otel exporter 'otlp' needs opentelemetry-exporter-otlp-proto-http installed"
            ) from exc
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _tracing_configured = True


def sampler_for(ratio: float, exporter: Exporter) -> Sampler:
    """Parent-based ratio sampling; with no exporter, nothing is recorded at all: a recorded
    span costs its attributes and a processor call on every request and record, for spans
    that would go nowhere. Trace ids still travel (traceparent, Kafka headers, log lines):
    an unrecorded span keeps its parent's trace id, or gets a new one."""
    if exporter == "none":
        return ALWAYS_OFF
    return ParentBased(root=TraceIdRatioBased(ratio))


def tracer(name: str = "tidemark") -> trace.Tracer:
    return _tracer_of(trace.get_tracer_provider(), name)


@functools.lru_cache(maxsize=16)
def _tracer_of(provider: trace.TracerProvider, name: str) -> trace.Tracer:
    """Made once per provider and name: making a tracer (its instrumentation scope, a
    deprecation shim) cost more than the span it then starts, once per ticket fired."""
    return provider.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, as headers to put on a Kafka record."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def span_from_headers(
    name: str, headers: Mapping[str, str], tid: str | None = None
) -> Iterator[trace.Span]:
    """Continue the trace that arrived in `headers` (HTTP or Kafka) and tag the ticket id."""
    context = propagate.extract(dict(headers))
    token = current_tid.set(tid)
    try:
        with tracer().start_as_current_span(name, context=context) as span:
            if tid:
                span.set_attribute("tidemark.tid", tid)
            yield span
    finally:
        current_tid.reset(token)


def start_trace(name: str, tid: str | None = None) -> AbstractContextManager[trace.Span]:
    """A span that begins a trace of its own (whatever is current), made current."""
    return span_from_headers(name, {}, tid)


@contextmanager
def detached_traces(name: str, tids: Iterable[str]) -> Iterator[dict[str, dict[str, str]]]:
    """A span per ticket that begins a trace of its own and is NOT made current, so that
    many are open at once (a scheduler firing a batch of tickets); yields each ticket's
    headers for its records, by ticket id. The spans end when the block does."""
    spans: list[trace.Span] = []
    carriers: dict[str, dict[str, str]] = {}
    begin = tracer().start_span
    try:
        for tid in tids:
            span = begin(name, context=Context(), attributes={"tidemark.tid": tid})
            spans.append(span)
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            carriers[tid] = carrier
        yield carriers
    finally:
        for span in spans:
            span.end()
