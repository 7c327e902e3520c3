"""Classifier routes: the customer directory, classifications, overrides, the policy."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from tidekit.web.problems import Problem, problem_responses
from tidekit.web.staff import KEYED_ROUTE_RESPONSES, AnyKey

from .deps import Service, StaffId
from .domain import ReclassifyRefused
from .models import KEY_PATTERN, ClassificationOut, LicenseIn, LicenseOut, ReclassifyIn
from .policy_history import stored_version
from .service import PutLicense, Reclassify

router = APIRouter(prefix="/v1", responses=KEYED_ROUTE_RESPONSES)
LicenseKey = Annotated[str, Path(min_length=1, max_length=100, pattern=KEY_PATTERN)]
Tid = Annotated[str, Path(pattern=r"^TID-[0-9]{1,18}$")]


def _license_out(row: dict[str, Any]) -> LicenseOut:
    return LicenseOut(**{k: row[k] for k in LicenseOut.model_fields})


@router.put(
    "/licenses/{key}",
    response_model=LicenseOut,
    tags=["directory"],
    responses={201: {"description": "Registered: the license is new", "model": LicenseOut}},
)
async def put_license(
    key: LicenseKey, body: LicenseIn, service: Service, staff: StaffId, response: Response
) -> LicenseOut:
    """Create or replace a license (staff only). A change is published as `license.recorded`;
    201 when the license is new, 200 otherwise."""
    changed, row = await service.runtime.bus.handle(PutLicense(key, body, staff))
    if changed is not None and changed.change == "registered":
        response.status_code = 201
    return _license_out(row)


@router.get(
    "/licenses/{key}",
    response_model=LicenseOut,
    tags=["directory"],
    responses=problem_responses(404),
)
async def get_license(key: LicenseKey, service: Service, _staff: StaffId) -> LicenseOut:
    row = await service.runtime.require_pool().fetchrow(
        "SELECT * FROM licenses WHERE license_key = $1", key
    )
    if row is None:
        raise Problem(404, "Not found", f"no license {key}")
    return _license_out(dict(row))


@router.get(
    "/tickets/{tid}/classification",
    response_model=ClassificationOut,
    tags=["classification"],
    responses=problem_responses(404),
)
async def get_classification(tid: Tid, service: Service, _staff: StaffId) -> ClassificationOut:
    """The decision with every reason (staff only)."""
    return await _classification(service, tid)


async def _classification(service: Service, tid: str) -> ClassificationOut:
    row = await service.runtime.require_pool().fetchrow(
        "SELECT * FROM classifications WHERE tid = $1", tid
    )
    if row is None:
        raise Problem(404, "Not found", f"{tid} has not been classified")
    data = dict(row)
    data["reasons"] = json.loads(data["reasons"])
    return ClassificationOut(**data)


@router.post(
    "/tickets/{tid}/reclassify",
    response_model=ClassificationOut,
    tags=["classification"],
    responses=problem_responses(404),
)
async def post_reclassify(
    tid: Tid, body: ReclassifyIn, service: Service, staff: StaffId
) -> ClassificationOut:
    """Staff override of level and/or severity, with a reason: `ticket.reclassified`
    (the sla-timer recomputes the running deadline from the obligation's start)."""
    try:
        command = Reclassify(
            tid, body.level, body.severity, body.clear_severity, body.reason, staff
        )
        result = await service.runtime.bus.handle(command)
    except ReclassifyRefused as exc:
        raise Problem(422, "Reclassification refused", str(exc)) from None
    if result == "unknown":
        raise Problem(404, "Not found", f"{tid} has not been classified")
    return await _classification(service, tid)


@router.get("/policy", tags=["policy"])
async def get_policy(request: Request, _caller: AnyKey) -> dict[str, Any]:
    """The policy in force and its version, with the classification rules and theirs (any
    API key: frontends show customers their service levels)."""
    policy: dict[str, Any] = request.app.state.policy_document
    return policy


PolicyVersion = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/policy/versions/{version}", tags=["policy"], responses=problem_responses(404))
async def get_policy_version(
    version: PolicyVersion, request: Request, service: Service, _caller: AnyKey
) -> dict[str, Any]:
    """A policy the classifier has run with, by the version its classifications record:
    the document as GET /v1/policy showed it then, and when it was first used."""
    async with service.runtime.require_pool().acquire() as conn:
        stored = await stored_version(conn, version)
    if stored is None and version == service.policy_version:
        # The one in force, asked for before its row was written at start.
        return {"version": version, "first_used_at": None,
                "document": request.app.state.policy_document}  # fmt: skip
    if stored is None:
        raise Problem(404, "Not found", f"the classifier never ran with policy {version!r}")
    return stored
