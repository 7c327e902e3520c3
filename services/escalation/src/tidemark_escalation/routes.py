"""Escalation routes: the queues in serving order."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request

from tidekit.events.vocabulary import QUEUES, Queue

router = APIRouter(prefix="/v1", tags=["queues"])
SERVING_ORDER = "ORDER BY urgent DESC, submitted_at, tid"


@router.get("/queues")
async def list_queues(request: Request) -> list[dict[str, object]]:
    pool = request.app.state.runtime.require_pool()
    rows = await pool.fetch(
        """SELECT queue, count(*) AS waiting, min(submitted_at) AS oldest_submitted_at,
                  min(deadline) AS next_deadline FROM queue_entries GROUP BY queue"""
    )
    by_name = {r["queue"]: dict(r) for r in rows}
    return [
        by_name.get(
            q, {"queue": q, "waiting": 0, "oldest_submitted_at": None, "next_deadline": None}
        )
        for q in QUEUES
    ]


@router.get("/queues/{name}")
async def get_queue(name: Queue, request: Request) -> dict[str, object]:
    """The tickets waiting in `name`, in serving order: urgent first, then first come."""
    pool = request.app.state.runtime.require_pool()
    rows = await pool.fetch(
        f"SELECT * FROM queue_entries WHERE queue = $1 {SERVING_ORDER} LIMIT 500", name
    )
    tickets: list[dict[str, object]] = []
    for r in rows:
        entry: dict[str, object] = dict(r)
        deadline: datetime | None = r["deadline"]
        entry["time_left_seconds"] = (
            None
            if deadline is None
            else round((deadline - datetime.now(deadline.tzinfo)).total_seconds())
        )
        tickets.append(entry)
    return {"queue": name, "tickets": tickets}
