"""Bodies of the commands on an existing ticket, and their answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tidekit.events.vocabulary import CloseReason

from .api_models import AttachmentIn


class MessageIn(BaseModel):
    """A customer message (ticket token) or a staff reply (staff key; public or internal)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"body": "The error is back since this morning.", "attachments": []},
                {"body": "Please clear the cache and retry.", "visibility": "public"},
                {"body": "Customer's host blocks our IP range.", "visibility": "internal"},
            ]
        },
    )
    body: str = Field(min_length=1)
    visibility: Literal["public", "internal"] = Field(
        default="public", description="Staff only: `internal` is a note the customer never sees"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class StatusIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "waiting_on_customer", "reason": "asked for the server log"},
                {"status": "closed", "close_reason": "duplicate", "reason": "see TID-1001"},
            ]
        },
    )
    status: Literal["open", "waiting_on_customer", "on_hold", "resolved", "closed"]
    reason: str | None = Field(default=None, max_length=2000)
    close_reason: CloseReason | None = Field(
        default=None, description="Why a ticket is closed (only with status `closed`)"
    )


class RatingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"rating": 5, "comment": "Fast!"}]}
    )
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "The answer did not solve my problem"}]},
    )
    reason: str = Field(default="", max_length=5000)


class ActionResult(BaseModel):
    tid: str
    status: str
    version: int = Field(description="The ticket stream's version after this command")
    events: list[str] = Field(description="Types of the events this command recorded")
    message_id: str | None = None
