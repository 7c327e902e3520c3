"""SLA timer routes: a ticket's obligations, and breaches in order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from tidekit.web.problems import Problem

router = APIRouter(prefix="/v1", tags=["sla"])


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
    policy_version: str


class BreachOut(BaseModel):
    seq: int
    obligation_id: str
    tid: str
    deadline: datetime
    emitted_at: datetime


class BreachPage(BaseModel):
    breaches: list[BreachOut]
    next_cursor: int | None


@router.get("/tickets/{tid}/sla")
async def ticket_sla(tid: str, request: Request) -> dict[str, object]:
    pool = request.app.state.runtime.require_pool()
    rows = await pool.fetch(
        "SELECT * FROM obligations WHERE tid = $1 ORDER BY started_at, obligation_id", tid
    )
    if not rows:
        raise Problem(404, "Not found", f"no obligations for {tid}")
    return {"tid": tid, "obligations": [ObligationOut(**dict(r)) for r in rows]}


@router.get("/breaches", response_model=BreachPage)
async def breaches(
    request: Request,
    since: Annotated[
        datetime | None, Query(description="only breaches emitted at or after")
    ] = None,
    after: Annotated[int, Query(ge=0, description="cursor from the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> BreachPage:
    """Breaches in the order they were emitted, cursor-paged."""
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
