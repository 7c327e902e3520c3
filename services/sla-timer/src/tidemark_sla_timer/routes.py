"""SLA timer routes: a ticket's obligations, and breaches in order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

import tidekit.sla as sla
from tidekit.web.problems import Problem, problem_responses
from tidekit.web.staff import KEYED_ROUTE_RESPONSES, Staff, Supervisor

from . import repo
from .domain import replay
from .domain.reconcile import level_of

router = APIRouter(prefix="/v1", responses=KEYED_ROUTE_RESPONSES, tags=["sla"])


class ObligationOut(BaseModel):
    obligation_id: str
    kind: str
    level: str
    severity: str | None
    started_at: datetime
    deadline: datetime | None
    warning_at: datetime | None
    paused_seconds: int
    state: str
    met_at: datetime | None
    target_seconds: int
    policy_version: str


class TicketSla(BaseModel):
    tid: str
    level: str
    severity: str | None
    entitlement: str
    as_of: datetime
    obligations: list[ObligationOut]


class BreachOut(BaseModel):
    seq: int
    obligation_id: str
    tid: str
    kind: str | None
    level: str | None
    severity: str | None
    deadline: datetime
    emitted_at: datetime
    lateness_seconds: float
    policy_version: str | None


class BreachPage(BaseModel):
    breaches: list[BreachOut]
    next_cursor: int | None


@router.get("/tickets/{tid}/sla", response_model=TicketSla, responses=problem_responses(404))
async def ticket_sla(tid: str, request: Request, _staff: Staff) -> TicketSla:
    """The ticket's obligations as of now: start, deadline, paused time and state (staff;
    a customer sees them in intake's ticket view)."""
    runtime = request.app.state.runtime
    policy: sla.Policy = request.app.state.policy
    async with runtime.require_pool().acquire() as conn:
        facts = await repo.read_facts(conn, tid)
        inputs = await repo.inputs(conn, tid) if facts else []
    state = replay(policy, facts, inputs)
    if facts is None or state is None:
        raise Problem(404, "Not found", f"no clocks known for {tid} (not classified yet?)")
    now = runtime.clock.now()
    views = sla.obligations(state, max(now, state.last_event_at or now))
    return TicketSla(
        tid=tid,
        level=state.level,
        severity=state.severity,
        entitlement=facts.entitlement,
        as_of=now,
        obligations=[
            ObligationOut(
                obligation_id=f"{tid}/{v.obligation_id}",
                kind=v.kind,
                level=level_of(v.target, state.level),
                severity=state.severity,
                started_at=v.started_at,
                deadline=v.deadline,
                warning_at=v.warning_at,
                paused_seconds=v.paused_seconds,
                state=v.state,
                met_at=v.met_at,
                target_seconds=int(v.target.duration.total_seconds()),
                policy_version=v.policy_version,
            )
            for v in views
        ],
    )


@router.get("/breaches", response_model=BreachPage)
async def breaches(
    request: Request,
    _supervisor: Supervisor,
    since: Annotated[
        datetime | None, Query(description="only breaches emitted at or after")
    ] = None,
    # A cursor is a bigint `seq`: a larger number is invalid input, not a database error.
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="cursor from the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> BreachPage:
    """Breaches in the order they were emitted, cursor-paged (supervisors and admins)."""
    if since is not None and since.tzinfo is None:
        raise Problem(422, "Invalid since", "'since' needs a UTC offset, e.g. 2026-11-27T15:00Z")
    pool = request.app.state.runtime.require_pool()
    rows = await pool.fetch(
        """SELECT * FROM breaches WHERE seq > $1 AND ($2::timestamptz IS NULL OR emitted_at >= $2)
           ORDER BY seq LIMIT $3""",
        after,
        since,
        limit,
    )
    items = [BreachOut(**dict(r)) for r in rows]
    return BreachPage(breaches=items, next_cursor=items[-1].seq if len(items) == limit else None)
