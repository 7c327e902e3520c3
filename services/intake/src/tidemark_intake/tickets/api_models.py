"""Request and response bodies of intake's HTTP API (SPEC 3.1 field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tidekit.events.base import Email
from tidekit.events.vocabulary import Channel, Severity


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email  # pydantic's EmailStr check, remembered per address
    name: str = Field(default="", max_length=200)


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(default=None, max_length=50)
    edition: str | None = Field(default=None, max_length=50)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    content_base64: str


class TicketCreate(BaseModel):
    """A new support request from a frontend (web form, mail gateway, product, chat)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "web",
                    "requester": {"email": "ada@example.com", "name": "Ada Lovelace"},
                    "license_key": "LIC-1234",
                    "subject": "Site shows a 500 error after the update",
                    "body": "Since updating to 24.1 every page answers 500.",
                    "product": {"version": "24.1", "edition": "business"},
                    "site_url": "https://shop.example.com",
                    "severity_hint": "high",
                    "vip_coupon": False,
                    "attachments": [],
                }
            ]
        },
    )
    channel: Channel
    requester: RequesterIn
    license_key: str | None = Field(default=None, max_length=100)
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)
    product: ProductIn = ProductIn()
    site_url: str | None = Field(default=None, max_length=2000)
    severity_hint: Severity | None = None
    vip_coupon: bool = False
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class TicketCreated(BaseModel):
    tid: str
    access_token: str = Field(description="Give this to the requester: it opens this ticket only")
    status: str


class Obligation(BaseModel):
    """A response obligation as the sla-timer's GET /v1/tickets/{tid}/sla shows it."""

    obligation_id: str
    kind: str
    started_at: datetime | None = None
    deadline: datetime | None = Field(
        default=None, description="None while paused (unless the target was used up before)"
    )
    state: Literal["running", "paused", "met", "breached"] = Field(
        description="as of now; a reply after the deadline stays breached"
    )
    met_at: datetime | None = Field(default=None, description="the reply (or resolution)")


class TicketView(BaseModel):
    tid: str
    status: str
    channel: Channel
    requester: dict[str, str]
    license_key: str | None
    subject: str
    product: dict[str, Any]
    site_url: str | None
    level: str | None
    severity: str | None
    category: str | None
    in_scope: bool | None
    entitlement: str | None
    queue: str | None
    urgent: bool
    created_at: datetime
    messages: list[dict[str, Any]]
    obligations: list[Obligation]
    rating: int | None = None


class EventView(BaseModel):
    id: str
    type: str
    source: str
    time: datetime
    data: dict[str, Any]
