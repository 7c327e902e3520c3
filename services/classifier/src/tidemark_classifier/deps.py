"""Request dependencies as Annotated aliases, including the staff check.

Until the shared access model (keys kept by intake) reaches this service, staff
authenticate with an `X-Api-Key` from the `staff_keys` setting (stored as SHA-256
digests, compared in constant time). Everything about it lives in `require_staff` and the
`StaffId` alias, so swapping in the shared check is this one module.
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
    x_api_key: Annotated[str | None, Header(description="A staff API key")] = None,
) -> str:
    """The staff id whose key was presented; 401 otherwise."""
    challenge = {"WWW-Authenticate": 'ApiKey header="X-Api-Key"'}
    if not x_api_key:
        raise Problem(401, "Unauthorized", "send a staff API key in X-Api-Key", headers=challenge)
    digest = hashlib.sha256(x_api_key.strip().encode()).hexdigest()
    keys: dict[str, str] = request.app.state.classifier_staff_keys
    found = None
    for staff_id, expected in keys.items():  # no early exit: constant work per request
        if hmac.compare_digest(digest, expected):
            found = staff_id
    if found is None:
        raise Problem(401, "Unauthorized", "the staff API key is not valid", headers=challenge)
    return found


Service = Annotated[ClassifierService, Depends(get_service)]
StaffId = Annotated[str, Depends(require_staff)]
