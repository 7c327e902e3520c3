"""Intake's HTTP routes under /v1."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from fastapi import APIRouter, Response, status

from tidekit.web.problems import Problem

from . import tokens
from .api_models import EventView, Obligation, TicketCreate, TicketCreated, TicketView
from .deps import IdempotencyKey, Service, TicketToken

router = APIRouter(prefix="/v1", tags=["tickets"])
NOT_FOUND = Problem(404, "Not found", "no such ticket, or this token does not open it")


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
    responses={
        200: {"description": "Replay of an earlier request with the same Idempotency-Key"},
        409: {"description": "Idempotency-Key reused with a different body"},
        413: {"description": "Subject or body over the configured limit"},
        422: {"description": "Invalid field (e.g. unknown channel)"},
        503: {"description": "Database unreachable; retry after Retry-After seconds"},
    },
)
async def create_ticket(
    body: TicketCreate, service: Service, response: Response, idempotency_key: IdempotencyKey = None
) -> TicketCreated:
    """Create a ticket. A 201 means its first event is durably stored."""
    result = await service.submit(body, idempotency_key)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return result.created


async def _authorised_row(service: Service, tid: str, token: str | None) -> asyncpg.Record:
    pool = service.runtime.require_pool()
    row = await pool.fetchrow("SELECT * FROM tickets WHERE tid = $1", tid)
    # Same answer for "no such ticket" and "not your ticket": no existence leak.
    if row is None or token is None or not tokens.token_matches(token, row["token_hash"]):
        raise NOT_FOUND
    return row


@router.get("/tickets/{tid}", response_model=TicketView, responses={404: {}})
async def get_ticket(tid: str, service: Service, token: TicketToken) -> TicketView:
    """The ticket as it stands: status, level, severity, open obligations, queue, messages."""
    row = await _authorised_row(service, tid, token)
    obligations: dict[str, dict[str, Any]] = json.loads(row["obligations"])
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
        messages=json.loads(row["messages"]),
        obligations=[Obligation(obligation_id=k, **v) for k, v in sorted(obligations.items())],
    )


@router.get("/tickets/{tid}/events", response_model=list[EventView], responses={404: {}})
async def ticket_events(tid: str, service: Service, token: TicketToken) -> list[EventView]:
    """The ticket's full event history across all services, in the order intake saw it."""
    await _authorised_row(service, tid, token)
    pool = service.runtime.require_pool()
    rows = await pool.fetch(
        """SELECT event_id, event_type, 'tidemark/intake' AS source, data, occurred_at,
                  recorded_at FROM events WHERE stream_id = $1
           UNION ALL
           SELECT event_id, event_type, source, data, occurred_at, recorded_at
           FROM foreign_events WHERE tid = $1
           ORDER BY recorded_at, occurred_at""",
        tid,
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
    ]
