"""Request dependencies as Annotated aliases.

Staff authentication is one dependency, `Staff`: a bearer key whose SHA-256 is listed in
the settings (TIDEMARK_ESCALATION_STAFF_KEYS). When intake's key service lands, only
`get_staff` changes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from tidekit.web.problems import Problem

from .service import EscalationService
from .settings import EscalationSettings, StaffRole


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: StaffRole


def get_service(request: Request) -> EscalationService:
    service: EscalationService = request.app.state.escalation
    return service


def get_staff(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <staff API key>")] = None,
) -> StaffMember:
    unauthorized = Problem(
        401,
        "Unauthorized",
        "a staff API key is required (Authorization: Bearer <key>)",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if not authorization or not authorization.lower().startswith("bearer "):
        raise unauthorized
    presented = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    settings: EscalationSettings = request.app.state.settings
    found: StaffMember | None = None
    for key in settings.staff_keys:  # every entry compared, in constant time each
        if hmac.compare_digest(presented, key.sha256):
            found = StaffMember(key.staff_id, key.role)
    if found is None:
        raise unauthorized
    return found


Service = Annotated[EscalationService, Depends(get_service)]
Staff = Annotated[StaffMember, Depends(get_staff)]
