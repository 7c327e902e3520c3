"""Escalation settings: env prefix TIDEMARK_ESCALATION_."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_ESCALATION_", extra="ignore")
    service_name: ClassVar[str] = "escalation"
