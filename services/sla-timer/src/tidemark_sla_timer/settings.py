"""SLA timer settings: env prefix TIDEMARK_SLA_TIMER_."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings


class SlaTimerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_SLA_TIMER_", extra="ignore")
    service_name: ClassVar[str] = "sla-timer"

    policy_file: Path | None = Field(
        default=None, description="An operator's policy YAML; the shipped default when unset"
    )
