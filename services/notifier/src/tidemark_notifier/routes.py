"""Notifier routes: what was sent, to whom, through which channel, and its state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    notification_id: str
    tid: str
    kind: str
    channel: str
    recipient: str
    subject: str
    message_id: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@router.get("/notifications", response_model=list[NotificationOut])
async def list_notifications(
    request: Request, tid: Annotated[str, Query(min_length=1, max_length=50)]
) -> list[NotificationOut]:
    pool = request.app.state.runtime.require_pool()
    rows = await pool.fetch("SELECT * FROM notifications WHERE tid = $1 ORDER BY created_at", tid)
    return [
        NotificationOut(**{**dict(r), "notification_id": str(r["notification_id"])}) for r in rows
    ]
