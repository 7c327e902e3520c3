"""Request dependencies as Annotated aliases.

Staff authenticate with an `X-Api-Key` staff key made by intake (`tidemark-keys`); the
key is checked by asking intake (tidekit.web.staff). Any staff role may escalate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tidekit.web.staff import Staff, StaffMember

from .service import EscalationService

__all__ = ["Service", "Staff", "StaffMember"]


async def get_service(request: Request) -> EscalationService:
    service: EscalationService = request.app.state.escalation
    return service


Service = Annotated[EscalationService, Depends(get_service)]
