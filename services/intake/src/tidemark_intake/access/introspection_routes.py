"""POST /v1/introspect: the other services ask, with their service key, whether an API key
is active and whose it is."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter

from tidekit.web.problems import Problem, problem_responses
from tidemark_intake.deps import ApiKeys, Service, ServiceCaller

from .models import IntrospectIn, IntrospectOut

router = APIRouter(prefix="/v1", tags=["access (services)"])


@router.post(
    "/introspect",
    responses={
        401: {"description": "No or unknown API key"},
        403: {"description": "Not a service key"},
        429: {"description": "Too many requests from this service key; see Retry-After"},
        **problem_responses(422),
    },
)
async def introspect(
    body: IntrospectIn, service: Service, api_keys: ApiKeys, caller: ServiceCaller
) -> IntrospectOut:
    """For the other services, with their service key: is this API key active, and whose is
    it? (Never the secret.) Or, by `key_id`, is the key checked earlier still active (a
    session opened with it ends when it is revoked). Rate limited per service key."""
    # Monotonic on purpose: a rate is real elapsed time, not business time.
    wait = service.introspection_limits.take(caller.key_id, time.monotonic())
    if wait > 0:
        raise Problem(
            429, "Too many requests", "introspection rate exceeded for this service key",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )  # fmt: skip
    if body.key is not None:
        principal = await api_keys.authenticate(body.key)
    else:
        principal = await api_keys.active_by_id(body.key_id or "")
    if principal is None:
        return IntrospectOut(active=False)
    return IntrospectOut(
        active=True,
        key_id=principal.key_id,
        name=principal.name,
        kind=principal.kind,
        role=principal.role,
        channels=sorted(principal.channels),
    )
