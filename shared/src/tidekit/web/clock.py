"""`GET/PUT /v1/admin/clock`: moves a manual clock (tests only; absent with the system clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from tidekit.clock import ManualClock
from tidekit.web.problems import Problem


class ClockMove(BaseModel):
    now: datetime | None = Field(default=None, description="Set the clock to this instant")
    advance_seconds: float | None = Field(default=None, ge=0, description="Or move it forward")

    @model_validator(mode="after")
    def _one_of(self) -> ClockMove:
        if (self.now is None) == (self.advance_seconds is None):
            raise ValueError("give exactly one of 'now' and 'advance_seconds'")
        return self


class ClockReading(BaseModel):
    now: datetime


def clock_router(clock: ManualClock) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["test clock"])

    @router.get("/clock", summary="The manual clock's instant")
    async def read_clock() -> ClockReading:
        return ClockReading(now=clock.now())

    @router.put("/clock", summary="Move the manual clock forward (never back)")
    async def move_clock(move: ClockMove) -> ClockReading:
        try:
            if move.now is not None:
                clock.set(move.now)
            else:
                clock.advance(timedelta(seconds=move.advance_seconds or 0))
        except ValueError as exc:
            raise Problem(409, "Clock not moved", str(exc)) from exc
        return ClockReading(now=clock.now())

    return router
