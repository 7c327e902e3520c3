"""The board's pages under /board: sign-in, the queues side by side, one queue page by
page, the at-risk view, and the live change stream (Server-Sent Events).

Pages take a session cookie only (session.py): without one they answer 303 to the
sign-in form, and a customer's bearer token gets 403. Everything here reads, except
signing in and out, which are POSTs (sign-out carries the session's CSRF token).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from importlib import resources
from typing import Annotated, Any, get_args
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import jinja2
from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from tidekit.events.vocabulary import QUEUES, Queue
from tidekit.web.problems import Problem
from tidekit.web.staff import staff_keys_of

from ..deps import Service
from ..ordering import BadCursor, decode_cursor
from ..reports.domain.attainment import GroupBy
from ..reports.page import report_page_html
from ..reports.routes import ReportQueryParams, sla_report_for
from .changes import ChangeHub, changes_after, last_change
from .hours import tier2_hours
from .session import (
    BoardSession,
    CustomerRefused,
    NotSignedIn,
    close_session,
    csrf_ok,
    current_session,
    open_session,
    staff_for_key,
)
from .views import queue_page, queue_risk, waiting_counts

router = APIRouter(prefix="/board", include_in_schema=False)
FIRST_PAGE = 25  # rows per queue on the board; a queue's own page shows PAGE
PAGE = 100
HEARTBEAT_SECONDS = 5.0  # the stream re-reads the feed and resends the clock this often
# A stream ends after this long and the browser reconnects (retry: 1 s) with Last-Event-ID,
# losing nothing: uvicorn waits for open responses before it shuts down, so an open board
# never holds a replica's shutdown longer than this (the chart's grace period is 30 s).
STREAM_SECONDS = 10.0
STATIC = {"board.js": "text/javascript", "board.css": "text/css"}
SECURITY_HEADERS = {
    # Everything the page needs comes from this service: no CDN, no inline script.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("tidemark_escalation.board", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _iso(instant: datetime | None) -> str:
    return "" if instant is None else instant.isoformat(timespec="milliseconds")


_templates.filters["iso"] = _iso


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse("/board/sign-in", status_code=303)


class _NoStaffSession(Exception):
    """Raised by a page for a caller without a staff session; the handler install_board
    adds answers with `response`: the sign-in redirect, or 403 for a customer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _answer_no_session(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _NoStaffSession)
    return exc.response


async def _session(service: Service, request: Request) -> BoardSession:
    try:
        keys = staff_keys_of(request)
        return await current_session(service.runtime.require_pool(), keys, request)
    except CustomerRefused:
        raise _NoStaffSession(_render("refused.html", 403)) from None
    except NotSignedIn:
        raise _NoStaffSession(_to_sign_in()) from None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode(errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, max_num_fields=10).items()}


# --- sign-in --------------------------------------------------------------------------
@router.get("/sign-in")
async def sign_in_form() -> HTMLResponse:
    return _render("sign_in.html", error=None)


@router.post("/sign-in")
async def sign_in(service: Service, request: Request) -> Response:
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return _render("refused.html", 403)
    if not _same_origin(request):
        return _render("sign_in.html", 403, error="Sign in from the board's own page.")
    key = (await _form(request)).get("key", "").strip()
    staff = await staff_for_key(request.app.state.staff_keys, key) if key else None
    if staff is None:
        return _render("sign_in.html", 401, error="That is not an active staff key.")
    response = RedirectResponse("/board", status_code=303)
    await open_session(service.runtime.require_pool(), response, request, staff)
    return response


@router.post("/sign-out")
async def sign_out(service: Service, request: Request) -> Response:
    session = await _session(service, request)
    if not csrf_ok(session, (await _form(request)).get("csrf")):
        return _render("refused.html", 403)
    response = _to_sign_in()
    await close_session(service.runtime.require_pool(), request, response)
    return response


# --- pages ----------------------------------------------------------------------------
async def _open_page(service: Service, request: Request) -> tuple[asyncpg.Pool, dict[str, Any]]:
    """The pool and what every page shows (who, the service's time, tier-2 hours, the last
    change number its stream starts after); _NoStaffSession for a caller without one."""
    session = await _session(service, request)
    pool = service.runtime.require_pool()
    now = service.runtime.clock.now()
    return pool, {
        "session": session, "now": now, "tier2": tier2_hours(service.tier2, now),
        "last_change": await last_change(pool),
    }  # fmt: skip


def _page(request: Request, template: str, live: str, context: dict[str, Any]) -> HTMLResponse:
    """The whole page, or only its live part when the page's script refreshes it."""
    if request.headers.get("x-board-fragment") == "1":
        response = _render(live, **context)
    else:
        response = _render(template, **context)
    response.headers["X-Server-Now"] = _iso(context["now"])
    return response


@router.get("")
async def board(service: Service, request: Request) -> Response:
    pool, context = await _open_page(service, request)
    counts = await waiting_counts(pool)
    queues = [
        await queue_page(pool, q, None, FIRST_PAGE, context["now"], counts[q]) for q in QUEUES
    ]
    return _page(request, "board.html", "board_live.html", {**context, "queues": queues})


@router.get("/queues/{name}")
async def one_queue(
    name: Annotated[Queue, Path()],
    service: Service,
    request: Request,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    pool, context = await _open_page(service, request)
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor:
        return _render("refused.html", 422)
    counts = await waiting_counts(pool)
    view = await queue_page(pool, name, after, PAGE, context["now"], counts[name])
    context.update(queue=view, paged=cursor is not None)
    return _page(request, "queue.html", "queue_live.html", context)


@router.get("/at-risk")
async def at_risk_view(service: Service, request: Request) -> Response:
    pool, context = await _open_page(service, request)
    risks = [await queue_risk(pool, q, context["now"]) for q in QUEUES]
    return _page(request, "at_risk.html", "at_risk_live.html", {**context, "risks": risks})


# The report's fragment carries its own small <style> (reports/page.py); scripts stay out.
REPORT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
    + "; style-src 'self' 'unsafe-inline'",
}


@router.get("/reports")
async def reports_view(service: Service, request: Request, query: ReportQueryParams) -> Response:
    """The SLA report (docs/sla.md, "SLA attainment") with its charts, for the board's
    signed-in staff: the same computation as GET /v1/reports/sla."""
    _, context = await _open_page(service, request)
    error, report_html = None, ""
    try:
        report = await sla_report_for(request, service, query)
        report_html = report_page_html(report)
    except Problem as exc:
        error = exc.detail
    named = {"from": query.start, "to": query.to, "group_by": query.group_by, "tz": query.tz}
    response = _render(
        "reports.html",
        422 if error else 200,
        **context,
        query=query,
        group_bys=get_args(GroupBy),
        csv_query=urlencode({k: v for k, v in named.items() if v}),
        error=error,
        report_html=report_html,
    )
    response.headers.update(REPORT_HEADERS)
    return response


# --- live -----------------------------------------------------------------------------
@router.get("/events")
async def events(
    service: Service,
    request: Request,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Server-Sent Events: `change` (id = the change number) and `clock` (the service's
    time, so countdowns follow the service clock, a test clock's jumps included)."""
    await _session(service, request)  # signed-in staff only
    pool = service.runtime.require_pool()
    resumed = request.headers.get("last-event-id", "")
    start = int(resumed) if resumed.isdigit() else after
    if start is None:
        start = await last_change(pool)
    hub: ChangeHub = request.app.state.board_hub
    return StreamingResponse(
        _stream(service, request, hub, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    service: Service, request: Request, hub: ChangeHub, last: int
) -> AsyncIterator[str]:
    pool = service.runtime.require_pool()
    wake = hub.subscribe()
    ends = time.monotonic() + STREAM_SECONDS  # real time: a connection's life
    try:
        yield "retry: 1000\n\n"
        while time.monotonic() < ends and not await request.is_disconnected():
            wake.clear()
            for change in await changes_after(pool, last):
                last = change["id"]
                data = {"kind": change["kind"], "tid": change["tid"], "queue": change["queue"]}
                yield f"id: {last}\nevent: change\ndata: {json.dumps(data)}\n\n"
            yield f"event: clock\ndata: {_iso(service.runtime.clock.now())}\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), min(HEARTBEAT_SECONDS, ends - time.monotonic()))
    finally:
        hub.unsubscribe(wake)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    body = resources.files("tidemark_escalation.board").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})


def install_board(app: FastAPI, database_url: str, schema: str) -> None:
    app.state.board_hub = ChangeHub(database_url, schema)
    app.add_exception_handler(_NoStaffSession, _answer_no_session)
    app.include_router(router)
