"""Request dependencies as Annotated aliases, including the staff check.

Until the shared access model lands, staff authenticate with an API key from the
`staff_keys` setting (stored as SHA-256 digests, compared in constant time). Everything
about it lives in `require_staff`, so swapping it for the shared check is one function.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from tidekit.web.problems import Problem

from .service import ClassifierService


def get_service(request: Request) -> ClassifierService:
    service: ClassifierService = request.app.state.classifier
    return service


def require_staff(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <staff API key>")] = None,
) -> str:
    """The staff id whose key was presented; 401 otherwise."""
    challenge = {"WWW-Authenticate": 'Bearer realm="tidemark-staff"'}
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Problem(401, "Unauthorized", "a staff API key is required", headers=challenge)
    digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    keys: dict[str, str] = request.app.state.staff_keys
    found = None
    for staff_id, expected in keys.items():  # no early exit: constant work per request
        if hmac.compare_digest(digest, expected):
            found = staff_id
    if found is None:
        raise Problem(401, "Unauthorized", "the staff API key is not valid", headers=challenge)
    return found


Service = Annotated[ClassifierService, Depends(get_service)]
StaffId = Annotated[str, Depends(require_staff)]
