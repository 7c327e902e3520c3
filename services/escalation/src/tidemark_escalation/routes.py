"""Escalation routes: the queues in serving order, and staff escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tidekit.events.escalation import TicketEscalated, TicketQueued
from tidekit.events.vocabulary import QUEUES, Level, Queue, Severity
from tidekit.web.problems import Problem, problem_responses
from tidekit.web.staff import KEYED_ROUTE_RESPONSES

from .deps import Service, Staff
from .domain import Refused, StaffEscalation
from .ordering import BadCursor, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", responses=KEYED_ROUTE_RESPONSES)
TidPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^TID-\d{1,20}$")]


class Oldest(BaseModel):
    tid: str
    submitted_at: datetime
    waiting_seconds: int


class NextDeadline(BaseModel):
    tid: str
    deadline: datetime
    time_left_seconds: int = Field(description="negative when the deadline has passed")


class QueueSummary(BaseModel):
    queue: Queue
    waiting: int
    oldest: Oldest | None
    next_deadline: NextDeadline | None


class QueuedTicket(BaseModel):
    tid: str
    urgent: bool
    level: Level
    severity: Severity | None
    submitted_at: datetime
    queued_at: datetime
    deadline: datetime | None = Field(description="of the open response obligation")
    time_left_seconds: int | None = Field(description="by the service clock; negative: overdue")
    rule: str | None
    reason: str | None
    note: str | None


class QueuePage(BaseModel):
    queue: Queue
    now: datetime
    tickets: list[QueuedTicket]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class EscalationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["tier2", "supervisor", "development"]
    reason: str = Field(min_length=1, max_length=2000)


class EscalationOut(BaseModel):
    tid: str
    from_queue: Queue | None
    to_queue: Queue
    rule: str
    escalated_by: str
    escalated_at: datetime


def _seconds(later: datetime, earlier: datetime) -> int:
    return round((later - earlier).total_seconds())


@router.get("/queues", response_model=list[QueueSummary], tags=["queues"])
async def list_queues(service: Service, _staff: Staff) -> list[QueueSummary]:
    """Each queue: how many wait, the oldest waiting ticket, the next deadline (staff)."""
    pool = service.runtime.require_pool()
    now = service.runtime.clock.now()
    rows = await pool.fetch(
        """SELECT q.name AS queue,
                  (SELECT count(*) FROM queue_entries e WHERE e.queue = q.name AND e.waiting) AS n,
                  o.tid AS oldest_tid, o.submitted_at, d.tid AS due_tid, d.deadline
           FROM unnest($1::text[]) AS q(name)
           LEFT JOIN LATERAL (
               SELECT tid, submitted_at FROM queue_entries e WHERE e.queue = q.name AND e.waiting
               ORDER BY submitted_at, tid_key LIMIT 1) o ON true
           LEFT JOIN LATERAL (
               SELECT tid, deadline FROM queue_entries e
               WHERE e.queue = q.name AND e.waiting AND e.deadline IS NOT NULL
               ORDER BY deadline, tid_key LIMIT 1) d ON true""",
        list(QUEUES),
    )
    by_queue = {r["queue"]: r for r in rows}
    return [_summary(by_queue[q], now) for q in QUEUES]


def _summary(r: Any, now: datetime) -> QueueSummary:
    oldest = None
    if r["oldest_tid"] is not None:
        oldest = Oldest(
            tid=r["oldest_tid"],
            submitted_at=r["submitted_at"],
            waiting_seconds=_seconds(now, r["submitted_at"]),
        )
    due = None
    if r["due_tid"] is not None:
        due = NextDeadline(
            tid=r["due_tid"],
            deadline=r["deadline"],
            time_left_seconds=_seconds(r["deadline"], now),
        )
    return QueueSummary(queue=r["queue"], waiting=r["n"], oldest=oldest, next_deadline=due)


@router.get("/queues/{name}", response_model=QueuePage, tags=["queues"])
async def get_queue(
    name: Queue,
    service: Service,
    _staff: Staff,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> QueuePage:
    """The tickets waiting in `name`, in serving order: urgent first, then first come
    (submission time), ties by TID. Cursor-paged: follow `next_cursor`."""
    limit = min(limit, service.settings.page_size_max)
    after = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor)
        except BadCursor as exc:
            raise Problem(422, "Invalid cursor", str(exc)) from exc
    rank, at, tkey = after if after else (None, None, None)
    now = service.runtime.clock.now()
    rows = await service.runtime.require_pool().fetch(
        """SELECT * FROM queue_entries q
           WHERE q.queue = $1 AND q.waiting
             AND ($2::smallint IS NULL
                  OR (q.serve_rank, q.submitted_at, q.tid_key) > ($2, $3::timestamptz, $4))
           ORDER BY q.serve_rank, q.submitted_at, q.tid_key LIMIT $5""",
        name,
        rank,
        at,
        tkey,
        limit + 1,
    )
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return QueuePage(
        queue=name,
        now=now,
        tickets=[
            QueuedTicket(
                tid=r["tid"],
                urgent=r["urgent"],
                level=r["level"],
                severity=r["severity"],
                submitted_at=r["submitted_at"],
                queued_at=r["queued_at"],
                deadline=r["deadline"],
                time_left_seconds=None if r["deadline"] is None else _seconds(r["deadline"], now),
                rule=r["rule"],
                reason=r["reason"],
                note=r["note"],
            )
            for r in page
        ],
        next_cursor=encode_cursor((last["serve_rank"], last["submitted_at"], last["tid_key"]))
        if more and last is not None
        else None,
    )


@router.post(
    "/tickets/{tid}/escalate",
    response_model=EscalationOut,
    tags=["escalation"],
    responses=problem_responses(404, 409),
)
async def escalate(
    tid: TidPath, body: EscalationIn, service: Service, staff: Staff
) -> EscalationOut:
    """Staff move a ticket to tier2, supervisor or development, with a reason. Handing a
    ticket to development takes a supervisor (or admin) key: it starts a 14-day clock and
    leaves the support queues. Levels that may not go to development (SPEC 1.1:
    non_commercial, non_product) get 409."""
    if body.to == "development" and not staff.at_least("supervisor"):
        raise Problem(403, "Forbidden", "handing a ticket to development takes a supervisor key")
    command = StaffEscalation(tid=tid, to=body.to, reason=body.reason, staff_id=staff.name)
    try:
        decided = await service.runtime.bus.handle(command)
    except Refused as exc:
        raise Problem(exc.status, exc.title, exc.detail) from exc
    queued = next(e for e in decided if isinstance(e, TicketQueued))
    escalated = next((e for e in decided if isinstance(e, TicketEscalated)), None)
    return EscalationOut(
        tid=tid,
        from_queue=queued.from_queue,
        to_queue=queued.queue,
        rule=queued.rule,
        escalated_by=escalated.escalated_by if escalated else staff.name,
        escalated_at=queued.queued_at,
    )
