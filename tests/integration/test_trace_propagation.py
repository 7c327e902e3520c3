"""A service asking intake about a staff key carries the caller's trace along (W3C
traceparent on the introspection request), against a local HTTP server in intake's place."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tidekit.web.staff import StaffKeys

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_intake() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Answers every introspection with an active agent key; keeps each request's headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps(
                {"active": True, "kind": "staff", "key_id": "k1", "name": "ada", "role": "agent"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


async def test_staff_key_introspection_continues_the_callers_trace(
    fake_intake: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = fake_intake
    keys = StaffKeys(url, service_key="tmk_the_services_own_key")
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("GET /v1/queues/tier1") as span:
            member = await keys.lookup("tmk_some_key")
        assert member is not None and member.role == "agent"
    finally:
        await keys.close()
    (request,) = seen
    assert request["x-api-key"] == "tmk_the_services_own_key"  # intake answers services only
    version, trace_id, parent_id, _ = request["traceparent"].split("-")
    assert version == "00"
    assert trace_id == format(span.get_span_context().trace_id, "032x")
    assert parent_id == format(span.get_span_context().span_id, "016x")
