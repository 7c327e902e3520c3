"""Intake's HTTP routes under /v1."""

from __future__ import annotations

import json

import asyncpg
from fastapi import APIRouter, Response, status

from tidekit.web.problems import Problem
from tidemark_intake.deps import (
    KEY_AND_DATABASE_ERRORS,
    ApiCaller,
    IdempotencyKey,
    Service,
    TicketCaller,
)

from . import obligations
from .api_models import EventView, Obligation, TicketCreate, TicketCreated, TicketView
from .service import SubmitResult, SubmitTicket

router = APIRouter(prefix="/v1", tags=["tickets"])


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
    responses={
        200: {"description": "Replay of an earlier request with the same Idempotency-Key"},
        403: {"description": "The key may not post on this channel"},
        409: {"description": "Idempotency-Key reused with a different body"},
        413: {"description": "Subject or body over the configured limit"},
        422: {"description": "Invalid field (e.g. unknown channel)"},
        **KEY_AND_DATABASE_ERRORS,
    },
)
async def create_ticket(
    body: TicketCreate,
    service: Service,
    caller: ApiCaller,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketCreated:
    """Create a ticket (a frontend key scoped to the body's channel, or a staff key).
    A 201 means its first event is durably stored."""
    if not caller.may_post_on(body.channel):
        allowed = ", ".join(sorted(caller.channels)) or "none"
        raise Problem(
            403, "Channel not allowed", f"this key may post on: {allowed}, not {body.channel}"
        )
    files = service.check_limits(body)
    result: SubmitResult = await service.runtime.bus.handle(
        SubmitTicket(body, files, idempotency_key)
    )
    if result.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return result.created


@router.get("/tickets/{tid}", response_model=TicketView, responses={401: {}, 404: {}})
async def get_ticket(ticket: TicketCaller, service: Service) -> TicketView:
    """The ticket as it stands: status, level, severity, open obligations, queue, messages.
    Its customer (access token) does not see staff's internal notes."""
    row = await service.runtime.require_pool().fetchrow(
        "SELECT * FROM tickets WHERE tid = $1", ticket.tid
    )
    messages = json.loads(row["messages"])
    if ticket.staff is None:
        messages = [m for m in messages if m.get("visibility", "public") == "public"]
    now = service.runtime.clock.now()
    return TicketView(
        tid=row["tid"],
        status=row["status"],
        channel=row["channel"],
        requester={"email": row["requester_email"], "name": row["requester_name"]},
        license_key=row["license_key"],
        subject=row["subject"],
        product=json.loads(row["product"]),
        site_url=row["site_url"],
        level=row["level"],
        severity=row["severity"],
        category=row["category"],
        in_scope=row["in_scope"],
        entitlement=row["entitlement"],
        queue=row["queue"],
        urgent=row["urgent"],
        created_at=row["created_at"],
        messages=messages,
        rating=row["rating"],
        obligations=[
            Obligation(
                obligation_id=ob.obligation_id,
                kind=ob.kind,
                started_at=ob.started_at,
                deadline=ob.deadline,
                state=ob.state(now),
                met_at=ob.met_at,
            )
            for ob in obligations.from_row(json.loads(row["obligations"]))
        ],
    )


@router.get("/tickets/{tid}/events", response_model=list[EventView], responses={401: {}, 404: {}})
async def ticket_events(ticket: TicketCaller, service: Service) -> list[EventView]:
    """The ticket's full event history across all services, in the order intake saw it.
    Its customer does not see staff's internal notes."""
    pool = service.runtime.require_pool()
    rows = await pool.fetch(
        """SELECT event_id, event_type, 'tidemark/intake' AS source, data, occurred_at,
                  recorded_at FROM events WHERE stream_id = $1
           UNION ALL
           SELECT event_id, event_type, source, data, occurred_at, recorded_at
           FROM foreign_events WHERE tid = $1
           ORDER BY recorded_at""",
        ticket.tid,
    )
    return [
        EventView(
            id=str(r["event_id"]),
            type=r["event_type"],
            source=r["source"],
            time=r["occurred_at"],
            data=json.loads(r["data"]),
        )
        for r in rows
        if ticket.staff is not None or not _internal_note(r)
    ]


def _internal_note(row: asyncpg.Record) -> bool:
    return bool(
        row["event_type"] == "ticket.staff_replied"
        and json.loads(row["data"]).get("visibility") == "internal"
    )
