"""Classifier routes: the customer directory, classifications, the policy in force."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tidekit.events.vocabulary import Edition
from tidekit.web.problems import Problem

from .service import ClassifierService

router = APIRouter(prefix="/v1")


def _service(request: Request) -> ClassifierService:
    service: ClassifierService = request.app.state.classifier
    return service


Service = Annotated[ClassifierService, Depends(_service)]
LicenseKey = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class LicenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edition: Edition
    owner: str = Field(min_length=1, max_length=200)
    emails: list[EmailStr] = Field(default_factory=list, max_length=1000)
    group_emails: list[EmailStr] = Field(default_factory=list, max_length=1000)
    partner: bool = False
    purchase_date: date
    support_end: date | None = None


class LicenseOut(LicenseIn):
    license_key: str


class ClassificationOut(BaseModel):
    tid: str
    level: str
    severity: str | None
    category: str
    in_scope: bool
    entitlement: str
    urgent: bool
    license_key: str | None
    policy_version: str
    reasons: list[str]
    classified_at: datetime


@router.put("/licenses/{key}", response_model=LicenseOut, tags=["directory"])
async def put_license(key: LicenseKey, body: LicenseIn, service: Service) -> LicenseOut:
    """Create or replace a license in the customer directory."""
    pool = service.runtime.require_pool()
    await pool.execute(
        """INSERT INTO licenses (license_key, edition, owner, emails, group_emails, partner,
               purchase_date, support_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (license_key) DO UPDATE SET edition = EXCLUDED.edition,
               owner = EXCLUDED.owner, emails = EXCLUDED.emails,
               group_emails = EXCLUDED.group_emails, partner = EXCLUDED.partner,
               purchase_date = EXCLUDED.purchase_date, support_end = EXCLUDED.support_end,
               updated_at = now()""",
        key,
        body.edition,
        body.owner,
        [e.lower() for e in body.emails],
        [e.lower() for e in body.group_emails],
        body.partner,
        body.purchase_date,
        body.support_end,
    )
    return LicenseOut(license_key=key, **body.model_dump())


@router.get("/licenses/{key}", response_model=LicenseOut, tags=["directory"])
async def get_license(key: LicenseKey, service: Service) -> LicenseOut:
    row = await service.runtime.require_pool().fetchrow(
        "SELECT * FROM licenses WHERE license_key = $1", key
    )
    if row is None:
        raise Problem(404, "Not found", f"no license {key}")
    data: dict[str, Any] = {k: row[k] for k in LicenseOut.model_fields}
    return LicenseOut(**data)


@router.get(
    "/tickets/{tid}/classification", response_model=ClassificationOut, tags=["classification"]
)
async def get_classification(tid: str, service: Service) -> ClassificationOut:
    row = await service.runtime.require_pool().fetchrow(
        "SELECT * FROM classifications WHERE tid = $1", tid
    )
    if row is None:
        raise Problem(404, "Not found", f"{tid} has not been classified")
    data = dict(row)
    data["reasons"] = json.loads(data["reasons"])
    return ClassificationOut(**data)


@router.get("/policy", tags=["policy"])
async def get_policy(request: Request) -> dict[str, Any]:
    """The policy in force and its version."""
    policy: dict[str, Any] = request.app.state.policy_document
    return policy
