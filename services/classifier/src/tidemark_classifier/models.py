"""Request and response bodies (pydantic only: the bulk import validates with these too)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from tidekit.events.vocabulary import Edition, Level, Severity

KEY_PATTERN = r"^[A-Za-z0-9._-]+$"


class LicenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edition: Edition
    owner: str = Field(min_length=1, max_length=200)
    emails: list[EmailStr] = Field(default_factory=list, max_length=1000)
    group_emails: list[EmailStr] = Field(
        default_factory=list, max_length=1000, description="the license's commercial user group"
    )
    partner: bool = False
    purchase_date: date
    support_end: date | None = None
    coupon_allowance: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="VIP requests per license year; unset: premium 3, ultimate 5, others 0",
    )

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.support_end is not None and self.support_end < self.purchase_date:
            raise ValueError("support_end is before purchase_date")
        return self


class LicenseOut(LicenseIn):
    license_key: str


class ImportRow(LicenseIn):
    license_key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)


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
    rules_version: str | None
    reasons: list[str]
    classified_at: datetime
    reclassified_at: datetime | None = None


class ReclassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Level | None = None
    severity: Severity | None = None
    clear_severity: bool = Field(default=False, description="remove the severity")
    reason: str = Field(min_length=1, max_length=2000)
