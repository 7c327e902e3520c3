"""Request dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from .service import IntakeService


def get_service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.intake
    return service


def get_ticket_token(
    authorization: Annotated[str | None, Header(description="Bearer <ticket access token>")] = None,
) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


Service = Annotated[IntakeService, Depends(get_service)]
TicketToken = Annotated[str | None, Depends(get_ticket_token)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Same key and body return the same ticket, never a second one",
    ),
]
