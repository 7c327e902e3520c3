"""Request dependencies as Annotated aliases, including the staff check.

Staff send `X-Api-Key` with a staff key made by intake (`tidemark-keys create --role …`);
tidekit.web.staff asks intake about it (401 unknown or revoked, 503 with intake away).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tidekit.web.staff import Staff

from .service import ClassifierService


async def get_service(request: Request) -> ClassifierService:
    service: ClassifierService = request.app.state.classifier
    return service


async def staff_name(member: Staff) -> str:
    """How the classifier's events name the staff member who acted."""
    return member.name


Service = Annotated[ClassifierService, Depends(get_service)]
StaffId = Annotated[str, Depends(staff_name)]
