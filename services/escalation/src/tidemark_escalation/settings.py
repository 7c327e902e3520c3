"""Escalation settings: env prefix TIDEMARK_ESCALATION_ (shared fields fall back to TIDEMARK_)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings

StaffRole = Literal["agent", "supervisor", "admin"]


class StaffKey(BaseModel):
    """A staff API key, stored as the SHA-256 of the key (never the key itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: str = Field(description="hex SHA-256 of the key")
    staff_id: str = Field(min_length=1, max_length=100)
    role: StaffRole = "agent"

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", value.lower()):
            raise ValueError("must be the 64 hex digits of a SHA-256")
        return value.lower()


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_ESCALATION_", extra="ignore")
    service_name: ClassVar[str] = "escalation"

    rules_file: Path | None = Field(
        default=None, description="An operator's routing rules YAML; the shipped default when unset"
    )
    policy_file: Path | None = Field(
        default=None, description="The SLA policy (for the tier-2 calendar and development rights)"
    )
    staff_keys: list[StaffKey] = Field(
        default_factory=list,
        description='JSON: [{"sha256": "<hex>", "staff_id": "ann", "role": "agent"}, ...]',
    )
    consumer_group_suffix: str = Field(
        default="main",
        pattern=r"^[a-z0-9_-]{1,40}$",
        description="A second, independent copy of the queues (a rebuild) uses another suffix "
        "and another database",
    )
    page_size_max: int = Field(default=500, ge=1, le=5000)
